"""django-q2 tasks: deliver notifications, and sweep the outbox.

Tasks take ids, never objects, and are idempotent: delivering a row that is
no longer pending (sent by another worker, or failed) does nothing. They are
enqueued on transaction commit (:func:`enqueue`), so a rolled-back change
never notifies anyone; the periodic :func:`sweep` picks up whatever a lost
task or a dead worker left behind.
"""

import functools
import logging
import smtplib
import time

from django.core.mail import get_connection
from django.db import transaction

from ..conf import get_setting
from ..models import Notification, NotificationChannel
from ..permissions import ticket_policy
from . import appio, email, outbox

log = logging.getLogger(__name__)

DELIVER = "wagtail_helpdesk.notifications.tasks.deliver"
SWEEP = "wagtail_helpdesk.notifications.tasks.sweep"


def permanent_smtp(exc):
    """Whether an SMTP error will not get better by trying again: a 5xx answer
    (4xx — greylisting, a busy mailbox, throttling — is retried)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
    else:
        codes = [getattr(exc, "smtp_code", 0)]
    return bool(codes) and all(isinstance(c, int) and c >= 500 for c in codes)


def enqueue(ids):
    """Queue delivery of ``ids`` once the current transaction commits.

    The ids of one transaction travel together: a change that notifies ten
    people, or a bulk action on a hundred tickets, is one task (in batches of
    ``NOTIFY_BATCH_SIZE``), not one per message. Ids of rows a rolled-back
    savepoint took away may ride along; delivering them does nothing.
    """
    ids = [int(pk) for pk in ids]
    if not ids:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _enqueue_batches(ids)
        return
    batch = _pending_batch(connection)
    if batch is None:
        batch = []
    batch.extend(ids)
    # A callback per call (a savepoint that rolls back takes its own along);
    # they share the list, and the first to run after the commit empties it.
    callback = functools.partial(_flush, batch)
    callback.helpdesk_batch = batch
    transaction.on_commit(callback)


def _flush(batch):
    ids, batch[:] = list(batch), []
    _enqueue_batches(ids)


def _pending_batch(connection):
    """The ids list shared by this transaction's pending delivery callbacks,
    if any (a rollback takes the callbacks, and so the list, away).

    ``run_on_commit`` is Django's list of pending callbacks, entries
    ``(savepoint ids, callable, robust)`` — not a documented API; were its
    shape to change, this finds nothing and each call queues its own task."""
    for entry in getattr(connection, "run_on_commit", ()):
        batch = getattr(entry[1], "helpdesk_batch", None) if len(entry) > 1 else None
        if batch is not None:
            return batch
    return None


def _enqueue_batches(ids):
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    for start in range(0, len(ids), size):
        _enqueue_now(ids[start:start + size])


def _enqueue_now(ids):
    from django_q.tasks import async_task

    try:
        async_task(DELIVER, ids, group="wagtail_helpdesk.notifications",
                   q_options={"task_name": f"helpdesk-notify-{ids[0]}-{len(ids)}"})
    except Exception:
        log.exception("Could not enqueue notifications %s; the sweeper will.", ids)


class _ServerDown(Exception):
    """The mail server could not be reached, refused us, or went away."""


def deliver(ids):
    """Deliver the notifications ``ids`` (those still pending and due); return
    how many were sent. One SMTP connection for the whole batch.

    * When the mail server is unreachable (or refuses the login), the batch's
      e-mails wait ``NOTIFY_RETRY_BASE_SECONDS`` without spending attempts:
      an outage never makes a notification fail.
    * A batch stops after ``NOTIFY_BATCH_SECONDS``, well within the task
      timeout; what is left goes back, untried, for the next task.
    """
    claimed_at = time.monotonic()
    claimed = outbox.claim_many(ids)
    if not claimed:
        return 0
    rows = list(Notification.objects.filter(pk__in=claimed).order_by("pk")
                .select_related("ticket__service", "ticket__report_category", "ticket__citizen",
                                "ticket__office", "event", "recipient_citizen",
                                "recipient_user"))
    return _Batch(rows, claimed_at).run()


class _Batch:
    def __init__(self, rows, claimed_at=None):
        self.rows = rows
        self.connection = None
        self.used = False  # the connection has carried a message already
        started = time.monotonic() if claimed_at is None else claimed_at
        self.deadline = started + float(get_setting("NOTIFY_BATCH_SECONDS"))
        self.lease = float(get_setting("NOTIFY_LEASE_SECONDS"))
        self.renew_at = started + self.lease / 2

    def held(self, index):
        """Whether rows from ``index`` on are still this batch's to send. Once
        half the lease has passed, it is renewed for them, and rows the
        sweeper took back in the meantime are dropped: a live worker never
        sends a row someone else may be sending. No query before that (with
        the defaults, a 30 s batch and a 300 s lease: never)."""
        if time.monotonic() < self.renew_at:
            return True
        self.renew_at = time.monotonic() + self.lease / 2
        rest = self.rows[index:]
        mine = outbox.renew(rest)
        if len(mine) < len(rest):
            log.warning("%s notifications of a batch were taken back before they were sent",
                        len(rest) - len(mine))
            self.rows[index:] = [n for n in rest if n.pk in mine]
        return bool(mine)

    def run(self):
        count, index = 0, 0
        try:
            while index < len(self.rows):
                if time.monotonic() > self.deadline:
                    outbox.postpone(self.rows[index:], "", 0)  # the next task goes on
                    break
                if not self.held(index):
                    break
                try:
                    count += self.send(self.rows[index])
                except _ServerDown as exc:
                    rest = self.rows[index:]
                    waiting = [n for n in rest if n.channel == NotificationChannel.EMAIL]
                    outbox.postpone(waiting, str(exc),
                                    int(get_setting("NOTIFY_RETRY_BASE_SECONDS")))
                    # The other channels go on, under the same deadline and lease.
                    self.rows[index:] = [n for n in rest
                                         if n.channel != NotificationChannel.EMAIL]
                    continue
                index += 1
        finally:
            self.close()
        return count

    def send(self, notification):
        reason = _not_for_recipient(notification)
        if reason:
            outbox.skipped(notification, reason)
            return 0
        if notification.channel == NotificationChannel.APP_IO:
            return _send_io(notification)
        if notification.channel != NotificationChannel.EMAIL:
            outbox.failed(notification, f"No delivery for channel {notification.channel}.",
                          permanent=True)
            return 0
        try:
            message = email.build(notification)
        except Exception as exc:  # a template, data or missing-file error: do not retry forever
            log.exception("Notification %s could not be built", notification.pk)
            outbox.failed(notification, f"{type(exc).__name__}: {exc}", permanent=True)
            return 0
        return self.send_email(notification, message)

    def send_email(self, notification, message, again=True):
        self.open()
        message.connection = self.connection
        try:
            message.send()
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            if self.used and again:  # relays close idle or long connections: reconnect once
                return self.send_email(notification, message, again=False)
            raise _ServerDown(f"{type(exc).__name__}: {exc}") from exc
        except smtplib.SMTPException as exc:
            outbox.failed(notification, f"{type(exc).__name__}: {exc}",
                          permanent=permanent_smtp(exc))
            self.close()  # a fresh connection for the next one
            return 0
        except OSError as exc:  # timed out, reset (SMTPException is an OSError too)
            self.close()
            raise _ServerDown(f"{type(exc).__name__}: {exc}") from exc
        self.used = True
        outbox.sent(notification, message.extra_headers["Message-ID"])
        return 1

    def open(self):
        if self.connection is None:
            self.connection = get_connection(fail_silently=False)
            self.used = False
        try:
            self.connection.open()  # a no-op when already open
        except Exception as exc:  # refused, unreachable, TLS or login failure: the server
            self.close()
            raise _ServerDown(f"{type(exc).__name__}: {exc}") from exc

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                log.debug("Closing the mail connection failed", exc_info=True)
            self.connection = None


def _not_for_recipient(notification):
    """Why an operator's notification must not go out any more (account
    deactivated, or the ticket no longer theirs to see), else ""."""
    user = notification.recipient_user
    if user is None:
        return ""
    if not user.is_active:
        return "The recipient's account is deactivated."
    if notification.ticket_id and not ticket_policy().user_has_permission_for_instance(
            user, "view", notification.ticket):
        return "The recipient may no longer see this ticket."
    if notification.template == "operator/daily_digest" and not email.digest_tickets(notification):
        return "The recipient may no longer see any ticket of this summary."
    return ""


def _send_io(notification):
    try:
        message_id = appio.send(notification)
    except appio.Skip as exc:
        outbox.skipped(notification, str(exc))
        return 0
    except appio.Temporary as exc:
        outbox.failed(notification, str(exc))
        return 0
    except appio.Permanent as exc:
        outbox.failed(notification, str(exc), permanent=True)
        return 0
    except Exception as exc:
        log.exception("App IO notification %s could not be built", notification.pk)
        outbox.failed(notification, f"{type(exc).__name__}: {exc}", permanent=True)
        return 0
    outbox.sent(notification, message_id)
    return 1


def sweep():
    """Release rows of dead workers, then queue what is due, in delivery
    batches, for the workers (the sweeper itself sends nothing, so it always
    ends well within the task timeout). Returns how many rows were queued.

    At most ``NOTIFY_SWEEP_BATCHES`` batches a run, and none while the
    broker still holds that many tasks: the workers are behind, and what is
    due is already on its way (queuing the same oldest rows again would only
    lengthen the queue). A row queued twice is still sent once: the second
    task finds it claimed or sent."""
    outbox.release_expired()
    batches = int(get_setting("NOTIFY_SWEEP_BATCHES"))
    if queued_tasks() >= batches:
        return 0
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    ids = outbox.due_ids(limit=size * batches)
    _enqueue_batches(ids)
    return len(ids)


def queued_tasks():
    """Tasks waiting in the broker (0 when it cannot say)."""
    from django_q.brokers import get_broker

    try:
        return int(get_broker().queue_size() or 0)
    except Exception:
        log.debug("The broker's queue size is unknown", exc_info=True)
        return 0
