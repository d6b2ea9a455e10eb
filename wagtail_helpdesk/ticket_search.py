"""The operators' ticket search (the admin list's search box and the API's
``q``): a short code or ticket number, a fiscal code, else the citizen's name,
the subject or the description."""

import re

from django.db.models import Q

from .identity import is_valid_fiscal_code, normalise_fiscal_code

_NUMBER = re.compile(r"^#?(\d{1,12})$")


def search(queryset, text):
    text = (text or "").strip()
    if not text:
        return queryset
    query = Q(short_code__iexact=text)
    if match := _NUMBER.match(text):
        query |= Q(pk=int(match[1]))
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
    return queryset.filter(query)
