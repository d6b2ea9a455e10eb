"""The ticket list's export (CSV/XLSX): streamed in chunks, large ones in the
background (issue 20).

Wagtail's ``IndexView`` builds the whole page context before exporting, and
its ``len(object_list)`` loads every row at once. Here an export skips the
page: it takes the list's own queryset (:meth:`get_queryset`: the same queue,
filters, search and ordering as the page) and

* a CSV of up to :data:`CSV_INLINE_LIMIT` rows is streamed as it is read,
  :data:`CHUNK` rows per fetch (:mod:`wagtail_helpdesk.exports.rows`: plain
  values, the citizen's name and, on PostgreSQL, the labels and the
  datetimes' text read with the rows), each chunk written by one
  ``csv.writer`` call, so memory stays flat whatever the number of rows;
* an XLSX (Wagtail's writer, built in memory) is made on the spot up to
  :data:`XLSX_INLINE_LIMIT` rows;
* anything larger becomes a background export
  (:mod:`wagtail_helpdesk.exports`): a row, a django-q2 task, a file in the
  private storage and a permission-checked download link.

Cells are data, never formulas: a CSV cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets an apostrophe in front (OWASP's
advice against formula injection: citizens write subjects and names), in
both ways of reading the rows and in the background files; an XLSX cell is
always a string cell (``data_type`` ``"s"``), whatever its text.

Whether an export is large costs one bounded query (``COUNT`` over at most
limit + 1 rows), never a full count. The columns and headings are the list's
``list_export``/``export_headings``, plus the ticket's labels.
"""

import csv
import io
import re
from functools import partial
from itertools import islice

from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.admin.widgets.button import Button
from wagtail.coreutils import multigetattr

from ...exports import rows as export_rows
from ...tickets import labels

#: Rows read per fetch while exporting (and written per piece of a CSV).
CHUNK = 5000
#: Rows written per piece of the streamed response.
ROWS_PER_PIECE = 250
#: The largest CSV streamed on the spot; larger ones go to the background.
CSV_INLINE_LIMIT = 100_000
#: The largest XLSX made on the spot (in memory); larger ones go to the background.
XLSX_INLINE_LIMIT = 5_000
#: What a spreadsheet may take for the start of a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A text starting like a formula, in texts joined after a NUL each.
FORMULA_AFTER_NUL = re.compile("\0[" + re.escape("".join(FORMULA_STARTS)) + "]")
#: Characters an XLSX file cannot hold (openpyxl refuses them).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Columns the export adds to the list's ``list_export``.
EXTRA_COLUMNS = {"labels": gettext_lazy("Labels")}


class ChunkedRows:
    """The queryset read :data:`CHUNK` rows at a time, for Wagtail's writers
    (they ask the rows for ``model`` to name the columns): row dicts read as
    plain values (:mod:`wagtail_helpdesk.exports.rows`) when every column
    can be, else model instances."""

    def __init__(self, queryset, fields, chunk_size=CHUNK):
        self.model = queryset.model
        self.queryset = queryset
        self.chunk_size = chunk_size
        self.columns = export_rows.plan(queryset.model, fields)

    def __iter__(self):
        if self.columns is None:
            return export_queryset(self.queryset).iterator(chunk_size=self.chunk_size)
        return export_rows.rows(self.queryset, self.columns, self.chunk_size)


def export_queryset(queryset):
    """``queryset`` with every row's labels prefetched (once per chunk)."""
    for lookup in queryset._prefetch_related_lookups:
        if getattr(lookup, "prefetch_to", lookup) == "labels":
            return queryset
    return queryset.prefetch_related(labels.prefetch())


def neutralised(value):
    """``value`` as a CSV cell that no spreadsheet takes for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_column(values):
    """:func:`neutralised` on every cell of a column (a list). Most columns
    have no cell to change: that is found on their texts joined, each after
    a NUL (a false alarm, a text holding a NUL, only costs the cell by cell way)."""
    try:
        joined = "\0" + "\0".join(filter(None, values))  # no None, no ""
    except TypeError:  # not only texts
        pass
    else:
        if not FORMULA_AFTER_NUL.search(joined):
            return values
    return [("'" + value) if isinstance(value, str) and value.startswith(FORMULA_STARTS)
            else value for value in values]


def xlsx_text(value):
    """``value`` without the characters an XLSX cell cannot hold."""
    if isinstance(value, str):
        return XLSX_ILLEGAL.sub("", value)
    if isinstance(value, list):
        return [xlsx_text(item) for item in value]
    return value


def pieces(lines, size=ROWS_PER_PIECE):
    """Wagtail's CSV lines joined ``size`` at a time (fewer, larger writes)."""
    lines = iter(lines)
    while piece := list(islice(lines, size)):
        yield b"".join(piece)


class TicketExportMixin:
    """Mixed into :class:`~.listing.TicketIndexView` before ``IndexView``."""

    csv_inline_limit = CSV_INLINE_LIMIT
    xlsx_inline_limit = XLSX_INLINE_LIMIT
    chunk_size = CHUNK

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.list_export = [*self.list_export, *EXTRA_COLUMNS]
        self.export_headings = {**self.export_headings, **EXTRA_COLUMNS}

    # --- Rows -------------------------------------------------------------------------

    @cached_property
    def export_getters(self):
        """How the model instances' columns are read (when not read as values):
        the labels as a list of names (Wagtail's writers join a list with
        ", "), anything else as Wagtail does."""
        return [(field, (lambda item: [label.name for label in labels.labels_of(item)])
                 if field == "labels" else partial(_get, accessor=field))
                for field in self.list_export]

    def to_row_dict(self, item):
        if isinstance(item, dict):  # read as values already
            return item
        return {field: getter(item) for field, getter in self.export_getters}

    def write_csv_row(self, writer, row_dict):
        plain = (str, int, type(None))
        return writer.writerow({
            field: neutralised(
                value if type(value) in plain and not self.custom_field_preprocess
                else self.preprocess_field_value(field, value, self.FORMAT_CSV))
            for field, value in row_dict.items()})

    def generate_xlsx_row(self, worksheet, row_dict, date_format=None):
        """Wagtail's cells, every text one a string cell (never a formula),
        without the control characters an XLSX file cannot hold."""
        row_dict = {field: xlsx_text(value) for field, value in row_dict.items()}
        for cell in super().generate_xlsx_row(worksheet, row_dict, date_format=date_format):
            if isinstance(cell.value, str):
                cell.data_type = "s"
            yield cell

    def preprocess_field_value(self, field, value, export_format):
        # Text, numbers and nothing are written as they are (what Wagtail's
        # force_str would give), without looking for a preprocessing function.
        if (value is None or type(value) in (str, int)) and not self.custom_field_preprocess:
            return value
        return super().preprocess_field_value(field, value, export_format)

    def get_export_queryset(self):
        """The list's queryset (queue, filters, search, ordering)."""
        return self.get_queryset()

    def stream_csv(self, queryset):
        if hasattr(queryset, "query"):  # a QuerySet: read it in chunks
            columns = export_rows.plan(queryset.model, self.list_export)
            if columns is not None and self.csv_cells_are_plain():
                return self.stream_csv_chunks(queryset, columns)
            queryset = ChunkedRows(queryset, self.list_export, self.chunk_size)
        return pieces(super().stream_csv(queryset))

    def csv_cells_are_plain(self):
        """Whether a CSV cell is what ``str()`` makes of its value (the
        labels joined with ", "), as Wagtail writes it without preprocessing."""
        return not self.custom_field_preprocess and (
            self.custom_value_preprocess is SpreadsheetExportMixin.custom_value_preprocess)

    def stream_csv_chunks(self, queryset, columns):
        """The CSV, one piece per chunk of rows: the cells as Wagtail's
        writer gives them (:meth:`write_csv_row`, formulas neutralised), in
        one ``csv.writer`` call per chunk."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([self.get_heading(queryset, field) for field in self.list_export])
        yield buffer.getvalue().encode()
        for chunk in export_rows.text_chunks(queryset, columns, self.chunk_size):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(zip(*[
                cells if column.formula_safe else neutralised_column(cells)
                for column, cells in zip(columns, chunk, strict=True)], strict=True))
            yield buffer.getvalue().encode()

    def write_xlsx(self, queryset, output):
        if hasattr(queryset, "query"):
            queryset = ChunkedRows(queryset, self.list_export, self.chunk_size)
        return super().write_xlsx(queryset, output)

    # --- The request ------------------------------------------------------------------

    def inline_limit(self, export_format):
        return self.xlsx_inline_limit if export_format == self.FORMAT_XLSX else (
            self.csv_inline_limit)

    def get(self, request, *args, **kwargs):
        if not self.is_export:
            return super().get(request, *args, **kwargs)
        export_format = request.GET["export"]
        queryset = self.get_export_queryset()
        limit = self.inline_limit(export_format)
        # One bounded query: are there more rows than may be exported on the spot?
        if queryset.order_by().values("pk")[:limit + 1].count() > limit:
            return self.export_in_background(export_format)
        return self.as_spreadsheet(queryset, export_format)

    def export_in_background(self, export_format):
        from ...exports import tasks

        if tasks.pending(self.request.user) >= tasks.PENDING_LIMIT:
            messages.error(self.request, _(
                "You already have %(count)d exports being prepared: wait for one of them to "
                "be ready, then ask again.") % {"count": tasks.PENDING_LIMIT})
            return redirect(self.list_url(self.request.GET))
        params = self.request.GET.copy()
        params.pop("export", None)
        params.pop(self.page_kwarg, None)
        export = tasks.request_export(self.request.user, export_format, params.urlencode(),
                                      translation.get_language() or "")
        url = exports_url()
        buttons = [messages.button(url, _("Your exports"))] if url else None
        messages.success(
            self.request,
            _("The list has more than %(limit)s tickets: the %(format)s file is being "
              "prepared in the background. Download it from your exports when it is ready.")
            % {"limit": number_format(self.inline_limit(export_format), force_grouping=True),
               "format": export.get_format_display()},
            buttons=buttons)
        return redirect(self.list_url(self.request.GET))

    def list_url(self, params):
        """The list with ``params`` but without the export."""
        params = params.copy()
        params.pop("export", None)
        target = self.index_url or self.request.path
        return f"{target}?{params.urlencode()}" if params else target

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons.copy()
        url = exports_url()
        if url and self.show_export_buttons:
            buttons.append(Button(gettext_lazy("Your exports"), url=url, icon_name="download",
                                  priority=110))
        return buttons


def _get(item, accessor):
    return multigetattr(item, accessor)


def exports_url():
    """The page of the user's background exports, once its URL is wired (None before)."""
    try:
        return reverse("helpdesk_tickets:exports")
    except NoReverseMatch:
        return None
