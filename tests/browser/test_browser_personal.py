"""The personal area in a real Chromium, on a phone and on a desktop: a
citizen logged in with SPID/CIE finds the ticket, reads the office's reply,
answers with a photo; a citizen without an account opens their ticket from
the e-mail's signed link. axe-core on every page."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.browser.test_browser_citizen import DESKTOP, PHONE, accessible, photo
from tests.support.images import png_bytes
from wagtail_helpdesk import services
from wagtail_helpdesk.citizen import links
from wagtail_helpdesk.models import EventKind
from wagtail_helpdesk.services import CitizenActor

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]


@pytest.fixture
def replied(factories):
    office = factories.office(name="Anagrafe")
    operator = factories.operator(office)
    user = get_user_model().objects.create_user(username="spid-anna", password=None)
    anna = factories.citizen(given_name="Anna", user=user)
    ticket = factories.request_ticket(CitizenActor(anna), citizen_=anna,
                                      service_=factories.service(office),
                                      description="Mi serve il certificato di residenza.")
    services.reply(ticket, operator, "Ecco il modulo da compilare.", attachments=[
        SimpleUploadedFile("modulo.png", png_bytes(), content_type="image/png")])
    return ticket


def open_context(browser, live_server, device):
    context = browser.new_context(locale="it-IT", **device)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.helpdesk_javascript = True
    return context, page


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_logged_in_citizen_reads_and_answers(device, browser, live_server, replied, tmp_path):
    client = Client()
    client.force_login(replied.citizen.user)
    context, page = open_context(browser, live_server, device)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page.goto(f"{live_server.url}/helpdesk/area-personale/")
    page.get_by_role("heading", name="Le mie richieste").wait_for()
    accessible(page, "my requests")
    page.get_by_role("link", name=replied.service.name).click()
    page.get_by_role("heading", name=f"Richiesta di assistenza {replied.short_code}").wait_for()
    assert page.get_by_text("Ecco il modulo da compilare.").is_visible()
    accessible(page, "ticket page")
    page.get_by_label("Il tuo messaggio").fill("Ecco il modulo compilato.")
    page.set_input_files("#id_files", photo(tmp_path))
    page.get_by_role("button", name="Invia").click()
    page.get_by_role("status").filter(has_text="inviato all'ufficio").wait_for()
    accessible(page, "message sent")
    message = replied.events.get(kind=EventKind.CITIZEN_MESSAGE)
    assert message.body == "Ecco il modulo compilato."
    assert message.attachments.get().original_name == "buca.png"
    context.close()


def test_the_signed_link_opens_the_ticket_without_an_account(browser, live_server, factories):
    person = factories.citizen(given_name="Carla")  # no account
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person)
    context, page = open_context(browser, live_server, PHONE)
    page.goto(f"{live_server.url}/helpdesk/pratica/{links.make_token(ticket)}/")
    page.get_by_role("heading", name=f"Richiesta di assistenza {ticket.short_code}").wait_for()
    accessible(page, "ticket link")
    page.goto(f"{live_server.url}/helpdesk/pratica/non-valido/")
    page.get_by_role("heading", name="Link non valido").wait_for()
    accessible(page, "invalid link")
    context.close()


def test_the_login_and_its_error_page_are_accessible(browser, live_server, settings):
    settings.WAGTAIL_HELPDESK_OIDC_PROVIDERS = [
        {"entity_id": "https://idp.example/", "name": "Demo SPID", "profile": "spid"},
        {"entity_id": "https://cie.example/", "name": "CIE", "profile": "cie"}]
    context, page = open_context(browser, live_server, PHONE)
    page.goto(f"{live_server.url}/oidc/rp/login/?next=/helpdesk/area-personale/")
    page.get_by_role("heading", name="Accedi", exact=True).wait_for()
    # The SPID button opens the list of identity providers (no JavaScript needed).
    provider = page.get_by_role("link", name="Entra con SPID tramite Demo SPID")
    assert not provider.is_visible()
    page.get_by_text("Entra con SPID", exact=True).click()
    assert provider.is_visible()
    assert page.get_by_role("link", name="Entra con CIE").is_visible()
    accessible(page, "login page")
    page.goto(f"{live_server.url}/oidc/rp/callback/?state=forged&code=x")
    page.get_by_role("heading", name="Accesso non completato").wait_for()
    accessible(page, "login error")
    context.close()
