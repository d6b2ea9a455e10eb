"""The chat queue: atomic claims within the operator's capacity, handing a
conversation back, transfers. Exposed by :mod:`.conversations`.

A claim is one conditional UPDATE (``state = waiting`` → ``active``): of two
operators accepting the same conversation exactly one changes a row. Each
operator's claims are serialised by a lock on their user row, so the count
of the conversations they hold, read after it, cannot be outrun: capacity
(``CHAT_CAPACITY``) is never exceeded, however many accepts run at once.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .. import workflow
from ..conf import get_setting
from ..conversations import groups
from ..errors import GuardFailed
from ..formats import person_name
from ..models import Conversation, EventKind, Presence, Visibility
from ..models.conversations import HELD_STATES
from ..permissions import office_ids_for, ticket_policy
from ..workflow import OPEN_STATUSES, Action
from . import core, presence
from .actions import transfer as transfer_ticket
from .actors import SYSTEM, is_operator
from .chatbase import State, dispatch_on_commit, end_participations, lock, may_work, notice


def _lock_operator(operator):
    """Serialise this operator's claims (until the transaction ends)."""
    list(get_user_model().objects.select_for_update().filter(pk=operator.pk)
         .values_list("pk", flat=True))


def held(operator):
    """How many conversations ``operator`` holds (active or in wrap-up)."""
    return Conversation.objects.filter(operator=operator, state__in=HELD_STATES).count()


def _check_capacity(operator):
    capacity = get_setting("CHAT_CAPACITY")
    if held(operator) >= capacity:
        raise GuardFailed(_("You already hold %(count)d conversations, your maximum: close one "
                            "before accepting another.") % {"count": capacity})


def _claim(conversation, operator, now, automatic=False):
    """Claim ``conversation`` as the operator checked it (its queue, its
    ticket): locked again, the permission checked again on the locked ticket,
    and the conditional update names the queue checked, so that a transfer
    landing in between wins over a claim for the old queue."""
    checked_office = conversation.office_id
    c = lock(conversation)
    if c.state in HELD_STATES:
        raise GuardFailed(_("Another operator has already accepted this conversation."))
    if c.state != State.WAITING:
        raise GuardFailed(_("This conversation is no longer waiting for an operator."))
    if c.office_id != checked_office or not may_work(operator, c.ticket):
        raise PermissionDenied(_("You cannot work on the tickets of this office."))
    won = Conversation.objects.filter(pk=c.pk, state=State.WAITING,
                                      office_id=checked_office).update(
        state=State.ACTIVE, operator=operator, accepted_at=now, updated_at=now)
    if not won:  # only without row locks (SQLite serialises writers instead)
        raise GuardFailed(_("Another operator has already accepted this conversation."))
    c.state, c.operator, c.accepted_at, c.updated_at = State.ACTIVE, operator, now, now
    t = core.lock(c.ticket)
    previous = t.assignee_id
    if previous != operator.pk:
        t.status = workflow.check(t, Action.TAKE_CHARGE, actor_id=operator.pk)
        t.assignee = operator
        core.save(t, ["status", "assignee"], now)
        if previous:
            core.record(t, EventKind.ASSIGNED, operator, now=now,
                        data={"from": previous, "to": operator.pk})
    c.ticket = t
    data = {"conversation": c.pk, "waited": int((now - c.queued_at).total_seconds())}
    if automatic:
        data["automatic"] = True
    core.record(t, EventKind.CHAT_JOINED, operator, now=now, visibility=Visibility.PUBLIC,
                data=data)
    notice(c, "joined", now, operator)
    groups.announce(c, queues=[c.office_id], operators=[operator.pk])
    return c


def accept(conversation, operator, *, automatic=False):
    """The operator accepts a waiting conversation of a queue they work on
    (``automatic``: handed to them by the queue's routing)."""
    if not is_operator(operator):
        raise PermissionDenied(_("Only an operator can accept a conversation."))
    now = core.now()
    with transaction.atomic():
        _lock_operator(operator)
        current = lock(conversation)  # read locked: no transfer slips in before the claim
        if not may_work(operator, current.ticket):
            raise PermissionDenied(_("You cannot work on the tickets of this office."))
        _check_capacity(operator)
        return _claim(current, operator, now, automatic)


def accept_next(operator):
    """Accept the longest-waiting conversation of the operator's queues (rows
    another claim or a ticket change is locking are skipped, and so are
    conversations whose ticket is no longer open); None when nothing waits."""
    if not is_operator(operator):
        raise PermissionDenied(_("Only an operator can accept a conversation."))
    now = core.now()
    with transaction.atomic():
        _lock_operator(operator)
        _check_capacity(operator)
        waiting = Conversation.objects.filter(state=State.WAITING,
                                              ticket__status__in=OPEN_STATUSES)
        if not ticket_policy().sees_all_offices(operator):
            waiting = waiting.filter(office_id__in=office_ids_for(operator))
        # One row only: FOR UPDATE locks every row the query returns. The
        # ticket is locked with it (the lock order: ticket, then conversation),
        # without waiting for either.
        candidate = (waiting.select_for_update(skip_locked=True, of=("self", "ticket"))
                     .select_related("ticket").order_by("queued_at", "pk").first())
        if candidate is None or not may_work(operator, candidate.ticket):
            return None
        return _claim(candidate, operator, now)


def _may_hand_back(actor, c):
    if actor is SYSTEM:
        return True
    if not is_operator(actor):
        return False
    if actor.pk == c.operator_id:
        return True
    return ticket_policy().user_has_permission(actor, "dashboard") and may_work(actor, c.ticket)


def release(conversation, actor, *, reason="left"):
    """The operator leaves (or went offline: ``SYSTEM``, ``reason="offline"``;
    or a supervisor hands it back): the conversation goes back to its queue."""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        if c.state != State.ACTIVE:
            raise GuardFailed(_("This conversation is not active."))
        if not _may_hand_back(actor, c):
            raise PermissionDenied(_("You cannot hand back this conversation."))
        previous = c.operator
        c.state, c.operator, c.queued_at, c.updated_at = State.WAITING, None, now, now
        c.save(update_fields=["state", "operator", "queued_at", "updated_at"])
        core.record(c.ticket, EventKind.CHAT_LEFT, actor, now=now, visibility=Visibility.PUBLIC,
                    data={"conversation": c.pk, "operator": previous.pk, "reason": reason})
        notice(c, "left", now, previous)
        # The colleagues the operator brought in leave with them: the next
        # operator starts afresh (and a supervisor monitors them only anew).
        colleagues = end_participations(c, now)
        groups.announce(c, queues=[c.office_id], operators=[previous.pk, *colleagues])
        dispatch_on_commit([c.office_id])
    return c


def requeue_absent(now=None):
    """Hand back the active conversations of operators now offline (a
    scheduled job). Returns the conversations put back in their queues."""
    active = list(Conversation.objects.filter(state=State.ACTIVE)
                  .values_list("pk", "operator_id"))
    statuses = presence.for_users({op for _, op in active}, now)
    released = []
    for pk, operator_id in active:
        if statuses[operator_id] != Presence.OFFLINE:
            continue
        try:
            released.append(release(Conversation(pk=pk), SYSTEM, reason="offline"))
        except GuardFailed:
            continue  # it changed meanwhile
    return released


def hand_over(conversation, operator, colleague, *, note=""):
    """Transfer to a colleague: ``colleague`` holds the conversation at once
    (within their ``CHAT_CAPACITY``, on a ticket they may work on) and the
    first operator leaves it; the citizen is told who continues. ``note``:
    a private note for the colleague, on the ticket."""
    if not (is_operator(operator) and is_operator(colleague)):
        raise PermissionDenied(_("Only an operator can accept a conversation."))
    now = core.now()
    with transaction.atomic():
        _lock_operator(colleague)
        c = lock(conversation)
        if c.state != State.ACTIVE:
            raise GuardFailed(_("This conversation is not active."))
        if not _may_hand_back(operator, c):
            raise PermissionDenied(_("Only the operator who accepted this conversation can "
                                     "transfer it."))
        name = person_name(colleague)
        if colleague.pk == c.operator_id:
            raise GuardFailed(_("Choose a colleague."), {"operator": _("Choose a colleague.")})
        if not (colleague.is_active and may_work(colleague, c.ticket)):
            message = _("%(name)s cannot work on the tickets of this office.") % {"name": name}
            raise GuardFailed(message, {"operator": message})
        if held(colleague) >= get_setting("CHAT_CAPACITY"):
            message = _("%(name)s already holds as many conversations as they can: choose "
                        "another colleague, or transfer to the queue.") % {"name": name}
            raise GuardFailed(message, {"operator": message})
        previous = c.operator
        c.operator, c.updated_at = colleague, now
        c.save(update_fields=["operator", "updated_at"])
        t = c.ticket
        t.status = workflow.check(t, Action.ASSIGN, assignee_id=colleague.pk)
        t.assignee = colleague
        core.save(t, ["status", "assignee"], now)
        core.record(t, EventKind.ASSIGNED, operator, now=now,
                    data={"from": previous.pk, "to": colleague.pk})
        core.record(t, EventKind.CHAT_LEFT, operator, now=now, visibility=Visibility.PUBLIC,
                    data={"conversation": c.pk, "operator": previous.pk,
                          "reason": "handed_over", "colleague": colleague.pk})
        if note.strip():
            core.record(t, EventKind.NOTE, operator, now=now, body=note.strip())
        notice(c, "handed_over", now, colleague)
        # They held it privately, perhaps (a consult): now it is theirs.
        colleagues = end_participations(c, now, users=[colleague.pk])
        groups.announce(c, queues=[c.office_id],
                        operators=[previous.pk, colleague.pk, *colleagues])
    return c


def transfer(conversation, operator, office, *, note=""):
    """Transfer to another queue: the ticket moves to ``office`` (as any
    transfer) and the conversation follows it, waiting there; its operator
    leaves it (:func:`.chatbase.follow_ticket`, called by the ticket's
    transfer)."""
    with transaction.atomic():
        c = lock(conversation)
        if c.state not in (State.WAITING, State.ACTIVE):
            raise GuardFailed(_("This conversation has ended."))
        if c.state == State.ACTIVE and not _may_hand_back(operator, c):
            raise PermissionDenied(_("Only the operator who accepted this conversation can "
                                     "transfer it."))
        transfer_ticket(c.ticket, operator, office, note=note)
        return lock(c)
