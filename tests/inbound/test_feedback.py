"""What the recipients' side says about our notifications: a bounce makes
one undelivered (and App IO takes over where it can), certified-mail
receipts are recorded, a delay warning changes nothing; the envelope sender
names the notification (VERP)."""

from email.message import EmailMessage
from email.utils import make_msgid
from xml.sax.saxutils import escape

import pytest
from django.utils import timezone

from tests.inbound.conftest import OUR_ADDRESS, deliver_all, receive
from wagtail_helpdesk.admin.notifications import undelivered
from wagtail_helpdesk.models import EventKind, Mailbox, Notification
from wagtail_helpdesk.notifications import email as mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def box(factories):
    office = factories.office(name="URP")
    factories.service(office, name="Informazioni")
    return Mailbox.objects.create(name="Assistenza", address=OUR_ADDRESS, protocol="lmtp",
                                  office=office)


@pytest.fixture
def pec_box(factories):
    office = factories.office(name="Protocollo")
    factories.service(office, name="Protocollo")
    return Mailbox.objects.create(name="PEC", address="protocollo@pec.comune.example.it",
                                  protocol="imap", certified=True, office=office)


def dsn(original, *, to, status="5.1.1", action="failed", headers_only=False):
    """A delivery status notification as Postfix writes it (RFC 3464)."""
    returned = original.as_string() if not headers_only else "".join(
        f"{k}: {v}\n" for k, v in original.items() if k in ("Message-ID", "To", "Subject"))
    kind = "text/rfc822-headers" if headers_only else "message/rfc822"
    text = f"""From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.example.org")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {original['To']}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{original['To']}>: Recipient address rejected: User
    unknown in local recipient table

--B1
Content-Type: {kind}

{returned}
--B1--
"""
    return text.encode()


def pec_receipt(kind, reference, *, error=""):
    receipt = EmailMessage()
    receipt["From"] = "posta-certificata@pec.provider.example"
    receipt["To"] = "protocollo@pec.comune.example.it"
    receipt["Subject"] = f"{'CONSEGNA' if kind == 'avvenuta-consegna' else 'ERRORE'}: [AST]"
    receipt["Message-ID"] = make_msgid(domain="pec.provider.example")
    receipt["X-Ricevuta"] = kind
    receipt["X-Riferimento-Message-ID"] = reference
    receipt["X-Trasporto"] = "errore" if error else "posta-certificata"
    receipt.set_content("Ricevuta di consegna")
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><postacert tipo="{kind}" '
           f'errore="{"nessuno" if not error else "no-dest"}"><intestazione>'
           '<mittente>protocollo@pec.comune.example.it</mittente>'
           '<destinatari tipo="certificato">giulia@pec.example.org</destinatari>'
           '<oggetto>[AST]</oggetto></intestazione><dati><gestore-emittente>Provider</gestore-'
           'emittente><data zona="+0100"><giorno>05/12/2026</giorno><ora>10:00:00</ora></data>'
           f'<identificativo>opec.1234@pec.provider.example</identificativo>'
           f'<msgid>{escape(reference)}</msgid>'
           + (f"<errore-esteso>{error}</errore-esteso>" if error else "")
           + "</dati></postacert>")
    receipt.add_attachment(xml.encode(), maintype="application", subtype="xml",
                           filename="daticert.xml")
    return bytes(receipt)


def test_the_envelope_sender_names_the_notification(sent, smtp, settings):
    settings.WAGTAIL_HELPDESK_NOTIFY_BOUNCE_ADDRESS = "bounces+{token}@comune.example.it"
    senders = []
    smtp.record = lambda envelope: senders.append(envelope.mail_from)
    notification = Notification.objects.filter(status="sent").first()
    Notification.objects.filter(pk=notification.pk).update(status="pending", attempts=0,
                                                           next_attempt_at=timezone.now())
    deliver_all()
    assert senders == [f"bounces+{mail.bounce_token(notification.pk)}@comune.example.it"]
    assert mail.read_bounce_token(senders[0]) == notification.pk
    assert mail.read_bounce_token(senders[0].replace(senders[0][8:12], "9999")) is None


def test_a_bounce_makes_the_notification_undelivered_and_app_io_takes_over(
        sent, box, settings, factories):
    settings.WAGTAIL_HELPDESK_APP_IO_API_KEY = "io-key"
    sent.person.fiscal_code = "BNCGLI80A41H501X"
    sent.person.notify_app_io = False  # e-mail only, until e-mail fails
    sent.person.save()
    notification = Notification.objects.get(template="citizen/ticket_received", channel="email")
    row = receive(dsn(sent.message, to=OUR_ADDRESS), box)
    notification.refresh_from_db()
    assert (row.outcome, row.reason, row.notification_id) == ("bounce", "message-id",
                                                              notification.pk)
    assert (notification.status, notification.receipt) == ("failed", "bounce")
    assert "5.1.1" in notification.last_error
    event = sent.ticket.events.get(kind=EventKind.NOTIFICATION_FAILED)
    assert event.data["bounce"] and event.data["code"] == "5.1.1"
    assert notification in undelivered(factories.administrator())
    io = Notification.objects.get(channel="app_io", event=notification.event)
    assert io.template == notification.template and io.address == "BNCGLI80A41H501X"
    again = receive(dsn(sent.message, to=OUR_ADDRESS, status="5.1.2"), box)  # a second copy
    assert again.outcome == "bounce"
    assert Notification.objects.filter(channel="app_io").count() == 1
    assert sent.ticket.events.filter(kind=EventKind.NOTIFICATION_FAILED).count() == 1


def test_a_bounce_with_only_the_returned_headers_is_understood(sent, box):
    row = receive(dsn(sent.message, to=OUR_ADDRESS, headers_only=True), box)
    assert (row.outcome, row.reason) == ("bounce", "message-id")
    assert Notification.objects.get(pk=row.notification_id).status == "failed"


def test_a_delay_warning_changes_nothing(sent, box):
    row = receive(dsn(sent.message, to=OUR_ADDRESS, status="4.4.1", action="delayed"), box)
    assert (row.outcome, row.reason) == ("bounce", "delayed")
    assert row.get_reason_display() == "delivery delayed, not failed"
    assert not Notification.objects.filter(status="failed").exists()


def test_a_bounce_of_an_unknown_message_is_kept_without_effect(box, mail_settings):
    stranger = EmailMessage()
    stranger["To"], stranger["Subject"] = "nessuno@example.org", "Ciao"
    stranger["Message-ID"] = make_msgid(domain="example.org")
    stranger.set_content("x")
    row = receive(dsn(stranger, to=OUR_ADDRESS), box)
    assert (row.outcome, row.reason, row.notification_id) == ("bounce", "unknown", None)


def test_certified_receipts_update_the_notification(sent, pec_box):
    notification = Notification.objects.get(template="citizen/ticket_received", channel="email")
    reference = sent.message["Message-ID"]
    row = receive(pec_receipt("avvenuta-consegna", reference), pec_box)
    notification.refresh_from_db()
    assert (row.outcome, row.notification_id) == ("pec_receipt", notification.pk)
    assert (notification.status, notification.receipt) == ("sent", "avvenuta-consegna")
    event = sent.ticket.events.get(kind=EventKind.NOTIFICATION_RECEIPT)
    assert event.data["receipt"] == "avvenuta-consegna"
    assert row.certified and row.certification["identificativo"].startswith("opec.")
    failed = receive(pec_receipt("errore-consegna", reference, error="5.1.1 utente sconosciuto"),
                     pec_box)
    notification.refresh_from_db()
    assert failed.outcome == "pec_receipt"
    assert (notification.status, notification.receipt) == ("failed", "errore-consegna")
    assert "utente sconosciuto" in notification.last_error


def test_receipt_headers_on_an_ordinary_mailbox_are_not_trusted(sent, box):
    row = receive(pec_receipt("errore-consegna", sent.message["Message-ID"], error="x"), box)
    assert row.outcome != "pec_receipt"
    assert not Notification.objects.filter(status="failed").exists()


def test_a_report_from_a_stranger_naming_only_an_address_changes_nothing(sent, box):
    """Anybody can write a delivery report: one that carries neither our bounce
    address nor our Message-ID, from an ordinary sender, fails nothing."""
    stranger = EmailMessage()
    stranger["To"], stranger["Subject"] = sent.person.email, "x"
    stranger.set_content("x")
    forged = dsn(stranger, to=OUR_ADDRESS).replace(
        b"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)",
        b"From: Qualcuno <qualcuno@attacker.example>")
    row = receive(forged, box)
    assert (row.outcome, row.notification_id) == ("bounce", None)
    assert not Notification.objects.filter(status="failed").exists()


def test_an_anomaly_envelope_is_not_certified(sent, pec_box):
    """X-Trasporto: errore wraps ordinary mail that reached the PEC box."""
    from tests.inbound import corpus

    raw = corpus.load("pec_envelope").replace(b"X-Trasporto: posta-certificata",
                                               b"X-Trasporto: errore")
    assert b"X-Trasporto: errore" in raw
    row = receive(raw, pec_box)
    assert row.outcome == "new_ticket" and row.certified is False
    created = row.ticket.events.get(kind=EventKind.CREATED)
    assert created.data["inbound"] == row.pk and "certified" not in created.data
