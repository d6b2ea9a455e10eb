""""Posta in arrivo": who sees which received e-mail, the list's filters and
queries, a message's page and its original, re-routing by administrators, and
what the ticket timeline shows of e-mail."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.inbound import store
from wagtail_helpdesk.models import (
    Channel,
    EventKind,
    InboundMessage,
    InboundOutcome,
    Mailbox,
    Visibility,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor

pytestmark = pytest.mark.django_db

INDEX = "/admin/helpdesk/inbound/"


def mail(text="Buongiorno, allego il modulo.", *, sender="giulia@example.org",
         subject="Richiesta certificato", attachment=None, quoted=None):
    message = EmailMessage()
    message["From"] = f"Giulia Bianchi <{sender}>"
    message["To"] = "assistenza@comune.example.it"
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="example.org")
    body = text
    if quoted:
        body += ("\n\nIl giorno 05/12/2026 10:00, Comune di Esempio ha scritto:\n"
                 + "\n".join(f"> {line}" for line in quoted.splitlines()) + "\n")
    message.set_content(body)
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf",
                               filename=attachment[0])
    return bytes(message)


def received(raw=None, *, ticket=None, outcome=InboundOutcome.THREADED, mailbox=None, **fields):
    row, _created = store.store(raw or mail(subject=f"Messaggio {make_msgid()}"),
                                mailbox=mailbox, enqueue=False)
    InboundMessage.objects.filter(pk=row.pk).update(ticket=ticket, outcome=outcome, **fields)
    return InboundMessage.objects.get(pk=row.pk)


@pytest.fixture
def world(factories):
    """Two offices, a ticket in each, a message on each ticket and one on none."""
    anagrafe, tributi = factories.office(name="Anagrafe"), factories.office(name="Tributi")
    tickets = []
    for office in (anagrafe, tributi):
        person = factories.citizen()
        tickets.append(factories.request_ticket(CitizenActor(person), citizen_=person,
                                                service_=factories.service(office)))
    box = Mailbox.objects.create(name="Assistenza", address="assistenza@comune.example.it",
                                 office=anagrafe)
    mine = received(mail(subject="Rinnovo carta d'identità"), ticket=tickets[0], mailbox=box)
    theirs = received(mail(subject="Rimborso TARI"), ticket=tickets[1])
    loose = received(mail(subject="Offerta imperdibile", sender="spam@example.net"),
                     outcome=InboundOutcome.DROPPED, reason="loop")
    return type("World", (), {"anagrafe": anagrafe, "tributi": tributi, "tickets": tickets,
                              "mine": mine, "theirs": theirs, "loose": loose, "box": box})


def soup(response):
    return BeautifulSoup(response.content, "html.parser")


def detail_url(message):
    return reverse("helpdesk_inbound:detail", args=[message.pk])


# --- Who sees what --------------------------------------------------------------------


def test_operators_open_only_the_originals_of_their_tickets(client, factories, world):
    """No inbox and no re-routing for operators; the original of an e-mail on a
    ticket of their office they may open (the timeline links it), no other."""
    client.force_login(factories.operator(world.anagrafe))
    assert client.get(INDEX).status_code in (302, 403)
    assert client.get(detail_url(world.mine)).status_code == 200
    assert client.get(reverse("helpdesk_inbound:download", args=[world.mine.pk])).status_code == 200
    for other in (world.theirs, world.loose):
        assert client.get(detail_url(other)).status_code == 404
        assert client.get(reverse("helpdesk_inbound:download",
                                  args=[other.pk])).status_code == 404
    assert client.post(reverse("helpdesk_inbound:reroute", args=[world.mine.pk]),
                       {"mode": "new", "new-office": world.anagrafe.pk}).status_code in (302, 403)


def test_a_supervisor_sees_the_messages_of_their_offices_tickets_only(client, factories, world):
    client.force_login(factories.supervisor(world.anagrafe))
    html = client.get(INDEX).content.decode()
    assert "Rinnovo carta d" in html
    assert "Rimborso TARI" not in html and "Offerta imperdibile" not in html
    assert client.get(detail_url(world.mine)).status_code == 200
    for other in (world.theirs, world.loose):
        assert client.get(detail_url(other)).status_code == 404
        assert client.get(reverse("helpdesk_inbound:download",
                                  args=[other.pk])).status_code == 404


def test_an_administrator_sees_every_message_even_without_a_ticket(client, factories, world):
    client.force_login(factories.administrator())
    html = client.get(INDEX).content.decode()
    for subject in ("Rinnovo carta d", "Rimborso TARI", "Offerta imperdibile"):
        assert subject in html
    assert client.get(detail_url(world.loose)).status_code == 200


def test_the_menu_item_is_for_supervisors_and_administrators(rf, factories, world):
    from wagtail_helpdesk.admin.inbound import inbound_viewset

    item = inbound_viewset.get_menu_item()
    for user, shown in ((factories.operator(world.anagrafe), False),
                        (factories.supervisor(world.anagrafe), True),
                        (factories.administrator(), True)):
        request = rf.get("/admin/")
        request.user = user
        assert item.is_shown(request) is shown


# --- The list -------------------------------------------------------------------------


def test_the_list_filters_by_outcome_mailbox_and_date(client, factories, world):
    client.force_login(factories.administrator())
    old = received(mail(subject="Vecchia domanda"), outcome=InboundOutcome.FAILED,
                   received_at=timezone.now() - timedelta(days=40))

    def subjects(**params):
        page = soup(client.get(INDEX, params))
        return {a.get_text(strip=True) for a in page.select("table tbody td a")
                if "/helpdesk/inbound/" in a["href"]}

    assert subjects(outcome="dropped") == {"Offerta imperdibile"}
    assert subjects(mailbox=world.box.pk) == {"Rinnovo carta d'identità"}
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert "Vecchia domanda" not in subjects(received_at_from=since)
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert subjects(received_at_to=until) == {old.subject}
    assert subjects(q="TARI") == {"Rimborso TARI"}


def test_the_list_shows_outcome_reason_and_ticket(client, factories, world):
    client.force_login(factories.administrator())
    rows = {row.select_one("a[href*='/helpdesk/inbound/']").get_text(strip=True): row
            for row in soup(client.get(INDEX)).select("table tbody tr")}
    row = rows["Offerta imperdibile"]
    assert "Dropped" in row.get_text() and "our own mail coming back" in row.get_text()
    row = rows["Rimborso TARI"]
    assert row.find("a", href=reverse("helpdesk_tickets:detail", args=[world.tickets[1].pk]))


def count_queries(client, url):
    assert client.get(url).status_code == 200  # warms the caches: not measured
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["administrator", "supervisor"])
def test_the_list_makes_the_same_queries_for_more_rows(client, factories, world, who):
    user = (factories.administrator() if who == "administrator"
            else factories.supervisor(world.anagrafe))
    client.force_login(user)
    few = count_queries(client, INDEX)
    for i in range(6):
        person = factories.citizen()
        ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                          service_=factories.service(world.anagrafe))
        box = Mailbox.objects.create(name=f"Casella {i}", address=f"c{i}@comune.example.it")
        received(mail(subject=f"Altro {i}"), ticket=ticket, mailbox=box)
    assert count_queries(client, INDEX) == few
    # Pinned: session, user, permissions (2), profile, count, Wagtail's menu (3-4),
    # the mailbox filter's choices, the rows with their mailbox and ticket.
    assert few <= 12


# --- One message ----------------------------------------------------------------------


def test_the_page_shows_headers_the_new_text_attachments_and_the_ticket(client, factories,
                                                                          world):
    raw = mail("Ecco il modulo compilato.", quoted="Gentile cittadina,\nci invii il modulo.",
               attachment=("modulo.pdf", b"%PDF-1.4 test"))
    message = received(raw, ticket=world.tickets[0], reason="token",
                       detail="Reply address token of ticket 1.\nSender is the requester.")
    client.force_login(factories.supervisor(world.anagrafe))
    page = soup(client.get(detail_url(message)))
    text = page.get_text(" ", strip=True)
    assert "Giulia Bianchi <giulia@example.org>" in text
    assert "assistenza@comune.example.it" in text and message.message_id in text
    assert "Reply added to its ticket" in text and "token" in text
    assert "Reply address token of ticket 1. Sender is the requester." in text
    shown = page.select_one(".helpdesk-inbound__text").get_text()
    assert "Ecco il modulo compilato." in shown and "ci invii il modulo" not in shown
    assert "ci invii il modulo" in page.select_one(".helpdesk-inbound__full").get_text()
    assert "modulo.pdf" in text
    assert page.find("a", href=reverse("helpdesk_tickets:detail", args=[world.tickets[0].pk]))
    assert page.find("a", href=reverse("helpdesk_inbound:download", args=[message.pk]))
    # Supervisors do not re-route.
    assert page.select_one("#reroute-link") is None


def test_the_page_shows_the_certification_of_a_pec(client, factories, world):
    message = received(mail(subject="Istanza via PEC"), ticket=world.tickets[0],
                       certified=True, certification={
                           "tipo": "posta-certificata", "mittente": "giulia@pec.example.org",
                           "destinatari": ["protocollo@pec.comune.example.it"],
                           "gestore": "Gestore PEC di prova", "identificativo": "opec.1234"})
    client.force_login(factories.administrator())
    panel = soup(client.get(detail_url(message))).select_one("#inbound-certification-section")
    text = panel.get_text(" ", strip=True)
    assert "Gestore PEC di prova" in text and "protocollo@pec.comune.example.it" in text
    assert "opec.1234" in text


def test_a_pec_envelope_shows_the_senders_message_inside_it(client, factories, world):
    """The real parser on a certified envelope (the corpus): what is shown is
    the citizen's message (postacert.eml), not the provider's envelope."""
    from tests.inbound import corpus

    pec_box = Mailbox.objects.create(name="PEC", address="protocollo@pec.comune.example.it",
                                     certified=True)
    message = received(corpus.load("pec_envelope"), ticket=world.tickets[0], certified=True,
                       mailbox=pec_box)
    client.force_login(factories.administrator())
    page = soup(client.get(detail_url(message)))
    panel = page.select_one("#inbound-message-section").get_text(" ", strip=True)
    assert "taken out of the provider's envelope" in panel
    assert "Istanza di accesso agli atti - pratica edilizia 1234/2026" in panel
    assert "chiede di accedere agli atti" in panel and "istanza_accesso_atti.pdf" in panel
    assert "POSTA CERTIFICATA:" not in panel


def test_a_message_missing_from_the_storage_is_still_shown(client, factories, world):
    world.loose.raw.storage.delete(world.loose.raw.name)
    client.force_login(factories.administrator())
    response = client.get(detail_url(world.loose))
    assert response.status_code == 200
    assert "missing from the storage" in response.content.decode()
    download = client.get(reverse("helpdesk_inbound:download", args=[world.loose.pk]))
    assert download.status_code == 404


def test_the_page_makes_a_fixed_number_of_queries(client, factories, world):
    client.force_login(factories.administrator())
    small = count_queries(client, detail_url(world.loose))
    big = received(mail("Testo lungo " * 500, attachment=("a.pdf", b"%PDF-1.4 " * 1000)),
                   ticket=world.tickets[0], mailbox=world.box)
    assert count_queries(client, detail_url(big)) == small
    # Pinned: session, user, permissions (2), profile, the message with its mailbox,
    # ticket and re-router, Wagtail's menu (4: its settings' site permissions since
    # there are two site settings), the offices of the re-route form.
    assert small <= 11


def test_the_original_is_downloaded_as_it_arrived(client, factories, world):
    client.force_login(factories.supervisor(world.anagrafe))
    response = client.get(reverse("helpdesk_inbound:download", args=[world.mine.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == store.read(world.mine)
    assert response["Content-Type"] == "message/rfc822"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"-{world.mine.pk}.eml" in disposition
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert response["X-Content-Type-Options"] == "nosniff"


# --- Re-routing -----------------------------------------------------------------------


def reroute_url(message):
    return reverse("helpdesk_inbound:reroute", args=[message.pk])


def test_the_reroute_form_calls_the_service_with_the_ticket_found(client, factories, world,
                                                                   monkeypatch):
    calls = []

    def fake(message, actor, *, ticket=None, office=None):
        calls.append((message.pk, actor.pk, ticket, office))
        return ticket or world.tickets[1]

    monkeypatch.setattr("wagtail_helpdesk.services.inbound.reroute", fake)
    admin = factories.administrator()
    client.force_login(admin)
    target = world.tickets[1]
    response = client.post(reroute_url(world.loose), {"mode": "link",
                                                      "link-ticket": f" {target.reference} "})
    assert response.status_code == 302 and response["Location"] == detail_url(world.loose)
    assert calls == [(world.loose.pk, admin.pk, target, None)]
    # By number too, with or without "#".
    client.post(reroute_url(world.loose), {"mode": "link", "link-ticket": f"#{target.pk}"})
    assert calls[-1][2] == target
    client.post(reroute_url(world.loose), {"mode": "new", "new-office": world.tributi.pk})
    assert calls[-1][2:] == (None, world.tributi)


def test_a_refused_reroute_shows_the_reason_and_keeps_what_was_typed(client, factories, world,
                                                                      monkeypatch):
    def refuse(message, actor, *, ticket=None, office=None):
        raise GuardFailed("A draft cannot receive e-mails.",
                          {"ticket": "Choose a submitted ticket."})

    monkeypatch.setattr("wagtail_helpdesk.services.inbound.reroute", refuse)
    client.force_login(factories.administrator())
    page = soup(client.post(reroute_url(world.loose), {
        "mode": "link", "link-ticket": world.tickets[0].reference}))
    form = page.select_one("#reroute-link")
    assert "Choose a submitted ticket." in form.get_text()
    assert form.select_one("input[name=link-ticket]")["value"] == world.tickets[0].reference
    # An unknown code never reaches the service.
    page = soup(client.post(reroute_url(world.loose), {"mode": "link",
                                                       "link-ticket": "AST-1999-999999"}))
    assert "No ticket you can work on has this code or number." in page.get_text()


def test_supervisors_cannot_reroute(client, factories, world):
    client.force_login(factories.supervisor(world.anagrafe))
    response = client.post(reroute_url(world.mine), {"mode": "new",
                                                     "new-office": world.anagrafe.pk})
    assert response.status_code in (302, 403)
    assert InboundMessage.objects.get(pk=world.mine.pk).ticket == world.tickets[0]


def test_rerouting_adds_the_message_to_the_ticket_for_real(client, factories, world):
    """The real service: the message joins the other ticket's timeline."""
    admin = factories.administrator()
    client.force_login(admin)
    target = world.tickets[1]
    response = client.post(reroute_url(world.mine), {"mode": "link",
                                                     "link-ticket": target.reference})
    assert response.status_code == 302
    message = InboundMessage.objects.get(pk=world.mine.pk)
    assert (message.ticket, message.rerouted_by) == (target, admin)
    assert target.events.filter(kind=EventKind.EMAIL_REROUTED).exists()
    assert target.events.filter(kind=EventKind.CITIZEN_MESSAGE,
                                data__inbound=message.pk).exists()
    page = client.get(reverse("helpdesk_tickets:detail", args=[target.pk])).content.decode()
    assert "E-mail moved to this ticket" in page and detail_url(message) in page


def test_rerouting_opens_a_new_ticket_for_real(client, factories, world):
    admin = factories.administrator()
    client.force_login(admin)
    response = client.post(reroute_url(world.loose), {"mode": "new",
                                                      "new-office": world.tributi.pk})
    assert response.status_code == 302
    message = InboundMessage.objects.select_related("ticket").get(pk=world.loose.pk)
    assert message.outcome == InboundOutcome.NEW_TICKET
    assert (message.ticket.office, message.ticket.channel) == (world.tributi, Channel.EMAIL)
    assert message.ticket.events.filter(kind=EventKind.EMAIL_REROUTED).exists()


# --- The ticket timeline --------------------------------------------------------------


def record_mail_events(factories, world):
    """Events e-mail leaves on a ticket, recorded as the services do."""
    ticket, now = world.tickets[0], timezone.now()
    admin = factories.administrator(first_name="Ada", last_name="Rossi")
    person = CitizenActor(ticket.citizen)
    services.add_citizen_message(ticket, person, "Ecco il documento.", data={
        "channel": Channel.EMAIL, "inbound": world.mine.pk, "certified": True,
        "rejected_attachments": [{"name": "virus.exe", "reason": "Type not allowed."}]})
    record = services.core.record
    record(ticket, EventKind.EMAIL_AUTO_REPLY, SYSTEM, now=now,
           data={"inbound": world.mine.pk, "subject": "Fuori ufficio"})
    record(ticket, EventKind.NOTIFICATION_RECEIPT, SYSTEM, now=now,
           data={"notification": 1, "receipt": "avvenuta-consegna", "inbound": world.mine.pk})
    record(ticket, EventKind.EMAIL_REROUTED, admin, now=now,
           data={"inbound": world.mine.pk, "by": admin.pk})
    record(ticket, EventKind.NOTIFICATION_FAILED, SYSTEM, now=now, data={
        "template": "citizen/ticket_received", "channel": "email", "status": "failed",
        "error": "5.1.1 User unknown", "bounce": True, "code": "5.1.1",
        "diagnostic": "User unknown", "inbound": world.mine.pk})
    return ticket


@pytest.fixture
def mailed(factories, world):
    return record_mail_events(factories, world)


def test_the_timeline_shows_what_came_by_email(client, factories, world, mailed):
    client.force_login(factories.supervisor(world.anagrafe))
    page = soup(client.get(reverse("helpdesk_tickets:detail", args=[mailed.pk])))
    message = page.select_one(".helpdesk-event--citizen_message")
    tags = [t.get_text(strip=True) for t in message.select(".helpdesk-tag--channel")]
    assert tags == ["via e-mail", "PEC"]
    assert "Attachment not accepted: virus.exe (Type not allowed.)" in message.get_text()
    assert message.find("a", string="Original message")["href"] == detail_url(world.mine)
    text = page.select_one(".helpdesk-timeline").get_text(" ", strip=True)
    assert "Automatic e-mail reply received" in text and "Subject: Fuori ufficio" in text
    assert "Delivered to the recipient's certified mailbox" in text
    assert "Moved here by Ada Rossi" in text
    assert "Returned by the recipient's mail server (bounce)" in text
    assert "Delivery status code: 5.1.1" in text and "Error: 5.1.1 User unknown" in text


def test_a_new_ticket_from_an_email_links_back_to_it(client, factories, world):
    """The real pipeline: a new e-mail opens a ticket whose timeline links the
    message, and the message's page links the ticket."""
    from wagtail_helpdesk.inbound import pipeline

    row, _created = store.store(mail("Vorrei sapere gli orari dell'anagrafe.",
                                     sender="mario@example.org", subject="Orari"),
                                mailbox=world.box, enqueue=False)
    pipeline.process_one(row.pk)
    row.refresh_from_db()
    assert row.outcome == InboundOutcome.NEW_TICKET and row.ticket.office == world.anagrafe
    client.force_login(factories.supervisor(world.anagrafe))
    page = client.get(reverse("helpdesk_tickets:detail", args=[row.ticket_id])).content.decode()
    assert "Channel: E-mail" in page and f'href="{detail_url(row)}"' in page
    page = client.get(detail_url(row)).content.decode()
    assert reverse("helpdesk_tickets:detail", args=[row.ticket_id]) in page
    assert "gli orari dell&#x27;anagrafe" in page


def test_operators_see_the_original_but_no_link_to_the_inbox(client, factories, world,
                                                             mailed):
    client.force_login(factories.operator(world.anagrafe))
    page = client.get(reverse("helpdesk_tickets:detail", args=[mailed.pk])).content.decode()
    assert "via e-mail" in page and "Original message" in page
    assert f'href="{INDEX}"' not in page


def test_email_events_add_no_queries_to_the_ticket_page(client, factories, world):
    ticket = world.tickets[0]
    client.force_login(factories.supervisor(world.anagrafe))
    url = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    before = count_queries(client, url)
    record_mail_events(factories, world)
    page = client.get(url).content.decode()
    assert page.count("Original message") == 5
    # The mail events' own details cost nothing; the rerouting names who did
    # it, and the names of people are read once, when some event names one.
    assert count_queries(client, url) == before + 1


def test_a_follow_up_links_both_tickets(client, factories, world):
    old, new = world.tickets
    now = timezone.now()
    type(new).objects.filter(pk=new.pk).update(follow_up_of=old)
    services.core.record(new, EventKind.FOLLOW_UP, SYSTEM, now=now, visibility=Visibility.PUBLIC,
                         data={"from": old.pk, "from_reference": old.reference})
    services.core.record(old, EventKind.FOLLOW_UP, SYSTEM, now=now, visibility=Visibility.PUBLIC,
                         data={"to": new.pk, "to_reference": new.reference})
    client.force_login(factories.administrator())
    page = soup(client.get(reverse("helpdesk_tickets:detail", args=[new.pk])))
    old_url = reverse("helpdesk_tickets:detail", args=[old.pk])
    sidebar = page.select_one("#ticket-follow-up-section")
    assert sidebar.find("a", href=old_url).get_text(strip=True) == f"Follow-up of {old.reference}"
    assert page.select_one(".helpdesk-event--follow_up").find("a", href=old_url)
    page = soup(client.get(old_url))
    link = page.select_one(".helpdesk-event--follow_up a")
    assert link["href"] == reverse("helpdesk_tickets:detail", args=[new.pk])
    assert link.get_text(strip=True) == f"Followed up by {new.reference}"
    assert page.select_one("#ticket-follow-up-section") is None


def test_receipts_and_refusals_are_said_in_words():
    from wagtail_helpdesk.tickets import timeline_mail

    assert list(timeline_mail.bounce_details({"pec": "errore-consegna"})) == [
        "Could not be delivered to the recipient's mailbox"]
    assert list(timeline_mail.bounce_details({"pec": "something-new"})) == ["something-new"]
    assert list(timeline_mail.bounce_details({"status": "failed", "error": "boom"})) == []
    assert list(timeline_mail.DETAILS[EventKind.NOTIFICATION_RECEIPT](
        {"receipt": "accettazione"}, None)) == ["Accepted by our certified mail provider"]


def test_pec_headers_on_an_ordinary_mailbox_are_shown_as_plain_mail(client, factories, world):
    """Anybody can write X-Trasporto and attach a postacert.eml: on a mailbox
    that is not a PEC box the page shows the outer message, as received."""
    from tests.inbound import corpus

    message = received(corpus.load("pec_envelope"), ticket=world.tickets[0],
                       mailbox=world.box)
    client.force_login(factories.administrator())
    panel = soup(client.get(detail_url(message))).select_one("#inbound-message-section")
    assert "taken out of the provider's envelope" not in panel.get_text(" ", strip=True)


def test_an_administrator_processes_a_failed_message_again(client, factories, world):
    message = received(ticket=None, outcome=InboundOutcome.FAILED, mailbox=world.box,
                       detail="boom")
    url = reverse("helpdesk_inbound:again", args=[message.pk])
    client.force_login(factories.supervisor(world.anagrafe))
    assert client.post(url).status_code in (302, 403)
    message.refresh_from_db()
    assert message.outcome == "failed"  # supervisors cannot
    admin = factories.administrator()
    client.force_login(admin)
    assert "Process again" in client.get(detail_url(message)).content.decode()
    assert client.post(url).status_code == 302
    message.refresh_from_db()
    assert (message.outcome, message.attempts, message.detail) == ("pending", 0, "")
    assert client.post(url).status_code == 302  # pending: nothing to do twice
    assert "Process again" not in client.get(detail_url(message)).content.decode()
