"""The LMTP receiver (``inbound.lmtp``) fed by the standard library's LMTP
client, as the municipality's mail server would: recipients checked, every
message stored once, one reply per recipient, big messages and bursts."""

import hashlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from email import policy
from email.message import EmailMessage

import pytest

from tests.support.asgi import ROOT, free_port, wait_for_port
from wagtail_helpdesk.inbound import lmtp, store
from wagtail_helpdesk.models import InboundMessage, InboundOutcome, Mailbox

# The receiver stores from a thread of its own: committed rows only.
stores = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ADDRESS = "assistenza@comune.example.it"


def message(subject="Richiesta", to=ADDRESS, size=0):
    msg = EmailMessage()
    msg["From"] = "Anna Bianchi <anna.bianchi@example.org>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    msg.set_content("Buongiorno, il lampione di via Roma 12 è spento da giorni.\n")
    if size:
        msg.add_attachment(os.urandom(size), maintype="application", subtype="octet-stream",
                           filename="planimetria.pdf")
    return msg.as_bytes(policy=policy.SMTP)  # CRLF line ends, as mail servers send


@pytest.fixture
def mailbox(db):
    return Mailbox.objects.create(name="Assistenza", address=ADDRESS, protocol="lmtp")


@pytest.fixture
def receiver(mailbox, queued):
    server = lmtp.controller("127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def client(server):
    connection = smtplib.LMTP(server.hostname, server.port, timeout=30)
    connection.ehlo_or_helo_if_needed()  # LHLO
    return connection


@stores
def test_one_message_is_stored_with_its_envelope(receiver, mailbox, queued):
    raw = message("Lampione spento")
    with client(receiver) as lmtp_client:
        assert lmtp_client.sendmail("anna.bianchi@example.org", [ADDRESS], raw) == {}

    row = InboundMessage.objects.get()
    assert store.read(row) == raw  # byte for byte
    assert row.sha256 == hashlib.sha256(raw).hexdigest()
    assert row.mailbox == mailbox
    assert row.envelope_from == "anna.bianchi@example.org"
    assert row.envelope_to == [ADDRESS]
    assert row.subject == "Lampione spento" and row.sender == "anna.bianchi@example.org"
    assert row.outcome == InboundOutcome.PENDING and row.uid is None
    assert queued == [row.pk]


@stores
def test_several_recipients_get_one_reply_each(receiver, mailbox, queued):
    """RFC 2033: after the data, one reply per accepted recipient, in order.
    (smtplib reads only the first: the others are read here.)"""
    token_address = "Assistenza+42.0123456789@Comune.Example.it"
    recipients = [ADDRESS, token_address, ADDRESS]
    with client(receiver) as lmtp_client:
        assert lmtp_client.sendmail("anna.bianchi@example.org", recipients, message()) == {}
        more = [lmtp_client.getreply() for _ in recipients[1:]]
        assert [code for code, _text in more] == [250, 250]
        # The session is still in step: a second message works.
        assert lmtp_client.sendmail("anna.bianchi@example.org", [ADDRESS], message("Altro")) == {}

    first = InboundMessage.objects.exclude(subject="Altro").get()
    assert first.envelope_to == [ADDRESS, token_address.lower(), ADDRESS]
    assert first.mailbox == mailbox
    assert InboundMessage.objects.count() == 2


@stores
def test_unknown_recipients_are_refused_switched_off_ones_deferred(receiver, mailbox, queued):
    Mailbox.objects.create(name="Spenta", address="vecchia@comune.example.it",
                           protocol="lmtp", active=False)
    receiver.handler._read_at = 0  # forget the cached list of mailboxes
    with client(receiver) as lmtp_client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            lmtp_client.sendmail("x@example.org", ["nessuno@comune.example.it",
                                                   "vecchia@comune.example.it"], message())
        codes = {address: code for address, (code, _text) in refused.value.recipients.items()}
        # Unknown: refused for good; switched off: the sender's server keeps it and retries.
        assert codes == {"nessuno@comune.example.it": 550, "vecchia@comune.example.it": 450}
        lmtp_client.rset()
        # One refused, one accepted: delivered for the accepted one only.
        refusals = lmtp_client.sendmail("x@example.org", ["nessuno@comune.example.it", ADDRESS],
                                        message("Mezzo"))
        assert list(refusals) == ["nessuno@comune.example.it"]
    row = InboundMessage.objects.get()
    assert row.subject == "Mezzo" and row.envelope_to == [ADDRESS]


@stores
def test_any_recipient_when_configured(mailbox, queued):
    server = lmtp.controller("127.0.0.1", free_port(), accept_any=True)
    server.start()
    try:
        with client(server) as lmtp_client:
            lmtp_client.sendmail("x@example.org", ["protocollo@comune.example.it"], message())
    finally:
        server.stop()
    row = InboundMessage.objects.get()
    assert row.mailbox is None and row.envelope_to == ["protocollo@comune.example.it"]


@stores
def test_the_same_message_twice_is_stored_once(receiver, queued):
    raw = message("Inviato due volte")
    with client(receiver) as lmtp_client:
        lmtp_client.sendmail("x@example.org", [ADDRESS], raw)
        assert lmtp_client.sendmail("x@example.org", [ADDRESS], raw) == {}
    assert InboundMessage.objects.count() == 1
    assert len(queued) == 1


@stores
def test_a_storage_failure_asks_the_server_to_retry(receiver, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("wagtail_helpdesk.inbound.store.store", broken)
    with client(receiver) as lmtp_client:
        # Step by step: sendmail() would send RSET and swallow the second reply.
        assert lmtp_client.mail("x@example.org")[0] == 250
        assert lmtp_client.rcpt(ADDRESS)[0] == 250
        assert lmtp_client.rcpt(ADDRESS)[0] == 250
        assert lmtp_client.data(message())[0] == 451
        assert lmtp_client.getreply()[0] == 451  # the second recipient's reply
        assert lmtp_client.noop()[0] == 250  # still in step
    assert InboundMessage.objects.count() == 0


@stores
def test_a_20_mb_message(receiver, queued):
    raw = message("Allegato grande", size=20 * 1024 * 1024)
    assert len(raw) > 27_000_000  # base64
    with client(receiver) as lmtp_client:
        assert lmtp_client.sendmail("x@example.org", [ADDRESS], raw) == {}
    row = InboundMessage.objects.get()
    assert row.size == len(raw)
    assert store.read(row) == raw


@stores
def test_a_burst_of_200_messages_is_answered_quickly(receiver, queued):
    """Four connections at once, fifty messages each: storing is all the
    receiver does, so every one is answered at once."""
    slowest, errors = [], []

    def send(n):
        try:
            with client(receiver) as lmtp_client:
                for i in range(50):
                    started = time.monotonic()
                    lmtp_client.sendmail("x@example.org", [ADDRESS], message(f"Burst {n}-{i}"))
                    slowest.append(time.monotonic() - started)
        except Exception as error:  # reported below
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert errors == []
    assert InboundMessage.objects.count() == 200
    assert len(set(queued)) == 200
    assert elapsed < 20, f"200 messages took {elapsed:.1f} s"
    assert max(slowest) < 2, f"one message waited {max(slowest):.2f} s"


def test_the_command_serves_until_sigterm_and_says_when_the_port_is_taken():
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = [sys.executable, "manage.py", "helpdesk_lmtp", "--host", "127.0.0.1"]
    server = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, env=env,  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port("127.0.0.1", port, alive=lambda: server.poll() is None)
        with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp_client:
            lmtp_client.ehlo_or_helo_if_needed()  # LHLO
            assert lmtp_client.does_esmtp and lmtp_client.has_extn("size")
            assert lmtp_client.noop()[0] == 250
        taken = subprocess.run([*command, "--port", str(port)], cwd=ROOT, env=env,  # noqa: S603
                               capture_output=True, text=True, timeout=60)
        assert taken.returncode == 1
        assert f"Cannot receive mail by LMTP on 127.0.0.1:{port}" in taken.stderr
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert f"Receiving e-mail by LMTP on 127.0.0.1:{port}." in out
    assert "LMTP receiver stopped." in out
