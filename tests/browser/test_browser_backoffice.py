"""The back office in a real Chromium: an operator works a ticket end to end."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in
from wagtail_helpdesk.models import EventKind, QuickReply, Ticket
from wagtail_helpdesk.services import CitizenActor

# live_server pulls in a transactional database: ask for serialized rollback
# explicitly so the rows migrations made (site, groups, catalogue) come back.
pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]


def test_operator_takes_replies_notes_and_resolves(page, live_server, factories):
    office = factories.office(name="Ufficio Relazioni con il Pubblico")
    anna = factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    factories.resolution_type("risolta")
    person = factories.citizen(given_name="Paolo", family_name="Conti")
    ticket = factories.request_ticket(
        CitizenActor(person), citizen_=person, service_=factories.service(office),
        description="Non trovo il modulo per il cambio di residenza.",
    )

    QuickReply.objects.create(
        owner=anna, title="Modulo residenza", shortcut="modulo", category="Anagrafe",
        body="Gentile {cittadino}, il modulo per la pratica {codice} è sul sito del Comune.")

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/")  # default queue: In sospeso
    page.get_by_role("link", name=ticket.short_code).click()
    page.wait_for_url(re.compile(rf".*/tickets/{ticket.pk}/$"))
    assert "Non trovo il modulo" in page.content()

    page.get_by_role("button", name="Prendi in carico").click()
    page.wait_for_selector("text=Hai preso in carico il ticket")

    # A quick reply, typed as /shortcut and inserted with Enter, placeholders filled.
    page.click("#id_reply_body")
    page.keyboard.type("/modulo")
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#id_reply_body').value.includes('Gentile Paolo Conti')")
    assert "/modulo" not in page.input_value("#id_reply_body")
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
    reply = ticket.events.get(kind=EventKind.REPLY)
    assert reply.body.startswith(f"Gentile Paolo Conti, il modulo per la pratica {ticket.short_code}")


def test_supervisor_opens_the_dashboard(page, live_server, factories):
    office = factories.office(name="Polizia Locale")
    factories.supervisor(office, username="sara")
    service = factories.service(office)
    for _ in range(3):
        factories.request_ticket(service_=service)
    log_in(page, live_server, "sara")
    page.get_by_role("button", name=re.compile("Helpdesk")).click()
    page.get_by_role("link", name="Cruscotto").click()
    page.wait_for_url(re.compile(r".*/admin/helpdesk/dashboard/"))
    assert page.locator("svg[role=img]").count() >= 1
    assert "Polizia Locale" in page.content()

    # Every minute the helpdesk-dashboard controller swaps in fresh figures.
    page.clock.install()
    page.reload()
    open_tile = page.locator('[data-refresh-key="tiles"] [data-figure="open"]')
    expect(open_tile).to_have_text("3")
    factories.request_ticket(service_=service)
    page.clock.run_for(60_000)
    expect(open_tile).to_have_text("4")


def test_bulk_assign_presence_switch_and_map(page, live_server, factories):
    office = factories.office(name="Lavori pubblici")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    factories.operator(office, username="bruno", first_name="Bruno", last_name="Verdi")
    service = factories.service(office)
    tickets = [factories.request_ticket(service_=service) for _ in range(2)]
    report = factories.report_ticket(category=factories.report_category(office))
    log_in(page, live_server, "anna")

    # Every admin page posts the helpdesk-presence heartbeat when it opens.
    with page.expect_response(lambda response: response.request.method == "POST"
                              and "/presence/heartbeat/" in response.url) as beat:
        page.goto(f"{live_server.url}/admin/helpdesk/tickets/?queue=all")
    assert beat.value.status == 204

    # The availability switch submits itself when changed.
    page.select_option("#helpdesk-presence-chosen", "busy")
    page.wait_for_selector("text=La tua disponibilità ora è: Occupato.")
    assert page.locator(".helpdesk-presence--busy").count() == 1

    # Select two tickets, "Assegna", choose Bruno, confirm.
    for ticket in tickets:
        page.locator(f"input[data-object-id='{ticket.pk}']").check()
    page.locator("[data-bulk-action-button]", has_text="Assegna").click()
    page.wait_for_url(re.compile(r".*/admin/bulk/wagtail_helpdesk/ticket/assign/.*"))
    page.select_option("select[name=assignee]", label="Bruno Verdi — Offline")
    page.get_by_role("button", name="Assegna").click()
    page.wait_for_selector("text=2 ticket assegnati a Bruno Verdi.")
    assert {t.assignee.username for t in Ticket.objects.filter(
        pk__in=[t.pk for t in tickets])} == {"bruno"}

    # The report's place on the map (the marker; tiles are not reachable here).
    page.clock.install()
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{report.pk}/")
    page.wait_for_selector("[data-map-ready] .leaflet-marker-icon")

    # The helpdesk-ticket-watch controller: Bruno opens the ticket too, then
    # takes it in charge; Anna's page shows him at the next poll, then the change.
    viewers = page.locator(".helpdesk-watch__viewers")
    changed = page.locator(".helpdesk-watch__changed")
    expect(viewers).to_be_hidden()
    other = page.context.browser.new_context(locale="it-IT")
    bruno = other.new_page()
    log_in(bruno, live_server, "bruno")
    bruno.goto(f"{live_server.url}/admin/helpdesk/tickets/{report.pk}/")
    page.clock.run_for(15_000)
    expect(viewers).to_contain_text("Bruno Verdi")
    expect(changed).to_be_hidden()
    bruno.get_by_role("button", name="Prendi in carico").click()
    bruno.wait_for_selector("text=Hai preso in carico il ticket")
    other.close()
    page.clock.run_for(15_000)
    expect(changed).to_be_visible()


def test_operator_links_a_declared_request_after_checking(page, live_server, factories):
    from wagtail_helpdesk import services
    from wagtail_helpdesk.models import Citizen

    office = factories.office(name="Servizi sociali")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    registered = Citizen.objects.create(given_name="Giovanna", family_name="Esposito",
                                        fiscal_code="RSSMRA85T10A562S",
                                        email="giovanna@example.it")
    declared = services.declared_citizen(given_name="Giovanna", family_name="Esposito",
                                         fiscal_code="rssmra85t10a562s",
                                         email="g.esposito@example.net")
    ticket = factories.request_ticket(CitizenActor(declared), citizen_=declared,
                                      service_=factories.service(office))
    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{ticket.pk}/")
    html = page.content()  # the admin speaks the operator's language: Italian here
    assert "Dichiarata, non verificata" in html
    assert "g***@e***.it" in html  # the registered citizen's address, masked
    assert "giovanna@example.it" not in html
    checkbox = page.get_by_label("Ho verificato che chi ha inviato questo ticket è questo "
                                 "cittadino.")
    checkbox.scroll_into_view_if_needed()
    checkbox.check()
    page.get_by_role("button", name="Collega al cittadino").click()
    page.wait_for_selector(".messages .success")
    assert "collegato al cittadino registrato" in page.inner_text(".messages")
    assert "Collegato a un cittadino" in page.content()
    ticket.refresh_from_db()
    assert ticket.citizen == registered and ticket.declared_contact == declared
