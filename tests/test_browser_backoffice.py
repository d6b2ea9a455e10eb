"""The back office in a real Chromium: an operator works a ticket end to end."""

import re

import pytest

from wagtail_helpdesk.models import EventKind, Ticket
from wagtail_helpdesk.services import CitizenActor

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def test_operator_takes_replies_notes_and_resolves(page, live_server, factories):
    office = factories.office(name="Ufficio Relazioni con il Pubblico")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    person = factories.citizen(given_name="Paolo", family_name="Conti")
    ticket = factories.request_ticket(
        CitizenActor(person), citizen_=person, service_=factories.service(office),
        description="Non trovo il modulo per il cambio di residenza.",
    )

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/")  # default queue: In sospeso
    page.get_by_role("link", name=ticket.short_code).click()
    page.wait_for_url(re.compile(rf".*/tickets/{ticket.pk}/$"))
    assert "Non trovo il modulo" in page.content()

    page.get_by_role("button", name="Prendi in carico").click()
    page.wait_for_selector("text=Hai preso in carico il ticket")

    page.fill("#id_reply_body", "Buongiorno, il modulo è allegato alla pagina del servizio.")
    page.get_by_role("button", name="Invia risposta").click()
    page.wait_for_selector("text=Risposta al cittadino inviata")

    page.fill("#id_note_body", "Verificare con l'anagrafe la pratica precedente.")
    page.get_by_role("button", name="Aggiungi nota").click()
    page.wait_for_selector("text=Nota privata aggiunta")

    # Resolving without a text is refused next to the field, nothing is lost.
    page.select_option("#id_resolve_resolution_type", label="Risolta")
    page.locator("form:has(#id_resolve_resolution_type)").get_by_role("button", name="Risolvi").click()
    page.wait_for_selector("text=Questo campo è obbligatorio.")
    page.fill("#id_resolve_resolution_text", "Il cittadino ha ricevuto il modulo.")
    page.locator("form:has(#id_resolve_resolution_type)").get_by_role("button", name="Risolvi").click()
    page.wait_for_selector("text=risolto")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == "resolved" and ticket.assignee.username == "anna"
    assert ticket.resolution_type.slug == "risolta"
    kinds = set(ticket.events.values_list("kind", flat=True))
    assert {EventKind.TAKEN_CHARGE, EventKind.REPLY, EventKind.NOTE, EventKind.RESOLVED} <= kinds
    assert not ticket.events.filter(kind=EventKind.REPLY, visibility="internal").exists()
