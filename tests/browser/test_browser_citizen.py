"""The citizens' forms in a real Chromium, on a phone and on a desktop, with
and without JavaScript: both journeys end to end (map pin, address search,
photo upload), checking the ticket made, and axe-core on every step (no
serious or critical violation allowed)."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.support.images import png_bytes
from wagtail_helpdesk.models import Notification, Ticket

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
AXE = Axe()


@pytest.fixture
def citizen(django_db_serialized_rollback, browser, live_server, request):
    """A browser context for a citizen; the parameter picks the device and
    whether JavaScript runs. Nothing leaves the machine (map tiles included)."""
    device, javascript = request.param
    context = browser.new_context(locale="it-IT", java_script_enabled=javascript,
                                  accept_downloads=True, **device)
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.helpdesk_javascript = javascript
    yield page
    context.close()


def accessible(page, step):
    """axe-core on the whole page: fail on serious or critical violations.

    axe runs in the page, so for a page without JavaScript the same markup
    (its scripts removed) is checked in a JavaScript-enabled twin."""
    if page.helpdesk_javascript:
        results = AXE.run(page)
    else:
        html = re.sub(r"<script\b.*?</script>", "", page.content(), flags=re.S)
        twin = page.context.browser.new_context(locale="it-IT",
                                                viewport=page.viewport_size)
        probe = twin.new_page()
        url = page.url.split("#")[0]
        probe.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
        probe.goto(url)
        results = AXE.run(probe)
        twin.close()
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations at {step}: {bad}"


def photo(tmp_path):
    path = tmp_path / "buca.png"
    path.write_bytes(png_bytes())
    return str(path)


def next_step(page):
    page.get_by_role("button", name="Avanti").click()


def reach(page, slug):
    """Wait for the step ``slug``; fail with the page's error summary if refused."""
    page.wait_for_selector(f"form[data-helpdesk-step={slug}], [data-helpdesk-errors]")
    if not page.locator(f"form[data-helpdesk-step={slug}]").count():
        pytest.fail(f"step {slug} refused: {page.inner_text('[data-helpdesk-errors]')}")


def check_privacy(page):
    # Bootstrap Italia draws its own box over the real checkbox: click the label.
    page.locator("label[for$=-privacy]").click()


def fill_author(page):
    page.fill("input[name=author-given_name]", "Giovanna")
    page.fill("input[name=author-family_name]", "Esposito")
    page.fill("input[name=author-fiscal_code]", "RSSMRA85T10A562S")
    page.fill("input[name=author-email]", "giovanna@example.it")


def finish(page, live_server, heading, tickets=Ticket.objects):
    """The confirmation, its short code, the queued receipt e-mail and the PDF;
    returns the ticket (the only one of ``tickets``)."""
    page.wait_for_selector("[data-helpdesk-done]")
    assert heading in page.inner_text("[data-helpdesk-done]")
    accessible(page, "confirmation")
    ticket = tickets.get()
    assert ticket.short_code and ticket.short_code in page.inner_text("[data-helpdesk-done]")
    assert Notification.objects.filter(ticket=ticket, template="citizen/ticket_received").exists()
    href = page.get_attribute("a[href*='/helpdesk/receipt/']", "href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok and response.body().startswith(b"%PDF")
    return ticket


@pytest.mark.parametrize("citizen", [(DESKTOP, True), (PHONE, True), (PHONE, False),
                                     (DESKTOP, False)],
                         ids=["desktop", "phone", "phone-nojs", "desktop-nojs"], indirect=True)
def test_assistance_request(citizen, live_server, pages, tmp_path):
    page = citizen
    page.goto(f"{live_server.url}{pages.request.url}")
    assert page.inner_text(".steppers-index, [data-helpdesk-stepper]").strip().startswith("1/3")
    accessible(page, "request 1/3")
    page.select_option("select[name=category]", str(pages.service.category_id))
    page.select_option("select[name=service]", str(pages.service.pk))
    page.fill("textarea[name=details]", "Devo rinnovare la carta d'identità scaduta.")
    page.set_input_files("input[name=attachments]", photo(tmp_path))
    next_step(page)
    page.wait_for_selector("input[name=given_name]")
    accessible(page, "request 2/3")
    page.fill("input[name=given_name]", "Giovanna")
    page.fill("input[name=family_name]", "Esposito")
    page.fill("input[name=fiscal_code]", "RSSMRA85T10A562")  # one character short
    page.fill("input[name=email]", "giovanna@example.it")
    next_step(page)
    # Refused: the summary lists the error, what was typed is still there.
    page.wait_for_selector("[data-helpdesk-errors]")
    assert "codice fiscale" in page.inner_text("[data-helpdesk-errors]").lower()
    assert page.input_value("input[name=given_name]") == "Giovanna"
    accessible(page, "request 2/3 with errors")
    page.fill("input[name=fiscal_code]", "RSSMRA85T10A562S")
    next_step(page)
    reach(page, "summary")
    assert "buca.png" in page.content() and "carta d'identità scaduta" in page.content()
    accessible(page, "request 3/3")
    check_privacy(page)
    page.get_by_role("button", name="Invia richiesta").click()
    ticket = finish(page, live_server, "Richiesta inviata")
    assert (ticket.service, ticket.citizen.declared_fiscal_code) == (pages.service,
                                                                     "RSSMRA85T10A562S")
    assert ticket.attachments.get().original_name == "buca.png"


@pytest.mark.parametrize("citizen", [(DESKTOP, True), (PHONE, True)], ids=["desktop", "phone"],
                         indirect=True)
def test_report_with_map_search_nearby_and_photo(citizen, live_server, pages, nominatim,
                                                 tmp_path):
    page = citizen
    pages.factories.report_ticket(category=pages.category, latitude="41.901800",
                                  longitude="12.483300", address="Via delle Muratte 5")
    page.goto(f"{live_server.url}{pages.report.url}")
    accessible(page, "report 1/3")
    check_privacy(page)
    next_step(page)
    page.wait_for_selector("[data-helpdesk-map-picker]:not([hidden]) .leaflet-container")
    accessible(page, "report 2/3")
    # Address search through the server's proxy (a Nominatim-compatible server here).
    page.fill("input[name=address]", "piazza di trevi")
    page.get_by_role("button", name="Cerca l'indirizzo sulla mappa").click()
    page.get_by_role("button", name="Piazza di Trevi 1, Roma").click()
    assert page.input_value("input[name=latitude]") == "41.900900"
    assert page.input_value("input[name=address]") == "Piazza di Trevi 1, Roma"
    # The problem type shows the open report 100 m away.
    page.select_option("select[name=category]", str(pages.category.pk))
    page.wait_for_selector("[data-helpdesk-nearby]:not([hidden])")
    assert "Buche stradali, a 100 m" in page.inner_text("[data-helpdesk-nearby]")
    accessible(page, "report 2/3 with search results and nearby reports")
    # Dropping the pin on the map moves the point.
    box = page.locator(".helpdesk-map").bounding_box()
    page.locator(".helpdesk-map").click(position={"x": box["width"] - 80, "y": 90})
    page.wait_for_function(
        "document.querySelector('input[name=latitude]').value !== '41.900900'")
    lat, lng = page.input_value("input[name=latitude]"), page.input_value("input[name=longitude]")
    page.fill("input[name=title]", "Tombino rotto")
    page.fill("textarea[name=details]", "Il tombino è sollevato e pericoloso.")
    page.set_input_files("input[name=attachments]", photo(tmp_path))
    fill_author(page)
    next_step(page)
    reach(page, "summary")
    accessible(page, "report 3/3")
    page.get_by_role("button", name="Conferma e invia").click()
    ticket = finish(page, live_server, "Segnalazione inviata",
                    Ticket.objects.exclude(address="Via delle Muratte 5"))
    assert (str(ticket.latitude), str(ticket.longitude)) == (lat, lng)
    assert ticket.address == "Piazza di Trevi 1, Roma" and ticket.subject == "Tombino rotto"
    assert ticket.attachments.get().content_type == "image/png"


@pytest.mark.parametrize("citizen", [(PHONE, False), (DESKTOP, False)],
                         ids=["phone-nojs", "desktop-nojs"], indirect=True)
def test_report_without_javascript(citizen, live_server, pages, tmp_path):
    page = citizen
    page.goto(f"{live_server.url}{pages.report.url}")
    check_privacy(page)
    next_step(page)
    page.wait_for_selector("input[name=address]")
    assert page.locator("[data-helpdesk-map-picker]").is_hidden()
    accessible(page, "report 2/3 without JavaScript")
    page.fill("input[name=address]", "Via Roma 12")
    page.fill("input[name=latitude]", "48.8566")  # Paris: outside the area
    page.fill("input[name=longitude]", "2.3522")
    page.select_option("select[name=category]", str(pages.category.pk))
    page.fill("input[name=title]", "Buca")
    page.fill("textarea[name=details]", "Buca profonda.")
    page.set_input_files("input[name=attachments]", photo(tmp_path))
    fill_author(page)
    next_step(page)
    page.wait_for_selector("[data-helpdesk-errors]")
    assert "fuori dal territorio" in page.inner_text("[data-helpdesk-errors]")
    assert page.input_value("input[name=title]") == "Buca"
    assert "buca.png" in page.content()  # the photo was kept
    page.fill("input[name=latitude]", "41,9028")  # a comma works too
    page.fill("input[name=longitude]", "12.4964")
    next_step(page)
    reach(page, "summary")
    page.get_by_role("button", name="Conferma e invia").click()
    ticket = finish(page, live_server, "Segnalazione inviata")
    assert (str(ticket.latitude), ticket.address) == ("41.902800", "Via Roma 12")
    assert ticket.attachments.count() == 1


@pytest.mark.parametrize("citizen", [(PHONE, True)], ids=["phone"], indirect=True)
def test_rating_page(citizen, live_server, factories):
    from wagtail_helpdesk import services
    from wagtail_helpdesk.models import EventKind
    from wagtail_helpdesk.services import CitizenActor
    from wagtail_helpdesk.services.rating import rating_token

    office = factories.office()
    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    operator = factories.operator(office)
    ticket = services.resolve(services.take_charge(ticket, operator), operator,
                              factories.resolution_type(), "Fatto.")
    resolved = ticket.events.get(kind=EventKind.RESOLVED)
    page = citizen
    page.goto(f"{live_server.url}/helpdesk/rating/{rating_token(ticket.pk, resolved.pk)}/")
    accessible(page, "rating")
    page.locator("label[for=rating-score-5]").click()
    page.fill("#rating-comment", "Ottimo servizio.")
    page.get_by_role("button", name="Invia la valutazione").click()
    page.wait_for_selector("[data-helpdesk-rated]")
    accessible(page, "rating sent")
    assert ticket.events.get(kind=EventKind.RATING).data["score"] == 5
