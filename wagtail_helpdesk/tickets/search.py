"""The operators' ticket search (the admin list's search box and the API's
``q``): what was typed is recognised first, then looked up with the index made
for it — never one OR of everything across the citizen join, which no index
can serve.

* A bare number ("144", "000144", "#144") finds the ticket with that number and
  the tickets whose sequential short code has that sequence number, whatever
  the prefix and the year (``AST-2026-000144``, ``SEG-2025-000144``):
  operators on the phone hear the number, not the prefix. "2026-144" narrows
  it to one year. (Primary key and the unique short code index.)
* A whole sequential short code (``AST-2026-000144``, any case): that ticket
  (the index on the upper-cased code).
* Numbers and codes are also text: a phone number, a year-number or a
  protocol code ("3331234567", "DL-2020-76") is searched in the subject and
  the description too (at least :data:`MIN_TEXT_CHARS` characters), OR-ed
  with the exact match — each arm with its index (``BitmapOr`` on PostgreSQL).
* A fiscal code (``TINIT-`` prefix and case ignored): the tickets of the
  citizens with that verified or declared code (the citizens' indexes, then
  the tickets' citizen index).
* Anything else is words: a random short code (``K7Q2M9XA``), a citizen's
  given or family name (each of the first five words), the subject or the
  description (the whole text), a label's whole name. On PostgreSQL the
  trigram (``pg_trgm``) indexes of migration 0024 serve these ``icontains``;
  on SQLite the same lookups run unindexed, with the same results.

Labels: ``label:urgente`` (or ``etichetta:urgente``; quote names with spaces,
``label:"da richiamare"``) keeps the tickets with that label, the rest of the
text searched as usual.

Every arm of the words' OR is a column of the ticket itself or a list of ids,
so PostgreSQL combines index scans (``BitmapOr``) instead of walking the
whole table: the matching citizens' ids are an array computed once, first
(``citizen_id = ANY(ARRAY(SELECT …))`` on PostgreSQL: an index condition
however many there are; a plain ``IN (SELECT …)`` would be a filter checked
row by row), the label of that name is read first likewise.
"""

import re

from django.db.models import BooleanField, CharField, F, Func, Q, Subquery, Value
from django.db.models.functions import Cast, Concat

from ..fiscalcode import looks_like_fiscal_code, normalise_fiscal_code
from ..models import Citizen, Label, ShortCodeSequence, TicketLabel
from ..services.shortcodes import format_sequential

_NUMBER = re.compile(r"^#?(\d{1,12})$")
_YEAR_NUMBER = re.compile(r"^(\d{4})\s*[-/]\s*(\d{1,9})$")
#: ``<prefix>-<year>-<number>``: a whole sequential short code.
_SEQUENTIAL_CODE = re.compile(r"^[^\s-]{1,8}-\d{4}-\d{1,9}$")
#: Names are matched word by word, up to this many words.
MAX_NAME_WORDS = 5
#: A number or code this long is also looked for in subjects and descriptions
#: (shorter, and a trigram index cannot serve it: "7" is in every other text).
MIN_TEXT_CHARS = 3

# What :func:`recognise` calls the text.
NUMBER, YEAR_NUMBER, SHORT_CODE, FISCAL_CODE, WORDS = (
    "number", "year_number", "short_code", "fiscal_code", "words")


def recognise(text):
    """``(kind, value)``: what ``text`` (stripped, non-empty) is."""
    if match := _NUMBER.match(text):
        return NUMBER, int(match[1])
    if match := _YEAR_NUMBER.match(text):
        return YEAR_NUMBER, (int(match[1]), int(match[2]))
    if _SEQUENTIAL_CODE.match(text):
        return SHORT_CODE, text
    if looks_like_fiscal_code(text):  # not the birthplace: 3 ms less per search
        return FISCAL_CODE, normalise_fiscal_code(text)
    return WORDS, text


def _sequential_codes(number, year=None):
    """The codes ``number`` has in every (prefix, year) counter that reached
    it, as a list (one query on the tiny counters table): exact codes, so the
    unique index on ``short_code`` answers ``short_code IN (…)`` — and, a
    list rather than a subquery, it can be OR-ed with the primary key."""
    if number < 1:
        return []
    counters = ShortCodeSequence.objects.filter(last_value__gte=number)
    if year is not None:
        counters = counters.filter(year=year)
    # format_sequential(prefix, year, number), in SQL.
    suffix = format_sequential("", 0, number).rpartition("-")[2]
    return list(counters.annotate(code=Concat(
        F("prefix"), Value("-"), Cast("year", CharField()), Value(f"-{suffix}"),
        output_field=CharField(),
    )).values_list("code", flat=True))


#: ``label:name``, ``label:"two words"`` (and the Italian ``etichetta:``).
_LABEL = re.compile(r'(?:^|\s)(?:label|etichetta):(?:"([^"]*)"|(\S+))', re.IGNORECASE)


def _labelled(name):
    """The tickets carrying a label named ``name`` (any case), as a subquery."""
    return Q(pk__in=TicketLabel.objects.filter(label__name__iexact=name).values("ticket_id"))


class _AnyOf(Func):
    """``column = ANY(ARRAY(subquery))``: on PostgreSQL the subquery runs once,
    as an init plan, and its array is an index condition that can join the
    other arms of an OR in a ``BitmapOr``; elsewhere ``column IN (subquery)``.
    (``IN (subquery)`` on PostgreSQL becomes a hashed subplan checked row by
    row: the whole table read to count a common name's tickets.)"""

    output_field = BooleanField()

    def __init__(self, column, queryset):
        super().__init__(F(column), Subquery(queryset))

    def as_sql(self, compiler, connection, **extra):
        column, subquery = self.source_expressions
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        if connection.vendor == "postgresql":
            return f"{column_sql} = ANY(ARRAY{subquery_sql})", (*column_params, *subquery_params)
        return f"{column_sql} IN {subquery_sql}", (*column_params, *subquery_params)


def _citizens_named(words):
    """Filter on ``citizen``: the citizens with any of ``words`` in their given
    or family name (trigram indexes on PostgreSQL)."""
    names = Q()
    for word in words:
        names |= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return Q(_AnyOf("citizen_id", Citizen.objects.filter(names).order_by().values("pk")))


def _in_texts(text):
    """The tickets whose subject or description contains ``text``."""
    return Q(subject__icontains=text) | Q(description__icontains=text)


def _words(text):
    query = Q(short_code__iexact=text)  # a random code (8 letters and digits)
    query |= _citizens_named(text.split()[:MAX_NAME_WORDS])
    query |= _in_texts(text)
    if len(text) <= 40:  # a label's whole name (names have at most 40 characters)
        labels = list(Label.objects.filter(name__iexact=text).values_list("pk", flat=True))
        if labels:
            query |= Q(pk__in=TicketLabel.objects.filter(label_id__in=labels)
                       .values("ticket_id"))
    return query


def _code_or_text(exact, text):
    """``exact`` (a match on ids or codes) or ``text`` in subjects and descriptions."""
    text = text.lstrip("#")
    return exact | _in_texts(text) if len(text) >= MIN_TEXT_CHARS else exact


def search_q(text):
    """The filter for ``text`` (stripped, non-empty, labels taken out)."""
    kind, value = recognise(text)
    if kind == NUMBER:
        codes = _sequential_codes(value)
        exact = Q(pk=value) | Q(short_code__in=codes) if codes else Q(pk=value)
        return _code_or_text(exact, text)
    if kind == YEAR_NUMBER:
        year, number = value
        return _code_or_text(Q(short_code__in=_sequential_codes(number, year=year)), text)
    if kind == SHORT_CODE:
        return _code_or_text(Q(short_code__iexact=value), text)
    if kind == FISCAL_CODE:
        # Declared identities too: an operator checking a caller finds what
        # was sent in their name (and can then link it, or not).
        return Q(_AnyOf("citizen_id", Citizen.objects.filter(
            Q(fiscal_code=value) | Q(declared_fiscal_code=value)).order_by().values("pk")))
    return _words(value)


def search(queryset, text):
    text = (text or "").strip()
    if not text:
        return queryset
    names = [" ".join((quoted or bare).split()) for quoted, bare in _LABEL.findall(text)]
    if names:
        text = _LABEL.sub(" ", text).strip()
        for name in names:
            queryset = queryset.filter(_labelled(name))
        if not text:
            return queryset
    return queryset.filter(search_q(text))
