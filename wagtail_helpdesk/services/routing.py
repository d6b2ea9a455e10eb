"""Automatic assignment (round robin) and @mentions in private notes.

Called from inside other services' transactions, never on their own.
"""

import re

from django.contrib.auth import get_user_model
from django.db.models import F, Q

from .. import workflow
from ..errors import HelpdeskError
from ..models import EventKind, OfficeMembership
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


def mentioned_users(ticket, body, author):
    """The colleagues an ``@username`` in ``body`` names who may see the ticket
    (at most :data:`MAX_MENTIONS`)."""
    names = sorted({m.lower().rstrip(".") for m in MENTION.findall(body or "")})[:MAX_MENTIONS]
    if not names:
        return []
    User = get_user_model()
    query = Q()
    for name in names:
        query |= Q(**{f"{User.USERNAME_FIELD}__iexact": name})
    policy = ticket_policy()
    return [
        u for u in User.objects.filter(query, is_active=True).order_by("pk")
        if u.pk != getattr(author, "pk", None)
        and policy.user_has_permission_for_instance(u, "view", ticket)
    ]
