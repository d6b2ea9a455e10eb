"""Understanding a message: the first rule that matches decides (see
docs/inbound-email.md).

1. our own mail coming back (a loop) → dropped;
2. certified mail (PEC): a receipt about one of our notifications →
   ``pec_receipt``; a certified envelope → what it wraps, certified;
3. a bounce (a delivery status notification) → ``bounce``;
4. an automatic reply → ``auto_reply`` (attached silently to its ticket);
   mailing-list and bulk mail → dropped;
5. a reply to a ticket → ``threaded``;
6. anything else → ``new_ticket``.

Pure reading: nothing is changed here. :mod:`wagtail_helpdesk.services.inbound`
applies the decision.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext

from ..models import InboundOutcome
from . import matching
from .autoreplies import auto_reply_reason, bulk_reason
from .bounces import bounce_info
from .pec import pec_info


@dataclass
class Decision:
    outcome: str
    reason: str
    parsed: object  # the message that counts (a PEC envelope's inner message)
    ticket: object = None
    notification: object = None
    bounce: object = None
    pec: object = None
    certified: bool = False
    certification: dict = field(default_factory=dict)
    detail: str = ""


def classify(parsed, *, envelope_to=(), envelope_from="", certified_box=False):
    """The :class:`Decision` for ``parsed`` (a :class:`~.parsing.ParsedMail`).

    PEC headers are trusted only on a certified mailbox (``certified_box``),
    whose provider sets them: on ordinary mail anybody can write them.
    """
    ours = matching.system_addresses()
    if matching.is_ours(parsed.sender, ours) or matching.own_message(parsed):
        return Decision(InboundOutcome.DROPPED, "loop", parsed)

    pec = pec_info(parsed) if certified_box else None
    certified, certification = False, {}
    if pec is not None and pec.kind == "receipt":
        notification = matching.notification_by_message_id(pec.reference_message_id)
        return Decision(InboundOutcome.PEC_RECEIPT, pec.receipt or "receipt", parsed,
                        ticket=getattr(notification, "ticket", None),
                        notification=notification, pec=pec, certified=True,
                        certification=pec.certification)
    if pec is not None and pec.kind == "envelope":
        # An anomaly envelope (X-Trasporto: errore) wraps ordinary, uncertified mail.
        certified = parsed.header("X-Trasporto").strip().lower() == "posta-certificata"
        certification = pec.certification
        if pec.inner is not None:
            parsed = pec.inner
            if matching.is_ours(parsed.sender, ours) or matching.own_message(parsed):
                return Decision(InboundOutcome.DROPPED, "loop", parsed, pec=pec,
                                certified=True, certification=certification)

    def decided(outcome, reason, **kwargs):
        return Decision(outcome, reason, parsed, pec=pec, certified=certified,
                        certification=certification, **kwargs)

    bounce = bounce_info(parsed)
    if bounce is not None:
        notification, how = matching.bounced_notification(bounce, parsed, envelope_to)
        reason = (how or "unknown") if bounce.permanent else "delayed"
        return decided(InboundOutcome.BOUNCE, reason, bounce=bounce,
                       notification=notification,
                       ticket=getattr(notification, "ticket", None))

    auto = auto_reply_reason(parsed)
    if auto:
        match = matching.find_ticket(parsed, envelope_to)
        # A subject alone ("Assente illuminazione in via Roma") is no proof: it
        # counts only for an answer to one of our e-mails.
        if auto != "subject" or match is not None:
            return decided(InboundOutcome.AUTO_REPLY, auto, ticket=match and match.ticket)
    bulk = bulk_reason(parsed)
    if bulk:
        return decided(InboundOutcome.DROPPED, bulk)

    match = matching.find_ticket(parsed, envelope_to)
    code = ""
    if match is None:
        match, code = matching.by_subject(parsed)
    if match is not None:
        return decided(InboundOutcome.THREADED, match.how, ticket=match.ticket)
    detail = ""
    if code:
        detail = gettext("The subject mentions %(code)s, but the sender is not its "
                         "citizen.") % {"code": code}
    return decided(InboundOutcome.NEW_TICKET, "new", detail=detail)
