"""How many e-mails per second the workers deliver from the outbox to a local
SMTP sink (aiosmtpd, in a process of its own), through the real ``deliver``
task: claim, render, send, record the outcome and the timeline.

One process, in-process calls to ``deliver`` (test settings, a throw-away
database: SQLite in memory, or the one ``DATABASE_URL`` names)::

    .venv/bin/python bench/notify_throughput.py [--count 1000] [--runs 5]

The production layout: ``--cluster`` starts ``--workers`` (2) separate
``manage.py helpdesk_worker`` processes (django-q2 clusters, the example
site's settings: ``workers: 2`` each, Redis broker) on PostgreSQL, queues
``--count`` notifications as the services layer does (batches of
``NOTIFY_BATCH_SIZE``) and waits until every one is sent; the sink records
each Message-ID it accepts, so duplicates and losses are counted, not
assumed. ``--kill-at 0.5`` SIGKILLs the first worker's whole process group
once half are sent; its claims then stay "sending" until their lease ends
(here moved into the past, rather than waiting ``NOTIFY_LEASE_SECONDS``) and
the sweeper (``tasks.sweep``, what the schedule runs) hands them out again::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/notify_throughput.py --cluster --count 10000 [--kill-at 0.5]

It builds its database ``bench_g_<count>`` (dropped at the end unless
``--keep``) and uses a Redis database of its own (``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/13``) as broker and cache. Prints every run, the median and, for the
cluster, duplicates and losses; ``--json PATH`` writes them.
"""

import argparse
import collections
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SINK_CODE = """
import asyncio, sys
from email.parser import BytesHeaderParser
from aiosmtpd.controller import Controller

class Handler:
    def __init__(self, path):
        self.out = open(path, "a", buffering=1)

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        self.out.write(f"{headers.get('Message-ID', '').strip()}\\n")  # one line, flushed
        return "250 OK"

controller = Controller(Handler(sys.argv[2]), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
try:
    asyncio.get_event_loop().run_forever()
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the SMTP sink did not start")


def start_sink(port, record=None):
    """aiosmtpd in a process of its own; with ``record``, every accepted
    message's Message-ID is appended to that file (one line each)."""
    if record is None:
        argv = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                "-c", "aiosmtpd.handlers.Sink"]
    else:
        argv = [sys.executable, "-c", SINK_CODE, str(port), str(record)]
    sink = subprocess.Popen(argv)  # noqa: S603
    wait_listening(port)
    return sink


def received(record):
    """{Message-ID: times accepted} from a sink's record file."""
    path = Path(record)
    lines = path.read_text().splitlines() if path.exists() else []
    return collections.Counter(line for line in lines if line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=None,
                        help="e-mails per run (1000; 10000 with --cluster)")
    parser.add_argument("--runs", type=int, default=None, help="runs (5; 1 with --cluster)")
    parser.add_argument("--cluster", action="store_true",
                        help="separate helpdesk_worker processes on PostgreSQL + Redis")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (--cluster)")
    parser.add_argument("--kill-at", type=float, default=None,
                        help="SIGKILL the first worker once this share is sent (--cluster)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    if args.cluster:
        args.count = args.count or 10000
        args.runs = args.runs or 1
        results = [run_cluster(args, n) for n in range(1, args.runs + 1)]
        summary = {"mode": "cluster", "count": args.count, "workers": args.workers,
                   "kill_at": args.kill_at, "runs": results,
                   "median_per_s": statistics.median(r["rate"] for r in results)}
        print(f"median of {len(results)} runs: {summary['median_per_s']:.0f} e-mails/s "
              f"(PostgreSQL, Redis, {args.workers} helpdesk_worker processes)")
    else:
        args.count = args.count or 1000
        args.runs = args.runs or 5
        summary = in_process(args)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=2))


def in_process(args):
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    logging.getLogger("django-q").setLevel(logging.WARNING)
    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    port = free_port()
    sink = start_sink(port)
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        rates = [run(args.count) for _ in range(args.runs)]
    finally:
        sink.terminate()
        sink.wait()
        connection.creation.destroy_test_db(original_name, verbosity=0)
    for n, rate in enumerate(rates, 1):
        print(f"run {n}: {rate:.0f} e-mails/s")
    median = statistics.median(rates)
    print(f"median of {len(rates)} runs, {args.count} e-mails each: "
          f"{median:.0f} e-mails/s ({connection.vendor})")
    return {"mode": "in-process", "count": args.count, "vendor": connection.vendor,
            "rates": rates, "median_per_s": median}


def outbox_rows(count, tickets=1, tag=None):
    """``count`` due e-mail notifications spread over ``tickets`` tickets
    (made through the services layer); return their ids."""
    from django.utils import timezone

    from tests.support import factories
    from wagtail_helpdesk.models import Notification, NotificationChannel
    from wagtail_helpdesk.services import CitizenActor

    tag = tag or uuid.uuid4().hex[:8]
    person = factories.citizen()
    made = [factories.request_ticket(CitizenActor(person), citizen_=person)
            for _ in range(tickets)]
    events = {ticket.pk: ticket.events.latest("pk") for ticket in made}
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(channel=NotificationChannel.EMAIL, ticket=ticket, event=events[ticket.pk],
                     template="citizen/ticket_received", address=f"c{n}@example.org",
                     language="it", dedup_key=f"bench-{tag}-{n}", next_attempt_at=now,
                     payload={"reference": ticket.reference})
        for n, ticket in ((n, made[n % tickets]) for n in range(count)))
    return list(Notification.objects.filter(dedup_key__startswith=f"bench-{tag}-")
                .order_by("pk").values_list("pk", flat=True))


def run(count):
    from wagtail_helpdesk.conf import get_setting
    from wagtail_helpdesk.notifications import tasks

    ids = outbox_rows(count)
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    started = time.perf_counter()
    sent = sum(tasks.deliver(ids[i:i + size]) for i in range(0, len(ids), size))
    elapsed = time.perf_counter() - started
    if sent != count:
        raise SystemExit(f"only {sent} of {count} sent")
    return count / elapsed


CLUSTER_ENV = {"DEBUG": "0", "SECRET_KEY": "bench-notify-throughput-not-secret",
               "DJANGO_SETTINGS_MODULE": "example_site.settings",
               "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
               "EMAIL_HOST": "127.0.0.1"}


def cluster_env(database, port):
    """The environment of the bench and of its workers: the example site's
    settings, as production runs them (DEBUG off, Redis broker and cache)."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(CLUSTER_ENV, DATABASE_URL=database, EMAIL_PORT=str(port),
               REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    return env


def bench_database(count):
    """A fresh PostgreSQL database for the run: (its URL, drop())."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not base.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--cluster needs PostgreSQL: DATABASE_URL=postgres://…")
    label = f"{count // 1000}k" if count % 1000 == 0 else str(count)
    name = f"bench_g_{label}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"

    def execute(sql):
        with psycopg.connect(admin_url, autocommit=True) as db:
            db.execute(sql)

    execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}", lambda: execute(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_worker(env, log):
    """``manage.py helpdesk_worker`` in a process group of its own."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "helpdesk_worker"], cwd=ROOT, env=env,
            start_new_session=True, stdout=out, stderr=out)


def wait_running(log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "running." in Path(log).read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise SystemExit(f"a worker did not start: see {log}")


def stop_worker(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # helpdesk_worker stops on a group SIGTERM
    try:
        process.wait(timeout=60)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_cluster(args, number):
    """One run of the production layout; returns its figures."""
    var = ROOT / "var" / "bench" / f"notify-{uuid.uuid4().hex[:8]}"
    var.mkdir(parents=True)
    database, drop = bench_database(args.count)
    port, record = free_port(), var / "received.txt"
    env = cluster_env(database, port)
    os.environ.update(env)
    print(f"run {number}: migrating {database.rsplit('/', 1)[1]} …", flush=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    import django

    django.setup()
    from django.db import connections

    logging.getLogger("django-q").setLevel(logging.WARNING)

    from wagtail_helpdesk.models import Notification
    from wagtail_helpdesk.notifications import tasks

    sink, workers = start_sink(port, record), []
    try:
        keep_only_the_sweeper()
        original, tasks._enqueue_now = tasks._enqueue_now, lambda ids: None
        try:  # the tickets' own receipts are not part of the count
            ids = outbox_rows(args.count, tickets=50)
            Notification.objects.exclude(pk__in=ids).delete()
        finally:
            tasks._enqueue_now = original
        from django_q.brokers import get_broker

        get_broker().purge_queue()  # the tickets' own jobs (embeddings…): not measured
        for n in range(args.workers):
            workers.append(start_worker(env, var / f"worker-{n}.log"))
        for n in range(args.workers):
            wait_running(var / f"worker-{n}.log")
        figures = deliver_all(args, ids, workers, record)
    finally:
        for process in workers:
            stop_worker(process)
        sink.terminate()
        sink.wait()
        connections.close_all()
        if not args.keep:
            drop()
    print(f"run {number}: {figures['rate']:.0f} e-mails/s; {figures['duplicates']} duplicates, "
          f"{figures['lost']} lost" + (f"; worker killed at {figures['killed_at_sent']} sent"
                                       if args.kill_at else ""), flush=True)
    return figures


def keep_only_the_sweeper():
    """The other schedules (inbound mail, embeddings, overviews…) are not what
    is measured: only the outbox sweeper stays."""
    from django_q.models import Schedule

    Schedule.objects.exclude(func="wagtail_helpdesk.notifications.tasks.sweep").delete()


def deliver_all(args, ids, workers, record):
    from django.utils import timezone

    from wagtail_helpdesk.models import Notification
    from wagtail_helpdesk.notifications import tasks

    def count(**filters):
        return Notification.objects.filter(pk__in=ids, **filters).count()

    started = time.perf_counter()
    tasks._enqueue_batches(ids)  # what the services layer does on commit
    killed_at, kill_seconds, last, still = None, None, -1, time.monotonic()
    while (sent := count(status="sent")) < len(ids):
        if args.kill_at is not None and killed_at is None and sent >= args.kill_at * len(ids):
            os.killpg(workers[0].pid, signal.SIGKILL)  # the whole cluster: every process
            workers[0].wait()
            killed_at, kill_seconds = sent, time.perf_counter() - started
        if sent != last:
            last, still = sent, time.monotonic()
        elif time.monotonic() - still > 3 and tasks.queued_tasks() == 0:
            # Nothing moves and nothing is queued: what is left is claimed by
            # the dead worker (its lease ends: here, now) or was in its hands.
            Notification.objects.filter(pk__in=ids, status="sending").update(
                next_attempt_at=timezone.now())
            time.sleep(0.01)
            tasks.sweep()  # what the schedule runs every minute
            still = time.monotonic()
        if time.perf_counter() - started > 600:
            raise SystemExit(f"not done after 10 minutes: {sent} of {len(ids)} sent")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    time.sleep(1)  # a late copy, if there were one, would arrive now
    counts = received(record)
    # A sent row keeps the Message-ID it went out with: every one must have arrived.
    expected = set(Notification.objects.filter(pk__in=ids)
                   .values_list("provider_message_id", flat=True))
    return {"count": len(ids), "seconds": round(elapsed, 2), "rate": len(ids) / elapsed,
            "received": sum(counts.values()),
            "duplicates": sum(c - 1 for c in counts.values()),
            "duplicated_ids": sorted(m for m, c in counts.items() if c > 1),
            "lost": len(expected - set(counts)) + len(ids) - len(expected),
            "foreign": len(set(counts) - expected), "killed_at_sent": killed_at,
            "rate_until_kill": killed_at / kill_seconds if killed_at else None,
            "statuses": dict(collections.Counter(
                Notification.objects.filter(pk__in=ids).values_list("status", flat=True)))}


if __name__ == "__main__":
    main()
