"""The list's queues ("tabs"): each is a filter on the tickets a user may see."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..models import TicketConsult
from ..workflow import OPEN_STATUSES, Status


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str

    def q(self, user):
        return QUEUE_FILTERS[self.slug](user)


QUEUE_FILTERS = {
    "pending": lambda user: Q(status=Status.NEW, assignee__isnull=True),
    "mine": lambda user: Q(assignee=user, status__in=OPEN_STATUSES),
    "others": lambda user: Q(status__in=OPEN_STATUSES, assignee__isnull=False) & ~Q(assignee=user),
    "waiting": lambda user: Q(status=Status.WAITING),
    "closed": lambda user: Q(status=Status.RESOLVED),
    "drafts": lambda user: Q(status=Status.DRAFT, created_by=user),
    # Other offices' tickets shared with the user for a consult.
    "consults": lambda user: Q(pk__in=TicketConsult.objects.filter(consultant=user)
                               .values("ticket_id")),
    "all": lambda user: ~Q(status=Status.DRAFT),
}

QUEUES = [
    Queue("pending", _("Pending")),
    Queue("mine", _("Assigned to me")),
    Queue("others", _("Assigned to other operators")),
    Queue("waiting", _("Waiting for the citizen")),
    Queue("closed", _("Closed")),
    Queue("drafts", _("My drafts")),
    Queue("consults", _("Shared with me")),
    Queue("all", _("All")),
]
BY_SLUG = {queue.slug: queue for queue in QUEUES}
DEFAULT = "pending"
