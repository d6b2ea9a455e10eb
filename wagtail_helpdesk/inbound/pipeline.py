"""Processing a stored message, exactly once.

:func:`process_one` claims the row (pending → processing) with a conditional
UPDATE as the first statement of its transaction and writes the outcome in
the same transaction as the ticket change. A worker killed half-way rolls
everything back and leaves the row pending for the next run; two workers
never both process it (the second finds it no longer pending). A message
that cannot be understood (broken MIME, a bug) is recorded as failed with
the error, and the worker goes on.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from ..conf import get_setting
from ..errors import GuardFailed
from ..models import InboundMessage, InboundOutcome
from ..services import inbound as apply
from . import store
from .bodies import reply_text
from .classify import classify
from .parsing import parse

log = logging.getLogger(__name__)


def decision_for(message):
    """(decision, reply text) of a stored message, changing nothing."""
    parsed = parse(store.read(message))
    decision = classify(parsed, envelope_to=message.envelope_to,
                        envelope_from=message.envelope_from,
                        certified_box=bool(message.mailbox and message.mailbox.certified))
    return decision, reply_text(decision.parsed)


#: Attempts at a message before it is given up as failed (a message that
#: kills its worker, or runs past the task's timeout, every time).
MAX_ATTEMPTS = 3


def process_one(pk):
    """Process the stored message ``pk`` if still pending; True when done here.

    The claim (pending → processing, the attempt counted, the time noted) is
    committed on its own, so exactly one worker takes the message; the work
    and its outcome are then one transaction. A worker that dies half-way
    leaves the message *processing*: :func:`release_stale` gives it back
    after ``INBOUND_LEASE_SECONDS``, and after :data:`MAX_ATTEMPTS` it is
    failed, so the queue's head is never blocked for ever.
    """
    claimed = InboundMessage.objects.filter(pk=pk, outcome=InboundOutcome.PENDING).update(
        outcome=InboundOutcome.PROCESSING, attempts=F("attempts") + 1,
        processed_at=timezone.now())
    if not claimed:
        return False
    with transaction.atomic():
        row = InboundMessage.objects.select_related("mailbox__office").get(pk=pk)
        if row.attempts > MAX_ATTEMPTS:
            _finish(row, InboundOutcome.FAILED, "error", detail=gettext(
                "Given up after %(count)d attempts: the worker stopped while processing it "
                "every time.") % {"count": MAX_ATTEMPTS})
            return True
        try:
            with transaction.atomic():
                _process(row)
        except Exception as exc:  # recorded on the row; the worker goes on
            if not isinstance(exc, GuardFailed):
                log.exception("Inbound message %s could not be processed", pk)
            _finish(row, InboundOutcome.FAILED, "error",
                    detail=f"{type(exc).__name__}: {exc}"[:2000])
    return True


def release_stale(now=None):
    """Messages left *processing* by a worker that died: pending again."""
    since = (now or timezone.now()) - timedelta(seconds=int(get_setting("INBOUND_LEASE_SECONDS")))
    return InboundMessage.objects.filter(outcome=InboundOutcome.PROCESSING,
                                         processed_at__lt=since).update(
        outcome=InboundOutcome.PENDING)


def _process(row):
    decision, text = decision_for(row)
    outcome, ticket, event = decision.outcome, decision.ticket, None
    if outcome in (InboundOutcome.NEW_TICKET, InboundOutcome.THREADED):
        twin = _twin(row, decision.parsed)
        if twin is not None:  # the same message, sent to two of our addresses
            return _finish(row, InboundOutcome.DROPPED, "duplicate", decision=decision,
                           ticket=twin.ticket)
        if apply.staff_address(decision.parsed.sender):
            return _finish(row, InboundOutcome.DROPPED, "staff", decision=decision)
    if outcome == InboundOutcome.NEW_TICKET:
        if not decision.parsed.sender:
            return _finish(row, InboundOutcome.DROPPED, "no-sender", decision=decision)
        if apply.over_limit(decision.parsed.sender):
            return _finish(row, InboundOutcome.DROPPED, "rate", decision=decision)
        ticket, event = apply.open_ticket(row, decision, decision.parsed.text or text,
                                          row.mailbox)
    elif outcome == InboundOutcome.THREADED:
        outcome, ticket, event = apply.thread(row, decision, text, row.mailbox)
    elif outcome == InboundOutcome.AUTO_REPLY:
        event = apply.auto_reply(row, decision, text)
    elif outcome == InboundOutcome.BOUNCE:
        apply.bounce(row, decision)
    elif outcome == InboundOutcome.PEC_RECEIPT:
        apply.pec_receipt(row, decision)
    _finish(row, outcome, decision.reason, decision=decision, ticket=ticket, event=event)


def _twin(row, parsed):
    """Another copy of the same message (same Message-ID) already processed."""
    if not parsed.message_id:
        return None
    return (InboundMessage.objects.filter(message_id=parsed.message_id[:255],
                                          ticket__isnull=False)
            .exclude(pk=row.pk).select_related("ticket").first())


def _finish(row, outcome, reason, *, decision=None, ticket=None, event=None, detail=""):
    row.outcome, row.reason = outcome, (reason or "")[:40]
    row.detail = detail or (decision.detail if decision else "")
    row.ticket = ticket if ticket is not None else (decision.ticket if decision else None)
    row.event = event
    row.notification = decision.notification if decision else None
    if decision is not None:
        row.certified = decision.certified
        row.certification = decision.certification or {}
        if decision.parsed.sender and decision.parsed.sender != row.sender:
            row.sender = decision.parsed.sender[:254]  # a PEC envelope's real sender
    row.processed_at = timezone.now()
    row.save(update_fields=["outcome", "reason", "detail", "ticket", "event", "notification",
                            "certified", "certification", "sender", "processed_at"])


def process_pending(limit=None):
    """Process the pending messages (and those a dead worker left), oldest
    first; how many were processed."""
    release_stale()
    limit = limit or int(get_setting("INBOUND_BATCH_SIZE"))
    ids = list(InboundMessage.objects.filter(outcome=InboundOutcome.PENDING)
               .order_by("received_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if process_one(pk))
