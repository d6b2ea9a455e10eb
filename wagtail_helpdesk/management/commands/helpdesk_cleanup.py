"""``manage.py helpdesk_cleanup``: delete the files of abandoned citizen forms.

The citizens' form wizard keeps the files it accepted in the private storage,
under ``wagtail_helpdesk/pending/``, until the ticket is created; a journey
left half-way leaves them there. This command deletes those not modified for
``--older-than-hours`` (default: as long as a session lasts,
``SESSION_COOKIE_AGE``, at least 48 hours, so a citizen coming back to a form
still finds their files) and touches nothing outside that folder.
It only uses the storage API, so it works with any Django storage that can
tell a file's modification time. Run it daily (cron, a scheduled task).
"""

import math
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_helpdesk.attachments import private_storage
from wagtail_helpdesk.citizen.wizard import PENDING_DIR

MIN_DEFAULT_HOURS = 48


def default_hours():
    return max(MIN_DEFAULT_HOURS, math.ceil(settings.SESSION_COOKIE_AGE / 3600))


class Command(BaseCommand):
    help = (
        "Delete the files that citizens attached to forms they never sent "
        f"(kept in the private storage under {PENDING_DIR}/) older than a given age."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours", type=int, default=None, metavar="HOURS",
            help="Delete files not modified for this many hours (at least 1; default: "
                 "the session lifetime, SESSION_COOKIE_AGE, and at least 48).",
        )
        parser.add_argument(
            "--dry-run", action="store_true",
            help="Only count the files that would be deleted.",
        )

    def handle(self, *args, older_than_hours, dry_run, **options):
        if older_than_hours is None:
            older_than_hours = default_hours()
        if older_than_hours < 1:
            raise CommandError(_("--older-than-hours must be 1 or more."))
        storage = private_storage()
        cutoff = timezone.now() - timedelta(hours=older_than_hours)
        old = [name for name in _pending_files(storage, PENDING_DIR)
               if _modified(storage, name, cutoff) < cutoff]
        if not dry_run:
            for name in old:
                storage.delete(name)
        params = {"count": len(old), "hours": older_than_hours}
        if dry_run:
            message = ngettext(
                "Dry run: %(count)d pending file older than %(hours)d hours would be deleted.",
                "Dry run: %(count)d pending files older than %(hours)d hours would be deleted.",
                len(old)) % params
        else:
            message = ngettext(
                "Deleted %(count)d pending file older than %(hours)d hours.",
                "Deleted %(count)d pending files older than %(hours)d hours.",
                len(old)) % params
        self.stdout.write(message)


def _pending_files(storage, folder):
    """Every file under ``folder`` (sub-folders included); none when it is missing."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files if _plain(name)]
    for sub in filter(_plain, folders):
        names += _pending_files(storage, f"{folder}/{sub}")
    return names


def _plain(name):
    """A bare name (never a way out of the folder)."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _modified(storage, name, cutoff):
    """When ``name`` was last modified (``cutoff`` for a file gone meanwhile: kept)."""
    try:
        return storage.get_modified_time(name)
    except NotImplementedError as exc:
        raise CommandError(_(
            "The private storage (%(storage)s) cannot tell when a file was modified, "
            "so helpdesk_cleanup cannot tell abandoned files from recent ones."
        ) % {"storage": type(storage).__name__}) from exc
    except FileNotFoundError:
        return cutoff
