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

Two ways to the same figures. Without ``history`` every figure is counted
from the tickets (the reference). With a :class:`History` (the dashboard),
the closed days of the series and of the rolling windows are read from the
daily figures kept by :mod:`wagtail_helpdesk.insight.daily`, and only the
rest is counted live: today, the partial first day of a window and the
tickets without an office. The tests hold the two equal. Averages are the
exact mean rounded to the microsecond on every database.
"""

import operator
from datetime import timedelta
from functools import reduce

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import TruncDate

from ..insight import daily, open_work
from ..insight.daily import local_date, mean, site_timezone, start_of_day
from ..workflow import OPEN_STATUSES, Status

_OPEN = Q(status__in=OPEN_STATUSES)
_UNASSIGNED = Q(status=Status.NEW, assignee__isnull=True)

#: Windows (days) of the average response and resolution times.
WINDOWS = (7, 30)
#: Days of the opened/resolved series.
SERIES_DAYS = 30
#: Days of the citizens' ratings.
RATING_DAYS = 30


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


class History:
    """The closed days' figures of the offices in scope, for the rolling
    windows and the series ending at ``now`` (made ready when built: missing
    or stale days computed, :func:`wagtail_helpdesk.insight.daily.ensure`).

    ``offices``: the ids of the offices of the tickets in scope, or ``None``
    for every office. The tickets given to the figures must be those offices'
    tickets, plus possibly tickets without an office (always counted live).
    """

    def __init__(self, tickets, now, offices=None, windows=WINDOWS, series_days=SERIES_DAYS,
                 rating_days=RATING_DAYS):
        self.now = now
        self.today = local_date(now)
        # Submitted tickets without an office (rare: a draft has none until
        # submitted) are counted live on the closed days too; most scopes have
        # none, and their queries then stay simple ranges.
        self.officeless = _submitted(tickets).filter(office__isnull=True).exists()
        first = min([self._first_closed(now - timedelta(days=d))
                     for d in (*windows, rating_days)]
                    + [self.today - timedelta(days=series_days - 1)])
        days = [first + timedelta(days=n) for n in range((self.today - first).days)]
        daily.ensure(days)
        self.sums = daily.sums(days, offices)

    @staticmethod
    def _first_closed(since):
        day = local_date(since)
        return day if start_of_day(day) == since else day + timedelta(days=1)

    def split(self, since, field, office="office"):
        """``[since, now]`` for ``field``: the closed days read from the
        figures, and the rest as a filter — the partial first day, today, and
        the tickets without an office (``office``: the path to the ticket's
        office) on the closed days."""
        first = self._first_closed(since)
        if first >= self.today:
            return [], [_between(field, since, self.now)]
        closed = [first + timedelta(days=n) for n in range((self.today - first).days)]
        opening, midnight = start_of_day(first), start_of_day(self.today)
        live = [Q(**{f"{field}__gte": since, f"{field}__lt": opening}),
                _between(field, midnight, self.now)]
        if self.officeless:
            live.append(Q(**{f"{office}__isnull": True, f"{field}__gte": opening,
                             f"{field}__lt": midnight}))
        return closed, live

    def total(self, days, field, part="all"):
        return sum(self.sums.get(day, {}).get(part, {}).get(field, 0) for day in days)


def _between(field, since, until):
    return Q(**{f"{field}__gte": since, f"{field}__lte": until})


def _split(history, since, now, field, office="office"):
    """(closed days, [filters]) of ``[since, now]``: see :meth:`History.split`."""
    if history is None:
        return [], [_between(field, since, now)]
    return history.split(since, field, office)


def _any(filters):
    """The filters OR-ed, each once (the windows share today's range): a
    short condition keeps PostgreSQL's planning quick."""
    unique = {repr(f): f for f in filters}
    return reduce(operator.or_, unique.values(), Q(pk__in=[]))


def response_times(tickets, now, windows=WINDOWS, history=None):
    """Average first-response and resolution times over the last N days.

    First response: tickets first answered within the window, from submission
    to the first reply (or the resolution, if that came first). Resolution:
    tickets resolved within the window with a resolution type that counts as
    solved, from submission to resolution. One query for every window.

    ``{days: {"first_response": timedelta|None, "first_response_count": int,
    "resolution": timedelta|None, "resolution_count": int}}``
    """
    solved = Q(status=Status.RESOLVED, resolution_type__counts_as_solved=True)
    aggregates, wanted, closed = {}, [], {}
    for days in windows:
        since = now - timedelta(days=days)
        closed_fr, answered = _split(history, since, now, "first_response_at")
        closed_res, resolved = _split(history, since, now, "resolved_at")
        closed[days] = (closed_fr, closed_res)
        wanted += answered + resolved
        answered, resolved = _any(answered), _any(resolved) & solved
        aggregates[f"fr_{days}"] = Sum(_duration("first_response_at", "submitted_at"),
                                       filter=answered)
        aggregates[f"frn_{days}"] = Count("pk", filter=answered)
        aggregates[f"res_{days}"] = Sum(_duration("resolved_at", "submitted_at"),
                                        filter=resolved)
        aggregates[f"resn_{days}"] = Count("pk", filter=resolved)
    figures = _submitted(tickets).filter(_any(wanted), submitted_at__isnull=False).aggregate(
        **aggregates)
    result = {}
    for days in windows:
        fr_us, fr_n = daily.as_us(figures[f"fr_{days}"]), figures[f"frn_{days}"]
        res_us, res_n = daily.as_us(figures[f"res_{days}"]), figures[f"resn_{days}"]
        if history is not None:
            closed_fr, closed_res = closed[days]
            fr_us += history.total(closed_fr, "first_response_us")
            fr_n += history.total(closed_fr, "first_responses")
            res_us += history.total(closed_res, "resolution_us", "solved")
            res_n += history.total(closed_res, "resolutions", "solved")
        result[days] = {"first_response": mean(fr_us, fr_n), "first_response_count": fr_n,
                        "resolution": mean(res_us, res_n), "resolution_count": res_n}
    return result


def _as_timedelta(value):
    # PostgreSQL averages intervals into a timedelta; other backends return
    # microseconds, which DurationField converts — but be tolerant of numbers.
    # (Used by :mod:`wagtail_helpdesk.overviews.figures`.)
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
        # The row of the tickets without an office last, on every database.
        .order_by(F("office__name").asc(nulls_last=True), "office_id")
    )
    result = []
    for row in rows:
        oldest = row.pop("oldest_unassigned_at")
        row["name"] = row.pop("office__name")
        row["oldest_unassigned_wait"] = max(now - oldest, timedelta(0)) if oldest else None
        result.append(row)
    return result


def daily_series(tickets, now, days=SERIES_DAYS, history=None):
    """Tickets submitted ("opened") and resolved per local day, for the last
    ``days`` days including today, oldest first; days without tickets are
    there with zeros. ``[{"day": date, "opened": int, "resolved": int}]``"""
    tz = site_timezone()
    last = local_date(now)
    first = last - timedelta(days=days - 1)
    since = start_of_day(first)
    submitted = _submitted(tickets)
    closed, opened_live = _split(history, since, now, "submitted_at")
    _closed, resolved_live = _split(history, since, now, "resolved_at")
    opened_live, resolved_live = _any(opened_live), _any(resolved_live)
    opened = dict(
        submitted.filter(opened_live)
        .annotate(day=TruncDate("submitted_at", tzinfo=tz))
        .values("day").annotate(n=Count("pk")).order_by().values_list("day", "n")
    )
    resolved = dict(
        submitted.filter(resolved_live, status=Status.RESOLVED)
        .annotate(day=TruncDate("resolved_at", tzinfo=tz))
        .values("day").annotate(n=Count("pk")).order_by().values_list("day", "n")
    )
    for day in closed:
        opened[day] = opened.get(day, 0) + history.total([day], "opened")
        resolved[day] = resolved.get(day, 0) + history.total([day], "resolved")
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        series.append({"day": day, "opened": opened.get(day, 0), "resolved": resolved.get(day, 0)})
    return series


def operator_load(tickets, now, members=None, load=None):
    """Open tickets per assignee, among the tickets in scope: by status, past
    their deadline, unread citizen messages.

    ``members`` (a user queryset, e.g. the members of the offices in scope)
    adds the people with no open ticket, with zeros. Sorted by load, heaviest
    first. Each row carries the operator's presence (available, busy…).
    ``load``: the per-assignee figures when already counted
    (:func:`wagtail_helpdesk.insight.open_work.load`).
    """
    from ..services import presence

    if load is None:
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


def satisfaction(tickets, now, days=RATING_DAYS, history=None):
    """Citizens' ratings of the last ``days`` days: {"average": float|None, "count": int}.
    The average is over the ratings with a score, rounded to one decimal."""
    from ..models import EventKind, TicketEvent

    closed, live = _split(history, now - timedelta(days=days), now, "created_at",
                          office="ticket__office")
    figures = TicketEvent.objects.filter(_any(live), ticket__in=tickets, kind=EventKind.RATING).aggregate(
        total=Sum(daily.score()), scored=Count(daily.score()), count=Count("pk"))
    total, scored, count = figures["total"] or 0, figures["scored"], figures["count"]
    if history is not None:
        total += history.total(closed, "score_sum")
        scored += history.total(closed, "scored")
        count += history.total(closed, "ratings")
    average = total / scored if scored else None
    return {"average": round(average, 1) if average is not None else None,
            "count": count, "days": days}


def label_counts(tickets, offices=False, officeless=True):
    """How many open tickets carry each label, the most used first (then by
    name). ``offices`` (ids of the offices of ``tickets``; None: every office):
    their part from the labels' own copy of their open tickets' office
    (:func:`wagtail_helpdesk.tickets.open_labels.counts`, one index range), the
    tickets without an office (when ``officeless``) through the tickets;
    ``False`` (the reference): every label through the tickets
    (:func:`wagtail_helpdesk.tickets.labels.open_counts`)."""
    from ..tickets import labels, open_labels

    if offices is False:
        found = labels.open_counts(_submitted(tickets))
    else:
        found = labels.counted(open_labels.counts(offices))
        if officeless:
            found += labels.open_counts(_submitted(tickets.filter(office__isnull=True)))
    rows = {}
    for row in found:
        if row["id"] in rows:
            rows[row["id"]]["count"] += row["count"]
        else:
            rows[row["id"]] = row
    return sorted(rows.values(), key=lambda r: (-r["count"], r["name"].casefold(), r["id"]))


def snapshot(tickets, now, members=None, offices=False):
    """Every figure of the dashboard, as one dict.

    ``offices``: the ids of the offices of ``tickets`` (``None``: every
    office) to read the closed days from the daily figures (see
    :class:`History`) and count the open work in one scan
    (:mod:`wagtail_helpdesk.insight.open_work`); ``False`` (the default)
    counts every figure on its own, live: the reference."""
    if offices is False:
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
    history = History(tickets, now, offices)
    # The open tickets are read per index range (the offices', the ones
    # without an office only when there are some): open_work.parts.
    parts = open_work.parts(tickets, offices, history.officeless)
    groups = open_work.open_groups(parts, now)
    todays = open_work.today_by_office(tickets, start_of_day(local_date(now)))
    return {
        "now": now,
        "backlog": open_work.backlog(groups),
        "oldest_unassigned": oldest_unassigned(tickets, now),
        "today": open_work.today(todays),
        "response_times": response_times(tickets, now, history=history),
        "offices": open_work.by_office(groups, todays, now),
        "series": daily_series(tickets, now, history=history),
        "operators": operator_load(tickets, now, members, load=open_work.load(groups)),
        "satisfaction": satisfaction(tickets, now, history=history),
        "labels": label_counts(tickets, offices, history.officeless),
    }
