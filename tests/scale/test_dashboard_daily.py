"""The dashboard's closed days read from the daily figures (issue 20) give
exactly the figures counted live from the tickets: on a built history around
Europe/Rome's clock changes, for every scope a supervisor can see, after the
changes that move a ticket's past (a transfer, a reactivation, a rating), when
days are missing, and when the time zone changes. Runs on SQLite and PostgreSQL."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.admin import metrics
from wagtail_helpdesk.insight import daily
from wagtail_helpdesk.models import (
    DailyFigures,
    EventKind,
    FiguresDay,
    Ticket,
    TicketEvent,
)
from wagtail_helpdesk.services import rating
from wagtail_helpdesk.tickets.queries import visible_tickets

#: "now" of each history: the morning after spring forward (30 March 2025, a
#: 23-hour day inside every window); 00:30 in Rome two days after fall back
#: (26 October, a 25-hour day; the first day of the windows starts near
#: midnight); and the 25-hour day itself, in its repeated hour.
NOWS = [
    datetime(2025, 3, 31, 8, 0, tzinfo=UTC),
    datetime(2025, 10, 27, 23, 30, tzinfo=UTC),
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
]


def place(model, pk, **values):
    """Put a test row in time (tests only: the services stamp real time)."""
    model.objects.filter(pk=pk).update(**values)


def moments(now, rng):
    """Submission instants over the last 34 days: a third right around a
    local midnight or the windows' edges, the rest anywhere."""
    special = []
    for days in (7, 30):
        edge = now - timedelta(days=days)
        special += [edge - timedelta(minutes=1), edge + timedelta(minutes=1)]
    for back in (1, 2, 6, 15, 29, 31):
        midnight = daily.start_of_day(daily.local_date(now) - timedelta(days=back))
        special += [midnight - timedelta(seconds=1), midnight]
    rest = [now - timedelta(seconds=rng.randrange(34 * 24 * 3600)) for _ in range(32)]
    return special + rest


@pytest.fixture(params=NOWS, ids=["spring-forward", "after-fall-back", "fall-back-day"])
def history(request, factories):
    now = request.param
    rng = random.Random(20)
    offices = [factories.office(name) for name in ("Anagrafe", "Tributi", "Urbanistica")]
    supervisor = factories.supervisor(offices[0], offices[1])
    ops = [factories.operator(office) for office in offices]
    catalogue = [factories.service(office) for office in offices]
    solved = factories.resolution_type("risolta")
    not_ours = factories.resolution_type("non-di-competenza")
    tickets = []
    for i, submitted in enumerate(moments(now, rng)):
        n = i % 3
        ticket = factories.request_ticket(service_=catalogue[n])
        op, life = ops[n], i % 6
        stamps = {"submitted_at": submitted, "created_at": submitted}
        reply_after = timedelta(seconds=rng.randrange(1, 4 * 24 * 3600))
        close_after = reply_after + timedelta(seconds=rng.randrange(0, 6 * 24 * 3600))
        if life in (1, 4):
            ticket = services.reply(ticket, op, "Buongiorno")
            stamps["first_response_at"] = submitted + reply_after
        elif life in (2, 3):
            kind = solved if life == 2 else not_ours
            ticket = services.resolve(services.reply(ticket, op, "Ok"), op, kind, "Fatto")
            stamps |= {"first_response_at": submitted + reply_after,
                       "resolved_at": submitted + close_after}
            resolved = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RESOLVED).get()
            place(TicketEvent, resolved.pk, created_at=stamps["resolved_at"])
            if i % 4 != 3:  # most are rated, an hour later
                event = rating.rate(ticket.pk, resolved.pk, 1 + i % 5)
                place(TicketEvent, event.pk, created_at=stamps["resolved_at"] + timedelta(hours=1))
        elif life == 5:
            ticket = services.mark_waiting(services.take_charge(ticket, op), op,
                                           message="Serve il documento")
        if i % 11 == 0:  # no office, created by the supervisor: theirs alone
            stamps |= {"office": None, "created_by": supervisor}
        # (a reply or a resolution after "now" keeps the services' real time)
        place(Ticket, ticket.pk, **{k: v for k, v in stamps.items()
                                    if not isinstance(v, datetime) or v <= now})
        tickets.append(Ticket.objects.get(pk=ticket.pk))
    # The history was written a while ago (the services stamp real time).
    Ticket.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    # A draft is never counted.
    draft = factories.request_ticket(ops[0], service_=catalogue[0], draft=True)
    place(Ticket, draft.pk, created_at=now - timedelta(days=3))
    admin = factories.administrator()
    return {"now": now, "offices": offices, "supervisor": supervisor, "admin": admin,
            "ops": ops, "tickets": tickets, "solved": solved}


def scopes(h):
    """(tickets, office ids) of every dashboard scope: everything, a
    supervisor's two offices and own tickets without one, one office."""
    a, b, c = h["offices"]
    return {
        "every office": (visible_tickets(h["admin"], "dashboard"), None),
        "supervisor": (visible_tickets(h["supervisor"], "dashboard"), {a.pk, b.pk}),
        "one office": (visible_tickets(h["admin"], "dashboard").filter(office=c), {c.pk}),
    }


def assert_same_figures(h):
    for name, (tickets, offices) in scopes(h).items():
        live = metrics.snapshot(tickets, h["now"])
        kept = metrics.snapshot(tickets, h["now"], offices=offices)
        assert kept == live, name


def test_kept_figures_equal_the_live_ones(history):
    h = history
    assert not FiguresDay.objects.exists()
    assert_same_figures(h)
    # Not a vacuous comparison: the closed days were read from stored rows,
    # and they hold real figures.
    assert FiguresDay.objects.count() >= 29
    assert DailyFigures.objects.filter(opened__gt=0).count() >= 15
    assert DailyFigures.objects.filter(ratings__gt=0).exists()
    assert DailyFigures.objects.filter(first_responses__gt=0).exists()
    live = metrics.snapshot(Ticket.objects.all(), h["now"])
    month = live["response_times"][30]
    assert month["first_response_count"] >= 8 and month["resolution_count"] >= 3
    assert live["satisfaction"]["count"] >= 3
    assert sum(day["opened"] for day in live["series"]) >= 25


def test_changes_to_past_tickets_are_followed(history):
    h = history
    now, (a, _b, c) = h["now"], h["offices"]
    assert_same_figures(h)
    # A ticket of Anagrafe submitted days ago goes to Urbanistica…
    moved = next(t for t in h["tickets"] if t.office_id == a.pk and t.status != "resolved"
                 and daily.local_date(t.submitted_at) < daily.local_date(now) - timedelta(days=2))
    services.transfer(moved, h["admin"], c)
    # … a resolved one (resolved on a closed day, rated) is reactivated…
    reopened = next(t for t in h["tickets"] if t.status == "resolved" and t.office_id
                    and daily.local_date(t.resolved_at) < daily.local_date(now)
                    and TicketEvent.objects.filter(ticket=t, kind=EventKind.RATING).exists())
    services.reopen(reopened, h["admin"])
    # … and the kept days they touch are now known to be stale, those only.
    kept = sorted(FiguresDay.objects.values_list("day", flat=True))
    touched = {daily.local_date(moment) for t in (moved, reopened)
               for moment in (t.submitted_at, t.first_response_at, t.resolved_at)
               if moment} | {daily.local_date(e.created_at) for e in TicketEvent.objects.filter(
                   ticket=reopened, kind__in=[EventKind.RESOLVED, EventKind.RATING])}
    stale = set(daily.stale(kept))
    assert {daily.local_date(moved.submitted_at), daily.local_date(reopened.resolved_at)} <= stale
    assert stale <= touched
    assert_same_figures(h)
    # Within MARGIN of a change its days are looked at again (a transaction
    # may have been running); never others.
    assert set(daily.stale(kept)) <= touched


def _days_of(ticket):
    ticket = Ticket.objects.get(pk=ticket.pk)
    return {daily.local_date(moment) for moment in
            (ticket.submitted_at, ticket.first_response_at, ticket.resolved_at) if moment}


def test_a_change_seen_by_a_check_is_computed_once_not_at_every_look(history):
    h = history
    now, (a, _b, c) = h["now"], h["offices"]
    kept = daily.closed_days(now)
    assert_same_figures(h)
    daily.ensure(kept)  # the kept days the windows do not read, too
    moved = next(t for t in h["tickets"] if t.office_id == a.pk and t.status != "resolved"
                 and daily.local_date(t.submitted_at) < daily.local_date(now) - timedelta(days=2))
    services.transfer(moved, h["admin"], c)
    days = _days_of(moved)
    assert set(daily.ensure(kept)) == days
    # Still within MARGIN of the change, the next looks compute nothing: the
    # check that computed its days had seen it (a dashboard refreshing every
    # minute after a busy desk's changes to last week's tickets).
    assert daily.ensure(kept) == []
    assert daily.stale(kept) == []
    stamp = (Ticket.objects.get(pk=moved.pk).updated_at - daily._EPOCH) // timedelta(
        microseconds=1)
    for day in days:
        assert [0, moved.pk, stamp] in FiguresDay.objects.get(day=day).seen
    assert_same_figures(h)
    # A new change to the same ticket is a new reason, for its days only.
    services.reply(Ticket.objects.get(pk=moved.pk), h["ops"][2], "Ci pensiamo noi")
    assert set(daily.stale(kept)) == days
    assert set(daily.ensure(kept)) == days
    assert daily.ensure(kept) == []
    assert_same_figures(h)


def test_a_change_committed_after_the_check_that_computed_its_day_is_found(history):
    h = history
    now, (a, _b, c) = h["now"], h["offices"]
    kept = daily.closed_days(now)
    daily.ensure(kept)
    moved = next(t for t in h["tickets"] if t.office_id == a.pk and t.status != "resolved"
                 and daily.local_date(t.submitted_at) < daily.local_date(now) - timedelta(days=2))
    services.reply(Ticket.objects.get(pk=moved.pk), h["ops"][0], "Un momento")
    day = daily.local_date(moved.submitted_at)
    assert daily.ensure(kept) == [day]  # (its first response is today's)
    assert daily.stale(kept) == []
    # A transfer stamped 30 s before that check, committed only now: the check
    # could not see it, so the next one computes its day again.
    checked = FiguresDay.objects.get(day=day).checked_at
    place(Ticket, moved.pk, office=c, updated_at=checked - timedelta(seconds=30))
    assert daily.stale(kept) == [day]
    assert_same_figures(h)


def test_a_day_keeps_only_the_changes_a_later_check_can_meet(history):
    day = daily.closed_days(history["now"])[-1]
    now_us = (timezone.now() - daily._EPOCH) // timedelta(microseconds=1)
    old_us = now_us - (daily.MARGIN + timedelta(seconds=1)) // timedelta(microseconds=1)
    daily.compute([day], {day: {(0, 7, old_us), (1, 8, now_us), (0, 9, now_us - 1)}})
    assert FiguresDay.objects.get(day=day).seen == [[0, 9, now_us - 1], [1, 8, now_us]]


def test_a_dashboard_after_a_change_costs_what_it_did_before(history):
    h = history
    tickets, offices = scopes(h)["supervisor"]
    metrics.snapshot(tickets, h["now"], offices=offices)
    with CaptureQueriesContext(connection) as quiet:
        metrics.snapshot(tickets, h["now"], offices=offices)
    a = h["offices"][0]
    moved = next(t for t in h["tickets"] if t.office_id == a.pk and t.status != "resolved"
                 and daily.local_date(t.submitted_at) < daily.local_date(h["now"]))
    services.reply(Ticket.objects.get(pk=moved.pk), h["ops"][0], "Un momento")
    with CaptureQueriesContext(connection) as first:
        metrics.snapshot(tickets, h["now"], offices=offices)
    with CaptureQueriesContext(connection) as second:
        metrics.snapshot(tickets, h["now"], offices=offices)
    assert len(first) > len(quiet)  # the touched day computed, once
    assert len(second) == len(quiet), [q["sql"][:80] for q in second.captured_queries]


def test_missing_days_are_filled_and_only_them(history):
    h = history
    tickets, offices = scopes(h)["supervisor"]
    expected = metrics.snapshot(tickets, h["now"])
    metrics.snapshot(tickets, h["now"], offices=offices)
    # Lose three days (as if the job had not run then): they are computed
    # again, the others are left as they are.
    lost = daily.closed_days(h["now"])[-10:-7]
    FiguresDay.objects.filter(day__in=lost).delete()
    DailyFigures.objects.filter(day__in=lost).delete()
    kept = set(FiguresDay.objects.values_list("day", "computed_at"))
    assert metrics.snapshot(tickets, h["now"], offices=offices) == expected
    again = set(FiguresDay.objects.values_list("day", "computed_at"))
    assert kept <= again
    assert {day for day, _at in again - kept} == set(lost)


def test_another_time_zone_recomputes_every_day(history, settings):
    h = history
    metrics.snapshot(Ticket.objects.all(), h["now"], offices=None)
    settings.TIME_ZONE = "America/New_York"
    assert set(daily.stale(daily.closed_days(h["now"]))) == set(daily.closed_days(h["now"]))
    assert_same_figures(h)


def test_a_rating_today_and_a_solved_type_changed_later(history):
    h = history
    assert_same_figures(h)
    # Whether a resolution type counts as solved is read when shown.
    h["solved"].counts_as_solved = False
    h["solved"].save()
    assert_same_figures(h)
    # A ticket resolved and rated now (today: counted live).
    op = h["ops"][0]
    ticket = next(t for t in h["tickets"] if t.office_id == h["offices"][0].pk
                  and t.status == "new")
    ticket = services.resolve(services.take_charge(ticket, op), op, h["solved"], "Fatto")
    event = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.RESOLVED).last()
    rating.rate(ticket.pk, event.pk, 5)
    assert_same_figures(h)


def test_queries_do_not_grow_with_days_or_tickets(history):
    h = history
    closed = daily.closed_days(h["now"])
    with CaptureQueriesContext(connection) as few:
        daily.compute(closed[-2:])
    with CaptureQueriesContext(connection) as many:
        daily.compute(closed)
    assert len(many) == len(few), [q["sql"][:60] for q in many.captured_queries]
    tickets, offices = scopes(h)["supervisor"]
    metrics.snapshot(tickets, h["now"], offices=offices)
    with CaptureQueriesContext(connection) as warm:
        metrics.snapshot(tickets, h["now"], offices=offices)
    # Checking the kept days and reading them: two queries (and the day stamps).
    table = DailyFigures._meta.db_table
    assert sum(table in q["sql"] for q in warm.captured_queries) == 1
    assert len(warm) <= 16, [q["sql"][:80] for q in warm.captured_queries]


def test_ratings_without_a_score_count_but_do_not_average(factories):
    """As before the daily figures: the average is over the ratings with a
    score, the count over all of them; kept days add up the same way."""
    office = factories.office()
    op = factories.operator(office)
    ticket = factories.request_ticket(service_=factories.service(office))
    ticket = services.resolve(services.take_charge(ticket, op), op,
                              factories.resolution_type(), "Fatto")
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.RESOLVED)
    rated = rating.rate(ticket.pk, event.pk, 4)
    TicketEvent.objects.create(ticket=ticket, kind=EventKind.RATING, data={},
                               created_at=rated.created_at)
    now = timezone.now()
    assert metrics.satisfaction(Ticket.objects.all(), now) == {
        "average": 4.0, "count": 2, "days": 30}
    # Two days later the rating day is a kept one.
    later = now + timedelta(days=2)
    Ticket.objects.update(updated_at=now - timedelta(hours=1))
    history = metrics.History(Ticket.objects.all(), later, {office.pk})
    assert metrics.satisfaction(Ticket.objects.all(), later, history=history) == {
        "average": 4.0, "count": 2, "days": 30}
    assert DailyFigures.objects.get(ratings__gt=0).scored == 1


def test_the_page_shows_the_live_figures(client, factories):
    """The dashboard page, for a supervisor (two offices and a ticket of
    their own without one) and for one office: the figures it shows are the
    ones counted live."""
    a, b, c = (factories.office(name) for name in ("Anagrafe", "Tributi", "Urbanistica"))
    boss = factories.supervisor(a, b)
    solved = factories.resolution_type("risolta")
    real_now = timezone.now()
    for i, office in enumerate([a, b, c] * 4):
        op = factories.operator(office)
        ticket = services.resolve(
            services.reply(factories.request_ticket(service_=factories.service(office)), op,
                           "Ok"), op, solved, "Fatto")
        back = timedelta(days=1 + 2 * i, hours=i)
        place(Ticket, ticket.pk, submitted_at=real_now - back - timedelta(hours=5),
              first_response_at=real_now - back - timedelta(hours=2), resolved_at=real_now - back,
              **({"office": None, "created_by": boss} if i == 4 else {}))
    Ticket.objects.update(updated_at=real_now - timedelta(hours=1))
    client.force_login(boss)
    for params in ({}, {"office": a.pk}):
        response = client.get(reverse("wagtail_helpdesk_dashboard"), params)
        shown = response.context["figures"]
        tickets = visible_tickets(boss, "dashboard")
        if params:
            tickets = tickets.filter(office=a)
        live = metrics.snapshot(tickets, shown["now"])
        # (the operators' rows are counted live either way, with the members)
        assert {**shown, "operators": None} == {**live, "operators": None}, params
        assert shown["response_times"][30]["resolution_count"] >= 3
    assert FiguresDay.objects.count() >= 29


def _late_rating(h, created_at):
    """A rating of ``created_at`` (yesterday, local) committed after the
    kept days were checked just past midnight: its ticket is not stamped (a
    rating never stamps it) and every other change is older than the check."""
    now = h["now"]
    midnight = daily.start_of_day(daily.local_date(now))
    yesterday = daily.closed_days(now)[-1]
    assert daily.local_date(created_at) == yesterday
    daily.compute(daily.closed_days(now))  # every kept day there
    before = daily.sums([yesterday]).get(yesterday, {"all": {"ratings": 0}})["all"]["ratings"]
    ticket = next(t for t in h["tickets"] if t.status == "resolved" and t.office_id)
    FiguresDay.objects.update(computed_at=midnight + timedelta(seconds=30),
                              checked_at=midnight + timedelta(seconds=30))
    Ticket.objects.update(updated_at=midnight - timedelta(hours=1))
    TicketEvent.objects.create(ticket=ticket, kind=EventKind.RATING, data={"score": 5},
                               created_at=created_at)
    return yesterday, before


def test_a_rating_committed_after_the_check_is_found_by_its_own_stamp(history):
    h = history
    midnight = daily.start_of_day(daily.local_date(h["now"]))
    # Rated at 23:59:59, committed after the check of 00:00:30 (within MARGIN).
    yesterday, before = _late_rating(h, midnight - timedelta(seconds=1))
    assert daily.stale(daily.closed_days(h["now"])) == [yesterday]
    assert_same_figures(h)
    assert daily.sums([yesterday])[yesterday]["all"]["ratings"] == before + 1


def test_the_nightly_job_computes_every_kept_day_again(history):
    h = history
    midnight = daily.start_of_day(daily.local_date(h["now"]))
    # Rated at 23:50, committed more than MARGIN after the check: no check
    # can see it any more…
    yesterday, before = _late_rating(h, midnight - timedelta(minutes=10))
    closed = daily.closed_days(h["now"])
    assert daily.stale(closed) == []
    assert daily.sums([yesterday])[yesterday]["all"]["ratings"] == before
    # … an hourly run before the night's hour leaves the days as they are…
    assert daily.refresh(midnight + daily.NIGHTLY - timedelta(minutes=5)) == 0
    assert daily.sums([yesterday])[yesterday]["all"]["ratings"] == before
    # … the first one after it computes them all again, then not until the next night.
    after = midnight + daily.NIGHTLY + timedelta(minutes=30)
    assert daily.refresh(after) == daily.KEEP_DAYS
    assert daily.sums([yesterday])[yesterday]["all"]["ratings"] == before + 1
    assert daily.refresh(after + timedelta(hours=1)) == 0
    assert_same_figures(h)


def test_the_row_without_an_office_is_last_on_every_database(history):
    h = history
    tickets = visible_tickets(h["admin"], "dashboard")
    assert tickets.filter(office__isnull=True, status__in=["new", "in_progress",
                                                           "waiting"]).exists()
    for offices in (False, None):  # counted per office live, and from the one scan
        rows = metrics.snapshot(tickets, h["now"], offices=offices)["offices"]
        assert rows[-1]["office_id"] is None and rows[-1]["name"] is None, offices
        named = [row["name"] for row in rows[:-1]]
        assert named == sorted(named) and None not in named, offices
        assert len(named) == 3, offices
