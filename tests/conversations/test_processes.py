"""Two real ASGI server processes (uvicorn, the example site) sharing the
test database and a Redis pub/sub channel layer: a citizen connected to one
and an operator connected to the other hear each other, in both directions.
PostgreSQL only (two processes cannot share SQLite's in-memory test database)."""

import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from websockets.sync.client import connect

from tests.support.asgi import asgi_processes, database_url

pytestmark = [pytest.mark.postgres,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def socket_to(url, path, cookie=None):
    headers = {"Origin": url}
    if cookie:
        headers["Cookie"] = cookie
    return connect(url.replace("http://", "ws://") + path, additional_headers=headers,
                   open_timeout=10)


def next_of(ws, kind, timeout=10):
    """The next frame of ``kind`` (other frames are skipped)."""
    while True:
        frame = json.loads(ws.recv(timeout=timeout))
        if frame["type"] == kind:
            return frame


def send(ws, **frame):
    ws.send(json.dumps(frame))


def rows_after(ws, seq, **frame):
    send(ws, type="after", seq=seq, **frame)
    return next_of(ws, "messages")["messages"]


@pytest.fixture
def two_servers(tmp_path):
    with asgi_processes(2, database_url=database_url(connection.settings_dict),
                        var_dir=tmp_path, prefix=f"helpdesk-test-{uuid.uuid4().hex[:12]}") as urls:
        yield urls


def test_a_citizen_and_an_operator_on_two_processes_hear_each_other(desk, two_servers):
    server_a, server_b = two_servers
    started = desk.start()
    cookie = session_cookie(desk.colleague)
    with socket_to(server_a, "/ws/helpdesk/chat/") as citizen, \
            socket_to(server_b, "/ws/helpdesk/operator/", cookie) as operator:
        send(citizen, type="auth", token=started.token)
        ready = next_of(citizen, "ready")
        assert (ready["conversation"], ready["state"]) == (started.pk, "waiting")

        # The operator (process B) accepts: the citizen (process A) is told.
        send(operator, type="accept", conversation=started.pk)
        accepted = next_of(operator, "accepted")
        signal = next_of(citizen, "new")
        assert (signal["seq"], signal["state"]) == (accepted["last_seq"], "active")

        send(operator, type="send", conversation=started.pk, client_id="o-1",
             body="Buongiorno, sono Anna: come posso aiutarla?")
        sent = next_of(operator, "sent")
        assert next_of(citizen, "new")["seq"] == sent["seq"]
        rows = rows_after(citizen, ready["last_seq"])
        assert [(r["author"], r["body"]) for r in rows][-1] == (
            "operator", "Buongiorno, sono Anna: come posso aiutarla?")
        assert rows[-1]["seq"] == sent["seq"]

        # And back: the citizen (A) writes, the operator (B) hears it.
        send(citizen, type="typing")
        assert next_of(operator, "typing") == {"type": "typing", "conversation": started.pk,
                                               "who": "citizen"}
        send(citizen, type="send", client_id="c-1", body="Vorrei rinnovare la TARI.")
        mine = next_of(citizen, "sent")
        signal = next_of(operator, "new")
        while signal["seq"] < mine["seq"]:  # the operator's own message's signal first
            signal = next_of(operator, "new")
        assert (signal["conversation"], signal["seq"]) == (started.pk, mine["seq"])
        rows = rows_after(operator, sent["seq"], conversation=started.pk)
        assert [(r["seq"], r["author"], r["body"]) for r in rows] == [
            (mine["seq"], "citizen", "Vorrei rinnovare la TARI.")]
