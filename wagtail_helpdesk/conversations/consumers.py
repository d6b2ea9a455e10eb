"""WebSocket consumers of the live chat: the citizen's and the operators'.

They are callers like views: parse a frame, check who may do it (on every
frame), call :mod:`wagtail_helpdesk.services.conversations`, answer. The
server pushes only ``{"type": "new", "conversation", "seq", "state"}``; the
client asks ``{"type": "after", "seq": N}`` for the rows (the database is the
truth, so a lost frame or a reconnect loses nothing). Frames the client sends:

* ``auth`` ``{token}`` — the citizen's first frame (the token stays out of URLs);
* ``send`` ``{client_id, body}`` — answered ``sent`` ``{client_id, seq}`` or ``error``;
* ``after`` ``{seq}`` — answered ``messages`` (:func:`.rows.batch`);
* ``typing`` — "is writing" to the other side, never what is being written;
* operators also ``watch`` and ``accept``, every frame naming its ``conversation``;
  the citizen ``leave`` (waiting: it becomes a request; active: it ends);
* operators ``ping`` — answered ``pong`` (the live ticket list's keep-alive,
  which also checks the session and the offices: an operator who left an
  office stops hearing it).

The operator's socket also hears the live ticket list's signal
(:mod:`wagtail_helpdesk.tickets.live`): ``tickets.changed`` ``{office, ticket,
event, pending}`` for the offices the operator sees.

Every socket leaves its groups once it ends, whatever ended it: a frame sent
to a socket the client already closed (a page that went while a ``ping`` was
answered), or after the server closed it, is dropped, so that the queued
``websocket.disconnect`` still runs; a consumer that stops on an error leaves
its groups all the same (``disconnect`` gets 1011).

A frame whose fields have the wrong type (``FIELDS``) is answered ``error``;
the socket stays open. The operator's socket checks on every frame that the
session it was opened with still exists and still belongs to that user, active
and an operator (logged out, or the password changed: the socket closes).
"""

import logging
import time
from importlib import import_module

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.core.exceptions import PermissionDenied
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from ..errors import HelpdeskError
from ..models import Conversation, ConversationParticipant, ConversationState, Office
from ..models.conversations import HELD_STATES
from ..permissions import office_ids_for, ticket_policy
from ..services import conversations
from ..services.chatbase import LIVE_STATES
from ..tickets import live
from . import groups
from .rows import batch, by_operator, citizens

logger = logging.getLogger(__name__)

TYPING_EVERY = 2.0  # seconds: at most one "is writing" per socket and conversation
MAX_FRAME = 64 * 1024  # characters of one incoming frame
#: Frames one socket may send per minute (sends are limited further by the
#: services; a client types, asks "after N" on each signal, and sends). The
#: operator's socket is the browser's one, shared by its tabs (live.js): a
#: larger budget.
FRAMES_PER_MINUTE = 240
OPERATOR_FRAMES_PER_MINUTE = 600

#: The type of each field a frame may carry (when present and not null).
FIELDS = {"token": str, "client_id": str, "body": str, "seq": int, "conversation": int,
          "private": bool}


class Refused(PermissionDenied):
    """Refused, and the socket closes (after the ``error`` frame)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _well_formed(content):
    """Whether every known field of the frame has its type (a boolean is no number)."""
    for name, kind in FIELDS.items():
        value = content.get(name)
        if value is None:
            continue
        if kind is bool:
            if not isinstance(value, bool):
                return False
        elif not isinstance(value, kind) or isinstance(value, bool):
            return False
    return True


def _language(scope):
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    for code, _q in parse_accept_lang_header(header):
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


class _ChatConsumer(AsyncJsonWebsocketConsumer):
    """Frame dispatch, errors as frames, typing, joining groups."""

    side = ""  # who this socket speaks for: "citizen" or "operator"
    frames = ()
    frames_per_minute = FRAMES_PER_MINUTE
    ended = False  # websocket_disconnect ran

    async def __call__(self, scope, receive, send):
        gone = False

        async def send_while_open(message):
            # ASGI: sending on a connection the client closed raises the
            # server's own OSError, and the disconnect is queued already: let
            # it be read. After our own close, nothing more is sent either.
            nonlocal gone
            if gone:
                return
            try:
                await send(message)
            except OSError:
                gone = True
                logger.debug("Socket %s: a frame for a closed connection dropped",
                             getattr(self, "channel_name", "?"))
                return
            if message.get("type") == "websocket.close":
                gone = True

        try:
            await super().__call__(scope, receive, send_while_open)
        finally:
            if not self.ended:  # stopped on an error: leave the groups all the same
                await self._leave_groups()

    async def websocket_disconnect(self, message):
        try:
            await super().websocket_disconnect(message)
        except StopConsumer:
            self.ended = True  # groups left and disconnect() run
            raise

    async def _leave_groups(self):
        layer = getattr(self, "channel_layer", None)
        if layer is None:
            return
        for name in list(self.groups or ()):
            try:
                await layer.group_discard(name, self.channel_name)
            except Exception:
                logger.warning("Socket %s could not leave the group %s", self.channel_name,
                               name, exc_info=True)
        self.groups = []
        try:
            await self.disconnect(1011)
        except Exception:
            logger.warning("Socket %s: disconnect failed", self.channel_name, exc_info=True)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None or len(text_data) > MAX_FRAME:
            return await self.error(_("This request is not valid."))
        if not self._counted():
            with translation.override(_language(self.scope)):
                return await self.error(_("Too many requests: wait a little, then try "
                                          "again."))
        await super().receive(text_data=text_data, **kwargs)

    def _counted(self):
        """Count a frame; False past ``FRAMES_PER_MINUTE`` in this minute."""
        minute = int(time.monotonic() // 60)
        if getattr(self, "_minute", None) != minute:
            self._minute, self._frames = minute, 0
        self._frames += 1
        return self._frames <= self.frames_per_minute

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        with translation.override(_language(self.scope)):
            if kind not in self.frames or not _well_formed(content):
                return await self.error(_("This request is not valid."),
                                        content if kind in self.frames else None)
            try:
                await getattr(self, f"frame_{kind}")(content)
            except PermissionDenied as exc:
                await self.error(str(exc) or _("You cannot see this conversation."), content)
                if isinstance(exc, Refused):
                    await self.close(code=exc.code)
            except HelpdeskError as exc:
                await self.error(str(exc.message), content,
                                 {k: str(v) for k, v in exc.field_errors.items()})

    async def error(self, message, content=None, fields=None):
        frame = {"type": "error", "message": str(message)}
        if isinstance(content, dict):
            for key in ("conversation", "client_id"):
                if isinstance(content.get(key), (int, str)):
                    frame[key] = content[key]
        if fields:
            frame["fields"] = fields
        await self.send_json(frame)

    async def join(self, name):
        if name not in self.groups:
            await self.channel_layer.group_add(name, self.channel_name)
            self.groups.append(name)

    async def typing(self, conversation_id):
        now = time.monotonic()
        typed = self.__dict__.setdefault("_typed_at", {})
        if now - typed.get(conversation_id, 0.0) < TYPING_EVERY:
            return
        typed[conversation_id] = now
        await self.channel_layer.group_send(groups.conversation_group(conversation_id), {
            "type": groups.TYPING, "conversation": conversation_id, "who": self.side,
            "sender": self.channel_name})

    async def chat_signal(self, event):
        await self.send_json({"type": "new", "conversation": event["conversation"],
                              "seq": event["seq"], "state": event["state"]})

    async def chat_typing(self, event):
        if event.get("sender") != self.channel_name and event.get("who") != self.side:
            await self.send_json({"type": "typing", "conversation": event["conversation"],
                                  "who": event["who"]})

    async def sent(self, message):
        await self.send_json({"type": "sent", "client_id": message.client_id,
                              "seq": message.seq})


def _messages(conversation, content, own, internal=False):
    after = max(content.get("seq") or 0, 0)
    conversation.refresh_from_db(fields=["state", "last_seq"])
    return batch(conversation,
                 conversations.messages_after(conversation, after, internal=internal), own)


class CitizenConsumer(_ChatConsumer):
    """The citizen's socket, for one conversation, opened by its token."""

    side = "citizen"
    frames = ("auth", "send", "after", "typing", "leave")
    token = None
    conversation_id = None

    async def connect(self):
        await self.accept()

    async def frame_auth(self, content):
        c = await database_sync_to_async(conversations.by_token)(content.get("token"))
        if c is None or (self.conversation_id and c.pk != self.conversation_id):
            await self.error(_("This conversation does not exist or has expired."))
            return await self.close(code=4403)
        self.token, self.conversation_id = content["token"], c.pk
        await self.join(groups.conversation_group(c.pk))
        await self.send_json({"type": "ready", "conversation": c.pk, "state": c.state,
                              "last_seq": c.last_seq})

    async def current(self, content):
        """The conversation, checked again (token still valid, not another one)."""
        if self.token is None:
            raise PermissionDenied(_("Open the conversation first."))
        if content.get("conversation") not in (None, self.conversation_id):
            raise PermissionDenied(_("You cannot see this conversation."))
        c = await database_sync_to_async(conversations.by_token)(self.token)
        if c is None or c.pk != self.conversation_id:
            raise Refused(_("This conversation does not exist or has expired."), 4403)
        return c

    async def frame_send(self, content):
        c = await self.current(content)
        message = await database_sync_to_async(conversations.send)(
            c, conversations.citizen_actor(c), content.get("body"), content.get("client_id"))
        await self.sent(message)

    async def frame_after(self, content):
        c = await self.current(content)
        await self.send_json(await database_sync_to_async(_messages)(c, content, citizens))

    async def frame_typing(self, content):
        c = await self.current(content)
        if c.state in (ConversationState.WAITING, ConversationState.ACTIVE):
            await self.typing(c.pk)

    async def frame_leave(self, content):
        c = await self.current(content)
        if c.state == ConversationState.WAITING:
            await database_sync_to_async(conversations.to_ticket)(c)
        else:
            await database_sync_to_async(conversations.end)(c, conversations.citizen_actor(c))


def _operator_setup(user):
    """The groups an operator's socket joins, or None if they are no operator."""
    if not ticket_policy().user_has_permission(user, "view"):
        return None
    held = Conversation.objects.filter(operator=user, state__in=HELD_STATES)
    taking_part = ConversationParticipant.objects.filter(
        user=user, ended_at__isnull=True, conversation__state__in=LIVE_STATES)
    ids = [*held.values_list("pk", flat=True),
           *taking_part.values_list("conversation_id", flat=True)]
    return ([groups.operator_group(user.pk)]
            + [name for pk in dict.fromkeys(ids) for name in _conversation_groups(pk)]
            + _office_groups(user))


def _office_groups(user):
    """The groups of the offices the user belongs to (chat queues, live ticket
    list), their own live group; checked again at every ``ping``."""
    if ticket_policy().sees_all_offices(user):
        offices = list(Office.objects.filter(active=True).values_list("pk", flat=True))
        tickets = [live.ALL_GROUP]
    else:
        offices = list(office_ids_for(user))
        tickets = [live.office_group(pk) for pk in offices]
    tickets.append(live.user_group(user.pk))  # their drafts without an office
    return [groups.queue_group(pk) for pk in offices] + tickets


def _conversation_groups(pk):
    """An operator following conversation ``pk`` hears its signals and those
    of its operators-only rows."""
    return (groups.conversation_group(pk), groups.staff_group(pk))


def _session_user(session_key, user_id):
    """The user of the session ``session_key`` as it is now, if it is still
    ``user_id``'s session: not logged out, same password (the session's hash),
    user active for the authentication backend, and an operator. Else None.
    Unlike Django's ``get_user`` it never changes the session."""
    if not session_key:
        return None
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    backend_path = data.get(BACKEND_SESSION_KEY)
    if str(data.get(SESSION_KEY)) != str(user_id) \
            or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = load_backend(backend_path).get_user(user_id)
    session_hash = data.get(HASH_SESSION_KEY)
    if user is None or not user.is_active or not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, h) for h in hashes):
        return None
    if not ticket_policy().user_has_permission(user, "view"):
        return None
    return user


def _operator_conversation(session_key, user_id, content):
    """The session's user and the conversation the frame names, if they may
    read it; ``(None, None)`` if the session no longer holds that user."""
    user = _session_user(session_key, user_id)
    if user is None:
        return None, None
    c = (Conversation.objects.select_related("ticket", "citizen")
         .filter(pk=content.get("conversation")).first())
    if c is None or not conversations.can_read(user, c):
        raise PermissionDenied(_("You cannot see this conversation."))
    return user, c


class OperatorConsumer(_ChatConsumer):
    """One socket per operator's browser: their queues, their conversations,
    and those they watch. The session is checked again on every frame."""

    side = "operator"
    frames = ("send", "after", "typing", "watch", "accept", "ping")
    frames_per_minute = OPERATOR_FRAMES_PER_MINUTE
    office_groups = ()

    async def connect(self):
        user = self.scope.get("user")
        names = None
        if user is not None and user.is_authenticated:
            names = await database_sync_to_async(_operator_setup)(user)
        if names is None:
            return await self.close(code=4403)
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        await self.accept()
        for name in names:
            await self.join(name)
        self.office_groups = set(await database_sync_to_async(_office_groups)(user))

    async def current(self, content):
        if content.get("conversation") is None:
            raise PermissionDenied(_("You cannot see this conversation."))
        user, c = await database_sync_to_async(_operator_conversation)(
            self.session_key, self.user_id, content)
        if user is None:
            raise Refused(_("Your session has ended: log in again."), 4401)
        return user, c

    async def frame_ping(self, content):
        user = await database_sync_to_async(_session_user)(self.session_key, self.user_id)
        if user is None:
            raise Refused(_("Your session has ended: log in again."), 4401)
        await self.regroup(set(await database_sync_to_async(_office_groups)(user)))
        await self.send_json({"type": "pong"})

    async def regroup(self, names):
        """Leave the groups of offices the user left since; join new ones."""
        for name in self.office_groups - names:
            await self.channel_layer.group_discard(name, self.channel_name)
            if name in self.groups:
                self.groups.remove(name)
        for name in sorted(names - self.office_groups):
            await self.join(name)
        self.office_groups = names

    async def tickets_changed(self, event):
        """The live ticket list's signal (ids only: the list asks for the rest)."""
        await live.adopt(event)
        await self.send_json(live.frame(event))

    async def frame_send(self, content):
        user, c = await self.current(content)
        message = await database_sync_to_async(conversations.send)(
            c, user, content.get("body"), content.get("client_id"),
            private=bool(content.get("private")))
        await self.sent(message)

    async def frame_after(self, content):
        user, c = await self.current(content)
        c = await database_sync_to_async(conversations.follow)(user, c)
        await self.send_json(await database_sync_to_async(_messages)(
            c, content, by_operator(user.pk), internal=True))

    async def frame_typing(self, content):
        user, c = await self.current(content)
        if c.state == ConversationState.ACTIVE and c.operator_id == user.pk:
            await self.typing(c.pk)

    async def frame_watch(self, content):
        user, c = await self.current(content)
        c = await database_sync_to_async(conversations.follow)(user, c)
        for name in _conversation_groups(c.pk):
            await self.join(name)
        await self.send_json({"type": "watching", "conversation": c.pk, "state": c.state,
                              "last_seq": c.last_seq})

    async def frame_accept(self, content):
        user, c = await self.current(content)
        c = await database_sync_to_async(conversations.accept)(c, user)
        for name in _conversation_groups(c.pk):
            await self.join(name)
        await self.send_json({"type": "accepted", "conversation": c.pk,
                              "last_seq": c.last_seq})
