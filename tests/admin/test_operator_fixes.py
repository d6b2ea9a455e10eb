"""A municipality's first week, the operators' side: a short code found by its
number alone, quick replies that name the ticket's kind, the admin's own
messages, /admin/helpdesk/ itself, and axe on the dashboard and the ticket
page's map. (Erasure keeping open reports' problem: tests/services/test_erasure.py.)"""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from tests.support.browser import axe_serious, log_in
from wagtail_helpdesk.demo.replies import default_office_replies
from wagtail_helpdesk.models import Office, QuickReply, ShortCodeMode, ShortCodeSequence, Ticket
from wagtail_helpdesk.quickreplies.placeholders import PLACEHOLDERS, render_reply

LIST_URL = "/admin/helpdesk/tickets/"


# --- 1. Short codes found by their number --------------------------------------------------


@pytest.fixture
def numbered(factories):
    """In URP: request AST-<year>-000144, report SEG-<year>-000144, request
    AST-<year>-001144, and AST-2025-000144 from last year's counter."""
    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST",
                       report_prefix="SEG")
    office = factories.office(name="URP")
    me = factories.operator(office)
    service, category = factories.service(office), factories.report_category(office)
    year = timezone.localtime().year
    ShortCodeSequence.objects.create(prefix="AST", year=year, last_value=143)
    ShortCodeSequence.objects.create(prefix="SEG", year=year, last_value=143)
    request = factories.request_ticket(service_=service)
    report = factories.report_ticket(category=category)
    ShortCodeSequence.objects.filter(prefix="AST", year=year).update(last_value=1143)
    later = factories.request_ticket(service_=service)
    last_year = factories.request_ticket(service_=service)
    Ticket.objects.filter(pk=last_year.pk).update(short_code="AST-2025-000144")
    ShortCodeSequence.objects.create(prefix="AST", year=2025, last_value=900)
    tickets = {"request": request, "report": report, "later": later, "last_year": last_year}
    for ticket in tickets.values():
        ticket.refresh_from_db()
    assert (request.short_code, report.short_code, later.short_code) == (
        f"AST-{year}-000144", f"SEG-{year}-000144", f"AST-{year}-001144")
    return type("Numbered", (), {"me": me, "t": tickets, "year": year})


def listed(client, desk, query):
    client.force_login(desk.me)
    response = client.get(LIST_URL, {"queue": "all", "q": query})
    assert response.status_code == 200
    html = response.content.decode()
    return {name for name, t in desk.t.items()
            if reverse("helpdesk_tickets:detail", args=[t.pk]) in html}


@pytest.mark.parametrize("query", ["144", "000144", "#144", " 0144 "])
def test_the_list_finds_a_short_code_by_its_number_in_any_prefix_and_year(client, numbered,
                                                                          query):
    assert listed(client, numbered, query) == {"request", "report", "last_year"}


def test_a_year_and_a_number_narrow_it_to_that_year(client, numbered):
    assert listed(client, numbered, "2025-144") == {"last_year"}
    assert listed(client, numbered, f"{numbered.year}/000144") == {"request", "report"}
    assert listed(client, numbered, "1144") == {"later"}


def test_a_number_still_finds_the_ticket_with_that_number(client, numbered):
    later = numbered.t["later"]
    assert "later" in listed(client, numbered, str(later.pk))


def test_the_api_search_finds_a_short_code_by_its_number(caller, numbered):
    response = caller(numbered.me).get("/tickets/", {"q": "000144", "queue": "all"})
    assert response.status_code == 200, response.content
    assert {item["id"] for item in response.json()["items"]} == {
        numbered.t[name].pk for name in ("request", "report", "last_year")}


# --- 3. Quick replies name the ticket's kind --------------------------------------------------


def test_the_taken_in_charge_reply_calls_a_report_a_report(factories, settings):
    settings.LANGUAGE_CODE = "it"
    office = factories.office(name="URP")
    me = factories.operator(office, first_name="Anna", last_name="Bianchi")
    report = factories.report_ticket(category=factories.report_category(office),
                                     citizen=factories.citizen())
    request = factories.request_ticket(service_=factories.service(office))
    data = next(r for r in default_office_replies() if r["title"] == "Presa in carico")
    reply = QuickReply(office=office, **data)
    assert "tipo" in PLACEHOLDERS
    with translation.override("it"):
        report_text = render_reply(reply, report, me)
        request_text = render_reply(reply, request, me)
        words = {kind: render_reply(QuickReply(body="{tipo}"), ticket, me)
                 for kind, ticket in (("report", report), ("request", request))}
    assert "richiesta" not in report_text
    assert f"la sua {words['report']} {report.reference}" in report_text
    assert f"la sua {words['request']} {request.reference}" in request_text
    assert words["report"] != words["request"] and "{" not in words["report"]
    # No default reply calls every ticket a request.
    for data in default_office_replies():
        assert "la richiesta {codice}" not in data["body"]
        assert "la sua richiesta" not in data["body"]


def test_the_kind_word_is_in_the_sites_language_whatever_the_operators(factories, settings):
    settings.LANGUAGE_CODE = "en"
    office = factories.office()
    report = factories.report_ticket(category=factories.report_category(office))
    with translation.override("it"):
        word = render_reply(QuickReply(body="{tipo}"), report, factories.operator(office))
    assert word == "report"


# --- 5. The admin's messages in the app's words ---------------------------------------------------


def messages_of(response):
    """The messages of the response (the first line: buttons follow). Post with
    ``post`` so that none is left over from an earlier request."""
    return [str(m).strip().splitlines()[0] for m in get_messages(response.wsgi_request)]


def post(client, url, data=None):
    client.cookies.pop("messages", None)
    return client.post(url, data or {})


def quick_reply_form(**overrides):
    data = {"scope": "personal", "title": "Documenti mancanti", "shortcut": "documenti",
            "category": "", "body": "Gentile {cittadino}, manca un documento.", "active": "on"}
    data.update(overrides)
    return data


def test_quick_reply_messages(client, factories):
    me = factories.operator(factories.office())
    client.force_login(me)
    add = reverse("helpdesk_quick_replies:add")
    response = post(client, add, quick_reply_form(body="Gentile {citadino}"))
    assert response.status_code == 200
    assert messages_of(response) == ["Nothing was saved: correct the errors below."]
    response = post(client, add, quick_reply_form())
    assert response.status_code == 302
    assert messages_of(response) == ["Quick reply “Documenti mancanti” created."]
    reply = QuickReply.objects.get(shortcut="documenti")
    edit = reverse("helpdesk_quick_replies:edit", args=[reply.pk])
    response = post(client, edit, quick_reply_form(title="Documento mancante"))
    assert messages_of(response) == ["Quick reply “Documento mancante” updated."]
    response = post(client, edit, quick_reply_form(shortcut="due parole"))
    assert messages_of(response) == ["Nothing was saved: correct the errors below."]
    response = post(client, reverse("helpdesk_quick_replies:delete", args=[reply.pk]))
    assert messages_of(response) == ["Quick reply “Documento mancante” deleted."]


def test_the_italian_message_is_not_wagtails_generic_one(client, factories):
    """Wagtail's Italian says "Risposta rapidanon può essere creato…"."""
    from wagtail.users.models import UserProfile

    me = factories.operator(factories.office())
    profile = UserProfile.get_for_user(me)
    profile.preferred_language = "it"
    profile.save()
    client.force_login(me)
    response = post(client, reverse("helpdesk_quick_replies:add"),
                    quick_reply_form(body="{citadino}"))
    assert 'lang="it"' in response.content.decode()
    shown = messages_of(response)
    assert len(shown) == 1 and "non può essere creato" not in shown[0]


@pytest.mark.parametrize(("viewset", "data", "noun"), [
    ("helpdesk_offices", {"name": "Ufficio Tributi", "slug": "tributi", "email": "", "phone": "",
                          "chat_routing": "offer", "active": "on"}, "Office"),
    ("helpdesk_service_categories", {"name": "Anagrafe", "slug": "anagrafe", "sort_order": "0",
                                     "active": "on"}, "Service category"),
    ("helpdesk_resolution_types", {"name": "Ritirata", "slug": "ritirata", "sort_order": "0",
                                   "active": "on"},
     "Resolution type"),
])
def test_catalogue_messages(admin_client, viewset, data, noun):
    response = post(admin_client, reverse(f"{viewset}:add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert messages_of(response) == [f"{noun} “{data['name']}” created."]
    response = post(admin_client, reverse(f"{viewset}:add"), {**data, "name": ""})
    assert response.status_code == 200
    assert messages_of(response) == ["Nothing was saved: correct the errors below."]


def test_office_update_and_delete_messages(admin_client):
    office = Office.objects.create(name="Tributi", slug="tributi")
    response = post(admin_client, reverse("helpdesk_offices:edit", args=[office.pk]), {
        "name": "Ufficio Tributi", "slug": "tributi", "email": "", "phone": "",
        "chat_routing": "offer", "active": "on"})
    assert messages_of(response) == ["Office “Ufficio Tributi” updated."]
    response = post(admin_client, reverse("helpdesk_offices:delete", args=[office.pk]))
    assert messages_of(response) == ["Office “Ufficio Tributi” deleted."]


# --- 6. /admin/helpdesk/ ------------------------------------------------------------------------


def test_the_helpdesk_root_leads_to_the_ticket_list(client, factories):
    response = client.get("/admin/helpdesk/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(factories.operator(factories.office()))
    response = client.get("/admin/helpdesk/")
    assert response.status_code == 302
    assert response["Location"] == reverse("helpdesk_tickets:index")
    assert client.get(response["Location"]).status_code == 200


# --- 4. Accessibility of the dashboard and the ticket page (axe in Chromium) -------------------

@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_the_dashboard_and_the_ticket_map_pass_axe(page, live_server, factories):
    office = factories.office(name="Lavori pubblici")
    factories.supervisor(office, username="sara")
    report = factories.report_ticket(category=factories.report_category(office))
    factories.request_ticket(service_=factories.service(office))
    # Nothing leaves the machine (map tiles included).
    page.context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                       lambda route: route.abort())
    log_in(page, live_server, "sara")

    page.goto(f"{live_server.url}/admin/helpdesk/dashboard/")
    page.get_by_role("link", name="Aggiorna").wait_for()
    assert axe_serious(page) == []

    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{report.pk}/")
    page.wait_for_selector("[data-map-ready] .leaflet-control-zoom-in")
    assert axe_serious(page) == []
