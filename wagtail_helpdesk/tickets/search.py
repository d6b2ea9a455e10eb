"""The operators' ticket search (the admin list's search box and the API's
``q``): a short code or ticket number, a fiscal code, else the citizen's name,
the subject or the description.

Labels: ``label:urgente`` (or ``etichetta:urgente``; quote names with spaces,
``label:"da richiamare"``) keeps the tickets with that label, the rest of the
text searched as usual; a plain text that is a label's whole name (any case)
also finds the tickets with that label.

A bare number ("144", "000144", "#144") finds the ticket with that number and
the tickets whose sequential short code has that sequence number, whatever the
prefix and the year (``AST-2026-000144``, ``SEG-2025-000144``): operators on
the phone hear the number, not the prefix. "2026-144" narrows it to one year.
"""

import re

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat

from ..fiscalcode import is_valid_fiscal_code, normalise_fiscal_code
from ..models import ShortCodeSequence, TicketLabel
from ..services.shortcodes import format_sequential

_NUMBER = re.compile(r"^#?(\d{1,12})$")
_YEAR_NUMBER = re.compile(r"^(\d{4})\s*[-/]\s*(\d{1,9})$")


def _sequential_codes(number, year=None):
    """``short_code__in`` this subquery: the codes ``number`` has in every
    (prefix, year) counter that reached it. Exact codes, so the unique index on
    ``short_code`` answers it (``endswith`` would read every row)."""
    if number < 1:
        return Q(pk__in=[])
    counters = ShortCodeSequence.objects.filter(last_value__gte=number)
    if year is not None:
        counters = counters.filter(year=year)
    # format_sequential(prefix, year, number), in SQL.
    suffix = format_sequential("", 0, number).rpartition("-")[2]
    codes = counters.annotate(code=Concat(
        F("prefix"), Value("-"), Cast("year", CharField()), Value(f"-{suffix}"),
        output_field=CharField(),
    )).values("code")
    return Q(short_code__in=codes)


#: ``label:name``, ``label:"two words"`` (and the Italian ``etichetta:``).
_LABEL = re.compile(r'(?:^|\s)(?:label|etichetta):(?:"([^"]*)"|(\S+))', re.IGNORECASE)


def _labelled(name):
    """The tickets carrying a label named ``name`` (any case), as a subquery."""
    return Q(pk__in=TicketLabel.objects.filter(label__name__iexact=name).values("ticket_id"))


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
    query = Q(short_code__iexact=text)
    if match := _NUMBER.match(text):
        number = int(match[1])
        query |= Q(pk=number) | _sequential_codes(number)
    elif match := _YEAR_NUMBER.match(text):
        query |= _sequential_codes(int(match[2]), year=int(match[1]))
    if is_valid_fiscal_code(text):
        code = normalise_fiscal_code(text)
        # Declared identities too: an operator checking a caller finds what
        # was sent in their name (and can then link it, or not).
        return queryset.filter(query | Q(citizen__fiscal_code=code)
                               | Q(citizen__declared_fiscal_code=code))
    for word in text.split()[:5]:
        query |= (Q(citizen__family_name__icontains=word)
                  | Q(citizen__given_name__icontains=word))
    query |= Q(subject__icontains=text) | Q(description__icontains=text)
    if len(text) <= 40:  # a label's whole name (names have at most 40 characters)
        query |= _labelled(text)
    return queryset.filter(query)
