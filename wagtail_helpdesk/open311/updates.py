"""FixMyStreet's ``servicerequestupdates``: what happened to published
reports in a period, so a client can follow them.

An update is a public event the office caused: taken in charge, a reply, a
question to the citizen (waiting), the resolution (with its text, as the
status notes), a reactivation. Never the citizen's own messages, private
notes, transfers, assignments or notifications. Texts are redacted as in
:mod:`.publish`; files are never published.

Statuses are FixMyStreet's extended ones (lowercase): ``in_progress`` while
the office works (waiting for the citizen included), ``open`` when
reactivated, and on resolution ``fixed``, ``duplicate``,
``not_councils_responsibility``, ``no_further_action`` or ``closed`` after
the resolution type (``OPEN311_RESOLUTION_STATUSES``).
"""

from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import EventKind, ResolutionType, TicketEvent, Visibility
from ..services.erasure import REDACTED_FIELDS
from ..workflow import Status
from .params import MAX_ROWS, iso
from .publish import Redaction, published_q, request_id, shows_details

KINDS = (EventKind.TAKEN_CHARGE, EventKind.REPLY, EventKind.STATUS_CHANGED,
         EventKind.RESOLVED, EventKind.REOPENED)


def events(start, end):
    """The public updates of sent reports in ``[start, end]``, oldest first
    (at most MAX_ROWS: a client follows on from the last one's time)."""
    return (
        TicketEvent.objects.filter(
            published_q("ticket__"), kind__in=KINDS, visibility=Visibility.PUBLIC,
            created_at__gte=start, created_at__lte=end,
        )
        .select_related("ticket__citizen", "ticket__declared_contact")
        .only("kind", "body", "data", "by_citizen", "created_at", "ticket__short_code",
              "ticket__channel", "ticket__declared_contact",
              *(f"ticket__{who}__{name}" for who in ("citizen", "declared_contact")
                for name in REDACTED_FIELDS))
        .order_by("created_at", "pk")[:MAX_ROWS]
    )


def resolution_status(resolution_type):
    if resolution_type is None:
        return "closed"
    mapped = (get_setting("OPEN311_RESOLUTION_STATUSES") or {}).get(resolution_type.slug)
    return mapped or ("fixed" if resolution_type.counts_as_solved else "closed")


def _status_and_text(event, resolutions):
    kind, data = event.kind, event.data or {}
    if kind == EventKind.RESOLVED:
        resolution = resolutions.get(data.get("resolution_type"))
        return resolution_status(resolution), _("Resolved."), getattr(resolution, "slug", None)
    if kind == EventKind.REOPENED:
        return "open", _("Reactivated."), None
    if kind == EventKind.TAKEN_CHARGE:
        return "in_progress", _("Taken in charge by the office."), None
    if kind == EventKind.STATUS_CHANGED:
        if data.get("to") != Status.WAITING:
            return None
        return "in_progress", _("The office is waiting for more information."), None
    return "in_progress", _("Reply from the office."), None


def update_items(rows):
    rows = list(rows)
    wanted = {(e.data or {}).get("resolution_type") for e in rows if e.kind == EventKind.RESOLVED}
    resolutions = ResolutionType.objects.in_bulk([pk for pk in wanted if isinstance(pk, int)] + [0])
    redact = Redaction()
    items = []
    for event in rows:
        found = _status_and_text(event, resolutions)
        if found is None:
            continue
        status, fallback, external = found
        # The citizen's own words never: a reactivation by the citizen's message
        # is told without them (its event has no text anyway).
        # The office's words only where the report's details are public
        # (OPEN311_PUBLIC_DETAILS): elsewhere a reply may well name people.
        text = ("" if event.by_citizen or not shows_details(event.ticket)
                else redact(event.ticket, event.body))
        items.append({
            "update_id": str(event.pk),
            "service_request_id": request_id(event.ticket),
            "status": status,
            "updated_datetime": iso(event.created_at),
            "description": text or str(fallback),
            "media_url": None,
            "external_status_code": external,
        })
    return items
