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

from django.core.mail import get_connection
from django.db import transaction

from ..conf import get_setting
from ..models import Notification, NotificationChannel
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
    if any (a rollback takes the callbacks, and so the list, away)."""
    for entry in connection.run_on_commit:
        batch = getattr(entry[1], "helpdesk_batch", None)
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
    """The mail server could not be reached or dropped the connection."""


def deliver(ids):
    """Deliver the notifications ``ids`` (those still pending and due); return
    how many were sent. One SMTP connection for the whole batch; when the mail
    server is unreachable, the batch's other e-mails wait for the next attempt
    without spending one of theirs."""
    claimed = outbox.claim_many(ids)
    if not claimed:
        return 0
    rows = list(Notification.objects.filter(pk__in=claimed).order_by("pk")
                .select_related("ticket__service", "ticket__report_category", "ticket__citizen",
                                "event", "recipient_citizen"))
    count = 0
    connection = None
    server_down = None
    try:
        for notification in rows:
            if notification.channel == NotificationChannel.EMAIL:
                if server_down is not None:
                    continue
                if connection is None:
                    connection = get_connection(fail_silently=False)
                try:
                    count += _send_email(notification, connection)
                except _ServerDown as exc:
                    server_down = notification, str(exc)
            elif notification.channel == NotificationChannel.APP_IO:
                count += _send_io(notification)
            else:
                outbox.failed(notification, f"No delivery for channel {notification.channel}.",
                              permanent=True)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:
                log.debug("Closing the mail connection failed", exc_info=True)
    if server_down is not None:
        first, error = server_down
        rest = [n for n in rows if n.channel == NotificationChannel.EMAIL and n.pk > first.pk]
        outbox.postpone(rest, error, outbox.backoff(first.attempts))
    return count


def _send_email(notification, connection):
    try:
        message = email.build(notification, connection=connection)
    except Exception as exc:  # a template, data or missing-file error: do not retry forever
        log.exception("Notification %s could not be built", notification.pk)
        outbox.failed(notification, f"{type(exc).__name__}: {exc}", permanent=True)
        return 0
    try:
        connection.open()  # kept open for the batch (a no-op when already open)
        message.send()
    except smtplib.SMTPException as exc:
        if not isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
            outbox.failed(notification, f"{type(exc).__name__}: {exc}",
                          permanent=permanent_smtp(exc))
            connection.close()  # a fresh connection for the next one
            return 0
        _server_down(notification, connection, exc)
    except OSError as exc:  # refused, unreachable, timed out (SMTPException is an OSError too)
        _server_down(notification, connection, exc)
    outbox.sent(notification, message.extra_headers["Message-ID"])
    return 1


def _server_down(notification, connection, exc):
    """The server, not this message, failed: a temporary failure, and the
    rest of the batch waits (see :func:`deliver`)."""
    error = f"{type(exc).__name__}: {exc}"
    outbox.failed(notification, error)
    connection.close()
    raise _ServerDown(error) from exc


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

    At most ``NOTIFY_SWEEP_BATCHES`` batches a run: a large backlog (after a
    mail server outage) drains over a few runs instead of flooding the queue.
    A row queued twice (by its own transaction and by the sweeper) is sent
    once: the second task finds it claimed or sent."""
    outbox.release_expired()
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    ids = outbox.due_ids(limit=size * int(get_setting("NOTIFY_SWEEP_BATCHES")))
    _enqueue_batches(ids)
    return len(ids)
