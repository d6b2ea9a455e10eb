"""Lexical search: which texts share the words of a text, and how rare the
shared words are.

* :class:`BM25` ranks texts held in memory (any database: the candidates'
  texts are read with them), on the Italian stems of :mod:`.text`.
* :func:`pg_scores` lets PostgreSQL do it on the candidates, with its
  full-text search and the ``italian`` configuration (stemmer and stop words):
  the texts never leave the database.
"""

import math
from collections import Counter

from django.db import connection

from .text import stems, words

#: PostgreSQL: the stored column of the tickets' Italian lexemes (subject and
#: description), added by migration 0022.
PG_COLUMN = "ai_lexemes"

#: Query words used at most (the longest: rarer, and more telling).
MAX_QUERY_TERMS = 16


class BM25:
    """Okapi BM25 over the stems of ``docs`` (``[(key, text)]``)."""

    def __init__(self, docs, k1=1.2, b=0.75):
        self.k1, self.b = k1, b
        self.keys, self.freqs, self.lengths = [], [], []
        df = Counter()
        for key, text in docs:
            tokens = stems(text)
            counts = Counter(tokens)
            self.keys.append(key)
            self.freqs.append(counts)
            self.lengths.append(len(tokens))
            df.update(counts.keys())  # once per document
        self.n = len(self.keys)
        self.avg = (sum(self.lengths) / self.n) if self.n else 0.0
        self.idf = {term: math.log(1 + (self.n - d + 0.5) / (d + 0.5)) for term, d in df.items()}

    def scores(self, query_text):
        """``{key: score}`` of the texts sharing a stem with ``query_text``."""
        terms = set(stems(query_text)) & self.idf.keys()
        found = {}
        if not terms:
            return found
        k1, b, avg = self.k1, self.b, self.avg or 1.0
        for key, counts, length in zip(self.keys, self.freqs, self.lengths, strict=True):
            score = 0.0
            for term in terms:
                tf = counts.get(term)
                if tf:
                    score += self.idf[term] * tf * (k1 + 1) / (
                        tf + k1 * (1 - b + b * length / avg))
            if score > 0:
                found[key] = score
        return found


def ranking(query_text, docs):
    """``[(key, score)]`` of ``docs`` (``[(key, text)]``) sharing words with
    ``query_text``, best first."""
    found = BM25(docs).scores(query_text)
    return sorted(found.items(), key=lambda item: (-item[1], str(item[0])))


def query_terms(text):
    """The distinct words of ``text`` a database search looks for."""
    seen = {}
    for word in words(text):
        root = stems(word)
        if root and len(word) > 2 and not word.isdigit():
            seen.setdefault(root[0], word)
    return sorted(seen.values(), key=len, reverse=True)[:MAX_QUERY_TERMS]


def pg_scores(query_text, ids, table):
    """``{id: rank}`` of the tickets ``ids`` of ``table`` whose subject and
    description share words with ``query_text``: PostgreSQL's ``ts_rank`` on
    the stored Italian lexemes (stemmer and stop words of the ``italian``
    configuration), any word matching; one query."""
    terms = query_terms(query_text)
    if not terms or not ids:
        return {}
    tsquery = " || ".join("plainto_tsquery('italian'::regconfig, %s)" for _ in terms)
    # Only constants and the model's own table name are formatted in.
    sql = (f"SELECT t.id, ts_rank(t.{PG_COLUMN}, query.q) FROM {table} t, "  # noqa: S608
           f"(SELECT ({tsquery}) AS q) query "
           f"WHERE t.id = ANY(%s::bigint[]) AND t.{PG_COLUMN} @@ query.q")
    # An array literal: much cheaper to send than a list of 5,000 parameters.
    array = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*terms, array])
        return {pk: float(score) for pk, score in cursor.fetchall() if score}


def shared_words(query_text, text, limit=4):
    """Words of ``text`` whose stems are in ``query_text`` (for "words in
    common"), longest first."""
    wanted = set(stems(query_text))
    found = {}
    for word in words(text):
        if len(word) > 2 and not word.isdigit():
            root = stems(word)
            if root and root[0] in wanted:
                found.setdefault(root[0], word)
    return sorted(found.values(), key=len, reverse=True)[:limit]
