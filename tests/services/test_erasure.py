"""Erasing a citizen's personal data: what goes, what stays, who may, and when
the files go."""

import os
from collections import Counter
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from wagtail.log_actions import registry as log_registry
from wagtail.models import ModelLogEntry

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    Attachment,
    Citizen,
    EventKind,
    Kind,
    Notification,
    NotificationStatus,
    Ticket,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor
from wagtail_helpdesk.services.erasure import LOG_ACTION

PLACEHOLDER = "[personal data erased]"  # tests run in English (tests.settings)


@pytest.fixture
def case(factories, jpeg_upload):
    """A citizen with a SPID account and three tickets in two offices: a request
    with messages, a file and a resolution; a report with a place and a photo;
    an open request with a queued notification. And another citizen."""
    office_a = factories.office(name="URP", email="urp@comune.example.it")
    office_b = factories.office(name="Lavori pubblici")
    operator = factories.operator(office_a, first_name="Anna", last_name="Bianchi")
    operator_b = factories.operator(office_b)
    supervisor = factories.supervisor(office_a, office_b)
    admin = factories.administrator(first_name="Amelia", last_name="Admin")
    account = get_user_model().objects.create_user("spid-rssmra", password="x")
    person = factories.citizen(
        given_name="Mario", family_name="Rossi", fiscal_code="RSSMRA85T10A562S",
        email="mario.rossi@example.org", phone="+39 011 1234567", language="it", user=account,
    )
    me = CitizenActor(person, account)
    service = factories.service(office_a, name="Carta d'identità")
    request = factories.request_ticket(
        me, service_=service, citizen_=person, subject="Rinnovo carta di Mario",
        description="Sono Mario Rossi, abito in via Verdi 3, il mio telefono è 0111234567.",
        attachments=[jpeg_upload("carta_identita_mario_rossi.jpg")],
    )
    services.reply(request, operator, "Gentile Mario Rossi, ci scriva a mario.rossi@example.org "
                                      "o la chiamiamo al 011 123 4567. Codice RSSMRA85T10A562S.")
    services.add_citizen_message(request, me, "Ecco il documento di Mario.",
                                 attachments=[jpeg_upload("documento.jpg")])
    services.add_note(request, operator, "Verificato all'anagrafe.")
    services.resolve(request, operator, factories.resolution_type(),
                     "Carta emessa al sig. Rossi.")
    report = factories.report_ticket(
        me, category=factories.report_category(office_b), citizen=person,
        address="Via Roma 12", attachments=[jpeg_upload("buca.jpg")],
    )
    services.take_charge(report, operator_b)
    third = factories.request_ticket(me, service_=service, citizen_=person,
                                     description="Ho bisogno di un certificato.")
    sent = Notification.objects.filter(ticket=request, template__startswith="citizen/").first()
    Notification.objects.filter(pk=sent.pk).update(status=NotificationStatus.SENT)
    Notification.objects.filter(ticket=report, template__startswith="citizen/").update(
        status=NotificationStatus.FAILED, last_error="550 mario.rossi@example.org unknown")

    other = factories.citizen(given_name="Lucia", family_name="Rossi",
                              fiscal_code="BNCLRA90A41H501F", email="lucia@example.org",
                              phone="333 1234567")
    other_ticket = factories.request_ticket(
        CitizenActor(other), service_=service, citizen_=other,
        description="Mi chiamo Lucia Rossi.", attachments=[jpeg_upload("lucia.jpg")],
    )
    return type("Case", (), {
        "office_a": office_a, "office_b": office_b, "operator": operator,
        "operator_b": operator_b, "supervisor": supervisor, "admin": admin,
        "account": account, "citizen": person, "request": request, "report": report,
        "third": third, "tickets": [request, report, third], "other": other,
        "other_ticket": other_ticket,
    })


def statistics():
    """What reports count: tickets per office, category, service, status,
    resolution type, kind, channel, with their dates."""
    return sorted(
        Ticket.objects.values_list(
            "pk", "kind", "channel", "status", "office_id", "service_id", "report_category_id",
            "resolution_type_id", "assignee_id", "priority", "short_code", "created_at",
            "submitted_at", "first_response_at", "resolved_at", "due_at", "last_activity_at",
            "last_citizen_activity_at",
        )
    )


def snapshot():
    """Everything erasure may touch, to check that a refusal changes nothing."""
    return (
        list(Citizen.objects.order_by("pk").values()),
        list(Ticket.objects.order_by("pk").values()),
        list(TicketEvent.objects.order_by("pk").values()),
        list(Attachment.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values()),
        ModelLogEntry.objects.count(),
    )


def files_of(tickets):
    return [a.file.path for a in Attachment.objects.filter(ticket__in=tickets)]


def test_erasure_blanks_the_citizen_and_keeps_the_tickets(
    case, django_capture_on_commit_callbacks
):
    before = statistics()
    events_before = Counter(TicketEvent.objects.filter(ticket__in=case.tickets)
                            .values_list("ticket_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen, reason="Richiesta prot. 1234/2026")

    person = Citizen.objects.get(pk=case.citizen.pk)
    assert (person.given_name, person.family_name, person.fiscal_code, person.email,
            person.phone, person.language, person.user_id) == ("", "", None, "", "", "", None)
    assert person.erased_at is not None
    assert str(person) == "Anonymous citizen"
    # The SPID account itself is not deleted, just no longer linked.
    assert get_user_model().objects.filter(pk=case.account.pk).exists()

    # Tickets, their statuses, dates, offices, categories and resolutions remain.
    assert statistics() == before
    assert Ticket.objects.filter(citizen=person).count() == 3

    request = Ticket.objects.get(pk=case.request.pk)
    assert (request.subject, request.description) == (PLACEHOLDER, PLACEHOLDER)
    assert request.resolution_text == f"Carta emessa al sig. {PLACEHOLDER}."
    assert request.created_by_id is None  # was the citizen's SPID account
    assert request.version > case.request.version
    report = Ticket.objects.get(pk=case.report.pk)
    # An open report keeps what the problem is (nothing of the citizen's in it here).
    assert (report.subject, report.description) == (case.report.subject,
                                                    case.report.description)
    # The place of a report is the problem's, not the person's: kept.
    assert (report.address, str(report.latitude), str(report.longitude)) == (
        "Via Roma 12", "45.464200", "9.190000")
    third = Ticket.objects.get(pk=case.third.pk)
    assert third.subject == "Carta d'identità"  # the service's name: nothing personal
    assert third.description == PLACEHOLDER

    events = TicketEvent.objects.filter(ticket__in=case.tickets)
    citizen_bodies = set(events.filter(by_citizen=True).exclude(body="")
                         .values_list("body", flat=True))
    assert citizen_bodies == {PLACEHOLDER}
    reply = events.get(ticket=case.request, kind=EventKind.REPLY)
    assert "Mario" not in reply.body and "Rossi" not in reply.body
    assert "mario.rossi@example.org" not in reply.body
    assert "RSSMRA85T10A562S" not in reply.body and "123 4567" not in reply.body
    assert reply.body.startswith(f"Gentile {PLACEHOLDER} {PLACEHOLDER}, ci scriva a")
    note = events.get(ticket=case.request, kind=EventKind.NOTE)
    assert note.body == "Verificato all'anagrafe."  # nothing of the citizen's in it
    assert not events.filter(actor=case.account).exists()
    for event in events.filter(kind=EventKind.ATTACHMENT_ADDED):
        assert event.data == {"name": PLACEHOLDER}
    # Every event that was there is still there, plus one erasure event per ticket.
    after = Counter(events.values_list("ticket_id", flat=True))
    assert after == events_before + Counter(t.pk for t in case.tickets)

    erased = events.filter(kind=EventKind.PERSONAL_DATA_ERASED)
    assert sorted(erased.values_list("ticket_id", flat=True)) == sorted(
        t.pk for t in case.tickets)
    for event in erased:
        assert (event.actor, event.visibility, event.by_citizen) == (
            case.admin, Visibility.INTERNAL, False)
        assert event.data == {"reason": "Richiesta prot. 1234/2026"}

    assert not Attachment.objects.filter(ticket__in=case.tickets).exists()

    entry = ModelLogEntry.objects.get(action=LOG_ACTION)
    assert (entry.user_id, entry.object_id) == (case.admin.pk, str(person.pk))
    assert entry.label == f"Citizen #{person.pk}"
    assert {k: entry.data[k] for k in ("reason", "tickets", "files")} == {
        "reason": "Richiesta prot. 1234/2026", "tickets": 3, "files": 3}
    assert entry.data["notifications"] >= 2  # the queued and the failed ones
    assert str(log_registry.get_action_label(LOG_ACTION)) == "Erase personal data"


def test_other_citizens_are_untouched(case, django_capture_on_commit_callbacks):
    other_before = list(Citizen.objects.filter(pk=case.other.pk).values())
    ticket_before = list(Ticket.objects.filter(pk=case.other_ticket.pk).values())
    events_before = list(TicketEvent.objects.filter(ticket=case.other_ticket).values())
    notes_before = list(Notification.objects.filter(ticket=case.other_ticket).values())
    other_files = files_of([case.other_ticket])
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen)
    assert list(Citizen.objects.filter(pk=case.other.pk).values()) == other_before
    assert list(Ticket.objects.filter(pk=case.other_ticket.pk).values()) == ticket_before
    assert list(TicketEvent.objects.filter(ticket=case.other_ticket).values()) == events_before
    assert list(Notification.objects.filter(ticket=case.other_ticket).values()) == notes_before
    assert other_files and all(os.path.exists(p) for p in other_files)


def test_files_are_deleted_only_after_commit(case, django_capture_on_commit_callbacks):
    paths = files_of(case.tickets)
    assert len(paths) == 3 and all(os.path.exists(p) for p in paths)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.erase_citizen(case.admin, case.citizen)
    # Erased in the database, but not committed yet: the files are still there.
    assert not Attachment.objects.filter(ticket__in=case.tickets).exists()
    assert all(os.path.exists(p) for p in paths)
    # The files' deletion, and the live list's signal of the changed tickets.
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert not any(os.path.exists(p) for p in paths)


def test_a_failure_rolls_everything_back_and_keeps_the_files(
    case, django_capture_on_commit_callbacks
):
    paths = files_of(case.tickets)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with mock.patch("wagtail_helpdesk.services.erasure._audit",
                        side_effect=RuntimeError("audit log unavailable")):
            with pytest.raises(RuntimeError):
                services.erase_citizen(case.admin, case.citizen)
    assert callbacks == []
    assert snapshot() == before
    assert all(os.path.exists(p) for p in paths)


def test_notifications_to_the_citizen_are_scrubbed(case, django_capture_on_commit_callbacks):
    to_citizen = Notification.objects.filter(ticket__in=case.tickets,
                                             template__startswith="citizen/")
    statuses = Counter(to_citizen.values_list("status", flat=True))
    assert statuses[NotificationStatus.PENDING] and statuses[NotificationStatus.FAILED]
    assert statuses[NotificationStatus.SENT] == 1
    to_office = list(Notification.objects.filter(ticket__in=case.tickets)
                     .exclude(template__startswith="citizen/").values("pk", "address", "status"))
    assert to_office
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen)
    after = Counter(to_citizen.values_list("status", flat=True))
    # Nothing is left to send; what was sent stays counted as sent.
    assert after == Counter({NotificationStatus.SKIPPED: sum(statuses.values()) - 1,
                             NotificationStatus.SENT: 1})
    assert set(to_citizen.values_list("address", flat=True)) == {""}
    assert set(to_citizen.values_list("last_error", flat=True)) == {""}
    # Notifications to the office and to operators are not the citizen's.
    assert list(Notification.objects.filter(pk__in=[n["pk"] for n in to_office])
                .values("pk", "address", "status")) == to_office


@pytest.mark.parametrize("who", ["operator", "supervisor", "operator_b"])
def test_only_administrators_may_erase(case, who):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.erase_citizen(getattr(case, who), case.citizen)
    assert snapshot() == before


@pytest.mark.parametrize("actor", ["system", "citizen", "anonymous"])
def test_the_system_and_citizens_may_not_erase(case, actor):
    from django.contrib.auth.models import AnonymousUser

    actors = {"system": SYSTEM, "citizen": CitizenActor(case.citizen, case.account),
              "anonymous": AnonymousUser()}
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.erase_citizen(actors[actor], case.citizen)
    assert snapshot() == before


def test_a_superuser_may_erase(case, django_capture_on_commit_callbacks):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(boss, case.citizen)
    assert Citizen.objects.get(pk=case.citizen.pk).erased_at is not None


def test_an_inactive_administrator_may_not_erase(case):
    case.admin.is_active = False
    case.admin.save()
    with pytest.raises(PermissionDenied):
        services.erase_citizen(case.admin, case.citizen)
    assert Citizen.objects.get(pk=case.citizen.pk).erased_at is None


def test_erasing_twice_does_nothing_and_says_so(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(GuardFailed) as refused:
            services.erase_citizen(case.admin, case.citizen, reason="again")
    assert "already erased" in str(refused.value.message)
    assert callbacks == []
    assert snapshot() == before
    assert TicketEvent.objects.filter(kind=EventKind.PERSONAL_DATA_ERASED).count() == 3


def test_a_too_long_reason_is_refused_before_anything_changes(case):
    before = snapshot()
    with pytest.raises(GuardFailed) as refused:
        services.erase_citizen(case.admin, case.citizen, reason="x" * 501)
    assert "reason" in refused.value.field_errors
    assert snapshot() == before


def test_a_citizen_without_tickets_or_contacts(factories, django_capture_on_commit_callbacks):
    admin = factories.administrator()
    person = Citizen.objects.create()  # nothing at all to look for in texts
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(admin, person)
    person.refresh_from_db()
    assert person.erased_at is not None
    assert not TicketEvent.objects.filter(kind=EventKind.PERSONAL_DATA_ERASED).exists()
    assert ModelLogEntry.objects.filter(action=LOG_ACTION, object_id=str(person.pk)).count() == 1


def test_older_audit_entries_lose_the_name(case, django_capture_on_commit_callbacks):
    from wagtail.log_actions import log

    log(instance=case.citizen, action="wagtail.edit", user=case.operator)
    assert ModelLogEntry.objects.get(action="wagtail.edit").label == "Mario Rossi"
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen)
    assert ModelLogEntry.objects.get(action="wagtail.edit").label == f"Citizen #{case.citizen.pk}"


def test_a_request_loses_its_place(factories, django_capture_on_commit_callbacks):
    admin = factories.administrator()
    person = factories.citizen()
    ticket = factories.request_ticket(citizen_=person, address="Via Verdi 3",
                                      latitude="45.1", longitude="9.1")
    assert ticket.kind == Kind.REQUEST and ticket.address
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(admin, person)
    ticket.refresh_from_db()
    assert (ticket.address, ticket.latitude, ticket.longitude) == ("", None, None)


def test_the_erased_citizen_gets_no_more_notifications(case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(case.admin, case.citizen)
    third = Ticket.objects.get(pk=case.third.pk)
    services.reply(third, case.operator, "Il certificato è pronto.")
    assert not Notification.objects.filter(ticket=third, template="citizen/reply").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_erasures_are_serialised_by_the_citizen_lock(factories):
    """Two administrators erasing the same citizen at once: one erases, the
    other is told it was already done; one erasure event per ticket."""
    import threading

    from django.db import connection, connections

    assert connection.vendor == "postgresql"
    office = factories.office()
    person = factories.citizen(fiscal_code="GLLLCU88E15D612K")
    tickets = [factories.request_ticket(service_=factories.service(office), citizen_=person)
               for _ in range(3)]
    admins = [factories.administrator(), factories.administrator()]
    barrier = threading.Barrier(len(admins))
    outcomes, lock = [], threading.Lock()

    def work(admin):
        try:
            barrier.wait(timeout=30)
            services.erase_citizen(admin, Citizen.objects.get(pk=person.pk))
            result = "erased"
        except GuardFailed:
            result = "refused"
        except Exception as exc:  # pragma: no cover - reported by the assertion
            result = repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=work, args=(a,)) for a in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["erased", "refused"]
    assert TicketEvent.objects.filter(kind=EventKind.PERSONAL_DATA_ERASED).count() == len(tickets)
    assert ModelLogEntry.objects.filter(action=LOG_ACTION).count() == 1


# --- Open reports keep the problem's description ----------------------------------------


@pytest.fixture
def reporter(factories):
    """A citizen with three tickets quoting them: an open report, a resolved
    report and an open request."""
    admin, office = factories.administrator(), factories.office(name="Lavori pubblici")
    operator = factories.operator(office)
    person = factories.citizen(given_name="Mario", family_name="Rossi",
                               fiscal_code="RSSMRA85T10A562S", email="mario.rossi@example.org",
                               phone="+39 011 1234567")
    me = CitizenActor(person)
    category = factories.report_category(office)
    words = {"subject": "Buca davanti a casa di Mario Rossi",
             "description": ("Sono Mario Rossi, chiamatemi allo 011 1234567: buca profonda "
                             "davanti al civico 12, pericolosa per le biciclette.")}
    open_report = services.take_charge(
        factories.report_ticket(me, category=category, citizen=person, **words), operator)
    resolved = services.resolve(
        services.take_charge(factories.report_ticket(me, category=category, citizen=person,
                                                     **words), operator),
        operator, factories.resolution_type(), "Buca chiusa.")
    request = factories.request_ticket(me, service_=factories.service(office), citizen_=person,
                                       **words)
    return type("Reporter", (), {"admin": admin, "citizen": person, "open": open_report,
                                 "resolved": resolved, "request": request})


def test_an_open_report_keeps_its_problem_without_the_citizens_identifiers(
    reporter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(reporter.admin, reporter.citizen)
    report = Ticket.objects.get(pk=reporter.open.pk)
    assert report.subject == f"Buca davanti a casa di {PLACEHOLDER} {PLACEHOLDER}"
    assert report.description == (
        f"Sono {PLACEHOLDER} {PLACEHOLDER}, chiamatemi allo {PLACEHOLDER}: buca profonda "
        "davanti al civico 12, pericolosa per le biciclette.")
    # The citizen's own messages still go: only the ticket's problem stays.
    assert set(TicketEvent.objects.filter(ticket=report, by_citizen=True).exclude(body="")
               .values_list("body", flat=True)) <= {PLACEHOLDER}


def test_a_resolved_report_and_a_request_lose_their_texts_as_before(
    reporter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(reporter.admin, reporter.citizen)
    for ticket in (reporter.resolved, reporter.request):
        ticket = Ticket.objects.get(pk=ticket.pk)
        assert (ticket.subject, ticket.description) == (PLACEHOLDER, PLACEHOLDER)


def test_the_confirmation_page_says_what_open_reports_keep(client, reporter):
    client.force_login(reporter.admin)
    response = client.get(reverse("helpdesk_citizens:erase", args=[reporter.citizen.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The subject and description of open reports" in html
    assert "their assistance requests and closed reports" in html


def test_a_long_open_report_subject_stays_within_its_length(factories):
    """The placeholder is longer than a name: the redacted subject is cut to
    the field's length (PostgreSQL would refuse it and roll the erasure back)."""
    office = factories.office()
    person = factories.citizen(given_name="Ugo", family_name="Po")
    subject = ("Ugo Po " * 28)[:199]
    report = services.take_charge(factories.report_ticket(
        CitizenActor(person), category=factories.report_category(office), citizen=person,
        subject=subject), factories.operator(office))
    services.erase_citizen(factories.administrator(), person)
    report = Ticket.objects.get(pk=report.pk)
    assert len(report.subject) == 200 and "Ugo" not in report.subject
