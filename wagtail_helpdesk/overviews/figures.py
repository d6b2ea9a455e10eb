"""The figures of an overview (resoconto): a period of local days and a set
of offices.

Every figure is computed by the database — counts grouped by channel,
service, category, office or day, percentiles read with one ``ORDER BY …
OFFSET`` row each — so the work does not grow with what Python would
otherwise load; Python loops only over the groups (channels, offices, days,
grid cells). The same queries run on SQLite and PostgreSQL.

Definitions (docs/overviews.md):

* volumes: tickets *submitted* in the period (drafts never count);
* first response: tickets first answered in the period, from submission to
  the first answer; resolution: tickets resolved in the period, from
  submission to resolution; percentiles by the nearest-rank method;
* SLA: of the tickets resolved in the period that had a deadline, the share
  resolved by it (``resolved_at <= due_at``);
* backlog at an instant: tickets submitted before it and not resolved at
  that instant — a reactivated ticket is open again from its reactivation:
  the last "resolved"/"reactivated" event before the instant decides;
* satisfaction: the citizens' ratings given in the period;
* places: the reports submitted in the period with a position, on a grid of
  ``GRID_METRES`` cells; only counts and street names (never citizens' data
  or texts).
"""

import math
import re
from collections import Counter
from datetime import timedelta

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate

from ..admin.metrics import _as_timedelta, site_timezone, start_of_day
from ..models import Channel, EventKind, Kind, Ticket, TicketEvent
from ..opendata import grid as grid_module
from ..workflow import Status

#: Side of the places' grid cells, metres.
GRID_METRES = 250
#: Places listed (the map draws up to ``MAP_CELLS`` cells).
TOP_PLACES = 10
MAP_CELLS = 300
#: Categories listed among the most frequent.
TOP_CATEGORIES = 10
#: Periods longer than this are charted by week rather than by day.
DAILY_CHART_DAYS = 62
#: The longest period an overview may cover.
MAX_DAYS = 366
#: The longest street name kept (a normalised name, never the citizen's text).
STREET_MAX = 60


def period_bounds(start, end):
    """The aware instants [since, until) of the local days ``start``–``end``."""
    return start_of_day(start), start_of_day(end + timedelta(days=1))


def scope(offices=None, all_offices=False):
    """The submitted tickets of ``offices`` (every ticket with ``all_offices``)."""
    tickets = Ticket.objects.exclude(status=Status.DRAFT).filter(submitted_at__isnull=False)
    if all_offices:
        return tickets
    return tickets.filter(office__in=list(offices or []))


def _duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def percentile(queryset, expression, share, count=None):
    """The nearest-rank percentile of ``expression`` over ``queryset`` (one
    row read with ORDER BY … OFFSET), or None when it is empty."""
    count = queryset.count() if count is None else count
    if not count:
        return None
    rank = max(math.ceil(share * count), 1) - 1
    value = (queryset.annotate(_value=expression).order_by("_value", "pk")
             .values_list("_value", flat=True)[rank:rank + 1])
    return _as_timedelta(next(iter(value), None))


def hours(value):
    """A ``timedelta`` as hours (float, 1 decimal), None stays None."""
    return None if value is None else round(value.total_seconds() / 3600, 1)


def _grouped(tickets, field, name_field=None):
    fields = [field, name_field] if name_field else [field]
    rows = tickets.values(*fields).annotate(n=Count("pk")).order_by("-n", *fields)
    return list(rows)


def volumes(tickets, since, until):
    """Tickets submitted in the period: total, by kind, channel, service,
    report category, office. Rows: ``{"name", "count"}``, busiest first."""
    period = tickets.filter(submitted_at__gte=since, submitted_at__lt=until)
    totals = period.aggregate(total=Count("pk"), requests=Count("pk", filter=Q(kind=Kind.REQUEST)),
                              reports=Count("pk", filter=Q(kind=Kind.REPORT)))
    labels = dict(Channel.choices)
    by_channel = [{"key": r["channel"], "name": str(labels.get(r["channel"], r["channel"])),
                   "count": r["n"]} for r in _grouped(period, "channel")]
    by_service = [{"name": r["service__name"], "count": r["n"]}
                  for r in _grouped(period.filter(service__isnull=False), "service_id",
                                    "service__name")]
    by_category = [{"name": r["report_category__name"], "count": r["n"]}
                   for r in _grouped(period.filter(report_category__isnull=False),
                                     "report_category_id", "report_category__name")]
    by_office = [{"name": r["office__name"] or "", "count": r["n"]}
                 for r in _grouped(period, "office_id", "office__name")]
    return {**totals, "by_channel": by_channel, "by_service": by_service,
            "by_category": by_category, "by_office": by_office}


def series(tickets, start, end, since, until):
    """Tickets submitted and resolved per local day (or per week, from the
    Monday, for long periods), zeros included."""
    tz = site_timezone()
    opened = dict(tickets.filter(submitted_at__gte=since, submitted_at__lt=until)
                  .annotate(day=TruncDate("submitted_at", tzinfo=tz)).values("day")
                  .annotate(n=Count("pk")).order_by().values_list("day", "n"))
    resolved = dict(tickets.filter(resolved_at__gte=since, resolved_at__lt=until)
                    .annotate(day=TruncDate("resolved_at", tzinfo=tz)).values("day")
                    .annotate(n=Count("pk")).order_by().values_list("day", "n"))
    days = (end - start).days + 1
    weekly = days > DAILY_CHART_DAYS
    buckets = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        key = day - timedelta(days=day.weekday()) if weekly else day
        bucket = buckets.setdefault(key, {"day": key, "opened": 0, "resolved": 0})
        bucket["opened"] += opened.get(day, 0)
        bucket["resolved"] += resolved.get(day, 0)
    return {"unit": "week" if weekly else "day", "rows": list(buckets.values())}


def times(tickets, since, until):
    """First-response and resolution times (median, 90th percentile, average,
    count) and the share resolved within the deadline."""
    answered = tickets.filter(first_response_at__gte=since, first_response_at__lt=until)
    resolved = tickets.filter(resolved_at__gte=since, resolved_at__lt=until)
    first = _duration("first_response_at", "submitted_at")
    resolution = _duration("resolved_at", "submitted_at")
    result = {}
    for key, queryset, expression in (("first_response", answered, first),
                                      ("resolution", resolved, resolution)):
        figures = queryset.aggregate(count=Count("pk"), average=Avg(expression))
        count = figures["count"]
        result[key] = {
            "count": count, "average": _as_timedelta(figures["average"]),
            "median": percentile(queryset, expression, 0.5, count),
            "p90": percentile(queryset, expression, 0.9, count),
        }
    sla = resolved.filter(due_at__isnull=False).aggregate(
        with_deadline=Count("pk"), within=Count("pk", filter=Q(resolved_at__lte=F("due_at"))))
    sla["late"] = sla["with_deadline"] - sla["within"]
    sla["share"] = (round(100 * sla["within"] / sla["with_deadline"], 1)
                    if sla["with_deadline"] else None)
    result["sla"] = sla
    return result


def open_at(tickets, moment):
    """Tickets open at ``moment``: submitted before it, and either never
    resolved before it or reactivated after their last resolution before it.
    Tickets resolved (for good) before ``moment`` are left out by the index
    on ``resolved_at`` first; only the others are looked at event by event."""
    last = (TicketEvent.objects.filter(ticket=OuterRef("pk"), created_at__lt=moment,
                                       kind__in=[EventKind.RESOLVED, EventKind.REOPENED])
            .order_by("-created_at", "-pk").values("kind")[:1])
    return (tickets.filter(submitted_at__lt=moment)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))
            .annotate(_last=Subquery(last))
            .filter(Q(_last__isnull=True) | Q(_last=EventKind.REOPENED)))


def backlog(tickets, since, until):
    """Open tickets at the start and at the end of the period, and the ones
    open at the end past their deadline."""
    start = open_at(tickets, since).aggregate(n=Count("pk"))["n"]
    end = open_at(tickets, until).aggregate(
        n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=until)))
    return {"start": start, "end": end["n"], "overdue_end": end["overdue"],
            "change": end["n"] - start}


def satisfaction(tickets, since, until):
    """Ratings given in the period: count, average, how many of each score."""
    ratings = TicketEvent.objects.filter(ticket__in=tickets, kind=EventKind.RATING,
                                         created_at__gte=since, created_at__lt=until)
    score = Cast(KeyTextTransform("score", "data"), IntegerField())
    figures = ratings.aggregate(count=Count("pk"), average=Avg(Cast(score, FloatField())))
    spread = dict(ratings.annotate(score=score).values("score").annotate(n=Count("pk"))
                  .order_by().values_list("score", "n"))
    average = figures["average"]
    return {"count": figures["count"],
            "average": round(average, 2) if average is not None else None,
            "scores": [{"score": s, "count": spread.get(s, 0)} for s in range(1, 6)]}


_NUMBER = re.compile(r"[\s,]*\d+\s*[a-zA-Z]?(/\w+)?\s*$")
#: Anything before the first letter or digit ("=", "+", "-", "@", quotes...).
_LEADING = re.compile(r"^[\W_]+")
_SPACES = re.compile(r"\s+")


def street(address):
    """The normalised street of an address: the part before the first
    comma, without the house number, control characters and whatever comes
    before its first letter or digit, spaces collapsed, at most
    ``STREET_MAX`` characters ("Via Roma 12, Milano" → "Via Roma"). Never
    the rest of the citizen's text."""
    first = (address or "").split(",")[0]
    first = _SPACES.sub(" ", "".join(c if c.isprintable() else " " for c in first)).strip()
    name = _NUMBER.sub("", first).strip() or first
    return _LEADING.sub("", name)[:STREET_MAX].strip()


def places(tickets, since, until, grid=GRID_METRES):
    """Reports of the period with a position, counted per cell of the
    open-data grid (:mod:`wagtail_helpdesk.opendata.grid`) of side ``grid``
    metres: ``{"cells": [{"lat", "lng", "count"}] (the busiest
    ``MAP_CELLS``, at the cells' published centres), "top": [... + "street",
    "rank"], "bounds", "grid", "located"}``."""
    located = tickets.filter(kind=Kind.REPORT, submitted_at__gte=since, submitted_at__lt=until,
                             latitude__isnull=False, longitude__isnull=False)
    lat, lng = Cast("latitude", FloatField()), Cast("longitude", FloatField())
    box = located.aggregate(n=Count("pk"), south=Min(lat), north=Max(lat),
                            west=Min(lng), east=Max(lng))
    empty = {"cells": [], "top": [], "bounds": None, "grid": grid, "located": 0}
    if not box["n"]:
        return empty
    row, column = grid_module.cell_expressions(lat, lng, grid)
    cells = (located.annotate(cy=row, cx=column)
             .values("cy", "cx").annotate(count=Count("pk"))
             .order_by("-count", "cy", "cx"))[:MAP_CELLS]
    cells = [{"cy": int(c["cy"]), "cx": int(c["cx"]), "count": c["count"]} for c in cells]
    for cell in cells:
        cell["lat"], cell["lng"] = grid_module.centre(cell["cy"], cell["cx"], grid)
    top = cells[:TOP_PLACES]
    wanted = Q()
    for cell in top:
        wanted |= Q(cy=cell["cy"], cx=cell["cx"])
    streets = {}
    rows = (located.exclude(address="").annotate(cy=row, cx=column)
            .filter(wanted).values("cy", "cx", "address").annotate(n=Count("pk")).order_by())
    for found in rows:
        name = street(found["address"])
        if name:
            key = (int(found["cy"]), int(found["cx"]))
            streets.setdefault(key, Counter())[name] += found["n"]
    for rank, cell in enumerate(top, 1):
        counter = streets.get((cell["cy"], cell["cx"]))
        cell["street"] = (sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
                          if counter else "")
        cell["rank"] = rank
    bounds = {k: box[k] for k in ("south", "north", "west", "east")}
    return {"cells": cells, "top": top, "bounds": bounds, "grid": grid, "located": box["n"]}


def office_names(offices=None, all_offices=False):
    if all_offices:
        return []
    return sorted(o.name for o in offices or [])


def compute(start, end, offices=None, all_offices=False, progress=None):
    """Every figure of the overview of ``start``–``end`` (local dates,
    inclusive) for ``offices`` (or all of them), as one dict.
    ``progress(percent)`` is called after each step."""
    def step(percent):
        if progress is not None:
            progress(percent)

    offices = list(offices or []) if not all_offices else []
    since, until = period_bounds(start, end)
    tickets = scope(offices, all_offices)
    figures = {"start": start, "end": end, "all_offices": all_offices,
               "offices": office_names(offices, all_offices)}
    figures["volumes"] = volumes(tickets, since, until)
    step(15)
    figures["series"] = series(tickets, start, end, since, until)
    step(25)
    figures["times"] = times(tickets, since, until)
    step(40)
    figures["backlog"] = backlog(tickets, since, until)
    step(50)
    figures["satisfaction"] = satisfaction(tickets, since, until)
    step(55)
    figures["places"] = places(tickets, since, until)
    figures["categories"] = figures["volumes"]["by_category"][:TOP_CATEGORIES]
    step(65)
    return figures


def overview_figures(overview, progress=None):
    """The figures of an :class:`~wagtail_helpdesk.models.Overview`."""
    offices = [] if overview.all_offices else list(overview.offices.all())
    return compute(overview.period_start, overview.period_end, offices,
                   overview.all_offices, progress)

