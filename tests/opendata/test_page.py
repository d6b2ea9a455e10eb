"""The public page of the open data: one heading hierarchy, the page's
language, a title naming the dataset; axe-core in Chromium on a phone."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from bs4 import BeautifulSoup

from wagtail_helpdesk.models import OpenDataSettings

URL = "/helpdesk/open-data/"


@pytest.mark.django_db
def test_one_heading_hierarchy_a_title_and_the_language(client, territory):
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "en"
    assert " ".join(soup.title.get_text().split()) == "Segnalazioni dei cittadini - Comune di Prova"
    levels = [int(tag.name[1]) for tag in soup.main.find_all(re.compile(r"^h[1-6]$"))]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(after <= before + 1 for before, after in zip(levels, levels[1:], strict=False))
    table = soup.find("table")
    assert table.caption and table.find_all("th", scope="row")
    # The catalogue finds the description from the page.
    assert soup.find("link", rel="alternate", type="application/rdf+xml")["href"].endswith(
        "/helpdesk/open-data/catalogo.rdf")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_page_passes_axe_on_a_phone(browser, live_server, factories):
    site = factories.default_site()
    options = OpenDataSettings.for_site(site)
    options.enabled, options.publisher_name = True, "Comune di Prova"
    options.contact_email = "opendata@comune.example.it"
    options.save()
    context = browser.new_context(locale="it-IT", viewport={"width": 390, "height": 844},
                                  is_mobile=True)
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{URL}")
        assert page.get_by_role("heading", level=1).inner_text() == "Segnalazioni dei cittadini"
        results = Axe().run(page)
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, bad
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV").click()
        assert download.value.suggested_filename == "segnalazioni.csv"
    finally:
        context.close()
