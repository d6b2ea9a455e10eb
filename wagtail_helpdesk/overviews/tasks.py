"""Generating an overview in the background (django-q2).

:func:`request_overview` creates the row and queues :func:`generate` once the
transaction commits. :func:`generate` is idempotent: it claims the row (queued,
failed, or left "running" by a worker that died more than ``STALE`` ago) with
one conditional UPDATE, so a done overview is never generated again and two
workers never generate the same one; it writes its progress to the row, saves
the PDF and the XLSX to the private storage, and on an error marks the row
failed with a translated message (the traceback goes to the log only).
"""

import logging
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import Overview, OverviewStatus
from ..services.core import helpdesk_settings
from ..services.notify import operator_language
from . import figures as figures_module
from .pdf import overview_pdf
from .xlsx import overview_xlsx

log = logging.getLogger(__name__)

GENERATE = "wagtail_helpdesk.overviews.tasks.generate"
#: A "running" overview not finished after this long was left by a dead worker.
STALE = timedelta(minutes=30)


def request_overview(user, start, end, offices=(), all_offices=False, subscription=None):
    """A new queued overview of ``start``–``end``; generated once the transaction commits."""
    with transaction.atomic():
        overview = Overview.objects.create(period_start=start, period_end=end,
                                           all_offices=all_offices, requested_by=user,
                                           subscription=subscription)
        if not all_offices:
            overview.offices.set(list(offices))
        queue(overview.pk)
    return overview


def queue(overview_id):
    """Queue :func:`generate` for ``overview_id`` on commit."""
    transaction.on_commit(lambda: _enqueue_now(overview_id))


def _enqueue_now(overview_id):
    from django_q.tasks import async_task

    try:
        async_task(GENERATE, overview_id, group="wagtail_helpdesk.overviews",
                   q_options={"task_name": f"helpdesk-overview-{overview_id}"})
    except Exception:
        log.exception("Could not queue overview %s; it can be retried from its page.",
                      overview_id)
        overview = Overview.objects.select_related("requested_by").filter(
            pk=overview_id, status=OverviewStatus.QUEUED).first()
        if overview is not None:
            with translation.override(language_for(overview)):
                message = failure_message()
            Overview.objects.filter(pk=overview_id, status=OverviewStatus.QUEUED).update(
                status=OverviewStatus.FAILED, error=message, finished_at=timezone.now())


def retriable(now=None):
    """The overviews :func:`generate` may (re)start."""
    now = now or timezone.now()
    return (Q(status__in=[OverviewStatus.QUEUED, OverviewStatus.FAILED])
            | Q(status=OverviewStatus.RUNNING, started_at__lt=now - STALE))


def stuck(now=None):
    """The overviews a user may start again from the page: failed ones,
    "running" ones left by a dead worker, and queued ones whose job never
    ran within ``STALE`` of being queued (``started_at`` of a queued row is
    when it was last queued again, else ``created_at``)."""
    now = now or timezone.now()
    limit = now - STALE
    return (Q(status=OverviewStatus.FAILED)
            | Q(status=OverviewStatus.RUNNING, started_at__lt=limit)
            | Q(status=OverviewStatus.QUEUED, started_at__isnull=True, created_at__lt=limit)
            | Q(status=OverviewStatus.QUEUED, started_at__lt=limit))


def is_stuck(overview, now=None):
    """:func:`stuck` for a loaded row."""
    limit = (now or timezone.now()) - STALE
    if overview.status == OverviewStatus.FAILED:
        return True
    if overview.status == OverviewStatus.RUNNING:
        return overview.started_at is not None and overview.started_at < limit
    if overview.status == OverviewStatus.QUEUED:
        return (overview.started_at or overview.created_at) < limit
    return False


def retry(overview_id, now=None):
    """Queue a stuck overview again; True when it was stuck."""
    now = now or timezone.now()
    again = Overview.objects.filter(stuck(now), pk=overview_id).update(
        status=OverviewStatus.QUEUED, progress=0, error="", started_at=now)
    if again:
        queue(overview_id)
    return bool(again)


def pending(user):
    """How many of ``user``'s overviews are queued or running (stuck ones
    not counted: they wait for a retry)."""
    return (Overview.objects.filter(requested_by=user,
                                    status__in=[OverviewStatus.QUEUED, OverviewStatus.RUNNING])
            .exclude(stuck()).count())


def claim(overview_id, now=None):
    """Mark the overview running, if it may be (re)started; True when claimed."""
    now = now or timezone.now()
    return bool(Overview.objects.filter(retriable(now), pk=overview_id).update(
        status=OverviewStatus.RUNNING, started_at=now, progress=0, error=""))


def set_progress(overview_id, percent):
    Overview.objects.filter(pk=overview_id, status=OverviewStatus.RUNNING).update(
        progress=min(max(int(percent), 0), 99))


def municipality():
    settings_ = helpdesk_settings()
    if settings_.sender_name:
        return settings_.sender_name
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return (site.site_name if site and site.site_name else "") or _("Municipality")


def language_for(overview):
    """The requester's language (Italian by default)."""
    if overview.requested_by is not None:
        return operator_language(overview.requested_by)
    return get_setting("DEFAULT_LANGUAGE")


def failure_message():
    """The error stored on a failed overview (in the active language)."""
    return _("The overview could not be generated. Try again; if it fails again, "
             "tell the site's administrator.")


def _remove_files(overview):
    for field in (overview.pdf, overview.xlsx):
        if field:
            field.delete(save=False)


def generate(overview_id):
    """Generate the overview's files (see the module's docstring). Returns
    True when it generated them now."""
    if not claim(overview_id):
        return False
    overview = Overview.objects.select_related("requested_by").get(pk=overview_id)
    try:
        with translation.override(language_for(overview)):
            data = figures_module.overview_figures(
                overview, progress=lambda p: set_progress(overview_id, p))
            pdf = overview_pdf(data, municipality())
            set_progress(overview_id, 80)
            xlsx = overview_xlsx(data)
            set_progress(overview_id, 90)
            _remove_files(overview)  # a retried one: no orphan files
            stem = f"{overview.period_start:%Y%m%d}-{overview.period_end:%Y%m%d}"
            overview.pdf.save(f"{stem}.pdf", ContentFile(pdf), save=False)
            overview.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx), save=False)
    except Exception:
        log.exception("Overview %s could not be generated", overview_id)
        _remove_files(overview)  # a file saved before the error: no orphan
        with translation.override(language_for(overview)):
            message = failure_message()
        Overview.objects.filter(pk=overview_id).update(
            status=OverviewStatus.FAILED, error=message, finished_at=timezone.now())
        return False
    Overview.objects.filter(pk=overview_id).update(
        status=OverviewStatus.DONE, progress=100, pdf=overview.pdf.name,
        xlsx=overview.xlsx.name, finished_at=timezone.now())
    if overview.subscription_id:
        from . import mail

        mail.send_link(overview.subscription_id, overview_id)
    return True


def delete_overview(overview):
    """Delete the overview and its files."""
    _remove_files(overview)
    overview.delete()
