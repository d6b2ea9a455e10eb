"""The Overviews page in a real Chromium: the progress of an overview being
generated updates without reloading, and polling stops once it is ready;
axe-core finds nothing serious."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in
from wagtail_helpdesk.models import Overview, OverviewStatus

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]


def test_progress_updates_live_then_the_downloads_appear(live_server, page, factories):
    office = factories.office("Anagrafe")
    factories.supervisor(office, username="sara")
    overview = Overview.objects.create(
        period_start=date(2025, 2, 1), period_end=date(2025, 2, 28),
        requested_by=factories.supervisor(office), status=OverviewStatus.RUNNING, progress=10)
    overview.offices.set([office])
    from django.contrib.auth import get_user_model

    Overview.objects.filter(pk=overview.pk).update(
        requested_by=get_user_model().objects.get(username="sara"))
    log_in(page, live_server, "sara")
    page.goto(f"{live_server.url}/admin/helpdesk/overviews/")
    row = page.locator(f"#overview-{overview.pk}")
    expect(row.locator("progress")).to_have_attribute("value", "10")
    Overview.objects.filter(pk=overview.pk).update(progress=60)
    expect(row.locator("progress")).to_have_attribute("value", "60", timeout=10_000)
    Overview.objects.filter(pk=overview.pk).update(status=OverviewStatus.DONE, progress=100,
                                                   pdf="helpdesk/overviews/x.pdf",
                                                   xlsx="helpdesk/overviews/x.xlsx")
    expect(row.get_by_role("link", name="PDF")).to_be_visible(timeout=10_000)
    expect(page.locator("[data-running]")).to_have_count(0)

    from axe_playwright_python.sync_playwright import Axe

    violations = [v["id"] for v in Axe().run(page).response["violations"]
                  if v["impact"] in ("serious", "critical")]
    assert violations == []


def test_the_refresh_stops_when_nothing_changes_and_says_so(live_server, page, factories,
                                                            monkeypatch):
    from wagtail_helpdesk.admin import overviews as admin_overviews

    monkeypatch.setattr(admin_overviews, "REFRESH_SECONDS", 1)
    monkeypatch.setattr(admin_overviews, "REFRESH_IDLE_SECONDS", 3)
    office = factories.office("Anagrafe")
    sara = factories.supervisor(office, username="sara")
    overview = Overview.objects.create(
        period_start=date(2025, 2, 1), period_end=date(2025, 2, 28), requested_by=sara,
        status=OverviewStatus.QUEUED)
    overview.offices.set([office])
    log_in(page, live_server, "sara")
    fetches = []
    page.on("request", lambda r: fetches.append(r.url)
            if r.url.endswith("/admin/helpdesk/overviews/") else None)
    page.goto(f"{live_server.url}/admin/helpdesk/overviews/")
    note = page.locator("[data-refresh-stopped]")
    expect(note).to_be_visible(timeout=10_000)
    count = len(fetches)
    page.wait_for_timeout(2500)
    assert len(fetches) == count  # no more polling
    assert count >= 3  # it did poll before giving up
