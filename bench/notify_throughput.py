"""How many e-mails per second one process delivers from the outbox to a
local SMTP sink (aiosmtpd, in a process of its own), through the real
``deliver`` task: claim, render, send, record the outcome and the timeline.

    .venv/bin/python bench/notify_throughput.py [--count 1000] [--runs 5]

Uses the test settings and a throw-away database (SQLite in memory, or the
one ``DATABASE_URL`` names, as the tests do). Prints every run and the median.
"""

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="e-mails per run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

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
    sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",  # noqa: S603
                             "-c", "aiosmtpd.handlers.Sink"])
    try:
        wait_listening(port)
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
    print(f"median of {len(rates)} runs, {args.count} e-mails each: "
          f"{statistics.median(rates):.0f} e-mails/s ({connection.vendor})")


def run(count):
    from django.utils import timezone

    from tests.support import factories
    from wagtail_helpdesk.conf import get_setting
    from wagtail_helpdesk.models import Notification, NotificationChannel
    from wagtail_helpdesk.notifications import tasks
    from wagtail_helpdesk.services import CitizenActor

    person = factories.citizen()
    ticket = factories.request_ticket(CitizenActor(person), citizen_=person)
    event = ticket.events.latest("pk")
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(channel=NotificationChannel.EMAIL, ticket=ticket, event=event,
                     template="citizen/ticket_received", address=f"c{n}@example.org",
                     language="it", dedup_key=f"bench-{ticket.pk}-{n}", next_attempt_at=now,
                     payload={"reference": ticket.reference})
        for n in range(count))
    ids = list(Notification.objects.filter(dedup_key__startswith=f"bench-{ticket.pk}-")
               .values_list("pk", flat=True))
    size = int(get_setting("NOTIFY_BATCH_SIZE"))
    started = time.perf_counter()
    sent = sum(tasks.deliver(ids[i:i + size]) for i in range(0, len(ids), size))
    elapsed = time.perf_counter() - started
    if sent != count:
        raise SystemExit(f"only {sent} of {count} sent")
    return count / elapsed


if __name__ == "__main__":
    main()
