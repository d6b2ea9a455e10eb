"""Reading IMAP mailboxes (``inbound.imap``) against a real Dovecot: every
new message stored exactly once, then moved (or flagged read), never
deleted; UIDVALIDITY changes, missing folders and refused logins recorded
on the mailbox instead of raised."""

import uuid

import pytest

from tests.support.dovecot import Dovecot  # (the dovecot fixture: tests/conftest.py)
from wagtail_helpdesk.inbound import imap, store
from wagtail_helpdesk.models import InboundMessage, InboundOutcome, Mailbox

pytestmark = [pytest.mark.django_db, pytest.mark.imap]


def message(subject="Richiesta", body="Buongiorno, vorrei un'informazione.", sender=None):
    """A citizen's message as a mail program writes it (CRLF, 8-bit UTF-8)."""
    sender = sender or f"mario.rossi.{uuid.uuid4().hex[:6]}@example.org"
    return (
        f"Return-Path: <{sender}>\r\n"
        f"From: Mario Rossi <{sender}>\r\n"
        "To: Comune di Esempio <assistenza@comune.example.it>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Sat, 05 Dec 2026 10:00:00 +0100\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{body}\r\nGrazie, città di Esempio è già così.\r\n"
    ).encode()


@pytest.fixture
def account(dovecot):
    """A fresh Dovecot user and the Mailbox reading it."""
    def make(**fields):
        login, password = dovecot.user(f"box{uuid.uuid4().hex[:10]}")
        values = {"name": "Assistenza", "address": f"{login}@comune.example.it",
                  "protocol": "imap", "host": dovecot.host, "port": dovecot.port,
                  "security": "none", "username": login, "password": password,
                  "folder": "INBOX", "processed_folder": "Elaborati"}
        values.update(fields)
        return Mailbox.objects.create(**values)
    return make


def test_new_mail_is_stored_once_and_moved(dovecot, account, queued):
    mailbox = account()
    raws = [message(f"Richiesta {n}") for n in range(3)]
    assert dovecot.append(mailbox.username, raws) == [1, 2, 3]

    assert imap.poll(mailbox) == 3

    rows = list(InboundMessage.objects.filter(mailbox=mailbox).order_by("uid"))
    assert [row.uid for row in rows] == [1, 2, 3]
    assert {row.uidvalidity for row in rows} == {dovecot.status(mailbox.username)["UIDVALIDITY"]}
    assert [store.read(row) for row in rows] == raws  # the bytes as the server kept them
    assert {row.outcome for row in rows} == {InboundOutcome.PENDING}
    assert [row.subject for row in rows] == ["Richiesta 0", "Richiesta 1", "Richiesta 2"]
    assert sorted(queued) == [row.pk for row in rows]
    # Moved, not deleted: the processed folder was created and holds them, unread.
    assert dovecot.uids(mailbox.username, "INBOX") == []
    moved = dovecot.fetch(mailbox.username, "Elaborati")
    assert [raw for _uid, _flags, raw in moved] == raws
    assert all("\\Seen" not in flags for _uid, flags, _raw in moved)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.last_error == ""
    assert mailbox.last_checked_at is not None

    # Nothing new: nothing taken. New mail: only it.
    assert imap.poll(mailbox) == 0
    later = message("Sollecito")
    dovecot.append(mailbox.username, later)
    assert imap.poll(mailbox) == 1
    assert InboundMessage.objects.filter(mailbox=mailbox).count() == 4
    assert InboundMessage.objects.get(mailbox=mailbox, uid=4).subject == "Sollecito"
    assert len(queued) == 4


def test_without_processed_folder_messages_stay_marked_read(dovecot, account, queued):
    mailbox = account(processed_folder="")
    dovecot.append(mailbox.username, [message("Uno"), message("Due")])

    assert imap.poll(mailbox) == 2
    left = dovecot.fetch(mailbox.username, "INBOX")
    assert [uid for uid, _flags, _raw in left] == [1, 2]
    assert all("\\Seen" in flags for _uid, flags, _raw in left)
    assert "Elaborati" not in dovecot.folders(mailbox.username)

    # Read but still there: the next run does not take them again.
    assert imap.poll(mailbox) == 0
    dovecot.append(mailbox.username, message("Tre"))
    assert imap.poll(mailbox) == 1
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == [
        "Due", "Tre", "Uno"]


def test_a_message_stored_already_is_moved_not_stored_again(dovecot, account, queued):
    """The same bytes received before (by LMTP, or an earlier run whose
    UIDs were lost): recognised by their hash, just put away."""
    mailbox = account()
    raw = message("Doppione")
    earlier, _created = store.store(raw, enqueue=False)
    dovecot.append(mailbox.username, [raw, message("Nuovo")])

    assert imap.poll(mailbox) == 2
    assert InboundMessage.objects.count() == 2
    assert InboundMessage.objects.get(subject="Doppione").pk == earlier.pk
    assert queued == [InboundMessage.objects.get(subject="Nuovo").pk]
    assert dovecot.uids(mailbox.username, "INBOX") == []
    assert len(dovecot.uids(mailbox.username, "Elaborati")) == 2


def test_processed_folder_with_spaces_accents_and_hierarchy(dovecot, account, queued):
    folder = "Posta elaborata/Già letti"
    mailbox = account(processed_folder=folder)
    dovecot.append(mailbox.username, message("Accenti"))
    assert imap.poll(mailbox) == 1
    assert folder in dovecot.folders(mailbox.username)
    assert len(dovecot.uids(mailbox.username, folder)) == 1


def test_limit_takes_the_oldest_first(dovecot, account, queued):
    mailbox = account()
    dovecot.append(mailbox.username, [message(f"M{n}") for n in range(5)])

    assert imap.poll(mailbox, limit=2) == 2
    assert sorted(InboundMessage.objects.values_list("uid", flat=True)) == [1, 2]
    assert dovecot.uids(mailbox.username, "INBOX") == [3, 4, 5]
    assert imap.poll(mailbox) == 3
    assert sorted(InboundMessage.objects.values_list("uid", flat=True)) == [1, 2, 3, 4, 5]


def test_uidvalidity_change_reads_the_folder_again(dovecot, account, queued):
    """The folder recreated: UIDs start again from 1. Without noticing, the
    new message (UID 1, below last_uid) would never be read."""
    mailbox = account(folder="Ingresso")
    login = mailbox.username
    dovecot.create_folder(login, "Ingresso")
    old = [message("Vecchio 1"), message("Vecchio 2"), message("Vecchio 3")]
    dovecot.append(login, old, folder="Ingresso")
    assert imap.poll(mailbox) == 3
    mailbox.refresh_from_db()
    first_validity = mailbox.uidvalidity
    assert mailbox.last_uid == 3

    dovecot.delete_folder(login, "Ingresso")
    dovecot.create_folder(login, "Ingresso")
    # One message seen before (put back by someone), one new.
    assert dovecot.append(login, [old[0], message("Nuovo dopo")], folder="Ingresso") == [1, 2]
    assert dovecot.status(login, "Ingresso")["UIDVALIDITY"] != first_validity

    assert imap.poll(mailbox) == 2
    mailbox.refresh_from_db()
    assert mailbox.uidvalidity == dovecot.status(login, "Ingresso")["UIDVALIDITY"]
    assert mailbox.last_uid == 2
    assert InboundMessage.objects.count() == 4  # the old one recognised by its hash
    new = InboundMessage.objects.get(subject="Nuovo dopo")
    assert (new.uidvalidity, new.uid) == (mailbox.uidvalidity, 2)
    assert dovecot.uids(login, "Ingresso") == []


def test_missing_folder_is_recorded_not_raised(dovecot, account, queued):
    mailbox = account(folder="NonEsiste")
    dovecot.append(mailbox.username, message())

    assert imap.poll(mailbox) == 0
    mailbox.refresh_from_db()
    assert "NonEsiste" in mailbox.last_error and "does not exist" in mailbox.last_error
    assert InboundMessage.objects.count() == 0
    assert dovecot.uids(mailbox.username, "INBOX") == [1]  # untouched
    assert "does not exist" in imap.check_connection(mailbox)

    # Fixed by an administrator: the next run works and clears the error.
    mailbox.folder = "INBOX"
    mailbox.save()
    assert imap.check_connection(mailbox) == ""
    assert imap.poll(mailbox) == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_poll_all_reads_every_active_imap_mailbox_despite_a_broken_one(dovecot, account,
                                                                       queued):
    from tests.support.asgi import free_port

    good = account()
    broken = account(port=free_port())  # nothing listens there
    inactive = account(active=False)
    account(protocol="lmtp", host="", username="", password="")  # nothing to read
    for box in (good, inactive):
        dovecot.append(box.username, message())

    assert imap.poll_all() == 1
    assert InboundMessage.objects.get().mailbox == good
    broken.refresh_from_db()
    assert broken.last_error.startswith("Could not connect to 127.0.0.1:")
    assert broken.last_checked_at is not None
    assert dovecot.uids(inactive.username, "INBOX") == [1]
    assert imap.check_connection(broken).startswith("Could not connect")


def test_check_connection_of_an_lmtp_mailbox_says_so(account):
    mailbox = account(protocol="lmtp")
    assert "LMTP" in imap.check_connection(mailbox)


def test_no_server_set(account):
    mailbox = account(host="")
    assert imap.poll(mailbox) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == "No server is set for this mailbox."


def test_big_messages_are_downloaded_a_few_at_a_time(dovecot, account, queued, monkeypatch):
    """Chunks are cut by count and by size: a mailbox full of big
    attachments is never read into memory at once."""
    mailbox = account()
    big = [message(f"Grande {n}", body="x" * 200_000) for n in range(3)]
    dovecot.append(mailbox.username, [*big, message("Piccolo 1"), message("Piccolo 2")])
    monkeypatch.setattr(imap, "CHUNK_BYTES", 300_000)
    chunks = []
    real_take = imap._take

    def take(client, mailbox, uidvalidity, uids):
        chunks.append(list(uids))
        return real_take(client, mailbox, uidvalidity, uids)

    monkeypatch.setattr(imap, "_take", take)
    assert imap.poll(mailbox) == 5
    assert chunks == [[1], [2], [3, 4, 5]]
    assert InboundMessage.objects.count() == 5
    assert dovecot.uids(mailbox.username, "Elaborati") == [1, 2, 3, 4, 5]


def test_processed_folder_same_as_the_folder_read_marks_them_read(dovecot, account, queued):
    """Moving mail into the folder it comes from would give it new UIDs to
    take again at every run."""
    mailbox = account(processed_folder="INBOX")
    dovecot.append(mailbox.username, [message("A"), message("B")])
    assert imap.poll(mailbox) == 2
    assert imap.poll(mailbox) == 0
    kept = dovecot.fetch(mailbox.username, "INBOX")
    assert [uid for uid, _f, _r in kept] == [1, 2]
    assert all("\\Seen" in flags for _uid, flags, _raw in kept)


# Last: a failed login makes Dovecot slow down the next logins from this
# address for a few seconds — on a server of its own, so no other test waits.

def test_wrong_password_is_recorded_without_the_password(queued):
    server = Dovecot()
    server.start()
    try:
        login, _password = server.user("comune")
        server.append("comune", message())
        secret = "segreto-sbagliato-4711"
        mailbox = Mailbox.objects.create(
            name="PEC", address="pec@comune.example.it", host=server.host, port=server.port,
            security="none", username=login, password=secret)

        assert imap.poll(mailbox) == 0
        mailbox.refresh_from_db()
        assert mailbox.last_error.startswith("The server refused the login:")
        assert "AUTHENTICATIONFAILED" in mailbox.last_error
        assert secret not in mailbox.last_error
        assert InboundMessage.objects.count() == 0
        # Untouched (read on disk: a login now would wait out Dovecot's delay).
        maildir = server.work / "home" / "comune" / "Maildir"
        assert len([*(maildir / "new").iterdir(), *(maildir / "cur").iterdir()]) == 1
        assert not (maildir / ".Elaborati").exists()
    finally:
        server.cleanup()


def test_a_mailbox_another_worker_is_reading_is_left_to_it(dovecot, factories):
    """Overlapping runs of the job: the second leaves the mailbox alone."""
    from django.core.cache import cache

    from wagtail_helpdesk.inbound import imap as reader
    from wagtail_helpdesk.models import Mailbox

    login, password = dovecot.user("overlap")
    box = Mailbox.objects.create(name="Overlap", address="overlap@comune.example.it",
                                 host=dovecot.host, port=dovecot.port, security="none",
                                 username=login, password=password)
    dovecot.append(login, b"From: a@example.org\r\nSubject: x\r\n\r\nciao\r\n")
    cache.add(f"wagtail_helpdesk:inbound:poll:{box.pk}", 1, 60)
    assert reader.poll_all() == 0
    cache.delete(f"wagtail_helpdesk:inbound:poll:{box.pk}")
    assert reader.poll_all() == 1
