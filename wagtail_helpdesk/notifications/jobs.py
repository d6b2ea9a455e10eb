"""The scheduled jobs (django-q2 tasks; see :mod:`.schedules`): they pick the
tickets, the services layer changes them."""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from ..conf import get_setting
from ..errors import HelpdeskError
from ..models import Channel, Citizen, NewTicketMail, ResolutionType, Ticket
from ..services import digests, reminders
from ..services.actors import SYSTEM
from ..services.creation import delete_draft
from ..services.erasure import erase_for_retention
from ..workflow import Status

log = logging.getLogger(__name__)

SLA_WARNINGS = "wagtail_helpdesk.notifications.jobs.sla_warnings"
AUTO_RESOLVE = "wagtail_helpdesk.notifications.jobs.auto_resolve_waiting"
RETENTION = "wagtail_helpdesk.notifications.jobs.retention"
EXPIRE_DRAFTS = "wagtail_helpdesk.notifications.jobs.expire_drafts"
DAILY_DIGESTS = "wagtail_helpdesk.notifications.jobs.daily_digests"
CHAT_QUEUES = "wagtail_helpdesk.notifications.jobs.chat_queues"


def in_chunks(queryset, size=500):
    """The rows of ``queryset``, read a chunk at a time by primary key, each
    chunk fully fetched before its rows are worked on: no database cursor is
    held open while the work commits and queues tasks (django-q2's ORM
    broker closes the connection when it enqueues outside a transaction)."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        chunk = list(page[:size])
        yield from chunk
        if len(chunk) < size:
            return
        last = chunk[-1].pk


def sla_warnings(now=None):
    """Remind assignees of deadlines within ``SLA_WARNING_HOURS``; returns how
    many. Deadlines passed more than an hour ago are not "about to expire"
    any more (the list shows them as overdue): skipped, so the hourly run
    does not revisit every overdue ticket."""
    hours = int(get_setting("SLA_WARNING_HOURS") or 0)
    if not hours:
        return 0
    now = now or timezone.now()
    due = Ticket.objects.filter(status__in=reminders.WARNED_STATUSES, assignee__isnull=False,
                                due_at__gt=now - timedelta(hours=1),
                                due_at__lte=now + timedelta(hours=hours))
    return sum(1 for ticket in in_chunks(due.only("pk")) if reminders.warn_sla(ticket, now))


def auto_resolve_waiting(now=None):
    """Resolve tickets waiting for the citizen with no activity for
    ``AUTO_RESOLVE_WAITING_DAYS`` days (off unless set); returns how many."""
    days = get_setting("AUTO_RESOLVE_WAITING_DAYS")
    if not days:
        return 0
    slug = get_setting("AUTO_RESOLVE_RESOLUTION_TYPE")
    resolution_type = ResolutionType.objects.filter(slug=slug, active=True).first()
    if resolution_type is None:
        log.error("AUTO_RESOLVE_RESOLUTION_TYPE %r is not an active resolution type", slug)
        return 0
    now = now or timezone.now()
    stale = Ticket.objects.filter(status=Status.WAITING,
                                  last_activity_at__lt=now - timedelta(days=int(days)))
    count = 0
    for ticket in in_chunks(stale.select_related("citizen")
                                   .only("pk", "citizen__language")):
        try:
            reminders.auto_resolve(ticket, resolution_type, int(days))
            count += 1
        except HelpdeskError as exc:  # changed meanwhile: it is no longer ours to close
            log.info("Ticket %s not resolved automatically: %s", ticket.pk, exc)
    return count


#: A summary's period ends this long before the job reads it: a ticket whose
#: transaction was still committing at the hour is in it, not lost between two.
DIGEST_GRACE = timedelta(minutes=2)


def digest_time(now):
    """The latest ``NOTIFY_DIGEST_HOUR`` o'clock (local time) not after ``now``:
    the end of the period the daily summaries cover."""
    local = timezone.localtime(now)
    cut = local.replace(hour=int(get_setting("NOTIFY_DIGEST_HOUR")), minute=0, second=0,
                        microsecond=0)
    return cut if cut <= local else cut - timedelta(days=1)


def daily_digests(now=None):
    """Queue the daily summaries of new tickets, once the day's hour has come
    (the job runs hourly); returns how many were queued."""
    now = now or timezone.now()
    until = digest_time(now - DIGEST_GRACE)
    operators = (get_user_model().objects
                 .filter(is_active=True, helpdesk_memberships__isnull=False)
                 .exclude(email="")
                 .filter(Q(helpdesk_preferences__isnull=True)
                         | Q(helpdesk_preferences__new_tickets=NewTicketMail.DAILY,
                             helpdesk_preferences__digest_until__isnull=True)
                         | Q(helpdesk_preferences__new_tickets=NewTicketMail.DAILY,
                             helpdesk_preferences__digest_until__lt=until))
                 .select_related("wagtail_userprofile").distinct())
    return sum(1 for user in in_chunks(operators) if digests.send_daily(user, until, now))


def retention(now=None):
    """Erase the personal data of citizens whose tickets were all resolved
    more than ``RETENTION_YEARS`` years ago (off unless set); returns how many.
    Citizens with any open, draft or recent ticket are left alone."""
    years = get_setting("RETENTION_YEARS")
    if not years:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=365 * int(years))
    keep = Ticket.objects.filter(~Q(status=Status.RESOLVED) | Q(resolved_at__gte=cutoff))
    citizens = (Citizen.objects.filter(erased_at__isnull=True, tickets__isnull=False)
                .exclude(pk__in=keep.filter(citizen__isnull=False).values("citizen_id"))
                .distinct())
    count = 0
    for citizen in in_chunks(citizens):
        try:
            erase_for_retention(citizen, years)
            count += 1
        except HelpdeskError as exc:  # erased meanwhile
            log.info("Citizen %s not erased by retention: %s", citizen.pk, exc)
    return count


def expire_drafts(now=None):
    """Delete citizens' web drafts (and their files) nobody touched for
    ``DRAFT_EXPIRY_DAYS`` days (None: kept); returns how many."""
    days = get_setting("DRAFT_EXPIRY_DAYS")
    if not days:
        return 0
    now = now or timezone.now()
    stale = Ticket.objects.filter(status=Status.DRAFT, channel=Channel.WEB,
                                  opened_by_citizen=True,
                                  updated_at__lt=now - timedelta(days=int(days)))
    count = 0
    for draft in in_chunks(stale.only("pk")):
        try:
            delete_draft(draft, SYSTEM)
            count += 1
        except HelpdeskError as exc:  # sent or deleted meanwhile
            log.info("Draft %s not expired: %s", draft.pk, exc)
    return count


def chat_queues(now=None):
    """The live chat's minute: conversations of operators gone offline or not
    answering go back to their queue, and automatic queues hand out what
    waits (:func:`~wagtail_helpdesk.services.chatrouting.housekeeping`)."""
    from ..services.chatrouting import housekeeping

    back, out = housekeeping(now)
    return {"handed_back": back, "handed_out": out}
