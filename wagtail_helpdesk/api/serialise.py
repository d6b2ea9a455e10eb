"""Tickets, events and files as the API shows them: plain dicts with the
fields of the schemas in ``schemas.py``, in their order and with their types
(the list and one ticket are sent as they are: ``respond.py``). The callers load what is shown with the
ticket (``TICKET_RELATED``; the list prefetches the labels, one ticket's cost
one query); the catalogue rows a ticket names (office, service, problem
type, resolution type) come from the cache
(:func:`~wagtail_helpdesk.choices_cache.attach_catalogue`: the list attaches
all of a page's in one read)."""

from django.urls import reverse
from django.utils.translation import get_language

from ..choices_cache import attach_catalogue
from ..formats import person_name
from ..models import Ticket, Visibility
from ..services.lookup import citizen_match, may_read_citizens
from ..tickets.labels import labels_of

#: What a ticket row shows, joined in by the list and detail queries. Not the
#: catalogue (:func:`~wagtail_helpdesk.choices_cache.attach_catalogue`): at 1M tickets, the list's query with
#: six joins spent 10 ms in PostgreSQL's planner for 5 ms of execution.
TICKET_RELATED = ("citizen", "assignee")


#: Where :func:`_memo` keeps, on the request, what every row of a page shares.
_MEMO = "_helpdesk_api_memo"
#: A number no route holds: reversed once, then replaced by each row's id.
_PLACEHOLDER = 918273645


def _memo(request):
    memo = getattr(request, _MEMO, None)
    if memo is None:
        memo = {}
        setattr(request, _MEMO, memo)
    return memo


def _url(request, name, pk):
    """``request.build_absolute_uri(reverse(name, args=[pk]))``, reversed and
    made absolute once per request and name (a page of 50 tickets asks 100)."""
    memo = _memo(request)
    parts = memo.get(name)
    if parts is None:
        url = request.build_absolute_uri(reverse(name, args=[_PLACEHOLDER]))
        parts = memo[name] = url.split(str(_PLACEHOLDER), 1)
    return f"{parts[0]}{pk}{parts[1]}"


def _status_label(request, status):
    """The status' label in the active language, translated once per request."""
    memo = _memo(request)
    key = ("status", get_language())
    labels = memo.get(key)
    if labels is None:
        labels = memo[key] = {value: str(label) for value, label
                              in Ticket._meta.get_field("status").flatchoices}
    return labels.get(status, status)


def _may_read_citizens(request):
    memo = _memo(request)
    if "may_read_citizens" not in memo:
        memo["may_read_citizens"] = may_read_citizens(request.user)
    return memo["may_read_citizens"]


def ref(obj):
    return {"id": obj.pk, "name": str(obj.name)} if obj is not None else None


def user_ref(user):
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": person_name(user)}


def citizen(person, *, readable):
    """What finding ``person`` shows; their full record only when ``readable``
    (``services.lookup``: the caller may read it)."""
    if person is None:
        return None
    match = citizen_match(person)
    full = {"fiscal_code": person.shown_fiscal_code or "", "email": person.email,
            "phone": person.phone, "has_account": person.user_id is not None}
    return {"id": match.id, "given_name": match.given_name, "family_name": match.family_name,
            "birth_year": match.birth_year, "masked_fiscal_code": match.masked_fiscal_code,
            "masked_email": match.masked_email, "readable": readable,
            "declared": person.declared,
            **(full if readable else dict.fromkeys(full))}


def label(obj):
    return {"id": obj.pk, "name": obj.name, "colour": obj.colour, "hex": obj.hex,
            "office": obj.office_id}


def ticket(request, t):
    attach_catalogue([t])  # nothing to read when the caller attached them
    location = None
    if t.latitude is not None or t.address:
        location = {"latitude": float(t.latitude) if t.latitude is not None else None,
                    "longitude": float(t.longitude) if t.longitude is not None else None,
                    "address": t.address}
    resolution = None
    if t.resolution_type_id or t.resolution_text:
        resolution = {"type": ref(t.resolution_type), "text": t.resolution_text}
    return {
        "id": t.pk, "short_code": t.short_code, "kind": t.kind, "status": t.status,
        "status_label": _status_label(request, t.status), "priority": t.priority,
        "channel": t.channel, "subject": t.subject, "description": t.description,
        "office": ref(t.office), "service": ref(t.service),
        "report_category": ref(t.report_category), "assignee": user_ref(t.assignee),
        # The caller may view the ticket, or just acted on it, or just created it
        # in their office (for a citizen they may read, or with details they
        # typed): its citizen is theirs to read if they may read citizens at all.
        "citizen": citizen(t.citizen, readable=_may_read_citizens(request)),
        "location": location,
        "created_at": t.created_at, "updated_at": t.updated_at, "submitted_at": t.submitted_at,
        "last_activity_at": t.last_activity_at, "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at, "due_at": t.due_at, "resolution": resolution,
        "unread_count": t.unread_count,
        # Prefetched by the list (tickets.labels.prefetch()); one query otherwise.
        "labels": [label(obj) for obj in labels_of(t)],
        "version": t.version,
        "url": _url(request, "wagtail_helpdesk_api:ticket", t.pk),
        "admin_url": _url(request, "helpdesk_tickets:detail", t.pk),
    }


def attachment(request, a):
    return {"id": a.pk, "name": a.original_name, "content_type": a.content_type,
            "size": a.size, "internal": a.visibility != Visibility.PUBLIC,
            "by_citizen": a.by_citizen, "created_at": a.created_at,
            "url": request.build_absolute_uri(
                reverse("wagtail_helpdesk_api:attachment", args=[a.ticket_id, a.pk]))}


def event(request, entry):
    """A timeline entry (:class:`~wagtail_helpdesk.tickets.timeline.TimelineEntry`)."""
    e = entry.event
    return {"id": e.pk, "kind": e.kind, "title": str(entry.title), "internal": entry.internal,
            "created_at": e.created_at,
            "actor": {"role": entry.role, "name": str(entry.actor or "")},
            "body": e.body, "details": [str(line) for line in entry.details],
            "attachments": [attachment(request, a) for a in entry.attachments]}
