"""Which reports the open data publishes, and what their rows hold."""

import hashlib
import re
from datetime import UTC, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.models import Kind, Ticket
from wagtail_helpdesk.opendata import dataset, grid
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db


def _rows(territory):
    return list(dataset.rows(territory.options))


def test_a_report_row_holds_the_documented_columns(territory):
    ticket = territory.report(status=Status.RESOLVED, days_ago=5)
    [row] = _rows(territory)
    assert tuple(row) == dataset.COLUMNS
    assert set(dataset.COLUMN_DESCRIPTIONS) == set(dataset.COLUMNS)
    assert row["categoria"] == "Buche stradali"
    assert row["categoria_codice"] == territory.category.slug
    assert row["stato"] == "risolta" and row["esito"] == "Risolta"
    assert row["ufficio"] == "Lavori pubblici"
    assert row["data_ricezione"] == ticket.submitted_at.astimezone(
        timezone.get_default_timezone()).date().isoformat()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["data_risoluzione"])
    assert (row["latitudine"], row["longitudine"]) == grid.snap(
        ticket.latitude, ticket.longitude, territory.options.grid_metres)


def test_dates_are_days_in_the_sites_time_zone(territory):
    """23:30 UTC on 31 December is already 1 January in Rome."""
    from datetime import datetime

    ticket = territory.report(days_ago=400)
    Ticket.objects.filter(pk=ticket.pk).update(
        submitted_at=datetime(2024, 12, 31, 23, 30, tzinfo=UTC))
    [row] = _rows(territory)
    assert row["data_ricezione"] == "2025-01-01"


@pytest.mark.parametrize("status, public", [
    (Status.NEW, "aperta"), (Status.IN_PROGRESS, "presa_in_carico"),
    (Status.WAITING, "in_attesa"), (Status.RESOLVED, "risolta"),
])
def test_the_status_is_told_in_the_public_vocabulary(territory, status, public):
    territory.report(status=status)
    [row] = _rows(territory)
    assert row["stato"] == public
    if status != Status.RESOLVED:
        assert row["data_risoluzione"] == "" and row["esito"] == ""


def test_the_outcome_is_the_resolution_type_name(territory):
    territory.report(status=Status.RESOLVED, resolution="non-di-competenza")
    [row] = _rows(territory)
    assert row["esito"] == "Non di competenza"


def test_a_reopened_report_has_no_outcome_or_resolution_day(territory):
    ticket = territory.report(status=Status.RESOLVED)
    ticket = services.reopen(ticket, territory.operator, reason="Ancora rotta.")
    [row] = _rows(territory)
    assert row["stato"] == dataset.PUBLIC_STATUS[ticket.status] != "risolta"
    assert (row["esito"], row["data_risoluzione"]) == ("", "")


def test_reports_appear_only_delay_days_after_they_were_received(territory):
    territory.configure(delay_days=7)
    territory.report(days_ago=6)
    old = territory.report(days_ago=8)
    assert [row["id"] for row in _rows(territory)] == [dataset.opaque_id(old.pk)]
    territory.configure(delay_days=0)
    assert len(_rows(territory)) == 2


def test_reports_of_an_unpublished_category_never_appear(territory):
    # Categories are left out unless an editor opts them in.
    hidden = territory.factories.report_category(territory.office, name="Violenza domestica")
    assert hidden.open_data is False
    territory.report(category=hidden)
    shown = territory.report()
    assert [row["id"] for row in _rows(territory)] == [dataset.opaque_id(shown.pk)]
    assert "Violenza domestica" not in str(_rows(territory))


def test_drafts_requests_and_reports_without_a_place_never_appear(territory):
    factories = territory.factories
    draft = factories.report_ticket(category=territory.category, draft=True)
    assert draft.status == Status.DRAFT
    request = factories.request_ticket(service_=factories.service(territory.office))
    assert request.kind == Kind.REQUEST
    placeless = territory.report(days_ago=30)
    Ticket.objects.filter(pk=placeless.pk).update(latitude=None, longitude=None)
    Ticket.objects.update(created_at=timezone.now() - timedelta(days=30),
                          submitted_at=timezone.now() - timedelta(days=30))
    assert _rows(territory) == []
    shown = territory.report()
    assert [row["id"] for row in _rows(territory)] == [dataset.opaque_id(shown.pk)]


def test_the_id_is_opaque_and_stable(territory):
    ticket = territory.report()
    first = _rows(territory)[0]["id"]
    assert first == _rows(territory)[0]["id"]  # the same in every export
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first not in (str(ticket.pk), ticket.short_code)
    # Not a plain hash of the pk either: anybody could compute that one.
    assert first != hashlib.sha256(str(ticket.pk).encode()).hexdigest()[:16]
    other = territory.report()
    assert _rows(territory)[1]["id"] == dataset.opaque_id(other.pk) != first
    with override_settings(SECRET_KEY="another-key-another-site-another-municipality"):
        assert _rows(territory)[0]["id"] != first  # nobody can compute it without the key


def test_rows_are_streamed_from_one_query(territory, django_assert_num_queries):
    for _ in range(5):
        territory.report()
    with django_assert_num_queries(1):
        assert len(list(dataset.rows(territory.options))) == 5
