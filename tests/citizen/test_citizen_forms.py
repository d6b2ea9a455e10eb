"""The citizens' form blocks through the test client: both complete journeys,
back and forward, refusals, files, limits, idempotency, receipts."""

import re

from django.core.cache import cache
from django.test import Client, override_settings

from tests.support.citizen import (
    PERSON,
    block_of,
    post,
    report_step_two,
    send_request,
    shown,
    submit_url,
)
from tests.support.images import PDF_BYTES, png_bytes
from wagtail_helpdesk.citizen.wizard import SESSION_KEY
from wagtail_helpdesk.models import Attachment, Citizen, EventKind, Notification, Ticket

# --- the request journey -------------------------------------------------------------


def test_the_page_renders_step_one_without_side_effects(client, pages):
    html = shown(client, pages.request)
    assert "1/3" in html and 'aria-current="step"' in html
    assert f'action="{submit_url(pages.request, pages.request_block)}"' in html
    assert "Carta d&#x27;identità" in html
    assert SESSION_KEY not in client.session
    assert Ticket.objects.count() == 0


def test_a_complete_assistance_request(client, pages):
    response = send_request(client, pages)
    assert response.status_code == 302
    assert response["Location"] == (
        f"{pages.request.url}#helpdesk-{pages.request_block.id[:8]}-done")
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.channel, ticket.service, ticket.status) == (
        "request", "web", pages.service, "new")
    # A declared identity: kept on its own record, the fiscal code only a claim.
    assert ticket.citizen.declared and ticket.citizen.fiscal_code is None
    assert ticket.citizen.declared_fiscal_code == "RSSMRA85T10A562S"
    assert ticket.citizen.email == "giovanna@example.it"
    assert ticket.description == "Devo rinnovare la carta d'identità."
    assert ticket.events.get(kind=EventKind.CREATED).data["identity"] == "declared"
    # The receipt e-mail is queued through the services layer.
    assert Notification.objects.filter(ticket=ticket, template="citizen/ticket_received",
                                       address="giovanna@example.it").exists()
    html = shown(client, pages.request)
    assert "Request sent" in html and ticket.short_code in html
    assert f"/helpdesk/receipt/{ticket.pk}/" in html


def test_back_and_forward_keep_what_was_typed(client, pages):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "Primo testo"})
    # On step 2, type a name, then go back: step 1 still has its details…
    post(client, page, block, {"action": "back", "given_name": "Gio", "email": "non-valida"})
    html = shown(client, page)
    assert "1/3" in html and "Primo testo" in html
    # …and going forward again, step 2 still has what was typed, even the invalid e-mail.
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "Primo testo"})
    html = shown(client, page)
    assert "2/3" in html and 'value="Gio"' in html and 'value="non-valida"' in html


def test_errors_are_shown_next_to_the_fields_and_in_a_summary(client, pages):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "Testo"})
    response = post(client, page, block, {"action": "next", **PERSON,
                                          "fiscal_code": "RSSMRA85T10A562X", "email": "x@"})
    assert response.status_code == 302  # post/redirect/get, also when refused
    html = shown(client, page)
    assert "2/3" in html
    summary = html[html.index("data-helpdesk-errors"):]
    assert "There are 2 errors to correct" in summary
    assert re.search(r'href="#helpdesk-[0-9a-f]{8}-f-fiscal_code"', summary)
    assert 'aria-invalid="true"' in html
    assert 'value="Giovanna"' in html  # nothing typed is lost
    assert Ticket.objects.count() == 0


def test_the_service_must_belong_to_the_category(client, pages):
    from wagtail_helpdesk.models import ServiceCategory

    other = pages.factories.service(pages.office, name="Tributi")
    other.category = ServiceCategory.objects.exclude(pk=pages.service.category_id).first()
    other.save()
    post(client, pages.request, pages.request_block,
         {"action": "next", "category": pages.service.category_id, "service": other.pk,
          "details": "x"})
    html = shown(client, pages.request)
    assert "This service is not in the chosen category." in html


def test_the_description_has_a_maximum_length(client, pages):
    post(client, pages.request, pages.request_block,
         {"action": "next", "category": pages.service.category_id,
          "service": pages.service.pk, "details": "x" * 601})
    html = shown(client, pages.request)
    assert "1/3" in html and "at most 600 characters" in html


def test_privacy_consent_is_required(client, pages):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "x"})
    post(client, page, block, {"action": "next", **PERSON})
    post(client, page, block, {"action": "submit"})
    assert "confirm you have read the privacy notice" in shown(client, page)
    assert Ticket.objects.count() == 0


def test_a_replayed_final_post_creates_one_ticket(client, pages):
    send_request(client, pages)
    post(client, pages.request, pages.request_block, {"action": "submit", "privacy": "on"})
    assert Ticket.objects.count() == 1


def test_two_sessions_replaying_the_same_submission_create_one_ticket(client, pages):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "x"})
    post(client, page, block, {"action": "next", **PERSON})
    # A double click: the second request carries the session as it was before
    # the first one finished.
    twin = Client()
    twin.cookies = client.cookies
    saved = dict(client.session[SESSION_KEY])
    post(client, page, block, {"action": "submit", "privacy": "on"})
    session = twin.session
    session[SESSION_KEY] = saved
    session.save()
    post(twin, page, block, {"action": "submit", "privacy": "on"})
    assert Ticket.objects.count() == 1


def test_the_honeypot_drops_bots_silently(client, pages):
    post(client, pages.request, pages.request_block,
         {"action": "next", "category": pages.service.category_id, "service": pages.service.pk,
          "details": "spam", "website": "http://spam.example"})
    assert "1/3" in shown(client, pages.request)


@override_settings(WAGTAIL_HELPDESK_RATE_TICKETS_PER_IP=2)
def test_tickets_per_address_are_limited(client, pages):
    cache.clear()
    for _ in range(2):
        send_request(client, pages)
        post(client, pages.request, pages.request_block, {"action": "restart"})
    send_request(client, pages, fiscal_code="", email="altro@example.it")
    assert Ticket.objects.count() == 2
    assert "too many requests in the last hour" in shown(client, pages.request)


def test_an_expired_csrf_token_keeps_the_citizen_on_the_page(pages):
    client = Client(enforce_csrf_checks=True)
    shown(client, pages.request)
    response = post(client, pages.request, pages.request_block, {"action": "next"})
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert "Your session had expired" in follow.content.decode()


def test_unknown_blocks_and_pages_are_404(client, pages):
    assert client.post(f"/helpdesk/submit/{pages.request.pk}/nope/").status_code == 404
    assert client.post("/helpdesk/submit/999999/nope/").status_code == 404
    assert client.get(submit_url(pages.request, pages.request_block)).status_code == 405


# --- logged-in citizens -----------------------------------------------------------------


def test_a_verified_citizen_sees_their_identity_read_only(client, pages):
    user = pages.factories.user(group=None, username="spid-user")
    Citizen.objects.create(given_name="Mario", family_name="Rossi",
                           fiscal_code="RSSMRA85T10A562S", email="mario@example.it", user=user)
    client.force_login(user)
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk, "details": "x"})
    html = shown(client, page)
    assert re.search(r'name="fiscal_code"[^>]*disabled|disabled[^>]*name="fiscal_code"', html)
    assert 'value="RSSMRA85T10A562S"' in html
    # Typing another identity changes nothing.
    post(client, page, block, {"action": "next", "given_name": "Altro",
                               "fiscal_code": "BNCGNN80A41H501X", "email": "mario@example.it"})
    post(client, page, block, {"action": "submit", "privacy": "on"})
    ticket = Ticket.objects.get()
    assert ticket.citizen.user == user and ticket.citizen.given_name == "Mario"
    assert ticket.events.get(kind=EventKind.CREATED).data["identity"] == "verified"


def test_a_declared_fiscal_code_never_changes_an_existing_record(client, pages):
    existing = Citizen.objects.create(given_name="Giovanna", family_name="Esposito",
                                      fiscal_code="RSSMRA85T10A562S", email="vera@example.it")
    send_request(client, pages, email="attaccante@example.it")
    existing.refresh_from_db()
    assert existing.email == "vera@example.it"
    ticket = Ticket.objects.get()
    assert ticket.citizen != existing and ticket.citizen.declared
    assert ticket.citizen.email == "attaccante@example.it"


def test_login_required_blocks_show_the_login_instead_of_the_form(client, pages, settings):
    from example_site.home.models import StandardPage

    settings.WAGTAIL_HELPDESK_CITIZEN_LOGIN_URL = "/accedi/"

    page = StandardPage.objects.get(pk=pages.request.pk)
    raw = list(page.body.raw_data)
    raw[0]["value"]["login_policy"] = "required"
    page.body = raw
    page.save()
    html = shown(client, page)
    assert "Log in with SPID or CIE" in html and 'data-helpdesk-step' not in html
    assert 'href="/accedi/?next=' in html and "/admin/login/" not in html
    post(client, page, block_of(page), {"action": "next", "category": pages.service.category_id,
                                        "service": pages.service.pk, "details": "x"})
    assert SESSION_KEY not in client.session


# --- the report journey -----------------------------------------------------------------


def test_a_complete_report_with_a_photo(client, pages):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    photo = pages.factories_photo = png_bytes()
    from django.core.files.uploadedfile import SimpleUploadedFile

    post(client, page, block, report_step_two(pages),
         files=[SimpleUploadedFile("buca.png", photo, "image/png")])
    html = shown(client, page)
    assert "3/3" in html and "buca.png" in html and "Via Roma 12" in html
    post(client, page, block, {"action": "submit"})
    ticket = Ticket.objects.get()
    assert (ticket.kind, ticket.report_category, ticket.subject) == (
        "report", pages.category, "Buca")
    assert str(ticket.latitude) == "41.902800" and ticket.address == "Via Roma 12"
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.original_name == "buca.png" and attachment.by_citizen
    assert "Report sent" in shown(client, page)


def test_a_point_outside_the_area_is_refused(client, pages):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages, latitude="48.8566", longitude="2.3522"))
    html = shown(client, page)
    assert "outside the municipality" in html and "2/3" in html
    assert 'value="Via Roma 12"' in html


def test_a_place_is_required(client, pages):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages, address="", latitude="", longitude=""))
    assert "Say where the problem is" in shown(client, page)


def test_a_bad_file_is_refused_and_the_rest_kept(client, pages):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages), files=[
        SimpleUploadedFile("ok.pdf", PDF_BYTES, "application/pdf"),
        SimpleUploadedFile("virus.png", b"MZ\x90\x00not an image", "image/png")])
    html = shown(client, page)
    assert "2/3" in html and "ok.pdf" in html
    assert 'value="Buca"' in html
    summary = html[html.index("data-helpdesk-errors"):]
    assert "Photos" in summary  # the report form's label for its files
    # Remove the accepted file, go on without files.
    file_id = re.search(r'name="remove_file" value="([0-9a-f]+)"', html)[1]
    post(client, page, block, {**report_step_two(pages), "remove_file": file_id})
    assert "3/3" in shown(client, page)
    post(client, page, block, {"action": "submit"})
    assert not Attachment.objects.filter(ticket=Ticket.objects.get()).exists()


# --- receipts -------------------------------------------------------------------------


def test_the_receipt_pdf_is_for_the_sender_only(client, pages):
    send_request(client, pages)
    ticket = Ticket.objects.get()
    response = client.get(f"/helpdesk/receipt/{ticket.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert ticket.short_code.encode() in response.content or len(response.content) > 1000
    assert Client().get(f"/helpdesk/receipt/{ticket.pk}/").status_code == 404


def test_a_file_removed_meanwhile_sends_the_citizen_back_to_attach_it(client, pages):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wagtail_helpdesk.attachments import private_storage

    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages),
         files=[SimpleUploadedFile("buca.png", png_bytes(), "image/png")])
    state = client.session[SESSION_KEY]
    (entry,) = next(iter(state.values()))["files"]
    private_storage().delete(entry["path"])  # as the cleanup does after a long pause
    post(client, page, block, {"action": "submit"})
    assert not Ticket.objects.exists()
    html = shown(client, page)
    assert "2/3" in html and "no longer available" in html and "buca.png" in html
