"""Keeping a message as it arrived: the raw bytes in private storage, a row
with what the headers say, and its processing queued.

The same message is never stored twice: its content hash is unique, and so
is the place IMAP found it (mailbox, UIDVALIDITY, UID). Storing is all a
receiver does; understanding the message is the worker's job.
"""

import hashlib
import logging
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import InboundMessage

log = logging.getLogger(__name__)

_HEADERS = BytesHeaderParser(policy=policy.default)


def clean(text):
    """``text`` without control characters (PostgreSQL refuses NUL in text)."""
    return "".join(c if c >= " " or c in "\t" else " " for c in str(text or ""))


def _header(message, name):
    try:
        value = message.get(name)
    except Exception:  # a malformed header: the pipeline records the details
        return ""
    return " ".join(clean(value).split())


def summary(raw):
    """(message_id, sender, subject) read from the headers, never raising."""
    try:
        message = _HEADERS.parsebytes(raw)
    except Exception:
        return "", "", ""
    message_id = _header(message, "Message-ID").strip("<> ")
    sender = ""
    try:
        addresses = getaddresses([_header(message, "From")])
        sender = next((address for _name, address in addresses if "@" in address), "")
    except Exception:  # an unreadable From: the pipeline reads the message again
        sender = ""
    return message_id[:255], sender.lower()[:254], _header(message, "Subject")[:255]


def find(raw=None, *, sha256=None, mailbox=None, uidvalidity=None, uid=None):
    """The stored message with this content, or at this IMAP place, or None."""
    if uid is not None and mailbox is not None:
        found = InboundMessage.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity,
                                              uid=uid).first()
        if found is not None:
            return found
    digest = sha256 or (hashlib.sha256(raw).hexdigest() if raw is not None else None)
    return InboundMessage.objects.filter(sha256=digest).first() if digest else None


def store(raw, *, mailbox=None, uidvalidity=None, uid=None, envelope_from="",
          envelope_to=(), enqueue=True):
    """Keep ``raw`` (bytes) and queue its processing; return ``(message, created)``.

    A message already stored (same bytes, or the same IMAP place) is returned
    with ``created`` False and is not queued again.
    """
    raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()
    existing = find(sha256=digest, mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
    if existing is not None:
        return existing, False
    message_id, sender, subject = summary(raw)
    row = InboundMessage(
        mailbox=mailbox, sha256=digest, size=len(raw), uidvalidity=uidvalidity, uid=uid,
        envelope_from=clean(envelope_from)[:254],
        envelope_to=[clean(a).lower()[:254] for a in envelope_to][:50],
        message_id=message_id, sender=sender, subject=subject, received_at=timezone.now())
    row.raw.save("message.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            row.save()
            if enqueue:
                from . import tasks

                tasks.enqueue([row.pk])
    except IntegrityError:
        row.raw.storage.delete(row.raw.name)
        existing = find(sha256=digest, mailbox=mailbox, uidvalidity=uidvalidity, uid=uid)
        if existing is None:
            raise
        return existing, False
    except BaseException:
        row.raw.storage.delete(row.raw.name)  # no file without its row
        raise
    return row, True


def read(message):
    """The raw bytes of a stored message."""
    with message.raw.open("rb") as handle:
        return handle.read()
