"""Accessibility of the citizens' form journeys beyond axe: where focus goes
after a step, what the page's title says, the page's language with an
English browser, the map's controls, one heading hierarchy."""

import re

import pytest
from bs4 import BeautifulSoup
from django.utils import translation

from tests.browser.test_browser_citizen import (  # noqa: F401 (the ``citizen`` fixture)
    DESKTOP,
    accessible,
    check_privacy,
    citizen,
    next_step,
    reach,
)
from tests.support.citizen import PERSON, post, send_request, shown


def title_of(html):
    return " ".join(BeautifulSoup(html, "html.parser").title.get_text().split())


def headings(html):
    main = BeautifulSoup(html, "html.parser").find("main")
    return [(int(tag.name[1]), " ".join(tag.get_text().split()))
            for tag in main.find_all(re.compile(r"^h[1-6]$"))]


def assert_one_hierarchy(found):
    levels = [level for level, _text in found]
    assert levels[0] == 1 and levels.count(1) == 1, found
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, f"a heading level skipped: {found}"


# --- the redirect's fragment and the page's title (test client) ------------------------------

def test_the_redirect_names_what_to_focus_and_the_title_names_the_step(client, pages):
    page, block = pages.request, pages.request_block
    dom = f"helpdesk-{block.id[:8]}"
    assert "Step" not in title_of(shown(client, page))  # an untouched form: the page's title
    refused = post(client, page, block, {"action": "next", "details": ""})
    assert refused["Location"] == f"{page.url}#{dom}-errors"
    assert title_of(shown(client, page)).startswith("Error - Step 1 of 3: Request - ")
    moved = post(client, page, block, {"action": "next", "category": pages.service.category_id,
                                       "service": pages.service.pk, "details": "Carta scaduta."})
    assert moved["Location"] == f"{page.url}#{dom}-step"
    title = title_of(shown(client, page))
    assert title.startswith("Step 2 of 3: Personal data - ") and page.title in title
    post(client, page, block, {"action": "next", **PERSON})
    sent = post(client, page, block, {"action": "submit", "privacy": "on"})
    assert sent["Location"] == f"{page.url}#{dom}-done"
    assert title_of(shown(client, page)).startswith("Request sent - ")


# --- the page's language (item: an English browser on an Italian site) ------------------------

def test_an_english_browser_gets_the_italian_site_in_italian(client, pages, settings):
    import example_site.settings as site

    settings.LANGUAGE_CODE, settings.LANGUAGES = site.LANGUAGE_CODE, site.LANGUAGES
    response = client.get(pages.report.url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="it">' in html and response["Content-Language"] == "it"
    assert re.search(r'data-element="report-inefficiency"[^>]*>\s*Segnala disservizio', html)
    assert "Report a problem" not in html and "Next" not in html
    assert "Avanti" in html  # the form's own labels speak the page's language too


def test_operators_can_still_choose_english_for_the_admin(client, settings, factories):
    import example_site.settings as site

    settings.LANGUAGE_CODE, settings.LANGUAGES = site.LANGUAGE_CODE, site.LANGUAGES
    settings.WAGTAILADMIN_PERMITTED_LANGUAGES = site.WAGTAILADMIN_PERMITTED_LANGUAGES
    from wagtail.users.models import UserProfile

    user = factories.administrator()
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    client.force_login(user)
    assert '<html lang="en"' in client.get("/admin/").content.decode()


# --- one heading hierarchy, the introduction once --------------------------------------------

def test_one_heading_hierarchy_and_the_introduction_once(client, pages):
    page, block = pages.request, pages.request_block
    heading, intro = block.value["heading"], block.value["intro"]
    first = shown(client, page)
    found = headings(first)
    assert_one_hierarchy(found)
    assert found[:3] == [(1, page.title), (2, heading), (3, "Step 1 of 3: Request")]
    assert first.count(intro) == 1
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "Carta scaduta."})
    second = shown(client, page)
    assert_one_hierarchy(headings(second))
    assert intro not in second  # said once, before the journey starts
    post(client, page, block, {"action": "next", "email": "no"})
    with_errors = headings(shown(client, page))
    assert_one_hierarchy(with_errors)
    assert with_errors[2] == (3, "Step 2 of 3: Personal data") and with_errors[3][0] == 4
    post(client, page, block, {"action": "next", **PERSON})
    post(client, page, block, {"action": "submit", "privacy": "on"})
    done = headings(shown(client, page))
    assert done == [(1, page.title), (2, "Request sent")]


def test_a_block_heading_repeating_the_page_title_is_left_out(client, pages):
    page = pages.request
    body = page.body
    body[0].value["heading"] = f"  {page.title.upper()} "
    body[0].value["intro"] = page.intro
    page.save_revision().publish()
    html = shown(client, page)
    found = headings(html)
    assert_one_hierarchy(found)
    assert found[:2] == [(1, page.title), (2, "Step 1 of 3: Request")]
    assert html.count(page.intro) == 1
    send_request(client, pages)
    assert headings(shown(client, page)) == [(1, page.title), (2, "Request sent")]


# --- in Chromium: focus, title, map ----------------------------------------------------------

def focused(page):
    """What has focus a second after the page loaded (the browser's own
    fragment handling comes after the page's scripts)."""
    page.wait_for_timeout(1000)
    return page.evaluate("""() => {
        const el = document.activeElement;
        return {id: el.id, errors: el.hasAttribute('data-helpdesk-errors'),
                text: el.innerText.trim().replace(/\\s+/g, ' ')};
    }""")


@pytest.mark.parametrize("citizen", [(DESKTOP, True), (DESKTOP, False)],
                         ids=["js", "nojs"], indirect=True)
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_focus_and_title_after_each_step(citizen, live_server, pages):  # noqa: F811
    page = citizen
    page.goto(f"{live_server.url}{pages.request.url}")
    assert "Passo" not in page.title()
    next_step(page)  # nothing chosen: refused
    page.wait_for_selector("[data-helpdesk-errors]")
    assert focused(page)["errors"], "the error summary has focus"
    assert page.title().startswith("Errore - Passo 1 di 3: Richiesta - ")
    accessible(page, "request 1/3 with errors")
    page.select_option("select[name=category]", str(pages.service.category_id))
    page.select_option("select[name=service]", str(pages.service.pk))
    page.fill("textarea[name=details]", "Devo rinnovare la carta d'identità.")
    next_step(page)
    reach(page, "person")
    now = focused(page)
    assert now["id"].endswith("-step") and now["text"] == "Passo 2 di 3: Dati personali"
    assert page.title().startswith("Passo 2 di 3: Dati personali - ")
    accessible(page, "request 2/3")
    page.fill("input[name=given_name]", PERSON["given_name"])
    page.fill("input[name=family_name]", PERSON["family_name"])
    page.fill("input[name=fiscal_code]", PERSON["fiscal_code"].upper())
    page.fill("input[name=email]", PERSON["email"])
    next_step(page)
    reach(page, "summary")
    check_privacy(page)
    page.get_by_role("button", name="Invia richiesta").click()
    page.wait_for_selector("[data-helpdesk-done]")
    now = focused(page)
    assert now["id"].endswith("-done") and now["text"] == "Richiesta inviata"
    assert page.title().startswith("Richiesta inviata - ")
    accessible(page, "confirmation")


@pytest.mark.parametrize("citizen", [(DESKTOP, True)], ids=["js"], indirect=True)
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_the_map_speaks_italian_and_comes_after_the_typed_place(
        citizen, live_server, pages):  # noqa: F811
    page = citizen
    page.goto(f"{live_server.url}{pages.report.url}")
    check_privacy(page)
    next_step(page)
    page.wait_for_selector("[data-helpdesk-map-picker]:not([hidden]) .leaflet-container")
    accessible(page, "report 2/3")
    picker = page.locator("[data-helpdesk-map-picker]")
    zoom_in, zoom_out = page.locator(".leaflet-control-zoom-in"), page.locator(
        ".leaflet-control-zoom-out")
    assert zoom_in.get_attribute("title") == picker.get_attribute("data-zoom-in-text")
    assert zoom_out.get_attribute("title") == picker.get_attribute("data-zoom-out-text")
    with translation.override("it"):
        assert (zoom_in.get_attribute("aria-label"), zoom_out.get_attribute("aria-label")) == (
            translation.gettext("Zoom in"), translation.gettext("Zoom out"))
    # From the step's heading (focused after "Avanti"), Tab reaches the typed
    # place first; the map's own stops come after the coordinates.
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("""() => {
            const el = document.activeElement;
            return {name: el.getAttribute('name') || '',
                    map: !!el.closest('[data-helpdesk-map-picker]')};
        }"""))
    assert [s["name"] for s in stops[:3]] == ["address", "latitude", "longitude"], stops
    assert any(s["map"] for s in stops), "the map is still reachable by keyboard"
    first_map = next(i for i, s in enumerate(stops) if s["map"])
    assert first_map == 3, stops
