"""A hand-built month (February 2025, Rome time) for the overviews' tests.

Office "Anagrafe" (in scope) and "Tributi" (out of scope). Timestamps are set
directly on the rows (tests only: the services stamp real time)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from wagtail_helpdesk.models import Channel, EventKind, Ticket, TicketEvent
from wagtail_helpdesk.workflow import Status

START, END = date(2025, 2, 1), date(2025, 2, 28)


def at(month, day, hour=10, year=2025):
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def place(ticket, **fields):
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


def event(ticket, kind, when, **data):
    return TicketEvent.objects.create(ticket=ticket, kind=kind, created_at=when, data=data)


@pytest.fixture
def month(factories):
    anagrafe, tributi = factories.office("Anagrafe"), factories.office("Tributi")
    s1 = factories.service(anagrafe, name="Carta d'identità")
    s2 = factories.service(anagrafe, name="Residenza")
    c1 = factories.report_category(anagrafe, name="Buche stradali")
    other = factories.service(tributi, name="TARI")
    resolved = {"status": Status.RESOLVED, "resolution_type": factories.resolution_type()}

    # 1: web request, answered in 2 h, resolved in 24 h within its deadline; rated 5.
    t1 = factories.request_ticket(service_=s1, channel=Channel.WEB)
    place(t1, submitted_at=at(2, 3), first_response_at=at(2, 3, 12), resolved_at=at(2, 4),
          due_at=at(2, 5), **resolved)
    event(t1, EventKind.RESOLVED, at(2, 4))
    event(t1, EventKind.RATING, at(2, 15), score=5)
    # 2: phone request, answered in 4 h, resolved in 96 h, late; rated 3.
    t2 = factories.request_ticket(service_=s2, channel=Channel.PHONE)
    place(t2, submitted_at=at(2, 10, 9), first_response_at=at(2, 10, 13),
          resolved_at=at(2, 14, 9), due_at=at(2, 12, 9), **resolved)
    event(t2, EventKind.RESOLVED, at(2, 14, 9))
    event(t2, EventKind.RATING, at(2, 16), score=3)
    # 3 and 4: reports in the same 250 m square of via Roma, still open.
    t3 = factories.report_ticket(category=c1, channel=Channel.WEB, latitude="45.464200",
                                 longitude="9.190000", address="Via Roma 12, Milano")
    place(t3, submitted_at=at(2, 20, 8), first_response_at=at(2, 20, 14), due_at=at(2, 25),
          status=Status.IN_PROGRESS)
    t4 = factories.report_ticket(category=c1, channel=Channel.EMAIL, latitude="45.464300",
                                 longitude="9.190100", address="Via Roma 14, Milano")
    place(t4, submitted_at=at(2, 21), status=Status.NEW, due_at=at(3, 10))
    # 5: a report far away (another square), open, with another street.
    t5 = factories.report_ticket(category=c1, channel=Channel.WEB, latitude="45.480000",
                                 longitude="9.220000", address="Piazza Duomo 1, Milano")
    place(t5, submitted_at=at(2, 25), status=Status.NEW)
    # 6: submitted in January, open at the start, resolved on 5 February (late).
    t6 = factories.request_ticket(service_=s1, channel=Channel.WEB)
    place(t6, submitted_at=at(1, 20), first_response_at=at(1, 21), resolved_at=at(2, 5),
          due_at=at(1, 25), **resolved)
    event(t6, EventKind.RESOLVED, at(2, 5))
    # 7: resolved in January, reactivated in January: open at the start and the end.
    t7 = factories.request_ticket(service_=s1, channel=Channel.DESK)
    place(t7, submitted_at=at(1, 10), resolved_at=None, status=Status.IN_PROGRESS)
    event(t7, EventKind.RESOLVED, at(1, 15))
    event(t7, EventKind.REOPENED, at(1, 25))
    # 8: resolved in January, reactivated and resolved again in February:
    # closed at the start (its last event before it is "resolved"), closed at the end.
    t8 = factories.request_ticket(service_=s1, channel=Channel.DESK)
    place(t8, submitted_at=at(1, 10), first_response_at=at(1, 11), resolved_at=at(2, 12),
          **resolved)
    event(t8, EventKind.RESOLVED, at(1, 15))
    event(t8, EventKind.REOPENED, at(2, 10))
    event(t8, EventKind.RESOLVED, at(2, 12))
    # 9: resolved for good in January: closed all along.
    t9 = factories.request_ticket(service_=s1, channel=Channel.WEB)
    place(t9, submitted_at=at(1, 5), resolved_at=at(1, 6), **resolved)
    event(t9, EventKind.RESOLVED, at(1, 6))
    # 10: another office's ticket, in the period: never counted.
    t10 = factories.request_ticket(service_=other, channel=Channel.API)
    place(t10, submitted_at=at(2, 11), first_response_at=at(2, 11, 11))
    event(t10, EventKind.RATING, at(2, 15), score=1)
    # 11: submitted on 28 February at 23:30 Rome time (22:30 UTC): in the period;
    # 12: on 1 March at 00:30 Rome time (28 February 23:30 UTC): not in it.
    t11 = factories.request_ticket(service_=s2, channel=Channel.WEB)
    place(t11, submitted_at=datetime(2025, 2, 28, 22, 30, tzinfo=UTC))
    t12 = factories.request_ticket(service_=s2, channel=Channel.WEB)
    place(t12, submitted_at=datetime(2025, 2, 28, 23, 30, tzinfo=UTC))
    # A rating after the period: not counted.
    event(t1, EventKind.RATING, at(3, 2), score=1)
    return SimpleNamespace(anagrafe=anagrafe, tributi=tributi, tickets=[
        t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12])
