"""The citizen's rating of an answer (1–5 and an optional comment), given
through the signed, single-use link of the "resolved" e-mail, without logging
in. Recorded as a public timeline event; the supervisors' figures read it."""

from django.core import signing
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed
from ..models import EventKind, Ticket, TicketEvent, Visibility
from . import core
from .actors import SYSTEM, CitizenActor

SALT = "wagtail_helpdesk.rating"
MAX_AGE = 60 * 24 * 3600  # the link works for 60 days
COMMENT_MAX = 1000


def rating_token(ticket_id, resolved_event_id):
    return signing.dumps([ticket_id, resolved_event_id], salt=SALT, compress=True)


def read_token(token):
    """(ticket id, resolved event id), or None for a forged or expired link."""
    try:
        ticket_id, event_id = signing.loads(token, salt=SALT, max_age=MAX_AGE)
        return int(ticket_id), int(event_id)
    except (signing.BadSignature, TypeError, ValueError):
        return None


def already_rated(ticket_id, resolved_event_id):
    return TicketEvent.objects.filter(ticket_id=ticket_id, kind=EventKind.RATING,
                                      data__resolved_event=resolved_event_id).exists()


def checked(score, comment):
    """``(score, comment)`` cleaned: a score from 1 to 5, a comment of at
    most ``COMMENT_MAX`` characters; else GuardFailed naming the field."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise GuardFailed(_("Choose a rating from 1 to 5."),
                          {"score": _("Choose a rating from 1 to 5.")})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise GuardFailed(_("The comment is too long."),
                          {"comment": _("At most %(n)d characters.") % {"n": COMMENT_MAX}})
    return score, comment


def rate(ticket_id, resolved_event_id, score, comment=""):
    """Record the rating of the resolution ``resolved_event_id``, once."""
    score, comment = checked(score, comment)
    with core.atomic_change():
        ticket = core.lock(Ticket(pk=ticket_id))  # one rating at a time
        if not TicketEvent.objects.filter(pk=resolved_event_id, ticket=ticket,
                                          kind=EventKind.RESOLVED).exists():
            raise GuardFailed(_("This link does not belong to a resolved ticket."))
        if already_rated(ticket.pk, resolved_event_id):
            raise GuardFailed(_("This answer has already been rated: thank you."))
        actor = CitizenActor(ticket.citizen) if ticket.citizen else SYSTEM
        return core.record(ticket, EventKind.RATING, actor, now=core.now(),
                           visibility=Visibility.PUBLIC, body=comment, by_citizen=True,
                           data={"score": score, "resolved_event": resolved_event_id})
