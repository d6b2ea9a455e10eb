"""The operators' ticket list: queues, filters, search, permissions, export, queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.desk import GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Kind, Priority
from wagtail_helpdesk.services import CitizenActor

URL = "/admin/helpdesk/tickets/"


@pytest.fixture
def desk(make_desk):
    """URP's tickets in every queue (``desk.t``), and one of Tributi."""
    desk = make_desk(office={"name": "URP"}, colleague=True, other_office={"name": "Tributi"},
                     citizen=GIOVANNA, service={"name": "Carta d'identità"},
                     ticket={"description": "Scadenza documento"}, ticket_from="system")
    factories, office, service = desk.factories, desk.office, desk.service
    me, colleague, desk.person = desk.me, desk.colleague, desk.citizen
    tickets = {
        "pending": desk.ticket,
        "mine": services.take_charge(factories.request_ticket(service_=service), me),
        "others": services.take_charge(factories.request_ticket(service_=service), colleague),
        "closed": services.resolve(
            services.take_charge(factories.request_ticket(service_=service), me), me,
            factories.resolution_type(), "Fatto"),
        "draft": services.create_ticket(me, kind=Kind.REPORT, channel=Channel.PHONE, draft=True,
                                        report_category=factories.report_category(office)),
        "colleague_draft": services.create_ticket(
            colleague, kind=Kind.REPORT, channel=Channel.PHONE, draft=True,
            report_category=factories.report_category(office)),
        "elsewhere": factories.request_ticket(service_=factories.service(desk.other_office)),
    }
    waiting = services.take_charge(factories.request_ticket(service_=service), colleague)
    tickets["waiting"] = services.mark_waiting(waiting, colleague, message="Numero pratica?")
    desk.t = tickets
    return desk


def listed(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    return html


def shown(html, desk):
    return {name for name, t in desk.t.items()
            if reverse("helpdesk_tickets:detail", args=[t.pk]) in html}


@pytest.mark.parametrize(
    ("queue", "expected"),
    [
        ("pending", {"pending"}),
        ("mine", {"mine"}),
        ("others", {"others", "waiting"}),
        ("waiting", {"waiting"}),
        ("closed", {"closed"}),
        ("drafts", {"draft"}),
        ("all", {"pending", "mine", "others", "waiting", "closed"}),
    ],
)
def test_queues(client, desk, queue, expected):
    client.force_login(desk.me)
    assert shown(listed(client, queue=queue), desk) == expected


def test_default_queue_is_pending_and_tabs_are_shown(client, desk):
    client.force_login(desk.me)
    html = listed(client)
    assert shown(html, desk) == {"pending"}
    assert 'aria-current="page"' in html and "queue=mine" in html


def test_another_offices_tickets_are_never_listed(client, desk):
    client.force_login(desk.me)
    for queue in ("all", "pending"):
        assert "elsewhere" not in shown(listed(client, queue=queue), desk)
    admin = desk.factories.administrator()
    client.force_login(admin)
    assert "elsewhere" in shown(listed(client, queue="all"), desk)


def test_users_without_ticket_permissions_are_refused(client, desk):
    client.force_login(desk.factories.user(offices=[desk.office], group=None,
                                           is_staff=False))
    response = client.get(URL)
    assert response.status_code in (302, 403)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": ["waiting"]}, {"waiting"}),
        ({"priority": [str(Priority.URGENT)]}, {"mine"}),
        ({"unread": "yes"}, {"others"}),
        ({"assignee": "colleague"}, {"others", "waiting"}),
        ({"kind": "report"}, set()),
        ({"channel": ["phone"]}, set()),
    ],
)
def test_filters(client, desk, params, expected):
    services.set_priority(desk.t["mine"], desk.me, Priority.URGENT)
    services.add_citizen_message(desk.t["others"], CitizenActor(desk.t["others"].citizen),
                                 "Ci sono novità?")
    if params.get("assignee") == "colleague":
        params = {"assignee": desk.colleague.pk}
    client.force_login(desk.me)
    assert shown(listed(client, queue="all", **params), desk) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("code", {"pending"}),
        ("RSSMRA85T10A562S", {"pending"}),
        ("tinit-rssmra85t10a562s", {"pending"}),
        ("Esposito", {"pending"}),
        ("scadenza", {"pending"}),
        ("nessunrisultato", set()),
    ],
)
def test_search(client, desk, query, expected):
    if query == "code":
        query = desk.t["pending"].short_code.lower()
    client.force_login(desk.me)
    assert shown(listed(client, queue="all", q=query), desk) == expected


def test_search_by_number(client, desk):
    client.force_login(desk.me)
    assert shown(listed(client, queue="all", q=f"#{desk.t['mine'].pk}"), desk) == {"mine"}


def test_csv_export_of_the_filtered_list(client, desk):
    client.force_login(desk.me)
    response = client.get(URL, {"queue": "all", "status": ["resolved"], "export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("Code,Kind,Status")
    assert len(lines) == 2 and desk.t["closed"].short_code in lines[1]
    assert desk.t["elsewhere"].short_code not in body


def test_xlsx_export_of_the_filtered_list(client, desk):
    import io

    import openpyxl

    client.force_login(desk.me)
    response = client.get(URL, {"queue": "all", "status": ["new"], "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Code", "Kind", "Status"]
    codes = {row[0] for row in rows[1:]}
    # The office's pending tickets, not the other office's one.
    assert desk.t["pending"].short_code in codes
    assert desk.t["elsewhere"].short_code not in codes
    assert all(row[2] == "Pending" for row in rows[1:])


def count_queries(client, **params):
    from django.core.cache import cache

    cache.clear()  # the menu's attention figure is cached: measure it every time
    with CaptureQueriesContext(connection) as ctx:
        listed(client, **params)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("queue", ["pending", "mine", "others", "waiting", "closed", "drafts",
                                   "all"])
def test_queries_do_not_grow_with_rows(client, factories, queue):
    office = factories.office()
    op = factories.operator(office)
    service = factories.service(office)
    category = factories.report_category(office)
    client.force_login(op)

    def add_batch(n):
        for _ in range(n):
            t = factories.request_ticket(service_=service)
            services.take_charge(t, op)
            r = factories.report_ticket(category=category)
            services.resolve(services.take_charge(r, op), op, factories.resolution_type(), "ok")
            factories.request_ticket(service_=service)
            services.create_ticket(op, kind=Kind.REPORT, channel=Channel.DESK, draft=True,
                                   report_category=category)

    add_batch(1)
    small = count_queries(client, queue=queue, ordering="-last_activity_at")
    add_batch(30)
    large = count_queries(client, queue=queue, ordering="-last_activity_at")
    assert large == small
    filtered = count_queries(client, queue=queue, status=["in_progress"], unread="yes",
                             office=office.pk, q="Buca")
    add_batch(5)
    assert count_queries(client, queue=queue, status=["in_progress"], unread="yes",
                         office=office.pk, q="Buca") == filtered
