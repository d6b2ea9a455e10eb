"""The rows of a ticket list export, read fast: plain values in chunks.

Reading 50,000 tickets as model instances (five related objects joined in
each, the labels prefetched through their managers, ``get_<x>_display``
rebuilding and translating every choice for every call) costs far more than
the database's part. Here each chunk is one query of plain values; what a
column shows is worked out once per export (choices' labels) or once per
chunk (the related objects' names, by id, and the labels): the same text as
the model instances give (a test compares the two, column by column).

:func:`plan` returns None when a column is not one it knows how to read
(something added to ``list_export`` later): the caller then reads model
instances, as before.
"""

from itertools import islice

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import get_language

from ..models import TicketLabel


def _reference(short_code, pk):
    """:attr:`Ticket.reference <wagtail_helpdesk.models.Ticket.reference>` from values."""
    return short_code or (f"#{pk}" if pk else "")


#: Ticket properties read from values: name -> (columns, function of them).
COMPUTED = {"reference": (("short_code", "pk"), _reference)}


class _Column:
    """One exported column: the values it reads and how it shows them."""

    def __init__(self, name, columns, show, related=None):
        self.name, self.columns, self.show, self.related = name, columns, show, related


def _same(value):
    return value


class _Choices:
    """The label of a choice in the language active when the rows are written
    (as ``get_<x>_display`` gives it); the table is made once per language."""

    def __init__(self, field):
        self.field, self.tables = field, {}

    def for_language(self, language):
        if language not in self.tables:
            self.tables[language] = {v: str(label) for v, label in self.field.flatchoices}
        table = self.tables[language]
        return lambda value: table.get(value, value)


def _column(model, name):
    if name == "labels":
        return _Column(name, ("pk",), None)
    if name in COMPUTED:
        columns, function = COMPUTED[name]
        return _Column(name, columns, function)
    if name.startswith("get_") and name.endswith("_display"):
        try:
            field = model._meta.get_field(name[4:-8])
        except FieldDoesNotExist:
            return None
        return _Column(name, (field.attname,), _Choices(field)) if field.flatchoices else None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if isinstance(field, models.ForeignKey):
        return _Column(name, (field.attname,), None, related=field.related_model)
    if field.concrete and not field.is_relation:
        return _Column(name, (field.attname,), _same)
    return None


def plan(model, fields):
    """The columns for ``fields`` (the list's ``list_export``), or None when
    one of them cannot be read from values."""
    columns = [_column(model, name) for name in fields]
    return None if any(c is None for c in columns) else columns


def rows(queryset, columns, chunk_size):
    """Row dicts (column name -> value, the labels as a list of names) of
    ``queryset``, ``chunk_size`` tickets per query."""
    names = []
    for column in columns:
        names += [c for c in column.columns if c not in names]
    index = {name: i for i, name in enumerate(names)}
    values = (queryset.prefetch_related(None).select_related(None)
              .values_list(*names).iterator(chunk_size=chunk_size))
    related_names = {}  # model -> {pk: str}, kept for small tables (offices, operators)
    wants_labels = any(c.name == "labels" for c in columns)
    while chunk := list(islice(values, chunk_size)):
        for column in columns:
            if column.related is None:
                continue
            known = related_names.setdefault(column.related, {})
            if len(known) > 10 * chunk_size:  # citizens: keep memory flat
                known.clear()
            missing = {row[index[column.columns[0]]] for row in chunk} - known.keys()
            missing.discard(None)
            if missing:
                known.update((pk, str(obj)) for pk, obj in
                             column.related._default_manager.in_bulk(missing).items())
        labels = {}
        if wants_labels:
            for ticket_id, label_id, name in (
                    TicketLabel.objects
                    .filter(ticket_id__in=[row[index["pk"]] for row in chunk])
                    .values_list("ticket_id", "label_id", "label__name")):
                labels.setdefault(ticket_id, []).append((name.lower(), label_id, name))
            for found in labels.values():  # by name, as ``labels_of`` sorts them
                found.sort()
        language = get_language()
        shows = [c.show.for_language(language) if isinstance(c.show, _Choices) else c.show
                 for c in columns]
        places = [[index[c] for c in column.columns] for column in columns]
        pk_place = index["pk"] if "pk" in index else None
        for row in chunk:
            out = {}
            for column, show, at in zip(columns, shows, places, strict=True):
                if column.name == "labels":
                    out["labels"] = [name for _l, _i, name in labels.get(row[pk_place], ())]
                elif column.related is not None:
                    pk = row[at[0]]
                    out[column.name] = None if pk is None else (
                        related_names[column.related].get(pk))
                elif len(at) == 1:
                    out[column.name] = show(row[at[0]])
                else:
                    out[column.name] = show(*(row[i] for i in at))
            yield out
