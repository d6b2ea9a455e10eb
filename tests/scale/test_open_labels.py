"""The labels' copy of their open tickets' office (tickets/open_labels.py):
whatever happens to a ticket — taken, put on hold, resolved, reopened,
transferred, labelled through the services or through the relation — every
label row holds the ticket's office while it is open, else null; the
dashboard's counts read from it equal the ones read through the tickets
(tests/scale/test_dashboard_open_work.py)."""

import pytest

from wagtail_helpdesk import services
from wagtail_helpdesk.models import Label, Ticket, TicketLabel
from wagtail_helpdesk.tickets import open_labels
from wagtail_helpdesk.workflow import OPEN_STATUSES

pytestmark = pytest.mark.django_db


def stale():
    """The label rows whose copy is not what their ticket says now."""
    tickets = {t.pk: t for t in Ticket.objects.all()}
    return [(row.ticket_id, row.label_id, row.open_office_id) for row in TicketLabel.objects.all()
            if row.open_office_id != (tickets[row.ticket_id].office_id
                                      if tickets[row.ticket_id].status in OPEN_STATUSES
                                      else None)]


@pytest.fixture
def desk(factories):
    a, b = factories.office(name="Anagrafe"), factories.office(name="Tributi")
    return {"a": a, "b": b, "op": factories.operator(a, b),
            "solved": factories.resolution_type("risolta"),
            "urgent": Label.objects.create(name="Urgente", colour="red"),
            "later": Label.objects.create(name="Da richiamare", colour="blue"),
            "service": factories.service(a), "factories": factories}


def test_the_copy_follows_every_step_of_the_workflow(desk):
    op, a, b = desk["op"], desk["a"], desk["b"]
    ticket = desk["factories"].request_ticket(service_=desk["service"])
    ticket = services.add_labels(ticket, op, [desk["urgent"]])
    rows = TicketLabel.objects.filter(ticket=ticket)
    assert [r.open_office_id for r in rows] == [a.pk]
    seen = []
    for step in (lambda t: services.take_charge(t, op),
                 lambda t: services.mark_waiting(t, op, message="Serve il documento"),
                 lambda t: services.add_labels(t, op, [desk["later"]]),
                 lambda t: services.transfer(t, op, b),
                 lambda t: services.resolve(services.take_charge(t, op), op, desk["solved"],
                                            "Fatto"),
                 lambda t: services.reopen(t, op, reason="Non è risolto"),
                 lambda t: services.remove_labels(t, op, [desk["urgent"]]),
                 lambda t: services.resolve(t, op, desk["solved"], "Fatto davvero")):
        ticket = step(ticket)
        assert stale() == [], ticket.status
        seen += [(ticket.status, r.open_office_id) for r in TicketLabel.objects.filter(
            ticket=ticket)]
    # Not vacuous: the copy was each office while open, and null once resolved.
    assert ("in_progress", a.pk) in seen and ("new", b.pk) in seen
    assert ("waiting", a.pk) in seen and ("resolved", None) in seen


def test_labels_added_through_the_relation_and_bulk_changes_too(desk):
    op = desk["op"]
    tickets = [desk["factories"].request_ticket(service_=desk["service"]) for _ in range(3)]
    tickets[0].labels.add(desk["urgent"])  # the relation: bulk_create, no post_save
    desk["later"].tickets.add(tickets[1])  # from the label's side
    services.bulk_change_labels(tickets[1:], op, add=[desk["urgent"].name])
    assert TicketLabel.objects.count() == 4
    assert stale() == []
    assert set(TicketLabel.objects.values_list("open_office_id", flat=True)) == {desk["a"].pk}


def test_an_update_in_bulk_is_put_right_by_sync(desk):
    """A queryset's update sends no signal: code that changes tickets in bulk
    calls sync() (the limit the module states)."""
    ticket = services.add_labels(desk["factories"].request_ticket(service_=desk["service"]),
                                 desk["op"], [desk["urgent"]])
    Ticket.objects.filter(pk=ticket.pk).update(office=desk["b"])
    assert stale() == [(ticket.pk, desk["urgent"].pk, desk["a"].pk)]
    open_labels.sync([ticket.pk])
    assert stale() == []


def test_the_counts_read_the_copy_of_the_offices_in_scope(desk):
    op, a, b = desk["op"], desk["a"], desk["b"]
    make = desk["factories"].request_ticket
    mine = [services.add_labels(make(service_=desk["service"]), op, [desk["urgent"]])
            for _ in range(2)]
    services.transfer(mine[1], op, b)
    done = services.add_labels(make(service_=desk["service"]), op, [desk["urgent"]])
    services.resolve(services.take_charge(done, op), op, desk["solved"], "Fatto")
    count = {tuple(sorted(offices or ())) if offices else None: list(open_labels.counts(offices))
             for offices in ({a.pk}, {b.pk}, {a.pk, b.pk}, None)}
    assert [r["count"] for r in count[(a.pk,)]] == [1]  # the resolved one not counted
    assert [r["count"] for r in count[(b.pk,)]] == [1]
    assert [r["count"] for r in count[(a.pk, b.pk)]] == [2] == [r["count"] for r in count[None]]


def test_a_save_writes_the_label_rows_only_when_the_copy_changes(desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    op, solved = desk["op"], desk["solved"]
    ticket = services.take_charge(services.add_labels(
        desk["factories"].request_ticket(service_=desk["service"]), op, [desk["urgent"]]), op)

    def label_writes(step):
        with CaptureQueriesContext(connection) as ctx:
            result = step()
        return result, [q["sql"] for q in ctx.captured_queries
                        if q["sql"].startswith("UPDATE") and "ticketlabel" in q["sql"]]

    ticket, writes = label_writes(lambda: services.reply(ticket, op, "La richiamiamo domani"))
    assert writes == []  # still open, same office
    ticket, writes = label_writes(lambda: services.resolve(ticket, op, solved, "Fatto"))
    assert len(writes) == 1
    assert stale() == []


def test_an_office_saved_alone_and_a_row_saved_alone_keep_the_copy(desk):
    ticket = services.add_labels(desk["factories"].request_ticket(service_=desk["service"]),
                                 desk["op"], [desk["urgent"]])
    loaded = Ticket.objects.get(pk=ticket.pk)
    loaded.office = desk["b"]
    loaded.save(update_fields=["office"])
    assert stale() == [] and TicketLabel.objects.get().open_office_id == desk["b"].pk
    TicketLabel.objects.create(ticket=loaded, label=desk["later"])  # not through the services
    assert stale() == []


def test_the_migration_fills_the_copy_of_the_rows_written_before(desk):
    """Migration 0028's fill, run on rows without the copy (as before it)."""
    from importlib import import_module

    from django.apps import apps

    op = desk["op"]
    make = desk["factories"].request_ticket
    open_one = services.add_labels(make(service_=desk["service"]), op, [desk["urgent"]])
    closed = services.add_labels(make(service_=desk["service"]), op, [desk["later"]])
    services.resolve(services.take_charge(closed, op), op, desk["solved"], "Fatto")
    TicketLabel.objects.update(open_office=desk["b"])  # all wrong
    assert len(stale()) == 2
    import_module("wagtail_helpdesk.migrations.0028_label_open_office").fill(apps, None)
    assert stale() == []
    assert TicketLabel.objects.get(ticket=open_one).open_office_id == desk["a"].pk
