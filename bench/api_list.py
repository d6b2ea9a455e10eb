"""How long one page of the REST API's ticket list takes, at the start of the
list and deep into it, against the admin list's numbered pages at the same
depth: the cursor keeps a page's cost flat, the admin's OFFSET does not.

    .venv/bin/python bench/api_list.py [--tickets 100000] [--runs 15]

Uses the test settings and a throw-away database (SQLite in memory, or the
one ``DATABASE_URL`` names, as the tests do). The tickets are inserted in bulk
(this measures reading, not the services layer). Prints the median of each.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

PAGE = 50


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = measure(args.tickets, args.runs)
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    print(f"{args.tickets} tickets in the operator's office, {PAGE} a page, "
          f"median of {args.runs} requests ({connection.vendor}):")
    for name, values in results.items():
        print(f"  {name:<38} {statistics.median(values) * 1000:8.1f} ms")


def seed(count):
    from datetime import timedelta

    from django.utils import timezone

    from tests.support import factories
    from wagtail_helpdesk.models import Channel, Kind, Ticket

    office = factories.office(name="URP")
    operator = factories.operator(office)
    service = factories.service(office)
    person = factories.citizen()
    start = timezone.now() - timedelta(days=365)
    rows = []
    for n in range(count):
        at = start + timedelta(seconds=n * 300)
        rows.append(Ticket(kind=Kind.REQUEST, channel=Channel.PHONE, status="new",
                           service=service, office=office, citizen=person,
                           subject=f"Richiesta {n}", description="Testo", created_at=at,
                           updated_at=at, submitted_at=at, last_activity_at=at,
                           short_code=f"AST-BENCH-{n:07d}"))
        if len(rows) == 5000:
            Ticket.objects.bulk_create(rows)
            rows = []
    Ticket.objects.bulk_create(rows)
    return operator


def timed(call, runs):
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        response = call()
        values.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.content[:300]}")
    return values


def measure(count, runs):
    from django.test import Client
    from wagtail.models import APIToken

    from wagtail_helpdesk.api import cursor
    from wagtail_helpdesk.models import Ticket

    operator = seed(count)
    token = APIToken.create_token(user=operator, name="bench")[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    admin = Client()
    admin.force_login(operator)
    deep = Ticket.objects.order_by("-last_activity_at", "-pk")[count - PAGE - 1]
    deep_cursor = cursor.encode("-last_activity_at", deep)
    last_page = (count + PAGE - 1) // PAGE
    url = "/api/helpdesk/v1/tickets/"
    return {
        "REST API, first page": timed(lambda: api.get(url, {"limit": PAGE}), runs),
        "REST API, last page (cursor)": timed(
            lambda: api.get(url, {"limit": PAGE, "cursor": deep_cursor}), runs),
        "admin list, first page": timed(
            lambda: admin.get("/admin/helpdesk/tickets/", {"queue": "all"}), runs),
        f"admin list, last page (p={last_page})": timed(
            lambda: admin.get("/admin/helpdesk/tickets/", {"queue": "all", "p": last_page}),
            runs),
    }


if __name__ == "__main__":
    main()
