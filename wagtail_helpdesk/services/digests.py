"""The operators' daily summary of new tickets in their offices (for those
who chose it, the default; see :class:`~wagtail_helpdesk.models.OperatorPreferences`).

Each summary covers the period since the previous one, recorded on the
operator's preferences row under a lock, so running the job twice, or on two
workers at once, never sends a summary twice nor skips a ticket.
"""

from datetime import timedelta

from django.db import transaction

from ..models import NewTicketMail, OfficeMembership, OperatorPreferences
from ..tickets.queries import visible_tickets
from ..workflow import Status
from . import notify

#: Tickets listed in one summary (the total says how many there were).
LISTED = 50


def send_daily(user, until, now):
    """Queue ``user``'s summary of the tickets submitted in their offices
    (those they may see) since their previous summary, up to ``until`` (a
    week at most); nothing when there were none, nor on the first run, which
    only starts the count. Returns the notification, or None."""
    with transaction.atomic():
        preferences, _created = (OperatorPreferences.objects.select_for_update()
                                 .get_or_create(user=user))
        if preferences.new_tickets != NewTicketMail.DAILY:
            return None
        if preferences.digest_until and preferences.digest_until >= until:
            return None  # already summed up
        previous, preferences.digest_until = preferences.digest_until, until
        preferences.save(update_fields=["digest_until"])
        if previous is None:
            return None  # the first run starts the count: summaries from the next period
        since = max(previous, until - timedelta(days=7))  # back from a long pause: a week
        offices = OfficeMembership.objects.filter(user=user).values("office_id")
        new = (visible_tickets(user)
               .filter(office__in=offices, submitted_at__gte=since, submitted_at__lt=until)
               .exclude(status=Status.DRAFT))
        listed = list(new.order_by("submitted_at", "pk").values_list("pk", flat=True)[:LISTED])
        if not listed:
            return None
        total = len(listed) if len(listed) < LISTED else new.count()
        return notify.daily_digest(user, listed, total, since, until, now)
