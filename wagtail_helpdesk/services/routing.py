"""Automatic assignment (round robin), and how @mentions in private notes are
written (:data:`MENTION`, at most :data:`MAX_MENTIONS`).

Called from inside other services' transactions, never on their own.
"""

import re

from django.db.models import F

from .. import workflow
from ..errors import HelpdeskError
from ..models import Channel, EventKind, OfficeMembership
from ..permissions import ticket_policy
from ..workflow import Action, Status
from . import core, notify, presence
from .actors import SYSTEM

MENTION = re.compile(r"(?<![\w.@])@([\w.+-]{1,150})")
MAX_MENTIONS = 10


def auto_assign(ticket, now):
    """Hand a new ticket of an office with automatic assignment to the
    available member who got one least recently. Nobody available: the ticket
    stays in the queue. Returns the assignee or None.

    The membership rows are locked, so two tickets submitted at once go to two
    different operators.
    """
    office = ticket.office
    if office is None or not office.auto_assign or ticket.status != Status.NEW:
        return None
    if ticket.channel == Channel.CHAT:
        return None  # its conversation's queue decides who takes it
    candidates = (
        OfficeMembership.objects.select_for_update()
        .filter(office=office, user__is_active=True)
        .filter(presence.available_q("user__", now))
        .select_related("user")
        .order_by(F("last_auto_assigned_at").asc(nulls_first=True), "pk")
    )
    policy = ticket_policy()
    for membership in candidates:
        user = membership.user
        if not policy.user_has_permission_for_instance(user, "change", ticket):
            continue
        try:
            ticket.status = workflow.check(ticket, Action.ASSIGN, assignee_id=user.pk)
        except HelpdeskError:
            return None
        ticket.assignee = user
        core.save(ticket, ["status", "assignee"], now)
        event = core.record(ticket, EventKind.ASSIGNED, SYSTEM, now=now,
                            data={"from": None, "to": user.pk, "automatic": True})
        membership.last_auto_assigned_at = now
        membership.save(update_fields=["last_auto_assigned_at"])
        notify.operator(ticket, event, "assigned", user)
        return user
    return None
