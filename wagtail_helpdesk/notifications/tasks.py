"""django-q2 tasks: deliver notifications, and sweep the outbox.

Tasks take ids, never objects, and are idempotent: delivering a row that is
no longer pending (sent by another worker, or failed) does nothing. They are
enqueued on transaction commit (:func:`enqueue`), so a rolled-back change
never notifies anyone; the periodic :func:`sweep` picks up whatever a lost
task or a dead worker left behind.
"""

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
    """Queue delivery of ``ids`` once the current transaction commits."""
    ids = [int(pk) for pk in ids]
    if ids:
        transaction.on_commit(lambda: _enqueue_now(ids))


def _enqueue_now(ids):
    from django_q.tasks import async_task

    try:
        async_task(DELIVER, ids, group="wagtail_helpdesk.notifications",
                   q_options={"task_name": f"helpdesk-notify-{ids[0]}"})
    except Exception:
        log.exception("Could not enqueue notifications %s; the sweeper will.", ids)


def deliver(ids):
    """Deliver the notifications ``ids`` (those still pending and due); return
    how many were sent. One SMTP connection for the whole batch."""
    claimed = outbox.claim_many(ids)
    if not claimed:
        return 0
    rows = (Notification.objects.filter(pk__in=claimed).order_by("pk")
            .select_related("ticket__service", "ticket__report_category", "event",
                            "recipient_citizen"))
    count = 0
    connection = None
    try:
        for notification in rows:
            if notification.channel == NotificationChannel.EMAIL:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                count += _send_email(notification, connection)
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
        outbox.failed(notification, f"{type(exc).__name__}: {exc}",
                      permanent=permanent_smtp(exc))
        connection.close()  # a fresh connection for the next one
        return 0
    except OSError as exc:  # refused, unreachable, timed out: try again later
        outbox.failed(notification, f"{type(exc).__name__}: {exc}")
        connection.close()
        return 0
    outbox.sent(notification, message.extra_headers["Message-ID"])
    return 1


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
    """Release rows of dead workers, then deliver what is due (in batches)."""
    outbox.release_expired()
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    total = 0
    while True:
        ids = outbox.due_ids(limit=size)
        if not ids:
            return total
        sent = deliver(ids)
        total += sent
        if len(ids) < size:
            return total
