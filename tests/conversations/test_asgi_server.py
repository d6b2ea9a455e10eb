"""The ASGI live server of the tests (tests/support/asgi.py): real sockets
to a real server in a thread, sharing the test database and a Redis layer
with the services the test runs."""

import json
import threading

import pytest
import requests
from django.test import Client
from websockets.sync.client import connect

from tests.support.asgi import asgi_live_server_fixture, in_thread  # noqa: F401 (fixture)
from wagtail_helpdesk.services import conversations

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def socket_to(server, path, cookie=None):
    headers = {"Origin": server.url}
    if cookie:
        headers["Cookie"] = cookie
    return connect(server.ws_url + path, additional_headers=headers, open_timeout=5)


def next_of(ws, kind, timeout=5):
    """The next frame of ``kind`` (other frames are skipped)."""
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        if frame["type"] == kind:
            return frame


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_a_citizen_socket_hears_a_message_sent_by_a_service_in_the_test(asgi_live_server, desk):
    started = desk.start()
    c = conversations.accept(started, desk.operator)
    with socket_to(asgi_live_server, "/ws/helpdesk/chat/") as citizen:
        citizen.send(json.dumps({"type": "auth", "token": started.token}))
        ready = next_of(citizen, "ready")
        assert (ready["conversation"], ready["state"]) == (c.pk, "active")

        message = in_thread(conversations.send, c, desk.operator, "Buongiorno!", "o-1")
        signal = next_of(citizen, "new")
        assert (signal["conversation"], signal["seq"]) == (c.pk, message.seq)
        citizen.send(json.dumps({"type": "after", "seq": ready["last_seq"]}))
        rows = next_of(citizen, "messages")["messages"]
        assert [(r["seq"], r["body"]) for r in rows] == [(message.seq, "Buongiorno!")]


def test_an_operator_socket_with_the_admin_session_hears_the_queue(asgi_live_server, desk):
    cookie = session_cookie(desk.colleague)
    with socket_to(asgi_live_server, "/ws/helpdesk/operator/", cookie) as operator:
        c = in_thread(desk.start)
        signal = next_of(operator, "new")
        assert (signal["conversation"], signal["state"]) == (c.pk, "waiting")
        operator.send(json.dumps({"type": "accept", "conversation": c.pk}))
        assert next_of(operator, "accepted")["conversation"] == c.pk
    c.refresh_from_db()
    assert (c.state, c.operator_id) == ("active", desk.colleague.pk)


def test_pages_static_files_and_the_polling_urls_are_served(asgi_live_server, desk):
    c = desk.start()
    page = requests.get(asgi_live_server.url + "/admin/login/", timeout=10)
    assert page.status_code == 200
    stylesheet = next(part.split('"')[0] for part in page.text.split('href="')[1:]
                      if part.split('"')[0].endswith(".css"))
    css = requests.get(asgi_live_server.url + stylesheet, timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    polled = requests.get(asgi_live_server.url + "/helpdesk/chat/messages/?after=0", timeout=10,
                          headers={"X-Helpdesk-Chat-Token": c.token})
    rows = polled.json()["messages"]
    assert [r["body"] for r in rows] == ["Buongiorno, ho una domanda sulla TARI."]


def test_a_socket_from_another_origin_is_refused(asgi_live_server):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        connect(asgi_live_server.ws_url + "/ws/helpdesk/chat/",
                additional_headers={"Origin": "https://evil.example"}, open_timeout=5)


def test_in_thread_returns_the_result_and_raises_the_error():
    assert in_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        in_thread(lambda: 1 / 0)


def test_requests_in_parallel_with_writes_wait_for_sqlite_locks(asgi_live_server, desk,
                                                                 settings, monkeypatch):
    """Pages and polls served while the test and the sockets write: on SQLite's
    shared in-memory database the server's threads wait for the writer's lock
    instead of failing with "database table is locked"."""
    settings.WAGTAIL_HELPDESK_CHAT_RATE_PER_MINUTE = 1000
    # The pollers test the locks, not the poll allowance (a fast database reaches it).
    monkeypatch.setattr("wagtail_helpdesk.conversations.views.POLLS_PER_MINUTE", 100000)
    started = desk.start()
    c = conversations.accept(started, desk.operator)
    failures, stop = [], threading.Event()

    def poll():
        with requests.Session() as session:
            while not stop.is_set():
                for path in ("/admin/login/", "/helpdesk/chat/messages/?after=0"):
                    answer = session.get(asgi_live_server.url + path, timeout=20,
                                         headers={"X-Helpdesk-Chat-Token": started.token})
                    if answer.status_code != 200:
                        failures.append((path, answer.status_code))

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for thread in pollers:
        thread.start()
    try:
        with socket_to(asgi_live_server, "/ws/helpdesk/chat/") as citizen:
            citizen.send(json.dumps({"type": "auth", "token": started.token}))
            next_of(citizen, "ready")
            for n in range(15):
                in_thread(conversations.send, c, desk.operator, f"risposta {n}", f"o-{n}")
                citizen.send(json.dumps({"type": "send", "client_id": f"c-{n}",
                                         "body": f"domanda {n}"}))
                frame = json.loads(citizen.recv(timeout=20))
                while frame["type"] not in ("sent", "error"):
                    frame = json.loads(citizen.recv(timeout=20))
                assert frame["type"] == "sent", frame
    finally:
        stop.set()
        for thread in pollers:
            thread.join()
    assert failures == []
    assert c.messages.filter(client_id__startswith="c-").count() == 15


def held_groups(channel):
    """The groups Redis' pub/sub layer keeps ``channel`` in (in any process's loop)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    return [group for loop_layer in list(layer._layers.values())
            for group, channels in list(loop_layer.groups.items()) if channel in channels]


def recorded_sockets(monkeypatch):
    """The groups each operator socket joins, and an event set when it ends."""
    from wagtail_helpdesk.conversations import consumers

    joined, ended = {}, threading.Event()
    join = consumers.OperatorConsumer.join

    async def recorded_join(self, name):
        joined[name] = self.channel_name
        await join(self, name)

    async def recorded_disconnect(self, code):
        ended.code = code
        ended.set()

    monkeypatch.setattr(consumers.OperatorConsumer, "join", recorded_join)
    monkeypatch.setattr(consumers.OperatorConsumer, "disconnect", recorded_disconnect)
    return joined, ended


def test_a_socket_that_fails_on_a_frame_still_leaves_its_groups(
        asgi_live_server, desk, monkeypatch):
    from wagtail_helpdesk.conversations import consumers

    joined, ended = recorded_sockets(monkeypatch)

    async def broken(self, content):
        raise RuntimeError("a bug")

    monkeypatch.setattr(consumers.OperatorConsumer, "frame_ping", broken)
    with socket_to(asgi_live_server, "/ws/helpdesk/operator/",
                   session_cookie(desk.colleague)) as operator:
        operator.send(json.dumps({"type": "ping"}))
        assert ended.wait(10), "disconnect never ran"
    assert ended.code == 1011  # ended by the error, not by the client
    assert len(joined) >= 2
    assert held_groups(next(iter(joined.values()))) == []


def test_a_socket_closed_while_its_frame_is_answered_leaves_its_groups(
        asgi_live_server, desk, monkeypatch):
    """The page goes while the server answers its ping: the answer meets a
    closed connection (the server raises), and the socket still leaves its
    groups and runs ``disconnect`` — before, the consumer stopped on that
    error and the channel layer kept the dead socket in its office groups."""
    from wagtail_helpdesk.conversations import consumers

    joined, ended = recorded_sockets(monkeypatch)
    session_user = consumers._session_user
    gone = threading.Event()

    def slow_session_user(*args):
        gone.wait(5)  # the answer is written once the client has gone
        return session_user(*args)

    monkeypatch.setattr(consumers, "_session_user", slow_session_user)
    with socket_to(asgi_live_server, "/ws/helpdesk/operator/",
                   session_cookie(desk.colleague)) as operator:
        operator.send(json.dumps({"type": "ping"}))
    gone.set()
    assert ended.wait(10), "disconnect never ran"
    assert ended.code != 1011  # the client's close, read from the queue: not the error path
    assert len(joined) >= 2  # the operator's own group and their office's
    assert held_groups(next(iter(joined.values()))) == []
