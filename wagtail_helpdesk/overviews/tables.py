"""The overview's figures as tables: one definition shared by the PDF and
the XLSX, so both say the same thing. Cells are numbers where they are
numbers (durations in hours, shares in per cent) and None when unknown."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..formats import format_date
from .figures import hours


@dataclass
class Table:
    key: str
    title: str
    headers: list
    rows: list = field(default_factory=list)


def period_text(figures):
    return _("%(start)s to %(end)s") % {"start": format_date(figures["start"]),
                                        "end": format_date(figures["end"])}


def offices_text(figures):
    if figures["all_offices"]:
        return _("All offices")
    return ", ".join(figures["offices"]) or _("No office")


def _share(part, whole):
    return round(100 * part / whole, 1) if whole else None


def summary(figures):
    volumes, times, backlog = figures["volumes"], figures["times"], figures["backlog"]
    rating = figures["satisfaction"]
    return Table("summary", pgettext("overview sheet", "Summary"), [_("Figure"), _("Value")], [
        (_("Period"), period_text(figures)),
        (_("Offices"), offices_text(figures)),
        (_("Tickets submitted"), volumes["total"]),
        (_("Assistance requests"), volumes["requests"]),
        (_("Reports"), volumes["reports"]),
        (_("Tickets resolved"), times["resolution"]["count"]),
        (_("Median first response (hours)"), hours(times["first_response"]["median"])),
        (_("Median resolution time (hours)"), hours(times["resolution"]["median"])),
        (_("Resolved within the deadline (%)"), times["sla"]["share"]),
        (_("Open at the start"), backlog["start"]),
        (_("Open at the end"), backlog["end"]),
        (_("Ratings received"), rating["count"]),
        (_("Average rating (1-5)"), rating["average"]),
    ])


def counted(key, title, name_header, rows, total):
    return Table(key, title, [name_header, _("Number of tickets"), _("Share (%)")],
                 [(row["name"] or _("No office"), row["count"], _share(row["count"], total))
                  for row in rows])


def time_rows(figures):
    times = figures["times"]
    sla = times["sla"]
    rows = []
    for key, label in (("first_response", _("First response")),
                       ("resolution", _("Resolution"))):
        t = times[key]
        rows.append([label, t["count"], hours(t["average"]), hours(t["median"]), hours(t["p90"]),
                     None, None, None])
    rows[1][5:] = [sla["with_deadline"], sla["within"], sla["share"]]
    return Table("times", _("Times"), [
        _("Measure"), _("Number of tickets"), _("Average (hours)"), _("Median (hours)"),
        _("90th percentile (hours)"), _("With a deadline"), _("Within the deadline"),
        _("Within the deadline (%)")], [tuple(r) for r in rows])


def backlog_rows(figures):
    backlog = figures["backlog"]
    return Table("backlog", _("Backlog"), [_("When"), _("Open tickets"), _("Past the deadline")], [
        (_("Start of %(day)s") % {"day": format_date(figures["start"])}, backlog["start"], None),
        (_("End of %(day)s") % {"day": format_date(figures["end"])}, backlog["end"],
         backlog["overdue_end"]),
    ])


def satisfaction_rows(figures):
    rating = figures["satisfaction"]
    return Table("satisfaction", _("Satisfaction"), [_("Score"), _("Ratings"), _("Share (%)")],
                 [(row["score"], row["count"], _share(row["count"], rating["count"]))
                  for row in rating["scores"]])


def place_rows(figures):
    return Table("places", _("Places"), [
        _("Rank"), _("Street"), _("Reports"), _("Latitude"), _("Longitude")],
        [(cell["rank"], cell["street"], cell["count"], round(cell["lat"], 4),
          round(cell["lng"], 4)) for cell in figures["places"]["top"]])


def series_rows(figures):
    weekly = figures["series"]["unit"] == "week"
    return Table("series", _("By week") if weekly else _("By day"), [
        _("Week from") if weekly else _("Day"), pgettext("tickets per day", "Submitted"),
        pgettext("tickets per day", "Resolved")],
        [(row["day"], row["opened"], row["resolved"]) for row in figures["series"]["rows"]])


def all_tables(figures):
    volumes = figures["volumes"]
    total = volumes["total"]
    return [
        summary(figures),
        counted("channels", _("Channels"), _("Channel"), volumes["by_channel"], total),
        counted("services", _("Services"), _("Service"), volumes["by_service"],
                volumes["requests"]),
        counted("categories", _("Report categories"), _("Report category"),
                volumes["by_category"], volumes["reports"]),
        counted("offices", _("Offices"), _("Office"), volumes["by_office"], total),
        time_rows(figures),
        backlog_rows(figures),
        satisfaction_rows(figures),
        place_rows(figures),
        series_rows(figures),
    ]
