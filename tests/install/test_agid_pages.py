"""AgID conformance criteria on the example site (italia/pa-website-validator-ng):
C.SI.2.2 (service pages' contacts lead to the assistance request), C.SI.3.2-3.4
(footer links to the accessibility statement, privacy notice and legal notes)
and the header's link to the citizens' login (personal-area-login)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from wagtail.models import Page, Site

from example_site.home import site_pages
from wagtail_helpdesk.models import HelpdeskSettings

pytestmark = pytest.mark.django_db


def soup(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return BeautifulSoup(response.content.decode(), "html.parser")


def page(slug):
    return Page.objects.get(slug=slug).specific


def test_the_example_sites_pages_exist_and_are_live():
    for slug, model in ((site_pages.PRIVACY_SLUG, "StandardPage"),
                        (site_pages.ACCESSIBILITY_SLUG, "StandardPage"),
                        (site_pages.LEGAL_NOTES_SLUG, "LegalNotesPage"),
                        (site_pages.SERVICES_SLUG, "ServiceIndexPage"),
                        (site_pages.SERVICE_SLUG, "ServicePage")):
        found = page(slug)
        assert found.live and type(found).__name__ == model, slug
    site = Site.objects.get(is_default_site=True)
    assert HelpdeskSettings.for_site(site).privacy_page_id == page(site_pages.PRIVACY_SLUG).pk
    assert page(site_pages.SERVICE_SLUG).get_parent().specific == page(site_pages.SERVICES_SLUG)


@pytest.mark.parametrize("element,slug", [
    ("privacy-policy-link", site_pages.PRIVACY_SLUG),
    ("accessibility-link", site_pages.ACCESSIBILITY_SLUG),
    ("legal-notes", site_pages.LEGAL_NOTES_SLUG),
])
def test_the_footer_links_the_legal_pages(client, element, slug):
    html = soup(client, "/")
    link = html.find("footer").select_one(f'a[data-element="{element}"]')
    assert link is not None and link["href"] == page(slug).url
    assert link.get_text(strip=True)
    soup(client, link["href"])  # the page exists


def test_the_header_leads_to_the_citizens_login(client, factories):
    header = soup(client, "/").find("header")
    link = header.select_one('a[data-element="personal-area-login"]')
    target = urlsplit(link["href"])
    assert target.path == reverse("wagtail_helpdesk_oidc_login")
    assert parse_qs(target.query)["next"] == [reverse("wagtail_helpdesk_my_tickets")]
    assert client.get(link["href"]).status_code == 200
    client.force_login(factories.user(username="cittadina"))
    header = soup(client, "/").find("header")
    link = header.select_one('a[data-element="personal-area-login"]')
    assert link["href"] == reverse("wagtail_helpdesk_my_tickets")


def test_the_header_menu_leads_to_all_services(client):
    header = soup(client, "/").find("header")
    link = header.select_one('.navbar a.nav-link[data-element="all-services"]')
    assert link is not None and link["href"] == page(site_pages.SERVICES_SLUG).url
    services = soup(client, link["href"])
    cards = services.select('a[data-element="service-link"]')
    assert [a["href"] for a in cards] == [page(site_pages.SERVICE_SLUG).url]


def test_a_service_page_has_contacts_leading_to_the_assistance_request(client):
    """C.SI.2.2: "Contatti" in the page index, a service-area component."""
    html = soup(client, page(site_pages.SERVICE_SLUG).url)
    index = html.select('[data-element="page-index"] > li > a')
    assert "Contatti" in [a.get_text(strip=True) for a in index]
    contacts = next(a for a in index if a.get_text(strip=True) == "Contatti")
    section = html.select_one(contacts["href"])
    area = section.select_one('[data-element="service-area"]')
    assert area is not None and "anagrafe@comune.example.it" in area.get_text()
    request_link = area.select_one('a[data-element="contacts"]')
    assert request_link["href"] == page("richiedi-assistenza").url
    assert soup(client, request_link["href"]).select_one("[data-helpdesk-form]") is not None


def test_the_legal_notes_carry_the_licence_section(client):
    """C.SI.3.4: heading "Licenza dei contenuti" and the prescribed text."""
    html = soup(client, page(site_pages.LEGAL_NOTES_SLUG).url)
    heading = html.select_one('[data-element="legal-notes-section"]')
    assert heading.get_text(strip=True).lower() == "licenza dei contenuti"
    body = " ".join(p.get_text() for p in html.select('p[data-element="legal-notes-body"]'))
    assert " ".join(body.split()) == site_pages.LICENCE_TEXT
    assert "CC-BY 4.0" in body
