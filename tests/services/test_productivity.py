"""The operator's own figures ("La mia attività") computed on fixed data: the
work is done through the services at set times (the clock is pinned), then
every figure is checked — with the day boundaries of Europe/Rome, a day when
the clocks change, the median and the work of colleagues left out. Runs on
SQLite and on PostgreSQL."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.insight import productivity
from wagtail_helpdesk.models import Channel, EventKind, TicketEvent
from wagtail_helpdesk.services import conversations, rating

#: Wednesday 12 March 2025 in Rome is 11 March 23:00 to 12 March 23:00 UTC (CET).
DAY = date(2025, 3, 12)


def at(hour, minute=0, day=12, month=3):
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


class Clock:
    def __init__(self, monkeypatch):
        self.now = at(7)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def set(self, moment):
        self.now = moment
        return moment


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def desk(factories, clock):
    office = factories.office("Tributi", email="")
    other_office = factories.office("Anagrafe", email="")
    return {
        "office": office,
        "service": factories.service(office),
        "other_service": factories.service(other_office),
        "op": factories.operator(office, first_name="Luca"),
        "colleague": factories.operator(office, first_name="Anna"),
        "outsider": factories.operator(other_office, first_name="Piero"),
        "resolution": factories.resolution_type(),
    }


def ticket(factories, clock, desk, when, *, service=None, channel=Channel.WEB):
    clock.set(when)
    return factories.request_ticket(service_=service or desk["service"], channel=channel)


def rate(clock, when, t, score):
    clock.set(when)
    resolved = TicketEvent.objects.filter(ticket=t, kind=EventKind.RESOLVED).latest("pk")
    return rating.rate(t.pk, resolved.pk, score)


@pytest.fixture
def workday(factories, clock, desk):
    """Luca's Wednesday, with Anna's and Piero's work around it."""
    op, colleague, outsider = desk["op"], desk["colleague"], desk["outsider"]
    # t1: taken at 10:00 (Rome), answered 10:30 (1 h 30 after submission), again, resolved.
    t1 = ticket(factories, clock, desk, at(8))
    clock.set(at(9))
    services.take_charge(t1, op)
    clock.set(at(9, 30))
    services.reply(t1, op, "Le rispondo")
    clock.set(at(10))
    services.reply(t1, op, "Ecco il modulo")
    clock.set(at(11))
    services.resolve(t1, op, desk["resolution"], "Fatto")
    rate(clock, at(15), t1, 4)
    # t2: a reply to a pending ticket takes it in charge: first response after 4 h.
    t2 = ticket(factories, clock, desk, at(8), channel=Channel.EMAIL)
    clock.set(at(12))
    services.reply(t2, op, "Buongiorno")
    # t3: assigned to himself, but Anna answered first (not his first response).
    t3 = ticket(factories, clock, desk, at(8), channel=Channel.PHONE)
    clock.set(at(9))
    services.assign(t3, op, op)
    clock.set(at(9, 10))
    services.reply(t3, colleague, "Intanto le dico")
    clock.set(at(9, 20))
    services.reply(t3, op, "Confermo")
    # t4: Luca assigns it to Anna: neither of them took it in charge.
    t4 = ticket(factories, clock, desk, at(8))
    clock.set(at(9))
    services.assign(t4, op, colleague)
    clock.set(at(13))
    services.reply(t4, colleague, "Ci penso io")
    clock.set(at(14))
    services.resolve(t4, colleague, desk["resolution"], "Fatto")
    rate(clock, at(16), t4, 1)  # Anna's rating, not Luca's
    # t5: his first response after 6 h, with a question (waiting for the citizen).
    t5 = ticket(factories, clock, desk, at(8))
    clock.set(at(9))
    services.take_charge(t5, op)
    clock.set(at(14))
    services.mark_waiting(t5, op, message="Mi manda il documento?")
    # Another office's operator works too.
    t6 = ticket(factories, clock, desk, at(8), service=desk["other_service"])
    clock.set(at(9))
    services.reply(t6, outsider, "Altro ufficio")
    # The evening before (23:30 in Rome on Tuesday) and the night after
    # (00:10 on Thursday): not Wednesday's.
    t7 = ticket(factories, clock, desk, at(20, day=11))
    clock.set(at(22, 30, day=11))
    services.reply(t7, op, "Tardi")
    clock.set(at(23, 10))
    services.resolve(t7, op, desk["resolution"], "Chiusa")
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5}


def test_each_figure_of_the_day(workday, desk):
    figures = productivity.day_figures(productivity.personal(desk["op"]), DAY)
    assert figures["taken"] == 4  # t1, t5, t2 (by replying), t3 (assigned to himself)
    assert figures["replies"] == 4  # t1 twice, t2, t3 (t5's question is no reply)
    assert figures["resolved"] == 1
    assert figures["chat_messages"] == 0 and figures["chats"] == 0
    # First responses: t1 1 h 30, t2 4 h, t5 6 h (t3's was Anna's).
    assert figures["first_response_count"] == 3
    assert figures["first_response"] == timedelta(hours=4)
    assert figures["satisfaction"] == {"average": 4.0, "count": 1}


def test_colleagues_work_is_theirs(workday, desk):
    anna = productivity.day_figures(productivity.personal(desk["colleague"]), DAY)
    assert (anna["taken"], anna["replies"], anna["resolved"]) == (0, 2, 1)
    assert anna["first_response_count"] == 2  # t3 after 1 h 10, t4 after 5 h
    assert anna["first_response"] == timedelta(hours=3, minutes=5)  # the mean of two
    assert anna["satisfaction"] == {"average": 1.0, "count": 1}


def test_the_day_before_and_after_are_apart(workday, desk):
    scope = productivity.personal(desk["op"])
    tuesday = productivity.day_figures(scope, date(2025, 3, 11))
    assert (tuesday["replies"], tuesday["taken"], tuesday["resolved"]) == (1, 1, 0)
    assert tuesday["first_response"] == timedelta(hours=2, minutes=30)
    thursday = productivity.day_figures(scope, date(2025, 3, 13))
    assert (thursday["replies"], thursday["resolved"]) == (0, 1)


def test_office_figures_count_the_office_staff_only(workday, desk):
    office = productivity.day_figures(productivity.offices([desk["office"].pk]), DAY)
    assert office["taken"] == 4  # Luca's four (t4 was assigned to Anna by him)
    assert office["replies"] == 6
    assert office["resolved"] == 2
    assert office["satisfaction"] == {"average": 2.5, "count": 2}
    assert office["first_response_count"] == 5
    everything = productivity.day_figures(productivity.offices(), DAY)
    assert everything["replies"] == 7  # with the other office's


def test_per_operator_rows(workday, desk):
    members = desk["office"].members.all()
    rows = productivity.per_operator(productivity.offices([desk["office"].pk]), DAY, members)
    by_name = {row["name"]: row for row in rows}
    assert list(by_name) == [desk["colleague"].get_full_name(), desk["op"].get_full_name()]
    luca = by_name[desk["op"].get_full_name()]
    assert (luca["taken"], luca["replies"], luca["resolved"]) == (4, 4, 1)
    assert luca["first_response"] == timedelta(hours=4)
    assert luca["satisfaction"] == {"average": 4.0, "count": 1}
    assert desk["outsider"].pk not in {row["user_id"] for row in rows}


def test_week_by_day_and_by_channel(workday, desk):
    scope = productivity.personal(desk["op"])
    week = productivity.week_by_day(scope, DAY)
    assert [row["day"] for row in week] == [date(2025, 3, 10) + timedelta(days=n)
                                             for n in range(7)]
    counts = {row["day"]: (row["taken"], row["replies"], row["resolved"]) for row in week}
    assert counts[date(2025, 3, 11)] == (1, 1, 0)
    assert counts[DAY] == (4, 4, 1)
    assert counts[date(2025, 3, 13)] == (0, 0, 1)
    assert counts[date(2025, 3, 10)] == (0, 0, 0)
    channels = {row["channel"]: row for row in productivity.week_by_channel(scope, DAY)}
    assert set(channels) == {Channel.WEB, Channel.EMAIL, Channel.PHONE}
    assert channels[Channel.WEB]["tickets"] == 3  # t1, t5, t7 (t4 only assigned away)
    assert channels[Channel.EMAIL]["replies"] == 1
    assert channels[Channel.PHONE]["taken"] == 1
    assert channels[Channel.WEB]["label"] == "Website"


def test_a_day_when_the_clocks_go_forward(factories, clock, desk):
    """Sunday 30 March 2025 lasts 23 hours in Rome: 29 March 23:00 UTC to 30 March 22:00 UTC."""
    op = desk["op"]
    moments = [at(22, 50, day=29), at(23, 10, day=29), at(21, 50, day=30), at(22, 10, day=30)]
    for moment in moments:
        t = ticket(factories, clock, desk, moment - timedelta(minutes=5))
        clock.set(moment)
        services.reply(t, op, "Risposta")
    scope = productivity.personal(op)
    assert [productivity.day_figures(scope, date(2025, 3, d))["replies"]
            for d in (29, 30, 31)] == [1, 2, 1]
    week = {row["day"]: row["replies"] for row in productivity.week_by_day(scope,
                                                                             date(2025, 3, 30))}
    assert week[date(2025, 3, 29)] == 1 and week[date(2025, 3, 30)] == 2


def test_chats_handled_and_their_messages(factories, clock, desk):
    op, colleague = desk["op"], desk["colleague"]
    clock.set(at(9))
    c = conversations.start(service=desk["service"], body="Buongiorno",
                            person={"given_name": "Maria", "family_name": "Rossi",
                                    "email": "maria@example.org"})
    clock.set(at(9, 5))
    conversations.accept(c, op)
    clock.set(at(9, 6))
    conversations.send(c, op, "Mi dica", "o-1")
    clock.set(at(9, 7))
    conversations.send(c, conversations.citizen_actor(c), "Grazie", "c-1")
    clock.set(at(9, 8))
    conversations.send(c, op, "Ecco", "o-2")
    clock.set(at(9, 30))
    conversations.close(c, op, desk["resolution"], "Risolta in chat")
    clock.set(at(9, 40))
    conversations.rate(c, conversations.citizen_actor(c), 5)
    mine = productivity.day_figures(productivity.personal(op), DAY)
    assert mine["chats"] == 1
    assert mine["chat_messages"] == 2
    assert mine["taken"] == 0  # accepting a chat is counted as a chat, not a ticket taken
    assert mine["resolved"] == 1
    assert mine["first_response"] == timedelta(minutes=6)
    assert mine["satisfaction"] == {"average": 5.0, "count": 1}
    assert productivity.day_figures(productivity.personal(colleague), DAY)["chats"] == 0


def test_the_median_of_an_even_count_and_of_nothing():
    t = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [(1, t + timedelta(hours=1), t), (2, t + timedelta(hours=3), t),
            (2, t + timedelta(hours=9), t)]  # a ticket counts once: its first row
    assert productivity._median(rows) == (timedelta(hours=2), 2)
    assert productivity._median([]) == (None, 0)


def test_the_number_of_queries_does_not_grow_with_the_events(factories, clock, desk):
    scope = productivity.personal(desk["op"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            productivity.day_figures(scope, DAY)
            productivity.week_by_day(scope, DAY)
            productivity.week_by_channel(scope, DAY)
        return len(ctx.captured_queries)

    before = count()
    for hour in range(8, 14):
        t = ticket(factories, clock, desk, at(hour))
        clock.set(at(hour, 30))
        services.reply(t, desk["op"], "Risposta")
    assert count() == before == 5


def test_the_default_comparison_is_the_same_weekday_last_week():
    assert productivity.default_comparison(DAY) == date(2025, 3, 5)
    assert productivity.week_of(date(2025, 3, 16))[0] == date(2025, 3, 10)


def test_people_by_day_counts_who_worked_in_scope_by_local_day(factories, clock, desk):
    """Who worked (counted actions, status changes, notes) on each day asked,
    by the site's local day; citizens, the system and other offices not."""
    t = ticket(factories, clock, desk, at(8))
    clock.set(at(9))
    services.reply(t, desk["op"], "Risposta")
    clock.set(at(10))
    services.add_note(t, desk["colleague"], "Nota")
    clock.set(at(22, 30, day=11))  # 23:30 in Rome: still the 11th
    services.add_note(t, desk["op"], "Ieri sera")
    theirs = ticket(factories, clock, desk, at(9), service=desk["other_service"])
    services.reply(theirs, desk["outsider"], "Risposta")
    office = productivity.offices([desk["office"].pk])
    with CaptureQueriesContext(connection) as ctx:
        people = productivity.people_by_day(office, [DAY, DAY - timedelta(days=1),
                                                     DAY - timedelta(days=7)])
    assert len(ctx.captured_queries) == 1
    assert people == {DAY: frozenset({desk["op"].pk, desk["colleague"].pk}),
                      DAY - timedelta(days=1): frozenset({desk["op"].pk}),
                      DAY - timedelta(days=7): frozenset()}
    everyone = productivity.people_by_day(productivity.offices(), [DAY])
    assert everyone[DAY] == {desk["op"].pk, desk["colleague"].pk, desk["outsider"].pk}
    assert productivity.MIN_PEOPLE == 2
