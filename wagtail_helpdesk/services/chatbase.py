"""Steps shared by the chat services: lock, append a message, system notices,
and keeping a conversation in step with its ticket (:func:`follow_ticket`).

Lock order, everywhere: the ticket first, then its conversation (the generic
ticket services lock the ticket and then call :func:`follow_ticket`), so that
a chat service and a ticket service running at once never wait for each other
in a circle.
"""

import hashlib
import secrets
from functools import partial

from django.db import transaction

from ..conversations import groups
from ..models import (
    AuthorKind,
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    ConversationState,
    EventKind,
    OfficeMembership,
    Ticket,
    TicketConsult,
    Visibility,
)
from ..permissions import ticket_policy
from ..workflow import Status
from . import core
from .actors import SYSTEM, actor_user

State = ConversationState

#: States in which a conversation is still going (it may still change).
LIVE_STATES = (State.WAITING, State.ACTIVE, State.WRAPUP)


def dispatch_on_commit(office_ids):
    """Once the transaction commits, hand the offices' waiting conversations
    to available operators where their routing is automatic
    (:func:`.chatrouting.dispatch`)."""
    from .chatrouting import dispatch

    ids = [pk for pk in office_ids if pk]
    if ids:
        # Robust: the change is saved; a failing hand-out is logged and the
        # minute's job tries again.
        transaction.on_commit(partial(dispatch, ids), robust=True)


def may_work(user, ticket):
    return ticket_policy().user_has_permission_for_instance(user, "change", ticket)


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    """A new secret for the citizen's browser: ``(token, its hash)``."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def lock(conversation):
    """``conversation`` re-read and locked (inside a transaction), after its
    ticket's row (the lock order of every ticket change)."""
    ticket_id = conversation.ticket_id or (  # it never changes
        Conversation.objects.values_list("ticket_id", flat=True).get(pk=conversation.pk))
    list(Ticket.objects.select_for_update().filter(pk=ticket_id).values_list("pk", flat=True))
    return (Conversation.objects.select_for_update(of=("self",))
            .select_related("ticket", "citizen").get(pk=conversation.pk))


def append(c, kind, *, body="", author=None, client_id=None, event="", data=None, now,
           visibility=Visibility.PUBLIC, attachment=None):
    """Add a message with the next ``seq`` (``c`` is locked, or new)."""
    c.last_seq += 1
    c.updated_at = now
    Conversation.objects.filter(pk=c.pk).update(last_seq=c.last_seq, updated_at=now)
    return ConversationMessage.objects.create(
        conversation=c, seq=c.last_seq, client_id=client_id, author_kind=kind, author=author,
        body=body, event=event, data=data or {}, created_at=now, visibility=visibility,
        attachment=attachment)


def display_name(user):
    return user.first_name or user.get_username()


def notice(c, event, now, user=None, *, visibility=Visibility.PUBLIC, **data):
    """A system notice in the conversation (rendered in the reader's language);
    ``internal``: for the operators only."""
    if user is not None:
        data["name"] = display_name(user)
    return append(c, AuthorKind.SYSTEM, event=event, data=data, now=now, visibility=visibility)


def end_participations(c, now, users=None):
    """The colleagues taking part in ``c`` (or only ``users``) leave it; the
    ticket stops being shared with those it was shared with for this
    consult. Returns their ids (to signal them)."""
    rows = ConversationParticipant.objects.filter(conversation_id=c.pk, ended_at__isnull=True)
    if users is not None:
        rows = rows.filter(user_id__in=users)
    found = list(rows.values_list("user_id", "granted"))
    rows.update(ended_at=now)
    shared = [pk for pk, granted in found if granted]
    if shared:
        TicketConsult.objects.filter(ticket_id=c.ticket_id, consultant_id__in=shared).delete()
        for pk in shared:
            core.record(c.ticket, EventKind.CONSULT_REVOKED, SYSTEM, now=now,
                        data={"consultant": pk, "by_consultant": False, "conversation": c.pk})
    return [pk for pk, _granted in found]


def shut(c, actor, now, *, reason, name=None):
    """Close the live conversation ``c`` (locked, with its ticket): nobody
    writes any more and its operator's place is free. The ticket's timeline
    records it; the citizen and the operator are told (``name``: the user
    the notice names, if any)."""
    operator_id = c.operator_id
    c.state, c.closed_at, c.updated_at = State.CLOSED, now, now
    c.save(update_fields=["state", "closed_at", "updated_at"])
    core.record(c.ticket, EventKind.CHAT_CLOSED, actor, now=now, visibility=Visibility.PUBLIC,
                data={"conversation": c.pk, "messages": c.last_seq, "reason": reason})
    notice(c, "closed", now, name)
    colleagues = end_participations(c, now)
    groups.announce(c, queues=[c.office_id], operators=[operator_id, *colleagues])
    if operator_id:  # a place is free: the operator's queues may hand them another
        dispatch_on_commit(list(OfficeMembership.objects.filter(user_id=operator_id)
                                .values_list("office_id", flat=True)))
    return c


def follow_ticket(ticket, now, actor):
    """Keep the live conversation of ``ticket`` (locked, just changed by a
    generic ticket service) in step with it, in the same transaction:

    * resolved: the conversation closes (the citizen can no longer write, the
      operator's place is free);
    * moved to another office: the conversation follows it to that queue and
      waits there for one of its operators (a conversation in wrap-up, whose
      chat is over, closes: the ticket goes on in the new office).

    Returns the conversation, or None when the ticket has no live one.
    """
    c = (Conversation.objects.select_for_update(of=("self",)).select_related("citizen")
         .filter(ticket_id=ticket.pk, state__in=LIVE_STATES).first())
    if c is None:
        return None
    c.ticket = ticket
    if ticket.status == Status.RESOLVED:
        return shut(c, actor, now, reason="resolved", name=actor_user(actor))
    if ticket.office_id == c.office_id:
        return c
    if c.state == State.WRAPUP:
        return shut(c, actor, now, reason="transferred")
    previous_office, previous_operator = c.office_id, c.operator_id
    c.office_id, c.state, c.operator = ticket.office_id, State.WAITING, None
    c.queued_at = c.updated_at = now
    c.save(update_fields=["office", "state", "operator", "queued_at", "updated_at"])
    notice(c, "transferred", now, office=ticket.office.name)
    colleagues = end_participations(c, now)
    groups.announce(c, queues=[previous_office, c.office_id],
                    operators=[previous_operator, *colleagues])
    dispatch_on_commit([c.office_id])
    return c
