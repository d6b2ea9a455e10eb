"""The overview's figures, table by table, on the hand-built month."""

import math
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_helpdesk.overviews import figures

from .conftest import END, START


def compute(month, **kwargs):
    return figures.compute(START, END, [month.anagrafe], **kwargs)


def test_volumes_by_channel_service_category_and_office(month):
    v = compute(month)["volumes"]
    # t1, t2, t3, t4, t5, t11 (t12 is 1 March in Rome, t10 another office).
    assert (v["total"], v["requests"], v["reports"]) == (6, 3, 3)
    assert {r["key"]: r["count"] for r in v["by_channel"]} == {"web": 4, "phone": 1, "email": 1}
    assert v["by_channel"][0]["key"] == "web"  # busiest first
    assert [(r["name"], r["count"]) for r in v["by_service"]] == [
        ("Residenza", 2), ("Carta d'identità", 1)]
    assert [(r["name"], r["count"]) for r in v["by_category"]] == [("Buche stradali", 3)]
    assert [(r["name"], r["count"]) for r in v["by_office"]] == [("Anagrafe", 6)]


def test_all_offices_counts_every_office(month):
    v = figures.compute(START, END, all_offices=True)["volumes"]
    assert v["total"] == 7
    assert {r["name"]: r["count"] for r in v["by_office"]} == {"Anagrafe": 6, "Tributi": 1}


def test_times_percentiles_and_sla(month):
    t = compute(month)["times"]
    first = t["first_response"]
    # First answered in February: t1 (2 h), t2 (4 h), t3 (6 h).
    assert first["count"] == 3
    assert first["median"] == timedelta(hours=4)
    assert first["p90"] == timedelta(hours=6)
    assert first["average"] == timedelta(hours=4)
    res = t["resolution"]
    # Resolved in February: t1 (24 h), t2 (96 h), t6 (16 days), t8 (33 days).
    assert res["count"] == 4
    assert res["median"] == timedelta(hours=96)  # nearest rank: the 2nd of 4
    assert res["p90"] == timedelta(days=33)
    assert figures.hours(res["median"]) == 96.0
    # With a deadline: t1 (in time), t2 and t6 (late).
    assert t["sla"] == {"with_deadline": 3, "within": 1, "late": 2, "share": 33.3}


def test_backlog_follows_reactivations(month):
    b = compute(month)["backlog"]
    # At the start: t6 (resolved on 5 Feb) and t7 (reactivated in January);
    # not t8 (resolved again before), not t9.
    assert b["start"] == 2
    # At the end: t3, t4, t5, t7, t11; t3 is past its deadline.
    assert b["end"] == 5
    assert b["overdue_end"] == 1
    assert b["change"] == 3


def test_open_at_an_instant_between_a_reactivation_and_a_new_resolution(month):
    from wagtail_helpdesk.admin.metrics import start_of_day

    tickets = figures.scope([month.anagrafe])
    t8 = month.tickets[7]
    assert t8.pk in set(figures.open_at(tickets, start_of_day(date(2025, 2, 11)))
                        .values_list("pk", flat=True))
    assert t8.pk not in set(figures.open_at(tickets, start_of_day(date(2025, 2, 13)))
                            .values_list("pk", flat=True))


def test_satisfaction_counts_the_ratings_of_the_period_and_scope(month):
    s = compute(month)["satisfaction"]
    assert s["count"] == 2
    assert s["average"] == 4.0
    assert [r["count"] for r in s["scores"]] == [0, 0, 1, 0, 1]


def test_places_group_reports_on_the_grid_with_the_commonest_street(month):
    p = compute(month)["places"]
    assert p["located"] == 3
    assert [(c["rank"], c["street"], c["count"]) for c in p["top"]] == [
        (1, "Via Roma", 2), (2, "Piazza Duomo", 1)]
    assert abs(p["top"][0]["lat"] - 45.4642) < 0.003
    assert p["grid"] == 250


def test_series_by_day_has_every_day(month):
    s = compute(month)["series"]
    assert s["unit"] == "day"
    assert len(s["rows"]) == 28
    day3 = next(r for r in s["rows"] if r["day"] == date(2025, 2, 3))
    assert day3["opened"] == 1
    assert sum(r["opened"] for r in s["rows"]) == 6
    assert sum(r["resolved"] for r in s["rows"]) == 4


def test_long_periods_are_charted_by_week(month):
    s = figures.compute(date(2024, 11, 4), END, [month.anagrafe])["series"]
    assert s["unit"] == "week"
    assert all(r["day"].weekday() == 0 for r in s["rows"])
    assert sum(r["opened"] for r in s["rows"]) == 10  # every ticket of the office but t12


def test_empty_scope_gives_zeros(db):
    f = figures.compute(START, END, [])
    assert f["volumes"]["total"] == 0
    assert f["times"]["first_response"]["median"] is None
    assert f["times"]["sla"]["share"] is None
    assert f["places"]["top"] == []
    assert f["satisfaction"]["average"] is None


def test_street_names():
    assert figures.street("Via Roma 12, Milano") == "Via Roma"
    assert figures.street("Corso Garibaldi 41/B") == "Corso Garibaldi"
    assert figures.street("Piazza XX Settembre") == "Piazza XX Settembre"
    assert figures.street("") == ""


@pytest.mark.parametrize("extra", [0, 20])
def test_query_count_does_not_grow_with_tickets(month, factories, extra):
    from .conftest import at, place

    for i in range(extra):
        t = factories.report_ticket(category=None, latitude=f"45.{400000 + i * 3000}",
                                    longitude="9.190000", address=f"Via {i} 1")
        place(t, submitted_at=at(2, 1 + i % 27), office=month.anagrafe)
    progress = []
    with CaptureQueriesContext(connection) as queries:
        figures.compute(START, END, [month.anagrafe], progress=progress.append)
    assert len(queries) == 21
    assert progress == sorted(progress) and progress[-1] == 65


def test_street_names_are_normalised_and_capped():
    # Never a formula, a control character or a whole sentence of the citizen's.
    assert figures.street('=HYPERLINK("http://evil.example";"x") 3, Milano') == (
        'HYPERLINK("http://evil.example";"x")')
    assert figures.street("  +Via   Garibaldi\t 3/b ,x") == "Via Garibaldi"
    assert figures.street("@Via\x00Roma\n12") == "Via Roma"
    assert figures.street("-- 12") == ""
    long = figures.street("Via " + "Lunghissima " * 20 + "5")
    assert len(long) <= figures.STREET_MAX and long.startswith("Via Lunghissima")


def test_places_are_the_cells_of_the_open_data_grid(month, factories):
    """One grid: every counted report sits in the cell whose centre open data
    publishes for it (opendata.grid.snap), at the overview's 250 m."""
    from decimal import Decimal

    from wagtail_helpdesk.models import Kind, Ticket
    from wagtail_helpdesk.opendata import grid

    from .conftest import at, place

    # Two reports on either side of a cell's edge, a hair apart.
    step_lat, step_lon, row = grid.steps(45.47, figures.GRID_METRES)
    column = math.floor(9.2 / step_lon)
    edge = (column + 1) * step_lon
    for lng in (edge - 0.00001, edge + 0.00001):
        t = factories.report_ticket(category=None, latitude=Decimal("45.470000"),
                                    longitude=Decimal(f"{lng:.6f}"), address="Via Bordo 1")
        place(t, submitted_at=at(2, 9), office=month.anagrafe)
    p = compute(month)["places"]
    located = Ticket.objects.filter(kind=Kind.REPORT, office=month.anagrafe,
                                    latitude__isnull=False, submitted_at__gte=at(2, 1))
    expected = {}
    for t in located:
        centre = grid.snap(t.latitude, t.longitude, figures.GRID_METRES)
        expected[centre] = expected.get(centre, 0) + 1
    assert {(c["lat"], c["lng"]): c["count"] for c in p["cells"]} == expected
    assert len(expected) == 4  # Via Roma's pair, Piazza Duomo, two across the edge
    assert figures.GRID_METRES == 250 and grid.METRES_PER_DEGREE == 111_320
    assert not hasattr(figures, "METRES_PER_DEGREE")  # defined once, in opendata.grid
