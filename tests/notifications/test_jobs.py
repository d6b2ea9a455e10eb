"""The scheduled jobs: deadline reminders to assignees (once per deadline),
and the optional automatic resolution of tickets left waiting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Notification, Ticket
from wagtail_helpdesk.notifications import jobs
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(factories):
    office = factories.office()
    operator = factories.operator(office)
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office, sla_days=5))
    ticket = services.take_charge(ticket, operator)
    return ticket, operator


def test_the_assignee_is_reminded_once_before_the_deadline(assigned):
    ticket, operator = assigned
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(hours=3))
    assert jobs.sla_warnings() == 1
    assert jobs.sla_warnings() == 0  # once per deadline
    reminder = Notification.objects.get(template="operator/sla_warning")
    assert reminder.recipient_user == operator
    assert ticket.events.filter(kind=EventKind.SLA_WARNING).count() == 1
    # A new deadline (e.g. after a reopening) gets its own reminder.
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(hours=5))
    assert jobs.sla_warnings() == 1


def test_a_new_assignee_is_warned_but_not_while_waiting_for_the_citizen(assigned, factories):
    ticket, operator = assigned
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(hours=3))
    assert jobs.sla_warnings() == 1
    colleague = factories.operator(ticket.office)
    services.assign(Ticket.objects.get(pk=ticket.pk), operator, colleague)
    assert jobs.sla_warnings() == 1  # the colleague who took it over hears of it too
    assert jobs.sla_warnings() == 0
    assert set(Notification.objects.filter(template="operator/sla_warning")
               .values_list("recipient_user", flat=True)) == {operator.pk, colleague.pk}
    services.mark_waiting(Ticket.objects.get(pk=ticket.pk), colleague, message="Serve la firma.")
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(hours=2))
    assert jobs.sla_warnings() == 0  # the ball is in the citizen's court


def test_far_deadlines_and_unassigned_tickets_are_left_alone(assigned, factories):
    ticket, _operator = assigned
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() + timedelta(days=3))
    person = factories.citizen()
    pending = factories.request_ticket(CitizenActor(person), citizen_=person)
    Ticket.objects.filter(pk=pending.pk).update(due_at=timezone.now() + timedelta(hours=1))
    assert jobs.sla_warnings() == 0
    # Long overdue: no longer "about to expire", not revisited every hour.
    Ticket.objects.filter(pk=ticket.pk).update(due_at=timezone.now() - timedelta(hours=2))
    assert jobs.sla_warnings() == 0


def test_jobs_read_their_rows_in_chunks(assigned, factories):
    tickets = [assigned[0]]
    for _ in range(4):
        person = factories.citizen()
        ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                          service_=assigned[0].service)
        tickets.append(services.take_charge(ticket, assigned[1]))
    pks = sorted(t.pk for t in tickets)
    assert [t.pk for t in jobs.in_chunks(Ticket.objects.filter(pk__in=pks), size=2)] == pks
    assert list(jobs.in_chunks(Ticket.objects.none(), size=2)) == []


def test_waiting_tickets_are_not_resolved_unless_configured(assigned):
    ticket, operator = assigned
    services.mark_waiting(ticket, operator, message="Ci serve il documento.")
    Ticket.objects.filter(pk=ticket.pk).update(
        last_activity_at=timezone.now() - timedelta(days=60))
    assert jobs.auto_resolve_waiting() == 0
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING


def test_tickets_left_waiting_are_resolved_with_a_notification(assigned, factories, settings):
    settings.WAGTAIL_HELPDESK_AUTO_RESOLVE_WAITING_DAYS = 30
    factories.resolution_type("risolta")
    ticket, operator = assigned
    services.mark_waiting(ticket, operator, message="Ci serve il documento.")
    Ticket.objects.filter(pk=ticket.pk).update(
        last_activity_at=timezone.now() - timedelta(days=31))
    assert jobs.auto_resolve_waiting() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and "30" in ticket.resolution_text
    assert Notification.objects.filter(ticket=ticket, template="citizen/resolved").exists()
    assert jobs.auto_resolve_waiting() == 0


def test_the_automatic_resolution_speaks_the_citizen_language(assigned, settings):
    settings.WAGTAIL_HELPDESK_AUTO_RESOLVE_WAITING_DAYS = 30
    ticket, operator = assigned
    from wagtail_helpdesk.models import ResolutionType

    ResolutionType.objects.get_or_create(slug="risolta", defaults={"name": "Risolta"})
    ticket.citizen.language = "en"
    ticket.citizen.save(update_fields=["language"])
    services.mark_waiting(ticket, operator, message="We need the document.")
    Ticket.objects.filter(pk=ticket.pk).update(
        last_activity_at=timezone.now() - timedelta(days=31))
    assert jobs.auto_resolve_waiting() == 1
    text = Ticket.objects.get(pk=ticket.pk).resolution_text
    assert text.startswith("Closed automatically") and "30 days" in text


def test_recent_waiting_tickets_stay_waiting(assigned, factories, settings):
    settings.WAGTAIL_HELPDESK_AUTO_RESOLVE_WAITING_DAYS = 30
    factories.resolution_type("risolta")
    ticket, operator = assigned
    services.mark_waiting(ticket, operator, message="Ci serve il documento.")
    assert jobs.auto_resolve_waiting() == 0


def test_the_jobs_are_scheduled_on_migrate():
    from django_q.models import Schedule

    names = set(Schedule.objects.filter(name__startswith="wagtail_helpdesk: ")
                .values_list("name", flat=True))
    assert names == {"wagtail_helpdesk: outbox sweeper", "wagtail_helpdesk: deadline reminders",
                     "wagtail_helpdesk: resolve tickets left waiting", "wagtail_helpdesk: daily summaries",
                     "wagtail_helpdesk: expire citizens' drafts",
                     "wagtail_helpdesk: retention", "wagtail_helpdesk: live chat queues",
                     "wagtail_helpdesk: inbound mail", "wagtail_helpdesk: ai embeddings",
                     "wagtail_helpdesk: monthly overviews",
                     "wagtail_helpdesk: dashboard daily figures",
                     "wagtail_helpdesk: ticket exports sweeper"}


def resolved_ticket(factories, person, office, years_ago):
    operator = factories.operator(office)
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    ticket = services.resolve(services.take_charge(ticket, operator), operator,
                              factories.resolution_type(), "Fatto.")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=365 * years_ago + 1))
    return ticket


def test_retention_erases_only_citizens_whose_tickets_are_all_old(factories, settings):
    office = factories.office()
    old = factories.citizen(given_name="Anna", fiscal_code="RSSMRA85T10A562S")
    mixed = factories.citizen(given_name="Bruno")
    recent = factories.citizen(given_name="Carla")
    resolved_ticket(factories, old, office, 6)
    resolved_ticket(factories, mixed, office, 6)
    factories.request_ticket(CitizenActor(mixed), citizen_=mixed)  # still open
    resolved_ticket(factories, recent, office, 1)
    assert jobs.retention() == 0  # off by default
    settings.WAGTAIL_HELPDESK_RETENTION_YEARS = 5
    assert jobs.retention() == 1
    old.refresh_from_db()
    assert old.erased_at is not None and old.fiscal_code is None and old.given_name != "Anna"
    assert old.tickets.get().events.filter(kind=EventKind.PERSONAL_DATA_ERASED).exists()
    mixed.refresh_from_db()
    recent.refresh_from_db()
    assert mixed.erased_at is None and recent.erased_at is None
    assert jobs.retention() == 0  # nothing left to do
