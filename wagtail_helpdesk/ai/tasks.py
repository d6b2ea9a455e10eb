"""django-q2 tasks computing the tickets' embeddings.

:func:`queue_embedding` is called by ``services.core.record`` for the events
that change what a ticket says (created, submitted, a citizen's message); the
task is queued once per ticket and transaction, on commit, so a rolled-back
change queues nothing. :func:`embed_ticket` is idempotent: it computes the
vector only when the text (or the model) changed since the stored one. The
scheduled :func:`embed_missing` picks up whatever a lost task left, and the
``helpdesk_ai_backfill`` command the tickets that existed before.
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import EventKind, Ticket, TicketEmbedding
from ..workflow import Status
from . import vectors
from .embedder import get_embedder
from .switches import enabled
from .text import MAX_MESSAGES, ticket_text

log = logging.getLogger(__name__)

EMBED = "wagtail_helpdesk.ai.tasks.embed_ticket"
SWEEP = "wagtail_helpdesk.ai.tasks.embed_missing"

#: The events after which a ticket's text may have changed.
TRIGGERS = frozenset({EventKind.CREATED, EventKind.SUBMITTED, EventKind.CITIZEN_MESSAGE,
                      EventKind.DRAFT_UPDATED, EventKind.PERSONAL_DATA_ERASED})

_RELATED = ("service", "report_category")


def on_event(ticket, kind):
    """``services.core.record``'s hook: queue the ticket's embedding after
    an event that changes its text (no query)."""
    if kind in TRIGGERS and ticket.status != Status.DRAFT:
        queue_embedding(ticket.pk)


def queue_embedding(ticket_id):
    """Queue :func:`embed_ticket` for ``ticket_id`` once the transaction
    commits (one task for every ticket of the transaction); nothing without
    a model.

    Whether the administrator switched similar tickets off is checked by the
    task, so that the services' changes make no extra query.
    """
    if get_embedder() is None:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _enqueue_now(ticket_id)
        return
    # ``run_on_commit``: Django's pending callbacks, ``(savepoints, callable,
    # robust)`` — not a documented API; were it to change, each event of the
    # transaction queues its own (idempotent) task.
    for entry in getattr(connection, "run_on_commit", ()):
        pending = entry[1] if len(entry) > 1 else None
        if isinstance(pending, _Enqueue) and not pending.done \
                and len(pending.helpdesk_embedding) < BATCH:
            pending.helpdesk_embedding.add(ticket_id)
            return
    transaction.on_commit(_Enqueue(ticket_id))


#: Tickets one task embeds at most (a transaction that changes more, such as
#: a bulk import, queues one task per this many).
BATCH = 200


class _Enqueue:
    """The on-commit callback queuing one task for the tickets a transaction
    changed (the demo's build, a bulk action: one task, not one per ticket)."""

    def __init__(self, ticket_id):
        self.helpdesk_embedding = {ticket_id}
        self.done = False

    def __call__(self):
        self.done = True
        _enqueue_now(sorted(self.helpdesk_embedding))


def _enqueue_now(ticket_ids):
    from django_q.tasks import async_task

    ticket_ids = [ticket_ids] if isinstance(ticket_ids, int) else list(ticket_ids)
    try:
        async_task(EMBED, ticket_ids, group="wagtail_helpdesk.ai",
                   q_options={"task_name": f"helpdesk-embed-{ticket_ids[0]}"
                                           f"{'+' if len(ticket_ids) > 1 else ''}"})
    except Exception:
        log.exception("Could not enqueue the embedding of tickets %s; the sweep will.",
                      ticket_ids[:10])


def citizen_messages(ticket):
    """The first citizen messages of ``ticket`` (bodies; one query)."""
    return list(ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE, by_citizen=True)
                .exclude(body="").order_by("created_at", "pk")
                .values_list("body", flat=True)[:MAX_MESSAGES])


def _messages_of(ticket_ids):
    """``{ticket id: [first citizen messages]}`` (one query)."""
    from ..models import TicketEvent

    found = {}
    rows = (TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.CITIZEN_MESSAGE,
                                       by_citizen=True).exclude(body="")
            .order_by("ticket_id", "created_at", "pk").values_list("ticket_id", "body"))
    for ticket_id, body in rows:
        bodies = found.setdefault(ticket_id, [])
        if len(bodies) < MAX_MESSAGES:
            bodies.append(body)
    return found


def stored_text(ticket, messages):
    """The text embedded for ``ticket``: :func:`~.text.ticket_text` without
    the erasure placeholder (an erased citizen's ticket is embedded from what
    is left: the problem type and, for an open report, its redacted text)."""
    from ..services.erasure import placeholder

    mark = placeholder()
    kept = [m.replace(mark, " ") for m in messages if m.replace(mark, "").strip()]
    text = ticket_text(ticket, kept)
    return " ".join(text.replace(mark, " ").split())


def embed_tickets(tickets, embedder):
    """Embed those of ``tickets`` whose text or model changed; return how
    many were computed. Four queries and two model calls (the texts as
    passages, and as queries) for the lot."""
    tickets = [t for t in tickets if t.status != Status.DRAFT]
    if not tickets:
        return 0
    ids = [t.pk for t in tickets]
    messages = _messages_of(ids)
    stored = {pk: (model, digest) for pk, model, digest in TicketEmbedding.objects.filter(
        ticket_id__in=ids).values_list("ticket_id", "model", "digest")}
    todo = []
    for ticket in tickets:
        text = stored_text(ticket, messages.get(ticket.pk, ()))
        digest = vectors.digest(embedder.name, text)
        if text and stored.get(ticket.pk) != (embedder.name, digest):
            todo.append((ticket.pk, text, digest))
    if not todo:
        return 0
    matrix = embedder.passages([text for _pk, text, _d in todo])
    queries = embedder.queries([text for _pk, text, _d in todo])
    # A ticket changed while the model ran (an erasure, a new message) keeps
    # no vector of its old text: its own event queues it again.
    seen = {t.pk: t.version for t in tickets}
    current = dict(Ticket.objects.filter(pk__in=[pk for pk, _t, _d in todo])
                   .values_list("pk", "version"))
    kept = [i for i, (pk, _t, _d) in enumerate(todo) if current.get(pk) == seen[pk]]
    todo = [todo[i] for i in kept]
    matrix, queries = matrix[kept], queries[kept]
    if not todo:
        return 0
    now = timezone.now()
    TicketEmbedding.objects.bulk_create(
        [TicketEmbedding(ticket_id=pk, model=embedder.name, digest=digest,
                         vector=vectors.pack(row), query_vector=vectors.pack(query),
                         updated_at=now)
         for (pk, _text, digest), row, query in zip(todo, matrix, queries, strict=True)],
        update_conflicts=True, unique_fields=["ticket"],
        update_fields=["model", "digest", "vector", "query_vector", "updated_at"])
    return len(todo)


def embed_ticket(ticket_id):
    """The task: compute the embedding of ``ticket_id`` (an id, or a list of
    ids) where its text changed.

    Returns whether a vector was computed (False: no model, switched off,
    no such ticket, a draft, or nothing changed).
    """
    embedder = get_embedder()
    if embedder is None or not enabled("similar"):
        return False
    ids = [ticket_id] if isinstance(ticket_id, int) else list(ticket_id)
    tickets = list(Ticket.objects.select_related(*_RELATED).filter(pk__in=ids))
    if not tickets:
        return False
    return embed_tickets(tickets, embedder) > 0


def stale(embedder):
    """The tickets whose vector is missing or from another model."""
    return (Ticket.objects.exclude(status=Status.DRAFT)
            .filter(Q(embedding__isnull=True) | ~Q(embedding__model=embedder.name)))


def embed_missing(batch=200):
    """The scheduled sweep: embed up to ``batch`` tickets without a vector of
    the current model, most recent first. Returns how many were computed."""
    embedder = get_embedder()
    if embedder is None or not enabled("similar"):
        return 0
    tickets = list(stale(embedder).select_related(*_RELATED).order_by("-pk")[:batch])
    return embed_tickets(tickets, embedder)
