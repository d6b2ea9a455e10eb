"""``manage.py helpdesk_demo``: load the demo data (idempotent).

The work is done by :mod:`wagtail_helpdesk.demo.builder`; this command parses
the options, refuses to run on a production configuration and reports.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wagtail_helpdesk import groups
from wagtail_helpdesk.demo import builder
from wagtail_helpdesk.workflow import Status

#: The demo accounts' roles, in the language of the rest of the output.
ROLES = {groups.OPERATORS: "operator", groups.SUPERVISORS: "supervisor",
         groups.ADMINISTRATORS: "helpdesk administrator"}
STEPS = {
    "catalogue": "Offices, services, report categories, accounts and settings…",
    "citizens": "Demo citizens…",
}

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
        parser.add_argument(
            "--base-url", metavar="URL",
            help="Where the demo site answers, for the examples printed "
                 "(default: WAGTAILADMIN_BASE_URL, e.g. http://127.0.0.1:8000).",
        )
        parser.add_argument(
            "--no-logins", action="store_false", dest="logins",
            help="Do not list the demo accounts (`make demo` lists them with the site's "
                 "addresses); an account that keeps a password of its own is still reported.",
        )

    def handle(self, *args, tickets, force, base_url=None, logins=True, verbosity=1, **options):
        if not settings.DEBUG and not force:
            raise CommandError(REFUSAL.format(password=builder.DEMO_PASSWORD))
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        self.base_url = (base_url or getattr(settings, "WAGTAILADMIN_BASE_URL", "")
                         or "http://127.0.0.1:8000").rstrip("/")
        self.show_logins = logins
        self.tenth = 0
        started = time.monotonic()
        result = builder.build(tickets=tickets, progress=self._progress if verbosity else None)
        elapsed = time.monotonic() - started
        self._report(result, elapsed)

    def _progress(self, step, done=0, total=0):
        """One line per step, and one per tenth of the tickets (flushed: the
        output may be a pipe, as under `make demo`)."""
        if step == "tickets":
            tenth = done * 10 // total
            if tenth == self.tenth:
                return
            self.tenth = tenth
            line = f"  Tickets and their history: {done}/{total} ({tenth * 10}%)"
            if done == total:
                line += ", saving…"
        else:
            line = f"  {STEPS[step]}"
        self.stdout.write(line)
        self.stdout.flush()

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
        self._logins(result.logins)
        if result.open311_key:
            write(f"\nOpen311 GeoReport v2 at {self.base_url}/open311/v2/ (docs/open311.md): "
                  f"client \"{builder.DEMO_OPEN311_CLIENT}\", api_key \"{result.open311_key}\", "
                  f"e.g.\n  curl -d api_key={result.open311_key} "
                  "-d service_code=<id from services.json> -d lat=45.07 -d long=7.68 "
                  f"-d \"description=Buca in via Roma\" {self.base_url}/open311/v2/requests.json")

    def _logins(self, logins):
        """The demo accounts, once (`make demo` lists them itself: --no-logins)."""
        write = self.stdout.write
        if self.show_logins:
            write(f"\nLogins (password \"{builder.DEMO_PASSWORD}\"):")
            for username, _description, has_demo_password in logins:
                note = "" if has_demo_password else "  [existing account: password left unchanged]"
                write(f"  {username:<13} {self._role(username)}{note}")
            return
        for username, _description, has_demo_password in logins:
            if not has_demo_password:
                write(self.style.WARNING(
                    f"\nThe existing account \"{username}\" keeps its own password "
                    f"(not \"{builder.DEMO_PASSWORD}\"): password left unchanged."))

    @staticmethod
    def _role(username):
        user = get_user_model().objects.get(username=username)
        names = set(user.groups.values_list("name", flat=True))
        role = ", ".join(ROLES[name] for name in ROLES if name in names) or "account"
        if user.is_superuser:
            role += " and superuser"
        offices = list(user.helpdesk_offices.order_by("name").values_list("name", flat=True))
        return f"{role} ({', '.join(offices)})" if offices else role
