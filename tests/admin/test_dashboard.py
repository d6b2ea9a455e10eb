"""The supervisor dashboard (Cruscotto): access and scope, every figure against
a hand-built dataset, the daily series and its time zone, the refresh
fragment and constant query counts. Runs on SQLite and on PostgreSQL."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.admin import metrics
from wagtail_helpdesk.admin.dashboard import FRAGMENT_HEADER, chart, format_duration
from wagtail_helpdesk.models import Presence, Ticket
from wagtail_helpdesk.services import CitizenActor

URL = "wagtail_helpdesk_dashboard"
#: A Wednesday, 11:00 in Rome (CET, UTC+1).
NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def place(ticket, **timestamps):
    """Put a test ticket in time (tests only: the services stamp real time)."""
    Ticket.objects.filter(pk=ticket.pk).update(**timestamps)


def dashboard(client, **params):
    response = client.get(reverse(URL), params)
    assert response.status_code == 200
    return response


def response_user(client):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


def sidebar_items(client):
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    props = json.loads(re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1])
    return json.dumps(props)


# --- access and scope -----------------------------------------------------------


def test_operator_is_refused_and_has_no_menu_item(client, factories):
    office = factories.office()
    op = factories.operator(office)
    client.force_login(op)
    response = client.get(reverse(URL))
    # Wagtail turns PermissionDenied in admin views into a redirect to the
    # dashboard with an error message.
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
    assert "helpdesk-dashboard" not in sidebar_items(client)
    assert client.get(reverse(URL), headers={FRAGMENT_HEADER: "1"}).status_code == 302


def test_anonymous_goes_to_login(client, db):
    response = client.get(reverse(URL))
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response["Location"]


def test_supervisor_sees_only_their_offices(client, factories):
    office_a, office_b = factories.office("Anagrafe"), factories.office("Tributi")
    boss = factories.supervisor(office_a)
    op_a, op_b = factories.operator(office_a), factories.operator(office_b)
    for _ in range(2):
        factories.request_ticket(service_=factories.service(office_a))
    services.take_charge(factories.request_ticket(service_=factories.service(office_a)), op_a)
    for _ in range(5):
        services.take_charge(factories.request_ticket(service_=factories.service(office_b)),
                             op_b)
    client.force_login(boss)
    assert "helpdesk-dashboard" in sidebar_items(client)

    response = dashboard(client)
    figures = response.context["figures"]
    assert figures["backlog"]["open"] == 3
    assert figures["backlog"]["unassigned"] == 2
    assert [row["name"] for row in figures["offices"]] == ["Anagrafe"]
    operators = {row["user_id"]: row["open"] for row in figures["operators"]}
    assert operators == {op_a.pk: 1, boss.pk: 0}
    assert list(response.context["form"].fields["office"].queryset) == [office_a]
    html = response.content.decode()
    assert "Tributi" not in html and op_b.username not in html

    # Asking for another office's figures shows only their own.
    response = dashboard(client, office=office_b.pk)
    assert response.context["office"] is None
    assert response.context["figures"]["backlog"]["open"] == 3


def test_administrator_sees_every_office_and_can_filter(client, factories):
    office_a, office_b = factories.office("Anagrafe"), factories.office("Tributi")
    factories.request_ticket(service_=factories.service(office_a))
    for _ in range(4):
        factories.request_ticket(service_=factories.service(office_b))
    admin = factories.administrator()
    client.force_login(admin)
    figures = dashboard(client).context["figures"]
    assert figures["backlog"]["open"] == 5
    assert {row["name"]: row["open"] for row in figures["offices"]} == {
        "Anagrafe": 1, "Tributi": 4}

    response = dashboard(client, office=office_b.pk)
    assert response.context["office"] == office_b
    assert response.context["figures"]["backlog"]["open"] == 4
    assert [row["name"] for row in response.context["figures"]["offices"]] == ["Tributi"]


def test_supervisor_without_offices_sees_nothing(client, factories):
    factories.request_ticket()
    boss = factories.supervisor()
    client.force_login(boss)
    response = dashboard(client)
    assert response.context["figures"]["backlog"]["open"] == 0
    assert "You do not belong to any office yet" in response.content.decode()


# --- figures -----------------------------------------------------------------


@pytest.fixture
def dataset(factories):
    """Hand-built tickets of one office, placed around NOW (11:00 in Rome)."""
    office = factories.office("Anagrafe")
    other = factories.office("Tributi")
    op1, op2 = factories.operator(office), factories.operator(office)
    idle = factories.operator(office)
    service = factories.service(office)
    solved = factories.resolution_type("risolta")
    not_ours = factories.resolution_type("non-di-competenza")
    h = timedelta(hours=1)
    d = timedelta(days=1)
    t = {}

    # Pending, unassigned, submitted 3 h ago, already past its deadline.
    t["pending_new"] = factories.request_ticket(service_=service)
    place(t["pending_new"], submitted_at=NOW - 3 * h, due_at=NOW - h)
    # Pending, unassigned, the oldest: 2 days 5 h.
    t["pending_old"] = factories.request_ticket(service_=service)
    place(t["pending_old"], submitted_at=NOW - 2 * d - 5 * h, due_at=NOW + d)

    # Op1: in progress with 2 unread messages; first answer after 4 h.
    person = factories.citizen()
    t["working"] = services.reply(factories.request_ticket(service_=service, citizen_=person),
                                  op1, "Buongiorno")
    for text in ("Allego", "Ancora"):
        services.add_citizen_message(t["working"], CitizenActor(person), text)
    place(t["working"], submitted_at=NOW - 5 * d, first_response_at=NOW - 5 * d + 4 * h,
          due_at=NOW - 2 * d)
    # Op1: waiting for the citizen; first answer after 2 h, 10 days ago.
    t["waiting"] = services.mark_waiting(
        services.take_charge(factories.request_ticket(service_=service), op1),
        op1, message="Serve il documento")
    place(t["waiting"], submitted_at=NOW - 10 * d - 2 * h, first_response_at=NOW - 10 * d)

    # Op2: resolved today (solved), after 1 day 6 h; first answer after 1 h.
    t["solved_today"] = services.resolve(
        services.reply(factories.request_ticket(service_=service), op2, "Ok"),
        op2, solved, "Fatto")
    place(t["solved_today"], submitted_at=NOW - d - 7 * h, first_response_at=NOW - d - 6 * h,
          resolved_at=NOW - h)
    # Op2: closed today as "not ours" (not solved) after 30 min, no reply.
    t["not_ours_today"] = services.resolve(
        services.take_charge(factories.request_ticket(service_=service), op2),
        op2, not_ours, "Non di competenza")
    place(t["not_ours_today"], submitted_at=NOW - timedelta(minutes=90),
          first_response_at=NOW - h, resolved_at=NOW - h)
    # Op2: solved 20 days ago after 3 days.
    t["solved_old"] = services.resolve(
        services.take_charge(factories.request_ticket(service_=service), op2),
        op2, solved, "Fatto")
    place(t["solved_old"], submitted_at=NOW - 23 * d, first_response_at=NOW - 23 * d + 8 * h,
          resolved_at=NOW - 20 * d)

    # Not counted: an operator's draft, another office's ticket.
    t["draft"] = factories.request_ticket(op1, service_=service, draft=True)
    place(t["draft"], created_at=NOW - h)
    t["elsewhere"] = factories.request_ticket(service_=factories.service(other))
    place(t["elsewhere"], submitted_at=NOW - h)

    return {"office": office, "other": other, "op1": op1, "op2": op2, "idle": idle,
            "tickets": t, "scope": Ticket.objects.filter(office=office)}


def test_backlog(dataset):
    figures = metrics.backlog(dataset["scope"], NOW)
    assert figures == {"open": 4, "new": 2, "in_progress": 1, "waiting": 1, "unassigned": 2,
                       "overdue": 2, "unread": 2}


def test_oldest_unassigned(dataset):
    oldest = metrics.oldest_unassigned(dataset["scope"], NOW)
    assert oldest["pk"] == dataset["tickets"]["pending_old"].pk
    assert oldest["wait"] == timedelta(days=2, hours=5)
    assert oldest["reference"] == dataset["tickets"]["pending_old"].short_code
    assert metrics.oldest_unassigned(Ticket.objects.none(), NOW) is None


def test_today(dataset):
    assert metrics.today(dataset["scope"], NOW) == {"opened": 2, "resolved": 2, "solved": 1}
    # The whole helpdesk: the other office's ticket was opened today too.
    assert metrics.today(Ticket.objects.all(), NOW)["opened"] == 3


def test_response_times(dataset):
    times = metrics.response_times(dataset["scope"], NOW)
    week, month = times[7], times[30]
    # First responses in the last 7 days: 4 h (working), 1 h (solved today),
    # 30 min (closed as not ours) → 5 h 30 min / 3.
    assert week["first_response_count"] == 3
    assert week["first_response"] == timedelta(minutes=110)
    # … in 30 days also 2 h (waiting) and 8 h (solved 20 days ago).
    assert month["first_response_count"] == 5
    assert month["first_response"] == timedelta(minutes=(240 + 60 + 30 + 120 + 480) / 5)
    # Resolutions that count as solved: 1 day 6 h this week; and 3 days this month.
    assert week["resolution_count"] == 1
    assert week["resolution"] == timedelta(days=1, hours=6)
    assert month["resolution_count"] == 2
    assert month["resolution"] == (timedelta(days=1, hours=6) + timedelta(days=3)) / 2


def test_response_times_without_tickets(db):
    times = metrics.response_times(Ticket.objects.all(), NOW)
    assert times[7] == {"first_response": None, "first_response_count": 0,
                        "resolution": None, "resolution_count": 0}


def test_by_office(dataset):
    rows = metrics.by_office(Ticket.objects.all(), NOW)
    assert [row["name"] for row in rows] == ["Anagrafe", "Tributi"]
    anagrafe, tributi = rows
    assert anagrafe == {
        "office_id": dataset["office"].pk, "name": "Anagrafe", "new": 2, "in_progress": 1,
        "waiting": 1, "open": 4, "unassigned": 2, "overdue": 2, "resolved_today": 2,
        "oldest_unassigned_wait": timedelta(days=2, hours=5),
    }
    assert tributi["open"] == tributi["unassigned"] == 1
    assert tributi["oldest_unassigned_wait"] == timedelta(hours=1)


def test_operator_load(dataset):
    members = dataset["office"].members.all()
    rows = metrics.operator_load(dataset["scope"], NOW, members)
    by_user = {row["user_id"]: row for row in rows}
    assert by_user[dataset["op1"].pk] | {"name": ""} == {
        "user_id": dataset["op1"].pk, "name": "", "open": 2, "in_progress": 1, "waiting": 1,
        "overdue": 1, "unread": 2, "presence": Presence.OFFLINE}
    # Op2's tickets are all resolved; the idle operator has none: both listed, at zero.
    assert by_user[dataset["op2"].pk]["open"] == 0
    assert by_user[dataset["idle"].pk]["open"] == 0
    assert rows[0]["user_id"] == dataset["op1"].pk  # heaviest first
    assert len(rows) == 3


def test_operator_load_keeps_assignees_who_left_the_office(dataset):
    op1 = dataset["op1"]
    dataset["office"].members.remove(op1)
    rows = metrics.operator_load(dataset["scope"], NOW, dataset["office"].members.all())
    assert {row["user_id"]: row["open"] for row in rows}[op1.pk] == 2


def test_daily_series_has_every_day_with_zeros(dataset):
    series = metrics.daily_series(dataset["scope"], NOW)
    assert len(series) == 30
    days = [entry["day"] for entry in series]
    assert days[-1] == datetime(2025, 3, 12).date()
    assert days[0] == datetime(2025, 2, 11).date()
    assert all(b - a == timedelta(days=1) for a, b in zip(days, days[1:], strict=False))
    by_day = {entry["day"].isoformat(): (entry["opened"], entry["resolved"]) for entry in series}
    assert by_day["2025-03-12"] == (2, 2)  # pending_new 08:00 Rome, not_ours 09:30 Rome
    assert by_day["2025-03-11"] == (1, 0)  # solved_today submitted 04:00 Rome
    assert by_day["2025-03-10"] == (1, 0)  # pending_old submitted 2 d 5 h ago
    assert by_day["2025-03-07"] == (1, 0)  # working
    assert by_day["2025-03-02"] == (1, 0)  # waiting, 10 days 2 h ago
    assert by_day["2025-02-20"] == (0, 1)  # solved_old resolved 20 days ago…
    assert by_day["2025-02-17"] == (1, 0)  # … and submitted 23 days ago
    assert sum(1 for value in by_day.values() if value == (0, 0)) == 23
    assert sum(entry["opened"] for entry in series) == 7


def test_series_and_today_count_rome_days_not_utc_days(factories):
    service = factories.service()
    scope = Ticket.objects.all()
    late = factories.request_ticket(service_=service)
    # 23:30 UTC on 11 March is 00:30 on 12 March in Rome (CET).
    place(late, submitted_at=datetime(2025, 3, 11, 23, 30, tzinfo=UTC))
    earlier = factories.request_ticket(service_=service)
    # 22:30 UTC is 23:30 in Rome: still 11 March.
    place(earlier, submitted_at=datetime(2025, 3, 11, 22, 30, tzinfo=UTC))
    series = {e["day"].isoformat(): e["opened"] for e in metrics.daily_series(scope, NOW)}
    assert series["2025-03-12"] == 1
    assert series["2025-03-11"] == 1
    assert metrics.today(scope, NOW)["opened"] == 1
    # Summer time (CEST, UTC+2): 22:30 UTC is already the next day.
    summer_now = datetime(2025, 7, 2, 9, 0, tzinfo=UTC)
    place(earlier, submitted_at=datetime(2025, 7, 1, 22, 30, tzinfo=UTC))
    place(late, submitted_at=datetime(2025, 7, 1, 21, 30, tzinfo=UTC))
    series = {e["day"].isoformat(): e["opened"]
              for e in metrics.daily_series(scope, summer_now)}
    assert series["2025-07-02"] == 1
    assert series["2025-07-01"] == 1
    assert metrics.today(scope, summer_now)["opened"] == 1


def test_reopened_ticket_is_no_longer_counted_as_resolved(dataset):
    ticket = dataset["tickets"]["solved_today"]
    services.reopen(Ticket.objects.get(pk=ticket.pk), dataset["op2"])
    assert metrics.today(dataset["scope"], NOW) == {"opened": 2, "resolved": 1, "solved": 0}
    assert metrics.backlog(dataset["scope"], NOW)["in_progress"] == 2


# --- presentation ----------------------------------------------------------------


NBSP = "\u00a0"  # numbers and units are held together by no-break spaces


@pytest.mark.parametrize(("value", "text"), [
    (timedelta(seconds=30), "less than a minute"),
    (timedelta(minutes=1), f"1{NBSP}min"),
    (timedelta(minutes=45), f"45{NBSP}min"),
    (timedelta(hours=2), f"2{NBSP}h"),
    (timedelta(hours=2, minutes=15), f"2{NBSP}h 15{NBSP}min"),
    (timedelta(days=1), f"1{NBSP}day"),
    (timedelta(days=3, hours=4, minutes=59), f"3{NBSP}days 4{NBSP}h"),
    (timedelta(days=12, hours=4), f"12{NBSP}days"),
    (None, ""),
])
def test_format_duration(value, text):
    assert format_duration(value) == text


def test_chart_scales_bars_to_the_busiest_day():
    day = datetime(2025, 3, 1).date()
    series = [{"day": day + timedelta(days=i), "opened": i % 3, "resolved": 0}
              for i in range(30)]
    series[10]["opened"] = 10
    drawn = chart(series)
    assert len(drawn["days"]) == 30
    assert [tick["value"] for tick in drawn["ticks"]] == [0, 2, 4, 6, 8, 10]
    tallest = max(drawn["days"], key=lambda d: d["h_opened"])
    assert tallest["day"] == series[10]["day"]
    assert tallest["y_opened"] == drawn["top"]
    assert drawn["days"][0]["h_opened"] == 0 and drawn["days"][0]["h_resolved"] == 0
    assert [d["labelled"] for d in drawn["days"]].count(True) == 6
    assert drawn["days"][-1]["labelled"]  # today always has its label


def test_chart_bars_name_the_day_and_figures_in_the_users_language():
    from django.utils import translation

    monday = datetime(2025, 3, 3).date()
    series = [{"day": monday + timedelta(days=i), "opened": 2, "resolved": 1}
              for i in range(30)]
    with translation.override("it"):
        bars = str(chart(series)["bars"])
    assert bars.count("<g>") == 30 and bars.count("<rect ") == 60
    assert "<title>Lun 3/3: 2 aperti, 1 risolti</title>" in bars
    with translation.override("en"):
        bars = str(chart(series)["bars"])
    assert "<title>Mon 3/3: 2 opened, 1 resolved</title>" in bars
    # the labelled days (every fifth, today's included) carry "j/n"
    assert bars.count('text-anchor="middle">') == 6 and ">1/4</text>" in bars


def test_page_shows_figures_chart_and_table(client, factories):
    office = factories.office("Anagrafe")
    factories.request_ticket(service_=factories.service(office))
    client.force_login(factories.administrator())
    html = dashboard(client).content.decode()
    assert html.count('class="helpdesk-chart__bar helpdesk-chart__bar--opened"') == 30
    assert re.search(r'<svg class="helpdesk-chart"[^>]*role="img"', html)
    # The table alternative lists all 30 days.
    assert html.count("<tr data-day=") == 30
    assert 'data-figure="open">1<' in html
    assert "dashboard.js" in html and "dashboard.css" in html
    # No decimal commas in the SVG geometry, whatever the language.
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(response_user(client))
    profile.preferred_language = "it"
    profile.save()
    html_it = dashboard(client).content.decode()
    assert 'lang="it"' in html_it
    svg = re.search(r'<svg class="helpdesk-chart".*?</svg>', html_it, re.S)[0]
    assert not re.search(r'(x|y|width|height)="\d+,\d', svg)


def test_fragment_for_the_refresh(client, factories):
    office = factories.office()
    factories.request_ticket(service_=factories.service(office))
    client.force_login(factories.administrator())
    response = client.get(reverse(URL), headers={FRAGMENT_HEADER: "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "wagtail-sidebar" not in html
    keys = set(re.findall(r'data-refresh-key="([^"]+)"', html))
    assert keys == {"status", "tiles", "times", "chart", "chart-table", "offices", "operators",
                    "labels"}
    assert FRAGMENT_HEADER in response["Vary"]
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    # The full page carries the same keys, so the script finds every target.
    page = dashboard(client).content.decode()
    assert set(re.findall(r'data-refresh-key="([^"]+)"', page)) == keys


# --- cost ----------------------------------------------------------------------


def _queries(client, headers=None):
    cache.clear()  # the menu's attention figure is cached
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(URL), headers=headers or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _busy_office(factories, office, count):
    """``count`` tickets of every kind, spread over operators and statuses."""
    operators = [factories.operator(office) for _ in range(3)]
    service = factories.service(office)
    solved = factories.resolution_type("risolta")
    for i in range(count):
        ticket = factories.request_ticket(service_=service)
        op = operators[i % 3]
        if i % 4 == 1:
            services.reply(ticket, op, "Risposta")
        elif i % 4 == 2:
            services.resolve(services.take_charge(ticket, op), op, solved, "Fatto")
        elif i % 4 == 3:
            services.mark_waiting(services.take_charge(ticket, op), op, message="Serve altro")
        place(ticket, submitted_at=NOW - timedelta(days=i % 40))


@pytest.mark.parametrize("role", ["administrator", "supervisor"])
def test_query_count_does_not_grow_with_tickets(client, factories, role):
    office = factories.office()
    user = factories.administrator() if role == "administrator" else factories.supervisor(office)
    client.force_login(user)
    _busy_office(factories, office, 1)
    _queries(client)  # the first dashboard fills the closed days' figures (insight.daily)
    small = _queries(client)
    small_fragment = _queries(client, {FRAGMENT_HEADER: "1"})
    _busy_office(factories, office, 49)
    assert Ticket.objects.count() == 50
    assert _queries(client) == small
    assert _queries(client, {FRAGMENT_HEADER: "1"}) == small_fragment
    # The kept days (insight.daily) cost their checks (day stamps, changed
    # tickets, tickets without an office, the sums) and save the open-work
    # scans; the menu's figure is one statement of index-served counts.
    assert small <= 26, small
