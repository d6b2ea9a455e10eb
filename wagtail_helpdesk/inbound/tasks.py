"""django-q2 tasks of inbound mail: process stored messages, and the
periodic job that reads the IMAP mailboxes and picks up whatever a lost task
left pending.

Tasks take ids and are idempotent: a message is processed once, whatever
the number of tasks that name it (see :func:`.pipeline.process_one`).
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)

PROCESS = "wagtail_helpdesk.inbound.tasks.process"
POLL = "wagtail_helpdesk.inbound.tasks.poll"


def enqueue(ids):
    """Queue the processing of ``ids`` once the current transaction commits."""
    ids = [int(pk) for pk in ids]
    if ids:
        transaction.on_commit(lambda: _enqueue_now(ids))


def _enqueue_now(ids):
    from django_q.tasks import async_task

    try:
        async_task(PROCESS, ids, group="wagtail_helpdesk.inbound",
                   q_options={"task_name": f"helpdesk-inbound-{ids[0]}-{len(ids)}"})
    except Exception:
        log.exception("Could not enqueue inbound messages %s; the next poll will.", ids)


def process(ids):
    """Process the stored messages ``ids``; return how many were processed here."""
    from .pipeline import process_one

    return sum(1 for pk in ids if process_one(pk))


def poll():
    """The scheduled job: read every active IMAP mailbox, then process what
    is still pending (stored by a receiver whose task was lost)."""
    from . import imap, pipeline

    taken = imap.poll_all()
    processed = pipeline.process_pending()
    return {"taken": taken, "processed": processed}
