"""The live chat's queue figures and the supervisors' board, read side only.

Every function takes querysets already scoped to what the supervisor may see
(conversations of their offices; office memberships of those offices) plus
``now``, and returns plain values (dicts, ``timedelta``). Each figure is one
aggregate query computed by the database — whatever the number of
conversations or messages — and Python only loops over offices.

"Today" is the day of the site's time zone (``TIME_ZONE``), as on the
supervisor dashboard (:mod:`wagtail_helpdesk.admin.metrics`).

Definitions (seed 003, "Code di chat"):

* *waiting*: conversations in a queue that no operator has accepted;
* *operators logged in*: the queue's members whose presence is not offline;
  *available*: presence "available"; *free*: available and holding fewer than
  ``CHAT_CAPACITY`` conversations (those who may get a new one now);
* *longest wait unassigned*: now minus the oldest ``queued_at`` of the waiting;
* *longest wait for an answer*: in active conversations, the citizen wrote
  after the operators' last public message: now minus the first such
  citizen message (never before the conversation was accepted — the wait in
  the queue is the figure above);
* *average handling time today*: accepted → closed, over the conversations
  closed today;
* *conversations today*: started today (any state).
"""

from datetime import datetime, time, timedelta

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from ..conf import get_setting
from ..models import (
    AuthorKind,
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    ConversationState,
    Presence,
    Visibility,
)
from ..models.conversations import HELD_STATES
from ..services import presence

State = ConversationState
#: States still going on (shown on the board whatever their age).
LIVE_STATES = (State.WAITING, State.ACTIVE, State.WRAPUP)
#: States that ended (shown on the board when they ended today).
ENDED_STATES = (State.CLOSED, State.TICKET)
#: Ended conversations shown on the board at most (the most recent first).
ENDED_SHOWN = 100
#: Before the epoch of any conversation: "no operator message yet".
_NEVER = datetime(2000, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


def start_of_today(now):
    """The aware instant the site's local day of ``now`` began."""
    tz = timezone.get_default_timezone()
    return datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)


def _as_timedelta(value):
    # PostgreSQL averages intervals into a timedelta; other backends may give
    # microseconds.
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))


def _since(now, moment):
    return max(now - moment, timedelta(0)) if moment is not None else None


# --- conversations -------------------------------------------------------------------------


def _last_operator_message():
    """The time of the operators' last public message in the outer conversation."""
    return Subquery(
        ConversationMessage.objects.filter(
            conversation_id=OuterRef("conversation_id"), author_kind=AuthorKind.OPERATOR,
            visibility=Visibility.PUBLIC)
        .order_by("-seq").values("created_at")[:1])


def unanswered_messages(conversations):
    """The citizen messages of the active ``conversations`` written after the
    operators' last public message and after the acceptance: what an
    operator still has to answer. ``answer_wait_start`` is when the wait for
    each began (the message, or the acceptance if it came later)."""
    return (
        ConversationMessage.objects
        .filter(conversation__in=conversations.filter(state=State.ACTIVE).values("pk"),
                author_kind=AuthorKind.CITIZEN)
        .annotate(answered_at=Coalesce(_last_operator_message(), Value(_NEVER)),
                  answer_wait_start=Greatest("created_at", "conversation__accepted_at"))
        .filter(created_at__gt=F("answered_at"))
    )


def waiting_for_answer_since(conversations):
    """``{conversation id: when its citizen began waiting for an answer}``,
    for the active conversations whose citizen is waiting (one query)."""
    return dict(
        unanswered_messages(conversations).order_by()
        .values("conversation_id").annotate(since=Min("answer_wait_start"))
        .values_list("conversation_id", "since"))


def _conversation_aggregates(now):
    today = start_of_today(now)
    closed_today = Q(state=State.CLOSED, closed_at__gte=today, accepted_at__isnull=False)
    return {
        "waiting": Count("pk", filter=Q(state=State.WAITING)),
        "active": Count("pk", filter=Q(state=State.ACTIVE)),
        "wrapup": Count("pk", filter=Q(state=State.WRAPUP)),
        "oldest_queued_at": Min("queued_at", filter=Q(state=State.WAITING)),
        "handling": Avg(ExpressionWrapper(F("closed_at") - F("accepted_at"),
                                          output_field=DurationField()),
                        filter=closed_today),
        "closed_today": Count("pk", filter=closed_today),
        "started_today": Count("pk", filter=Q(created_at__gte=today)),
    }


def _relevant(conversations, now):
    """Only what the figures look at: live conversations and today's."""
    today = start_of_today(now)
    return conversations.filter(Q(state__in=LIVE_STATES) | Q(created_at__gte=today)
                                | Q(closed_at__gte=today))


def _finish(figures, now, answer_since):
    oldest = figures.pop("oldest_queued_at")
    figures["longest_unassigned"] = _since(now, oldest)
    figures["longest_unanswered"] = _since(now, answer_since)
    figures["handling"] = _as_timedelta(figures["handling"])
    return figures


def conversation_figures(conversations, now):
    """The conversation figures of everything in ``conversations`` together:
    ``{waiting, active, wrapup, longest_unassigned, longest_unanswered,
    handling, closed_today, started_today}`` (durations as ``timedelta`` or
    None). Two queries."""
    figures = _relevant(conversations, now).aggregate(**_conversation_aggregates(now))
    since = unanswered_messages(conversations).aggregate(since=Min("answer_wait_start"))["since"]
    return _finish(figures, now, since)


def conversation_figures_by_queue(conversations, now):
    """The same figures per queue: ``{office id: figures}`` (only queues with
    conversations live or of today). Two grouped queries."""
    rows = (_relevant(conversations, now).order_by().values("office_id")
            .annotate(**_conversation_aggregates(now)))
    since = dict(unanswered_messages(conversations).order_by()
                 .values("conversation__office_id").annotate(since=Min("answer_wait_start"))
                 .values_list("conversation__office_id", "since"))
    result = {}
    for row in rows:
        office_id = row.pop("office_id")
        result[office_id] = _finish(row, now, since.get(office_id))
    return result


# --- operators -----------------------------------------------------------------------------


def _logged_in_q(prefix, now):
    """A filter on users (through ``prefix``) whose presence is not offline."""
    offline = now - timedelta(seconds=get_setting("PRESENCE_OFFLINE_AFTER"))
    p = f"{prefix}helpdesk_presence__"
    return Q(**{f"{p}last_seen_at__gte": offline}) & ~Q(**{f"{p}chosen": Presence.OFFLINE})


def _with_free_place(prefix):
    """A filter on users (through ``prefix``) holding fewer conversations than
    ``CHAT_CAPACITY``."""
    full = (Conversation.objects.filter(state__in=HELD_STATES).order_by()
            .values("operator_id").annotate(n=Count("pk"))
            .filter(n__gte=get_setting("CHAT_CAPACITY")).values("operator_id"))
    return ~Q(**{f"{prefix}pk__in": full})


def _operator_aggregates(now, user="user__"):
    available = presence.available_q(user, now)
    return {
        "logged_in": Count(f"{user}pk", filter=_logged_in_q(user, now), distinct=True),
        "available": Count(f"{user}pk", filter=available, distinct=True),
        "free": Count(f"{user}pk", filter=available & _with_free_place(user), distinct=True),
    }


def operator_figures(memberships, now):
    """Operators of the queues in ``memberships`` (office memberships), each
    counted once: ``{logged_in, available, free}``. One query."""
    return memberships.filter(user__is_active=True).aggregate(**_operator_aggregates(now))


def operator_figures_by_queue(memberships, now):
    """The same per queue: ``{office id: {logged_in, available, free}}``. One
    grouped query."""
    rows = (memberships.filter(user__is_active=True).order_by().values("office_id")
            .annotate(**_operator_aggregates(now)))
    return {row.pop("office_id"): row for row in rows}


# --- together ------------------------------------------------------------------------------

_EMPTY_CONVERSATIONS = {
    "waiting": 0, "active": 0, "wrapup": 0, "longest_unassigned": None,
    "longest_unanswered": None, "handling": None, "closed_today": 0, "started_today": 0,
}
_EMPTY_OPERATORS = {"logged_in": 0, "available": 0, "free": 0}


def queue_metrics(conversations, memberships, offices, now):
    """Every queue figure, per queue (``offices``, in their order, with zeros
    where nothing happened) and in total: ``{"queues": [{"office": office,
    **figures}], "total": figures}``. Six queries, however many queues,
    conversations and operators."""
    by_queue = conversation_figures_by_queue(conversations, now)
    operators = operator_figures_by_queue(memberships, now)
    queues = [{"office": office, **_EMPTY_CONVERSATIONS, **_EMPTY_OPERATORS,
               **by_queue.get(office.pk, {}), **operators.get(office.pk, {})}
              for office in offices]
    total = {**conversation_figures(conversations, now), **operator_figures(memberships, now)}
    return {"queues": queues, "total": total}


# --- the board ------------------------------------------------------------------------------


def board(conversations, now):
    """The conversations of the supervisors' board, by state: the live ones
    (waiting, active, wrap-up) and those that ended today (closed, turned
    into a request; the latest :data:`ENDED_SHOWN`). Each conversation comes
    with its ticket, service, citizen, queue and operator, and
    ``answer_wait_since`` (active: when the citizen began waiting for an
    answer, or None) and ``present`` (the colleagues and supervisors taking
    part now, with their user). Four queries, however many conversations.

    ``{state: [conversation, …]}`` for every state, oldest first in the queue
    (waiting), most recently updated first elsewhere.
    """
    related = conversations.select_related("ticket", "ticket__service", "citizen", "office",
                                           "operator")
    present = Prefetch("participants", to_attr="present",
                       queryset=ConversationParticipant.objects.filter(ended_at__isnull=True)
                       .select_related("user"))
    live = list(related.filter(state__in=LIVE_STATES).prefetch_related(present)
                .order_by("queued_at", "pk"))
    ended = list(related.filter(state__in=ENDED_STATES, closed_at__gte=start_of_today(now))
                 .order_by("-closed_at", "-pk")[:ENDED_SHOWN])
    since = waiting_for_answer_since(conversations)
    states = {state: [] for state in State.values}
    for c in ended:
        c.present = []
    for c in live + ended:
        c.answer_wait_since = since.get(c.pk)
        states[c.state].append(c)
    for state in (State.ACTIVE, State.WRAPUP):
        states[state].sort(key=lambda c: c.updated_at, reverse=True)
    return states
