"""Crea ticket: operators open tickets on a citizen's behalf, with drafts."""

import pytest
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.models import Citizen, EventKind, Ticket

NEW = "/admin/helpdesk/tickets/new/"


@pytest.fixture
def desk(make_desk, client):
    """An office with its operator (logged in), a service and a report category."""
    desk = make_desk(service=True)
    desk.op = desk.me
    client.force_login(desk.op)
    desk.category = desk.factories.report_category(desk.office)
    return desk


def post(client, url=NEW, **data):
    base = {"kind": "request", "channel": "phone", "priority": "2"}
    return client.post(url, {**base, **data})


def test_form_is_offered_from_the_list(client, desk):
    assert client.get(NEW).status_code == 200
    assert NEW in client.get("/admin/helpdesk/tickets/").content.decode()


def test_users_who_cannot_create_are_refused(client, factories):
    client.force_login(factories.user(group=None, is_staff=True))
    assert client.get(NEW).status_code in (302, 403)


def test_find_a_citizen_by_fiscal_code_and_submit(client, desk):
    person = desk.factories.citizen(fiscal_code="RSSMRA85T10A562S")
    response = post(client, intent="search", citizen_query="rssmra85t10a562s",
                    description="Chiede come rinnovare la carta")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{person.pk}"' in html and "Chiede come rinnovare la carta" in html
    response = post(client, intent="submit", citizen=person.pk, service=desk.service.pk,
                    description="Chiede come rinnovare la carta", note="Richiamare dopo le 15")
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("helpdesk_tickets:detail", args=[ticket.pk])
    assert (ticket.status, ticket.channel, ticket.citizen, ticket.created_by) == (
        "new", "phone", person, desk.op)
    assert ticket.events.filter(kind=EventKind.NOTE, body="Richiamare dopo le 15").exists()


def test_register_a_new_citizen(client, desk):
    post(client, intent="submit", service=desk.service.pk, description="Allo sportello",
         new_given_name="Laura", new_family_name="Bianchi",
         new_fiscal_code="BNCLRA90A41H501F", new_email="laura@example.org", channel="desk")
    ticket = Ticket.objects.get()
    assert ticket.citizen.fiscal_code == "BNCLRA90A41H501F" and ticket.channel == "desk"


def test_bad_fiscal_code_keeps_everything_typed(client, desk):
    response = post(client, intent="submit", service=desk.service.pk,
                    description="Testo scritto con cura", new_given_name="Laura",
                    new_family_name="Bianchi", new_fiscal_code="BNCLRA90A41H501X")
    html = response.content.decode()
    assert response.status_code == 200
    assert "not a valid fiscal code" in html and "Testo scritto con cura" in html
    assert 'value="Laura"' in html
    assert not Ticket.objects.exists() and not Citizen.objects.filter(given_name="Laura").exists()


def test_missing_mandatory_fields_are_shown_and_nothing_is_lost(client, desk):
    response = post(client, intent="submit", kind="report", subject="Lampione spento",
                    description="Via Po angolo via Roma")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lampione spento" in html and "Via Po angolo via Roma" in html
    assert "This field is required." in html
    assert not Ticket.objects.exists()


def test_draft_saved_completed_and_submitted(client, desk, jpeg_upload):
    response = post(client, intent="draft", kind="report", subject="Buca",
                    report_category=desk.category.pk)
    draft = Ticket.objects.get()
    assert draft.status == "draft" and draft.short_code is None
    edit_url = reverse("helpdesk_tickets:edit_draft", args=[draft.pk])
    assert response["Location"] == edit_url
    page = client.get(edit_url).content.decode()
    assert 'value="Buca"' in page
    assert draft in Ticket.objects.filter(status="draft", created_by=desk.op)
    response = client.post(edit_url, {
        "intent": "submit", "version": draft.version, "kind": "report", "channel": "phone",
        "priority": "3", "report_category": desk.category.pk, "subject": "Buca profonda",
        "description": "Davanti al civico 3", "address": "Via Garibaldi 3",
        "note": "Segnalata anche ieri", "attachments": [jpeg_upload()],
    })
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (ticket.status, ticket.subject, ticket.priority) == ("new", "Buca profonda", 3)
    assert ticket.attachments.count() == 1 and ticket.short_code
    assert ticket.events.filter(kind=EventKind.NOTE).exists()


def test_stale_draft_is_not_overwritten(client, desk):
    draft = services.create_ticket(desk.op, kind="report", channel="phone", draft=True,
                                   subject="Prima")
    seen = draft.version
    services.update_draft(draft, desk.op, subject="Cambiata da un collega")
    response = client.post(reverse("helpdesk_tickets:edit_draft", args=[draft.pk]), {
        "intent": "draft", "version": seen, "kind": "report", "channel": "phone",
        "priority": "2", "subject": "La mia versione"})
    assert response.status_code == 200
    assert "La mia versione" in response.content.decode()  # kept for the operator
    draft.refresh_from_db()
    assert draft.subject == "Cambiata da un collega"


def test_delete_draft(client, desk):
    draft = services.create_ticket(desk.op, kind="report", channel="phone", draft=True)
    response = client.post(reverse("helpdesk_tickets:edit_draft", args=[draft.pk]),
                           {"intent": "delete", "version": draft.version})
    assert response.status_code == 302 and "queue=drafts" in response["Location"]
    assert not Ticket.objects.exists()


def test_other_offices_drafts_and_services_are_out_of_reach(client, desk):
    elsewhere = desk.factories.office()
    stranger = desk.factories.operator(elsewhere)
    theirs = services.create_ticket(stranger, kind="report", channel="phone", draft=True,
                                    report_category=desk.factories.report_category(elsewhere))
    assert client.get(reverse("helpdesk_tickets:edit_draft", args=[theirs.pk])).status_code == 404
    response = post(client, intent="submit", service=desk.factories.service(elsewhere).pk,
                    description="x", citizen="")
    assert response.status_code == 200 and Ticket.objects.count() == 1
    submitted = desk.factories.request_ticket(service_=desk.service)
    edit = reverse("helpdesk_tickets:edit_draft", args=[submitted.pk])
    assert client.get(edit).status_code == 404  # only drafts are edited here


def test_a_draft_with_a_declared_identity_keeps_it_when_edited(client, desk):
    declared = services.declared_citizen(given_name="Ada", family_name="Api",
                                         email="ada@example.net")
    draft = services.create_ticket(desk.op, kind="request", channel="api", draft=True,
                                   service=desk.service, citizen=declared,
                                   description="Da un'integrazione")
    response = client.post(reverse("helpdesk_tickets:edit_draft", args=[draft.pk]), {
        "intent": "draft", "version": draft.version, "kind": "request", "channel": "phone",
        "priority": "2", "service": desk.service.pk, "description": "Completata al telefono"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.citizen == declared and draft.description == "Completata al telefono"


def test_an_http_delete_is_not_allowed_rather_than_a_server_error(client, desk):
    response = client.delete(NEW)
    assert response.status_code == 405
    draft = services.create_ticket(desk.op, kind="request", channel="phone", draft=True,
                                   service=desk.service)
    response = client.delete(reverse("helpdesk_tickets:edit_draft", args=[draft.pk]))
    assert response.status_code == 405 and Ticket.objects.filter(pk=draft.pk).exists()
