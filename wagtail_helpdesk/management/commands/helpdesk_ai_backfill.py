"""``manage.py helpdesk_ai_backfill``: compute the embeddings of existing tickets.

Goes through the tickets (not drafts), most recent first, in batches, and
computes the vector of those that have none, or one computed from another
text or model; the others are only read. Interrupt it at any time: running it
again picks up where it stopped. A progress bar goes to stderr.
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_helpdesk.ai.embedder import get_embedder, missing_reason
from wagtail_helpdesk.ai.tasks import embed_tickets
from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.workflow import Status

BAR = 30


class Command(BaseCommand):
    help = ("Compute the AI assist's embeddings of the tickets that have none or an "
            "outdated one (resumable: run it again after an interruption).")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=64, metavar="N",
                            help="Tickets embedded in one model call (default 64).")
        parser.add_argument("--limit", type=int, default=None, metavar="N",
                            help="Stop after computing N embeddings.")
        parser.add_argument("--no-progress", action="store_true",
                            help="No progress bar.")

    def handle(self, *args, batch, limit, no_progress, **options):
        embedder = get_embedder()
        if embedder is None:
            raise CommandError(missing_reason())
        if batch < 1 or (limit is not None and limit < 1):
            raise CommandError(_("--batch and --limit must be at least 1."))
        tickets = Ticket.objects.exclude(status=Status.DRAFT)
        total = tickets.count()
        seen = computed = 0
        last = None
        started = time.monotonic()
        while limit is None or computed < limit:
            page = tickets.select_related("service", "report_category").order_by("-pk")
            if last is not None:
                page = page.filter(pk__lt=last)
            rows = list(page[:batch])
            if not rows:
                break
            if limit is not None:  # never compute more than asked
                rows = rows[:limit - computed]
            last = rows[-1].pk
            computed += embed_tickets(rows, embedder)
            seen += len(rows)
            if not no_progress:
                self._progress(seen, total, computed, started)
        if not no_progress:
            self.stderr.write("")
        self.stdout.write(ngettext("%(computed)d embedding computed, %(seen)d tickets checked.",
                                   "%(computed)d embeddings computed, %(seen)d tickets checked.",
                                   computed) % {"computed": computed, "seen": seen})

    def _progress(self, seen, total, computed, started):
        done = min(seen / total, 1.0) if total else 1.0
        filled = int(done * BAR)
        rate = computed / max(time.monotonic() - started, 1e-6)
        line = (f"\r[{'#' * filled}{'.' * (BAR - filled)}] {seen}/{total} "
                + _("checked, %(computed)d computed (%(rate).1f/s)")
                % {"computed": computed, "rate": rate})
        self.stderr.write(line, ending="")
        if hasattr(sys.stderr, "flush"):
            self.stderr.flush()
