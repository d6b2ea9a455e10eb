"""A real django-q2 cluster process delivers notifications, on the ORM broker
and on Redis. The cluster reads the test database from another process, so
these run on PostgreSQL (`make test-postgres`, and CI)."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from wagtail_helpdesk.models import Notification
from wagtail_helpdesk.notifications import tasks
from wagtail_helpdesk.services import CitizenActor

# Committed data (another process reads it); serialized rollback brings back
# what the migrations made for the tests that follow.
pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def cluster(smtp, monkeypatch):
    """Start ``qcluster``; yield a function that enqueues delivery on its broker."""
    processes = []

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
                                   stderr=subprocess.PIPE)
        processes.append(process)

        def enqueue(ids):
            from django_q.tasks import async_task

            async_task(tasks.DELIVER, ids, broker=queue, sync=False)

        return enqueue

    yield start
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def wait_for(predicate, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


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
