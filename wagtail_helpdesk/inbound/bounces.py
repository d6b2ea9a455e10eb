"""Delivery failures coming back to us: which notification, which address, why.

The standard shape is RFC 3464 (``multipart/report;
report-type=delivery-status``): a human part, a ``message/delivery-status``
part with one block per recipient (Final-Recipient, Action, Status,
Diagnostic-Code), and the returned message or its headers. Postfix, Exchange
and Gmail send it. Older servers (Exim, qmail) send plain text from
MAILER-DAEMON with ``X-Failed-Recipients`` and the message quoted below;
those are recognised by sender and shape. A "delayed" report is a warning,
not a failure: it comes back with ``permanent=False``.
"""

import base64
import binascii
import quopri
import re
from dataclasses import dataclass, field
from email.parser import HeaderParser

from .parsing import POLICY, bare_ids, decode_text, header_value

_STATUS_RE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDR_RE = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+\.[a-z]{2,}", re.IGNORECASE)
_SYSTEM_SENDER_RE = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@",
                               re.IGNORECASE)
_QUOTED_ID_RE = re.compile(r"^\s*Message-ID:\s*(<[^>\n]+>)", re.IGNORECASE | re.MULTILINE)
_POSTFIX_RCPT_RE = re.compile(r"^\s*<([^<>\s]+@[^<>\s]+)>:", re.MULTILINE)
_KEPT_HEADERS = ("Message-ID", "To", "Subject")
_HEADER_PARSER = HeaderParser(policy=POLICY)


@dataclass
class Bounce:
    recipients: list = field(default_factory=list)
    status: str = ""
    permanent: bool = True
    diagnostic: str = ""
    original_message_id: str = ""
    original_headers: dict = field(default_factory=dict)


def _shorten(text, limit=300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _address(value):
    """The address of a "rfc822; user@example.it" field."""
    value = value.split(";", 1)[-1].strip().strip("<>")
    return value.lower() if "@" in value else ""


def _text_blocks(text):
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        chunk = re.sub(r"\n[ \t]+", " ", chunk)  # unfold continuation lines
        fields = re.findall(r"(?m)^([A-Za-z-]+):[ \t]*(.*)$", chunk)
        blocks.append({k.lower(): " ".join(v.split()) for k, v in fields})
    return blocks


def _encoded_text(part):
    """The text of a delivery-status part that some servers base64- or QP-encode."""
    payload = part.get_payload()
    raw = "".join(p.as_string() for p in payload) if isinstance(payload, list) else str(payload)
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return base64.b64decode(re.sub(r"[^A-Za-z0-9+/=]", "", raw)).decode("utf-8", "replace")
        if encoding == "quoted-printable":
            return quopri.decodestring(raw.encode("utf-8", "replace")).decode("utf-8", "replace")
    except (ValueError, binascii.Error):
        return ""
    return raw


def _status_blocks(part):
    """The field blocks of a message/delivery-status part, as dicts."""
    payload = part.get_payload()
    blocks = []
    if isinstance(payload, list):
        for block in payload:
            try:
                blocks.append({k.lower(): " ".join(str(v).split()) for k, v in block.items()})
            except Exception:  # noqa: S112 — one broken block must not hide the others
                continue
    wanted = ("final-recipient", "action", "status")
    if not any(key in b for b in blocks for key in wanted):  # not parsed as blocks: read text
        blocks = _text_blocks(_encoded_text(part))
    return [b for b in blocks if any(key in b for key in wanted)]


def _walk(message, depth=0):
    yield message
    if depth > 20 or message.get_content_type() == "message/rfc822":
        return
    if message.is_multipart():
        for child in message.get_payload() or []:
            yield from _walk(child, depth + 1)


def _original(message):
    """(bare Message-ID, {header: value}) of the returned message, if it came back."""
    for part in _walk(message):
        ctype = part.get_content_type()
        inner = None
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
        elif ctype == "text/rfc822-headers":
            inner = _HEADER_PARSER.parsestr(decode_text(part, []))
        if inner is not None:
            headers = {name: header_value(inner, name) for name in _KEPT_HEADERS}
            headers = {k: v for k, v in headers.items() if v}
            message_id = next(iter(bare_ids(headers.get("Message-ID", ""))), "")
            return message_id, headers
    return "", {}


def _from_report(parsed, report):
    blocks = _status_blocks(report)
    recipient_blocks = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    actions = {b.get("action", "").lower() for b in recipient_blocks}
    if recipient_blocks and actions and actions <= {"delivered", "relayed", "expanded"}:
        return None  # a success report somebody asked for: nothing failed
    failing = [b for b in recipient_blocks if b.get("action", "").lower() not in
               {"delivered", "relayed", "expanded"}] or recipient_blocks
    recipients = [_address(b.get("final-recipient") or b.get("original-recipient", ""))
                  for b in failing]
    status = next((b.get("status", "").split()[0] for b in failing if b.get("status")), "")
    match = _STATUS_RE.search(status)
    status = match.group(0) if match else ""
    diagnostic = next((b.get("diagnostic-code", "") for b in failing
                       if b.get("diagnostic-code")), "")
    if ";" in diagnostic[:12]:
        diagnostic = diagnostic.split(";", 1)[1]
    # RFC 3464: the action says it. "failed" with a 4.x.x status (Postfix's
    # "delivery time expired", 4.4.7) is a failure too: nobody will retry.
    actions = [b.get("action", "").lower() for b in failing]
    if any(a == "failed" for a in actions):
        permanent = True
    elif actions and all(a == "delayed" for a in actions):
        permanent = False
    else:
        permanent = not status.startswith("4")
    message_id, headers = _original(parsed.message)
    return Bounce(
        recipients=[r for r in dict.fromkeys(recipients) if r],
        status=status, permanent=permanent,
        diagnostic=_shorten(diagnostic or (parsed.text or "")),
        original_message_id=message_id, original_headers=headers,
    )


def _from_text(parsed):
    """Bounces without a report part (Exim, qmail, some appliances)."""
    failed = [a.lower() for value in parsed.headers("X-Failed-Recipients")
              for a in _ADDR_RE.findall(value)]
    message_id, headers = _original(parsed.message)
    system = bool(_SYSTEM_SENDER_RE.match(parsed.sender or ""))
    returned = bool(message_id or headers)
    text = (parsed.text or "")
    if not message_id:  # the message may be quoted in the text instead of attached
        match = _QUOTED_ID_RE.search(text)
        message_id = bare_ids(match.group(1))[0] if match else ""
        returned = returned or bool(message_id)
    if not ((system and (failed or returned or parsed.null_return_path))
            or (parsed.null_return_path and returned)):
        return None
    if not failed:
        failed = [a.lower() for a in _POSTFIX_RCPT_RE.findall(text)]
    match = _STATUS_RE.search(text)
    status = match.group(0) if match else ""
    return Bounce(
        recipients=list(dict.fromkeys(failed)), status=status,
        permanent=not status.startswith("4"), diagnostic=_shorten(text),
        original_message_id=message_id, original_headers=headers,
    )


def bounce_info(parsed):
    """A :class:`Bounce` when the message reports a delivery failure or delay, else None."""
    message = parsed.message
    try:
        is_report = (message.get_content_type() == "multipart/report" and
                     (message.get_param("report-type") or "").lower() == "delivery-status")
        if is_report or message.get_content_type() == "multipart/report":
            report = next((p for p in _walk(message)
                           if p.get_content_type() == "message/delivery-status"), None)
            if report is not None:
                return _from_report(parsed, report)
        return _from_text(parsed)
    except Exception:  # a half-broken report: better "not a bounce" than a dead worker
        return None
