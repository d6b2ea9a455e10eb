"""The monthly overview by e-mail: on the first days of every month, last
month's overview for each active subscription, and an e-mail with a link to
its download page (the file itself never travels by e-mail).

One e-mail per user and month, even when the job runs twice, on two workers
at once, or crashes between steps:

* the subscription row is locked while its month's overview is found or
  created (one overview per subscription and month);
* ``last_month`` is set in the same transaction that queues the e-mail, and
  the e-mail's outbox row has a key made of the user and the month, so it
  cannot be queued twice;
* a job run finds the month's overview in whatever state a crash left it:
  queued or failed (generated again), done (the e-mail is queued now).

The e-mail goes through the notification outbox like the operators' daily
summaries (template ``operator/monthly_overview``).
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ..admin.metrics import local_date
from ..formats import format_date
from ..models import (
    Notification,
    NotificationChannel,
    Office,
    Overview,
    OverviewStatus,
    OverviewSubscription,
)
from ..notifications.email import _absolute
from ..permissions import office_ids_for, ticket_policy
from ..services import notify
from . import tasks

log = logging.getLogger(__name__)

MONTHLY = "wagtail_helpdesk.overviews.mail.monthly_overviews"
TEMPLATE = "operator/monthly_overview"


def last_month(today):
    """(first day, last day) of the month before ``today``'s."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def may_subscribe(user):
    return user.is_active and ticket_policy().user_has_permission(user, "dashboard")


def scope_for(subscription):
    """(all_offices, offices) the subscriber may still see of what they chose."""
    user, policy = subscription.user, ticket_policy()
    if policy.sees_all_offices(user):
        if subscription.all_offices:
            return True, []
        return False, list(subscription.offices.all())
    mine = office_ids_for(user)
    chosen = (mine if subscription.all_offices
              else set(subscription.offices.values_list("pk", flat=True)) & mine)
    return False, list(Office.objects.filter(pk__in=chosen).order_by("name"))


def dedup_key(user, month):
    return notify._key(f"monthly-overview:{user.pk}:{month.isoformat()}", TEMPLATE,
                       NotificationChannel.EMAIL, user.email)


def overview_link(overview_id):
    try:
        path = reverse("wagtail_helpdesk_overviews")
    except NoReverseMatch:
        return ""
    return _absolute(f"{path}#overview-{overview_id}", admin=True)


def send_link(subscription_id, overview_id, now=None):
    """Queue the e-mail about the subscription's done overview, once per
    month; returns the notification, or None."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = (OverviewSubscription.objects.select_for_update()
                        .select_related("user").filter(pk=subscription_id, active=True).first())
        overview = Overview.objects.filter(pk=overview_id, subscription_id=subscription_id,
                                           status=OverviewStatus.DONE).first()
        if subscription is None or overview is None:
            return None
        month, user = overview.period_start, subscription.user
        if subscription.last_month and subscription.last_month >= month:
            return None
        subscription.last_month = month
        subscription.save(update_fields=["last_month"])
        if not user.email or not may_subscribe(user):
            return None
        key = dedup_key(user, month)
        if Notification.objects.filter(dedup_key=key).exists():
            return None
        return notify._create(
            key, ticket=None, event=None, template=TEMPLATE, address=user.email, user=user,
            citizen=None, language=notify.operator_language(user),
            channel=NotificationChannel.EMAIL, when=now,
            payload={"overview": overview.pk, "month": month.isoformat(),
                     "start": format_date(overview.period_start),
                     "end": format_date(overview.period_end),
                     "link": overview_link(overview.pk)})


def prepare(subscription_id, month, month_end, now):
    """The month's overview of the subscription (found or created, under the
    subscription's lock), or None when there is nothing to do."""
    with transaction.atomic():
        subscription = (OverviewSubscription.objects.select_for_update()
                        .select_related("user").filter(pk=subscription_id, active=True).first())
        if subscription is None or (subscription.last_month
                                    and subscription.last_month >= month):
            return None
        if not may_subscribe(subscription.user):
            return None
        overview = Overview.objects.filter(subscription=subscription, period_start=month,
                                           period_end=month_end).order_by("pk").first()
        if overview is None:
            all_offices, offices = scope_for(subscription)
            if not all_offices and not offices:
                return None
            overview = tasks.request_overview(subscription.user, month, month_end, offices,
                                              all_offices, subscription=subscription)
            return overview
        if Overview.objects.filter(tasks.retriable(now), pk=overview.pk).exists():
            tasks.queue(overview.pk)
        return overview


def monthly_overviews(now=None):
    """The scheduled job (daily): last month's overview for every active
    subscription not served yet. Returns how many overviews it looked after."""
    now = now or timezone.now()
    month, month_end = last_month(local_date(now))
    due = (OverviewSubscription.objects.filter(active=True, user__is_active=True)
           .exclude(last_month__gte=month).order_by("pk").values_list("pk", flat=True))
    handled = 0
    for subscription_id in list(due):
        try:
            overview = prepare(subscription_id, month, month_end, now)
        except Exception:
            log.exception("Monthly overview of subscription %s", subscription_id)
            continue
        if overview is None:
            continue
        handled += 1
        if overview.status == OverviewStatus.DONE:
            send_link(subscription_id, overview.pk, now)
    return handled


def subscribe(user, active, *, all_offices=False, offices=(), today=None):
    """Switch the user's monthly e-mail on or off. A new subscription
    starts with the current month: its first e-mail comes next month."""
    today = today or local_date(timezone.now())
    subscription, created = OverviewSubscription.objects.get_or_create(
        user=user, defaults={"active": active, "all_offices": all_offices,
                             "last_month": last_month(today)[0]})
    if not created:
        if active and not subscription.active:
            subscription.last_month = max(subscription.last_month or date.min,
                                          last_month(today)[0])
        subscription.active, subscription.all_offices = active, all_offices
        subscription.save(update_fields=["active", "all_offices", "last_month"])
    subscription.offices.set([] if all_offices else list(offices))
    return subscription
