"""The outbox's state machine, in the database only (no sending here).

    pending ──claim──▶ sending ──sent──▶ sent
       ▲                  │ ├──────────▶ skipped   (not on App IO, …)
       └──retry (back-off)┘ └──────────▶ failed    (permanent, or attempts used up)

A row is *claimed* with one conditional UPDATE (``status=pending`` and due),
so two workers can never both send it. While sending, ``next_attempt_at`` is
the claim's lease: a worker that dies leaves the row ``sending`` past its
lease, and the sweeper puts it back to pending. The send is then repeated
with the same Message-ID (e-mail), so a copy, in the rare case the first
send had completed, is recognisable as the same message: a notification is
never lost; after such a crash it may, rarely, arrive twice (at least once).

The bound: a worker sends one message at a time and records it right after
the server accepted it, and it renews the lease of the rest of its batch
before half of it has run out (:func:`renew`), dropping whatever the sweeper
took back. So only the row a worker process was sending when it died (or
stalled longer than half a lease) can arrive twice: at most one duplicate
per worker process killed.
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..conf import get_setting
from ..models import EventKind, Notification, NotificationStatus
from ..services import core
from ..services.actors import SYSTEM

PENDING, SENDING = NotificationStatus.PENDING, NotificationStatus.SENDING


def claim_many(ids, now=None):
    """Take the rows among ``ids`` that are pending and due, with one UPDATE
    marking them with a fresh claim token; return the ids taken (those
    another worker holds, or not due, or no longer pending, are left alone)."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    lease = now + timedelta(seconds=int(get_setting("NOTIFY_LEASE_SECONDS")))
    taken = (Notification.objects.filter(pk__in=list(ids), status=PENDING,
                                         next_attempt_at__lte=now)
             .update(status=SENDING, attempts=F("attempts") + 1, next_attempt_at=lease,
                     claim=token))
    if not taken:
        return []
    return list(Notification.objects.filter(claim=token, status=SENDING)
                .values_list("pk", flat=True))


def renew(notifications, now=None):
    """Extend the lease of the claimed rows ``notifications`` (one claim),
    those this worker still holds; return the ids still held. A row the
    sweeper took back (its lease ran out: the worker was stopped, or stuck)
    is no longer this worker's to send."""
    if not notifications:
        return set()
    now = now or timezone.now()
    lease = now + timedelta(seconds=int(get_setting("NOTIFY_LEASE_SECONDS")))
    held = Notification.objects.filter(pk__in=[n.pk for n in notifications],
                                       claim=notifications[0].claim, status=SENDING)
    if held.update(next_attempt_at=lease) == len(notifications):
        return {n.pk for n in notifications}
    return set(held.values_list("pk", flat=True))


def claim(pk, now=None):
    """Take one row for sending; False when it could not be taken."""
    return bool(claim_many([pk], now))


def backoff(attempts):
    """Seconds to wait after the ``attempts``-th failed attempt (exponential, capped)."""
    base = int(get_setting("NOTIFY_RETRY_BASE_SECONDS"))
    return min(base * 2 ** max(attempts - 1, 0), int(get_setting("NOTIFY_RETRY_MAX_SECONDS")))


def _mine(notification):
    """The row, only while this worker's claim still holds it (a late worker,
    whose lease ran out and whose row someone else took, changes nothing)."""
    return Notification.objects.filter(pk=notification.pk, claim=notification.claim,
                                       status=SENDING)


def _finish(notification, status, now, *, error="", provider_id="", event_kind=None):
    with transaction.atomic():
        updated = _mine(notification).update(
            status=status, last_error=error[:2000],
            provider_message_id=provider_id or notification.provider_message_id,
            sent_at=now if status == NotificationStatus.SENT else None)
        if not updated:
            return False
        notification.status = status
        if event_kind and notification.ticket_id:
            core.record(notification.ticket, event_kind, SYSTEM, now=now, data={
                "notification": notification.pk, "template": notification.template,
                "channel": notification.channel, "status": status,
                "error": error[:300] if status != NotificationStatus.SENT else "",
            })
    return True


def sent(notification, provider_id, now=None):
    _finish(notification, NotificationStatus.SENT, now or timezone.now(),
            provider_id=provider_id, event_kind=EventKind.NOTIFICATION_SENT)


def skipped(notification, reason, now=None):
    """Nothing to send on this channel (e.g. the citizen is not on App IO)."""
    _finish(notification, NotificationStatus.SKIPPED, now or timezone.now(), error=reason,
            event_kind=EventKind.NOTIFICATION_FAILED)


def failed(notification, error, *, permanent=False, now=None):
    """A failed attempt: retried later with back-off, or marked failed when
    the error is permanent or the attempts are used up."""
    now = now or timezone.now()
    if permanent or notification.attempts >= int(get_setting("NOTIFY_MAX_ATTEMPTS")):
        _finish(notification, NotificationStatus.FAILED, now, error=error,
                event_kind=EventKind.NOTIFICATION_FAILED)
        return
    _mine(notification).update(
        status=PENDING, last_error=error[:2000],
        next_attempt_at=now + timedelta(seconds=backoff(notification.attempts)))


def undelivered(notification, receipt, error, *, data=None, now=None):
    """The recipient's side said a sent e-mail was not delivered (a bounce, a
    certified-mail failure receipt): the row becomes failed, with the reason
    on the row and on the ticket's timeline. True when it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk).exclude(
            status=NotificationStatus.FAILED, receipt=receipt).update(
            status=NotificationStatus.FAILED, receipt=receipt[:40], receipt_at=now,
            last_error=error[:2000], claim="")
        if not updated:
            return False
        notification.status = NotificationStatus.FAILED
        if notification.ticket_id:
            core.record(notification.ticket, EventKind.NOTIFICATION_FAILED, SYSTEM, now=now,
                        data={"notification": notification.pk, "template": notification.template,
                              "channel": notification.channel,
                              "status": NotificationStatus.FAILED, "error": error[:300],
                              **(data or {})})
    return True


def receipt(notification, kind, *, data=None, now=None):
    """A certified-mail receipt (accettazione, avvenuta-consegna, …) for a
    notification: kept on the row and on the ticket's timeline."""
    now = now or timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(receipt=kind[:40], receipt_at=now)
        if notification.ticket_id:
            core.record(notification.ticket, EventKind.NOTIFICATION_RECEIPT, SYSTEM, now=now,
                        data={"notification": notification.pk, "receipt": kind, **(data or {})})


def postpone(notifications, error, delay, now=None):
    """Put claimed rows back, untried, for a later attempt (the mail server is
    down, or the batch ran out of time): their attempt is given back. An
    empty ``error`` keeps the row's previous one."""
    if not notifications:
        return 0
    now = now or timezone.now()
    return (Notification.objects
            .filter(pk__in=[n.pk for n in notifications], claim=notifications[0].claim,
                    status=SENDING)
            .update(status=PENDING, attempts=F("attempts") - 1,
                    last_error=Coalesce(Value(error[:2000] or None), F("last_error")),
                    next_attempt_at=now + timedelta(seconds=delay)))


def release_expired(now=None):
    """Rows left ``sending`` past their lease (a worker died): back to pending,
    or failed once their attempts are used up (a row that kills its worker
    every time must not loop forever)."""
    now = now or timezone.now()
    expired = Notification.objects.filter(status=SENDING, next_attempt_at__lt=now)
    limit = int(get_setting("NOTIFY_MAX_ATTEMPTS"))
    expired.filter(attempts__gte=limit).update(
        status=NotificationStatus.FAILED, claim="",
        last_error="The worker stopped while sending, every time: given up.")
    return expired.filter(attempts__lt=limit).update(
        status=PENDING, next_attempt_at=now, claim="",
        last_error="The worker stopped while sending; tried again.")


def due_ids(now=None, limit=1000):
    """Pending rows whose time has come, oldest first."""
    now = now or timezone.now()
    return list(Notification.objects.filter(status=PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def retry(notification):
    """An administrator's retry of a failed notification: pending again, now."""
    return bool(Notification.objects.filter(
        pk=notification.pk, status__in=[NotificationStatus.FAILED, NotificationStatus.SKIPPED])
        .update(status=PENDING, attempts=0, next_attempt_at=timezone.now()))
