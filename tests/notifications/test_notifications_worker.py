"""A real django-q2 cluster process delivers notifications, on the ORM broker
and on Redis. The cluster reads the test database from another process, so
these run on PostgreSQL (`make test-postgres`, and CI)."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.support.polling import wait_for
from wagtail_helpdesk.models import Notification
from wagtail_helpdesk.notifications import email as mail
from wagtail_helpdesk.notifications import outbox, tasks
from wagtail_helpdesk.services import CitizenActor

# Committed data (another process reads it); serialized rollback brings back
# what the migrations made for the tests that follow.
pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def cluster(smtp, monkeypatch, tmp_path):
    """Start ``qcluster``; yield a function that enqueues delivery on its broker.
    Only the cluster delivers: the test process's own (synchronous) queueing
    on commit is switched off."""
    processes = []
    monkeypatch.setattr(tasks, "_enqueue_now", lambda ids: None)

    def start(broker):
        from django_q.brokers.orm import ORM
        from django_q.brokers.redis_broker import Redis
        from django_q.conf import Conf

        name = f"helpdesk-it-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.cluster_settings",
               "HELPDESK_TEST_DB": connection.settings_dict["NAME"], "HELPDESK_Q_NAME": name,
               "HELPDESK_SMTP_PORT": str(smtp.port)}
        if broker == "redis":
            env["HELPDESK_Q_REDIS"] = REDIS
            monkeypatch.setattr(Conf, "REDIS", REDIS)
            queue = Redis(list_key=name)
        else:
            queue = ORM(list_key=name)
        process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env,
                                   start_new_session=True, stdout=subprocess.DEVNULL,
                                   stderr=(tmp_path / f"{name}.log").open("wb"))
        processes.append(process)

        def enqueue(ids):
            from django_q.tasks import async_task

            async_task(tasks.DELIVER, ids, broker=queue, sync=False)

        return enqueue

    start.processes = processes
    yield start
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)  # the cluster stops its own workers
        try:
            process.wait(timeout=20)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group



@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_cluster_process_delivers_each_notification_once(broker, cluster, smtp, factories):
    enqueue = cluster(broker)
    person = factories.citizen()
    for _ in range(5):
        factories.request_ticket(CitizenActor(person), citizen_=person)
    ids = list(Notification.objects.values_list("pk", flat=True))
    enqueue(ids[:3])
    enqueue(ids[2:])  # one row enqueued twice: still sent once
    assert wait_for(lambda: Notification.objects.filter(status="sent").count() == len(ids)), (
        list(Notification.objects.values_list("status", "last_error")))
    time.sleep(1)  # a second delivery, if there were one, would arrive now
    message_ids = [m["Message-ID"] for m in smtp.messages]
    assert len(message_ids) == len(ids) == len(set(message_ids))


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_repeats_nothing(
        broker, cluster, smtp, factories):
    """SIGKILL the cluster while its worker waits for the server's answer to
    the fourth message of a batch of ten: three are sent, the fourth was never
    accepted, six are claimed and untouched. Once the lease runs out the
    sweeper's work hands them to a new cluster: all ten arrive, once each."""
    held, accepted = threading.Event(), 3

    async def slow_then_hold(server, session, envelope):
        if len(smtp.messages) >= accepted:
            held.set()
            await asyncio.sleep(30)  # the worker dies waiting: this one is never accepted
            return "451 Try again later"
        smtp.record(envelope)
        return "250 OK"

    smtp.handle_DATA = slow_then_hold
    person = factories.citizen()
    for _ in range(10):
        factories.request_ticket(CitizenActor(person), citizen_=person)
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    assert len(ids) == 10
    cluster(broker)(ids)
    assert wait_for(held.is_set, timeout=40)
    assert wait_for(lambda: Notification.objects.filter(status="sent").count() == accepted)
    worker = cluster.processes[-1]
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)
    rows = dict(Notification.objects.values_list("pk", "status"))
    assert sorted(rows.values()) == ["sending"] * 7 + ["sent"] * 3, (  # claimed, then the kill
        list(Notification.objects.values_list("status", "last_error")))

    del smtp.handle_DATA  # the server answers normally again
    # The lease runs out (here: moved into the past), and the sweeper's work
    # (release, queue what is due) goes to a fresh cluster.
    Notification.objects.filter(status="sending").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.release_expired() == 7
    cluster(broker)(outbox.due_ids())
    assert wait_for(lambda: Notification.objects.filter(status="sent").count() == 10), (
        list(Notification.objects.values_list("status", "last_error")))
    time.sleep(1)  # a second delivery, if there were one, would arrive now
    received = [m["Message-ID"] for m in smtp.messages]
    expected = {mail.message_id(n.ticket_id, n.pk) for n in Notification.objects.all()}
    assert len(received) == 10 and set(received) == expected


def test_jobs_survive_the_orm_broker_closing_the_connection(factories, monkeypatch):
    """django-q2's ORM broker closes the database connection when it enqueues
    outside a transaction: a job must not be reading a cursor then. Each
    reminder commits and queues its delivery, as in a real worker."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from wagtail_helpdesk import services
    from wagtail_helpdesk.models import Ticket
    from wagtail_helpdesk.notifications import jobs

    office = factories.office()
    operator = factories.operator(office)
    for _ in range(3):
        person = factories.citizen()
        ticket = factories.request_ticket(CitizenActor(person), citizen_=person,
                                          service_=factories.service(office))
        services.take_charge(ticket, operator)
    Ticket.objects.update(due_at=timezone.now() + timedelta(hours=2))
    monkeypatch.setattr(Conf, "SYNC", False)  # queue on the ORM broker, as a worker does
    original = jobs.in_chunks
    monkeypatch.setattr(jobs, "in_chunks", lambda qs: original(qs, size=2))  # a chunk's edge
    assert jobs.sla_warnings() == 3
    assert OrmQ.objects.count() == 3  # one delivery task per reminder
