"""Area personale: a citizen's own tickets (logged in with SPID/CIE), one
ticket's public story with replies and files, the signed link that opens a
ticket without logging in, and notification preferences. Citizen A never
reaches anything of citizen B's, on any URL."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.support.images import png_bytes
from wagtail_helpdesk import services
from wagtail_helpdesk.citizen import links
from wagtail_helpdesk.models import Attachment, EventKind, Notification, Visibility
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db


def spid_citizen(factories, name):
    """A citizen with an account, as the SPID/CIE login leaves them."""
    user = get_user_model().objects.create_user(username=f"spid-{name}", password=None)
    return factories.citizen(given_name=name, user=user)


@pytest.fixture
def town(factories):
    office = factories.office(name="Anagrafe")
    operator = factories.operator(office)
    anna, bruno = spid_citizen(factories, "Anna"), spid_citizen(factories, "Bruno")
    service = factories.service(office)
    mine = factories.request_ticket(CitizenActor(anna), citizen_=anna, service_=service,
                                    description="Mi serve il certificato.")
    services.reply(mine, operator, "Ecco il modulo da compilare.", attachments=[
        SimpleUploadedFile("modulo.png", png_bytes(), content_type="image/png")])
    services.add_note(mine, operator, "Nota interna: cittadina già nota.")
    services.add_attachment(mine, operator, SimpleUploadedFile(
        "interno.png", png_bytes(), content_type="image/png"), visibility=Visibility.INTERNAL)
    theirs = factories.request_ticket(CitizenActor(bruno), citizen_=bruno, service_=service,
                                      description="Segreto di Bruno.")
    services.reply(theirs, operator, "Risposta per Bruno.", attachments=[
        SimpleUploadedFile("bruno.png", png_bytes(), content_type="image/png")])
    return type("Town", (), {"anna": anna, "bruno": bruno, "mine": mine, "theirs": theirs,
                             "operator": operator, "office": office, "service": service})


def public_file(ticket):
    return Attachment.objects.get(ticket=ticket, visibility=Visibility.PUBLIC)


def test_the_list_shows_only_my_sent_tickets(client, town, factories, django_assert_num_queries):
    from wagtail_helpdesk.models import Ticket

    draft = Ticket.objects.get(pk=town.mine.pk)
    draft.pk, draft.status, draft.short_code, draft.subject = None, "draft", None, "Bozza"
    draft.idempotency_key = None
    draft.save()
    for _ in range(3):
        factories.request_ticket(CitizenActor(town.anna), citizen_=town.anna,
                                 service_=town.service)
    client.force_login(town.anna.user)
    url = reverse("wagtail_helpdesk_my_tickets")
    # session, user, citizen, count, site (layout), tickets, and the example site's
    # legal links in its header and footer: settings, pages, site roots (layout)
    with django_assert_num_queries(9):
        html = client.get(url).content.decode()
    assert town.mine.short_code in html and town.theirs.short_code not in html
    assert "Hello Anna" in html and "Bozza" not in html
    assert len(re.findall(r'href="/helpdesk/area-personale/\d+/"', html)) == 4


def test_my_ticket_shows_the_public_story_and_files_only(client, town, django_assert_num_queries):
    client.force_login(town.anna.user)
    url = reverse("wagtail_helpdesk_my_ticket", args=[town.mine.pk])
    # session, user, citizen, ticket, events, their files, site (layout), the example
    # site's legal links (settings, pages, site roots): not one per event
    with django_assert_num_queries(10):
        html = client.get(url).content.decode()
    assert "Ecco il modulo da compilare." in html and "Mi serve il certificato." in html
    assert "Nota interna" not in html and "interno.png" not in html
    assert "modulo.png" in html and town.operator.username not in html
    file_url = reverse("wagtail_helpdesk_my_ticket_file", args=[town.mine.pk,
                                                              public_file(town.mine).pk])
    assert file_url in html
    response = client.get(file_url)
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    internal = Attachment.objects.get(ticket=town.mine, visibility=Visibility.INTERNAL)
    assert client.get(reverse("wagtail_helpdesk_my_ticket_file",
                              args=[town.mine.pk, internal.pk])).status_code == 404


def test_a_reply_drafted_from_a_suggestion_says_so_to_the_citizen(client, town):
    services.reply(town.mine, town.operator, "Il modulo va firmato.",
                   assisted={"source": "quick_reply", "ref": "7"})
    client.force_login(town.anna.user)
    html = client.get(reverse("wagtail_helpdesk_my_ticket", args=[town.mine.pk])).content.decode()
    note = "Prepared with the help of an automatic suggestion"
    # Only the assisted reply carries the note, after its own text.
    assert html.count(note) == 1
    assert html.index("Ecco il modulo da compilare.") < html.index("Il modulo va firmato.") \
        < html.index(note)


def test_a_citizen_never_reaches_another_citizens_ticket(client, town):
    client.force_login(town.anna.user)
    theirs, their_file = town.theirs, public_file(town.theirs)
    for url in (reverse("wagtail_helpdesk_my_ticket", args=[theirs.pk]),
                reverse("wagtail_helpdesk_my_ticket_file", args=[theirs.pk, their_file.pk]),
                reverse("wagtail_helpdesk_my_ticket_file", args=[town.mine.pk, their_file.pk])):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Bruno" not in response.content
    before = theirs.events.count()
    response = client.post(reverse("wagtail_helpdesk_my_ticket", args=[theirs.pk]),
                           {"body": "Messaggio intruso"})
    assert response.status_code == 404 and theirs.events.count() == before
    # Through A's signed link, B's file is out of reach too.
    token = links.make_token(town.mine)
    assert client.get(reverse("wagtail_helpdesk_ticket_link_file",
                              args=[token, their_file.pk])).status_code == 404


def test_replying_reaches_the_office_and_reactivates_a_resolved_ticket(client, town, factories):
    client.force_login(town.anna.user)
    url = reverse("wagtail_helpdesk_my_ticket", args=[town.mine.pk])
    response = client.post(url, {"body": "Ecco il modulo compilato.", "files": [
        SimpleUploadedFile("compilato.png", png_bytes(), content_type="image/png")]})
    assert response.status_code == 302 and response["Location"].endswith("?sent=1#messages")
    message = town.mine.events.get(kind=EventKind.CITIZEN_MESSAGE)
    assert message.by_citizen and message.body == "Ecco il modulo compilato."
    assert message.attachments.get().original_name == "compilato.png"
    assert "Your message has been sent" in client.get(url + "?sent=1").content.decode()
    ticket = services.resolve(town.mine.__class__.objects.get(pk=town.mine.pk), town.operator,
                              factories.resolution_type(), "Certificato inviato.")
    html = client.get(url).content.decode()
    assert "Rate the answer" in html  # the rating of this resolution, not yet given
    client.post(url, {"body": "Manca la firma."})
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert ticket.events.filter(kind=EventKind.REOPENED).exists()


def test_an_empty_or_refused_reply_keeps_the_text_and_records_nothing(client, town, settings):
    client.force_login(town.anna.user)
    url = reverse("wagtail_helpdesk_my_ticket", args=[town.mine.pk])
    before = town.mine.events.count()
    response = client.post(url, {"body": "   "})
    assert response.status_code == 400 and "Check the message" in response.content.decode()
    big = SimpleUploadedFile("virus.exe", b"MZ" + b"\0" * 100,
                             content_type="application/octet-stream")
    response = client.post(url, {"body": "Allego il file.", "files": [big]})
    html = response.content.decode()
    assert response.status_code == 400 and "Allego il file." in html
    assert "attach the files again" in html
    assert town.mine.events.count() == before


def test_not_logged_in_the_area_says_how_to_get_in(client, town, settings, factories):
    url = reverse("wagtail_helpdesk_my_tickets")
    response = client.get(url)
    assert response.status_code == 403 and "Log in with SPID or CIE" in response.content.decode()
    settings.WAGTAIL_HELPDESK_CITIZEN_LOGIN_URL = "/oidc/rp/login/"
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/oidc/rp/login/?next=%2Fhelpdesk%2Farea-personale%2F"
    # An operator is not a citizen: no tickets of anyone.
    client.force_login(town.operator)
    assert client.get(reverse("wagtail_helpdesk_my_ticket", args=[town.mine.pk])
                      ).status_code == 302


def test_the_signed_link_opens_one_ticket_without_logging_in(client, factories, smtp, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    office = factories.office()
    person = factories.citizen(given_name="Carla", email="carla@example.org")  # no account
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                      service_=factories.service(office))
    tasks.deliver([Notification.objects.get(template="citizen/ticket_received").pk])
    text = smtp.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"https://comune\.example\.it(/helpdesk/pratica/[^/\s]+/)", text).group(1)
    page = client.get(link)
    assert page.status_code == 200 and ticket.short_code in page.content.decode()
    response = client.post(link, {"body": "Aggiungo un dettaglio."})
    assert response.status_code == 302
    assert ticket.events.get(kind=EventKind.CITIZEN_MESSAGE).body == "Aggiungo un dettaglio."
    # Tampered, expired, or the citizen's data erased: the link opens nothing.
    assert client.get(link[:-3] + "xx/").status_code == 404
    settings.WAGTAIL_HELPDESK_TICKET_LINK_DAYS = -1
    assert client.get(link).status_code == 404
    settings.WAGTAIL_HELPDESK_TICKET_LINK_DAYS = 90
    assert client.get(link).status_code == 200
    services.erase_citizen(factories.administrator(), person)
    assert client.get(link).status_code == 404


def test_logged_in_citizens_get_their_area_in_the_mails(town, smtp, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://comune.example.it"
    receipt = Notification.objects.get(ticket=town.mine, template="citizen/ticket_received")
    tasks.deliver([receipt.pk])
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert f"https://comune.example.it/helpdesk/area-personale/{town.mine.pk}/" in text
    assert "/helpdesk/pratica/" not in text


def test_preferences_are_saved_and_bad_input_kept(client, town):
    client.force_login(town.anna.user)
    url = reverse("wagtail_helpdesk_my_preferences")
    response = client.post(url, {"notify_email": "on", "email": ""})
    html = response.content.decode()
    assert response.status_code == 400 and "Give an e-mail address" in html
    town.anna.refresh_from_db()
    assert town.anna.notify_email and town.anna.notify_app_io
    response = client.post(url, {"email": "anna@example.org"})  # both boxes unticked
    assert response.status_code == 302
    town.anna.refresh_from_db()
    assert (town.anna.notify_email, town.anna.notify_app_io, town.anna.email) == (
        False, False, "anna@example.org")
    assert "Your preferences have been saved" in client.get(url + "?saved=1").content.decode()
