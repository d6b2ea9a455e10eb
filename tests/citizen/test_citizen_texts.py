"""What citizens read: dates in Italian (month names in lower case) on pages,
in e-mails and in the PDF receipt; the report form's error summary naming
the "Photos" field; one limit, and one text, for the files a citizen may
attach; the personal area's messages in the sans-serif type; a phone number
checked; a login cancelled at the identity provider said as such."""

import datetime
import re
from urllib.parse import parse_qs, urlencode, urlparse
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.services.test_identity_trust import pdf_text
from tests.support.citizen import PERSON, post, report_step_two, shown
from tests.support.images import png_bytes
from wagtail_helpdesk.citizen.receipt import receipt_pdf
from wagtail_helpdesk.formats import format_date, format_datetime
from wagtail_helpdesk.models import Notification, Ticket
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

ROME = ZoneInfo("Europe/Rome")
#: Wednesday 18 November 2026, 14:30 in Rome.
WHEN = datetime.datetime(2026, 11, 18, 14, 30, tzinfo=ROME)
CAPITALISED = re.compile(r"\b(Gennaio|Febbraio|Marzo|Aprile|Maggio|Giugno|Luglio|Agosto|"
                         r"Settembre|Ottobre|Novembre|Dicembre|Lunedì|Martedì|Mercoledì|"
                         r"Giovedì|Venerdì|Sabato|Domenica)\b")
IT = {"HTTP_ACCEPT_LANGUAGE": "it"}


@pytest.fixture
def anna(factories):
    user = get_user_model().objects.create_user(username="spid-anna", password=None)
    citizen = factories.citizen(given_name="Anna", user=user)
    ticket = factories.request_ticket(CitizenActor(citizen), citizen_=citizen,
                                      description="Mi serve il certificato.")
    Ticket.objects.filter(pk=ticket.pk).update(submitted_at=WHEN, last_activity_at=WHEN)
    client = Client(**IT)
    client.force_login(user)
    ticket.refresh_from_db()
    return type("Anna", (), {"citizen": citizen, "ticket": ticket, "client": client})


# --- dates ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_dates_in_the_personal_area_have_month_names_in_lower_case(anna):
    listing = anna.client.get(reverse("wagtail_helpdesk_my_tickets")).content.decode()
    assert "18 novembre 2026" in listing
    page = anna.client.get(reverse("wagtail_helpdesk_my_ticket",
                                   args=[anna.ticket.pk])).content.decode()
    assert "18 novembre 2026, 14:30" in page
    assert not CAPITALISED.search(listing) and not CAPITALISED.search(page)


@pytest.mark.django_db
def test_the_receipt_e_mail_gives_the_due_date_in_lower_case(factories):
    ticket = factories.request_ticket(service_=factories.service(sla_days=5))
    Ticket.objects.filter(pk=ticket.pk).update(due_at=WHEN)
    mail.outbox.clear()
    tasks.deliver(list(Notification.objects.filter(status="pending")
                       .values_list("pk", flat=True)))
    receipt = next(m for m in mail.outbox if ticket.reference in m.subject)
    assert "18 novembre 2026" in receipt.body
    assert not CAPITALISED.search(receipt.body)


@pytest.mark.django_db
def test_the_pdf_receipt_gives_the_date_in_lower_case(factories):
    ticket = factories.request_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(submitted_at=WHEN)
    ticket.refresh_from_db()
    with translation.override("it"):
        text = pdf_text(receipt_pdf(ticket))
    assert "18 novembre 2026, 14:30" in text
    assert not CAPITALISED.search(text)


def test_only_languages_that_write_names_in_lower_case_are_changed():
    with translation.override("it"):
        assert format_date(WHEN, "l j F Y") == "mercoledì 18 novembre 2026"
        assert format_date(WHEN, "D j M") == "mer 18 nov"
        assert format_datetime(WHEN) == "18 novembre 2026, 14:30"
    with translation.override("en"):
        assert format_date(WHEN, "l j F Y") == "Wednesday 18 November 2026"
    assert format_date(None) == ""


# --- the report form's files ------------------------------------------------------------


def test_the_error_summary_names_the_photos_field(client, pages):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages), files=[
        SimpleUploadedFile("virus.png", b"MZ\x90\x00not an image", "image/png")])
    html = shown(client, page)
    summary = html[html.index("data-helpdesk-errors"):]
    summary = summary[:summary.index("</ul>")]
    assert re.search(r'<a href="#[^"]+-attachments">Photos: ', summary)
    assert "Attachments" not in summary


def _files_hint(html):
    return re.search(r"Optional\. Up to \d+ files?: [^<]+", html)[0]


def test_one_limit_and_one_text_for_the_files_a_citizen_attaches(client, pages, anna):
    form_hint = _files_hint(client.get(pages.request.url).content.decode())
    area = Client()
    area.force_login(anna.citizen.user)
    url = reverse("wagtail_helpdesk_my_ticket", args=[anna.ticket.pk])
    area_hint = _files_hint(area.get(url).content.decode())
    assert form_hint == area_hint == "Optional. Up to 3 files: JPEG, PNG or WebP images, or PDF."
    # The personal area keeps to it: a fourth file is refused, nothing is sent.
    files = [SimpleUploadedFile(f"foto{n}.png", png_bytes(), "image/png") for n in range(4)]
    response = area.post(url, {"body": "Ecco le foto.", "files": files})
    assert response.status_code == 400
    assert "Attach at most 3 files at a time." in response.content.decode()
    assert not anna.ticket.events.filter(body="Ecco le foto.").exists()


@pytest.mark.django_db
def test_a_form_never_promises_more_files_than_the_site_accepts(client, pages, settings):
    settings.WAGTAIL_HELPDESK_ATTACHMENT_MAX_COUNT = 2
    assert _files_hint(client.get(pages.request.url).content.decode()) == \
        "Optional. Up to 2 files: JPEG, PNG or WebP images, or PDF."


# --- the phone number -------------------------------------------------------------------


def _person_step(client, pages, phone):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "Testo"})
    post(client, page, block, {"action": "next", **PERSON, "phone": phone})
    return shown(client, page)


@pytest.mark.parametrize("phone", ["abc", "12", "+39 06 1234x", "06++123456",
                                   "1234567890123456"])
def test_a_phone_number_that_is_not_one_is_refused_and_kept(client, pages, phone):
    html = _person_step(client, pages, phone)
    assert "2/3" in html
    assert "Enter a phone number: 6 to 15 digits; spaces, +, brackets, dashes and dots " \
           "are allowed." in html
    assert f'value="{phone}"' in html
    assert re.search(r'type="tel"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*type="tel"',
                     html)


@pytest.mark.parametrize("phone", ["+39 (06) 123-456.78", "347 1234567", "0612345678", ""])
def test_phone_numbers_as_people_write_them_pass(client, pages, phone):
    assert "3/3" in _person_step(client, pages, phone)


# --- a login cancelled at the identity provider -----------------------------------------


@pytest.mark.django_db
def test_refusing_consent_at_the_provider_says_so_with_a_way_back(client, federation):
    start = client.get(f"/oidc/rp/begin/?provider={federation.spid.entity_id}"
                       f"&next=/segnala-disservizio/")
    assert start.status_code == 302
    callback = federation.spid.authorize(start["Location"], federation.rp_jwks)
    state = parse_qs(urlparse(callback).query)["state"][0]
    response = client.get("/oidc/rp/callback/?" + urlencode({
        "error": "access_denied", "error_description": "User denied consent",
        "state": state, "iss": federation.spid.entity_id}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Login cancelled</h1>" in html
    assert "You cancelled the login, or did not give the identity provider" in html
    assert "it may have expired" not in html
    assert 'href="/segnala-disservizio/"' in html  # back where the citizen was
    assert "?next=/segnala-disservizio/" in html or "?next=%2Fsegnala-disservizio%2F" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_other_provider_errors_still_say_the_login_was_not_completed(client, federation):
    start = client.get(f"/oidc/rp/begin/?provider={federation.spid.entity_id}")
    callback = federation.spid.authorize(start["Location"], federation.rp_jwks)
    state = parse_qs(urlparse(callback).query)["state"][0]
    response = client.get("/oidc/rp/callback/?" + urlencode({
        "error": "server_error", "state": state, "iss": federation.spid.entity_id}))
    assert response.status_code == 400
    assert "Login not completed" in response.content.decode()


# --- the personal area's type -------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_personal_area_messages_are_in_the_sans_serif_type(browser, live_server, factories):
    from wagtail_helpdesk import services

    office = factories.office(name="Anagrafe")
    operator = factories.operator(office)
    user = get_user_model().objects.create_user(username="spid-bruno", password=None)
    bruno = factories.citizen(given_name="Bruno", user=user)
    ticket = factories.request_ticket(CitizenActor(bruno), citizen_=bruno,
                                      service_=factories.service(office),
                                      description="Mi serve il certificato di residenza.")
    services.reply(ticket, operator, "Ecco il modulo da compilare.")
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="it-IT")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('wagtail_helpdesk_my_ticket', args=[ticket.pk])}")
    reply = page.get_by_text("Ecco il modulo da compilare.")
    family = reply.evaluate("el => getComputedStyle(el).fontFamily")
    assert family.startswith('"Titillium Web"'), family
    page.goto(f"{live_server.url}{reverse('wagtail_helpdesk_my_tickets')}")
    code = page.locator("[data-helpdesk-my-tickets] .card-text").first
    assert code.evaluate("el => getComputedStyle(el).fontFamily").startswith('"Titillium Web"')
    context.close()
