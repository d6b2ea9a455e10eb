"""The pipeline over messages shaped as mail programs send them: replies
thread into their ticket (and only trusted signs thread), new mail opens a
declared ticket acknowledged once a day, automatic replies stay silent,
loops end, nothing is processed twice."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.inbound.conftest import OUR_ADDRESS, answer, deliver_all, new_mail, receive
from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.inbound import pipeline, store
from wagtail_helpdesk.models import (
    Channel,
    EventKind,
    InboundMessage,
    Mailbox,
    Notification,
    Ticket,
)
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(factories):
    office = factories.office(name="URP")
    return Mailbox.objects.create(name="Assistenza", address=OUR_ADDRESS, protocol="lmtp",
                                  office=office,
                                  service=factories.service(office, name="Informazioni"))


def expire_lease(row):
    """The worker that took ``row`` died long enough ago."""
    InboundMessage.objects.filter(pk=row.pk).update(
        processed_at=timezone.now() - timedelta(hours=1))


def citizen_messages(ticket):
    return list(ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE))


def test_a_reply_to_the_receipt_threads_by_the_signed_address(sent, mailbox):
    raw = answer(sent.message, "Grazie, allego il documento richiesto.")
    row = receive(raw, mailbox)
    ticket = Ticket.objects.get(pk=sent.ticket.pk)
    assert (row.outcome, row.reason, row.ticket_id) == ("threaded", "token", ticket.pk)
    assert ticket.unread_count == 1
    (event,) = citizen_messages(ticket)
    assert event.body == "Grazie, allego il documento richiesto."  # history and quote stripped
    assert event.by_citizen and event.data["channel"] == "email"
    assert event.data["inbound"] == row.pk and row.event_id == event.pk
    assert Ticket.objects.count() == 1
    # Nobody had it yet: the office hears of the message.
    assert Notification.objects.filter(template="office/citizen_message", ticket=ticket).exists()


def test_a_reply_without_the_token_threads_by_in_reply_to(sent, mailbox):
    raw = answer(sent.message, "Ecco il numero di pratica: 1234.", to=OUR_ADDRESS)
    row = receive(raw, mailbox)
    assert (row.outcome, row.reason, row.ticket_id) == ("threaded", "in-reply-to", sent.ticket.pk)


def test_a_later_message_of_the_same_thread_follows_the_first(sent, mailbox):
    first = receive(answer(sent.message, "Prima risposta."), mailbox)
    second_mail = message_from_bytes(store.read(first), policy=policy.default)
    raw = answer(second_mail, "Dimenticavo: anche questo.", to=OUR_ADDRESS,
                 headers={"In-Reply-To": second_mail["Message-ID"],
                          "References": second_mail["Message-ID"]})
    row = receive(raw, mailbox)
    assert (row.outcome, row.reason, row.ticket_id) == ("threaded", "thread", sent.ticket.pk)


def test_a_forged_token_or_message_id_opens_a_declared_ticket_and_reveals_nothing(
        sent, mailbox, smtp):
    token = f"{sent.ticket.pk}.0123456789"
    raw = answer(sent.message, "Voglio vedere la pratica.", sender="intruso@example.net",
                 to=f"assistenza+{token}@comune.example.it",
                 headers={"In-Reply-To": f"<hd.{sent.ticket.pk}.0.abcdefabcd@comune.example.it>",
                          "References": None}, quote=False)
    row = receive(raw, mailbox)
    assert row.outcome == "new_ticket" and row.ticket_id != sent.ticket.pk, row.detail
    assert citizen_messages(Ticket.objects.get(pk=sent.ticket.pk)) == []
    new = row.ticket
    assert new.channel == Channel.EMAIL and new.citizen.declared
    assert new.citizen.email == "intruso@example.net" and new.office == mailbox.office
    smtp.messages.clear()
    deliver_all()
    (ack,) = [m for m in smtp.messages if m["To"] == "intruso@example.net"]
    text = ack.get_body(("plain",)).get_content()
    assert sent.ticket.short_code not in text and sent.ticket.short_code not in ack["Subject"]
    assert new.short_code in ack["Subject"]
    assert ack["Auto-Submitted"] == "auto-replied"


def test_a_short_code_threads_only_from_the_tickets_declared_sender(sent, mailbox):
    """Code + From continue an e-mail conversation that began as a claim; a
    verified citizen's ticket takes our signature: a From header is a claim."""
    first = receive(new_mail("Prima richiesta.", sender="anna@example.org"), mailbox)
    code = first.ticket.short_code
    again = receive(new_mail("Aggiungo un dettaglio.", sender="anna@example.org",
                             subject=f"Pratica {code}"), mailbox)
    assert (again.outcome, again.reason, again.ticket_id) == ("threaded", "subject-code",
                                                              first.ticket_id)
    stranger = receive(new_mail("Scrivo per la pratica.", subject=f"Pratica {code}"), mailbox)
    assert stranger.outcome == "new_ticket" and stranger.ticket_id != first.ticket_id
    assert code in stranger.detail  # for the administrator, not for the sender
    # Giulia is a registered citizen: her address typed in a From is not enough.
    verified = sent.ticket.short_code
    forged = receive(new_mail("Cambiate il mio indirizzo.", sender="giulia@example.org",
                              name="Giulia", subject=f"Pratica {verified}"), mailbox)
    assert forged.outcome == "new_ticket" and forged.ticket_id != sent.ticket.pk
    assert citizen_messages(Ticket.objects.get(pk=sent.ticket.pk)) == []
    assert forged.ticket.citizen.declared


def test_a_sender_with_a_registered_citizens_address_gets_a_declared_ticket(
        factories, mailbox, mail_settings):
    verified = factories.citizen(email="anna@example.org", fiscal_code="RSSMRA80A01H501U")
    row = receive(new_mail("Buongiorno", sender="anna@example.org", name="Anna"), mailbox)
    ticket = row.ticket
    assert ticket.citizen_id != verified.pk and ticket.citizen.declared
    assert not verified.tickets.exists()


def test_new_mail_is_acknowledged_once_per_sender_per_day(mailbox, mail_settings, smtp):
    first = receive(new_mail("Prima richiesta"), mailbox)
    second = receive(new_mail("Seconda richiesta", subject="Altra domanda"), mailbox)
    assert first.outcome == second.outcome == "new_ticket"
    assert first.ticket_id != second.ticket_id
    acks = Notification.objects.filter(template="citizen/ticket_received")
    assert list(acks.values_list("ticket_id", flat=True)) == [first.ticket_id]
    other = receive(new_mail("Altro mittente", sender="lucia@example.org"), mailbox)
    assert acks.filter(ticket=other.ticket).count() == 1


def test_no_acknowledgement_to_no_reply_addresses(mailbox, mail_settings):
    row = receive(new_mail("Avviso", sender="noreply@fornitore.example"), mailbox)
    assert row.outcome == "new_ticket"
    assert not Notification.objects.filter(template="citizen/ticket_received").exists()


def test_an_out_of_office_reply_is_kept_silently(sent, mailbox):
    before = Ticket.objects.get(pk=sent.ticket.pk)
    notifications = Notification.objects.count()
    raw = answer(sent.message, "Sono fuori ufficio fino al 10 dicembre.",
                 headers={"Auto-Submitted": "auto-replied"},
                 subject=f"Risposta automatica: {sent.message['Subject']}", quote=False)
    row = receive(raw, mailbox)
    after = Ticket.objects.get(pk=sent.ticket.pk)
    assert (row.outcome, row.ticket_id) == ("auto_reply", sent.ticket.pk)
    assert (after.unread_count, after.status, after.version) == (0, before.status, before.version)
    event = after.events.get(kind=EventKind.EMAIL_AUTO_REPLY)
    assert event.visibility == "internal" and event.data["inbound"] == row.pk
    assert Notification.objects.count() == notifications  # never answered


def test_mailing_list_mail_opens_nothing(mailbox, mail_settings):
    row = receive(new_mail("Newsletter di dicembre", headers={
        "List-Id": "<news.fornitore.example>", "Precedence": "list"}), mailbox)
    assert row.outcome == "dropped" and row.ticket_id is None
    assert not Ticket.objects.exists()


def test_our_own_mail_coming_back_is_dropped(sent, mailbox):
    looped = bytes(sent.message)
    row = receive(looped, mailbox)
    assert (row.outcome, row.reason) == ("dropped", "loop")
    from_us = receive(new_mail("Prova", sender=OUR_ADDRESS), mailbox)
    assert (from_us.outcome, from_us.reason) == ("dropped", "loop")
    assert Ticket.objects.count() == 1


def test_a_resolved_ticket_reopens_within_the_window(sent, mailbox, factories):
    operator = factories.operator(sent.office)
    services.take_charge(sent.ticket, operator)
    services.resolve(sent.ticket, operator, factories.resolution_type(), "Fatto.")
    row = receive(answer(sent.message, "Non è ancora a posto."), mailbox)
    ticket = Ticket.objects.get(pk=sent.ticket.pk)
    assert row.outcome == "threaded" and ticket.status != Status.RESOLVED
    assert ticket.events.filter(kind=EventKind.REOPENED).exists()
    assert Notification.objects.filter(template="operator/citizen_message",
                                       recipient_user=operator).exists()


def test_after_the_window_a_linked_follow_up_opens(sent, mailbox, factories):
    operator = factories.operator(sent.office)
    services.take_charge(sent.ticket, operator)
    services.resolve(sent.ticket, operator, factories.resolution_type(), "Fatto.")
    Ticket.objects.filter(pk=sent.ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=400))
    row = receive(answer(sent.message, "Il problema è tornato."), mailbox)
    old = Ticket.objects.get(pk=sent.ticket.pk)
    new = row.ticket
    assert row.outcome == "new_ticket" and old.status == Status.RESOLVED
    assert new.follow_up_of_id == old.pk and new.service_id == old.service_id
    # A declared identity, like any sender: the operator links it after checking.
    assert new.citizen.declared and new.citizen.email == sent.person.email
    assert new.events.get(kind=EventKind.FOLLOW_UP).data["from_reference"] == old.reference
    assert old.events.get(kind=EventKind.FOLLOW_UP).data["to"] == new.pk


def test_the_same_message_is_processed_once(sent, mailbox):
    raw = answer(sent.message, "Una volta sola.")
    row, created = store.store(raw, mailbox=mailbox, enqueue=False)
    again, created_again = store.store(raw, mailbox=mailbox, enqueue=False)
    assert created and not created_again and again.pk == row.pk
    assert pipeline.process_one(row.pk) is True
    assert pipeline.process_one(row.pk) is False
    assert pipeline.process_pending() == 0
    assert len(citizen_messages(sent.ticket)) == 1
    assert Ticket.objects.get(pk=sent.ticket.pk).unread_count == 1


def test_a_failure_half_way_leaves_nothing_and_is_recorded(sent, mailbox, monkeypatch):
    from wagtail_helpdesk.services import inbound

    real = inbound.add_citizen_message

    def crash(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(inbound, "add_citizen_message", crash)
    row = receive(answer(sent.message, "Questo non deve restare a metà."), mailbox)
    assert (row.outcome, row.reason) == ("failed", "error") and "disk full" in row.detail
    ticket = Ticket.objects.get(pk=sent.ticket.pk)
    assert citizen_messages(ticket) == [] and ticket.unread_count == 0


def test_a_killed_worker_leaves_the_message_pending(sent, mailbox, monkeypatch):
    """A worker that dies (not an exception the pipeline catches) rolls the
    claim back with the rest: the next run processes the message."""
    from wagtail_helpdesk.services import inbound

    def die(*args, **kwargs):
        raise SystemExit("killed")

    row, _created = store.store(answer(sent.message, "Dopo il riavvio."), mailbox=mailbox,
                                enqueue=False)
    monkeypatch.setattr(inbound, "add_citizen_message", die)
    with pytest.raises(SystemExit):
        pipeline.process_one(row.pk)
    assert InboundMessage.objects.get(pk=row.pk).outcome == "processing"  # its claim holds
    assert citizen_messages(sent.ticket) == []  # the work rolled back
    monkeypatch.undo()
    assert pipeline.process_pending() == 0  # another worker leaves it to its lease
    expire_lease(row)
    assert pipeline.process_pending() == 1
    assert len(citizen_messages(sent.ticket)) == 1


def test_a_flood_from_one_sender_is_held_after_the_limit(mailbox, mail_settings, settings):
    settings.WAGTAIL_HELPDESK_INBOUND_MAX_TICKETS_PER_SENDER_HOUR = 3
    rows = [receive(new_mail(f"Messaggio {n}", subject=f"Oggetto {n}"), mailbox)
            for n in range(5)]
    assert [r.outcome for r in rows] == ["new_ticket"] * 3 + ["dropped"] * 2
    assert rows[-1].reason == "rate" and Ticket.objects.count() == 3


def test_two_auto_responders_exchange_a_bounded_number_of_messages(
        mailbox, mail_settings, smtp):
    """A vacation responder that ignores RFC 3834 answers everything we send,
    as new mail (no In-Reply-To); we acknowledge once a day and never answer
    automatic replies: the exchange ends by itself."""
    receive(new_mail("Sono in ferie.", sender="ferie@example.org"), mailbox)
    exchanged = 0
    for _round in range(10):
        smtp.messages.clear()
        deliver_all()
        ours = [m for m in smtp.messages if m["To"] == "ferie@example.org"]
        if not ours:
            break
        exchanged += len(ours)
        for message in ours:
            receive(new_mail("Sono in ferie.", sender="ferie@example.org",
                             subject=f"Re: {message['Subject']}"), mailbox)
    assert exchanged == 1
    assert InboundMessage.objects.count() == 2


def test_attachments_pass_the_checks_one_by_one(sent, mailbox):
    from tests.support.images import png_bytes

    reply = message_from_bytes(answer(sent.message, "Allego la foto."), policy=policy.default)
    reply.add_attachment(png_bytes(), maintype="image", subtype="png", filename="foto.png")
    reply.add_attachment(b"MZ\x90\x00" + b"\x00" * 100, maintype="application",
                         subtype="octet-stream", filename="virus.exe")
    row = receive(bytes(reply), mailbox)
    (event,) = citizen_messages(sent.ticket)
    assert row.outcome == "threaded"
    assert [a.original_name for a in event.attachments.all()] == ["foto.png"]
    assert [r["name"] for r in event.data["rejected_attachments"]] == ["virus.exe"]


def test_rerouting_a_misfiled_message(sent, mailbox, factories):
    from django.core.exceptions import PermissionDenied

    row = receive(new_mail("In realtà riguarda la mia pratica."), mailbox)
    wrong = row.ticket
    with pytest.raises(PermissionDenied):
        services.inbound.reroute(row, factories.operator(sent.office), ticket=sent.ticket)
    admin = factories.administrator()
    target = services.inbound.reroute(row, admin, ticket=sent.ticket)
    row.refresh_from_db()
    assert (target.pk, row.ticket_id, row.reason, row.rerouted_by_id) == (
        sent.ticket.pk, sent.ticket.pk, "rerouted", admin.pk)
    assert len(citizen_messages(target)) == 1
    assert target.events.get(kind=EventKind.EMAIL_REROUTED).data["previous"] == wrong.pk
    other = factories.office(name="Tributi")
    with pytest.raises(GuardFailed):  # an office with no service to file the request under
        services.inbound.reroute(row, admin, office=other)
    tari = factories.service(other, name="TARI")
    moved = services.inbound.reroute(row, admin, office=other)
    assert moved.office == other and moved.service == tari
    assert moved.pk not in (wrong.pk, sent.ticket.pk) and moved.citizen.declared


def test_a_message_that_kills_its_worker_every_time_is_given_up(sent, mailbox, monkeypatch):
    """The attempt is counted before the work (and stays counted when the
    worker dies): the queue's head never stays blocked."""
    from wagtail_helpdesk.services import inbound

    def die(*args, **kwargs):
        raise SystemExit("killed")

    row, _created = store.store(answer(sent.message, "Pesante."), mailbox=mailbox,
                                enqueue=False)
    monkeypatch.setattr(inbound, "add_citizen_message", die)
    for _attempt in range(pipeline.MAX_ATTEMPTS):
        with pytest.raises(SystemExit):
            pipeline.process_one(row.pk)
        expire_lease(row)
        assert pipeline.release_stale() == 1
    assert pipeline.process_one(row.pk) is True
    row.refresh_from_db()
    assert (row.outcome, row.attempts) == ("failed", pipeline.MAX_ATTEMPTS + 1)
    assert "3 attempts" in row.detail


def test_a_colleague_answering_an_office_notification_is_not_a_citizen(
        sent, mailbox, factories, smtp):
    """Office mail carries no citizen's reply address; and mail from a staff or
    office address never becomes the citizen's (public) message."""
    office_mail = next(m for m in smtp.messages if m["To"] == "anagrafe@comune.example.it")
    assert office_mail["Reply-To"] is None and office_mail["In-Reply-To"] is None
    colleague_user = factories.operator(sent.office)
    colleague_user.email = "collega@comune.example.it"
    colleague_user.save()
    raw = answer(sent.message, "Nota interna: ha già chiamato.",
                 sender="anagrafe@comune.example.it")  # replying to the citizen's copy
    row = receive(raw, mailbox)
    assert (row.outcome, row.reason) == ("dropped", "staff")
    colleague = receive(answer(sent.message, "Lo seguo io.", sender="collega@comune.example.it"),
                        mailbox)
    assert (colleague.outcome, colleague.reason) == ("dropped", "staff")
    assert citizen_messages(Ticket.objects.get(pk=sent.ticket.pk)) == []


def test_the_same_message_to_two_of_our_addresses_opens_one_ticket(mailbox, mail_settings,
                                                                  factories):
    other = Mailbox.objects.create(name="URP bis", address="urp@comune.example.it",
                                   protocol="lmtp", office=mailbox.office)
    raw = new_mail("Una richiesta sola.")
    first = receive(raw, mailbox)
    copy = receive(raw.replace(b"To: assistenza@", b"To: urp@"), other)
    assert first.outcome == "new_ticket"
    assert (copy.outcome, copy.reason, copy.ticket_id) == ("dropped", "duplicate",
                                                           first.ticket_id)
    assert Ticket.objects.count() == 1


def test_a_subject_alone_does_not_make_a_request_an_automatic_reply(mailbox, mail_settings):
    row = receive(new_mail("In via Roma i lampioni sono spenti da giorni.",
                           subject="Assente illuminazione pubblica in via Roma"), mailbox)
    assert row.outcome == "new_ticket"


def test_process_again_after_the_cause_is_fixed(factories, mail_settings):
    office = factories.office(name="Senza servizi")
    box = Mailbox.objects.create(name="Nuova", address=OUR_ADDRESS, protocol="lmtp",
                                 office=office)
    row = receive(new_mail("Buongiorno"), box)
    assert row.outcome == "failed" and "no service" in row.detail
    factories.service(office, name="Informazioni")
    with pytest.raises(PermissionDenied):
        services.inbound.process_again(row, factories.operator(office))
    assert services.inbound.process_again(row, factories.administrator())
    pipeline.process_pending()
    row.refresh_from_db()
    assert row.outcome == "new_ticket" and row.ticket.office == office


def test_erasing_the_citizen_erases_the_mail_received_from_them(
        sent, mailbox, factories, django_capture_on_commit_callbacks):
    row = receive(answer(sent.message, "Il mio numero è 333 1234567."), mailbox)
    name = row.raw.name
    assert row.raw.storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(factories.administrator(), sent.person, reason="richiesta")
    row.refresh_from_db()
    assert (row.raw.name, row.sender, row.subject, row.message_id) == ("", "", "", "")
    assert not row.raw.storage.exists(name)
    assert row.outcome == "threaded"  # the record of what happened stays


def test_control_characters_in_headers_never_stop_a_mailbox(mailbox, mail_settings):
    """PostgreSQL refuses NUL in text: a crafted header must still be stored
    and processed (and the next message after it too)."""
    raw = new_mail("Ciao", subject="=?utf-8?q?Buca=00in_via_Roma?=").replace(
        b"Message-ID: <", b"Message-ID: <\x00")
    row = receive(raw, mailbox)
    assert row.outcome == "new_ticket", row.detail
    assert "\x00" not in row.subject and "Buca" in row.subject
    assert "\x00" not in row.ticket.subject
    assert receive(new_mail("Dopo", sender="altro@example.org"), mailbox).outcome == "new_ticket"
