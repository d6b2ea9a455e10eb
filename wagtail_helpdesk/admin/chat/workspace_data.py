"""What the chat workspace shows, read in a constant number of queries
(however many conversations are waiting or open as tabs): the waiting
conversations of the operator's queues, their own conversations and the
consults they take part in, each with its recent messages, the citizen's
details and recent tickets, its ticket's labels, and the incoming-conversation notifier's answer.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from ...ai.switches import assist_settings
from ...conf import get_setting
from ...models import (
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    Identity,
    Label,
    Office,
    OfficeMembership,
    Presence,
    ResolutionType,
    TicketLabel,
)
from ...models.conversations import HELD_STATES
from ...permissions import office_ids_for, ticket_policy
from ...services import presence as presence_service
from ...tickets.queries import visible_tickets
from ...workflow import OPEN_STATUSES
from ..assist import chat_assist
from ..tickets.replybox import reply_box_choices

#: Messages of each tab rendered with the page (the script asks for the rest).
MESSAGES_SHOWN = 100
#: The citizen's other tickets listed in a tab's side panel.
RECENT_TICKETS = 5
#: Waiting conversations listed (the oldest first).
WAITING_SHOWN = 50

CONVERSATION_RELATED = ("ticket", "office", "citizen", "ticket__citizen", "ticket__service",
                        "operator")
LIVE = ("waiting", "active", "wrapup")


def queue_ids(user):
    """The offices whose queues ``user`` answers: their own, or every office
    for those who see all and belong to none."""
    ids = set(office_ids_for(user))
    if not ids and ticket_policy().sees_all_offices(user):
        return None  # every office
    return ids


def waiting_conversations(user, limit=WAITING_SHOWN):
    """The conversations waiting in ``user``'s queues, the longest waiting first (one query)."""
    qs = Conversation.objects.filter(state="waiting", ticket__status__in=OPEN_STATUSES)
    offices = queue_ids(user)
    if offices is not None:
        qs = qs.filter(office_id__in=offices)
    return list(qs.select_related("ticket", "office", "citizen")
                .order_by("queued_at", "pk")[:limit])


@dataclass
class Tab:
    """One conversation of the workspace, as a tab."""

    conversation: Any
    role: str  # "operator" (held), "consultant" or "supervisor" (a participant)
    public: bool = True  # whether the user writes to the citizen
    messages: list = field(default_factory=list)
    participants: list = field(default_factory=list)
    recent_tickets: list | None = None  # None: not shown (declared identity)
    linked_citizen: Any = None  # the registered citizen an operator linked the ticket to
    waited: int | None = None  # seconds waited before acceptance
    forms: dict = field(default_factory=dict)
    assist: Any = None  # the summary of a long chat (admin/assist.py), or None
    labels: list = field(default_factory=list)  # the labels of the conversation's ticket

    @property
    def pk(self):
        return self.conversation.pk

    @property
    def is_mine(self):
        return self.role == "operator"

    @property
    def consult_active(self):
        return any(p.ended_at is None for p in self.participants)


def _held(user):
    return list(Conversation.objects.filter(operator=user, state__in=HELD_STATES)
                .select_related(*CONVERSATION_RELATED).order_by("accepted_at", "pk"))


def _participations(user, exclude):
    return list(ConversationParticipant.objects
                .filter(user=user, ended_at__isnull=True, conversation__state__in=LIVE)
                .exclude(conversation_id__in=exclude)
                .select_related(*(f"conversation__{name}" for name in CONVERSATION_RELATED))
                .order_by("started_at", "pk"))


def _messages_by_conversation(conversations):
    """The last ``MESSAGES_SHOWN`` messages of each conversation, internal ones
    included (operators read them), in one query."""
    if not conversations:
        return {}
    scope = Q()
    for c in conversations:
        scope |= Q(conversation_id=c.pk, seq__gt=max(c.last_seq - MESSAGES_SHOWN, 0))
    found = {}
    for message in (ConversationMessage.objects.filter(scope)
                    .select_related("author", "attachment").order_by("conversation_id", "seq")):
        found.setdefault(message.conversation_id, []).append(message)
    return found


def _participants_by_conversation(ids):
    found = {}
    if ids:
        for p in (ConversationParticipant.objects
                  .filter(conversation_id__in=ids, ended_at__isnull=True)
                  .select_related("user").order_by("started_at", "pk")):
            found.setdefault(p.conversation_id, []).append(p)
    return found


def shows_recent_tickets(conversation):
    """Whether the citizen's other tickets are shown: only for an identity
    verified with SPID/CIE, or a ticket an operator linked to a registered
    citizen. A declared identity is what somebody typed: it never names
    anybody else's tickets."""
    ticket = conversation.ticket
    if ticket.citizen_id is None:
        return False
    return (conversation.identity == Identity.VERIFIED
            or ticket.citizen_id != conversation.citizen_id)


def _recent_tickets(user, conversations):
    """``{citizen_id: [tickets]}``: the latest tickets of each shown citizen
    that ``user`` may see, at most ``RECENT_TICKETS`` each, in one query."""
    citizens = {c.ticket.citizen_id for c in conversations if shows_recent_tickets(c)}
    if not citizens:
        return {}
    rank = Window(RowNumber(), partition_by=[F("citizen_id")],
                  order_by=F("last_activity_at").desc())
    rows = (visible_tickets(user).filter(citizen_id__in=citizens)
            .annotate(rank=rank).filter(rank__lte=RECENT_TICKETS + 1)
            .only("pk", "short_code", "subject", "status", "kind", "citizen_id",
                  "last_activity_at", "created_at")
            .order_by("citizen_id", "-last_activity_at"))
    found = {}
    for ticket in rows:
        found.setdefault(ticket.citizen_id, []).append(ticket)
    return found


def _labels_by_ticket(conversations):
    """``{ticket id: [labels by name]}`` of the conversations' tickets (one query)."""
    found = {}
    ids = [c.ticket_id for c in conversations]
    if ids:
        for link in (TicketLabel.objects.filter(ticket_id__in=ids).select_related("label")
                     .order_by("label__name", "label_id")):
            found.setdefault(link.ticket_id, []).append(link.label)
    return found


def offered_by_office(tabs):
    """``{office id: [labels]}``: the labels offered on the tabs' tickets
    (global ones and each office's), in one query; ``None`` holds the global ones."""
    office_ids = {tab.conversation.ticket.office_id for tab in tabs} - {None}
    offered = {None: []}
    if not tabs:
        return offered
    for label in Label.objects.filter(Q(office__isnull=True) | Q(office_id__in=office_ids)) \
            .order_by("name", "pk"):
        offered.setdefault(label.office_id, []).append(label)
    return offered


def waited_seconds(conversation):
    if conversation.accepted_at is None:
        return None
    return max(int((conversation.accepted_at - conversation.created_at).total_seconds()), 0)


def build_tabs(user):
    """The workspace's tabs: the conversations ``user`` holds, then those they
    were invited to (consults) or take part in. A fixed number of queries."""
    held = _held(user)
    tabs = [Tab(c, "operator") for c in held]
    for p in _participations(user, [c.pk for c in held]):
        tabs.append(Tab(p.conversation, p.role, public=p.public))
    conversations = [t.conversation for t in tabs]
    messages = _messages_by_conversation(conversations)
    participants = _participants_by_conversation([c.pk for c in conversations])
    recent = _recent_tickets(user, conversations)
    labels = _labels_by_ticket(conversations)
    settings = assist_settings() if tabs else None  # one query for every tab
    for tab in tabs:
        c = tab.conversation
        tab.messages = messages.get(c.pk, [])
        tab.participants = participants.get(c.pk, [])
        tab.waited = waited_seconds(c)
        tab.labels = labels.get(c.ticket_id, [])
        tab.assist = chat_assist(c, tab.messages, settings=settings)
        if shows_recent_tickets(c):
            tab.recent_tickets = [t for t in recent.get(c.ticket.citizen_id, [])
                                  if t.pk != c.ticket_id][:RECENT_TICKETS]
            if c.ticket.citizen_id != c.citizen_id:
                tab.linked_citizen = c.ticket.citizen
    return tabs


def shared_choices(user, tabs=()):
    """What every tab's forms offer, loaded once: resolution types, offices,
    the colleagues of the tabs' queues (to transfer to), and the quick
    replies (the user's own and their offices')."""
    quick_replies, quick_reply_data = reply_box_choices(user, _NoOffice())
    return {
        "resolution_types": list(ResolutionType.objects.active()),
        "offices": list(Office.objects.active().order_by("name")),
        "members": _members({tab.conversation.office_id for tab in tabs}),
        "quick_replies": quick_replies,
        "quick_reply_data": quick_reply_data,
        "labels": offered_by_office(tabs),
    }


def _members(office_ids):
    """``{office id: [(user, "Name — presence")]}``: the active members of the
    offices, by name (two queries, however many offices)."""
    rows = list(OfficeMembership.objects.filter(office_id__in=office_ids, user__is_active=True)
                .select_related("user").order_by("user__first_name", "user__last_name",
                                                 "user_id"))
    label = presence_service.name_and_status([row.user for row in rows])
    members = {}
    for row in rows:
        members.setdefault(row.office_id, []).append((row.user, label(row.user)))
    return members


def transfer_colleagues(c, shared=None):
    """``[(user, label)]``: the colleagues of ``c``'s queue it may be
    transferred to (the services check capacity and permission again)."""
    members = (shared or {}).get("members")
    if members is None:
        members = _members({c.office_id})
    return [(user, label) for user, label in members.get(c.office_id, [])
            if user.pk != c.operator_id]


class _NoOffice:
    """A stand-in ticket for :func:`reply_box_choices`: the quick replies of
    the user and of their offices, whatever the tab."""

    office_id = None


@dataclass
class Incoming:
    """The notifier's answer for one operator."""

    presence: Presence
    held: int
    capacity: int
    waiting: list
    now: datetime

    @property
    def offered(self):
        """Whether the operator is offered conversations now: available, with a free place."""
        return self.presence == Presence.AVAILABLE and self.held < self.capacity

    def as_json(self, accept_url, workspace_url):
        return {
            "presence": self.presence.value,
            "held": self.held,
            "capacity": self.capacity,
            "offered": self.offered,
            "waiting": [{
                "id": c.pk,
                "queue": c.office.name,
                "subject": c.ticket.subject,
                "waiting_since": c.queued_at.isoformat(),
                "waited": max(int((self.now - c.queued_at).total_seconds()), 0),
                "accept_url": accept_url(c.pk),
                "open_url": f"{workspace_url}?waiting={c.pk}",
            } for c in self.waiting] if self.offered else [],
        }


def incoming(user):
    """Waiting conversations of ``user``'s queues and how many they hold (four queries)."""
    from ...services.chatqueue import held

    return Incoming(presence=presence_service.of(user), held=held(user),
                    capacity=get_setting("CHAT_CAPACITY"),
                    waiting=waiting_conversations(user, limit=10), now=timezone.now())
