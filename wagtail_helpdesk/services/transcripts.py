"""The chat's transcript sent by e-mail, on the citizen's request.

It goes only to the e-mail address of the conversation's own citizen (the
one given, or verified, when the chat started): never to an address typed at
that moment, so that whoever holds a browser with the conversation open
cannot send the transcript anywhere else. Throttled per conversation, and
recorded on the ticket's timeline. A *declared* address was typed by whoever
started the chat, and may be someone else's: it gets the transcript once,
never again (the citizen can always download it).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .. import throttle
from ..errors import GuardFailed
from ..models import ConversationState, EventKind, Identity, TicketEvent, Visibility
from . import core, notify
from .actors import CitizenActor, is_operator

TEMPLATE = "citizen/chat_transcript"
#: Transcripts sent per conversation per hour at most (a verified identity's).
TRANSCRIPTS_PER_HOUR = 3
#: The timeline's event (``EventKind.CHAT_TRANSCRIPT`` once the model has it).
EVENT = EventKind.CHAT_TRANSCRIPT
ENDED = (ConversationState.WRAPUP, ConversationState.CLOSED, ConversationState.TICKET)


def _allowed(conversation, actor):
    from .conversations import can_read

    if isinstance(actor, CitizenActor):
        return can_read(actor, conversation)
    return is_operator(actor) and can_read(actor, conversation)


def masked(address):
    """``maria@example.org`` as ``ma***@example.org`` (to say where it went)."""
    local, _at, domain = (address or "").partition("@")
    return f"{local[:2]}***@{domain}" if domain else ""


def email_transcript(conversation, actor, *, language=None):
    """Queue an e-mail with the transcript to the conversation's citizen.
    Returns the notification. ``language``: the e-mail's (default: the
    citizen's own)."""
    if not _allowed(conversation, actor):
        raise PermissionDenied(_("You can only act on your own requests."))
    if conversation.state not in ENDED:
        raise GuardFailed(_("The transcript can be sent once the conversation has ended."))
    person = conversation.citizen
    if person is None or person.erased_at or not person.email:
        raise GuardFailed(_("We have no e-mail address to send the transcript to: download "
                            "it instead."))
    declared = conversation.identity == Identity.DECLARED
    if declared and TicketEvent.objects.filter(ticket_id=conversation.ticket_id, kind=EVENT,
                                               data__conversation=conversation.pk).exists():
        raise GuardFailed(_("The transcript has already been sent: check your inbox (and the "
                            "spam folder), or download it."))
    if not throttle.allow("chat_transcript", conversation.pk, TRANSCRIPTS_PER_HOUR):
        raise GuardFailed(_("The transcript has already been sent several times: check your "
                            "inbox (and the spam folder), or download it."))
    now = core.now()
    with transaction.atomic():
        ticket = core.lock(conversation.ticket)
        event = core.record(ticket, EVENT, actor, now=now, visibility=Visibility.PUBLIC,
                            data={"conversation": conversation.pk,
                                  "to": masked(person.email)})
        notification = notify.citizen_asked(ticket, event, TEMPLATE.removeprefix("citizen/"),
                                            person, language=language)
    return notification
