"""Reading IMAP mailboxes (a hosted mailbox, a PEC box): the worker's
periodic job takes what is new, keeps it (:func:`.store.store`) and moves it
out of the way. Nothing here understands a message: that is the pipeline's.

Why it is safe to kill at any moment:

* a message is stored (committed) *before* it is moved or flagged, and is
  never deleted;
* the folder's UIDVALIDITY and the highest UID taken are remembered on the
  :class:`~wagtail_helpdesk.models.Mailbox` only once the messages up to it
  are moved, so a run killed half-way takes the same messages again: those
  already stored are recognised by their place (mailbox, UIDVALIDITY, UID)
  without being downloaded again, or by their content hash, and just moved;
* a changed UIDVALIDITY (the folder was recreated) starts again from UID 1:
  messages seen before are recognised by their hash.

Errors never reach the job: they are recorded on the mailbox
(``last_error``, short, without the password) for the administrators.
"""

import email
import imaplib
import logging
import re
import socket
import ssl

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError
from imap_tools.message import MailMessage
from imap_tools.utils import encode_folder

from ..models import InboundMessage, Mailbox, MailboxProtocol, MailboxSecurity
from . import store as storage
from . import tasks

log = logging.getLogger(__name__)

#: Seconds a server may take to answer before the run gives up.
TIMEOUT = 30
#: Messages downloaded per FETCH (at most, and at most about CHUNK_BYTES
#: together): then stored, moved, and the progress saved.
CHUNK = 50
CHUNK_BYTES = 32 * 1024 * 1024
#: The longest ``last_error`` kept (the admin shows it in a list).
ERROR_LENGTH = 300


class ImapError(Exception):
    """A problem worth telling the administrators, already worded for them."""


class _RawMessage(MailMessage):
    """A fetched message kept as bytes, exactly as the server holds it.

    imap-tools parses every message it fetches; the raw bytes are what we
    store (their hash identifies the message), and parsing is the
    pipeline's job, so it is skipped here."""

    def __init__(self, fetch_data):
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data
        self.raw = bytes(raw or b"")

    @property
    def obj(self):  # parsed only if someone asks
        return email.message_from_bytes(self.raw)


def _client(mailbox):
    security = mailbox.security
    host = (mailbox.host or "").strip()
    if not host:
        raise ImapError(_("No server is set for this mailbox."))
    try:
        if security == MailboxSecurity.NONE:
            client = MailBoxUnencrypted(host, mailbox.port or 143, timeout=TIMEOUT)
        elif security == MailboxSecurity.STARTTLS:
            client = MailBoxStartTls(host, mailbox.port or 143, timeout=TIMEOUT,
                                     ssl_context=ssl.create_default_context())
        else:
            client = MailBox(host, mailbox.port or 993, timeout=TIMEOUT,
                             ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as error:
        raise ImapError(_("Could not connect to %(server)s: %(error)s") % {
            "server": f"{host}:{mailbox.port or ''}".rstrip(":"), "error": _describe(error)},
        ) from error
    client.email_message_class = _RawMessage
    return client


def _describe(error):
    """A short, readable account of ``error`` (never the password: it is
    never part of what the server or the socket says)."""
    if isinstance(error, socket.timeout):
        return _("no answer in time")
    if isinstance(error, UnexpectedCommandStatusError):
        text = error.command_result[1] if error.command_result else ""
        if isinstance(text, (list, tuple)):
            text = b" ".join(t for t in text if isinstance(t, bytes)) or str(text)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return " ".join(str(text).split()) or type(error).__name__
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _login(client, mailbox):
    try:
        client.login(mailbox.username, mailbox.password, initial_folder=None)
    except MailboxLoginError as error:
        raise ImapError(_("The server refused the login: %(error)s") % {
            "error": _describe(error)}) from error
    # Servers announce more (MOVE, UIDPLUS) once logged in; imaplib keeps
    # what they said before.
    typ, data = client.client.capability()
    if typ == "OK" and data and data[-1]:
        client.client.capabilities = tuple(data[-1].decode().upper().split())


def _folder_status(client, folder):
    """``(uidvalidity, uidnext)`` of ``folder``; ImapError if it does not exist."""
    if not client.folder.exists(folder):
        raise ImapError(_("The folder “%(folder)s” does not exist on the server.") % {
            "folder": folder})
    status = client.folder.status(folder, ["UIDVALIDITY", "UIDNEXT"])
    return int(status["UIDVALIDITY"]), int(status.get("UIDNEXT") or 0)


def _ensure_folder(client, folder):
    if folder and not client.folder.exists(folder):
        try:
            client.folder.create(folder)
        except UnexpectedCommandStatusError as error:
            raise ImapError(_("The folder “%(folder)s” could not be created: %(error)s") % {
                "folder": folder, "error": _describe(error)}) from error


def check_connection(mailbox):
    """"" when logging in and opening the folder work, else a short error
    (the admin's "Test connection" button)."""
    if mailbox.protocol != MailboxProtocol.IMAP:
        return _("Only IMAP mailboxes are read from a server: this one receives mail by LMTP.")
    try:
        with _client(mailbox) as client:
            _login(client, mailbox)
            _folder_status(client, mailbox.folder or "INBOX")
            client.folder.set(mailbox.folder or "INBOX", readonly=True)
    except ImapError as error:
        return _shorten(str(error))
    except Exception as error:  # reported to the administrator
        return _shorten(_("IMAP error: %(error)s") % {"error": _describe(error)})
    return ""


def _shorten(text):
    text = " ".join(str(text).split())
    return text if len(text) <= ERROR_LENGTH else text[:ERROR_LENGTH - 1] + "…"


def _new_uids(client, last_uid):
    """UIDs above ``last_uid`` in the selected folder, ascending. ("N:*"
    always matches the highest UID, even below N: filtered here.)"""
    found = client.uids(f"UID {last_uid + 1}:*", charset=None)
    return sorted(uid for uid in (int(u) for u in found) if uid > last_uid)


def _sizes(client, uids):
    """{uid: size in bytes} of ``uids`` (one FETCH of sizes, no bodies)."""
    typ, data = client.client.uid("FETCH", f"{uids[0]}:{uids[-1]}", "(UID RFC822.SIZE)")
    sizes = {}
    for item in data if typ == "OK" else ():
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = re.search(rb"UID (\d+)", line), re.search(rb"RFC822\.SIZE (\d+)", line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _chunks(client, uids):
    """``uids`` in runs of at most CHUNK messages and about CHUNK_BYTES: a
    mailbox of big attachments is not downloaded into memory at once."""
    sizes = _sizes(client, uids) if uids else {}
    chunk, total = [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chunk and (len(chunk) >= CHUNK or total + size > CHUNK_BYTES):
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _known(mailbox, uidvalidity, uids):
    return set(InboundMessage.objects.filter(
        mailbox=mailbox, uidvalidity=uidvalidity, uid__in=uids).values_list("uid", flat=True))


def _take(client, mailbox, uidvalidity, uids):
    """Store the messages ``uids`` (those not stored yet); return the UIDs
    now safely stored and the ids of the rows created."""
    known = _known(mailbox, uidvalidity, uids)
    wanted = [str(uid) for uid in uids if uid not in known]
    created, stored = [], set(known)
    if wanted:
        bulk = len(wanted) if len(wanted) > 1 else False  # one FETCH for the chunk
        for message in client.fetch(uid_list=wanted, mark_seen=False, bulk=bulk):
            if not message.uid:
                continue
            uid = int(message.uid)
            row, new = storage.store(message.raw, mailbox=mailbox, uidvalidity=uidvalidity,
                                     uid=uid, enqueue=False)
            stored.add(uid)
            if new:
                created.append(row.pk)
    tasks.enqueue(created)
    return sorted(stored), created


def _put_away(client, target, uids):
    """Move the stored messages to the processed folder, or mark them read.

    Without the MOVE extension: copy, then flag the originals deleted and
    expunge exactly those (UIDPLUS); a server without UIDPLUS keeps them,
    flagged, rather than losing whatever else someone flagged deleted."""
    if not uids:
        return
    names = ",".join(str(uid) for uid in uids)
    imap = client.client
    if not target:
        _check(imap.uid("STORE", names, "+FLAGS.SILENT", r"(\Seen)"))
        return
    target = encode_folder(target)
    if "MOVE" in imap.capabilities:
        _check(imap.uid("MOVE", names, target))
        return
    _check(imap.uid("COPY", names, target))
    _check(imap.uid("STORE", names, "+FLAGS.SILENT", r"(\Deleted)"))
    if "UIDPLUS" in imap.capabilities:
        _check(imap.uid("EXPUNGE", names))


def _check(result):
    typ, data = result
    if typ != "OK":
        raise ImapError(_("The server refused to put processed messages away: %(error)s") % {
            "error": " ".join(d.decode("utf-8", "replace") for d in data
                              if isinstance(d, bytes))[:200]})


def _save(mailbox, **fields):
    fields["last_checked_at"] = timezone.now()
    for name, value in fields.items():
        setattr(mailbox, name, value)
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)


def poll(mailbox, *, limit=None):
    """Take the new messages of ``mailbox`` (at most ``limit``); return how
    many were stored and put away. Never raises: a problem is recorded in
    ``mailbox.last_error`` (cleared by a run that works)."""
    taken = 0
    try:
        with _client(mailbox) as client:
            _login(client, mailbox)
            folder = mailbox.folder or "INBOX"
            uidvalidity, _uidnext = _folder_status(client, folder)
            if mailbox.uidvalidity != uidvalidity:
                if mailbox.uidvalidity is not None:
                    log.warning("Mailbox %s: UIDVALIDITY changed (%s -> %s), reading %s again.",
                                mailbox.pk, mailbox.uidvalidity, uidvalidity, folder)
                _save(mailbox, uidvalidity=uidvalidity, last_uid=0)
            # Moving mail into the folder it is read from would give it new
            # UIDs, to be taken again at every run: mark it read instead.
            target = mailbox.processed_folder if mailbox.processed_folder != folder else ""
            _ensure_folder(client, target)
            client.folder.set(folder)
            uids = _new_uids(client, mailbox.last_uid)
            if limit is not None:
                uids = uids[:max(0, int(limit))]
            for chunk in _chunks(client, uids):
                stored, _created = _take(client, mailbox, uidvalidity, chunk)
                _put_away(client, target, stored)
                taken += len(stored)
                if len(stored) < len(chunk):
                    # A UID that vanished meanwhile (another client moved it): skip it.
                    log.info("Mailbox %s: %d messages gone before they were read.",
                             mailbox.pk, len(chunk) - len(stored))
                _save(mailbox, last_uid=chunk[-1])
        _save(mailbox, last_error="")
    except ImapError as error:
        _record(mailbox, str(error))
    except Exception as error:  # the job goes on with the other mailboxes
        log.exception("Mailbox %s could not be read.", mailbox.pk)
        _record(mailbox, _("IMAP error: %(error)s") % {"error": _describe(error)})
    return taken


def _record(mailbox, text):
    try:
        _save(mailbox, last_error=_shorten(text))
    except Exception:  # the database itself is away: the log has it
        log.exception("Could not record the error of mailbox %s: %s", mailbox.pk, text)


#: How long one reading of a mailbox may hold it (a dead worker's hold expires).
POLL_LOCK_SECONDS = 15 * 60


def poll_all():
    """Read every active IMAP mailbox no other worker is reading now (the
    job's runs may overlap when a reading takes longer than the interval:
    harmless, the unique constraints see to it, but twice the work); the
    number of messages taken."""
    taken = 0
    for mailbox in Mailbox.objects.filter(active=True, protocol=MailboxProtocol.IMAP):
        key = f"wagtail_helpdesk:inbound:poll:{mailbox.pk}"
        if not cache.add(key, 1, POLL_LOCK_SECONDS):
            continue
        try:
            taken += poll(mailbox)
        finally:
            cache.delete(key)
    return taken
