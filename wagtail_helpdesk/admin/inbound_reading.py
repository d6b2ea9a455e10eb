"""What the "Posta in arrivo" page shows of a received message: its headers,
its new text (quoted history and signatures stripped), the whole text and its
attachments — read again from the stored original each time, so the page
shows the message as it is kept, whatever the pipeline made of it.

A message that cannot be read or parsed is still shown: the page says why and
offers the original for download.
"""

import logging
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)

#: The certification data (daticert.xml) of a certified message, in display order.
CERTIFICATION_LABELS = {
    "tipo": gettext_lazy("Kind"),
    "mittente": gettext_lazy("Sender"),
    "destinatari": gettext_lazy("Recipients"),
    "risposte": gettext_lazy("Replies to"),
    "oggetto": gettext_lazy("Subject"),
    "gestore": gettext_lazy("Certified mail provider"),
    "data": gettext_lazy("Date"),
    "ora": gettext_lazy("Time"),
    "zona": gettext_lazy("Time zone"),
    "identificativo": gettext_lazy("Identifier"),
    "msgid": gettext_lazy("Message-ID"),
    "consegna": gettext_lazy("Delivered to"),
    "errore": gettext_lazy("Error"),
    "errore_esteso": gettext_lazy("Error details"),
}


@dataclass
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass
class ShownMail:
    """The parts of a message the page shows (all plain text)."""

    error: str = ""
    sender: str = ""
    to: list = field(default_factory=list)
    date: object = None
    subject: str = ""
    message_id: str = ""
    text: str = ""
    full_text: str = ""
    attachments: list = field(default_factory=list)
    defects: list = field(default_factory=list)
    #: A certified message (PEC): what is shown is the citizen's message inside
    #: the provider's envelope.
    certified_envelope: bool = False


def certification_rows(certification):
    """(label, value) pairs of the certification data, known keys first."""
    certification = certification if isinstance(certification, dict) else {}
    rows = []
    for key, label in CERTIFICATION_LABELS.items():
        value = certification.get(key)
        if value in (None, "", []):
            continue
        rows.append((label, ", ".join(map(str, value)) if isinstance(value, list) else value))
    return rows


def _sender(parsed):
    if parsed.sender_name and parsed.sender:
        return f"{parsed.sender_name} <{parsed.sender}>"
    return parsed.sender or parsed.header("From")


def read_message(message):
    """A :class:`ShownMail` for the stored ``message`` (never raises)."""
    from ..inbound import store

    try:
        raw = store.read(message)
    except (FileNotFoundError, OSError, ValueError):
        return ShownMail(error=_("The original message is missing from the storage."))
    try:
        from ..inbound.bodies import reply_text
        from ..inbound.parsing import parse
        from ..inbound.pec import pec_info

        parsed = parse(raw)
        # As the pipeline: PEC headers mean something on a certified mailbox only.
        certified_box = message.mailbox is not None and message.mailbox.certified
        pec = pec_info(parsed) if certified_box else None
        shown = pec.inner if pec is not None and pec.inner is not None else parsed
        text = reply_text(shown)
    except Exception as exc:  # a broken message must not break the page
        log.warning("Could not read received message %s: %r", message.pk, exc)
        return ShownMail(error=_("The message could not be read: download the original to "
                                 "see it."))
    return ShownMail(
        sender=_sender(shown), to=list(shown.recipients), date=shown.date,
        subject=shown.subject, message_id=shown.message_id, text=text,
        full_text=shown.text if shown.text.strip() != text.strip() else "",
        attachments=[Attachment(a.filename, a.content_type, len(a.data))
                     for a in shown.attachments],
        defects=[str(d) for d in parsed.defects][:10],
        certified_envelope=shown is not parsed,
    )
