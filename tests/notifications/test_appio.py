"""App IO delivery against a local server built from the spec: allowed, not
allowed, unknown citizen, throttled, bad key; preferences; the write-only key."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.support.appio_fake import KEY
from wagtail_helpdesk.models import EventKind, Notification
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db

CODE = "RSSMRA85T10A562S"


@pytest.fixture
def ticket(factories, fake_io):
    person = factories.citizen(fiscal_code=CODE, language="it")
    return factories.request_ticket(CitizenActor(person), citizen_=person)


def io_row():
    return Notification.objects.get(channel="app_io", template="citizen/ticket_received")


def test_an_allowed_citizen_gets_the_message(ticket, fake_io):
    fake_io.allowed.add(CODE)
    assert tasks.deliver([io_row().pk]) == 1
    (message,) = fake_io.messages
    assert message["fiscal_code"] == CODE
    subject = message["content"]["subject"]
    assert ticket.short_code in subject and ticket.citizen.family_name not in subject
    assert 80 <= len(message["content"]["markdown"]) <= 10000
    row = io_row()
    assert row.status == "sent" and row.provider_message_id.startswith("01")
    paths = [path for path, headers, _ in fake_io.requests]
    assert paths == ["/api/v1/profiles", "/api/v1/messages"]
    assert all(h["Ocp-Apim-Subscription-Key"] == KEY for _, h, _ in fake_io.requests)


@pytest.mark.parametrize(("setup", "reason"), [
    ("not_allowed", "does not accept"), ("unknown", "not on App IO")])
def test_citizens_not_reachable_on_io_are_skipped_and_noted(ticket, fake_io, setup, reason):
    if setup == "not_allowed":
        fake_io.not_allowed.add(CODE)
    tasks.deliver([io_row().pk])
    row = io_row()
    assert row.status == "skipped" and reason in row.last_error
    assert fake_io.messages == []
    event = ticket.events.get(kind=EventKind.NOTIFICATION_FAILED)
    assert event.data["status"] == "skipped"


def test_throttling_is_retried_then_delivered(ticket, fake_io):
    fake_io.allowed.add(CODE)
    fake_io.throttle = 1
    tasks.deliver([io_row().pk])
    row = io_row()
    assert (row.status, row.attempts) == ("pending", 1) and "429" in row.last_error
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert tasks.sweep() >= 1
    assert io_row().status == "sent" and len(fake_io.messages) == 1


def test_server_errors_are_retried(ticket, fake_io):
    fake_io.allowed.add(CODE)
    fake_io.fail = 1
    tasks.deliver([io_row().pk])
    assert io_row().status == "pending" and "500" in io_row().last_error


def test_a_bad_key_fails_at_once_with_a_clear_message(ticket, fake_io, settings):
    settings.WAGTAIL_HELPDESK_APP_IO_API_KEY = "wrong"
    tasks.deliver([io_row().pk])
    row = io_row()
    assert row.status == "failed" and "key" in row.last_error and "401" in row.last_error


def test_preferences_and_configuration_decide_the_channels(factories, fake_io, settings):
    quiet = factories.citizen(fiscal_code="BNCGNN80A41H501X", notify_app_io=False,
                              notify_email=False)
    factories.request_ticket(CitizenActor(quiet), citizen_=quiet)
    assert not Notification.objects.filter(recipient_citizen=quiet).exists()
    settings.WAGTAIL_HELPDESK_APP_IO_API_KEY = ""
    person = factories.citizen(fiscal_code=CODE)
    factories.request_ticket(CitizenActor(person), citizen_=person)
    assert set(Notification.objects.filter(recipient_citizen=person)
               .values_list("channel", flat=True)) == {"email"}  # IO not configured


def test_a_service_key_overrides_the_default(factories, fake_io, settings):
    settings.WAGTAIL_HELPDESK_APP_IO_API_KEY = ""
    service = factories.service(io_api_key=KEY)
    person = factories.citizen(fiscal_code=CODE)
    fake_io.allowed.add(CODE)
    factories.request_ticket(CitizenActor(person), citizen_=person, service_=service)
    assert tasks.deliver([io_row().pk]) == 1


def test_the_io_key_is_never_shown_again_in_the_admin(client, factories):
    service = factories.service(io_api_key="segreta-123")
    client.force_login(factories.administrator())
    url = reverse("helpdesk_services:edit", args=[service.pk])
    html = client.get(url).content.decode()
    assert "segreta-123" not in html and 'name="io_api_key"' in html
    assert 'name="remove_io_api_key"' in html
    form = {"category": service.category_id, "name": service.name, "slug": service.slug,
            "description": "", "office": service.office_id, "sla_days": "", "active": "on",
            "io_api_key": ""}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    service.refresh_from_db()
    assert service.io_api_key == "segreta-123"  # left empty: kept
    both = client.post(url, {**form, "io_api_key": "nuova-456", "remove_io_api_key": "on"})
    assert both.status_code == 200  # ambiguous: refused, with a message, nothing changed
    assert "Either type a new key or remove the saved one" in both.content.decode()
    service.refresh_from_db()
    assert service.io_api_key == "segreta-123"
    client.post(url, {**form, "remove_io_api_key": "on"})
    service.refresh_from_db()
    assert service.io_api_key == ""
    html = client.get(url).content.decode()
    assert 'name="remove_io_api_key"' not in html


def test_other_refusals_are_permanent_and_broken_content_fails(ticket, fake_io, monkeypatch):
    from wagtail_helpdesk.notifications import appio

    fake_io.allowed.add(CODE)
    monkeypatch.setattr(appio, "content", lambda n: 1 / 0)
    tasks.deliver([io_row().pk])
    row = io_row()
    assert row.status == "failed" and "ZeroDivisionError" in row.last_error
    with pytest.raises(appio.Permanent):
        appio._check(409, {"detail": "conflict"}, "message")
    with pytest.raises(appio.Temporary):
        appio._check(503, {}, "message")
