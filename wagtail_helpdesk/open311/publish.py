"""What the GET endpoints publish of a report, and of nothing else.

* Only reports (segnalazioni) that were sent: never drafts, never assistance
  requests (they concern a person's own matters).
* Never the citizen: no name, e-mail, phone, fiscal code; never private
  notes or internal events; never files (attachments are private, so
  ``media_url`` stays empty).
* The texts people typed may hold personal data ("davanti al civico 3, sig.
  Rossi"). The description, the typed address and the exact position are
  published only where ``OPEN311_PUBLIC_DETAILS`` says so (by default, for
  reports filed through Open311, whose clients publish them anyway); the
  others show their position rounded to about 100 m, as the report form's
  "already reported nearby" list does.
* Every published text (details, status notes, the office's replies) has
  the ticket's citizen's name, e-mail, phone and fiscal code blanked out.
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import Channel, Kind, Ticket
from ..services.erasure import REDACTED_FIELDS, chain, redactor
from ..workflow import Status
from .catalogue import is_id, service_code, service_notice
from .errors import Open311Error
from .params import DESCRIPTION_MAX, MAX_ROWS, comma_list, iso, period

#: What replaces a citizen's identifiers in published texts.
OMITTED = "[…]"
_FIELDS = (
    "short_code", "status", "channel", "description", "address", "latitude", "longitude",
    "submitted_at", "updated_at", "resolved_at", "due_at", "resolution_text",
    "report_category__name", "report_category__sla_days", "office__name",
    "resolution_type__name", *(f"citizen__{name}" for name in REDACTED_FIELDS),
    *(f"declared_contact__{name}" for name in REDACTED_FIELDS),
)


def published_q(prefix=""):
    r"""The condition of a published ticket — a report that was sent (any status
    but draft) — on ``prefix``\ed fields (e.g. ``"ticket__"`` from its events)."""
    return Q(**{f"{prefix}kind": Kind.REPORT}) & ~Q(**{f"{prefix}status": Status.DRAFT})


def published():
    """Every report that was sent."""
    return Ticket.objects.filter(published_q())


def for_listing(queryset):
    """``queryset`` with what an item needs joined in: one query, whatever the rows."""
    return queryset.select_related(
        "report_category", "office", "resolution_type", "citizen", "declared_contact",
    ).only(*_FIELDS)


def request_id(ticket):
    """The service_request_id: the ticket's short code, or its number when
    codes are off (a code, once given, never changes)."""
    return ticket.short_code or str(ticket.pk)


def matching(queryset, ids):
    """The tickets of ``queryset`` whose service_request_id is in ``ids``."""
    ids = [i for i in ids if "\x00" not in i]  # no code holds NUL (nor may a query)
    query = Q(short_code__in=ids)
    numbers = [int(i) for i in ids if is_id(i)]
    if numbers:
        query |= Q(short_code__isnull=True, pk__in=numbers)
    return queryset.filter(query)


def shows_details(ticket):
    mode = get_setting("OPEN311_PUBLIC_DETAILS")
    return mode == "all" or (mode == "open311" and ticket.channel == Channel.OPEN311)


class Redaction:
    """Blanks a ticket's citizen's identifiers out of a text, and those of the
    identity it was declared with once an operator linked it (one compiled
    pattern per pair, kept for the request)."""

    def __init__(self):
        self._by_people = {}

    def __call__(self, ticket, text):
        text = (text or "").strip()
        people = (ticket.citizen_id, ticket.declared_contact_id)
        if not text or people == (None, None):
            return text
        if people not in self._by_people:
            self._by_people[people] = chain(
                [redactor(person, OMITTED) for person in (ticket.citizen, ticket.declared_contact)
                 if person is not None])
        redact = self._by_people[people]
        return redact(text) if redact else text


def _status_notes(ticket, redact):
    if ticket.status == Status.RESOLVED:
        # The office's own words only where the report's details are public.
        text = redact(ticket, ticket.resolution_text) if shows_details(ticket) else ""
        return text or (ticket.resolution_type.name if ticket.resolution_type else None)
    return str(Status(ticket.status).label)


def _position(ticket, details):
    if not ticket.has_location:
        return None, None
    lat, lng = float(ticket.latitude), float(ticket.longitude)
    if not details:
        lat, lng = round(lat, 3), round(lng, 3)
    return lat, lng


def request_item(ticket, redact):
    """One service request, as the spec lists its fields."""
    details = shows_details(ticket)
    lat, lng = _position(ticket, details)
    closed = ticket.status == Status.RESOLVED
    description = redact(ticket, ticket.description)[:DESCRIPTION_MAX] if details else ""
    address = redact(ticket, ticket.address) if details else ""
    return {
        "service_request_id": request_id(ticket),
        "status": "closed" if closed else "open",
        "status_notes": _status_notes(ticket, redact),
        "service_name": ticket.report_category.name,
        "service_code": service_code(ticket.report_category),
        "description": description or None,
        "agency_responsible": ticket.office.name if ticket.office_id else None,
        "service_notice": service_notice(ticket.report_category),
        "requested_datetime": iso(ticket.submitted_at),
        "updated_datetime": iso(ticket.resolved_at if closed else ticket.updated_at),
        "expected_datetime": iso(ticket.due_at),
        "address": address or None,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lng,
        "media_url": None,
    }


def request_items(tickets):
    redact = Redaction()
    return [request_item(ticket, redact) for ticket in tickets]


def find(request_id_):
    """The published ticket with this service_request_id, ready for its item
    (a list of one); 404 for anything else."""
    rows = list(for_listing(matching(published(), [request_id_]))[:1])
    if not rows:
        raise Open311Error(404, _("Unknown service_request_id: %(id)s.")
                           % {"id": request_id_[:64]})
    return rows


def filtered(params):
    """The published tickets a ``GET requests`` asks for, newest first, with
    the spec's filters (``service_request_id`` overrides the others)."""
    tickets = published()
    ids = comma_list(params, "service_request_id")
    if ids:
        tickets = matching(tickets, ids[:MAX_ROWS])
    else:
        start, end = period(params)
        tickets = tickets.filter(submitted_at__gte=start, submitted_at__lte=end)
        if codes := comma_list(params, "service_code"):
            tickets = tickets.filter(report_category_id__in=[int(c) for c in codes if is_id(c)])
        if statuses := set(comma_list(params, "status")):
            if not statuses <= {"open", "closed"}:
                raise Open311Error(400, _("status must be open or closed."))
            if statuses == {"closed"}:
                tickets = tickets.filter(status=Status.RESOLVED)
            elif statuses == {"open"}:
                tickets = tickets.open()  # sent and not resolved
    return for_listing(tickets).order_by("-submitted_at", "-pk")[:MAX_ROWS]
