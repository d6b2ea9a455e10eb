"""Cursor pagination of the ticket list: keyset on (ordering field, id), so a
page costs the same at row 10 and at row 1,000,000 and rows added meanwhile
neither repeat nor vanish."""

import base64
import json
from datetime import UTC, datetime
from typing import get_args

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja.errors import ValidationError

from .schemas import Ordering

#: Orderings offered (every one backed by an index).
ORDERINGS = get_args(Ordering)


def _field(ordering):
    return ordering.lstrip("-")


def _invalid(message):
    return ValidationError([{"loc": ("query", "cursor"), "msg": message}])


def encode(ordering, row):
    field = _field(ordering)
    value = getattr(row, field)
    value = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([ordering, value, row.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor, ordering):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stored, value, pk = json.loads(raw)
        if stored != ordering or not isinstance(pk, int):
            raise ValueError
        if _field(ordering) != "id":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError
            value = value.astimezone(UTC)  # OverflowError at the edges of time
    except (ValueError, TypeError, OverflowError):
        raise _invalid(_("This cursor is not valid for this ordering: start again from the "
                         "first page.")) from None
    return value, pk


def page(queryset, ordering, cursor, limit):
    """(rows, next_cursor) of one page."""
    field = _field(ordering)
    descending = ordering.startswith("-")
    if cursor:
        value, pk = decode(cursor, ordering)
        after = "lt" if descending else "gt"
        if field == "id":
            queryset = queryset.filter(**{f"pk__{after}": pk})
        else:
            # (field, id) after (value, pk), with a plain range on the field first
            # so that the field's index bounds the scan.
            queryset = queryset.filter(
                Q(**{f"{field}__{after}e": value})
                & (Q(**{f"{field}__{after}": value}) | Q(**{f"pk__{after}": pk})))
    tie = "-pk" if descending else "pk"
    rows = list(queryset.order_by(ordering, tie)[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode(ordering, rows[limit - 1])
    return rows, None
