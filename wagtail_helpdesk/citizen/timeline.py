"""A ticket's story as its citizen reads it: the public events only, in
order, with their public files; who acted on the office's side is the
office, never an operator's name."""

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from ..models import Attachment, EventKind, Visibility
from ..workflow import Status

TITLES = {
    EventKind.SUBMITTED: _("Sent"),
    EventKind.TAKEN_CHARGE: _("Taken in charge by the office"),
    EventKind.REPLY: _("Reply from the office"),
    EventKind.CITIZEN_MESSAGE: _("Your message"),
    EventKind.RESOLVED: _("Resolved"),
    EventKind.REOPENED: _("Reactivated"),
    EventKind.ATTACHMENT_ADDED: _("File added"),
    EventKind.RATING: _("Your rating"),
    EventKind.CHAT_MESSAGE: _("Chat message"),
    EventKind.CHAT_TO_TICKET: _("The chat became this request"),
    EventKind.CHAT_CALLBACK: _("You asked to be called back"),
}
WAITING_TITLE = _("The office needs something from you")
#: Public events a citizen does not need to see (delivery outcomes and the like).
HIDDEN = {EventKind.NOTIFICATION_SENT, EventKind.NOTIFICATION_FAILED, EventKind.SLA_WARNING}


def public_events(ticket):
    """The ticket's public events (oldest first), their public files prefetched."""
    files = Attachment.objects.filter(visibility=Visibility.PUBLIC).order_by("pk")
    return (ticket.events.filter(visibility=Visibility.PUBLIC).exclude(kind__in=HIDDEN)
            .order_by("created_at", "pk")
            .prefetch_related(Prefetch("attachments", queryset=files, to_attr="public_files")))


def entries(ticket):
    """[{when, title, body, mine, files, score, assisted}] for the citizen's ticket page."""
    items = []
    for event in public_events(ticket):
        if event.kind == EventKind.STATUS_CHANGED:
            if (event.data or {}).get("to") != Status.WAITING:
                continue
            title = WAITING_TITLE
        else:
            title = TITLES.get(event.kind)
            if title is None:
                continue
        items.append({
            "event": event, "when": event.created_at, "title": title, "body": event.body,
            "mine": event.by_citizen, "files": event.public_files,
            "score": (event.data or {}).get("score") if event.kind == EventKind.RATING else None,
            # Drafted from an automatic suggestion, checked and sent by an operator
            # (transparency, AI Act art. 50): the citizen is told.
            "assisted": event.kind == EventKind.REPLY and bool((event.data or {}).get("assisted")),
        })
    return items
