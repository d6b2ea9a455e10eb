"""PEC (posta elettronica certificata): envelopes and receipts.

A PEC provider never hands over a message as written: it wraps it in a signed
*busta di trasporto* (``X-Trasporto: posta-certificata``; the original is the
attachment ``postacert.eml``, the certification data ``daticert.xml``), and it
answers every message we send with receipts (``X-Ricevuta: accettazione``,
``avvenuta-consegna``, ``errore-consegna``…) that point at our Message-ID in
``X-Riferimento-Message-ID``. Rules: DPR 68/2005 and DM 2 November 2005.

These headers are easy to forge on ordinary mail: the pipeline should trust
them only on a certified mailbox (``Mailbox.certified``), whose provider has
verified them. Signatures are not verified here.
"""

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree

from .parsing import bare_ids, parse

#: Receipts that say the message will not be delivered. A
#: "preavviso-errore-consegna" (the 12-hour notice) is a warning: the
#: provider still tries, and a delivery receipt may follow.
FAILED_RECEIPTS = {"errore-consegna", "non-accettazione", "rilevazione-virus"}
_MAX_XML = 200_000


@dataclass
class Pec:
    kind: str
    receipt: str = ""
    reference_message_id: str = ""
    certification: dict = field(default_factory=dict)
    inner: object = None
    failed: bool = False


def _find_part(message, filename=None, ctype=None, depth=0):
    """The first part named ``filename`` (or of type ``ctype``), searching depth-first."""
    if depth > 20:
        return None
    try:
        name = (message.get_filename() or "").lower()
    except Exception:
        name = ""
    if (filename and name == filename) or (ctype and not filename and
                                           message.get_content_type() == ctype):
        return message
    if message.get_content_type() == "message/rfc822":
        return None  # never look inside a nested message: its parts are not the envelope's
    if message.is_multipart():
        for child in message.get_payload() or []:
            found = _find_part(child, filename, ctype, depth + 1)
            if found is not None:
                return found
    return None


def _text(element, path):
    node = element.find(path)
    return " ".join((node.text or "").split()) if node is not None else ""


def certification(xml_bytes):
    """The fields of a daticert.xml as a dict (missing ones omitted); {} if unreadable."""
    if not xml_bytes or len(xml_bytes) > _MAX_XML or b"<!ENTITY" in xml_bytes:
        return {}
    try:
        # The document comes from the provider, size-capped and entity-free; expat
        # does not fetch the external Postacert.dtd.
        root = ElementTree.fromstring(xml_bytes)  # noqa: S314
    except ElementTree.ParseError:
        return {}
    data = {
        "tipo": root.get("tipo", ""),
        "errore": root.get("errore", ""),
        "mittente": _text(root, "intestazione/mittente"),
        "destinatari": [" ".join((d.text or "").split())
                        for d in root.findall("intestazione/destinatari") if d.text],
        "risposte": _text(root, "intestazione/risposte"),
        "oggetto": _text(root, "intestazione/oggetto"),
        "gestore": _text(root, "dati/gestore-emittente"),
        "data": _text(root, "dati/data/giorno"),
        "ora": _text(root, "dati/data/ora"),
        "zona": (root.find("dati/data").get("zona", "") if root.find("dati/data") is not None
                 else ""),
        "identificativo": _text(root, "dati/identificativo"),
        "msgid": next(iter(bare_ids(_text(root, "dati/msgid"))), ""),
        "consegna": _text(root, "dati/consegna"),
        "errore_esteso": _text(root, "dati/errore-esteso"),
    }
    return {key: value for key, value in data.items() if value}


def _payload_bytes(part):
    try:
        return part.get_payload(decode=True) or b""
    except Exception:
        return b""


def _inner(message):
    part = _find_part(message, filename="postacert.eml")
    if part is None:
        part = _find_part(message, ctype="message/rfc822")
    if part is None:
        return None
    try:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) else None
        raw = inner.as_bytes() if inner is not None else _payload_bytes(part)
        return parse(raw) if raw and raw.strip() else None
    except Exception:
        return None


def pec_info(parsed):
    """A :class:`Pec` for a certified envelope or receipt, None for ordinary mail."""
    transport = parsed.header("X-Trasporto").strip().lower()
    receipt = re.sub(r"\s+", "", parsed.header("X-Ricevuta").lower())
    if not transport and not receipt:
        return None
    daticert = _find_part(parsed.message, filename="daticert.xml")
    data = certification(_payload_bytes(daticert)) if daticert is not None else {}
    if receipt:
        reference = next(iter(bare_ids(parsed.header("X-Riferimento-Message-ID"))), "")
        return Pec(kind="receipt", receipt=receipt, reference_message_id=reference,
                   certification=data, failed=receipt in FAILED_RECEIPTS)
    # X-Trasporto "errore" (an anomaly envelope) is still an envelope: a message to read.
    return Pec(kind="envelope", certification=data, inner=_inner(parsed.message))
