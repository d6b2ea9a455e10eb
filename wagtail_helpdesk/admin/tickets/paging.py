"""The ticket list's paging at scale: a bounded count and no deep offsets.

* **Count**: ``SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)`` — exact up to
  :data:`COUNT_CAP` tickets, "more than 1,000" past it. A million-row
  ``COUNT(*)`` is a parallel scan of the whole table for a figure nobody
  reads; a bounded one reads at most ``cap + 1`` rows. (Counting 10,001
  visible rows still reads them from the heap — ~80 ms at 100k on a loaded
  machine —, so the cap is 1,000, as deep as the numbered pages go.) The
  same on SQLite and PostgreSQL.
* **Numbered pages** go as deep as :data:`PAGE_ROWS` rows (an ``OFFSET``
  reads and joins every row it skips: 10,000 of them cost half a second);
  past them, "Next" is a **keyset** cursor (``?after=…`` / ``?before=…``: "the next page after
  this ticket in this order"), which cost the same at row 50 and at row 1,000,000 and
  neither repeat nor skip rows when tickets change meanwhile.

Rows are always ordered by the chosen column and then by id (the same
direction), so that numbered pages and cursors agree on one order. The short
code is empty on drafts: its empty values sort as the greatest (last going up,
first going down) on SQLite as on PostgreSQL, where the code's index serves
that order. An ordering with no cursor support keeps plain numbered pages,
however deep ("Next" while a page is followed by more rows).

A filter Django can prove matches nothing (``short_code IN ()``…) makes an
empty page, counted 0, without a query.
"""

import base64
import json
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page
from django.db.models import F, IntegerField, Q
from django.db.models.expressions import RawSQL
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.paginator import WagtailPaginator

from ...models import Ticket

#: Exact counts up to this many tickets; past it "more than".
COUNT_CAP = 1_000
#: Numbered pages reach this many rows (an OFFSET below it); past it, cursors.
#: A deep OFFSET reads and joins every row it skips.
PAGE_ROWS = 1_000
#: The cursor parameters.
AFTER, BEFORE = "after", "before"
#: The columns a cursor can follow.
KEYSET_FIELDS = ("last_activity_at", "priority", "status", "kind", "unread_count", "short_code")
#: Those of them that can be empty (NULL): sorted as the greatest values.
NULLABLE_KEYSET_FIELDS = ("short_code",)


def localised(number):
    """``number`` with the active language's thousands separator ("1.000" in Italian)."""
    return number_format(number, force_grouping=True)


def ordering_with_id(ordering):
    """``ordering`` ("-last_activity_at") and the id in the same direction; a
    nullable column with its empty values as the greatest, on every database."""
    descending = ordering.startswith("-")
    name = ordering.lstrip("-")
    if name in NULLABLE_KEYSET_FIELDS:
        column = F(name).desc(nulls_first=True) if descending else F(name).asc(nulls_last=True)
        return [column, "-pk" if descending else "pk"]
    return [ordering, "-pk" if descending else "pk"]


def bounded_count(queryset, cap=COUNT_CAP):
    """How many rows ``queryset`` has, counting at most ``cap + 1``."""
    return queryset.order_by().values("pk")[:cap + 1].count()


def bounded_count_sql(queryset, cap=COUNT_CAP):
    """:func:`bounded_count` as an expression, to read the count with the page
    (one query less): an uncorrelated scalar subquery, computed once."""
    inner = queryset.order_by().values("pk")[:cap + 1]
    sql, params = inner.query.get_compiler(queryset.db).as_sql()
    # The SQL is the ORM's own compilation (values are parameters): no injection.
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS bounded", params,  # noqa: S608, S611
                  output_field=IntegerField())


def by_ids(window, rows, ordering):
    """The rows of ``window`` (a sliced, ordered queryset) read through
    ``rows(ids)`` — a queryset of the rows whose ids are in the subquery
    ``ids`` (with the joins and annotations a page shows) — in ``ordering``.

    A *deferred join*: the subquery finds the page's ids in the tickets
    table alone (its indexes, its filters, its order, its limit) and only
    those rows are then joined to citizens, offices, services… Joined first,
    PostgreSQL joins every matching row before sorting them when no index
    gives the order (a queue of 6,000 tickets: 6,000 citizens read for 20
    rows shown — 50 ms instead of 20). No ``ordering``: the model's own, as
    the window's."""
    found = rows(window.values("pk"))
    return found.order_by(*ordering) if ordering else found


def numbered_page(paginator, number, rows=None):
    """``paginator``'s page ``number`` read with its count in one query, or
    None (nothing at that offset: the caller asks the paginator as usual).
    ``rows(ids)``, if given, reads the page's rows by id (:func:`by_ids`;
    the count is of the paginator's). A paginator without ``row_limit``
    (an ordering without cursors) goes as deep as asked; one row more is read
    to know whether a next page exists."""
    try:
        number = max(1, int(number or 1))
    except (TypeError, ValueError):
        number = 1
    open_ended = paginator.row_limit is None
    if not open_ended:  # past the numbered pages: the last of them (as get_page does)
        number = min(number, max(1, paginator.row_limit // paginator.per_page))
    offset = (number - 1) * paginator.per_page
    queryset = paginator.object_list
    try:
        count = bounded_count_sql(queryset, paginator.cap)
    except EmptyResultSet:  # a filter Django proves empty: no rows, no query
        paginator.count = 0
        return Page([], 1, paginator)
    end = offset + paginator.per_page + open_ended
    if rows is None:
        rows = list(queryset.annotate(_bounded_count=count)[offset:end])
    else:
        rows = list(by_ids(queryset[offset:end], rows, queryset.query.order_by)
                    .annotate(_bounded_count=count))
    if not rows:
        if number > 1:
            return None
        paginator.count = 0  # page 1 is empty: so is the list
        return Page([], 1, paginator)
    paginator.count = rows[0]._bounded_count  # the cached_property, filled
    if open_ended:
        paginator.open_pages = number + (len(rows) > paginator.per_page)
        rows = rows[:paginator.per_page]
    return Page(rows, number, paginator)


class CappedPaginator(WagtailPaginator):
    """Wagtail's paginator with a bounded count (``is_capped``: more than
    ``cap``) whose numbered pages stop at ``row_limit`` rows (``is_truncated``:
    the list goes on, by cursor). ``row_limit = None`` (an ordering without
    cursors): numbered pages as deep as the list goes (``is_open_ended`` when
    the total is unknown; ``open_pages`` is set by :func:`numbered_page`)."""

    cap = COUNT_CAP
    row_limit = PAGE_ROWS
    open_pages = None

    @cached_property
    def count(self):
        try:
            return bounded_count(self.object_list, self.cap)
        except EmptyResultSet:
            return 0

    @property
    def is_capped(self):
        return self.count > self.cap

    @property
    def is_truncated(self):
        return self.row_limit is not None and self.count > self.row_limit

    @property
    def is_open_ended(self):
        return self.row_limit is None and self.is_capped

    @cached_property
    def num_pages(self):
        if self.is_open_ended:
            if self.open_pages is None:  # as far as the count reached
                self.open_pages = -(-self.count // self.per_page)
            return self.open_pages
        if self.is_truncated:
            return max(1, self.row_limit // self.per_page)
        return super().num_pages

    @cached_property
    def items_count_label(self):
        if self.is_capped:
            return _("More than %(count)s tickets") % {"count": localised(self.cap)}
        return ngettext("%(count)s ticket", "%(count)s tickets", self.count) % {
            "count": localised(self.count)}


# --- keyset cursors ---------------------------------------------------------------------------


def keyset_field(ordering):
    """The column a cursor follows for ``ordering``, or None (not keyset-able)."""
    field = (ordering or "").lstrip("-")
    return field if field in KEYSET_FIELDS else None


def encode(ordering, ticket):
    field = Ticket._meta.get_field(keyset_field(ordering))
    value = None if field.value_from_object(ticket) is None else field.value_to_string(ticket)
    raw = json.dumps([ordering, value, ticket.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor, ordering):
    """``(value, pk)`` of a cursor made for ``ordering``, or None if it is not one."""
    name = keyset_field(ordering)
    if not name or not cursor or len(cursor) > 200:
        return None
    nullable = name in NULLABLE_KEYSET_FIELDS
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stored, value, pk = json.loads(raw)
        if stored != ordering or not isinstance(pk, int) or isinstance(pk, bool):
            return None
        if value is None:
            return (None, pk) if nullable else None
        if not isinstance(value, str):
            return None
        value = Ticket._meta.get_field(name).to_python(value)
    except (ValueError, TypeError, OverflowError):  # incl. ValidationError, bad base64/JSON
        return None
    return (value, pk) if value is not None else None


def _beyond(ordering, value, pk, forward):
    """Rows after (``forward``) or before the row (``value``, ``pk``) in ``ordering``.

    ``col <= v AND (col < v OR id < pk)`` rather than the bare OR: the first
    term bounds the index range, so the walk starts at the cursor. A nullable
    column's empty values are the greatest: they come last going up."""
    name = keyset_field(ordering)
    descending = ordering.startswith("-") == forward
    strict, loose = ("lt", "lte") if descending else ("gt", "gte")
    after_id = Q(**{f"pk__{strict}": pk})
    if name not in NULLABLE_KEYSET_FIELDS:
        return Q(**{f"{name}__{loose}": value}) & (Q(**{f"{name}__{strict}": value}) | after_id)
    empty = Q(**{f"{name}__isnull": True})
    if value is None:  # among the empty values: the rest of them, then (going down) the others
        return empty & after_id if not descending else (empty & after_id) | ~empty
    beyond = Q(**{f"{name}__{strict}": value}) | (Q(**{name: value}) & after_id)
    return beyond if descending else beyond | empty


class KeysetPaginator:
    """The paginator of a page read through a cursor: no count, no numbers."""

    count = None
    num_pages = None
    is_capped = False

    def get_elided_page_range(self, *args, **kwargs):
        return []


@dataclass
class KeysetPage:
    """One page read through a cursor, shaped for the templates."""

    object_list: list
    ordering: str
    has_next: bool
    has_previous: bool

    def __len__(self):
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    @property
    def next_cursor(self):
        return encode(self.ordering, self.object_list[-1]) if self.object_list else None

    @property
    def previous_cursor(self):
        return encode(self.ordering, self.object_list[0]) if self.object_list else None


def keyset_page(queryset, ordering, per_page, *, after=None, before=None, rows=None):
    """The page of ``queryset`` (ordered by ``ordering`` and id) after the row
    of cursor ``after`` or before that of ``before`` (decoded), or None when
    no valid cursor was given. One query; ``rows(ids)``, if given, reads the
    rows by id (:func:`by_ids`)."""
    def read(window, order):
        window = window.order_by(*order)[:per_page + 1]
        return list(window if rows is None else by_ids(window, rows, order))

    if after is not None:
        found = read(queryset.filter(_beyond(ordering, *after, forward=True)),
                     ordering_with_id(ordering))
        return KeysetPage(found[:per_page], ordering, has_next=len(found) > per_page,
                          has_previous=True)
    if before is not None:
        reverse = ordering[1:] if ordering.startswith("-") else f"-{ordering}"
        found = read(queryset.filter(_beyond(ordering, *before, forward=False)),
                     ordering_with_id(reverse))
        more = len(found) > per_page
        return KeysetPage(found[:per_page][::-1], ordering, has_next=True, has_previous=more)
    return None


def page_cursor(page, ordering):
    """The ``after`` cursor of the last row of a numbered ``page`` (a
    :class:`~django.core.paginator.Page`), when the list can go on by cursor."""
    if not keyset_field(ordering) or not isinstance(page, Page) or not page.object_list:
        return None
    return encode(ordering, list(page.object_list)[-1])
