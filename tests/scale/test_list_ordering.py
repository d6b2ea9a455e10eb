"""The ticket list at scale, continued (issue 20): the short code's order goes
on by cursor past the numbered pages (drafts without a code included), an
ordering without cursors keeps numbered pages however deep, a filter Django
proves empty shows an empty list, counts use the language's separators."""

import re

import pytest
from django.db.models import Value
from django.test import override_settings
from django.utils import translation

from wagtail_helpdesk.admin.tickets import paging
from wagtail_helpdesk.admin.tickets.listing import TicketIndexView
from wagtail_helpdesk.models import ShortCodeMode, Ticket

URL = "/admin/helpdesk/tickets/"


def shown(client, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    pks = [int(pk) for pk in re.findall(r'href="/admin/helpdesk/tickets/(\d+)/"', html)]
    return list(dict.fromkeys(pks)), html


def next_link(html):
    """The query string of the pagination's "Next" link, cursor or numbered."""
    nav = html[html.index('class="pagination"'):]
    match = re.search(r'<li class="next">\s*<a href="/admin/helpdesk/tickets/\?([^"]+)"', nav)
    return match and dict(p.split("=", 1) for p in match[1].replace("&amp;", "&").split("&"))


@pytest.fixture
def coded(factories):
    """9 tickets with sequential codes and 3 without one (NULL, as drafts)."""
    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL, request_prefix="AST",
                       report_prefix="SEG")
    office = factories.office()
    me = factories.operator(office)
    service = factories.service(office)
    made = [factories.request_ticket(service_=service) for _ in range(12)]
    Ticket.objects.filter(pk__in=[made[1].pk, made[4].pk, made[10].pk]).update(short_code=None)
    assert Ticket.objects.filter(short_code__isnull=True).count() == 3
    return me


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(TicketIndexView, "get_paginate_by", lambda self, queryset: 2)
    monkeypatch.setattr(paging.CappedPaginator, "cap", 4)
    monkeypatch.setattr(paging.CappedPaginator, "row_limit", 4)


def expected_by_code(descending):
    coded = sorted(Ticket.objects.exclude(short_code=None).values_list("short_code", "pk"))
    empty = sorted(Ticket.objects.filter(short_code=None).values_list("pk", flat=True))
    ascending = [pk for _code, pk in coded] + empty  # empty codes are the greatest
    return ascending[::-1] if descending else ascending


def walk(client, params):
    seen, html = shown(client, params)
    after = next_link(html)
    while after:
        rows, html = shown(client, after)
        assert rows, after
        seen += rows
        after = next_link(html)
    return seen, html


@pytest.mark.parametrize("ordering", ["short_code", "-short_code"])
def test_the_short_code_order_goes_on_by_cursor(client, coded, small_pages, ordering):
    client.force_login(coded)
    seen, html = walk(client, {"queue": "all", "ordering": ordering})
    assert seen == expected_by_code(ordering.startswith("-"))  # all 12, once, in order
    # Back from the end: "Previous" gives the two rows before the last page.
    prev = re.search(r'href="/admin/helpdesk/tickets/\?([^"]+)" rel="prev"', html)
    rows, _html = shown(client, dict(p.split("=", 1)
                                     for p in prev[1].replace("&amp;", "&").split("&")))
    assert rows == seen[-4:-2]


def test_cursors_cross_the_empty_codes_both_ways(coded):
    for ordering in ("short_code", "-short_code"):
        expected = expected_by_code(ordering.startswith("-"))
        queryset = Ticket.objects.all()
        rows = list(queryset.order_by(*paging.ordering_with_id(ordering)))
        assert [t.pk for t in rows] == expected
        for i, ticket in enumerate(rows):
            cursor = paging.decode(paging.encode(ordering, ticket), ordering)
            assert cursor == (ticket.short_code, ticket.pk)
            after = paging.keyset_page(queryset, ordering, 50, after=cursor)
            assert [t.pk for t in after] == expected[i + 1:]
            before = paging.keyset_page(queryset, ordering, 50, before=cursor)
            assert [t.pk for t in before] == expected[:i]


def test_an_ordering_without_cursors_keeps_numbered_pages(client, coded, small_pages,
                                                          monkeypatch):
    monkeypatch.setattr(paging, "KEYSET_FIELDS", ("last_activity_at",))
    client.force_login(coded)
    seen, html = walk(client, {"queue": "all", "ordering": "status"})
    expected = list(Ticket.objects.order_by("status", "pk").values_list("pk", flat=True))
    assert seen == expected  # past the 4 rows of the cap, page by page
    assert "after=" not in html and "Page 6" in html and "Page 6 of" not in html


@pytest.mark.parametrize("text", ["2099-5", "2026-999999", "2026-0"])
def test_a_search_proven_empty_shows_an_empty_list(client, coded, text):
    client.force_login(coded)
    for params in ({"queue": "all", "q": text},
                   {"queue": "all", "q": text, "ordering": "short_code"}):
        rows, _html = shown(client, params)
        assert rows == []


def test_a_filter_proven_empty_counts_nothing(coded):
    paginator = paging.CappedPaginator(Ticket.objects.filter(pk__in=[]).order_by("pk"), 2)
    page = paging.numbered_page(paginator, 1)
    assert list(page) == [] and paginator.count == 0
    assert paging.CappedPaginator(Ticket.objects.filter(pk__in=[]), 2).count == 0


@override_settings(USE_THOUSAND_SEPARATOR=False)
def test_counts_use_the_languages_separator(coded, monkeypatch):
    monkeypatch.setattr(paging.CappedPaginator, "cap", 10_000)
    paginator = paging.CappedPaginator(Ticket.objects.order_by("pk"), 2)
    paginator.count = 1234
    with translation.override("it"):
        assert "1.234" in str(paginator.items_count_label)
    del paginator.items_count_label
    with translation.override("en"):
        assert "1,234" in str(paginator.items_count_label)
    monkeypatch.setattr(paging.CappedPaginator, "cap", 1000)
    paginator = paging.CappedPaginator(Ticket.objects.order_by("pk"), 2)
    paginator.count = 1001
    with translation.override("it"):
        assert "1.000" in str(paginator.items_count_label)


def test_the_list_says_more_than_in_italian(client, coded, small_pages, monkeypatch):
    monkeypatch.setattr(paging.CappedPaginator, "cap", 1000)
    monkeypatch.setattr(paging, "bounded_count_sql", lambda queryset, cap: Value(1001))
    client.force_login(coded)
    response = client.get(URL, {"queue": "all", "q": "Servizio"}, HTTP_ACCEPT_LANGUAGE="it")
    html = response.content.decode()
    assert response.status_code == 200
    shown_rows = re.findall(r'href="/admin/helpdesk/tickets/(\d+)/"', html)
    assert shown_rows  # the search matched: the count line and the pagination are there
    count_lines = re.findall(r"[^<>]*1[.,]000[^<>]*", html)
    assert len(count_lines) >= 2, count_lines  # the heading and the pagination's end
    assert all("1.000" in line for line in count_lines), count_lines
