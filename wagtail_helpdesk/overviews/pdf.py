"""The overview as a PDF (fpdf2, built-in fonts, nothing fetched): a title
page, the tables, bar charts and a map of reports drawn with fpdf2's own
primitives. Rendered in the active language (the task switches to the
requester's)."""

import math

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace

from ..formats import format_date, format_datetime
from ..opendata.grid import METRES_PER_DEGREE
from . import tables

_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
                        "…": "...", "€": "EUR", "\u00a0": " ", "\u202f": " "})
#: Rows of a table shown in the PDF (the XLSX has them all).
PDF_ROWS = 25
BLUE = (0, 102, 204)
GREEN = (0, 128, 96)
RED = (204, 51, 51)
GREY = (120, 120, 120)


def latin1(text):
    """The built-in PDF fonts cover Latin-1 (all Italian letters); map the rest."""
    return str("" if text is None else text).translate(_PLAIN).encode(
        "latin-1", "replace").decode("latin-1")


def cell_text(value):
    if value is None:
        return "-"
    if isinstance(value, float):  # hours and shares: 1 decimal; coordinates: 4
        return number_format(value, 1 if round(value, 1) == value else 4)
    if hasattr(value, "isoformat"):
        return format_date(value)
    return str(value)


class OverviewPDF(FPDF):
    def __init__(self, title):
        super().__init__(format="A4")
        self.overview_title = title
        self.set_auto_page_break(True, margin=18)

    def footer(self):
        self.set_y(-12)
        self.set_font("helvetica", "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 6, latin1(f"{self.overview_title} - {self.page_no()}"), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text):
        if self.get_y() > 230:
            self.add_page()
        self.ln(3)
        self.set_font("helvetica", "B", 13)
        self.cell(0, 8, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", "", 9)

    def note(self, text):
        self.set_font("helvetica", "I", 8)
        self.multi_cell(0, 4.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("helvetica", "", 9)


def table(pdf, data, limit=PDF_ROWS):
    pdf.heading(data.title)
    rows = data.rows[:limit]
    if not rows:
        pdf.note(_("Nothing in this period."))
        return
    pdf.set_font("helvetica", "", 8.5)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)
    first = 0.4 if len(data.headers) > 2 else 0.6
    rest = (1 - first) / max(len(data.headers) - 1, 1)
    widths = [first] + [rest] * (len(data.headers) - 1)
    with pdf.table(col_widths=[w * 100 for w in widths], text_align="LEFT", line_height=5,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(230, 236, 245)),
                   first_row_as_headings=True) as grid:
        head = grid.row()
        for header in data.headers:
            head.cell(latin1(header))
        for row in rows:
            line = grid.row()
            for value in row:
                line.cell(latin1(cell_text(value)))
    if len(data.rows) > limit:
        pdf.note(_("%(n)d more rows in the spreadsheet.") % {"n": len(data.rows) - limit})


def bars(pdf, items, *, title, colour=BLUE, width=170, bar_height=5):
    """Horizontal bars: ``items`` = [(label, value)]."""
    pdf.heading(title)
    if not items or not any(v for _label, v in items):
        pdf.note(_("Nothing in this period."))
        return
    top = max(v for _label, v in items) or 1
    label_w, x0 = 55, pdf.l_margin
    scale = (width - label_w - 15) / top
    pdf.set_font("helvetica", "", 8)
    for label, value in items:
        if pdf.get_y() > 270:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(x0, y)
        pdf.cell(label_w, bar_height, latin1(label)[:40])
        pdf.set_fill_color(*colour)
        pdf.rect(x0 + label_w, y + 0.7, max(value * scale, 0.3), bar_height - 1.4, style="F")
        pdf.set_xy(x0 + label_w + value * scale + 1.5, y)
        pdf.cell(14, bar_height, latin1(value))
        pdf.set_y(y + bar_height + 0.6)
    pdf.ln(2)


def columns(pdf, rows, *, title, height=45, width=170):
    """Vertical paired bars of submitted (blue) and resolved (green) per day or week."""
    pdf.heading(title)
    if not rows:
        pdf.note(_("Nothing in this period."))
        return
    if pdf.get_y() + height + 20 > 270:
        pdf.add_page()
    top = max([max(r["opened"], r["resolved"]) for r in rows] + [1])
    x0, y0 = pdf.l_margin + 10, pdf.get_y() + 2
    base = y0 + height
    slot = (width - 10) / len(rows)
    bar = slot * 0.4
    pdf.set_draw_color(*GREY)
    pdf.line(x0, base, x0 + width - 10, base)
    pdf.set_font("helvetica", "", 6.5)
    pdf.set_xy(pdf.l_margin, y0 - 1)
    pdf.cell(9, 3, str(top), align="R")
    pdf.set_xy(pdf.l_margin, base - 2)
    pdf.cell(9, 3, "0", align="R")
    step = max(1, math.ceil(len(rows) / 16))
    for i, row in enumerate(rows):
        x = x0 + i * slot + slot * 0.1
        for offset, value, colour in ((0, row["opened"], BLUE), (bar, row["resolved"], GREEN)):
            h = height * value / top
            if h:
                pdf.set_fill_color(*colour)
                pdf.rect(x + offset, base - h, bar, h, style="F")
        if i % step == 0:
            pdf.set_xy(x - 2, base + 1)
            pdf.cell(slot * step, 3, latin1(format_date(row["day"], "d/m")))
    y = base + 6
    for i, (label, colour) in enumerate(((_("Tickets submitted"), BLUE),
                                         (_("Tickets resolved"), GREEN))):
        pdf.set_fill_color(*colour)
        pdf.rect(x0 + i * 50, y + 0.5, 3, 3, style="F")
        pdf.set_xy(x0 + i * 50 + 4, y)
        pdf.set_font("helvetica", "", 8)
        pdf.cell(44, 4, latin1(label))
    pdf.set_y(y + 8)


def sla_bar(pdf, sla, width=170):
    pdf.heading(_("Resolved within the deadline"))
    if not sla["with_deadline"]:
        pdf.note(_("No ticket with a deadline was resolved in this period."))
        return
    x0, y = pdf.l_margin, pdf.get_y() + 1
    within = width * sla["within"] / sla["with_deadline"]
    pdf.set_fill_color(*GREEN)
    pdf.rect(x0, y, within, 8, style="F")
    pdf.set_fill_color(*RED)
    pdf.rect(x0 + within, y, width - within, 8, style="F")
    pdf.set_y(y + 10)
    pdf.set_font("helvetica", "", 9)
    pdf.cell(0, 5, latin1(_("%(within)d of %(total)d within the deadline (%(share)s%%), "
                            "%(late)d late.") % {
        "within": sla["within"], "total": sla["with_deadline"],
        "share": cell_text(sla["share"]), "late": sla["late"]}), new_x="LMARGIN", new_y="NEXT")


def places_map(pdf, places, *, size=150):
    """The grid cells as bubbles on a plain frame, with a scale bar and a north arrow."""
    pdf.heading(_("Map of reports"))
    cells = places["cells"]
    if not cells:
        pdf.note(_("No report with a position in this period."))
        return
    if pdf.get_y() + size + 25 > 275:
        pdf.add_page()
    lat0 = sum(c["lat"] for c in cells) / len(cells)
    metres_x = METRES_PER_DEGREE * math.cos(math.radians(lat0))
    xs = [c["lng"] * metres_x for c in cells]
    ys = [c["lat"] * METRES_PER_DEGREE for c in cells]
    margin = places["grid"] * 1.5
    span = max(max(xs) - min(xs), max(ys) - min(ys), places["grid"] * 4) + 2 * margin
    left, bottom = (min(xs) + max(xs) - span) / 2, (min(ys) + max(ys) - span) / 2
    x0, y0 = pdf.l_margin + (170 - size) / 2, pdf.get_y() + 2
    scale = size / span  # mm per metre
    pdf.set_draw_color(*GREY)
    pdf.rect(x0, y0, size, size)
    top = max(c["count"] for c in cells)
    ranks = {(c["cy"], c["cx"]): c.get("rank") for c in places["top"]}
    biggest = min(6.0, max(places["grid"] * scale * 0.9, 2.5))
    # The biggest first, so smaller circles stay visible; the numbered ones last.
    order = sorted(zip(cells, xs, ys, strict=True),
                   key=lambda t: (bool(ranks.get((t[0]["cy"], t[0]["cx"]))),
                                  -(ranks.get((t[0]["cy"], t[0]["cx"])) or 0), -t[0]["count"]))
    for cell, x, y in order:
        px, py = x0 + (x - left) * scale, y0 + size - (y - bottom) * scale
        radius = 0.8 + (biggest - 0.8) * math.sqrt(cell["count"] / top)
        rank = ranks.get((cell["cy"], cell["cx"]))
        pdf.set_draw_color(255, 255, 255)
        pdf.set_fill_color(*(RED if rank else BLUE))
        with pdf.local_context(fill_opacity=1 if rank else 0.55):
            pdf.ellipse(px - radius, py - radius, 2 * radius, 2 * radius, style="DF")
        if rank:
            pdf.set_font("helvetica", "B", 6.5 if rank < 10 else 5.5)
            pdf.set_text_color(255, 255, 255)
            pdf.set_xy(px - 3, py - 2)
            pdf.cell(6, 4, str(rank), align="C")
            pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(*GREY)
    pdf.set_fill_color(0, 0, 0)
    # North arrow, in the frame's corner.
    nx, ny = x0 + size - 8, y0 + 4
    pdf.polygon([(nx, ny), (nx - 3, ny + 9), (nx, ny + 7), (nx + 3, ny + 9)], style="DF")
    pdf.set_xy(nx - 3, ny + 9.5)
    pdf.set_font("helvetica", "B", 8)
    pdf.cell(6, 4, "N", align="C")
    # Scale bar under the frame: a round length near a quarter of it.
    target = span / 4
    length = 10 ** math.floor(math.log10(target))
    for factor in (5, 2, 1):
        if length * factor <= target:
            length *= factor
            break
    bar_y = y0 + size + 3
    pdf.rect(x0, bar_y, length * scale, 1.2, style="F")
    pdf.set_font("helvetica", "", 7)
    pdf.set_xy(x0 + length * scale + 2, bar_y - 1.4)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    pdf.cell(30, 4, label)
    pdf.set_y(bar_y + 5)
    pdf.note(_("Each circle is a square of %(grid)d m with reports; its size grows with their "
               "number. Red circles are numbered as in the table of places. %(n)d reports "
               "with a position.") % {"grid": places["grid"], "n": places["located"]})


def overview_pdf(figures, municipality):
    """The overview as PDF bytes."""
    title = _("Help desk overview")
    pdf = OverviewPDF(latin1(f"{municipality} - {title}"))
    pdf.set_title(latin1(title))
    pdf.set_author(latin1(municipality))
    pdf.set_lang("it")
    pdf.set_creator("wagtail_helpdesk")
    # Title page.
    pdf.add_page()
    pdf.set_y(70)
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, latin1(municipality), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 24)
    pdf.cell(0, 12, latin1(title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "", 13)
    pdf.cell(0, 8, latin1(tables.period_text(figures)), align="C", new_x="LMARGIN",
             new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, latin1(tables.offices_text(figures)), align="C", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.ln(20)
    pdf.set_font("helvetica", "I", 9)
    pdf.cell(0, 6, latin1(_("Generated on %(when)s") % {
        "when": format_datetime(timezone.localtime())}), align="C", new_x="LMARGIN",
        new_y="NEXT")
    pdf.multi_cell(0, 5, latin1(_("Aggregate figures only: no personal data of citizens.")),
                   align="C", new_x="LMARGIN", new_y="NEXT")

    data = {t.key: t for t in tables.all_tables(figures)}
    volumes = figures["volumes"]
    pdf.add_page()
    table(pdf, data["summary"])
    bars(pdf, [(r["name"], r["count"]) for r in volumes["by_channel"]],
         title=_("Tickets by channel"))
    weekly = figures["series"]["unit"] == "week"
    columns(pdf, figures["series"]["rows"],
            title=_("Submitted and resolved by week") if weekly
            else _("Submitted and resolved by day"))
    pdf.add_page()
    table(pdf, data["channels"])
    table(pdf, data["offices"])
    table(pdf, data["services"])
    table(pdf, data["categories"])
    bars(pdf, [(r["name"], r["count"]) for r in figures["categories"]],
         title=_("Most frequent report categories"), colour=RED)
    pdf.add_page()
    table(pdf, data["times"])
    sla_bar(pdf, figures["times"]["sla"])
    table(pdf, data["backlog"])
    table(pdf, data["satisfaction"])
    bars(pdf, [(str(r["score"]), r["count"]) for r in figures["satisfaction"]["scores"]],
         title=_("Ratings by score"), colour=GREEN)
    pdf.add_page()
    places_map(pdf, figures["places"])
    table(pdf, data["places"])
    return bytes(pdf.output())
