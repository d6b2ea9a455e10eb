"""What the demo shows of the overviews (resoconti): the demo supervisor
("responsabile") subscribed to the monthly e-mail, and last month's overview
of their offices, generated here synchronously so it is ready to download.

The subscription counts last month as served (``last_month``): the demo's
history is in the past, and the first e-mail goes out at the start of next
month like for any new subscriber.
"""

from ..admin.metrics import local_date
from ..models import Overview, OverviewStatus, OverviewSubscription
from ..overviews import mail, tasks


def _supervisor(world):
    """The demo supervisor: the first user supervising an office."""
    for office_id in sorted(world.supervisors):
        if world.supervisors[office_id]:
            return world.supervisors[office_id][0]
    return None


def build(world, now):
    """Create the subscription and last month's overview; return how many
    objects were made (0 when there is no supervisor or they already exist)."""
    boss = _supervisor(world)
    if boss is None:
        return 0
    start, end = mail.last_month(local_date(now))
    made = 0
    subscription, created = OverviewSubscription.objects.get_or_create(
        user=boss, defaults={"all_offices": True, "last_month": start})
    made += created
    if Overview.objects.filter(subscription=subscription, period_start=start,
                               status=OverviewStatus.DONE).exists():
        return made
    offices = [office for office in world.offices.values()
               if boss in world.members.get(office.pk, [])]
    overview = Overview.objects.create(period_start=start, period_end=end, requested_by=boss,
                                       subscription=subscription, created_at=now)
    overview.offices.set(offices)
    tasks.generate(overview.pk)
    return made + 1
