"""The Helpdesk menu's figure at scale (issue 20): it counts only open
tickets, through the partial indexes ``helpdesk_t_pending`` and
``helpdesk_t_unread``, and equals the figure counted ticket by ticket for
every kind of user. Runs on SQLite and PostgreSQL."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.attention import attention_count
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.tickets.queries import visible_tickets
from wagtail_helpdesk.workflow import OPEN_STATUSES, Status


def by_hand(user):
    """The figure's definition, ticket by ticket in Python."""
    total = 0
    for t in visible_tickets(user, "change"):
        if t.status == Status.NEW and t.assignee_id is None:
            total += 1
        if t.assignee_id == user.pk and t.status in OPEN_STATUSES:
            total += t.unread_count
    return total


@pytest.fixture
def desk(factories):
    a, b, c = (factories.office(name) for name in ("Anagrafe", "Tributi", "Urbanistica"))
    op = factories.operator(a, b)
    other = factories.operator(c)
    solved = factories.resolution_type()
    for i, office in enumerate([a, b, c] * 5):
        service = factories.service(office)
        person = factories.citizen()
        ticket = factories.request_ticket(service_=service, citizen_=person)
        who = op if office != c else other
        if i % 5 == 1:
            ticket = services.take_charge(ticket, who)
        elif i % 5 == 2:
            ticket = services.take_charge(ticket, who)
            for text in ("Allego", "Ancora"):
                services.add_citizen_message(ticket, services.CitizenActor(person), text)
        elif i % 5 == 3:
            ticket = services.resolve(services.take_charge(ticket, who), who, solved, "Fatto")
            # unread messages on a resolved ticket are not counted
            Ticket.objects.filter(pk=ticket.pk).update(unread_count=4)
        elif i % 5 == 4:
            ticket = services.mark_waiting(services.take_charge(ticket, who), who,
                                           message="Serve il documento")
            Ticket.objects.filter(pk=ticket.pk).update(unread_count=1)
    # A draft of the operator's own, without an office: never pending.
    factories.request_ticket(op, service_=factories.service(a), draft=True)
    return {"op": op, "other": other, "supervisor": factories.supervisor(a),
            "admin": factories.administrator()}


def test_the_figure_is_the_count_by_hand(desk):
    figures = {}
    for name, user in desk.items():
        cache.clear()
        figures[name] = attention_count(user)
        assert figures[name] == by_hand(user), name
    # Not all the same: the scopes differ, and unread messages count.
    assert figures["op"] != figures["other"]
    assert figures["admin"] == Ticket.objects.filter(status=Status.NEW,
                                                     assignee__isnull=True).count()
    assert by_hand(desk["op"]) > Ticket.objects.filter(
        status=Status.NEW, assignee__isnull=True, office__in=desk["op"].helpdesk_memberships
        .values("office_id")).count()


def test_the_figure_follows_the_services(desk):
    op = desk["op"]
    cache.clear()
    before = attention_count(op)
    pending = visible_tickets(op, "change").filter(status=Status.NEW,
                                                   assignee__isnull=True).first()
    services.take_charge(pending, op)
    cache.clear()
    assert attention_count(op) == before - 1 == by_hand(op)


def test_two_counts_over_open_tickets(desk):
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        attention_count(desk["op"])
    table = Ticket._meta.db_table
    counts = [q["sql"] for q in ctx.captured_queries if table in q["sql"]]
    assert len(counts) == 2
    # each one only looks at open tickets
    assert "'new'" in counts[0] and "IS NULL" in counts[0]
    assert "unread_count" in counts[1] and "'waiting'" in counts[1]


def test_the_partial_indexes_serve_the_counts(desk):
    """On PostgreSQL the plans use the partial indexes (the planner is told
    not to scan the table: with a few rows it would); elsewhere the indexes
    exist."""
    names = {"helpdesk_t_pending", "helpdesk_t_unread", "helpdesk_t_open_work"}
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Ticket._meta.db_table)
    assert names <= set(constraints)
    if connection.vendor != "postgresql":
        return
    op = desk["op"]
    visible = visible_tickets(op, "change")
    pending = visible.filter(status=Status.NEW, assignee__isnull=True)
    unread = visible.filter(assignee=op, status__in=OPEN_STATUSES, unread_count__gt=0)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = {}
        for name, queryset in (("pending", pending), ("unread", unread)):
            sql, params = queryset.values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    assert "helpdesk_t_pending" in plans["pending"], plans["pending"]
    assert "helpdesk_t_unread" in plans["unread"], plans["unread"]
