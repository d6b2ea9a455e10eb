"""Live chat: every change to a conversation, and through it to its ticket.

A conversation is a ticket of channel ``chat`` (an assistance request) plus
its messages. Each function is one transaction; on commit it signals the
channel layer (:mod:`wagtail_helpdesk.conversations.groups`). The ticket's
timeline gets every message (``chat_message``, no e-mail), joins, departures,
transfers, the close and the turn into a plain request.

Who acts: the citizen as a :class:`~.actors.CitizenActor` (a consumer or view
found the conversation by its token: :func:`by_token`, :func:`citizen_actor`),
an operator as a user, the system as :data:`~.actors.SYSTEM`.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from .. import throttle
from ..conf import get_setting
from ..conversations import groups
from ..conversations.devices import describe
from ..errors import GuardFailed
from ..models import (
    AuthorKind,
    Channel,
    Conversation,
    ConversationMessage,
    EventKind,
    Identity,
    Kind,
    Ticket,
    TicketEvent,
    Visibility,
)
from ..permissions import ticket_policy
from ..workflow import Status
from . import core, rating
from .actions import resolve
from .actors import SYSTEM, CitizenActor, actor_user, is_operator
from .attachments import check_uploads, store_attachments
from .chatbase import (
    State,
    append,
    dispatch_on_commit,
    follow_ticket,
    lock,
    new_token,
    notice,
    shut,
    token_hash,
)
from .chatqueue import accept, accept_next, hand_over, held, release, requeue_absent, transfer
from .chatrouting import availability, dispatch, housekeeping, position, unanswered
from .chatteam import (
    add_to_chat,
    consult_candidates,
    follow,
    invite,
    join,
    leave,
    may_write,
    monitor,
    participant,
    participants,
)
from .creation import create_ticket
from .identities import declared_citizen
from .submissions import verified_citizen

CLIENT_ID_MAX = 64

__all__ = [
    "accept", "accept_next", "add_to_chat", "availability", "by_token", "can_read",
    "citizen_actor", "close", "consult_candidates", "dispatch", "end", "follow", "follow_ticket",
    "hand_over", "held", "housekeeping", "invite", "join", "leave", "messages_after", "monitor",
    "participant", "participants", "position", "rate", "release", "requeue_absent", "send",
    "send_file", "start", "to_ticket", "transfer", "unanswered",
]

#: The longest call-back number accepted (digits, spaces, "+", "-", "/", "." and brackets).
PHONE_MAX = 40


def by_token(token):
    """The conversation whose citizen holds ``token``, or None."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return (Conversation.objects.select_related("ticket", "citizen")
            .filter(token_hash=token_hash(token)).first())


def citizen_actor(conversation):
    """The conversation's citizen, as an actor (with their login when verified)."""
    citizen = conversation.citizen
    user = citizen.user if conversation.identity == Identity.VERIFIED else None
    return CitizenActor(citizen, user)


def is_its_citizen(actor, conversation):
    """Whether ``actor`` is the citizen who started ``conversation``.

    The conversation's token is the citizen's credential: the check is on the
    conversation's citizen, not on the ticket's, which an operator may link to
    the registered record afterwards ("Collega al cittadino")."""
    pk = actor.citizen.pk
    return pk is not None and conversation.citizen_id == pk


def can_read(actor, conversation):
    """Whether ``actor`` may read the conversation: its citizen, or an
    operator who may see its ticket (the office's, a consultant, view-all)."""
    if isinstance(actor, CitizenActor):
        return is_its_citizen(actor, conversation)
    if not is_operator(actor):
        return False
    return ticket_policy().user_has_permission_for_instance(actor, "view", conversation.ticket)


def _check_body(body):
    if body is not None and not isinstance(body, str):
        raise GuardFailed(_("This request is not valid."), {"body": _("Write a text.")})
    body = (body or "").strip()
    if not body:
        raise GuardFailed(_("Write a message first."), {"body": _("This field is required.")})
    limit = get_setting("CHAT_MESSAGE_MAX_CHARS")
    if len(body) > limit:
        raise GuardFailed(
            _("The message is too long: at most %(limit)d characters (it has %(count)d).")
            % {"limit": limit, "count": len(body)},
            {"body": _("Shorten the message, or send it in parts.")},
        )
    return body


def _check_client_id(client_id):
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX \
            or not client_id.isprintable():
        raise GuardFailed(_("The message has no valid identifier: reload the page."))
    return client_id


def _record_message(c, message, actor, now):
    """The message on the ticket's timeline; no notification (it is live)."""
    event = core.record(c.ticket, EventKind.CHAT_MESSAGE, actor, now=now,
                        visibility=message.visibility, body=message.body,
                        data={"conversation": c.pk, "seq": message.seq})
    if message.visibility == Visibility.INTERNAL:
        return event
    tickets = Ticket.objects.filter(pk=c.ticket_id)
    if message.author_kind == AuthorKind.CITIZEN:
        tickets.update(last_activity_at=now, updated_at=now, last_citizen_activity_at=now)
    else:
        tickets.update(last_activity_at=now, updated_at=now)
        tickets.filter(first_response_at__isnull=True).update(first_response_at=now)
    return event


def start(*, service, body, user=None, person=None, office=None, site=None, client_id=None,
          user_agent=""):
    """A citizen starts a conversation about ``service`` with ``body``.

    Logged in with SPID/CIE (``user``): the verified citizen. Otherwise
    ``person`` (given_name, family_name, email…) is a declared identity, kept
    for this ticket only. Creates the chat ticket (submitted, in the queue of
    ``office`` or the service's office) and the conversation, with ``body`` as
    the first message. ``user_agent``: the browser's, kept only as a short
    description of the device. Returns the conversation; its ``token``
    attribute is the citizen's secret, given only here.
    """
    if not get_setting("CHAT_ENABLED"):
        raise GuardFailed(_("The chat is not available at the moment."))
    body = _check_body(body)
    citizen, identity = verified_citizen(user), Identity.VERIFIED
    if citizen is None:
        person, identity = dict(person or {}), Identity.DECLARED
        missing = {name: _("This field is required.") for name in ("given_name", "email")
                   if not (person.get(name) or "").strip()}
        if missing:
            raise GuardFailed(_("Tell us your name and e-mail address: we answer there if "
                                "the chat ends before we do."), missing)
    token, hashed = new_token()
    with transaction.atomic():
        if identity == Identity.DECLARED:
            citizen = declared_citizen(**person)
        ticket = create_ticket(SYSTEM, kind=Kind.REQUEST, channel=Channel.CHAT, citizen=citizen,
                               service=service, office=office, description=body, site=site,
                               identity=identity)
        now = core.now()  # after the ticket's own events: the timeline stays in order
        c = Conversation.objects.create(
            ticket=ticket, office_id=ticket.office_id, citizen=citizen, identity=identity,
            token_hash=hashed, created_at=now, queued_at=now, updated_at=now,
            device=str(describe(user_agent))[:60])
        c.ticket = ticket
        actor = citizen_actor(c)
        message = append(c, AuthorKind.CITIZEN, body=body, author=actor_user(actor),
                          client_id=client_id and _check_client_id(client_id), now=now)
        _record_message(c, message, actor, now)
        groups.announce(c, queues=[c.office_id])
        dispatch_on_commit([c.office_id])
    c.token = token
    return c


def _author(actor, c, private=False):
    """The author kind of ``actor`` in ``c`` (locked), or PermissionDenied."""
    if isinstance(actor, CitizenActor):
        if not is_its_citizen(actor, c):
            raise PermissionDenied(_("You can only act on your own requests."))
        if private:
            raise PermissionDenied(_("Only operators write private messages."))
        if c.state not in (State.WAITING, State.ACTIVE):
            raise GuardFailed(_("This conversation has ended."))
        return AuthorKind.CITIZEN
    if not may_write(actor, c, private=private):
        raise PermissionDenied(_("Only the operator who accepted this conversation can "
                                 "write in it."))
    if c.state != State.ACTIVE:
        raise GuardFailed(_("This conversation has ended."))
    return AuthorKind.OPERATOR


def _throttle(conversation, actor):
    who = actor.citizen.pk if isinstance(actor, CitizenActor) else f"u{actor_user(actor).pk}"
    if not throttle.allow("chat", f"{conversation.pk}:{who}", get_setting("CHAT_RATE_PER_MINUTE"),
                          window=60):
        raise GuardFailed(
            _("You are sending messages too quickly: wait a minute, then send it again."),
            {"body": _("Not sent yet: your text is still here.")})


def _side(actor):
    return AuthorKind.CITIZEN if isinstance(actor, CitizenActor) else AuthorKind.OPERATOR


def _stored(conversation, actor, client_id, *, strict=True):
    """The message ``actor`` already sent with ``client_id``, or None. The ids
    are each side's own: another author's message is never answered (it is
    refused when ``strict``, else None)."""
    existing = (ConversationMessage.objects
                .filter(conversation_id=conversation.pk, author_kind=_side(actor),
                        client_id=client_id).first())
    if existing is not None and existing.author_id != getattr(actor_user(actor), "pk", None):
        if not strict:
            return None
        raise GuardFailed(_("The message has no valid identifier: reload the page."))
    return existing


def _check_sender(actor, client_id):
    client_id = _check_client_id(client_id)
    if actor is SYSTEM or actor is None:
        raise PermissionDenied(_("Only the citizen and the operator write in a conversation."))
    return client_id


def _store(conversation, actor, client_id, private, make):
    """Lock, check who writes, then ``make(c, kind, now)`` the message —
    unless ``actor`` already sent ``client_id`` (returned as it is)."""
    now = core.now()
    try:
        with core.atomic_change() as written:
            c = lock(conversation)
            kind = _author(actor, c, private)
            existing = _stored(c, actor, client_id)
            if existing is not None:  # the same message, sent twice at once
                return existing
            message = make(c, kind, now, written)
            _record_message(c, message, actor, now)
            groups.announce(c, internal=message.visibility == Visibility.INTERNAL)
    except IntegrityError:
        # The same message, stored meanwhile by a concurrent send.
        existing = _stored(conversation, actor, client_id)
        if existing is None:
            raise
        return existing
    return message


def send(conversation, actor, body, client_id, *, private=False):
    """Send a message. Idempotent: the same ``client_id`` again, from the same
    author, returns the message the first send stored (a retry stores
    nothing twice). ``private``: between operators only (a consult's talk)."""
    client_id = _check_sender(actor, client_id)
    existing = _stored(conversation, actor, client_id, strict=False)
    if existing is not None:
        return existing
    body = _check_body(body)
    _throttle(conversation, actor)
    visibility = Visibility.INTERNAL if private else Visibility.PUBLIC

    def make(c, kind, now, written):
        return append(c, kind, body=body, author=actor_user(actor), client_id=client_id,
                      now=now, visibility=visibility)

    return _store(conversation, actor, client_id, private, make)


def send_file(conversation, actor, upload, client_id, *, private=False):
    """Send a file (checked as the forms' uploads, stored privately as the
    ticket's attachment); idempotent by ``client_id`` as :func:`send`."""
    client_id = _check_sender(actor, client_id)
    existing = _stored(conversation, actor, client_id, strict=False)
    if existing is not None:
        return existing
    if upload is None:
        raise GuardFailed(_("Choose a file first."), {"attachments": _("Choose a file.")})
    (checked,) = check_uploads([upload])
    _throttle(conversation, actor)
    visibility = Visibility.INTERNAL if private else Visibility.PUBLIC

    def make(c, kind, now, written):
        event = core.record(c.ticket, EventKind.ATTACHMENT_ADDED, actor, now=now,
                            visibility=visibility, data={"name": checked.original_name,
                                                         "conversation": c.pk})
        (attachment,) = store_attachments(c.ticket, event, actor, [checked], written, now=now,
                                          visibility=visibility)
        return append(c, kind, body=checked.original_name, author=actor_user(actor),
                      client_id=client_id, now=now, visibility=visibility,
                      attachment=attachment)

    return _store(conversation, actor, client_id, private, make)


def messages_after(conversation, after=0, limit=None, *, internal=False):
    """The messages with ``seq`` greater than ``after``, in order (at most
    ``limit``, default ``CHAT_POLL_BATCH``). ``internal``: the operators'
    own messages too (never for the citizen)."""
    limit = limit or get_setting("CHAT_POLL_BATCH")
    rows = ConversationMessage.objects.filter(conversation_id=conversation.pk,
                                              seq__gt=max(int(after), 0))
    if not internal:
        rows = rows.filter(visibility=Visibility.PUBLIC)
    return list(rows.select_related("author", "attachment").order_by("seq")[:limit])


def end(conversation, actor):
    """The chat part is over (the citizen left, or the operator pressed
    "Fine"): active → wrap-up. The operator then closes it with :func:`close`."""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        if c.state != State.ACTIVE:
            raise GuardFailed(_("This conversation is not active."))
        by_citizen = isinstance(actor, CitizenActor)
        allowed = is_its_citizen(actor, c) if by_citizen else (
            actor is SYSTEM or is_operator(actor) and actor.pk == c.operator_id)
        if not allowed:
            raise PermissionDenied(_("You cannot end this conversation."))
        c.state = State.WRAPUP
        c.save(update_fields=["state"])
        notice(c, "citizen_left" if by_citizen else "ended", now)
        groups.announce(c, operators=[c.operator_id])
    return c


def close(conversation, operator, resolution_type, text):
    """Wrap-up: resolve the ticket (resolution type and text, as any ticket)
    and close the conversation, freeing the operator's place. A ticket
    already resolved (e.g. from the ticket's page) only closes the
    conversation."""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        if c.state not in (State.ACTIVE, State.WRAPUP):
            raise GuardFailed(_("Only a conversation an operator accepted can be closed."))
        if not is_operator(operator) or c.operator_id != operator.pk:
            raise PermissionDenied(_("Only the operator who accepted this conversation can "
                                     "close it."))
        if c.ticket.status == Status.RESOLVED:
            shut(c, operator, now, reason="closed", name=operator)
        else:
            resolve(c.ticket, operator, resolution_type, text)  # closes it: follow_ticket
        return lock(c)


def _check_phone(phone):
    phone = " ".join((phone or "").split())
    digits = sum(ch.isdigit() for ch in phone)
    if not phone or len(phone) > PHONE_MAX or digits < 6 \
            or any(not (ch.isdigit() or ch in " +-/.()") for ch in phone):
        message = _("Enter a phone number we can call, such as 333 1234567.")
        raise GuardFailed(message, {"phone": message})
    return phone


def to_ticket(conversation, actor=None, *, callback_phone=""):
    """The citizen stops waiting: the conversation becomes a plain assistance
    request, in its office's queue, answered by e-mail. ``actor``: the
    citizen (default) or ``SYSTEM`` (a timeout). With ``callback_phone`` the
    citizen asks to be called back at that number ("Richiamatemi"): the
    request says so on its timeline, for the operators."""
    phone = _check_phone(callback_phone) if callback_phone else ""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        actor = actor or citizen_actor(c)
        if isinstance(actor, CitizenActor) and not is_its_citizen(actor, c):
            raise PermissionDenied(_("You can only act on your own requests."))
        if c.state != State.WAITING:
            raise GuardFailed(_("Only a conversation still waiting for an operator can "
                                "become a request."))
        c.state, c.closed_at, c.callback_phone = State.TICKET, now, phone
        c.save(update_fields=["state", "closed_at", "callback_phone"])
        core.record(c.ticket, EventKind.CHAT_TO_TICKET, actor, now=now,
                    visibility=Visibility.PUBLIC, data={"conversation": c.pk,
                                                        "messages": c.last_seq})
        if phone:
            core.record(c.ticket, EventKind.CHAT_CALLBACK, actor, now=now,
                        visibility=Visibility.PUBLIC, body=phone,
                        data={"conversation": c.pk, "phone": phone})
        notice(c, "callback" if phone else "to_ticket", now, reference=c.ticket.reference)
        groups.announce(c, queues=[c.office_id])
    return c


def rate(conversation, actor, score, comment=""):
    """The citizen rates the conversation (1–5, optional comment), once, when
    the chat is over (wrap-up or closed): the ticket's ``rating`` event, read
    by the supervisors' figures like any rating."""
    score, comment = rating.checked(score, comment)
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        if not (isinstance(actor, CitizenActor) and is_its_citizen(actor, c)):
            raise PermissionDenied(_("You can only act on your own requests."))
        if c.state not in (State.WRAPUP, State.CLOSED) or c.accepted_at is None:
            raise GuardFailed(_("You can rate the conversation once it is over."))
        if TicketEvent.objects.filter(ticket_id=c.ticket_id, kind=EventKind.RATING,
                                      data__conversation=c.pk).exists():
            raise GuardFailed(_("This conversation has already been rated: thank you."))
        resolved = (TicketEvent.objects.filter(ticket_id=c.ticket_id, kind=EventKind.RESOLVED)
                    .order_by("-pk").values_list("pk", flat=True).first())
        return core.record(c.ticket, EventKind.RATING, actor, now=now,
                           visibility=Visibility.PUBLIC, body=comment, by_citizen=True,
                           data={"score": score, "conversation": c.pk,
                                 "resolved_event": resolved})
