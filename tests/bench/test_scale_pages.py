"""The page measurer's own rules: the timed runs capture no queries and
leave the untimed preparation out; queries are counted in a run of their
own; the badge is measured as a request meets it; CSV rows are records."""

import time

import pytest
from django.db import connection

from bench.scale import pages
from wagtail_helpdesk.models import Ticket

pytestmark = pytest.mark.django_db


def test_timed_runs_capture_nothing_and_leave_the_preparation_out():
    logged, prepared = [], []

    def prepare():
        time.sleep(0.05)  # far longer than a call: it must not be timed
        prepared.append(1)
        return len(prepared)

    def call(n):
        logged.append(connection.queries_logged)
        Ticket.objects.filter(pk=n).exists()
        Ticket.objects.filter(pk=n + 1).exists()
        return n

    values, queries, result = pages.timed(call, 5, prepare)
    assert len(values) == 5 and max(values) < 0.05
    # a warm-up, five timed runs, one counting run: each prepared
    assert len(prepared) == 7 and result == 6
    assert logged == [False] * 6 + [True]
    assert len(queries) == 2 and all(Ticket._meta.db_table in q["sql"] for q in queries)


def test_csv_rows_are_records_not_lines():
    content = ('\ufeffcode,subject\r\nA1,"two\nlines"\r\nA2,"x, y"\r\nA3,plain\r\n'
               .encode())
    assert content.count(b"\n") - 1 == 4
    assert pages.csv_rows(content) == 3
    assert pages.csv_rows(b"code,subject\r\n") == 0
    assert pages.csv_rows(b"") == 0


def test_the_badge_is_measured_with_a_fresh_user_and_empty_caches(factories):
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    from wagtail_helpdesk.admin.attention import attention_count

    office = factories.office()
    op = factories.operator(office, factories.office())
    factories.request_ticket(service_=factories.service(office))
    # What a request pays: its user has not read their offices, nothing cached.
    cache.clear()
    with CaptureQueriesContext(connection) as request:
        expected = attention_count(type(op).objects.get(pk=op.pk))
    bench = pages.Bench.__new__(pages.Bench)
    bench.operator, bench.runs, bench.only = op, 3, None
    bench.results, bench.broken, bench.show_explain, bench.profile = {}, [], False, False
    attention_count(bench.operator)  # the bench's own user object has its offices cached
    bench.badge()
    row = bench.results["badge"]
    assert row.get("error") is None, row
    assert row["count"] == expected == 1
    # the user was fetched outside the counted call: only the badge's queries
    assert row["queries"] == len(request) - 1
    assert any("officemembership" in q["sql"] for q in request.captured_queries)
