"""My activity and Office activity in Chromium: they render, the comparison
form works, and axe-core finds no serious or critical violation."""

import os
import re

import pytest

from tests.support.browser import axe_serious, log_in
from wagtail_helpdesk import services


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_my_activity_and_office_activity_pass_axe(page, live_server, factories):
    office = factories.office(name="Tributi")
    service = factories.service(office)
    op = factories.operator(office, username="luca", first_name="Luca", last_name="Bianchi")
    factories.supervisor(office, username="carla")
    factories.settings(operator_figures=True)
    resolution = factories.resolution_type()
    for n in range(3):
        ticket = factories.request_ticket(service_=service)
        services.reply(ticket, op, "Risposta")
        if n == 0:
            services.resolve(ticket, op, resolution, "Fatto")
    page.context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                       lambda route: route.abort())

    if os.environ.get("PRODUCTIVITY_SCREENSHOTS"):
        page.set_viewport_size({"width": 1366, "height": 2400})
    log_in(page, live_server, "luca")
    page.goto(f"{live_server.url}/admin/helpdesk/activity/")
    today = page.locator('[data-day="today"]')
    assert today.locator('[data-figure="replies"]').inner_text() == "3"
    assert today.locator('[data-figure="resolved"]').inner_text() == "1"
    assert page.locator("figure svg[role=img]").count() == 2
    assert (found := axe_serious(page)) == [], found
    page.fill("#id_compare", "2000-01-01")
    page.click("form.helpdesk-activity__form button[type=submit]")
    page.wait_for_url(re.compile(r".*compare=2000-01-01"))
    # The date in the browser's language (Italian here): "1 Gennaio 2000".
    assert re.search(r"\b1 \w+ 2000$", page.locator('[data-day="compare"] h2').inner_text())
    if os.environ.get("PRODUCTIVITY_SCREENSHOTS"):
        page.screenshot(path=os.environ["PRODUCTIVITY_SCREENSHOTS"] + "/my.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, live_server, "carla")
    page.goto(f"{live_server.url}/admin/helpdesk/activity/office/")
    assert page.locator(f'[data-operator="{op.pk}"]').first.is_visible()
    assert (found := axe_serious(page)) == [], found
    if os.environ.get("PRODUCTIVITY_SCREENSHOTS"):
        page.screenshot(path=os.environ["PRODUCTIVITY_SCREENSHOTS"] + "/office.png",
                        full_page=True)
