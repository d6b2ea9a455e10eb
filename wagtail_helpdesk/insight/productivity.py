"""An operator's own productivity ("La mia attività") and the same figures
for an office.

Everything is read from the tickets' timelines (``TicketEvent``), which are
append-only and name who did what and when:

- **taken in charge**: tickets the person took (``taken_charge``, also when
  a reply took a pending ticket) or assigned to themselves (``assigned`` with
  ``data["to"]`` = the actor). Counted once per ticket and day.
- **replies**: replies to the citizen (``reply``); **chat messages**: the
  public messages written in live chats (``chat_message``), counted apart.
- **resolved**: ``resolved`` events by the person.
- **chats handled**: conversations the person accepted or joined
  (``chat_joined``) or wrote in (public ``chat_message``), once each.
- **median first response**: over the tickets whose first response the
  person gave that day (the public event stamped with the ticket's
  ``first_response_at``), from submission to that response. The median is
  taken in Python over those rows (at most :data:`MAX_RESPONSE_ROWS`): the
  same on SQLite and PostgreSQL.
- **satisfaction**: the citizens' ratings given that day to answers the
  person gave: the rating names the ``resolved`` event it is about; a rating
  without one (a chat closed without a resolution) goes to the ticket's
  assignee.

Days are days of the site's time zone (``TIME_ZONE``: a day begins at local
midnight and lasts 23 or 25 hours when the clocks change). Each function
makes a fixed number of aggregate queries, whatever the number of events:
the ``(actor, created_at)`` index serves the personal figures, the
``created_at`` index the office ones.

Scopes: :func:`personal` (one user's own work) and :func:`offices` (the work
done by staff on the tickets of some offices, or of every office). Per
operator rows (:func:`per_operator`) are for supervisors, and only where the
municipality switched them on (``HelpdeskSettings.operator_figures``): the
caller checks that, see :func:`operator_figures_enabled`. Where they are off,
an office's figures of a day in which fewer than :data:`MIN_PEOPLE` people
worked would still be one person's: :func:`people_by_day` tells the caller.
"""

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

from ..admin.metrics import local_date, site_timezone, start_of_day
from ..models import Channel, EventKind, TicketEvent, Visibility

#: At most this many first responses are read for a median (a day's work is
#: far below; the bound keeps a mistaken scope from reading a whole table).
MAX_RESPONSE_ROWS = 5000

#: The figures of a day, in the order they are shown, with their labels.
FIGURES = (
    ("taken", _("Tickets taken in charge")),
    ("replies", _("Replies sent")),
    ("chat_messages", _("Chat messages sent")),
    ("resolved", _("Tickets resolved")),
    ("chats", _("Chats handled")),
)



def _int_key(key, kind):
    """``data[key]`` as an integer, read only on the events of ``kind`` (other
    kinds may keep text under the same key, e.g. a status change's ``to``)."""
    return Case(When(kind=kind, then=Cast(KeyTextTransform(key, "data"), IntegerField())),
                default=None, output_field=IntegerField())


_ASSIGNED_TO = _int_key("to", EventKind.ASSIGNED)
_RESOLVED_EVENT = _int_key("resolved_event", EventKind.RATING)

_TAKEN = Q(kind=EventKind.TAKEN_CHARGE) | Q(kind=EventKind.ASSIGNED, assigned_to=F("actor_id"))
_REPLY = Q(kind=EventKind.REPLY)
_CHAT_MESSAGE = Q(kind=EventKind.CHAT_MESSAGE, visibility=Visibility.PUBLIC)
_RESOLVED = Q(kind=EventKind.RESOLVED)
_CHAT = Q(kind=EventKind.CHAT_JOINED) | _CHAT_MESSAGE
_WORK = _TAKEN | _REPLY | _CHAT | _RESOLVED | Q(kind=EventKind.STATUS_CHANGED) | Q(
    kind=EventKind.NOTE)
#: The public events that can be a ticket's first response (see services).
_RESPONSE = (_REPLY | _CHAT_MESSAGE | _RESOLVED
             | (Q(kind=EventKind.STATUS_CHANGED, visibility=Visibility.PUBLIC) & ~Q(body="")))


def _counts():
    return {
        "taken": Count("ticket", distinct=True, filter=_TAKEN),
        "replies": Count("pk", filter=_REPLY),
        "chat_messages": Count("pk", filter=_CHAT_MESSAGE),
        "resolved": Count("pk", filter=_RESOLVED),
        "chats": Count("ticket", distinct=True, filter=_CHAT),
    }


@dataclass(frozen=True)
class Scope:
    """Whose work: ``user_id`` (one person) or ``office_ids`` (staff work on
    those offices' tickets; ``None`` = every office)."""

    user_id: int | None = None
    office_ids: frozenset | None = None

    def events(self):
        """The staff events in scope (``assigned_to`` annotated)."""
        events = TicketEvent.objects.annotate(assigned_to=_ASSIGNED_TO)
        if self.user_id is not None:
            return events.filter(actor_id=self.user_id)
        events = events.filter(actor__isnull=False, by_citizen=False)
        if self.office_ids is not None:
            events = events.filter(ticket__office_id__in=self.office_ids)
        return events

    def ratings(self):
        """Ratings, with ``rated_id``: the user the rated answer is credited to."""
        resolver = (TicketEvent.objects.filter(pk=OuterRef("resolved_event")).order_by()
                    .values("actor_id"))
        ratings = TicketEvent.objects.filter(kind=EventKind.RATING).annotate(
            resolved_event=_RESOLVED_EVENT,
        ).annotate(rated_id=Coalesce(Subquery(resolver[:1]), F("ticket__assignee_id"),
                                   output_field=IntegerField()))
        if self.user_id is not None:
            return ratings.filter(rated_id=self.user_id)
        ratings = ratings.filter(rated_id__isnull=False)
        if self.office_ids is not None:
            ratings = ratings.filter(ticket__office_id__in=self.office_ids)
        return ratings


def personal(user):
    return Scope(user_id=user.pk)


def offices(office_ids=None):
    """``office_ids``: an iterable of ids, or ``None`` for every office."""
    return Scope(office_ids=None if office_ids is None else frozenset(office_ids))


def _window(first, last=None):
    """The instants of the local days ``first``..``last`` (inclusive)."""
    last = last or first
    return {"created_at__gte": start_of_day(first),
            "created_at__lt": start_of_day(last + timedelta(days=1))}


def _median(rows):
    """``rows``: (ticket id, response time, submission time); one per ticket."""
    waits = {}
    for ticket_id, answered, submitted in rows:
        waits.setdefault(ticket_id, max(answered - submitted, timedelta(0)))
    if not waits:
        return None, 0
    return median(waits.values()), len(waits)


def _first_responses(scope, day):
    return (scope.events().filter(_RESPONSE, **_window(day))
            .filter(created_at=F("ticket__first_response_at"), ticket__submitted_at__isnull=False)
            .order_by())


def _rating(average, count):
    return {"average": round(average, 1) if average is not None else None, "count": count}


def day_figures(scope, day):
    """The figures of one local day (``date``). Three queries.

    ``{"day", "taken", "replies", "chat_messages", "resolved", "chats",
    "first_response": timedelta|None, "first_response_count",
    "satisfaction": {"average": float|None, "count": int}}``
    """
    counts = scope.events().filter(**_window(day)).aggregate(**_counts())
    rows = _first_responses(scope, day).values_list(
        "ticket_id", "created_at", "ticket__submitted_at")[:MAX_RESPONSE_ROWS]
    first_response, answered = _median(rows)
    rated = scope.ratings().filter(**_window(day)).aggregate(
        average=Avg(Cast(KeyTextTransform("score", "data"), FloatField())), count=Count("pk"))
    return {"day": day, **counts, "first_response": first_response,
            "first_response_count": answered,
            "satisfaction": _rating(rated["average"], rated["count"])}


def week_of(day):
    """Monday..Sunday of the week of ``day``."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def week_by_day(scope, day):
    """The counts of each day of ``day``'s week (Monday first; days without
    work have zeros). One query."""
    days = week_of(day)
    rows = (scope.events().filter(**_window(days[0], days[-1]))
            .annotate(day=TruncDate("created_at", tzinfo=site_timezone()))
            .values("day").annotate(**_counts()).order_by())
    found = {row.pop("day"): row for row in rows}
    zero = dict.fromkeys((key for key, _label in FIGURES), 0)
    return [{"day": d, **zero, **found.get(d, {})} for d in days]


def week_by_channel(scope, day):
    """Per channel of the tickets worked on in ``day``'s week: tickets worked
    on (any of the counted actions, a status change or a private note), and
    the counts. Channels without work are left out. One query."""
    days = week_of(day)
    labels = dict(Channel.choices)
    rows = (scope.events().filter(_WORK, **_window(days[0], days[-1]))
            .values("ticket__channel")
            .annotate(tickets=Count("ticket", distinct=True), **_counts())
            .order_by("ticket__channel"))
    order = {value: n for n, value in enumerate(labels)}
    result = [{"channel": row.pop("ticket__channel"), **row} for row in rows]
    for row in result:
        row["label"] = labels.get(row["channel"], row["channel"])
    result.sort(key=lambda row: order.get(row["channel"], len(order)))
    return result


def per_operator(scope, day, members=None):
    """The figures of ``day`` for each person who worked in ``scope``, plus
    ``members`` (a user queryset) with zeros. Four queries. Sorted by name.

    For supervisors, and only where :func:`operator_figures_enabled`."""
    window = _window(day)
    counts = {row.pop("actor_id"): row for row in
              scope.events().filter(**window).values("actor_id").annotate(**_counts())
              .order_by()}
    responses = {}
    for actor_id, ticket_id, answered, submitted in (
            _first_responses(scope, day)
            .values_list("actor_id", "ticket_id", "created_at", "ticket__submitted_at")
            [:MAX_RESPONSE_ROWS]):
        responses.setdefault(actor_id, []).append((ticket_id, answered, submitted))
    ratings = {row["rated_id"]: row for row in
               scope.ratings().filter(**window).values("rated_id").annotate(
                   average=Avg(Cast(KeyTextTransform("score", "data"), FloatField())),
                   count=Count("pk")).order_by()}
    wanted = Q(pk__in=[*counts, *responses, *ratings])
    if members is not None:
        wanted |= Q(pk__in=members.filter(is_active=True).values("pk"))
    people = get_user_model().objects.filter(wanted).only(
        "pk", "username", "first_name", "last_name")
    zero = dict.fromkeys((key for key, _label in FIGURES), 0)
    result = []
    for person in people:
        first_response, answered = _median(responses.get(person.pk, []))
        rated = ratings.get(person.pk, {"average": None, "count": 0})
        result.append({
            "user_id": person.pk, "name": person.get_full_name() or person.get_username(),
            **zero, **counts.get(person.pk, {}),
            "first_response": first_response, "first_response_count": answered,
            "satisfaction": _rating(rated["average"], rated["count"]),
        })
    result.sort(key=lambda row: (row["name"].lower(), row["user_id"]))
    return result


#: Where each operator's figures are off, an office's figures of a day (or a
#: week) are shown only if at least this many people worked in scope then:
#: otherwise they would be one person's figures after all.
MIN_PEOPLE = 2


def people_by_day(scope, days):
    """``{day: frozenset(user ids)}``: who worked in ``scope`` (any counted
    action, a status change or a private note) on each of ``days``. One query
    (distinct day and person pairs: a few hundred rows at most)."""
    days = sorted(set(days))
    window = Q()
    for day in days:
        window |= Q(**_window(day))
    pairs = (scope.events().filter(_WORK).filter(window)
             .annotate(day=TruncDate("created_at", tzinfo=site_timezone()))
             .values_list("day", "actor_id").distinct().order_by())
    people = {day: set() for day in days}
    for day, actor_id in pairs:
        people.setdefault(day, set()).add(actor_id)
    return {day: frozenset(ids) for day, ids in people.items()}


def operator_figures_enabled(site=None):
    """Whether the municipality lets supervisors see each operator's figures
    (``HelpdeskSettings.operator_figures`` of ``site``, default: the default site)."""
    from ..services.core import helpdesk_settings

    return bool(helpdesk_settings(site).operator_figures)


def default_comparison(day):
    """The day compared by default: the same weekday of the week before."""
    return day - timedelta(days=7)


def today(now):
    return local_date(now)
