"""Preparing a ticket list export in the background (django-q2).

:func:`request_export` creates the row and queues :func:`generate` once the
transaction commits, with the task's own timeout (:data:`TASK_TIMEOUT`: the
cluster's default suits short jobs, not a 100,000-row file). :func:`generate`
is idempotent, like the overviews' task: it claims the row with one
conditional UPDATE that stores a fresh claim token, so two workers never
prepare the same export and a done one is never prepared again; every later
write (progress, the result) is conditional on that token, so a worker that
lost its claim (taken over after it was thought dead, or the export deleted)
changes nothing and deletes the file it wrote. It rebuilds the ticket list
exactly as its requester saw it (the list view itself, with the saved query
string and the requester's permissions: same queue, filters, search and
ordering, only the tickets they may see), writes the file in chunks to a
temporary file with the progress on the row, then moves it to the private
storage, recording the offices the requester saw (the download checks them,
:mod:`.access`). On an error (the task's timeout included) the row is marked
failed with a translated message; the traceback goes to the log only.

A worker killed outright never reaches its failure path: :func:`sweep` (a
scheduled job) queues again the exports no worker picked up, queues again
or fails those left "running" by a dead worker, and deletes the exports
older than :data:`KEPT` (row and file).
"""

import logging
import tempfile
import uuid
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import ExportFormat, ExportStatus, TicketExport
from ..services.notify import operator_language
from . import access

log = logging.getLogger(__name__)

GENERATE = "wagtail_helpdesk.exports.tasks.generate"
SWEEP = "wagtail_helpdesk.exports.tasks.sweep"
#: The export task's own timeout (django-q2's per-task ``timeout``), longer
#: than the cluster's default.
TASK_TIMEOUT = timedelta(minutes=20)
#: A "running" export not finished after this long was left by a dead worker
#: (a live one has been stopped by its timeout by then).
STALE = TASK_TIMEOUT + timedelta(minutes=10)
#: A queued export no worker has started after this long is queued again…
QUEUED_STALE = timedelta(minutes=15)
#: … and given up (failed) once it was asked for this long ago.
GIVE_UP = timedelta(hours=6)
#: Times an export may be started (claimed) before the sweeper gives it up.
MAX_ATTEMPTS = 2
#: Exports one user may have queued or running at once.
PENDING_LIMIT = 3
#: Rows between two progress updates.
PROGRESS_EVERY = 5000
#: Exports older than this are deleted with their files (by :func:`sweep`, and
#: when their requester asks for a new one): they hold personal data, they are
#: not an archive.
KEPT = timedelta(days=7)


def request_export(user, export_format, query, language=""):
    """A new queued export of the list ``query`` (a query string) by ``user``,
    in ``language`` (default: the user's)."""
    for old in TicketExport.objects.filter(requested_by=user,
                                           created_at__lt=timezone.now() - KEPT):
        delete_export(old)
    with transaction.atomic():
        export = TicketExport.objects.create(requested_by=user, format=export_format,
                                             query=query, language=language,
                                             **access.scope_of(user))
        transaction.on_commit(lambda: _enqueue_now(export.pk))
    return export


def _enqueue_now(export_id):
    from django_q.tasks import async_task

    try:
        async_task(GENERATE, export_id, group="wagtail_helpdesk.exports",
                   q_options={"task_name": f"helpdesk-export-{export_id}",
                              "timeout": int(TASK_TIMEOUT.total_seconds())})
    except Exception:
        log.exception("Could not queue export %s", export_id)
        _fail(export_id, Q(status=ExportStatus.QUEUED))


def pending(user):
    return TicketExport.objects.filter(
        requested_by=user, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).count()


def _stale_running(now):
    return Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE)


def retriable(now=None):
    now = now or timezone.now()
    return (Q(status__in=[ExportStatus.QUEUED, ExportStatus.FAILED])
            | (_stale_running(now) & Q(attempts__lt=MAX_ATTEMPTS)))


def claim(export_id, now=None):
    """Mark the export running, if it may be (re)started: the claim's token
    (every later write of the worker is conditional on it), "" when not claimed."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimed = TicketExport.objects.filter(retriable(now), pk=export_id).update(
        status=ExportStatus.RUNNING, started_at=now, progress=0, rows=0, error="",
        claim_token=token, attempts=F("attempts") + 1)
    return token if claimed else ""


def failure_message():
    return _("The export could not be prepared. Try again; if it fails again, tell the "
             "site's administrator.")


def too_long_message():
    return _("The export took too long to be prepared. Narrow the list with its filters and "
             "try again; if it fails again, tell the site's administrator.")


def _fail(export_id, condition, message=failure_message):
    """Mark the export failed (where ``condition`` still holds), with
    ``message`` in its requester's language; True when it was."""
    export = TicketExport.objects.select_related("requested_by").filter(pk=export_id).first()
    if export is None:
        return False
    with translation.override(export.language or operator_language(export.requested_by)):
        text = message()
    return bool(TicketExport.objects.filter(condition, pk=export_id).update(
        status=ExportStatus.FAILED, error=text, finished_at=timezone.now(), claim_token=""))


def list_view(export):
    """The ticket list view as ``export``'s requester saw it (its query string)."""
    from ..admin.tickets.viewset import ticket_viewset

    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(export.query)
    request.user = export.requested_by
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()  # empty
    request.path = request.path_info = reverse("helpdesk_tickets:index")
    request.META["SERVER_NAME"], request.META["SERVER_PORT"] = "localhost", "80"
    function = ticket_viewset.index_view
    view = function.view_class(**function.view_initkwargs)
    view.setup(request)
    return view


def _progress(export, rows, total):
    TicketExport.objects.filter(pk=export.pk, status=ExportStatus.RUNNING,
                                claim_token=export.claim_token).update(
        rows=rows, progress=min(99, rows * 100 // total) if total else 0)


def write(view, export, handle):
    """Write the export's file to ``handle`` (binary); the number of rows."""
    queryset = access.kept_in_file(view.get_export_queryset(), export.requested_by)
    total = queryset.order_by().count()
    if export.format == ExportFormat.XLSX:
        view.write_xlsx(queryset, handle)
        return total
    rows = -1  # the heading line is not a row
    for piece in view.stream_csv(queryset):
        handle.write(piece)
        before, rows = rows, rows + piece.count(b"\n")  # csv ends every row with \r\n
        if rows // PROGRESS_EVERY != max(before, 0) // PROGRESS_EVERY:
            _progress(export, rows, total)
    return max(rows, 0)


def generate(export_id):
    """Prepare the export's file (see the module's docstring). True when done now."""
    token = claim(export_id)
    if not token:
        return False
    export = (TicketExport.objects.select_related("requested_by")
              .filter(pk=export_id, claim_token=token).first())
    if export is None:  # deleted, or taken over, meanwhile
        return False
    mine = Q(status=ExportStatus.RUNNING, claim_token=token)
    try:
        with translation.override(export.language or operator_language(export.requested_by)):
            scope = access.scope_of(export.requested_by)  # what the file will hold
            view = list_view(export)
            with tempfile.TemporaryFile() as handle:
                rows = write(view, export, handle)
                handle.seek(0)
                name = f"{view.get_filename()}.{export.format}"
                export.file.save(name, File(handle, name=name), save=False)
    except (Exception, SystemExit) as exc:  # SystemExit: django-q2's task timeout
        log.exception("Export %s could not be prepared", export_id)
        _fail(export_id, mine,
              too_long_message if isinstance(exc, SystemExit) else failure_message)
        if export.file:
            _delete_file(export.file.storage, export.file.name)
        if isinstance(exc, SystemExit):
            raise
        return False
    finished = TicketExport.objects.filter(mine, pk=export_id).update(
        status=ExportStatus.DONE, progress=100, rows=rows, file=export.file.name,
        finished_at=timezone.now(), claim_token="", **scope)
    if not finished:  # the claim was lost: the file is nobody's
        log.warning("Export %s was taken over or deleted while being prepared", export_id)
        _delete_file(export.file.storage, export.file.name)
        return False
    return True


def sweep(now=None):
    """The scheduled sweeper: queue again the exports no worker has started
    after :data:`QUEUED_STALE` (failed once asked for :data:`GIVE_UP` ago),
    queue again the ones left running by a dead worker (failed after
    :data:`MAX_ATTEMPTS`), delete the ones older than :data:`KEPT` with their
    files. The counts ``{"requeued", "failed", "deleted"}``."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "deleted": 0}
    stale = _stale_running(now)
    for export_id, attempts in (TicketExport.objects.filter(stale)
                                .values_list("pk", "attempts")):
        if attempts >= MAX_ATTEMPTS:
            counts["failed"] += _fail(export_id, stale, too_long_message)
        elif TicketExport.objects.filter(stale, pk=export_id).update(
                status=ExportStatus.QUEUED, claim_token="", progress=0, rows=0,
                queued_at=now):
            _enqueue_now(export_id)
            counts["requeued"] += 1
    forgotten = Q(status=ExportStatus.QUEUED, queued_at__lt=now - QUEUED_STALE)
    for export_id, created_at in (TicketExport.objects.filter(forgotten)
                                  .values_list("pk", "created_at")):
        if created_at < now - GIVE_UP:
            counts["failed"] += _fail(export_id, forgotten)
        elif TicketExport.objects.filter(forgotten, pk=export_id).update(queued_at=now):
            _enqueue_now(export_id)
            counts["requeued"] += 1
    for old in TicketExport.objects.filter(created_at__lt=now - KEPT).iterator():
        delete_export(old)
        counts["deleted"] += 1
    if any(counts.values()):
        log.info("Ticket exports swept: %s", counts)
    return counts


def _delete_file(storage, name):
    try:
        storage.delete(name)
    except Exception:  # a file left behind is logged, not fatal
        log.exception("Could not delete the export file %s", name)


def delete_export(export):
    """Delete ``export`` and its file (the file at once; the row's deletion
    would delete it too, once committed)."""
    if export.file:
        _delete_file(export.file.storage, export.file.name)
    export.delete()
