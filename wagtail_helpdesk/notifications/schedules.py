"""The app's periodic jobs in django-q2's scheduler, created (or brought up
to date) idempotently after every ``migrate``; ``qcluster`` runs them."""

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS

from ..conf import get_setting
from . import jobs, tasks

PREFIX = "wagtail_helpdesk: "


def wanted():
    """{name: fields} of the schedules the app needs."""
    from django_q.models import Schedule

    return {
        f"{PREFIX}outbox sweeper": {
            "func": tasks.SWEEP, "schedule_type": Schedule.MINUTES,
            "minutes": int(get_setting("NOTIFY_SWEEP_MINUTES")), "repeats": -1,
        },
        f"{PREFIX}deadline reminders": {
            "func": jobs.SLA_WARNINGS, "schedule_type": Schedule.HOURLY, "repeats": -1,
        },
        f"{PREFIX}daily summaries": {
            "func": jobs.DAILY_DIGESTS, "schedule_type": Schedule.HOURLY, "repeats": -1,
        },
        f"{PREFIX}resolve tickets left waiting": {
            "func": jobs.AUTO_RESOLVE, "schedule_type": Schedule.DAILY, "repeats": -1,
        },
        f"{PREFIX}expire citizens' drafts": {
            "func": jobs.EXPIRE_DRAFTS, "schedule_type": Schedule.DAILY, "repeats": -1,
        },
        f"{PREFIX}retention": {
            "func": jobs.RETENTION, "schedule_type": Schedule.DAILY, "repeats": -1,
        },
        f"{PREFIX}inbound mail": {
            "func": "wagtail_helpdesk.inbound.tasks.poll", "schedule_type": Schedule.MINUTES,
            "minutes": int(get_setting("INBOUND_POLL_MINUTES")), "repeats": -1,
        },
        f"{PREFIX}ai embeddings": {
            "func": "wagtail_helpdesk.ai.tasks.embed_missing", "schedule_type": Schedule.MINUTES,
            "minutes": 5, "repeats": -1,
        },
        # Last month's overview to the subscribers: daily, so the first days
        # of the month catch up when a run was missed; each month once.
        f"{PREFIX}monthly overviews": {
            "func": "wagtail_helpdesk.overviews.mail.monthly_overviews",
            "schedule_type": Schedule.DAILY, "repeats": -1,
        },
        # The supervisors' dashboard's closed days (insight/daily.py): a day
        # just closed and the days touched by changes, ready before anyone asks.
        f"{PREFIX}dashboard daily figures": {
            "func": "wagtail_helpdesk.insight.daily.refresh", "schedule_type": Schedule.HOURLY,
            "repeats": -1,
        },
        # Ticket list exports (exports/tasks.py): lost or dead workers' ones
        # queued again or failed, and the old ones deleted with their files.
        f"{PREFIX}ticket exports sweeper": {
            "func": "wagtail_helpdesk.exports.tasks.sweep", "schedule_type": Schedule.MINUTES,
            "minutes": 10, "repeats": -1,
        },
        f"{PREFIX}live chat queues": {
            "func": jobs.CHAT_QUEUES, "schedule_type": Schedule.MINUTES, "minutes": 1,
            "repeats": -1,
        },
    }


def ensure_schedules(using=DEFAULT_DB_ALIAS, **kwargs):
    """Create or update the app's schedules (nothing when django-q2 is absent)."""
    if not apps.is_installed("django_q"):
        return []
    from django_q.models import Schedule

    names = []
    for name, fields in wanted().items():
        Schedule.objects.using(using).update_or_create(name=name, defaults=fields)
        names.append(name)
    return names
