""""Notifiche non consegnate": failures with their error and a retry, for
supervisors (their offices) and administrators; the timeline shows outcomes."""

import pytest

from wagtail_helpdesk.models import Notification
from wagtail_helpdesk.notifications import outbox, tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db

URL = "/admin/helpdesk/notifications/"


@pytest.fixture
def failures(factories):
    offices = [factories.office(name="Anagrafe"), factories.office(name="Tributi")]
    tickets = []
    for office in offices:
        person = factories.citizen()
        tickets.append(factories.request_ticket(CitizenActor(person), citizen_=person,
                                                service_=factories.service(office)))
    for row in Notification.objects.filter(template="citizen/ticket_received"):
        outbox.claim(row.pk)
        row.refresh_from_db()
        outbox.failed(row, "SMTPRecipientsRefused: 550 No such user", permanent=True)
    return offices, tickets


def test_a_supervisor_sees_the_failures_of_their_offices_only(client, factories, failures,
                                                               django_assert_max_num_queries):
    (anagrafe, _), (mine, other) = failures
    client.force_login(factories.supervisor(anagrafe))
    with django_assert_max_num_queries(30):
        html = client.get(URL).content.decode()
    assert mine.reference in html and other.reference not in html
    assert "550 No such user" in html and "Receipt to the citizen" in html


def test_the_list_makes_the_same_queries_for_more_rows(client, factories, failures):
    admin = factories.administrator()
    client.force_login(admin)
    client.get(URL)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    person = factories.citizen()
    for _ in range(5):
        ticket = factories.request_ticket(CitizenActor(person), citizen_=person)
        row = ticket.notifications.get(template="citizen/ticket_received")
        outbox.claim(row.pk)
        row.refresh_from_db()
        outbox.failed(row, "boom", permanent=True)
    with CaptureQueriesContext(connection) as many:
        html = client.get(URL).content.decode()
    assert html.count("boom") == 5
    assert len(many) == len(few)


def test_operators_cannot_see_the_list(client, factories, failures):
    (anagrafe, _), _tickets = failures
    client.force_login(factories.operator(anagrafe))
    assert client.get(URL).status_code in (302, 403)


def test_retry_queues_the_notification_again_and_it_is_delivered(
        client, factories, failures, smtp, django_capture_on_commit_callbacks):
    (anagrafe, _), (mine, other) = failures
    client.force_login(factories.supervisor(anagrafe))
    row = mine.notifications.get(template="citizen/ticket_received")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "sent" and len(smtp.messages) == 1
    # Another office's notification: not found for this supervisor.
    theirs = other.notifications.get(template="citizen/ticket_received")
    assert client.post(f"{URL}{theirs.pk}/retry/").status_code == 404


def test_the_timeline_shows_delivered_and_failed_notifications(client, factories, failures,
                                                               smtp):
    (anagrafe, _), (mine, _other) = failures
    operator = factories.operator(anagrafe)
    from wagtail_helpdesk import services

    services.take_charge(mine, operator)
    tasks.deliver([mine.notifications.get(template="citizen/taken_in_charge").pk])
    client.force_login(operator)
    html = client.get(f"/admin/helpdesk/tickets/{mine.pk}/").content.decode()
    assert "Notification delivered" in html and "“Taken in charge” to the citizen" in html
    assert "Notification failed" in html and "550 No such user" in html
