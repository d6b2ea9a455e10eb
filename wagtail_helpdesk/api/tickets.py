"""Tickets: the list (the admin list's filters, cursor pagination), one
ticket with its timeline, and creating one (channel "api")."""

import hashlib

from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Status
from ninja.errors import ValidationError

from .. import services
from ..choices_cache import attach_catalogue
from ..conf import get_setting
from ..errors import GuardFailed
from ..models import Channel, Office, ReportCategory, Service, Ticket, Visibility
from ..permissions import ticket_policy
from ..services.identities import DECLARED, declared_citizen
from ..services.lookup import FINDABLE, readable_citizens
from ..tickets import labels
from ..tickets.actions import available_actions
from ..tickets.filters import TicketFilterSet
from ..tickets.labels import visible_labels
from ..tickets.queries import visible_ticket_or_404, visible_tickets
from ..tickets.search import search
from ..tickets.timeline import build_timeline
from . import cursor, respond, serialise
from .schemas import (
    Ordering,
    TicketDetailOut,
    TicketFilters,
    TicketIn,
    TicketOut,
    TicketPage,
)

router = Router(tags=["tickets"])

#: The admin's action names → this API's action URLs (``tickets/{id}/<path>/``).
ACTION_PATHS = {"take_charge": "take-charge", "assign": "assign", "transfer": "transfer",
                "set_priority": "priority", "mark_waiting": "waiting", "resolve": "resolve",
                "reopen": "reopen", "reply": "reply", "note": "note"}


#: The admin list's date range parameters → the API's.
RANGES = {"created_at_after": "created_after", "created_at_before": "created_before",
          "updated_at_after": "updated_after", "updated_at_before": "updated_before"}
#: The admin list's filter names, where the API's differ (for error messages).
FILTER_NAMES = {"created_at": "created_after", "updated_at": "updated_after"}


def label_ids(user, values, field="label"):
    """The ids of the labels ``user`` sees that ``values`` name: a value of
    digits is the id of such a label if there is one, else a name (any case;
    a name may be several offices' label, each counts); a 422 naming the
    first unknown one. One query."""
    plain = [" ".join(v.split()) for v in values]
    ids = {int(v) for v in plain if v.isdigit()}
    names = {v.lower() for v in plain if v}
    if not (ids or names):
        return []
    query = Q(pk__in=ids)
    for name in names:
        query |= Q(name__iexact=name)
    found = list(visible_labels(user).filter(query).values_list("pk", "name"))
    known_ids = {pk for pk, _name in found}
    by_name = {}
    for pk, name in found:
        by_name.setdefault(name.lower(), set()).add(pk)
    chosen = set()
    for value, text in zip(values, plain, strict=True):
        if text.isdigit() and int(text) in known_ids:
            chosen.add(int(text))
        elif text.lower() in by_name:
            chosen |= by_name[text.lower()]
        else:
            message = _("No label you can see is called or numbered “%(value)s”.") % {
                "value": value}
            raise ValidationError([{"loc": ("query" if field == "label" else "body", field),
                                    "msg": message}])
    return sorted(chosen)


def _filter_data(filters, user=None):
    """The admin list's filter parameters, from the API's."""
    data = QueryDict(mutable=True)
    if filters.label:
        data.setlist("label", [str(pk) for pk in label_ids(user, filters.label)])
    data["queue"] = filters.queue
    data.setlist("status", filters.status)
    data.setlist("channel", filters.channel)
    data.setlist("priority", [str(p) for p in filters.priority])
    for name in ("kind", "office", "service", "report_category", "assignee"):
        value = getattr(filters, name)
        if value is not None:
            data[name] = str(value)
    for theirs, ours in RANGES.items():
        value = getattr(filters, ours)
        if value is not None:
            data[theirs] = value.isoformat()
    if filters.unread:
        data["unread"] = "yes"
    return data


def _filtered(request, filters):
    filterset = TicketFilterSet(_filter_data(filters, request.user), request=request,
                                queryset=visible_tickets(request.user)
                                .select_related(*serialise.TICKET_RELATED)
                                .prefetch_related(labels.prefetch()))
    if not filterset.is_valid():
        raise ValidationError([
            {"loc": ("query", FILTER_NAMES.get(name, name)),
             "msg": " ".join(str(m) for m in messages)}
            for name, messages in filterset.errors.items()])
    queryset = filterset.qs
    if filters.unread is False:
        queryset = queryset.filter(unread_count=0)
    return search(queryset, filters.q) if filters.q else queryset


@router.get("/", response=TicketPage, url_name="tickets",
            summary="List tickets", description=(
                "The tickets the token's user may see, newest activity first, a page at a "
                "time. Filters are the admin list's; combine them freely."))
def list_tickets(request, filters: Query[TicketFilters],
                 ordering: Ordering = "-last_activity_at",
                 cursor_: str | None = Query(None, alias="cursor", max_length=400),
                 limit: int | None = Query(None, ge=1, description="Rows per page.")):
    maximum = get_setting("API_MAX_PAGE_SIZE")
    if limit is not None and limit > maximum:
        raise ValidationError([{"loc": ("query", "limit"),
                                "msg": _("At most %(max)d.") % {"max": maximum}}])
    rows, next_cursor = cursor.page(_filtered(request, filters), ordering, cursor_,
                                    limit or get_setting("API_PAGE_SIZE"))
    next_url = None
    if next_cursor:
        params = request.GET.copy()
        params["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    attach_catalogue(rows)  # the page's offices, services…: one cache read
    return respond.shaped(request, TicketPage, {
        "items": [serialise.ticket(request, t) for t in rows], "next_cursor": next_cursor,
        "next": next_url})


def detail(request, ticket):
    """A ticket with its timeline, files and available actions."""
    user = request.user
    can_change = ticket_policy().user_has_permission_for_instance(user, "change", ticket)
    attachments = list(ticket.attachments.order_by("created_at", "pk"))
    entries = build_timeline(ticket, attachments)
    if not can_change:  # internal items are for those who work the ticket
        entries = [entry for entry in entries if not entry.internal]
        attachments = [a for a in attachments if a.visibility == Visibility.PUBLIC]
        for entry in entries:
            entry.attachments = [a for a in entry.attachments
                                 if a.visibility == Visibility.PUBLIC]
    return {**serialise.ticket(request, ticket),
            "actions": [ACTION_PATHS[name]
                        for name in available_actions(ticket, user, can_change=can_change)],
            "timeline": [serialise.event(request, entry) for entry in entries],
            "attachments": [serialise.attachment(request, a) for a in attachments]}


@router.get("/{ticket_id}/", response=TicketDetailOut, url_name="ticket",
            summary="One ticket, with its timeline")
def get_ticket(request, ticket_id: int):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return respond.shaped(request, TicketDetailOut, detail(request, ticket))


def one(queryset, pk, field, message):
    """The row ``pk`` of ``queryset`` (None for no pk), or a 422 naming ``field``."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise GuardFailed(message, {field: message})
    return found


def read(ticket_id):
    """A ticket as an answer shows it, whoever may see it now: the ticket an
    action or a creation just produced (even when that took it out of the
    caller's sight, e.g. a transfer, or the caller may only add tickets)."""
    return Ticket.objects.select_related(*serialise.TICKET_RELATED).get(pk=ticket_id)


def _known_citizens(user):
    """Citizens the caller may name by id: those whose record they may read
    (services.lookup), registered and not erased — a declared record belongs to
    the ticket it came with."""
    return readable_citizens(user).filter(FINDABLE)


def _citizen(actor, data):
    if data.citizen_id is not None:
        return one(_known_citizens(actor), data.citizen_id, "citizen_id",
                   _("No citizen with this id among yours: send the citizen's details "
                     "(with the fiscal code) instead."))
    if data.citizen is not None:
        # Details an integration sends are a claim, kept with this ticket only.
        return declared_citizen(**data.citizen.dict())
    return None


def _idempotency_key(user, header):
    if not header:
        return None
    return hashlib.sha256(f"api:{user.pk}:{header}".encode()).hexdigest()


@router.post("/", response={201: TicketOut}, url_name="create_ticket",
             summary="Create a ticket", description=(
                 "A ticket on the citizen's behalf, channel \"api\", submitted (or saved as "
                 "your draft with draft=true). Send an Idempotency-Key header to make "
                 "retries safe: the same key returns the ticket the first call created."))
def create_ticket(request, data: TicketIn,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key",
                                                       max_length=200)):
    user = request.user
    key = _idempotency_key(user, idempotency_key)
    ticket = Ticket.objects.filter(idempotency_key=key).first() if key else None
    if ticket is None:
        with transaction.atomic():  # a refused creation leaves no citizen behind
            ticket = services.create_ticket(
                user, kind=data.kind, channel=Channel.API, citizen=_citizen(user, data),
                service=one(Service.objects.all(), data.service, "service",
                            _("No service with this id.")),
                report_category=one(ReportCategory.objects.all(), data.report_category,
                                    "report_category", _("No report category with this id.")),
                office=one(Office.objects.all(), data.office, "office",
                           _("No office with this id.")),
                subject=data.subject, description=data.description, latitude=data.latitude,
                longitude=data.longitude, address=data.address, priority=data.priority,
                draft=data.draft, note=data.note, idempotency_key=key,
                identity=DECLARED if data.citizen_id is None and data.citizen else None)
    return Status(201, serialise.ticket(request, read(ticket.pk)))
