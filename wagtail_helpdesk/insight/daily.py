"""The dashboard's figures of closed days (:mod:`wagtail_helpdesk.models.figures`):
computing them, telling when they went stale, reading their sums.

A day's figures are computed from the tickets as they are; a later change
of a ticket can move it between offices (a transfer), out of "resolved" (a
reactivation) and so on. Every change goes through the services layer, which
stamps ``Ticket.updated_at``; so a stored day is *stale* when a ticket changed
since it was checked (``FiguresDay.checked_at``, minus :data:`MARGIN` for the
transactions still running then) has one of its moments in that day: its
submission, first response or resolution, or one of its resolutions and
ratings in the timeline (a reactivated ticket has lost its ``resolved_at``;
its ``resolved`` event still says which day counted it). A rating does not
stamp its ticket: the resolutions and ratings are also looked up by their own
``created_at`` (indexed) against the same margin.

A change a check saw is not a reason to compute its days again at the next
check, though it is still within :data:`MARGIN` of it: a computation reads
every change committed before it, so the changes the check before it found
(a ticket or event and its stamp, :attr:`FiguresDay.seen`) are in the
figures. Only a change not seen yet (a new one, or one committed after the
check that computed the day) makes the day stale again. A desk that touches
last week's tickets all day (a label, a message) and a dashboard that
refreshes every minute compute a day once per change (twice for one
committed between a check and the computation after it), not at every look.
This rests on the services layer's rule: every change that can move a
figure gives the ticket a new ``updated_at`` (``core.now()``, in the
change's own transaction); a write that moved a figure and kept the stamp
would now wait for the nightly computation.

A change stamped before a check but committed more than :data:`MARGIN`
after it is invisible to the check and may stay so once ``checked_at`` moves
on; as a backstop the job (:func:`refresh`) computes every kept day again
once a night (its first run after :data:`NIGHTLY` local time), a fixed number
of queries.

:func:`ensure` computes the missing and stale days among those asked, in a
fixed number of queries whatever their number (a fresh install, a day just
closed, after the job: nothing); :func:`sums` reads the sums. The hourly job
(:func:`refresh`, scheduled by ``notifications.schedules``) keeps the last
:data:`KEEP_DAYS` ready so that the first dashboard of the morning does not
wait; without it the dashboard fills them itself.
"""

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction

from django.db import transaction
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from ..models import DailyFigures, EventKind, FiguresDay, Ticket, TicketEvent
from ..workflow import Status

#: A ticket change stamped this long before a check may still have been
#: uncommitted (invisible) then: it is looked at again by the next check.
MARGIN = timedelta(minutes=2)
#: Checked days are stamped again at most this often (a write per check otherwise).
RESTAMP = timedelta(minutes=5)
#: Closed days the daily job keeps ready (the dashboard's windows are 30 days).
KEEP_DAYS = 35
#: The local time after which the job computes every kept day again (once a
#: night: the days computed before it that day), late commits included.
NIGHTLY = timedelta(hours=3)
#: Every figure a row holds (sums add up over days and offices).
FIELDS = ("opened", "first_responses", "first_response_us", "resolved", "resolutions",
          "resolution_us", "ratings", "scored", "score_sum")
_US = timedelta(microseconds=1)
_NO_MOMENT = Value(None, output_field=DateTimeField())
_TICKET, _EVENT = Value(0, output_field=IntegerField()), Value(1, output_field=IntegerField())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def site_timezone():
    """The zone "today" and the daily buckets are counted in (``TIME_ZONE``)."""
    return timezone.get_default_timezone()


def local_date(moment):
    return timezone.localtime(moment, site_timezone()).date()


def start_of_day(day):
    """The aware instant a local calendar day begins."""
    return datetime.combine(day, time.min, tzinfo=site_timezone())


def duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def score():
    """A rating's score as a number (``None`` when it has none)."""
    return Cast(KeyTextTransform("score", "data"), FloatField())


def mean(total_us, count):
    """``total_us / count`` microseconds as a ``timedelta`` rounded to the
    microsecond (half to even, exactly: no float), ``None`` for no items."""
    if not count:
        return None
    return timedelta(microseconds=round(Fraction(int(total_us), int(count))))


def as_us(value):
    """A summed duration (``timedelta``, or microseconds) in microseconds."""
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return value // _US
    return int(value)


def stamp_us(moment):
    """``moment`` as whole microseconds since the epoch (what ``seen`` keeps)."""
    return as_us(moment - _EPOCH)


def ranges(days):
    """The consecutive runs of ``days`` as ``[(first, last)]``."""
    runs = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [tuple(run) for run in runs]


def in_days(field, days):
    """``field`` falls in one of the local ``days`` (one range per run)."""
    q = Q(pk__in=[])
    for first, last in ranges(days):
        q |= Q(**{f"{field}__gte": start_of_day(first),
                  f"{field}__lt": start_of_day(last + timedelta(days=1))})
    return q


def _compute(days):
    """Every office's figures of ``days``: ``{(day, office, type): {field: n}}``.
    Four grouped queries, whatever the number of days."""
    tz = site_timezone()
    tickets = Ticket.objects.exclude(status=Status.DRAFT).filter(office__isnull=False)
    rows = defaultdict(lambda: dict.fromkeys(FIELDS, 0))

    def grouped(queryset, field, *keys, **figures):
        return (queryset.filter(in_days(field, days))
                .annotate(day=TruncDate(field, tzinfo=tz))
                .values("day", *keys).annotate(**figures).order_by())

    for r in grouped(tickets, "submitted_at", "office_id", n=Count("pk")):
        rows[r["day"], r["office_id"], None]["opened"] = r["n"]
    for r in grouped(tickets.filter(submitted_at__isnull=False), "first_response_at",
                     "office_id", n=Count("pk"),
                     us=Sum(duration("first_response_at", "submitted_at"))):
        row = rows[r["day"], r["office_id"], None]
        row["first_responses"], row["first_response_us"] = r["n"], as_us(r["us"])
    timed = Q(submitted_at__isnull=False)
    for r in grouped(tickets.filter(status=Status.RESOLVED), "resolved_at", "office_id",
                     "resolution_type_id", n=Count("pk"), m=Count("pk", filter=timed),
                     us=Sum(duration("resolved_at", "submitted_at"), filter=timed)):
        row = rows[r["day"], r["office_id"], r["resolution_type_id"]]
        row["resolved"], row["resolutions"] = r["n"], r["m"]
        row["resolution_us"] = as_us(r["us"])
    ratings = (TicketEvent.objects.filter(kind=EventKind.RATING, ticket__office__isnull=False)
               .exclude(ticket__status=Status.DRAFT, ticket__opened_by_citizen=True))
    for r in grouped(ratings, "created_at", "ticket__office_id", n=Count("pk"),
                     scored=Count(score()), total=Sum(score())):
        row = rows[r["day"], r["ticket__office_id"], None]
        row["ratings"], row["scored"], row["score_sum"] = r["n"], r["scored"], r["total"] or 0
    return rows


def compute(days, seen=None):
    """Compute and store the figures of ``days`` (closed days), replacing
    what was there. ``seen``: ``{day: [change, …]}``, the changes a check
    found just before (committed, so in the figures; see the module's
    docstring). A fixed number of queries."""
    days = sorted(set(days))
    if not days:
        return
    seen = seen or {}
    stamp = timezone.now()  # before reading: a change meanwhile is found by the next check
    rows = _compute(days)
    zone = str(site_timezone())
    # Only the changes a later check can still meet (within MARGIN of this stamp).
    oldest = stamp_us(stamp - MARGIN)
    stamped = [FiguresDay(day=day, computed_at=stamp, checked_at=stamp, time_zone=zone,
                          seen=sorted(c for c in seen.get(day, ()) if c[2] >= oldest))
               for day in days]
    with transaction.atomic():
        FiguresDay.objects.bulk_create(stamped, ignore_conflicts=True)
        # One writer per day at a time: the rows are replaced under this lock.
        list(FiguresDay.objects.select_for_update().filter(day__in=days).values_list("day"))
        DailyFigures.objects.filter(day__in=days).delete()
        DailyFigures.objects.bulk_create([
            DailyFigures(day=day, office_id=office, resolution_type_id=kind, **figures)
            for (day, office, kind), figures in rows.items()
        ])
        FiguresDay.objects.bulk_update(stamped, ["computed_at", "checked_at", "time_zone", "seen"])


def _checked(days):
    """:func:`stale`'s work: ``(stale days, {day: changes seen})``. A change
    is ``[0, ticket id, stamp]`` (a ticket's ``updated_at``) or ``[1, event
    id, stamp]`` (a resolution or rating by its own ``created_at``), stamps in
    microseconds since the epoch."""
    days = sorted(set(days))
    if not days:
        return [], {}
    checked = timezone.now()
    zone = str(site_timezone())
    kept = {day: (at, {tuple(change) for change in seen}) for day, at, seen in (
        FiguresDay.objects.filter(day__in=days, time_zone=zone)
        .values_list("day", "checked_at", "seen"))}
    result = {day for day in days if day not in kept}
    found = defaultdict(set)
    if kept:
        since = min(at for at, _seen in kept.values()) - MARGIN
        first, last = min(kept), max(kept)
        span = {"gte": start_of_day(first), "lt": start_of_day(last + timedelta(days=1))}
        touched = Q(pk__in=[])
        for field in ("submitted_at", "first_response_at", "resolved_at"):
            touched |= Q(**{f"{field}__{op}": value for op, value in span.items()})
        changed = Ticket.objects.filter(touched, updated_at__gte=since).values_list(
            _TICKET, "pk", "updated_at", "submitted_at", "first_response_at",
            "resolved_at").order_by()
        events = TicketEvent.objects.filter(
            kind__in=[EventKind.RESOLVED, EventKind.RATING], ticket__updated_at__gte=since,
            created_at__gte=span["gte"], created_at__lt=span["lt"],
        ).values_list(_TICKET, "ticket_id", "ticket__updated_at", "created_at", _NO_MOMENT,
                      _NO_MOMENT).order_by()
        # A rating does not stamp its ticket: the events by their own stamp.
        recorded = TicketEvent.objects.filter(
            kind__in=[EventKind.RESOLVED, EventKind.RATING],
            created_at__gte=max(since, span["gte"]), created_at__lt=span["lt"],
        ).values_list(_EVENT, "pk", "created_at", "created_at", _NO_MOMENT,
                      _NO_MOMENT).order_by()
        for source, pk, updated, *when in changed.union(events, recorded, all=True):
            change = (source, pk, stamp_us(updated))
            for moment in when:
                day = moment and local_date(moment)
                if day in kept and updated >= kept[day][0] - MARGIN:
                    found[day].add(change)
                    if change not in kept[day][1]:
                        result.add(day)
        fresh = [day for day in kept if day not in result]
        if fresh and min(kept[day][0] for day in fresh) < checked - RESTAMP:
            # Only rows as read: a computation that wrote meanwhile keeps its stamp.
            unchanged = Q(pk__in=[])
            for day in fresh:
                unchanged |= Q(day=day, checked_at=kept[day][0])
            FiguresDay.objects.filter(unchanged).update(checked_at=checked)
    return sorted(result), found


def stale(days):
    """Among ``days``, those whose stored figures are missing, from another
    time zone, or may miss a ticket change (see the module's docstring).
    Two queries; now and then a third stamps the others as checked now."""
    return _checked(days)[0]


def ensure(days):
    """Make the stored figures of ``days`` (closed days) right: compute the
    missing and stale ones. Returns the days computed."""
    todo, seen = _checked(days)
    compute(todo, seen)
    return todo


def sums(days, offices=None):
    """The stored figures of ``days`` for ``offices`` (ids; ``None``: every
    office), added up per day: ``{day: {"all": {…}, "solved": {…}}}`` where
    ``solved`` adds up only the rows of resolution types that count as solved
    (read now). One query."""
    rows = DailyFigures.objects.filter(day__in=list(days))
    if offices is not None:
        rows = rows.filter(office_id__in=list(offices))
    rows = (rows.values("day", "resolution_type__counts_as_solved")
            .annotate(**{field: Sum(field) for field in FIELDS}).order_by())
    result = {}
    for r in rows:
        figures = result.setdefault(r["day"], {"all": dict.fromkeys(FIELDS, 0),
                                               "solved": dict.fromkeys(FIELDS, 0)})
        for field in FIELDS:
            figures["all"][field] += r[field] or 0
            if r["resolution_type__counts_as_solved"]:
                figures["solved"][field] += r[field] or 0
    return result


def closed_days(now, count=KEEP_DAYS):
    """The ``count`` closed days before ``now``'s local day, oldest first."""
    today = local_date(now)
    return [today - timedelta(days=n) for n in range(count, 0, -1)]


def refresh(now=None):
    """The hourly job: keep the last :data:`KEEP_DAYS` closed days ready, and
    once a night (after :data:`NIGHTLY`) compute them all again, whatever
    :func:`stale` says (the backstop for changes committed late). Returns the
    number of days computed."""
    now = now or timezone.now()
    days = closed_days(now)
    todo, seen = _checked(days)
    todo = set(todo)
    night = start_of_day(local_date(now)) + NIGHTLY
    if now >= night:
        todo |= set(FiguresDay.objects.filter(day__in=days, computed_at__lt=night)
                    .values_list("day", flat=True))
    compute(todo, seen)
    return len(todo)
