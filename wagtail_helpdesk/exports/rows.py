"""The rows of a ticket list export, read fast: plain values in chunks.

Reading 50,000 tickets as model instances (five related objects joined in
each, the labels prefetched through their managers, ``get_<x>_display``
rebuilding and translating every choice for every call) costs far more than
the database's part. Here each chunk is one fetch of plain values (one query
read through a server-side cursor where the database has them), worked on a
column at a time: what a column shows is worked out once per export
(choices' labels), once per chunk (the small related tables' names, by id,
and the labels) or from columns joined in the query (the citizen's name:
there are as many citizens as tickets). The same text as the model
instances give: a test compares the two, column by column and byte by byte.

:func:`chunks` gives the values as the model instances hold them (datetimes
as datetimes, the labels as a list of names: :func:`rows` makes the dicts
Wagtail's XLSX writer takes); :func:`text_chunks` gives a CSV's cells (the
labels joined, datetimes as ``str()`` writes them: on PostgreSQL that text
is made by the database, sparing the parsing of every timestamp).

:func:`plan` returns None when a column is not one it knows how to read
(something added to ``list_export`` later): the caller then reads model
instances, as before.
"""

from abc import ABC, abstractmethod
from contextlib import contextmanager, suppress
from itertools import islice

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, NotSupportedError, connections, models
from django.db.models import CharField, Func, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils.translation import get_language, gettext

from ..models import Citizen, Label, TicketLabel


def _reference(short_code, pk):
    """:attr:`Ticket.reference <wagtail_helpdesk.models.Ticket.reference>` from values."""
    return short_code or (f"#{pk}" if pk else "")


#: Ticket properties read from values: name -> (columns, function of them).
COMPUTED = {"reference": (("short_code", "pk"), _reference)}


def _citizen_name():
    """``str(citizen)`` from its id and name fields (None without a citizen),
    in the active language."""
    anonymous = gettext("Anonymous citizen")

    def name(pk, given_name, family_name, fiscal_code):
        if pk is None:
            return None
        full = (f"{given_name} {family_name}" if given_name and family_name
                else given_name or family_name)
        return full or fiscal_code or anonymous
    return name


#: Related models named from fields joined in the query (large tables: one
#: name per ticket), not looked up by id: model -> (fields, maker of the
#: function of the id and those fields). Must give ``str(instance)``.
NAMED_BY_JOIN = {Citizen: (("given_name", "family_name", "fiscal_code"), _citizen_name)}


class UtcText(Func):
    """A timestamp as ``str()`` writes the aware UTC datetime Django reads
    (``2025-01-31 08:05:09.250000+00:00``, no fraction when it is zero),
    written by PostgreSQL."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        # Used only where _datetimes_as_text() says so; elsewhere the datetime is read.
        raise NotSupportedError("UtcText is written by PostgreSQL only")

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        # Only the fraction can read ".000000+" (one to_char: cheaper than two).
        return (f"replace(to_char(({sql}) AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')", params)


def _datetimes_as_text(db):
    """Whether the database can write the datetimes' text: PostgreSQL, whose
    connection Django keeps in UTC (datetimes read back aware, in UTC)."""
    connection = connections[db]
    return (connection.vendor == "postgresql" and settings.USE_TZ
            and connection.timezone_name == "UTC")


class _Column(ABC):
    """One exported column: the values it reads (``reads``: field paths)
    and :meth:`show`, the column's cells from them (a list per chunk).
    ``formula_safe``: its text never starts like a formula (dates)."""

    formula_safe = False

    def __init__(self, name, reads):
        self.name, self.reads = name, tuple(reads)

    def selects(self, chunk):
        """{name: expression, or None for the path ``name``} this column
        reads (on ``chunk``'s database)."""
        return dict.fromkeys(self.reads)

    @abstractmethod
    def show(self, values, chunk):
        """The column's cells (a list) from a chunk's ``values``."""


class _Plain(_Column):
    def __init__(self, name, field):
        super().__init__(name, (field.attname,))
        self.datetime = isinstance(field, models.DateTimeField)
        self.formula_safe = isinstance(field, models.DateField)  # DateTimeField too

    def selects(self, chunk):
        if chunk.db_text and self.datetime:
            return {f"{self.reads[0]}__as_text": UtcText(self.reads[0])}
        return super().selects(chunk)

    def show(self, values, chunk):
        if chunk.db_text and self.datetime:
            return values[f"{self.reads[0]}__as_text"]
        return values[self.reads[0]]


class _Computed(_Column):
    def __init__(self, name, reads, function):
        super().__init__(name, reads)
        self.function = function

    def show(self, values, chunk):
        return list(map(self.function, *(values[read] for read in self.reads)))


class _Choices(_Column):
    """The label of a choice in the language active when the rows are
    written (as ``get_<x>_display`` gives it); the table is made once per
    language."""

    def __init__(self, name, field):
        super().__init__(name, (field.attname,))
        self.field, self.tables = field, {}

    def show(self, values, chunk):
        if chunk.language not in self.tables:
            self.tables[chunk.language] = {v: str(label) for v, label in self.field.flatchoices}
        found = self.tables[chunk.language].get
        column = values[self.reads[0]]
        return list(map(found, column, column))


class _Related(_Column):
    """A small table's rows (offices, operators) named by id, looked up
    once per export (but a chunk's new ones)."""

    def __init__(self, name, field):
        super().__init__(name, (field.attname,))
        self.model = field.related_model

    def show(self, values, chunk):
        known = chunk.names.setdefault(self.model, {})
        column = values[self.reads[0]]
        if len(known) > 10 * len(column):  # keep memory flat, whatever the table
            known.clear()
        missing = set(column) - known.keys()
        missing.discard(None)
        if missing:
            known.update((pk, str(obj)) for pk, obj in
                         self.model._default_manager.in_bulk(missing).items())
        return list(map(known.get, column))


class _Joined(_Column):
    """A large table's rows (citizens) named from their fields, joined in
    the query (:data:`NAMED_BY_JOIN`)."""

    def __init__(self, name, field, fields, namer):
        super().__init__(name, (field.attname, *(f"{name}__{f}" for f in fields)))
        self.namer = namer

    def show(self, values, chunk):
        return list(map(self.namer(), *(values[read] for read in self.reads)))


class _Labels(_Column):
    """The ticket's labels by name (as ``labels_of`` sorts them): a list,
    or its text (Wagtail's ``", "``) for a CSV. On PostgreSQL each row
    brings its labels' ids (a subquery's text, "3,17": cheaper to read than
    an array; none for most tickets), named from a cache of the (small)
    labels table; elsewhere one query per chunk."""

    IDS = "labels__ids"

    def __init__(self):
        super().__init__("labels", ("pk",))

    def selects(self, chunk):
        if chunk.postgresql:
            from django.contrib.postgres.aggregates import StringAgg

            ids = (TicketLabel.objects.filter(ticket_id=OuterRef("pk")).values("ticket_id")
                   .annotate(ids=StringAgg(Cast("label_id", models.TextField()), ","))
                   .values("ids"))
            return {self.IDS: Subquery(ids, output_field=models.TextField())}
        return super().selects(chunk)

    def show(self, values, chunk):
        if chunk.postgresql:
            names = chunk.names.setdefault(Label, {})
            ids = [[int(i) for i in text.split(",")] if text else () for text in values[self.IDS]]
            missing = set().union(*ids) - names.keys()
            if missing:
                names.update(Label.objects.filter(pk__in=missing).values_list("pk", "name"))
            found = [self.sorted_names([(names[i].lower(), i, names[i]) for i in labels
                                        if i in names])  # not one deleted meanwhile
                     if labels else [] for labels in ids]
        else:
            by_ticket = {}
            for ticket_id, label_id, name in (
                    TicketLabel.objects.filter(ticket_id__in=values["pk"])
                    .values_list("ticket_id", "label_id", "label__name")):
                by_ticket.setdefault(ticket_id, []).append((name.lower(), label_id, name))
            found = [self.sorted_names(by_ticket.get(pk, ())) for pk in values["pk"]]
        if chunk.as_text:
            return [", ".join(labels) for labels in found]
        return found

    @staticmethod
    def sorted_names(labels):
        """The names of ``labels`` (``(lowercase name, id, name)``), sorted."""
        if len(labels) < 2:
            return [name for _lower, _id, name in labels]
        return [name for _lower, _id, name in sorted(labels)]


def _column(model, name):
    if name == "labels":
        return _Labels()
    if name in COMPUTED:
        reads, function = COMPUTED[name]
        return _Computed(name, reads, function)
    if name.startswith("get_") and name.endswith("_display"):
        try:
            field = model._meta.get_field(name[4:-8])
        except FieldDoesNotExist:
            return None
        return _Choices(name, field) if field.flatchoices else None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if isinstance(field, models.ForeignKey):
        if field.related_model in NAMED_BY_JOIN:
            return _Joined(name, field, *NAMED_BY_JOIN[field.related_model])
        return _Related(name, field)
    if field.concrete and not field.is_relation:
        return _Plain(name, field)
    return None


def plan(model, fields):
    """The columns for ``fields`` (the list's ``list_export``), or None when
    one of them cannot be read from values."""
    columns = [_column(model, name) for name in fields]
    return None if any(c is None for c in columns) else columns


@contextmanager
def _planned_for_every_row(db):
    """PostgreSQL plans a server-side cursor's query for its first rows
    (``cursor_tuple_fraction``, 0.1 by default: at 1M tickets a scan in the
    list's order, filtering, three times slower than the whole query). An
    export reads every row: while its cursor is declared, the query is
    planned as a whole (the setting is then put back as it was; an aborted
    transaction puts it back itself)."""
    connection = connections[db]
    if (connection.vendor != "postgresql"
            or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('cursor_tuple_fraction'), "
                       "set_config('cursor_tuple_fraction', '1', false)")
        before = cursor.fetchone()[0]

    def restore():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('cursor_tuple_fraction', %s, false)", [before])

    try:
        yield
    except BaseException:
        with suppress(DatabaseError):
            restore()
        raise
    restore()


class _Chunk:
    """What the columns share while reading an export: how (``as_text``: a
    CSV's cells; ``db_text``: datetimes written by the database), the names
    of related rows read so far, the active language."""

    def __init__(self, db, as_text):
        self.postgresql = connections[db].vendor == "postgresql"
        self.as_text, self.db_text = as_text, as_text and _datetimes_as_text(db)
        self.names, self.language = {}, None


def chunks(queryset, columns, chunk_size, as_text=False):
    """The export of ``queryset``, ``chunk_size`` tickets at a time: per
    chunk, a list per column of its cells. ``as_text``: a CSV's cells."""
    chunk = _Chunk(queryset.db, as_text)
    selects = {}
    for column in columns:
        selects.update(column.selects(chunk))
    reads = list(selects)
    values = (queryset.prefetch_related(None).select_related(None)
              .values_list(*(selects[read] or read for read in reads))
              .iterator(chunk_size=chunk_size))
    with _planned_for_every_row(queryset.db):
        fetched = list(islice(values, chunk_size))  # the query is run (or declared) here
    while fetched:
        by_read = dict(zip(reads, zip(*fetched, strict=True), strict=True))
        del fetched
        chunk.language = get_language()
        yield [column.show(by_read, chunk) for column in columns]
        fetched = list(islice(values, chunk_size))


def text_chunks(queryset, columns, chunk_size):
    """:func:`chunks` as a CSV's cells."""
    return chunks(queryset, columns, chunk_size, as_text=True)


def rows(queryset, columns, chunk_size):
    """Row dicts (column name -> value, the labels as a list of names) of
    ``queryset``, ``chunk_size`` tickets per query."""
    names = [column.name for column in columns]
    for cells in chunks(queryset, columns, chunk_size):
        for row in zip(*cells, strict=True):
            yield dict(zip(names, row, strict=True))
