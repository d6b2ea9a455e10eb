"""Colleagues in a conversation besides its operator: consults, monitoring
and joining. Exposed by :mod:`.conversations`.

* **Consult** (seed 000, up to :data:`MAX_CONSULTANTS` at once): the operator
  invites a colleague of any office; the colleague reads the conversation
  (the ticket is shared with them for a consult when they could not see it)
  and talks privately with the operator (internal messages). The operator may
  then add them to the conversation with the citizen (``add_to_chat``), and
  the citizen is told.
* **Monitor**: a supervisor of the queue follows a conversation read-only.
  Never covertly (Italian labour rules limit covert monitoring of workers):
  the ticket's timeline records who and when, and the operator is told.
* **Join**: a supervisor writes in the conversation; the operator and the
  citizen are told.

Each function is one transaction; participants are rows of
:class:`~wagtail_helpdesk.models.ConversationParticipant`.
"""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from ..conversations import groups
from ..errors import GuardFailed
from ..formats import person_name
from ..models import (
    ConversationParticipant,
    EventKind,
    OfficeMembership,
    ParticipantRole,
    Visibility,
)
from ..permissions import ticket_policy
from . import consults, core, presence
from .actors import is_operator
from .chatbase import State, end_participations, lock, may_work, notice

MAX_CONSULTANTS = 5
#: Colleagues listed by :func:`consult_candidates` at most.
CANDIDATES_MAX = 200


def participants(conversation):
    """The colleagues taking part in ``conversation`` now (with their users)."""
    return (ConversationParticipant.objects
            .filter(conversation_id=conversation.pk, ended_at__isnull=True)
            .select_related("user").order_by("started_at", "pk"))


def participant(conversation, user):
    """``user``'s active participation in ``conversation``, or None."""
    if user is None or not getattr(user, "pk", None):
        return None
    return (ConversationParticipant.objects
            .filter(conversation_id=conversation.pk, user_id=user.pk, ended_at__isnull=True)
            .first())


def _is_supervisor(user, c):
    policy = ticket_policy()
    return (is_operator(user) and policy.user_has_permission(user, "dashboard")
            and policy.user_has_permission_for_instance(user, "view", c.ticket))


def _check_holder(c, operator):
    if not is_operator(operator) or c.operator_id != operator.pk:
        raise PermissionDenied(_("Only the operator who accepted this conversation can do "
                                 "this."))
    if c.state != State.ACTIVE:
        raise GuardFailed(_("This conversation is not active."))


def consult_candidates(conversation):
    """``[(user, presence)]``: the active operators (members of some office)
    who may be invited to consult on ``conversation``, by name."""
    policy = ticket_policy()
    taking_part = ConversationParticipant.objects.filter(
        conversation_id=conversation.pk, ended_at__isnull=True).values("user_id")
    users = list(policy.users_with_any_permission(["view"])
                 .filter(is_active=True, pk__in=OfficeMembership.objects.values("user_id"))
                 .exclude(pk=conversation.operator_id).exclude(pk__in=taking_part)
                 .order_by("first_name", "last_name", "pk")[:CANDIDATES_MAX])
    statuses = presence.for_users([u.pk for u in users])
    return [(user, statuses[user.pk]) for user in users]


def invite(conversation, operator, colleague, message=""):
    """The operator invites ``colleague`` to consult privately."""
    message = (message or "").strip()[:500]
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        _check_holder(c, operator)
        name = person_name(colleague)
        policy = ticket_policy()
        if colleague.pk == operator.pk:
            raise GuardFailed(_("Invite a colleague, not yourself."),
                              {"colleague": _("Choose a colleague.")})
        if not (colleague.is_active and policy.user_has_permission(colleague, "view")):
            raise GuardFailed(_("%(name)s does not use the helpdesk.") % {"name": name},
                              {"colleague": _("Choose a colleague.")})
        if participant(c, colleague) is not None:
            raise GuardFailed(_("%(name)s is already in this conversation.") % {"name": name},
                              {"colleague": _("Choose a colleague.")})
        if participants(c).filter(role=ParticipantRole.CONSULTANT).count() >= MAX_CONSULTANTS:
            raise GuardFailed(_("At most %(count)d colleagues can be consulted at once.")
                              % {"count": MAX_CONSULTANTS})
        granted = not policy.user_has_permission_for_instance(colleague, "view", c.ticket)
        if granted:
            consults.grant(c.ticket, operator, colleague, message=message)
        ConversationParticipant.objects.create(
            conversation=c, user=colleague, role=ParticipantRole.CONSULTANT, public=False,
            invited_by=operator, started_at=now, granted=granted)
        core.record(c.ticket, EventKind.CHAT_INVITED, operator, now=now, body=message,
                    data={"conversation": c.pk, "colleague": colleague.pk})
        notice(c, "consult", now, colleague, visibility=Visibility.INTERNAL)
        groups.announce(c, operators=[colleague.pk, operator.pk], internal=True)
    return c


def add_to_chat(conversation, operator, colleague):
    """A consulted colleague now writes to the citizen too (who is told)."""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        _check_holder(c, operator)
        row = participant(c, colleague)
        if row is None or row.role != ParticipantRole.CONSULTANT:
            raise GuardFailed(_("Invite %(name)s to consult first.")
                              % {"name": person_name(colleague)})
        if row.public:
            return c
        row.public = True
        row.save(update_fields=["public"])
        core.record(c.ticket, EventKind.CHAT_JOINED, colleague, now=now,
                    visibility=Visibility.PUBLIC,
                    data={"conversation": c.pk, "role": ParticipantRole.CONSULTANT})
        notice(c, "colleague_joined", now, colleague)
        groups.announce(c, operators=[colleague.pk, operator.pk])
    return c


def leave(conversation, user):
    """A colleague leaves the conversation (a consult ends with it: the
    ticket is no longer shared with them, if it was shared for it)."""
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        row = participant(c, user)
        if row is None:
            raise GuardFailed(_("You are not taking part in this conversation."))
        end_participations(c, now, users=[user.pk])  # a share made for it ends too
        visibility = Visibility.PUBLIC if row.public else Visibility.INTERNAL
        notice(c, "colleague_left", now, user, visibility=visibility)
        groups.announce(c, operators=[user.pk, c.operator_id], internal=not row.public)
    return c


def _supervise(conversation, supervisor, *, public):
    now = core.now()
    with transaction.atomic():
        c = lock(conversation)
        if not _is_supervisor(supervisor, c):
            raise PermissionDenied(_("Only a supervisor of this queue can do this."))
        if public and not may_work(supervisor, c.ticket):
            raise PermissionDenied(_("You cannot work on the tickets of this office."))
        if c.state not in (State.WAITING, State.ACTIVE, State.WRAPUP):
            raise GuardFailed(_("This conversation has ended."))
        if public and c.state != State.ACTIVE:
            raise GuardFailed(_("This conversation is not active."))
        if c.operator_id == supervisor.pk:
            return c, False  # their own conversation
        row = participant(c, supervisor)
        if row is not None and (row.public or not public):
            return c, False  # already there
        if row is None:
            try:
                with transaction.atomic():
                    row = ConversationParticipant.objects.create(
                        conversation=c, user=supervisor, role=ParticipantRole.SUPERVISOR,
                        public=public, started_at=now)
            except IntegrityError:  # the same supervisor, twice at once
                return c, False
        else:
            row.public = True
            row.save(update_fields=["public"])
        if public:
            core.record(c.ticket, EventKind.CHAT_JOINED, supervisor, now=now,
                        visibility=Visibility.PUBLIC,
                        data={"conversation": c.pk, "role": ParticipantRole.SUPERVISOR})
            notice(c, "supervisor_joined", now, supervisor)
        else:
            core.record(c.ticket, EventKind.CHAT_MONITORED, supervisor, now=now,
                        data={"conversation": c.pk})
            notice(c, "monitored", now, supervisor, visibility=Visibility.INTERNAL)
        groups.announce(c, operators=[supervisor.pk, c.operator_id], internal=not public)
    return c, True


def monitor(conversation, supervisor):
    """A supervisor follows the conversation read-only: recorded on the
    ticket's timeline (visible to the operator) and told to the operator.
    Returns the conversation; monitoring again records nothing new."""
    return _supervise(conversation, supervisor, public=False)[0]


def join(conversation, supervisor):
    """A supervisor joins the conversation and writes to the citizen; the
    operator and the citizen are told."""
    return _supervise(conversation, supervisor, public=True)[0]


def may_write(user, c, *, private):
    """Whether ``user`` may write in ``c`` (locked): its operator always; a
    consulted colleague privately, or to the citizen once added; a
    supervisor once they joined (monitoring is read-only)."""
    if not is_operator(user):
        return False
    if c.operator_id == user.pk:
        return may_work(user, c.ticket)
    row = participant(c, user)
    if row is None:
        return False
    if row.public:
        return True
    return private and row.role == ParticipantRole.CONSULTANT


def follow(user, c):
    """``c`` if ``user`` may follow it live (its rows, internal ones too),
    else PermissionDenied. Its queue's operators preview a waiting
    conversation and whoever may read its ticket looks at an ended one; a
    live one is followed by its operator and participants, and by a
    supervisor of its queue — who is then monitoring it, recorded and told
    (:func:`monitor`): never covertly."""
    from .conversations import can_read

    if not can_read(user, c):
        raise PermissionDenied(_("You cannot see this conversation."))
    if c.state in (State.WAITING, State.CLOSED, State.TICKET):
        return c
    if c.operator_id == user.pk or participant(c, user) is not None:
        return c
    if not _is_supervisor(user, c):
        raise PermissionDenied(_("Only the operator of this conversation and the supervisors "
                                 "of its queue can follow it."))
    return monitor(c, user)
