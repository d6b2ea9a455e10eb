"""The load harness's citizens pause on each step when asked (``--think``):
before every step they send, never before the page's own GET or the
redirect's, and not at all by default."""

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.load import journeys

PAGE = ('<form action="/helpdesk/submit/1/abc/"><select name="category">'
        '<option value="7">Buche</option></select></form>')
DONE = '<div data-helpdesk-done><a href="/helpdesk/receipt/42/">receipt</a></div>'


def site():
    """A site answering as the report block does: the form, a redirect after
    each step, the confirmation after the third."""
    posts = []

    def answer(request):
        if request.method == "POST":
            posts.append(request.url.path)
            return httpx.Response(302, headers={"Location": journeys.REPORT_PAGE,
                                                "Set-Cookie": "csrftoken=t; Path=/"})
        return httpx.Response(200, text=DONE if len(posts) >= 3 else PAGE)

    return httpx.MockTransport(answer), posts


class TimedCitizen(journeys.Citizen):
    """Notes its pauses instead of waiting them out."""

    async def pause(self, seconds):
        self.pauses.append(seconds)


def run_report(think):
    transport, posts = site()

    async def journey():
        async with httpx.AsyncClient(transport=transport, base_url="http://site") as client:
            citizen = TimedCitizen(client, random.Random(3), "10.0.0.1", think=think)
            citizen.pauses = []
            return await citizen.report(), citizen.pauses

    # A thread of its own: the browser tests' event loop may be running in
    # this one.
    with ThreadPoolExecutor(1) as pool:
        result, pauses = pool.submit(asyncio.run, journey()).result()
    assert not result.error and result.ticket_id == 42
    assert len(posts) == 3
    return pauses


def test_a_thinking_citizen_pauses_before_each_step_it_sends():
    pauses = run_report(2.0)
    assert len(pauses) == 3
    assert all(1.0 <= p <= 3.0 for p in pauses)
    assert len(set(pauses)) == 3  # drawn, not fixed


def test_by_default_citizens_do_not_pause():
    assert run_report(0.0) == []
