"""``manage.py helpdesk_demo``: load the demo data (idempotent).

The work is done by :mod:`wagtail_helpdesk.demo.builder`; this command parses
the options, refuses to run on a production configuration and reports.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from wagtail_helpdesk.demo import builder
from wagtail_helpdesk.workflow import Status

REFUSAL = (
    "helpdesk_demo refuses to run with DEBUG = False. It creates the accounts "
    "'operatore', 'responsabile' and 'admin' (a superuser) with the publicly known "
    "password \"{password}\", an Open311 client with a publicly known API key, and "
    "hundreds of fictitious tickets and citizens: "
    "none of that may exist on a production site. Run it on a development or demo "
    "installation (DEBUG = True), or add --force if this really is a throw-away demo server."
)


class Command(BaseCommand):
    help = (
        "Load demo data: offices, services, report categories, the demo accounts "
        "(password \"demo\"), citizens and a few hundred tickets with their history. "
        "Running it again creates nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets", type=int, default=builder.DEFAULT_TICKETS, metavar="N",
            help=f"How many tickets to create (default {builder.DEFAULT_TICKETS}).",
        )
        parser.add_argument(
            "--force", action="store_true",
            help="Run even when DEBUG is False (creates accounts with a known password).",
        )

    def handle(self, *args, tickets, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(REFUSAL.format(password=builder.DEMO_PASSWORD))
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        started = time.monotonic()
        result = builder.build(tickets=tickets)
        elapsed = time.monotonic() - started
        self._report(result, elapsed)

    def _report(self, result, elapsed):
        write = self.stdout.write
        created = ", ".join(f"{n} {what}" for what, n in result.created.items() if n)
        write(f"Created: {created}." if created else "Catalogue, accounts and citizens: "
              "already there, nothing new created.")
        if result.tickets_created:
            write(self.style.SUCCESS(
                f"Created {result.tickets_created} demo tickets with their history "
                f"in {elapsed:.1f} s."
            ))
        else:
            write("Demo tickets already present: no ticket created.")
        total = sum(result.by_status.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in result.by_kind.items())
        write(f"\nTickets in the database: {total} ({kinds})")
        for status, n in result.by_status.items():
            write(f"  {status:<12} {n:>5}  {Status(status).label}")
        write(f"\nLogins (password \"{builder.DEMO_PASSWORD}\"):")
        for username, description, has_demo_password in result.logins:
            note = "" if has_demo_password else "  [existing account: password left unchanged]"
            write(f"  {username:<13} {description}{note}")
        if result.open311_key:
            write(f"\nOpen311 GeoReport v2 at /open311/v2/ (docs/open311.md): client "
                  f"\"{builder.DEMO_OPEN311_CLIENT}\", api_key \"{result.open311_key}\", e.g.\n"
                  f"  curl -d api_key={result.open311_key} -d service_code=<id from services.json> "
                  "-d lat=45.07 -d long=7.68 -d \"description=Buca in via Roma\" "
                  "http://127.0.0.1:8000/open311/v2/requests.json")
