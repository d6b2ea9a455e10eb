""""Salva richiesta": a citizen logged in with SPID/CIE saves what they typed
(files included) and resumes it later, in another session."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.support.citizen import post, report_step_two, shown
from tests.support.images import png_bytes
from wagtail_helpdesk.models import Citizen, Ticket
from wagtail_helpdesk.workflow import Status


@pytest.fixture
def spid_user(pages):
    user = pages.factories.user(group=None, username="spid-mario")
    Citizen.objects.create(given_name="Mario", family_name="Rossi",
                           fiscal_code="RSSMRA85T10A562S", email="mario@example.it", user=user)
    return user


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def save_incomplete_request(client, pages):
    return post(client, pages.request, pages.request_block, {
        "action": "save", "category": pages.service.category_id, "service": pages.service.pk,
        "details": ""})  # details missing: still saved


def test_a_verified_citizen_saves_an_incomplete_request(pages, spid_user):
    client = logged_in(spid_user)
    assert "Save request" in shown(client, pages.request)
    save_incomplete_request(client, pages)
    draft = Ticket.objects.get()
    assert (draft.status, draft.service, draft.citizen.user, draft.opened_by_citizen) == (
        Status.DRAFT, pages.service, spid_user, True)
    html = shown(client, pages.request)
    assert "data-helpdesk-saved" in html and "1/3" in html
    assert "There is 1 error" not in html  # saving does not validate


def test_saving_again_keeps_one_draft_with_the_latest_text(pages, spid_user):
    client = logged_in(spid_user)
    save_incomplete_request(client, pages)
    post(client, pages.request, pages.request_block, {
        "action": "save", "category": pages.service.category_id, "service": pages.service.pk,
        "details": "Ora ho scritto i dettagli."})
    draft = Ticket.objects.get()
    assert draft.description == "Ora ho scritto i dettagli."


def test_the_draft_is_resumed_in_a_new_session_and_sent_once(pages, spid_user):
    save_incomplete_request(logged_in(spid_user), pages)
    draft = Ticket.objects.get()
    later = logged_in(spid_user)  # another day, another browser session
    html = shown(later, pages.request)
    assert "data-helpdesk-drafts" in html and "Carta d&#x27;identità" in html
    post(later, pages.request, pages.request_block, {"action": "resume", "draft": draft.pk})
    html = shown(later, pages.request)
    assert f'<option value="{pages.service.pk}" selected>' in html
    assert "data-helpdesk-drafts" not in html  # offered only on a fresh form
    post(later, pages.request, pages.request_block, {
        "action": "next", "category": pages.service.category_id, "service": pages.service.pk,
        "details": "Completata."})
    post(later, pages.request, pages.request_block, {"action": "next", "email": "mario@example.it"})
    post(later, pages.request, pages.request_block, {"action": "submit", "privacy": "on"})
    ticket = Ticket.objects.get()  # the draft is gone, one ticket sent
    assert ticket.status == Status.NEW
    assert ticket.description == "Completata." and ticket.citizen.user == spid_user


def test_a_report_draft_keeps_place_and_photo(pages, spid_user):
    client = logged_in(spid_user)
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, {**report_step_two(pages, title=""), "action": "save"},
         files=[SimpleUploadedFile("buca.png", png_bytes(), "image/png")])
    draft = Ticket.objects.get()
    assert (draft.address, str(draft.latitude), draft.attachments.count()) == (
        "Via Roma 12", "41.902800", 1)
    later = logged_in(spid_user)
    post(later, page, block, {"action": "resume", "draft": draft.pk})
    post(later, page, block, {"action": "next", "privacy": "on"})
    html = shown(later, page)
    assert 'value="Via Roma 12"' in html and "buca.png" in html
    post(later, page, block, report_step_two(pages, title="Buca"))
    post(later, page, block, {"action": "submit"})
    ticket = Ticket.objects.exclude(status=Status.DRAFT).get()
    assert ticket.attachments.get().original_name == "buca.png"
    assert Ticket.objects.count() == 1  # the draft is gone


def test_a_draft_can_be_deleted(pages, spid_user):
    client = logged_in(spid_user)
    save_incomplete_request(client, pages)
    draft = Ticket.objects.get()
    fresh = logged_in(spid_user)
    post(fresh, pages.request, pages.request_block, {"action": "discard", "draft": draft.pk})
    assert not Ticket.objects.exists()


def test_anonymous_citizens_cannot_save(client, pages):
    assert "Save request" not in shown(client, pages.request)
    save_incomplete_request(client, pages)
    assert not Ticket.objects.exists()


def test_nobody_resumes_or_deletes_another_citizens_draft(pages, spid_user):
    save_incomplete_request(logged_in(spid_user), pages)
    draft = Ticket.objects.get()
    other = pages.factories.user(group=None, username="spid-anna")
    Citizen.objects.create(given_name="Anna", family_name="Bianchi",
                           fiscal_code="BNCNNA80A41H501V", user=other)
    client = logged_in(other)
    assert "data-helpdesk-drafts" not in shown(client, pages.request)
    post(client, pages.request, pages.request_block, {"action": "resume", "draft": draft.pk})
    post(client, pages.request, pages.request_block, {"action": "discard", "draft": draft.pk})
    assert Ticket.objects.get() == draft
    assert f'value="{pages.service.pk}" selected' not in shown(client, pages.request)


def test_operators_do_not_see_citizens_drafts(pages, spid_user):
    save_incomplete_request(logged_in(spid_user), pages)
    operator = pages.factories.supervisor(pages.office)
    client = logged_in(operator)
    html = client.get("/admin/helpdesk/tickets/?queue=all").content.decode()
    draft = Ticket.objects.get()
    assert draft.reference not in html


def test_a_draft_keeps_text_the_step_would_refuse(pages, spid_user):
    client = logged_in(spid_user)
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, {**report_step_two(pages, title="T" * 130), "action": "save"})
    assert Ticket.objects.get().subject == "T" * 130  # too long for the form, kept in the draft
    assert "data-helpdesk-saved" in shown(client, page)
    post(client, page, block, report_step_two(pages, title="T" * 130))  # refused
    html = shown(client, page)
    assert "data-helpdesk-saved" not in html and "data-helpdesk-errors" in html


@pytest.mark.django_db
def test_drafts_left_untouched_expire_with_their_files(pages, spid_user, settings,
                                                       django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from wagtail_helpdesk import services
    from wagtail_helpdesk.notifications import jobs
    from wagtail_helpdesk.services import CitizenActor

    client = logged_in(spid_user)
    save_incomplete_request(client, pages)
    draft = Ticket.objects.get()
    assert "untouched for 30 days is deleted" in shown(logged_in(spid_user), pages.request)
    photo = services.add_attachment(draft, CitizenActor(draft.citizen, spid_user),
                                    SimpleUploadedFile("foto.png", png_bytes(),
                                                       content_type="image/png"))
    operator = pages.factories.operator(pages.service.office)
    phone_draft = pages.factories.request_ticket(operator, service_=pages.service,
                                                 channel="phone", draft=True)
    month_ago = timezone.now() - timedelta(days=31)
    assert jobs.expire_drafts() == 0  # recent: kept
    Ticket.objects.filter(pk__in=[draft.pk, phone_draft.pk]).update(updated_at=month_ago)
    storage, name = photo.file.storage, photo.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.expire_drafts() == 1
    assert not Ticket.objects.filter(pk=draft.pk).exists() and not storage.exists(name)
    assert Ticket.objects.filter(pk=phone_draft.pk).exists()  # an operator's: not a citizen's
    settings.WAGTAIL_HELPDESK_DRAFT_EXPIRY_DAYS = None
    Ticket.objects.filter(pk=phone_draft.pk).update(opened_by_citizen=True, channel="web")
    assert jobs.expire_drafts() == 0
