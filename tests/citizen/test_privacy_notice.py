"""The citizen forms ask for consent only with the privacy notice in front of
the citizen (GDPR art. 13); without one they are not shown."""

import json

import pytest
from bs4 import BeautifulSoup
from wagtail.models import Page, Site

from wagtail_helpdesk.models import HelpdeskSettings

pytestmark = pytest.mark.django_db

FORM_PAGES = ["/richiedi-assistenza/", "/segnala-disservizio/"]


def helpdesk_settings():
    return HelpdeskSettings.for_site(Site.objects.get(is_default_site=True))


def privacy_page():
    return Page.objects.get(pk=helpdesk_settings().privacy_page_id).specific


@pytest.fixture
def no_notice():
    settings_ = helpdesk_settings()
    settings_.privacy_page = None
    settings_.save()


def notice_link(form):
    return next((a for a in form.find_all("a") if "Read the privacy notice" in a.get_text()),
                None)


def form_of(client, path):
    html = client.get(path).content.decode()
    return BeautifulSoup(html, "html.parser").select_one("[data-helpdesk-form]")


def test_the_example_site_has_a_real_privacy_notice():
    page = privacy_page()
    assert page.live and page.slug == "informativa-privacy"
    text = BeautifulSoup(str(page.body), "html.parser").get_text(" ")
    for expected in ("Comune di Esempio", "art. 6", "lettera e)", "Responsabile della protezione",
                     "OpenStreetMap", "SPID", "CIE", "Garante", "conserviamo"):
        assert expected.lower() in text.lower(), expected


def test_the_report_form_links_the_notice_next_to_the_consent(client):
    form = form_of(client, "/segnala-disservizio/")
    assert form.select_one('[data-helpdesk-step="privacy"]') is not None
    link = notice_link(form)
    assert link is not None and link["href"] == privacy_page().url
    assert form.select_one('input[name$="privacy"][type=checkbox]') is not None


@pytest.mark.parametrize("path", FORM_PAGES)
def test_without_a_notice_the_public_sees_no_form(client, no_notice, path):
    form = form_of(client, path)
    assert form.select_one('[data-helpdesk-privacy-missing="public"]') is not None
    assert "This form is not available yet" in form.get_text()
    assert form.find("form") is None
    assert form.select_one('input[type=checkbox]') is None
    assert "Settings" not in form.get_text()


@pytest.mark.parametrize("path", FORM_PAGES)
def test_without_a_notice_an_editor_is_told_what_to_do(client, no_notice, path, factories):
    admin = factories.user(username="redattrice", is_superuser=True, is_staff=True)
    client.force_login(admin)
    form = form_of(client, path)
    box = form.select_one('[data-helpdesk-privacy-missing="editor"]')
    assert box is not None and "Settings → Helpdesk" in box.get_text()
    site = Site.objects.get(is_default_site=True)
    assert box.find("a")["href"] == (
        f"/admin/settings/wagtail_helpdesk/helpdesksettings/{site.pk}/")
    assert form.find("form") is None


def test_an_unpublished_notice_counts_as_none(client):
    privacy_page().unpublish()
    form = form_of(client, "/segnala-disservizio/")
    assert form.select_one('[data-helpdesk-privacy-missing="public"]') is not None
    assert form.find("form") is None


def test_the_blocks_own_notice_page_is_enough(client, no_notice):
    """A block may name its own notice page instead of the site setting."""
    from example_site.home.models import StandardPage

    page = StandardPage.objects.get(slug="richiedi-assistenza")
    raw = json.loads(json.dumps(list(page.body.raw_data)))
    raw[0]["value"]["privacy_page"] = Page.objects.get(slug="informativa-privacy").pk
    page.body = json.dumps(raw)
    page.save()
    form = form_of(client, "/richiedi-assistenza/")
    assert form.select_one("[data-helpdesk-privacy-missing]") is None
    assert form.find("form") is not None


def test_a_block_preview_without_a_notice_speaks_to_the_editor(no_notice):
    """The admin's block preview has no page: it is an editor looking."""
    from wagtail_helpdesk.blocks import AssistanceRequestBlock

    block = AssistanceRequestBlock()
    value = block.get_preview_value()
    html = block.render(value, block.get_preview_context(value))
    assert 'data-helpdesk-privacy-missing="editor"' in html


def test_a_submission_page_keeps_working_with_the_notice(client, factories):
    """The full request journey, consent with the notice linked on step 3."""
    from example_site.home.models import StandardPage
    from tests.support.citizen import PERSON, post
    from wagtail_helpdesk.models import Ticket

    page = StandardPage.objects.get(slug="richiedi-assistenza")
    block = next(iter(page.body))
    service = factories.service(factories.office(name="URP"), name="Carta d'identità")
    post(client, page, block, {"action": "next", "category": service.category_id,
                               "service": service.pk, "details": "Devo rinnovare la carta."})
    post(client, page, block, {"action": "next", **PERSON})
    form = form_of(client, "/richiedi-assistenza/")
    link = notice_link(form)
    assert link is not None and link["href"] == privacy_page().url
    post(client, page, block, {"action": "submit", "privacy": "on"})
    assert Ticket.objects.count() == 1


def test_without_a_notice_a_crafted_submission_files_nothing(client, factories, no_notice):
    from example_site.home.models import StandardPage
    from tests.support.citizen import PERSON, post
    from wagtail_helpdesk.models import Ticket

    page = StandardPage.objects.get(slug="richiedi-assistenza")
    block = next(iter(page.body))
    service = factories.service(factories.office(name="URP"), name="Carta d'identità")
    post(client, page, block, {"action": "next", "category": service.category_id,
                               "service": service.pk, "details": "Devo rinnovare la carta."})
    post(client, page, block, {"action": "next", **PERSON})
    response = post(client, page, block, {"action": "submit", "privacy": "on"})
    assert response.status_code in (302, 303)
    assert Ticket.objects.count() == 0
