"""The ticket list at scale (issue 20): a bounded count, keyset cursors past
it, filters without DISTINCT, cached filter menus, at most 12 queries a page."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets import paging
from wagtail_helpdesk.admin.tickets.listing import TicketIndexView
from wagtail_helpdesk.models import Ticket

URL = "/admin/helpdesk/tickets/"


@pytest.fixture
def office_list(factories):
    office = factories.office()
    me = factories.operator(office)
    service = factories.service(office)
    tickets = [factories.request_ticket(service_=service) for _ in range(7)]
    # Two share their last interaction: the id must break the tie.
    Ticket.objects.filter(pk__in=[tickets[2].pk, tickets[3].pk]).update(
        last_activity_at=tickets[2].last_activity_at)
    return me, tickets


def shown(client, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    pks = [int(pk) for pk in re.findall(r'href="/admin/helpdesk/tickets/(\d+)/"', html)]
    return list(dict.fromkeys(pks)), html


def link(html, rel):
    """The query string of the pagination's ``rel`` ("next"/"prev") cursor link."""
    match = re.search(r'href="/admin/helpdesk/tickets/\?([^"]+)" rel="' + rel + '"', html)
    return match and dict(p.split("=", 1) for p in match[1].replace("&amp;", "&").split("&"))


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 tickets, exact counts up to 4, numbered pages up to row 4."""
    monkeypatch.setattr(TicketIndexView, "get_paginate_by", lambda self, queryset: 2)
    monkeypatch.setattr(paging.CappedPaginator, "cap", 4)
    monkeypatch.setattr(paging.CappedPaginator, "row_limit", 4)


def test_past_the_cap_the_count_says_more_than_and_cursors_go_on(client, office_list,
                                                                  small_pages):
    me, tickets = office_list
    client.force_login(me)
    expected = list(Ticket.objects.order_by("-last_activity_at", "-pk")
                    .values_list("pk", flat=True))
    assert len(expected) == 7
    first, html = shown(client, {"queue": "all"})
    assert "More than 4 tickets" in html and first == expected[:2]
    second, html = shown(client, {"queue": "all", "p": "2"})
    assert second == expected[2:4]
    # Page 2 is the last numbered one (4 tickets): its "Next" is a cursor.
    after = link(html, "next")
    assert after and "after" in after
    seen = first + second
    while after:
        rows, html = shown(client, {"queue": "all", **after})
        seen += rows
        after = link(html, "next")
    assert seen == expected  # every ticket once, in order, ties broken by id
    # And back: "Previous" from the last cursor page gives the rows before it.
    before = link(html, "prev")
    rows, _html = shown(client, {"queue": "all", **before})
    assert rows == expected[4:6]


def test_a_deep_page_number_stops_at_the_cap(client, office_list, small_pages):
    me, _tickets = office_list
    client.force_login(me)
    rows, html = shown(client, {"queue": "all", "p": "400"})
    expected = list(Ticket.objects.order_by("-last_activity_at", "-pk")
                    .values_list("pk", flat=True))
    assert rows == expected[2:4]  # the last numbered page


def test_an_exact_count_with_pages_that_go_on_by_cursor(client, office_list, small_pages,
                                                        monkeypatch):
    monkeypatch.setattr(paging.CappedPaginator, "cap", 100)
    me, _tickets = office_list
    client.force_login(me)
    _rows, html = shown(client, {"queue": "all", "p": "2"})
    assert "7 tickets" in html and "More than" not in html
    assert link(html, "next")  # past row 4: a cursor, not page 3
    assert "p=3" not in html


def test_under_the_cap_the_count_is_exact(client, office_list):
    me, _tickets = office_list
    client.force_login(me)
    _rows, html = shown(client, {"queue": "all"})
    assert "7 tickets" in html and "More than" not in html


def test_a_cursor_made_for_another_ordering_or_tampered_is_ignored(client, office_list,
                                                                    small_pages):
    me, tickets = office_list
    client.force_login(me)
    cursor = paging.encode("-last_activity_at", tickets[3])
    first, _html = shown(client, {"queue": "all"})
    assert shown(client, {"queue": "all", "ordering": "priority", "after": cursor})[0] != []
    assert shown(client, {"queue": "all", "after": "not-a-cursor"})[0] == first


def test_other_orderings_still_sort_and_follow_cursors(client, office_list, small_pages):
    me, tickets = office_list
    services.set_priority(tickets[5], me, 4)
    client.force_login(me)
    rows, _html = shown(client, {"queue": "all", "ordering": "-priority"})
    assert rows[0] == tickets[5].pk
    rows, html = shown(client, {"queue": "all", "ordering": "-priority", "p": "2"})
    after = link(html, "next")
    assert after
    later, _html = shown(client, {"queue": "all", "ordering": "-priority", **after})
    assert later and not set(later) & set(rows)


def test_the_choice_filters_make_no_distinct(client, office_list):
    me, _tickets = office_list
    client.force_login(me)
    with CaptureQueriesContext(connection) as ctx:
        shown(client, {"queue": "all", "status": ["new", "in_progress"],
                       "channel": ["web"], "priority": ["2"]})
    tickets_sql = [q["sql"] for q in ctx.captured_queries
                   if '"wagtail_helpdesk_ticket"' in q["sql"]]
    assert tickets_sql and not any("DISTINCT" in sql for sql in tickets_sql)


def test_the_filter_menus_are_cached_and_refreshed_on_change(client, office_list, factories,
                                                             django_capture_on_commit_callbacks):
    me, tickets = office_list
    cache.clear()
    client.force_login(me)
    shown(client, {"queue": "all"})
    with CaptureQueriesContext(connection) as ctx:
        shown(client, {"queue": "all"})
    assert not any('FROM "wagtail_helpdesk_service"' in q["sql"] for q in ctx.captured_queries)
    office = tickets[0].office
    with django_capture_on_commit_callbacks(execute=True):  # bumped once committed
        new = factories.service(office, name="Servizio nuovissimo")
    _rows, html = shown(client, {"queue": "all"})
    assert "Servizio nuovissimo" in html
    # A submitted value is still checked: another office's service is refused.
    elsewhere = factories.service(factories.office(), name="Altrove")
    response = client.get(URL, {"queue": "all", "service": elsewhere.pk})
    assert response.status_code == 200
    assert reverse("helpdesk_tickets:detail", args=[tickets[0].pk]) in response.content.decode()
    assert new.pk


@pytest.mark.parametrize("queue", ["pending", "mine", "others", "waiting", "closed", "drafts",
                                   "consults", "all"])
def test_a_list_page_takes_at_most_12_queries(client, office_list, queue,
                                              django_assert_max_num_queries):
    me, _tickets = office_list
    client.force_login(me)
    shown(client, {"queue": queue})  # warm: the menus' choices, the badge
    with django_assert_max_num_queries(12):
        shown(client, {"queue": queue})


def test_the_scope_as_lists_is_the_same_scope(factories):
    """The list's index-friendly visibility (lists of ids) sees exactly what
    the subquery form sees: the user's offices, their own draft without an
    office, the tickets shared with them; never another office's."""
    from wagtail_helpdesk.models import TicketConsult
    from wagtail_helpdesk.permissions import forget_offices
    from wagtail_helpdesk.tickets.queries import visible_tickets

    office, other = factories.office(), factories.office()
    me = factories.operator(office)
    mine = factories.request_ticket(service_=factories.service(office))
    theirs = factories.request_ticket(service_=factories.service(other))
    shared = factories.request_ticket(service_=factories.service(other))
    TicketConsult.objects.create(ticket=shared, consultant=me, granted_by=me)
    draft = Ticket.objects.create(kind="report", channel="phone", status="draft",
                                  created_by=me)
    expected = {mine.pk, shared.pk, draft.pk}
    for action in ("view", "change"):
        forget_offices(me)
        plain = set(visible_tickets(me, action).values_list("pk", flat=True))
        forget_offices(me)
        lists = set(visible_tickets(me, action, as_lists=True).values_list("pk", flat=True))
        assert plain == lists
        assert lists == (expected if action == "view" else expected - {shared.pk})
        assert theirs.pk not in lists
    # Ending the consult takes effect at once, even with the offices cached.
    TicketConsult.objects.all().delete()
    assert shared.pk not in set(visible_tickets(me, as_lists=True).values_list("pk", flat=True))
