"""What the citizens' journeys cost the server per request (the requests the
load harness, bench/load, sends): queries pinned for the page and every step,
constant in the number of tickets and citizens already stored."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.citizen import PERSON, post, report_step_two, shown
from wagtail_helpdesk.models import Ticket

#: Measured on this code (docs/scale.md, "Where a citizen request's time goes").
#: The first page of a test is 12 when Wagtail's cache of the sites' root
#: paths is empty (10 once filled). A submission reads the Helpdesk settings
#: once per request and saves its sequential short code with its status (30;
#: it was 33 before, 48 when Wagtail's reference and search indexes were
#: written with every citizen).
REQUEST_LIMITS = {"page": 12, "details": 12, "details:page": 10, "person": 11,
                  "submit": 30, "done:page": 11}
REPORT_LIMITS = {"page": 12, "privacy": 11, "details": 12, "submit": 30, "done:page": 11}


def counted(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def request_journey(client, pages):
    page, block = pages.request, pages.request_block
    costs = {"page": counted(lambda: shown(client, page))}
    costs["details"] = counted(lambda: post(client, page, block, {
        "action": "next", "category": pages.service.category_id, "service": pages.service.pk,
        "details": "Devo rinnovare la carta d'identità."}))
    costs["details:page"] = counted(lambda: shown(client, page))
    costs["person"] = counted(lambda: post(client, page, block, {"action": "next", **PERSON}))
    costs["submit"] = counted(lambda: post(client, page, block,
                                           {"action": "submit", "privacy": "on"}))
    costs["done:page"] = counted(lambda: shown(client, page))
    return costs


def report_journey(client, pages):
    page, block = pages.report, pages.report_block
    costs = {"page": counted(lambda: shown(client, page))}
    costs["privacy"] = counted(lambda: post(client, page, block,
                                            {"action": "next", "privacy": "on"}))
    costs["details"] = counted(lambda: post(client, page, block, report_step_two(pages)))
    costs["submit"] = counted(lambda: post(client, page, block, {"action": "submit"}))
    costs["done:page"] = counted(lambda: shown(client, page))
    return costs


def over(costs, limits):
    return {step: (costs[step], limit) for step, limit in limits.items() if costs[step] > limit}


def test_the_request_journey_queries_are_pinned(client, pages):
    costs = request_journey(client, pages)
    assert Ticket.objects.filter(status="new").count() == 1
    assert over(costs, REQUEST_LIMITS) == {}


def test_the_report_journey_queries_are_pinned(client, pages):
    costs = report_journey(client, pages)
    assert Ticket.objects.filter(status="new", kind="report").count() == 1
    assert over(costs, REPORT_LIMITS) == {}


@pytest.mark.parametrize("earlier", [1, 12])
def test_the_cost_does_not_grow_with_the_tickets_stored(client, pages, earlier):
    from django.test import Client

    for n in range(earlier):  # citizens who sent requests before (their own sessions)
        request_journey(Client(REMOTE_ADDR=f"10.0.0.{n + 1}"), pages)
    assert over(request_journey(client, pages), REQUEST_LIMITS) == {}
