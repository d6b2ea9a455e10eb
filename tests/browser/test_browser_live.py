"""The live ticket list in a real Chromium: a ticket created by another
process appears in an open list without reloading — over the WebSocket (the
ASGI server) and with the polling fallback (a WSGI server, where sockets
cannot open) — the Helpdesk menu's figure follows, a tone rings once (sound
on) and the Pending tab shows a dot on another queue; two tabs and the chat
workspace share one WebSocket."""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.urls import reverse
from playwright.sync_api import expect

from tests.support.asgi import ROOT, asgi_live_server_fixture, database_url  # noqa: F401
from tests.support.browser import log_in
from wagtail_helpdesk.admin import live

pytestmark = [pytest.mark.browser]

LIST = "/admin/helpdesk/tickets/"
LIVE = '[data-controller~="helpdesk-live"]'
#: Counts the tones played in the page (live.js dispatches "helpdesk:tone").
COUNT_TONES = """() => { window.__tones = 0;
    window.addEventListener('helpdesk:tone', () => { window.__tones += 1; }); }"""
#: A new ticket through the REST API, from another process (stdout: its id).
API_CLIENT = """
import json, sys, urllib.error, urllib.request
url, token, service = sys.argv[1:4]
body = json.dumps({"kind": "request", "service": int(service),
                   "citizen": {"given_name": "Piero", "family_name": "Neri",
                               "email": "piero@example.org"},
                   "subject": "Passo carrabile", "description": "Richiesta dal telefono"})
request = urllib.request.Request(url + "/api/helpdesk/v1/tickets/", data=body.encode(),
    headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
try:
    print(json.load(urllib.request.urlopen(request, timeout=20))["id"])
except urllib.error.HTTPError as error:
    sys.exit(f"{error}: {error.read().decode()}")
"""
#: A new ticket through the services, in another process on the same
#: database and channel layer (stdout: its id).
SERVICES_CLIENT = """
import django
django.setup()
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Citizen, Kind, Service
import sys
service, citizen = sys.argv[1:3]
ticket = services.create_ticket(services.SYSTEM, kind=Kind.REQUEST, channel=Channel.PHONE,
    service=Service.objects.get(pk=service), citizen=Citizen.objects.get(pk=citizen),
    description="Segnalata al telefono")
print(ticket.pk)
"""


def run(code, *args, env=None):
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.strip().splitlines()[-1])


def created_by_api(server_url, desk):
    from wagtail.models import APIToken

    token = APIToken.create_token(user=desk["colleague"], name="switchboard")[1]
    return run(API_CLIENT, server_url, token, desk["service"].pk)


@pytest.fixture
def desk(factories):
    office = factories.office(name="URP", email="")
    return {
        "office": office,
        "service": factories.service(office),
        "luca": factories.operator(office, username="luca", first_name="Luca"),
        "colleague": factories.operator(office, username="marta", first_name="Marta"),
        "citizen": factories.citizen(),
    }


#: The contexts the running test opened (closed after it, even when it failed:
#: a failed test's pages would otherwise go on polling and reconnecting while
#: the next tests run).
_OPENED = []


@pytest.fixture(autouse=True)
def _close_contexts():
    yield
    while _OPENED:
        _OPENED.pop().close()


def new_context(browser):
    context = browser.new_context(locale="it-IT", viewport={"width": 1366, "height": 900})
    _OPENED.append(context)
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    return context


def open_page(context, sockets):
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("websocket", lambda ws: sockets.append(ws) if "/ws/helpdesk/" in ws.url else None)
    return page


def live_list(server, browser, queue, sockets=None):
    """A new browser context, logged in as Luca, on the live list of ``queue``
    with its socket open: (context, page)."""
    context = new_context(browser)
    page = open_page(context, [] if sockets is None else sockets)
    log_in(page, server, "luca")
    page.goto(f"{server.url}{LIST}?queue={queue}")
    wait_live(page, "socket")
    return context, page


def row(page, pk):
    return page.locator(
        f'#listing-results a[href="{reverse("helpdesk_tickets:detail", args=[pk])}"]')


def wait_live(page, state):
    page.wait_for_selector(f'{LIVE}[data-live-state="{state}"]', state="attached")
    page.wait_for_selector("[data-helpdesk-live-list-target][data-live-stamp], "
                           "[data-controller~='helpdesk-live-list'][data-live-stamp]",
                           state="attached")


class _Held(set):
    """The channel names of the operator sockets the server holds, and a log
    of when each came and went (shown when a wait for them fails)."""

    def __init__(self):
        super().__init__()
        self.log = []

    def note(self, event, name):
        self.log.append(f"{time.monotonic():.2f} {event} {name}")


@pytest.fixture
def server_sockets(monkeypatch):
    """The operator sockets the server holds open now (channel names)."""
    from wagtail_helpdesk.conversations.consumers import OperatorConsumer

    held = _Held()
    connect, disconnect = OperatorConsumer.connect, OperatorConsumer.disconnect

    async def counted_connect(self):
        held.note("connecting", self.channel_name)
        await connect(self)
        if getattr(self, "user_id", None):
            held.add(self.channel_name)
            held.note("connected", self.channel_name)

    async def counted_disconnect(self, code):
        held.discard(self.channel_name)
        held.note(f"disconnected ({code})", self.channel_name)
        await disconnect(self, code)

    monkeypatch.setattr(OperatorConsumer, "connect", counted_connect)
    monkeypatch.setattr(OperatorConsumer, "disconnect", counted_disconnect)
    return held


def settle(page, held, count=1, patience=15):
    """Wait until the server holds ``count`` operator sockets. It learns of a
    closed page's socket when the close frame reaches it and its consumer runs
    ``disconnect`` — on a busy machine, behind the requests queued on Django's
    one thread for async-unsafe work. (Playwright cannot tell instead: it
    never reports the end of a socket whose page navigated away.) Pages close
    their socket on ``pagehide``: before they did, the browser's teardown now
    and then left the server holding a socket for a page long gone."""
    deadline = time.monotonic() + patience
    while len(held) != count and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(held) == count, "\n".join([f"held: {sorted(held.copy())}", *list(held.log)])


def menu_label(page):
    return page.evaluate("""() => [...document.querySelectorAll(
        '.sidebar-menu-item__link .menuitem-label')].map((el) => el.textContent.trim())
        .find((text) => text.startsWith('Helpdesk'))""")


def test_a_ticket_from_another_process_appears_live_over_one_socket(
        asgi_live_server, browser, desk, server_sockets):
    server = asgi_live_server
    context = new_context(browser)
    sockets = []
    mine = open_page(context, sockets)
    log_in(mine, server, "luca")
    mine.goto(f"{server.url}{LIST}?queue=mine")
    wait_live(mine, "socket")
    opened = len(sockets)  # the log-in's landing page had one too, closed since
    everything = open_page(context, sockets)
    everything.goto(f"{server.url}{LIST}?queue=all")
    wait_live(everything, "socket")
    everything.wait_for_timeout(1000)
    assert len(sockets) == opened  # the second tab opened none
    settle(everything, server_sockets)  # two tabs, one socket
    everything.locator('[data-helpdesk-live-list-target="sound"]').check()
    assert everything.evaluate("() => localStorage.getItem('helpdesk-live-sound')") == "on"
    for page in (mine, everything):
        page.evaluate(COUNT_TONES)
    assert menu_label(everything) == "Helpdesk"

    pk = created_by_api(server.url, desk)

    # Both tabs: the new row without reloading; the menu's figure; one tone.
    row(everything, pk).wait_for()
    everything.wait_for_function(
        "() => [...document.querySelectorAll('.sidebar-menu-item__link .menuitem-label')]"
        ".some((el) => el.textContent.trim() === 'Helpdesk (1)')")
    assert menu_label(mine) in ("Helpdesk (1)", "Helpdesk")  # the other tab follows
    mine.wait_for_function(
        "() => [...document.querySelectorAll('.sidebar-menu-item__link .menuitem-label')]"
        ".some((el) => el.textContent.trim() === 'Helpdesk (1)')")
    assert everything.evaluate("() => location.search") == "?queue=all"  # filters kept
    mine.wait_for_timeout(1500)
    assert sum(p.evaluate("() => window.__tones") for p in (mine, everything)) == 1
    # On another queue, the Pending tab shows the dot, with words for screen readers.
    pending_tab = mine.locator("#listing-results a.w-tabs__tab", has=mine.locator(
        ".helpdesk-live-dot"))
    pending_tab.wait_for()
    assert "queue=pending" in pending_tab.get_attribute("href")
    assert mine.locator(".helpdesk-live-dot .w-sr-only").inner_text().strip()
    assert row(mine, pk).count() == 0  # not theirs: the "mine" queue stays as it was

    assert len(sockets) == opened
    # The operator opens Pending: the dot is gone, there and on the other queues.
    # (The first tab leaves its page: the other one takes the connection over.)
    pending_tab.click()
    row(mine, pk).wait_for()
    # The Pending page notes what it showed once its first pulse came (not
    # with the rows: on a busy machine the pulse may come later).
    mine.wait_for_function(f"() => Number(localStorage.getItem('helpdesk-live-seen')) >= {pk}")
    mine.goto(f"{server.url}{LIST}?queue=mine")
    wait_live(mine, "socket")
    mine.wait_for_timeout(1000)
    assert mine.locator(".helpdesk-live-dot").count() == 0

    # The chat workspace in a third tab: still the browser's one socket.
    workspace = open_page(context, sockets)
    workspace.goto(f"{server.url}/admin/helpdesk/chat/")
    workspace.wait_for_function(
        "() => window.HelpdeskLive && window.HelpdeskLive.clients.size >= 1")
    workspace.wait_for_timeout(1500)
    settle(workspace, server_sockets)
    context.close()


def test_busy_operators_get_a_button_instead_of_a_refresh(asgi_live_server, browser, desk,
                                                          factories):
    server = asgi_live_server
    factories.request_ticket(service_=desk["service"])  # a row to tick
    context, page = live_list(server, browser, "pending")
    page.locator("#listing-results [data-bulk-action-checkbox]").last.check()  # bulk selection
    pk = created_by_api(server.url, desk)
    button = page.locator('[data-helpdesk-live-list-target="refresh"]')
    button.wait_for()
    assert re.search(r"1\b", button.inner_text())
    assert row(page, pk).count() == 0  # the ticked rows stay as they are
    assert page.locator("#listing-results [data-bulk-action-checkbox]:checked").count() == 1
    button.click()
    row(page, pk).wait_for()
    assert button.is_hidden()
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_polling_fallback_without_sockets(live_server, browser, desk, monkeypatch):
    # A WSGI server: no WebSockets there, as behind a proxy that refuses them.
    monkeypatch.setattr(live, "POLL_SECONDS", 2)
    context = new_context(browser)
    sockets = []
    page = open_page(context, sockets)
    log_in(page, live_server, "luca")
    page.goto(f"{live_server.url}{LIST}?queue=pending")
    wait_live(page, "polling")
    others = []
    other = open_page(context, others)
    other.goto(f"{live_server.url}{LIST}?queue=all")
    other.wait_for_selector("[data-controller~='helpdesk-live-list'][data-live-stamp]",
                            state="attached")
    pk = created_by_api(live_server.url, desk)
    row(page, pk).wait_for(timeout=30_000)
    row(other, pk).wait_for(timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.sidebar-menu-item__link .menuitem-label')]"
        ".some((el) => el.textContent.trim() === 'Helpdesk (1)')")
    # Only the leader tab tries sockets (now and then, polling meanwhile): never the other.
    assert sockets and others == []
    context.close()


@pytest.mark.postgres
def test_a_ticket_written_by_another_process_on_the_database(asgi_live_server, browser, desk,
                                                            tmp_path):
    # The other process changes the database and signals over the shared Redis layer.
    server = asgi_live_server
    context, page = live_list(server, browser, "pending")
    layer = server.channel_layers["default"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "REDIS_URL", "WAGTAIL_HELPDESK_REDIS"))}
    env.update(DJANGO_SETTINGS_MODULE="example_site.settings", DEBUG="1",
               DATABASE_URL=database_url(connection.settings_dict),
               VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT),
               WAGTAIL_HELPDESK_REDIS_URL=layer["CONFIG"]["hosts"][0],
               WAGTAIL_HELPDESK_REDIS_PREFIX=layer["CONFIG"]["prefix"])
    pk = run(SERVICES_CLIENT, desk["service"].pk, desk["citizen"].pk, env=env)
    row(page, pk).wait_for()
    assert json.loads(page.evaluate(
        "() => JSON.stringify(window.HelpdeskLive.pulse)"))["newest_pending"] == pk
    context.close()


# --- Review fixes: the hub's leader, its pulses, the frames of the other tabs -----------

PULSE = "**/admin/helpdesk/live/pulse/"
#: Counts the pulses the page asks (window.__pulses), each taking `delay` ms.
COUNT_PULSES = """(delay) => { const real = window.__realFetch || window.fetch;
    window.__realFetch = real; window.__pulses = 0;
    window.fetch = async (url, options) => {
        if (String(url).includes('/live/pulse/')) {
            window.__pulses += 1;
            if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
        }
        return real(url, options);
    }; }"""


def two_tabs(server, browser, sockets=None):
    context, leader = live_list(server, browser, "pending", sockets)
    follower = open_page(context, [] if sockets is None else sockets)
    follower.goto(f"{server.url}{LIST}?queue=all")
    wait_live(follower, "socket")
    assert leader.evaluate("() => window.HelpdeskLive.leader")
    assert not follower.evaluate("() => window.HelpdeskLive.leader")
    return context, leader, follower


def test_a_stopped_leader_hands_the_lead_to_a_new_tab(asgi_live_server, browser, desk,
                                                      server_sockets):
    server = asgi_live_server
    context, first, _other = two_tabs(server, browser)
    _other.close()
    # The session ends for the leader tab: its pulse answers 403, the hub stops.
    first.route(PULSE, lambda route: route.fulfill(
        status=403, content_type="application/json", body='{"error": "no"}'))
    first.evaluate("() => window.HelpdeskLive.fetchPulse()")
    first.wait_for_selector(f'{LIVE}[data-live-state="stopped"]', state="attached")
    assert not first.evaluate("() => window.HelpdeskLive.leader")
    # A stopped hub gives the chat its own socket, not a dead client.
    assert first.evaluate("() => window.HelpdeskLive.client({}) === null")
    # A new tab (logged in again) leads: a live list, the browser's socket.
    second = open_page(context, [])
    second.goto(f"{server.url}{LIST}?queue=all")
    wait_live(second, "socket")
    assert second.evaluate("() => window.HelpdeskLive.leader")
    settle(second, server_sockets)
    pk = created_by_api(server.url, desk)
    row(second, pk).wait_for()
    context.close()


PAGE_EVENT = """(name) => window.dispatchEvent(
    new PageTransitionEvent(name, { persisted: true }))"""


def test_a_page_that_goes_closes_its_socket_and_comes_back_from_the_cache(
        asgi_live_server, browser, desk, server_sockets):
    """pagehide: the leader closes the browser's socket itself and gives the
    lead back (the server hears of it at once, the other tab leads); pageshow
    from the back/forward cache: the page joins again, still one socket."""
    server = asgi_live_server
    context, first, second = two_tabs(server, browser)
    settle(second, server_sockets)
    before = set(server_sockets)
    first.evaluate(PAGE_EVENT, "pagehide")  # into the back/forward cache
    second.wait_for_function("() => window.HelpdeskLive.leader")
    # The first tab's socket gone, the second tab's open: one, and not the same.
    deadline = time.monotonic() + 15
    while not (len(server_sockets) == 1 and server_sockets.isdisjoint(before)) and (
            time.monotonic() < deadline):
        second.wait_for_timeout(100)
    assert len(server_sockets) == 1 and server_sockets.isdisjoint(before), server_sockets.log
    assert not first.evaluate("() => window.HelpdeskLive.leader")
    assert first.evaluate("() => window.HelpdeskLive.socket") is None
    first.evaluate(PAGE_EVENT, "pageshow")  # shown again: a follower now
    first.wait_for_function("() => !window.HelpdeskLive.away && window.HelpdeskLive.state.open")
    first.wait_for_timeout(1000)
    assert not first.evaluate("() => window.HelpdeskLive.leader")
    settle(first, server_sockets)
    # The second tab goes for good: the first one leads, and lists live again.
    second.close()
    first.wait_for_function("() => window.HelpdeskLive.leader")
    settle(first, server_sockets)
    pk = created_by_api(server.url, desk)
    row(first, pk).wait_for()
    context.close()


def test_a_socket_of_its_own_closes_with_its_page_and_opens_again(
        asgi_live_server, browser, desk, server_sockets):
    """HelpdeskChatSocket used without the hub (the chat once the hub
    stopped): closed on pagehide, opened again when the page is shown from the
    back/forward cache — as the hub's."""
    server = asgi_live_server
    context, page = live_list(server, browser, "all")
    page.evaluate("""() => { window.__own = new window.HelpdeskChatSocket(
        '/ws/helpdesk/operator/', {}); }""")
    page.wait_for_function("() => window.__own.isOpen")
    settle(page, server_sockets, count=2)  # the hub's and its own
    page.evaluate(PAGE_EVENT, "pagehide")
    settle(page, server_sockets, count=0)
    assert page.evaluate("() => window.__own.socket") is None
    page.evaluate(PAGE_EVENT, "pageshow")
    page.wait_for_function("() => window.__own.isOpen && window.HelpdeskLive.state.open")
    settle(page, server_sockets, count=2)
    context.close()


#: Keeps the hub (live.js) off a page: its scripts then open sockets of their own.
NO_HUB = """Object.defineProperty(window, 'HelpdeskLive', {
    configurable: true, get: () => undefined, set: () => {} });"""


def test_the_boards_own_socket_closes_with_its_page_and_opens_again(
        asgi_live_server, browser, desk, server_sockets, factories):
    """The supervisors' chat board without the hub: its own socket, closed on
    pagehide (the board falls back to polling), opened again when the page is
    shown from the back/forward cache."""
    server = asgi_live_server
    factories.supervisor(desk["office"], username="sara")
    context = new_context(browser)
    context.add_init_script(NO_HUB)
    page = open_page(context, [])
    log_in(page, server, "sara")
    page.goto(f"{server.url}/admin/helpdesk/chat/board/")
    board = page.locator('[data-controller="helpdesk-chat-board"]')
    expect(board).to_have_attribute("data-live", "socket")
    assert page.evaluate("() => window.HelpdeskLive") is None
    settle(page, server_sockets, count=1)
    page.evaluate(PAGE_EVENT, "pagehide")
    settle(page, server_sockets, count=0)
    page.evaluate(PAGE_EVENT, "pageshow")
    expect(board).to_have_attribute("data-live", "socket")
    settle(page, server_sockets, count=1)
    context.close()


def test_the_leaders_pulses_are_neither_lost_nor_postponed(asgi_live_server, browser, desk):
    server = asgi_live_server
    context, page = live_list(server, browser, "pending")
    hub = "window.HelpdeskLive"
    # A change while a pulse is on its way: another pulse after it.
    page.evaluate(COUNT_PULSES, 500)
    page.evaluate(f"""async () => {{ const first = {hub}.fetchPulse();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await {hub}.fetchPulse(); await first; }}""")
    page.wait_for_function("() => window.__pulses === 2", timeout=5000)
    # Signals every 200 ms for 5 s still make pulses (at most 3 s after the first).
    page.evaluate(COUNT_PULSES, 0)
    during = page.evaluate(f"""async () => {{
        for (let i = 0; i < 25; i += 1) {{
            {hub}.askSoon(); await new Promise((resolve) => setTimeout(resolve, 200));
        }}
        return window.__pulses; }}""")
    assert during >= 1
    # Without a first pulse (it failed), the leader still asks on its clock.
    page.evaluate(COUNT_PULSES, 0)
    page.evaluate(f"""() => {{ {hub}.pulse = null; {hub}.lastPulse = 0;
        {hub}.state = {{ open: false, polling: true }}; {hub}.due(); }}""")
    page.wait_for_function("() => window.__pulses >= 1", timeout=3000)
    context.close()


def test_a_follower_tabs_frames_come_back_when_the_leader_cannot_send(
        asgi_live_server, browser, desk):
    server = asgi_live_server
    context, leader, follower = two_tabs(server, browser)
    record = """() => { window.__frames = []; window.__unsent = [];
        window.__client = window.HelpdeskLive.client({
            onFrame: (frame) => window.__frames.push(frame),
            onUnsent: (frame) => window.__unsent.push(frame) }); }"""
    leader.evaluate(record)
    follower.evaluate(record)
    # An error answers the tab whose frame caused it, not every tab.
    assert follower.evaluate("""() => window.__client.send({ type: 'send',
        conversation: 999999, client_id: 'r1', body: 'Buongiorno' })""")
    follower.wait_for_function("() => window.__frames.some((f) => f.type === 'error')")
    assert follower.evaluate(
        "() => window.__frames.find((f) => f.type === 'error').client_id") == "r1"
    leader.wait_for_timeout(500)
    assert leader.evaluate("() => window.__frames.filter((f) => f.type === 'error').length") == 0
    # The same "after" from two tabs goes on the socket once.
    leader.evaluate("""() => { const socket = window.HelpdeskLive.socket;
        const send = socket.send.bind(socket); window.__afters = 0;
        socket.send = (frame) => { if (frame.type === 'after') window.__afters += 1;
            return send(frame); }; }""")
    after = "() => window.__client.send({ type: 'after', conversation: 999998, seq: 3 })"
    leader.evaluate(after)
    follower.evaluate(after)
    leader.wait_for_timeout(500)
    assert leader.evaluate("() => window.__afters") == 1
    # The leader's socket cannot send (closing), the tabs not told yet: the
    # follower's frame comes back to it, and the chat sends over HTTP instead.
    leader.evaluate("""() => { window.HelpdeskLive.socket = {
        send: () => false, stop() {}, drop() {}, isOpen: false }; }""")
    assert follower.evaluate("""() => window.__client.send({ type: 'send',
        conversation: 1, client_id: 'x1', body: 'Buongiorno' })""")
    follower.wait_for_function(
        "() => window.__unsent.length === 1 && window.__unsent[0].client_id === 'x1'")
    context.close()
