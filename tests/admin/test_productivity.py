"""La mia attività and Office activity: who may see what (an operator only
about themselves; supervisors their offices; each operator's figures only
with the setting on), the comparison day, the charts with their tables and
a constant number of queries. Runs on SQLite and on PostgreSQL."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.productivity import bar_chart

URL = "wagtail_helpdesk_my_activity"
OFFICE_URL = "wagtail_helpdesk_office_activity"
#: Wednesday 12 March 2025, 16:00 in Rome.
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    state = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: state["now"])
    return state


@pytest.fixture
def team(factories, clock):
    office, other = factories.office("Tributi"), factories.office("Anagrafe")
    return {
        "office": office, "other": other,
        "service": factories.service(office), "other_service": factories.service(other),
        "op": factories.operator(office, first_name="Luca", last_name="Bianchi"),
        "colleague": factories.operator(office, first_name="Anna", last_name="Verdi"),
        "outsider": factories.operator(other, first_name="Piero", last_name="Neri"),
        "boss": factories.supervisor(office, first_name="Carla", last_name="Capo"),
    }


def work(factories, clock, team, who, replies, *, when=NOW, service=None):
    """``who`` answers ``replies`` new tickets at ``when``."""
    clock["now"] = when
    for _ in range(replies):
        t = factories.request_ticket(service_=service or team["service"])
        services.reply(t, team[who], "Risposta")
    clock["now"] = NOW


def figure(html, day, key):
    section = re.search(rf'data-day="{day}".*?</section>', html, re.S)[0]
    return re.search(rf'data-figure="{key}">([^<]*)<', section)[1].strip()


def page(client, name=URL, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


def sidebar(client):
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    return re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1]


# --- My activity ------------------------------------------------------------------


def test_an_operator_sees_their_own_figures_only(client, factories, clock, team):
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "colleague", 3)
    work(factories, clock, team, "op", 1, when=datetime(2025, 3, 5, 9, tzinfo=UTC))
    client.force_login(team["op"])
    html = page(client)
    assert figure(html, "today", "replies") == "2"
    assert figure(html, "today", "taken") == "2"
    # The same weekday of last week by default.
    assert figure(html, "compare", "replies") == "1"
    assert "Wednesday 5 March 2025" in html
    assert 'value="2025-03-05"' in html
    # No parameter turns the page into someone else's.
    other = page(client, user=team["colleague"].pk, user_id=team["colleague"].pk,
                 operator=team["colleague"].pk)
    assert figure(other, "today", "replies") == "2"
    assert "Anna" not in html and "Anna" not in other


def test_the_week_by_day_and_by_channel_as_charts_with_tables(client, factories, clock, team):
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "op", 1, when=datetime(2025, 3, 10, 9, tzinfo=UTC))
    client.force_login(team["op"])
    html = page(client)
    assert html.count("<figure") == 2 and html.count("<figcaption") == 2
    assert html.count('role="img"') == 2
    monday = re.search(r'<tr data-day="2025-03-10">(.*?)</tr>', html, re.S)[1]
    assert re.findall(r'helpdesk-num">(\d+)<', monday) == ["1", "1", "0", "0", "0"]
    wednesday = re.search(r'<tr data-day="2025-03-12">(.*?)</tr>', html, re.S)[1]
    assert re.findall(r'helpdesk-num">(\d+)<', wednesday) == ["2", "2", "0", "0", "0"]
    assert len(re.findall(r'<tr data-day="', html)) == 7
    web = re.search(r'<tr data-channel="web">(.*?)</tr>', html, re.S)[1]
    assert "Website" in web
    assert re.findall(r'helpdesk-num">(\d+)<', web) == ["3", "3", "0", "0", "3"]


def test_a_chosen_day_and_a_bad_one(client, factories, clock, team):
    work(factories, clock, team, "op", 4, when=datetime(2025, 2, 20, 9, tzinfo=UTC))
    client.force_login(team["op"])
    html = page(client, compare="2025-02-20")
    assert figure(html, "compare", "replies") == "4"
    assert "Thursday 20 February 2025" in html
    bad = page(client, compare="2025-02-30")
    assert "Enter a valid date." in bad
    assert 'value="2025-02-30"' in bad and 'aria-invalid="true"' in bad
    assert "Showing Wednesday 5 March 2025 instead." in bad
    future = page(client, compare="2025-03-13")
    assert "Choose a day between" in future and 'value="2025-03-13"' in future
    assert "Choose a day between" in page(client, compare="1999-12-31")
    assert "Choose a day between" not in page(client, compare="2025-03-12")


def test_who_may_open_my_activity(client, factories, team):
    response = client.get(reverse(URL))
    assert response.status_code == 302 and reverse("wagtailadmin_login") in response["Location"]
    editor = factories.user(group=None)
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    response = client.get(reverse(URL))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert "helpdesk-my-activity" not in sidebar(client)
    client.force_login(team["op"])
    assert "helpdesk-my-activity" in sidebar(client)
    assert "helpdesk-office-activity" not in sidebar(client)
    assert reverse(OFFICE_URL) not in page(client)
    response = client.get(reverse(OFFICE_URL))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")


# --- Office activity ---------------------------------------------------------------


def test_a_supervisor_sees_their_office_without_each_operator(client, factories, clock, team):
    factories.settings(operator_figures=False)
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "colleague", 3)
    work(factories, clock, team, "outsider", 5, service=team["other_service"])
    client.force_login(team["boss"])
    assert "helpdesk-office-activity" in sidebar(client)
    assert reverse(OFFICE_URL) in page(client)  # from My activity
    html = page(client, OFFICE_URL)
    assert figure(html, "today", "replies") == "5"  # not the other office's five
    assert 'data-operator-figures="off"' in html
    assert "art. 4" in html
    assert "data-operator=" not in html
    assert "Luca" not in html and "Anna" not in html


def test_each_operator_only_with_the_setting_on(client, factories, clock, team):
    factories.settings(operator_figures=True)
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "colleague", 3)
    work(factories, clock, team, "outsider", 5, service=team["other_service"])
    client.force_login(team["boss"])
    html = page(client, OFFICE_URL)
    assert 'data-operator-figures="off"' not in html
    today = re.search(r'data-operators-day="2025-03-12".*?</table>', html, re.S)[0]
    luca = re.search(rf'<tr data-operator="{team["op"].pk}">(.*?)</tr>', today, re.S)[1]
    anna = re.search(rf'<tr data-operator="{team["colleague"].pk}">(.*?)</tr>', today, re.S)[1]
    assert "Luca Bianchi" in luca and re.findall(r'helpdesk-num">(\d+)', luca)[:2] == ["2", "2"]
    assert re.findall(r'helpdesk-num">(\d+)', anna)[:2] == ["3", "3"]
    assert f'data-operator="{team["outsider"].pk}"' not in html
    assert 'data-operators-day="2025-03-05"' in html  # the comparison day too


def test_one_office_of_a_supervisor_who_sees_all(client, factories, clock, team):
    factories.settings(operator_figures=True)  # one person per office: see below otherwise
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "outsider", 5, service=team["other_service"])
    admin = factories.administrator()
    client.force_login(admin)
    assert figure(page(client, OFFICE_URL), "today", "replies") == "7"
    html = page(client, OFFICE_URL, office=team["other"].pk)
    assert figure(html, "today", "replies") == "5"
    # A supervisor cannot pick an office they do not belong to.
    client.force_login(team["boss"])
    assert figure(page(client, OFFICE_URL, office=team["other"].pk), "today", "replies") == "2"


def day_section(html, day):
    return re.search(rf'data-day="{day}".*?</section>', html, re.S)[0]


def test_a_days_office_figures_are_hidden_when_one_person_worked(
        client, factories, clock, team):
    """Each operator's figures off: an office's figures of a day in which only
    one person worked would be that person's, so they are not shown."""
    factories.settings(operator_figures=False)
    work(factories, clock, team, "op", 2)
    work(factories, clock, team, "colleague", 1, when=datetime(2025, 3, 10, 9, tzinfo=UTC))
    work(factories, clock, team, "op", 1, when=datetime(2025, 3, 10, 10, tzinfo=UTC))
    client.force_login(team["boss"])
    html = page(client, OFFICE_URL)
    today = day_section(html, "today")
    assert 'data-figures="hidden"' in today and "data-figure=" not in today
    assert "Fewer than two people worked on these tickets this day" in today
    # Nobody worked on the comparison day: hidden too (nothing to tell apart).
    assert "data-figure=" not in day_section(html, "compare")
    # The week: Wednesday (one person) left out, Monday (two people) shown.
    assert re.search(r'<tr data-day="2025-03-12" data-hidden>\s*<th[^>]*>[^<]*</th>\s*'
                     r'<td class="helpdesk-num">—</td>', html)
    monday = re.search(r'<tr data-day="2025-03-10">(.*?)</tr>', html, re.S)[1]
    assert re.findall(r'helpdesk-num">(\d+)', monday)[:2] == ["2", "2"]
    assert "are left out" in html
    # Two people this week: the figures by channel are shown.
    assert 'data-channel=' in html
    # A second person today: today's figures appear.
    work(factories, clock, team, "colleague", 3)
    today = day_section(page(client, OFFICE_URL), "today")
    assert figure(today, "today", "replies") == "5"


def test_the_week_by_channel_is_hidden_when_one_person_worked_all_week(
        client, factories, clock, team):
    factories.settings(operator_figures=False)
    work(factories, clock, team, "op", 2)
    client.force_login(team["boss"])
    html = page(client, OFFICE_URL)
    assert "data-channel=" not in html
    assert "the figures by channel are not shown" in html
    # With each operator's figures on, nothing is hidden.
    factories.settings(operator_figures=True)
    html = page(client, OFFICE_URL)
    assert figure(html, "today", "replies") == "2" and "data-channel=" in html
    assert 'data-figures="hidden"' not in html and "data-hidden" not in html


def test_my_activity_hides_nothing(client, factories, clock, team):
    factories.settings(operator_figures=False)
    work(factories, clock, team, "op", 2)
    client.force_login(team["op"])
    html = page(client)
    assert figure(html, "today", "replies") == "2" and 'data-figures="hidden"' not in html


# --- cost ---------------------------------------------------------------------------


def queries(client, name=URL):
    page(client, name)  # once first: the caches of the first request (site, settings)
    with CaptureQueriesContext(connection) as ctx:
        page(client, name)
    events = [q for q in ctx.captured_queries if "wagtail_helpdesk_ticketevent" in q["sql"]]
    return len(ctx.captured_queries), len(events)


def test_my_activity_queries_do_not_grow_with_the_work(client, factories, clock, team):
    client.force_login(team["op"])
    work(factories, clock, team, "op", 1)
    few = queries(client)
    work(factories, clock, team, "op", 6)
    work(factories, clock, team, "op", 4, when=datetime(2025, 3, 10, 9, tzinfo=UTC))
    assert queries(client) == few
    # Two days of three queries (counts, first responses, ratings), the week by day and by channel.
    assert few[1] == 8


def test_office_activity_queries_do_not_grow_with_the_work(client, factories, clock, team):
    factories.settings(operator_figures=True)
    client.force_login(team["boss"])
    work(factories, clock, team, "op", 1)
    work(factories, clock, team, "colleague", 1)
    few = queries(client, OFFICE_URL)
    work(factories, clock, team, "op", 5)
    work(factories, clock, team, "colleague", 5)
    assert queries(client, OFFICE_URL) == few
    # The office's 8, and each operator's for two days (counts, first responses, ratings).
    assert few[1] == 8 + 2 * 3


def test_office_activity_without_each_operator_adds_one_query(
        client, factories, clock, team):
    factories.settings(operator_figures=False)
    client.force_login(team["boss"])
    work(factories, clock, team, "op", 1)
    few = queries(client, OFFICE_URL)
    work(factories, clock, team, "colleague", 4)
    work(factories, clock, team, "op", 3, when=datetime(2025, 3, 10, 9, tzinfo=UTC))
    assert queries(client, OFFICE_URL) == few
    # The office's 8 and who worked on each day shown (one query).
    assert few[1] == 8 + 1


def test_bar_chart_geometry():
    chart = bar_chart([{"label": "lun", "a": 0, "b": 8}, {"label": "mar", "a": 4, "b": 2}],
                      [("a", "A"), ("b", "B")])
    assert [tick["value"] for tick in chart["ticks"]] == [0, 2, 4, 6, 8]
    bars = chart["groups"][0]["bars"]
    assert bars[0]["height"] == 0 and bars[1]["y"] == chart["top"]
    assert chart["totals"] == [4, 10]
    assert json.dumps(chart, default=str)
