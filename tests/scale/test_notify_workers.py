"""Two worker processes deliver the outbox together, and a SIGKILL of one of
them costs at most one duplicate e-mail (the one it was sending), never a
lost one.

The kill is made the worst case on purpose: the SMTP server records the
100th message, then keeps the worker waiting for its "250 OK"; the worker
sending it is found by its connection and its whole process group (the
cluster: sentinel, worker, pusher, monitor) is SIGKILLed. That message is
then in the server's hands but not marked sent, so it is sent again once the
lease of the dead worker's batch runs out (moved into the past here) and the
sweeper's work hands the rest out: exactly that message arrives twice, every
other once. The workers are ``manage.py helpdesk_worker`` (the production
command) on Redis; they read the test database, so this runs on PostgreSQL.
"""

import asyncio
import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.support.polling import wait_for
from wagtail_helpdesk.models import Notification, NotificationChannel
from wagtail_helpdesk.notifications import email as mail
from wagtail_helpdesk.notifications import outbox, tasks
from wagtail_helpdesk.services import CitizenActor

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/7"
COUNT, BATCH, HELD_AT = 300, 25, 100


def socket_owner(port):
    """PID of the local process whose TCP socket is bound to 127.0.0.1:``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry.name)
    return None



@pytest.fixture
def workers(smtp, tmp_path, monkeypatch):
    """Two ``helpdesk_worker`` processes sharing one Redis queue; yields
    (processes, enqueue). The test process queues nothing by itself."""
    from django_q.brokers.redis_broker import Redis
    from django_q.conf import Conf

    monkeypatch.setattr(tasks, "_enqueue_now", lambda ids: None)
    monkeypatch.setattr(Conf, "REDIS", REDIS)
    name = f"helpdesk-scale-{uuid.uuid4().hex[:8]}"
    queue = Redis(list_key=name)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.cluster_settings",
           "HELPDESK_TEST_DB": connection.settings_dict["NAME"], "HELPDESK_Q_NAME": name,
           "HELPDESK_Q_REDIS": REDIS, "HELPDESK_SMTP_PORT": str(smtp.port)}
    processes, logs = [], []
    for n in range(2):
        logs.append(tmp_path / f"worker-{n}.log")
        with logs[-1].open("wb") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "manage.py", "helpdesk_worker"], cwd=ROOT, env=env,
                start_new_session=True, stdout=out, stderr=out))

    def enqueue(ids):
        from django_q.tasks import async_task

        for start in range(0, len(ids), BATCH):
            async_task(tasks.DELIVER, ids[start:start + BATCH], broker=queue, sync=False)

    try:
        for log in logs:
            assert wait_for(lambda log=log: "running." in log.read_text()), log.read_text()
        yield processes, enqueue
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        queue.delete_queue()


def outbox_rows(factories, count):
    person = factories.citizen()
    tickets = [factories.request_ticket(CitizenActor(person), citizen_=person) for _ in range(5)]
    Notification.objects.all().delete()  # the tickets' own receipts are not counted
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(channel=NotificationChannel.EMAIL, ticket=ticket, event=ticket.events.first(),
                     template="citizen/ticket_received", address=f"c{n}@example.org",
                     language="it", dedup_key=f"scale-{n}", next_attempt_at=now,
                     payload={"reference": ticket.reference})
        for n, ticket in ((n, tickets[n % len(tickets)]) for n in range(count)))
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))


def test_a_sigkilled_worker_costs_at_most_the_message_it_was_sending(workers, smtp, factories):
    processes, enqueue = workers
    held, peer = threading.Event(), []

    async def accept_then_hold(server, session, envelope):
        smtp.record(envelope)  # the server has the message…
        if len(smtp.messages) == HELD_AT and not held.is_set():
            peer.append(session.peer)
            held.set()
            await asyncio.sleep(60)  # …but its sender dies waiting for the "250 OK"
        return "250 OK"

    smtp.handle_DATA = accept_then_hold
    ids = outbox_rows(factories, COUNT)
    enqueue(ids)
    assert wait_for(held.is_set), f"the workers sent fewer than {HELD_AT} messages"
    owner = socket_owner(peer[0][1])
    victim = next(p for p in processes if owner and os.getpgid(owner) == p.pid)
    os.killpg(victim.pid, signal.SIGKILL)  # the whole cluster, as a crash or OOM kill would
    victim.wait(timeout=20)
    survivor = next(p for p in processes if p is not victim)
    del smtp.handle_DATA

    # The survivor empties the queue; the dead cluster's batch stays claimed.
    def settled():
        before = Notification.objects.filter(status="sent").count()
        time.sleep(1.5)
        return Notification.objects.filter(status="sent").count() == before
    assert wait_for(settled)
    left = Notification.objects.exclude(status="sent")
    assert left.filter(status="sending").exists()  # the killed worker's claim, mid-batch
    assert survivor.poll() is None

    # Its lease runs out (moved into the past) and the sweeper's work, release
    # and queue what is due, hands the rest to the surviving worker.
    for _ in range(5):
        Notification.objects.filter(status="sending").update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))
        outbox.release_expired()
        enqueue(outbox.due_ids())
        if wait_for(lambda: not Notification.objects.exclude(status="sent").exists(), 30):
            break
    assert not Notification.objects.exclude(status="sent").exists(), list(
        Notification.objects.exclude(status="sent").values_list("status", "last_error"))
    time.sleep(1)  # a late copy, if there were one, would arrive now

    received = collections.Counter(m["Message-ID"] for m in smtp.messages)
    expected = {mail.message_id(n.ticket_id, n.pk) for n in Notification.objects.all()}
    assert set(received) == expected  # nothing lost, nothing foreign
    duplicates = {message_id: n for message_id, n in received.items() if n > 1}
    held_message = smtp.messages[HELD_AT - 1]["Message-ID"]
    assert duplicates == {held_message: 2}  # the one in flight, once: one worker process killed
