"""The ticket list's columns: sensible defaults that fit a 1,280 px screen,
and the columns an operator chooses, kept for their session."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from tests.support.browser import log_in
from wagtail_helpdesk.admin.tickets import columns
from wagtail_helpdesk.services import CitizenActor

LIST = "/admin/helpdesk/tickets/"


def headers(html):
    return re.findall(r'<th[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*<', html)


@pytest.mark.django_db
def test_defaults_then_the_operators_choice_kept_for_the_session(client, factories):
    office = factories.office()
    client.force_login(factories.operator(office))
    factories.request_ticket(service_=factories.service(office))
    shown = client.get(LIST, {"queue": "all"}).content.decode()
    assert "Office" not in headers(shown) and "Subject" in headers(shown)
    chosen = client.get(LIST, {"queue": "all", "columns": ["office", "subject", "nonsense"]})
    assert chosen.status_code == 200
    # The code column is always there; unknown names are ignored.
    assert client.session[columns.SESSION_KEY] == ["office", "subject"]
    again = headers(client.get(LIST, {"queue": "all"}).content.decode())
    assert "Office" in again and "Subject" in again and "Code" in again
    assert "Citizen" not in again
    client.get(LIST, {"columns": "default"})
    assert "Citizen" in headers(client.get(LIST, {"queue": "all"}).content.decode())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
@pytest.mark.parametrize("width", [1280, 1440])
def test_the_default_list_fits_the_screen_and_the_menu_works(browser, live_server, factories,
                                                               width):
    office = factories.office(name="Ufficio Relazioni con il Pubblico e Comunicazione")
    factories.operator(office, username="anna", first_name="Annamaria", last_name="Bernardini")
    service = factories.service(office, name="Rilascio della carta d'identità elettronica")
    for n in range(3):
        person = factories.citizen(given_name="Maria Vittoria", family_name=f"Lombardi Ferri{n}")
        factories.request_ticket(CitizenActor(person), citizen_=person, service_=service,
                                 subject="Richiesta di appuntamento per il rinnovo urgente "
                                         "della carta d'identità elettronica")
    context = browser.new_context(locale="it-IT", viewport={"width": width, "height": 900})
    page = context.new_page()
    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}{LIST}?queue=all")
    overflow = page.evaluate("""() => {
        const table = document.querySelector('table.listing');
        return table.scrollWidth - table.parentElement.clientWidth;
    }""")
    assert overflow <= 0, f"{overflow}px of sideways scrolling at {width}px"
    results = Axe().run(page)
    bad = [v["id"] for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    page.locator(".helpdesk-columns summary").click()
    page.get_by_role("checkbox", name="Ufficio").check()
    page.get_by_role("button", name="Mostra queste colonne").click()
    page.wait_for_selector("th:has-text('Ufficio')")
    assert "queue=all" in page.url
    context.close()
    assert reverse("helpdesk_tickets:index") == LIST
