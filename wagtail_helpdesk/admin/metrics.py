"""The supervisor dashboard's figures ("Cruscotto").

Every function takes a ticket queryset that is already scoped to what the user
may see (and to the office filter) plus ``now``, and returns plain values:
dicts, lists of dicts, ``timedelta`` and ``date``. Every figure is computed by
the database — counts with ``filter=``, averages of timestamp differences,
per-day buckets with ``TruncDate`` — so the cost does not depend on how many
tickets Python would otherwise have to look at. Python only loops over
offices, operators and the days of the series.

"Today" and the per-day buckets are days of the site's time zone
(``TIME_ZONE``), not UTC days. Drafts are never counted.
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    Q,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from ..workflow import OPEN_STATUSES, Status

_OPEN = Q(status__in=OPEN_STATUSES)
_UNASSIGNED = Q(status=Status.NEW, assignee__isnull=True)

#: Windows (days) of the average response and resolution times.
WINDOWS = (7, 30)
#: Days of the opened/resolved series.
SERIES_DAYS = 30


def site_timezone():
    """The zone "today" and the daily buckets are counted in (``TIME_ZONE``)."""
    return timezone.get_default_timezone()


def local_date(moment):
    return timezone.localtime(moment, site_timezone()).date()


def start_of_day(day):
    """The aware instant a local calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=site_timezone())


def _duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _submitted(tickets):
    return tickets.exclude(status=Status.DRAFT)


def backlog(tickets, now):
    """The open work: counts per open status, unassigned, past their deadline,
    unread citizen messages. One query over open tickets only."""
    figures = _submitted(tickets).filter(_OPEN).aggregate(
        open=Count("pk"),
        new=Count("pk", filter=Q(status=Status.NEW)),
        in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
        unassigned=Count("pk", filter=_UNASSIGNED),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        unread=Sum("unread_count"),
    )
    figures["unread"] = figures["unread"] or 0
    return figures


def oldest_unassigned(tickets, now):
    """The pending ticket nobody has taken that has waited longest, or ``None``.

    ``{"pk", "short_code", "reference", "submitted_at", "wait"}``; ``wait`` is ``now`` minus
    the smallest ``submitted_at`` of the unassigned pending tickets.
    """
    row = (
        _submitted(tickets).filter(_UNASSIGNED, submitted_at__isnull=False)
        .order_by("submitted_at", "pk")
        .values("pk", "short_code", "submitted_at")
        .first()
    )
    if row is None:
        return None
    row["wait"] = max(now - row["submitted_at"], timedelta(0))
    row["reference"] = row["short_code"] or f"#{row['pk']}"
    return row


def today(tickets, now):
    """Tickets submitted and resolved since local midnight; ``solved`` are the
    resolved ones whose resolution type counts as solved."""
    since = start_of_day(local_date(now))
    return _submitted(tickets).filter(
        Q(submitted_at__gte=since) | Q(resolved_at__gte=since)
    ).aggregate(
        opened=Count("pk", filter=Q(submitted_at__gte=since)),
        resolved=Count("pk", filter=Q(status=Status.RESOLVED, resolved_at__gte=since)),
        solved=Count("pk", filter=Q(status=Status.RESOLVED, resolved_at__gte=since,
                                    resolution_type__counts_as_solved=True)),
    )


def response_times(tickets, now, windows=WINDOWS):
    """Average first-response and resolution times over the last N days.

    First response: tickets first answered within the window, from submission
    to the first reply (or the resolution, if that came first). Resolution:
    tickets resolved within the window with a resolution type that counts as
    solved, from submission to resolution. One query for every window.

    ``{days: {"first_response": timedelta|None, "first_response_count": int,
    "resolution": timedelta|None, "resolution_count": int}}``
    """
    oldest = now - timedelta(days=max(windows))
    solved = Q(status=Status.RESOLVED, resolution_type__counts_as_solved=True)
    aggregates = {}
    for days in windows:
        since = now - timedelta(days=days)
        answered = Q(first_response_at__gte=since, first_response_at__lte=now)
        resolved = solved & Q(resolved_at__gte=since, resolved_at__lte=now)
        aggregates[f"fr_{days}"] = Avg(_duration("first_response_at", "submitted_at"),
                                       filter=answered)
        aggregates[f"frn_{days}"] = Count("pk", filter=answered)
        aggregates[f"res_{days}"] = Avg(_duration("resolved_at", "submitted_at"),
                                        filter=resolved)
        aggregates[f"resn_{days}"] = Count("pk", filter=resolved)
    figures = _submitted(tickets).filter(
        Q(first_response_at__gte=oldest) | Q(resolved_at__gte=oldest),
        submitted_at__isnull=False,
    ).aggregate(**aggregates)
    return {
        days: {
            "first_response": _as_timedelta(figures[f"fr_{days}"]),
            "first_response_count": figures[f"frn_{days}"],
            "resolution": _as_timedelta(figures[f"res_{days}"]),
            "resolution_count": figures[f"resn_{days}"],
        }
        for days in windows
    }


def _as_timedelta(value):
    # PostgreSQL averages intervals into a timedelta; other backends return
    # microseconds, which DurationField converts — but be tolerant of numbers.
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))


def by_office(tickets, now):
    """Per office: open tickets by status, unassigned, past deadline, the
    oldest unassigned submission, tickets resolved today. One grouped query
    over the open tickets and today's resolutions."""
    since = start_of_day(local_date(now))
    resolved_today = Q(status=Status.RESOLVED, resolved_at__gte=since)
    rows = (
        _submitted(tickets).filter(_OPEN | resolved_today)
        .values("office_id", "office__name")
        .annotate(
            new=Count("pk", filter=Q(status=Status.NEW)),
            in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
            waiting=Count("pk", filter=Q(status=Status.WAITING)),
            open=Count("pk", filter=_OPEN),
            unassigned=Count("pk", filter=_UNASSIGNED),
            overdue=Count("pk", filter=_OPEN & Q(due_at__lt=now)),
            oldest_unassigned_at=Min("submitted_at", filter=_UNASSIGNED),
            resolved_today=Count("pk", filter=resolved_today),
        )
        .order_by("office__name", "office_id")
    )
    result = []
    for row in rows:
        oldest = row.pop("oldest_unassigned_at")
        row["name"] = row.pop("office__name")
        row["oldest_unassigned_wait"] = max(now - oldest, timedelta(0)) if oldest else None
        result.append(row)
    return result


def daily_series(tickets, now, days=SERIES_DAYS):
    """Tickets submitted ("opened") and resolved per local day, for the last
    ``days`` days including today, oldest first; days without tickets are
    there with zeros. ``[{"day": date, "opened": int, "resolved": int}]``"""
    tz = site_timezone()
    last = local_date(now)
    first = last - timedelta(days=days - 1)
    since = start_of_day(first)
    submitted = _submitted(tickets)
    opened = dict(
        submitted.filter(submitted_at__gte=since, submitted_at__lte=now)
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day").annotate(n=Count("pk")).order_by().values_list("day", "n")
    )
    resolved = dict(
        submitted.filter(status=Status.RESOLVED, resolved_at__gte=since, resolved_at__lte=now)
        .annotate(day=TruncDate("resolved_at", tzinfo=tz))
        .values("day").annotate(n=Count("pk")).order_by().values_list("day", "n")
    )
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        series.append({"day": day, "opened": opened.get(day, 0), "resolved": resolved.get(day, 0)})
    return series


def operator_load(tickets, now, members=None):
    """Open tickets per assignee, among the tickets in scope: by status, past
    their deadline, unread citizen messages.

    ``members`` (a user queryset, e.g. the members of the offices in scope)
    adds the people with no open ticket, with zeros. Sorted by load, heaviest
    first. Each row carries the operator's presence (available, busy…).
    """
    from ..services import presence

    rows = (
        _submitted(tickets).filter(_OPEN, assignee__isnull=False)
        .values("assignee_id")
        .annotate(
            open=Count("pk"),
            in_progress=Count("pk", filter=Q(status=Status.IN_PROGRESS)),
            waiting=Count("pk", filter=Q(status=Status.WAITING)),
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            unread=Sum("unread_count"),
        )
        .order_by()
    )
    load = {row.pop("assignee_id"): row for row in rows}
    wanted = Q(pk__in=list(load))
    if members is not None:
        wanted |= Q(pk__in=members.filter(is_active=True).values("pk"))
    people = get_user_model().objects.filter(wanted).only(
        "pk", "username", "first_name", "last_name")
    people = list(people)
    presences = presence.for_users([user.pk for user in people], now)
    zero = {"open": 0, "in_progress": 0, "waiting": 0, "overdue": 0, "unread": 0}
    result = []
    for user in people:
        figures = {**zero, **load.get(user.pk, {})}
        figures["unread"] = figures["unread"] or 0
        result.append({"user_id": user.pk, "name": user.get_full_name() or user.get_username(),
                       "presence": presences[user.pk], **figures})
    result.sort(key=lambda r: (-r["open"], -r["unread"], r["name"].lower()))
    return result


def satisfaction(tickets, now, days=30):
    """Citizens' ratings of the last ``days`` days: {"average": float|None, "count": int}."""
    from ..models import EventKind, TicketEvent

    figures = TicketEvent.objects.filter(
        ticket__in=tickets, kind=EventKind.RATING, created_at__gte=now - timedelta(days=days),
        created_at__lte=now,
    ).aggregate(average=Avg(Cast(KeyTextTransform("score", "data"), FloatField())),
                count=Count("pk"))
    average = figures["average"]
    return {"average": round(average, 1) if average is not None else None,
            "count": figures["count"], "days": days}


def label_counts(tickets):
    """How many open tickets carry each label, the most used first: one
    aggregate query (:func:`wagtail_helpdesk.tickets.labels.open_counts`)."""
    from ..tickets.labels import open_counts

    return open_counts(_submitted(tickets))


def snapshot(tickets, now, members=None):
    """Every figure of the dashboard, as one dict."""
    return {
        "now": now,
        "backlog": backlog(tickets, now),
        "oldest_unassigned": oldest_unassigned(tickets, now),
        "today": today(tickets, now),
        "response_times": response_times(tickets, now),
        "offices": by_office(tickets, now),
        "series": daily_series(tickets, now),
        "operators": operator_load(tickets, now, members),
        "satisfaction": satisfaction(tickets, now),
        "labels": label_counts(tickets),
    }
