"""The most informative sentences of what a citizen wrote, chosen
extractively (never reworded).

Greetings, signatures and quoted e-mail are left out. Each sentence is scored
by how central it is to the whole text — cosine similarity of sentence
vectors when the text model is installed, else of their weighted Italian
stems (a LexRank-like degree) — and chosen by maximal marginal relevance, so
that the chosen ones do not repeat each other. They come back in the order
they were written.
"""

import math
import re
from collections import Counter

from ..conf import get_setting
from .text import sentences, stems, words

#: Relevance against novelty in maximal marginal relevance.
MMR_LAMBDA = 0.5
#: Two sentences this similar say the same thing (only the first is quoted):
#: by their words, and by the text model (whose scores are compressed).
REPEAT_WORDS = 0.6
REPEAT_MODEL = 0.95
#: A sentence shorter than this (words) says little.
MIN_WORDS = 4
#: A quoted sentence longer than this (characters) is cut at a word.
MAX_CHARS = 280

# Where the quoted part of an e-mail reply starts (Italian and English clients).
_QUOTE_START = re.compile(
    r"^\s*(?:il giorno .{0,120}ha scritto:?|on .{0,120}wrote:?|-{2,}\s*(?:messaggio originale|"
    r"original message|messaggio inoltrato|forwarded message)\s*-*|(?:da|from|inviato|sent):\s.*"
    r"|--\s*)$",
    re.IGNORECASE | re.MULTILINE)
_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)
_GREETING = re.compile(
    r"^(?:buon(?:giorno|asera|pomeriggio)|salve|gentil|egregi|spett|cordial|distint|saluti|"
    r"grazie|ringrazi|in attesa|resto a disposizione|rimango a disposizione|inviato da|"
    r"a presto|un saluto|firmato|ciao)", re.IGNORECASE)
#: A greeting or closing with more words than this is kept (it says something).
_GREETING_MAX_WORDS = 8


def clean(text):
    """``text`` without the quoted e-mail it replies to."""
    text = text or ""
    cut = _QUOTE_START.search(text)
    if cut:
        text = text[:cut.start()]
    return _QUOTED_LINE.sub("", text)


def _shorten(sentence):
    if len(sentence) <= MAX_CHARS:
        return sentence
    return sentence[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def candidate_sentences(texts):
    """The sentences of ``texts`` worth quoting, in order, without repeats."""
    found, seen = [], set()
    for text in texts:
        for sentence in sentences(clean(text)):
            count = len(words(sentence))
            if count < MIN_WORDS or len(stems(sentence)) < 2:
                continue
            if _GREETING.match(sentence) and count <= _GREETING_MAX_WORDS:
                continue
            key = " ".join(words(sentence))
            if key in seen:
                continue
            seen.add(key)
            found.append(_shorten(sentence))
    return found


def _lexical_similarities(items):
    """Cosine similarities of the sentences' stem vectors weighted by idf."""
    bags = [Counter(stems(s)) for s in items]
    df = Counter(term for bag in bags for term in bag)
    n = len(items)
    vectors = []
    for bag in bags:
        vector = {t: c * math.log(1 + n / df[t]) for t, c in bag.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items()})
    return [[sum(w * b.get(t, 0.0) for t, w in a.items()) for b in vectors] for a in vectors]


def _model_similarities(items):
    from .embedder import get_embedder

    if len(items) > get_setting("AI_SUMMARY_EMBED_MAX"):
        return None
    embedder = get_embedder()
    if embedder is None:
        return None
    try:
        rows = embedder.passages(items)
    except Exception:  # a broken model must not break the page: words only
        return None
    return (rows @ rows.T).tolist()


def similarities(items):
    """``(matrix, how)``: pairwise similarities and "model" or "words"."""
    matrix = _model_similarities(items)
    return (matrix, "model") if matrix is not None else (_lexical_similarities(items), "words")


def _without_repeats(items, matrix, *, extra, threshold):
    """Drop the sentences that say again what an earlier one said (the
    matrix keeps its ``extra`` last rows/columns)."""
    n = len(items)
    kept = []
    for i in range(n):
        if all(matrix[i][j] < threshold for j in kept):
            kept.append(i)
    if len(kept) == n:
        return items, matrix
    index = kept + list(range(n, n + extra))
    return [items[i] for i in kept], [[matrix[i][j] for j in index] for i in index]


def _normalised(values):
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def _cue(sentence):
    """A little more weight for what usually carries the request: a
    question, a wish or a need, a figure (date, amount, number)."""
    bonus = 0.0
    if "?" in sentence or _CUES.search(sentence):
        bonus += 0.3
    if any(c.isdigit() for c in sentence):
        bonus += 0.1
    return bonus


_CUES = re.compile(r"\b(?:vorrei|chiedo|chiediamo|devo|dobbiamo|non riesco|non riusciamo|"
                   r"serve|servirebbe|urgent\w*|quando|perch[eé]|come mai|pericol\w*)\b",
                   re.IGNORECASE)


def relevance(similarity, items, about_row=None):
    """How central each sentence is (mean similarity to the others, rescaled),
    how close to what the ticket is about, plus the cues above."""
    n = len(items)
    centrality = _normalised([(sum(row[:n]) - row[i]) / max(n - 1, 1)
                              for i, row in enumerate(similarity)])
    about = _normalised(about_row) if about_row else [0.0] * n
    weight = 0.4 if about_row else 0.0
    return [(1 - weight) * c + weight * a + _cue(item)
            for c, a, item in zip(centrality, about, items, strict=True)]


def choose(similarity, scores, limit, lam=MMR_LAMBDA):
    """Indexes chosen by maximal marginal relevance (``scores`` the relevance;
    redundancy measured above the typical similarity of two sentences), in
    their original order."""
    n = len(scores)
    if n <= limit:
        return list(range(n))
    others = sorted(similarity[i][j] for i in range(n) for j in range(n) if i != j)
    typical = others[len(others) // 2]
    span = (1 - typical) or 1.0

    def redundancy(i, chosen):
        return max((max(0.0, similarity[i][j] - typical) / span for j in chosen), default=0.0)

    chosen = []
    while len(chosen) < limit:
        best = max((i for i in range(n) if i not in chosen),
                   key=lambda i: (lam * scores[i] - (1 - lam) * redundancy(i, chosen), -i))
        chosen.append(best)
    return sorted(chosen)


def key_sentences(texts, *, limit=3, about=""):
    """The ``limit`` most informative sentences of ``texts`` (``about``: what
    the ticket is about — its subject and topic — to weigh them against)."""
    items = candidate_sentences(texts)
    if len(items) <= limit:
        return items
    matrix, how = similarities([*items, about] if about else items)
    items, matrix = _without_repeats(items, matrix, extra=1 if about else 0,
                                     threshold=REPEAT_WORDS if how == "words" else REPEAT_MODEL)
    if len(items) <= limit:
        return items
    n = len(items)
    about_row = [row[n] for row in matrix[:n]] if about else None
    square = [row[:n] for row in matrix[:n]]
    scores = relevance(square, items, about_row)
    if how == "words":
        # Sentences sharing no word with the rest are off the subject.
        kept = [i for i in range(n) if any(square[i][j] > 0 for j in range(n) if j != i)
                or (about_row and about_row[i] > 0)]
        if kept and len(kept) < n:
            items = [items[i] for i in kept]
            square = [[square[i][j] for j in kept] for i in kept]
            scores = [scores[i] for i in kept]
    return [items[i] for i in choose(square, scores, limit)]
