"""The sockets, through the application the host builds (origin check,
session auth): delivery both ways, catching up after a reconnect, refusals."""

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from wagtail_helpdesk.conversations.asgi import application
from wagtail_helpdesk.services import conversations

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

APP = application(http=lambda scope, receive, send: None)
ORIGIN = (b"origin", b"http://localhost")  # in ALLOWED_HOSTS when APP is built


def on_own_loop(test):
    """Run the async test on a loop of its own in another thread: the browser
    tests' Playwright keeps an event loop running in the main thread for the
    rest of the session, and a loop cannot be started inside another."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        async def body():
            try:
                await test(*args, **kwargs)
            finally:
                # The database connections the test opened through Channels'
                # sync threads: left open, PostgreSQL cannot drop the test
                # database at the end of the session.
                await database_sync_to_async(connections.close_all)()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, body()).result()

    return run


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
def chat(desk, fresh_layer):
    started = desk.start()
    return desk, conversations.accept(started, desk.operator), started.token


async def citizen_socket(token):
    ws = WebsocketCommunicator(APP, "/ws/helpdesk/chat/", headers=[ORIGIN])
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "auth", "token": token})
    ready = await ws.receive_json_from()
    assert ready["type"] == "ready"
    return ws, ready


async def operator_socket(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    ws = WebsocketCommunicator(APP, "/ws/helpdesk/operator/", headers=[ORIGIN, cookie])
    connected, _ = await ws.connect()
    assert connected
    return ws


async def next_of(ws, kind, timeout=3):
    """The next frame of ``kind`` (other frames, e.g. signals, are skipped)."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


@on_own_loop
async def test_citizen_and_operator_hear_each_other(chat):
    desk, c, token = chat
    citizen, ready = await citizen_socket(token)
    operator = await operator_socket(desk.operator)
    assert ready == {"type": "ready", "conversation": c.pk, "state": "active", "last_seq": 2}

    await citizen.send_json_to({"type": "typing", "text": "segreto"})
    typing = await next_of(operator, "typing")
    assert typing == {"type": "typing", "conversation": c.pk, "who": "citizen"}

    await citizen.send_json_to({"type": "send", "client_id": "c-1", "body": "Ci siete?"})
    assert await next_of(citizen, "sent") == {"type": "sent", "client_id": "c-1", "seq": 3}
    signal = await next_of(operator, "new")
    assert (signal["conversation"], signal["seq"]) == (c.pk, 3) and "body" not in signal
    await operator.send_json_to({"type": "after", "conversation": c.pk, "seq": 2})
    rows = (await next_of(operator, "messages"))["messages"]
    assert [(r["seq"], r["author"], r["body"]) for r in rows] == [(3, "citizen", "Ci siete?")]

    await operator.send_json_to({"type": "send", "conversation": c.pk, "client_id": "o-1",
                                 "body": "Sì, mi dica"})
    assert (await next_of(operator, "sent"))["seq"] == 4
    signal = await next_of(citizen, "new")  # its own message's signal first
    assert signal["seq"] == 3 and (await next_of(citizen, "new"))["seq"] == 4
    await citizen.send_json_to({"type": "after", "seq": 3})
    rows = (await next_of(citizen, "messages"))["messages"]
    assert [(r["seq"], r["author"], r["name"], r["body"]) for r in rows] == [
        (4, "operator", "Luca", "Sì, mi dica")]
    await citizen.disconnect()
    await operator.disconnect()


@on_own_loop
async def test_a_reconnecting_citizen_gets_what_was_missed_once_and_in_order(chat):
    desk, c, token = chat
    citizen, ready = await citizen_socket(token)
    seen = ready["last_seq"]
    await citizen.disconnect()
    for n in range(3):
        await database_sync_to_async(conversations.send)(c, desk.operator, f"risposta {n}",
                                                         f"o-{n}")
    citizen, ready = await citizen_socket(token)
    assert ready["last_seq"] == seen + 3
    await citizen.send_json_to({"type": "after", "seq": seen})
    rows = (await next_of(citizen, "messages"))["messages"]
    assert [r["body"] for r in rows] == ["risposta 0", "risposta 1", "risposta 2"]
    assert [r["seq"] for r in rows] == [seen + 1, seen + 2, seen + 3]
    await citizen.send_json_to({"type": "after", "seq": rows[-1]["seq"]})
    assert (await next_of(citizen, "messages"))["messages"] == []
    # A send retried after the reconnect is stored once.
    for _ in range(2):
        await citizen.send_json_to({"type": "send", "client_id": "c-9", "body": "Grazie"})
        assert (await next_of(citizen, "sent"))["seq"] == seen + 4
    await citizen.disconnect()


@on_own_loop
async def test_frames_for_someone_elses_conversation_are_refused(chat):
    desk, c, token = chat
    stranger = await operator_socket(desk.stranger)
    for frame in ({"type": "after", "conversation": c.pk, "seq": 0},
                  {"type": "watch", "conversation": c.pk},
                  {"type": "accept", "conversation": c.pk},
                  {"type": "send", "conversation": c.pk, "client_id": "s-1", "body": "x"}):
        await stranger.send_json_to(frame)
        answer = await stranger.receive_json_from(timeout=3)
        assert answer["type"] == "error" and answer["conversation"] == c.pk, frame
    await stranger.disconnect()

    other = await database_sync_to_async(desk.start)()
    citizen, _ = await citizen_socket(other.token)
    await citizen.send_json_to({"type": "after", "conversation": c.pk, "seq": 0})
    assert (await citizen.receive_json_from())["type"] == "error"
    await citizen.send_json_to({"type": "send", "conversation": c.pk, "client_id": "i-1",
                                "body": "intrusione"})
    assert (await citizen.receive_json_from())["type"] == "error"
    await citizen.disconnect()
    count = await database_sync_to_async(c.messages.filter(client_id="i-1").count)()
    assert count == 0


@on_own_loop
async def test_sockets_without_credentials_get_nothing(chat):
    desk, c, token = chat
    anonymous = WebsocketCommunicator(APP, "/ws/helpdesk/operator/", headers=[ORIGIN])
    connected, _ = await anonymous.connect()
    assert not connected
    foreign = WebsocketCommunicator(APP, "/ws/helpdesk/chat/",
                                    headers=[(b"origin", b"https://evil.example")])
    connected, _ = await foreign.connect()
    assert not connected
    citizen = WebsocketCommunicator(APP, "/ws/helpdesk/chat/", headers=[ORIGIN])
    await citizen.connect()
    await citizen.send_json_to({"type": "after", "seq": 0})
    assert (await citizen.receive_json_from())["type"] == "error"
    await citizen.send_json_to({"type": "auth", "token": token[:-2] + "zz"})
    assert (await citizen.receive_json_from())["type"] == "error"
    assert (await citizen.receive_output(timeout=1))["type"] == "websocket.close"


@on_own_loop
async def test_an_operator_accepts_from_the_queue_and_the_citizen_is_told(desk, fresh_layer):
    c = await database_sync_to_async(desk.start)()
    citizen, ready = await citizen_socket(c.token)
    assert ready["state"] == "waiting"
    operator = await operator_socket(desk.colleague)
    await operator.send_json_to({"type": "accept", "conversation": c.pk})
    accepted = await next_of(operator, "accepted")
    assert accepted == {"type": "accepted", "conversation": c.pk, "last_seq": 2}
    signal = await next_of(citizen, "new")
    assert (signal["seq"], signal["state"]) == (2, "active")
    await citizen.send_json_to({"type": "after", "seq": 1})
    (notice,) = (await next_of(citizen, "messages"))["messages"]
    assert notice["author"] == "system" and notice["body"] == "Anna joined the conversation."
    await asyncio.gather(citizen.disconnect(), operator.disconnect())


@on_own_loop
async def test_frames_with_fields_of_the_wrong_type_get_an_error_and_the_socket_lives(chat):
    desk, c, token = chat
    citizen, _ = await citizen_socket(token)
    for frame in ({"type": "send", "client_id": "c-1", "body": 5},
                  {"type": "send", "client_id": 7, "body": "Ci siete?"},
                  {"type": "send", "client_id": ["c-1"], "body": {"x": 1}},
                  {"type": "after", "seq": "tre"},
                  {"type": "after", "seq": True},
                  {"type": "auth", "token": 12345}):
        await citizen.send_json_to(frame)
        answer = await next_of(citizen, "error")
        assert answer["message"] == "This request is not valid.", frame
    await citizen.send_json_to({"type": "send", "client_id": "c-1", "body": "Ci siete?"})
    assert (await next_of(citizen, "sent"))["client_id"] == "c-1"

    operator = await operator_socket(desk.operator)
    for frame in ({"type": "after", "conversation": str(c.pk), "seq": 0},
                  {"type": "send", "conversation": c.pk, "client_id": "o-1", "body": ["x"]},
                  {"type": "watch", "conversation": True},
                  {"type": "accept", "conversation": [c.pk]}):
        await operator.send_json_to(frame)
        assert (await next_of(operator, "error"))["type"] == "error", frame
    await operator.send_json_to({"type": "send", "conversation": c.pk, "client_id": "o-1",
                                 "body": "Eccomi"})
    assert (await next_of(operator, "sent"))["client_id"] == "o-1"
    await asyncio.gather(citizen.disconnect(), operator.disconnect())


async def refused_and_closed(ws, conversation):
    await ws.send_json_to({"type": "after", "conversation": conversation, "seq": 0})
    answer = await ws.receive_json_from(timeout=3)
    assert answer["type"] == "error" and "session" in answer["message"]
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4401}


@on_own_loop
async def test_an_operator_socket_closes_once_its_session_is_logged_out(chat):
    from django.contrib.sessions.models import Session

    desk, c, _token = chat
    operator = await operator_socket(desk.operator)
    await operator.send_json_to({"type": "after", "conversation": c.pk, "seq": 0})
    assert (await next_of(operator, "messages"))["conversation"] == c.pk
    await database_sync_to_async(lambda: Session.objects.all().delete())()  # logged out
    await refused_and_closed(operator, c.pk)


@on_own_loop
async def test_an_operator_socket_closes_after_a_password_change(chat):
    desk, c, _token = chat
    operator = await operator_socket(desk.operator)
    await operator.send_json_to({"type": "watch", "conversation": c.pk})
    assert (await next_of(operator, "watching"))["conversation"] == c.pk

    def change_password():
        desk.operator.set_password("una-nuova-password-lunga")
        desk.operator.save()

    await database_sync_to_async(change_password)()
    await refused_and_closed(operator, c.pk)


@on_own_loop
async def test_an_operator_socket_closes_when_the_user_is_deactivated(chat):
    desk, c, _token = chat
    operator = await operator_socket(desk.operator)

    def deactivate():
        type(desk.operator).objects.filter(pk=desk.operator.pk).update(is_active=False)

    await database_sync_to_async(deactivate)()
    await refused_and_closed(operator, c.pk)
