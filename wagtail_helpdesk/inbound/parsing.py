"""Reading a raw message into the few facts the pipeline needs.

Mail from the outside is often broken: wrong or unknown charsets, missing
boundaries, garbage headers. :func:`parse` never raises on such input — a
worker that crashes on one message would stop the queue behind it — it keeps
what it can and lists the problems in ``defects``. Only an empty message is
refused (:class:`MailTooBroken`): there is nothing to keep.

Pure functions: no database, no settings.
"""

import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime


class _CachingPolicy(EmailPolicy):
    """policy.default, remembering parsed header objects.

    The standard library re-parses a header on every access, and
    ``get_content_type()`` alone reads Content-Type several times per part while
    parsing: that was most of the time spent on a message. Header objects are
    immutable, so the same (name, raw value) can share one.
    """

    def header_fetch_parse(self, name, value):
        key = (name.lower(), value)
        try:
            return _HEADER_CACHE[key]
        except (KeyError, TypeError):  # TypeError: an unhashable value, parse it each time
            header = super().header_fetch_parse(name, value)
        if isinstance(value, str) and len(value) < 2000:  # long values are rarely re-read
            if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
                _HEADER_CACHE.clear()
            _HEADER_CACHE[key] = header
        return header


_HEADER_CACHE = {}
_HEADER_CACHE_SIZE = 4096
POLICY = _CachingPolicy()
_PARSER = BytesParser(policy=POLICY)
_ID_RE = re.compile(r"<\s*([^<>\s]+?)\s*>")
_ADDR_RE = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")
# Parts that are not content: signatures, and the machine halves of reports.
_SKIPPED_TYPES = {
    "application/pkcs7-signature", "application/x-pkcs7-signature",
    "application/pgp-signature", "message/delivery-status", "message/disposition-notification",
    "text/rfc822-headers", "message/feedback-report",
}
# The certified-mail parts that belong to the provider's envelope, not to the sender.
_PEC_PARTS = {"daticert.xml", "postacert.eml", "smime.p7s"}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


class MailTooBroken(Exception):
    """Nothing to parse at all (empty input)."""


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message: EmailMessage
    message_id: str = ""
    in_reply_to: list = field(default_factory=list)
    references: list = field(default_factory=list)
    sender: str = ""
    sender_name: str = ""
    reply_to: str = ""
    return_path: str = ""
    null_return_path: bool = False
    recipients: list = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""
    #: The body's HTML as received (not sanitised: see :attr:`html`).
    raw_html: str = ""
    attachments: list = field(default_factory=list)
    defects: list = field(default_factory=list)

    @property
    def html(self):
        """The body's HTML, sanitised — on demand and only its first
        :data:`~.bodies.SANITISE_LIMIT` characters: the pipeline never needs
        it, and sanitising a huge, deeply nested body takes minutes."""
        if not self.raw_html:
            return ""
        if not hasattr(self, "_html"):
            from .bodies import SANITISE_LIMIT, sanitise_html

            self._html = sanitise_html(self.raw_html[:SANITISE_LIMIT])
        return self._html

    def header(self, name):
        """The decoded, whitespace-normalised value of a header, or ""."""
        return header_value(self.message, name)

    def headers(self, name):
        """Every value of a repeated header (Received, Delivered-To…), decoded."""
        return header_values(self.message, name)


def _decode_raw(value):
    """Decode RFC 2047 words in a raw header value, whatever state it is in."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charset, broken encoded word: keep the raw text
        return str(value)


def header_values(message, name):
    try:
        values = message.get_all(name) or []
        return [" ".join(str(v).replace("\x00", "").split()) for v in values]
    except Exception:  # noqa: S110 — the header registry choked: fall back to the raw text
        pass
    try:
        raw = [v for k, v in message.raw_items() if k.lower() == name.lower()]
    except Exception:
        return []
    return [" ".join(_decode_raw(v).replace("\x00", "").split()) for v in raw]


def header_value(message, name):
    values = header_values(message, name)
    return values[0] if values else ""


def _addresses(message, name):
    """[(display name, addr-spec lowercased)] of every occurrence of an address header."""
    found = []
    for value in header_values(message, name):
        try:
            pairs = getaddresses([value])
        except Exception:
            pairs = []
        pairs = [(n, a) for n, a in pairs if "@" in a]
        if not pairs:  # getaddresses gave up: take anything that looks like an address
            pairs = [("", a) for a in _ADDR_RE.findall(value)]
        found.extend((" ".join(n.split()), a.strip().lower()) for n, a in pairs)
    return found


def bare_ids(value):
    """Message-IDs in a header value, without angle brackets, in order."""
    ids = _ID_RE.findall(value or "")
    if not ids and value and value.strip():
        ids = [token.strip("<>") for token in value.split() if token.strip("<>")]
    return ids


def decode_text(part, defects):
    """The text of a text/* part, guessing when the declared charset lies or is unknown."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"undecodable payload: {exc.__class__.__name__}")
        return ""
    if payload is None:
        payload = str(part.get_payload() or "").encode("utf-8", "replace")
    charset = (part.get_content_charset() or "us-ascii").lower()
    # What senders call Latin-1 or ASCII is often Windows-1252 (curly quotes, €).
    if charset in {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}:
        try:
            return payload.decode("utf-8")  # 8-bit UTF-8 mislabelled as ASCII
        except UnicodeDecodeError:
            return payload.decode("cp1252", "replace")
    try:
        return payload.decode(charset, "replace")
    except (LookupError, ValueError):  # ValueError: a NUL in the charset name
        defects.append(f"unknown charset {charset[:40]!r}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", "replace")


def _safe(call):
    try:
        return call() or ""
    except Exception:  # a malformed header parameter
        return ""


class _Walker:
    """Sorts the parts of a message into body text, body HTML and attachments."""

    def __init__(self, certified):
        self.certified = certified
        self.plain, self.html, self.attachments, self.defects = [], [], [], []

    def walk(self, part, depth=0):
        if depth > 30:  # a maliciously deep tree
            self.defects.append("MIME tree too deep")
            return
        ctype = part.get_content_type()
        # A bare file name: no directories, no control characters.
        name = " ".join(_CONTROL_RE.sub("", str(_safe(part.get_filename))).split())
        name = re.split(r"[/\\]", name)[-1].strip(". ")
        if ctype in _SKIPPED_TYPES or (self.certified and name.lower() in _PEC_PARTS):
            return
        if ctype == "message/rfc822":
            self._attach(part, name or "message.eml", ctype, nested=True)
            return
        if part.is_multipart():
            children = part.get_payload()  # a list: that is what is_multipart() checks
            if part.get_content_subtype() in {"report", "signed"}:
                children = children[:1]  # only the human / the signed half is content
            for child in children:
                try:
                    self.walk(child, depth + 1)
                except Exception as exc:  # one unreadable part must not cost the others
                    self.defects.append(f"unreadable part: {exc.__class__.__name__}")
            return
        if part.get_content_maintype() == "multipart":  # no boundary: the body is plain text
            self.plain.append(decode_text(part, self.defects))
            return
        inline_text = ctype in {"text/plain", "text/html"} and not name
        if inline_text and _safe(part.get_content_disposition) != "attachment":
            text = decode_text(part, self.defects)
            (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        self._attach(part, name, ctype)

    def _attach(self, part, name, ctype, nested=False):
        try:
            if nested:
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                data = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
            else:
                data = part.get_payload(decode=True) or b""
        except Exception as exc:
            self.defects.append(f"unreadable attachment: {exc.__class__.__name__}")
            return
        if not name:
            ext = mimetypes.guess_extension(ctype) or ".bin"
            name = f"part-{len(self.attachments) + 1}{ext}"
        self.attachments.append(MailAttachment(name, ctype, data))


def _date(message):
    try:
        date = parsedate_to_datetime(header_value(message, "Date"))
    except Exception:  # missing or unparseable
        return None
    return date.replace(tzinfo=UTC) if date.tzinfo is None else date


def _all_defects(message):
    found = []
    try:
        for part in message.walk():
            found.extend(d.__class__.__name__ for d in getattr(part, "defects", ()))
    except Exception as exc:
        found.append(f"unwalkable: {exc.__class__.__name__}")
    return found


def parse(raw):
    """A :class:`ParsedMail` for raw bytes; never raises except on empty input."""
    from .bodies import html_to_text  # bodies imports ParsedMail

    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if not raw or raw.isspace():
        raise MailTooBroken("empty message")
    try:
        message = _PARSER.parsebytes(raw)
    except Exception as exc:  # never seen, but a worker must not die on it
        message = EmailMessage(policy=POLICY)
        message.set_content(raw.decode("utf-8", "replace"))
        message.defects.append(exc)
    certified = bool(header_value(message, "X-Trasporto") or header_value(message, "X-Ricevuta"))
    walker = _Walker(certified)
    try:
        walker.walk(message)
    except Exception as exc:
        walker.defects.append(f"MIME walk failed: {exc.__class__.__name__}")
    defects = _all_defects(message)  # after the walk: decoding adds payload defects
    html = "\n".join(walker.html)
    # NUL characters are not text (and PostgreSQL refuses them).
    html = html.replace("\x00", "")
    text = "\n".join(t.strip("\n") for t in walker.plain).replace("\x00", "").strip()
    if not text.strip() and html:
        text = html_to_text(html)
    return _headers(message, ParsedMail(
        message=message, text=text, raw_html=html,
        attachments=walker.attachments, defects=defects + walker.defects,
    ))


def _headers(message, parsed):
    """Fill the header facts of ``parsed``; each one on its own, so one bad header spoils nothing."""
    parsed.message_id = next(iter(bare_ids(header_value(message, "Message-ID"))), "")
    parsed.in_reply_to = bare_ids(header_value(message, "In-Reply-To"))
    parsed.references = bare_ids(" ".join(header_values(message, "References")))
    sender = _addresses(message, "From")
    if sender:
        parsed.sender_name, parsed.sender = sender[0]
    reply_to = _addresses(message, "Reply-To")
    parsed.reply_to = reply_to[0][1] if reply_to else ""
    return_path = header_value(message, "Return-Path")
    if return_path.replace(" ", "") in {"<>", "<<>>"}:
        parsed.null_return_path = True
    else:
        found = _ADDR_RE.findall(return_path)
        parsed.return_path = found[0].lower() if found else ""
    seen = []
    for name in _RECIPIENT_HEADERS:
        seen.extend(address for _name, address in _addresses(message, name))
    parsed.recipients = list(dict.fromkeys(seen))
    parsed.subject = header_value(message, "Subject")
    parsed.date = _date(message)
    return parsed
