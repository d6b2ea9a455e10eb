"""The overview's tables as an XLSX workbook (openpyxl): one sheet per
table, the header row bold, numbers as numbers (durations in hours).

No cell is ever a formula: openpyxl stores a string starting with "=" as a
formula, so every text cell is written as a string (``data_type "s"``), and
one starting with ``= + - @`` also gets Excel's "quote prefix" style (kept as
text even when edited). Names come from editors (offices, services,
categories) and streets from citizens' addresses: text, never code."""

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from . import tables

#: First characters a spreadsheet would read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Characters Excel refuses in sheet names.
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title, used):
    name = _BAD.sub(" ", str(title))[:31] or "Sheet"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]} {n}"
        n += 1
    used.add(name)
    return name


def _value(value):
    if value is None or isinstance(value, (int, float)) or hasattr(value, "isoformat"):
        return value
    return str(value)


def append_row(sheet, values):
    """Append ``values``: numbers and dates as they are, everything else as
    a text cell that is never a formula."""
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet["A1"].value is not None else 1
    for column, value in enumerate(values, 1):
        value = _value(value)
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True
    return sheet[row]


def overview_xlsx(figures):
    """The workbook as bytes."""
    book = Workbook()
    book.remove(book.active)
    used = set()
    bold = Font(bold=True)
    for data in tables.all_tables(figures):
        sheet = book.create_sheet(sheet_name(data.title, used))
        for cell in append_row(sheet, [str(h) for h in data.headers]):
            cell.font = bold
        for row in data.rows:
            append_row(sheet, row)
        for column, header in zip(sheet.iter_cols(min_row=1, max_row=1), data.headers,
                                  strict=True):
            width = max([len(str(header))] + [len(str(r[column[0].column - 1] or ""))
                                              for r in data.rows[:200]])
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
