"""Who gets a waiting conversation, and what the citizen is told while waiting.

Each office chooses its routing (:class:`~wagtail_helpdesk.models.ChatRouting`):

* ``offer``: every available operator of the queue is notified; the first to
  accept takes it (:func:`.chatqueue.accept`);
* ``round_robin``: handed automatically to the available member with a free
  place who got one least recently;
* ``least_busy``: handed to the available member holding the fewest
  conversations (then the one who got one least recently).

Automatic hand-overs are claims like an operator's accept — atomic, within
``CHAT_CAPACITY`` — run by :func:`dispatch` after every change that may free
a place or fill the queue, and by the minute's job (:func:`housekeeping`).
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from ..conf import get_setting
from ..errors import HelpdeskError
from ..models import (
    AuthorKind,
    ChatRouting,
    Conversation,
    ConversationMessage,
    Office,
    OfficeMembership,
    Presence,
    Visibility,
)
from ..models.conversations import HELD_STATES
from . import presence
from .chatbase import State, dispatch_on_commit, may_work

#: Conversations handed out by one dispatch of one office at most.
DISPATCH_BATCH = 50
#: Handling times used to estimate a wait: the latest this many, of the last week.
ESTIMATE_SAMPLE = 50


def _held_counts(user_ids):
    rows = (Conversation.objects.filter(operator_id__in=user_ids, state__in=HELD_STATES)
            .values("operator_id").annotate(n=Count("pk")))
    counts = dict.fromkeys(user_ids, 0)
    counts.update({row["operator_id"]: row["n"] for row in rows})
    return counts


def _free_members(office_id, now):
    """The office's members available now with a free place: ``[(membership,
    held)]``, unordered."""
    members = list(OfficeMembership.objects.filter(office_id=office_id, user__is_active=True)
                   .filter(presence.available_q("user__", now)).select_related("user"))
    held = _held_counts([m.user_id for m in members])
    capacity = get_setting("CHAT_CAPACITY")
    return [(m, held[m.user_id]) for m in members if held[m.user_id] < capacity]


def _order(candidates, routing):
    never = timezone.now() - timedelta(days=36500)

    def turn(item):
        membership, held = item
        last = membership.last_chat_at or never
        if routing == ChatRouting.LEAST_BUSY:
            return (held, last, membership.pk)
        return (last, membership.pk)

    return sorted(candidates, key=turn)


def dispatch(office_ids, now=None):
    """Hand the waiting conversations of ``office_ids`` whose routing is
    automatic to available operators with a free place, longest waiting
    first. Returns the conversations handed out."""
    from .chatqueue import accept

    handed = []
    offices = Office.objects.filter(pk__in=office_ids).exclude(chat_routing=ChatRouting.OFFER)
    for office in offices.only("pk", "chat_routing"):
        waiting = list(Conversation.objects.filter(office_id=office.pk, state=State.WAITING)
                       .select_related("ticket").order_by("queued_at", "pk")[:DISPATCH_BATCH])
        for conversation in waiting:
            now = timezone.now()
            for membership, _held in _order(_free_members(office.pk, now), office.chat_routing):
                if not may_work(membership.user, conversation.ticket):
                    continue
                try:
                    handed.append(accept(conversation, membership.user, automatic=True))
                except (HelpdeskError, PermissionDenied):
                    if _taken(conversation):
                        break  # taken or changed meanwhile: the next conversation
                    continue  # this operator is full meanwhile: the next one
                OfficeMembership.objects.filter(pk=membership.pk).update(last_chat_at=now)
                break
            else:
                break  # nobody free in this office: the rest waits too
    return handed


def _taken(conversation):
    return not Conversation.objects.filter(pk=conversation.pk, state=State.WAITING,
                                           office_id=conversation.office_id).exists()


def availability(office):
    """How many operators of ``office`` (an Office or its id) are available
    now with a free place."""
    office_id = getattr(office, "pk", office)
    return len(_free_members(office_id, timezone.now()))


def _handling_seconds(office_id, now):
    """The median handling time (accepted → closed) of the office's recent
    conversations, or None without enough history."""
    since = now - timedelta(days=7)
    rows = list(Conversation.objects.filter(office_id=office_id, accepted_at__isnull=False,
                                            closed_at__gte=since)
                .order_by("-closed_at").values_list("accepted_at", "closed_at")
                [:ESTIMATE_SAMPLE])
    if len(rows) < 3:
        return None
    times = sorted((closed - accepted).total_seconds() for accepted, closed in rows)
    return times[len(times) // 2]


def position(conversation, now=None):
    """``(place, estimated wait in seconds or None)`` of a waiting
    conversation in its queue (place 1 = next). The estimate is honest or
    absent: the queue ahead divided among the operators working it, times
    their recent median handling time; None when nobody is available or
    there is too little history to say."""
    now = now or timezone.now()
    c = conversation
    if c.state != State.WAITING:
        return None, None
    ahead = (Conversation.objects.filter(office_id=c.office_id, state=State.WAITING)
             .filter(Q(queued_at__lt=c.queued_at) | Q(queued_at=c.queued_at, pk__lt=c.pk))
             .count())
    place = ahead + 1
    free = _free_members(c.office_id, now)
    if free:
        free_places = sum(get_setting("CHAT_CAPACITY") - held for _m, held in free)
        if free_places >= place:
            return place, 0
    handling = _handling_seconds(c.office_id, now)
    working = (OfficeMembership.objects.filter(office_id=c.office_id, user__is_active=True)
               .filter(presence.available_q("user__", now)).count())
    if handling is None or not working:
        return place, None
    per_round = working * get_setting("CHAT_CAPACITY")
    rounds = place / per_round
    return place, int(rounds * handling)


def unanswered(now=None):
    """Active conversations whose citizen has waited longer than
    ``CHAT_ANSWER_TIMEOUT`` seconds for their operator's answer: ``[pk]``."""
    timeout = get_setting("CHAT_ANSWER_TIMEOUT")
    if not timeout:
        return []
    now = now or timezone.now()
    last = (ConversationMessage.objects.filter(conversation__state=State.ACTIVE)
            .values("conversation_id", "conversation__accepted_at")
            .annotate(citizen=Max("created_at", filter=Q(author_kind=AuthorKind.CITIZEN)),
                      operator=Max("created_at", filter=Q(author_kind=AuthorKind.OPERATOR,
                                                          author_id=F("conversation__operator_id"),
                                                          visibility=Visibility.PUBLIC))))
    late = now - timedelta(seconds=timeout)
    waiting = []
    for row in last:
        if not row["citizen"] or (row["operator"] and row["operator"] >= row["citizen"]):
            continue  # answered
        # The wait counts from the acceptance at the earliest: a citizen who
        # queued long is not taken from the operator who just accepted.
        since = max(row["citizen"], row["conversation__accepted_at"] or row["citizen"])
        if since < late:
            waiting.append(row["conversation_id"])
    return waiting


def after_presence_change(user, status):
    """An operator chose ``status``: offline, their active conversations go
    back to their queues now; available (or automatic), their automatic
    queues may hand them the conversations waiting."""
    from .actors import SYSTEM
    from .chatqueue import release

    if status == Presence.OFFLINE:
        for pk in Conversation.objects.filter(operator_id=user.pk, state=State.ACTIVE) \
                .values_list("pk", flat=True):
            try:
                release(Conversation(pk=pk), SYSTEM, reason="offline")
            except HelpdeskError:
                continue  # it changed meanwhile
    elif status in ("", Presence.AVAILABLE):
        offices = OfficeMembership.objects.filter(user_id=user.pk).values_list("office_id",
                                                                                flat=True)
        dispatch_on_commit(list(offices))


def housekeeping(now=None):
    """The minute's job: hand back the conversations of operators gone
    offline or not answering, then dispatch every queue with waiting
    conversations. Returns ``(handed back, handed out)`` counts."""
    from .actors import SYSTEM
    from .chatqueue import release, requeue_absent

    back = len(requeue_absent(now))
    for pk in unanswered(now):
        try:
            release(Conversation(pk=pk), SYSTEM, reason="unanswered")
            back += 1
        except HelpdeskError:
            continue
    offices = list(Conversation.objects.filter(state=State.WAITING)
                   .values_list("office_id", flat=True).distinct())
    out = len(dispatch(offices, now)) if offices else 0
    return back, out

