"""The live ticket list's signal (``tickets/live.py``): one frame per ticket
and transaction, on commit only, to the right groups, with no personal data;
the operator's socket joins only the groups its user may hear."""

import json
import logging

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from tests.conversations.test_consumers import APP, ORIGIN, on_own_loop, session_cookie
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Kind
from wagtail_helpdesk.tickets import live


@pytest.fixture
def sent(monkeypatch):
    """The frames the signal sends: ``[(groups, payload)]`` (the payload as the
    browser gets it: without the generations the sockets adopt)."""
    frames = []

    def record(names, payload):
        assert isinstance(payload.pop("gen"), int) and isinstance(payload.pop("scopes"), list)
        frames.append((names, payload))

    monkeypatch.setattr(live, "send", record)
    return frames


def for_ticket(frames, ticket):
    return [(names, payload) for names, payload in frames if payload["ticket"] == ticket.pk]


def test_frames_sent_on_commit_the_last_with_the_state_at_the_end(
        db, factories, sent, django_capture_on_commit_callbacks):
    office = factories.office()
    op = factories.operator(office)
    service = factories.service(office)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            ticket = factories.request_ticket(service_=service)  # created, submitted…
            services.take_charge(ticket, op)
            services.add_note(ticket, op, "Chiamo il cittadino")
            assert sent == []  # nothing before the commit
    # Each service's savepoint keeps its changes (a frame per level at most).
    frames = for_ticket(sent, ticket)
    assert 1 <= len(frames) <= 3
    names, payload = frames[-1]
    assert payload == {"type": "tickets.changed", "office": office.pk, "ticket": ticket.pk,
                       "event": "created", "pending": False}  # the first event, the last state
    assert all(n == [live.office_group(office.pk), live.ALL_GROUP] for n, _p in frames)


def test_a_new_pending_ticket_says_so(db, factories, sent, django_capture_on_commit_callbacks):
    service = factories.service()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.request_ticket(service_=service)
    [(_names, payload)] = for_ticket(sent, ticket)
    assert payload["pending"] is True and payload["office"] == service.office_id


def test_nothing_is_sent_when_the_transaction_rolls_back(
        db, factories, sent, django_capture_on_commit_callbacks):
    service = factories.service()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            factories.request_ticket(service_=service)
            raise RuntimeError("rolled back")
    assert callbacks == [] and sent == []


def test_a_rolled_back_savepoint_drops_only_its_own_changes(
        db, factories, sent, django_capture_on_commit_callbacks):
    office, elsewhere = factories.office(), factories.office()
    op = factories.operator(office)
    service, other_service = factories.service(office), factories.service(elsewhere)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            kept = factories.request_ticket(service_=service)
            released = factories.request_ticket(service_=service)
            with pytest.raises(RuntimeError), transaction.atomic():
                services.take_charge(kept, op)
                factories.request_ticket(service_=other_service)  # rolled back
                raise RuntimeError("savepoint rolled back")
            with transaction.atomic():  # a savepoint that is released
                services.take_charge(kept, op)
                services.take_charge(released, op)
    # A frame per savepoint level that changed the ticket, the last one with its end state.
    assert {payload["ticket"] for _names, payload in sent} == {kept.pk, released.pk}
    assert all(live.office_group(elsewhere.pk) not in names for names, _p in sent)
    assert [p["pending"] for _n, p in for_ticket(sent, kept)][-1] is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_commit_and_rollback(factories, sent):
    service = factories.service()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.request_ticket(service_=service)
        raise RuntimeError("rolled back")
    assert sent == []
    ticket = factories.request_ticket(service_=service)
    assert [payload["ticket"] for _names, payload in sent] == [ticket.pk]


def test_a_transfer_signals_both_offices(db, factories, sent, django_capture_on_commit_callbacks):
    office, other = factories.office(), factories.office()
    op = factories.supervisor(office, other)
    with django_capture_on_commit_callbacks(execute=True):  # committed: its own frame
        ticket = factories.request_ticket(service_=factories.service(office))
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.transfer(ticket, op, other)
    [(names, payload)] = for_ticket(sent, ticket)
    assert set(names) == {live.office_group(office.pk), live.office_group(other.pk),
                          live.ALL_GROUP}
    assert payload["office"] == other.pk and payload["event"] == "transferred"


def test_groups_of_a_ticket_without_office_name_its_creator():
    change = {"office": None, "ticket": 5, "event": "created", "pending": False,
              "offices": {None}, "creator": 7}
    assert live.groups_of(change) == [live.user_group(7), live.ALL_GROUP]


def test_a_citizens_unsent_draft_is_not_signalled(db, factories, sent,
                                                  django_capture_on_commit_callbacks):
    citizen = factories.citizen()
    with django_capture_on_commit_callbacks(execute=True):
        services.create_ticket(services.CitizenActor(citizen), kind=Kind.REQUEST,
                               service=factories.service(), citizen=citizen,
                               channel=Channel.WEB, description="bozza", draft=True)
    assert sent == []


def test_the_frame_carries_no_text_and_no_personal_data(
        db, factories, sent, django_capture_on_commit_callbacks):
    person = factories.citizen(given_name="Giovanna", family_name="Esposito",
                               email="giovanna@example.org", fiscal_code="RSSMRA85T10A562S")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.request_ticket(service_=factories.service(), citizen_=person,
                                          subject="Bolletta TARI doppia",
                                          description="Ho pagato due volte la TARI")
        services.add_citizen_message(ticket, services.CitizenActor(person), "Segreto 1234")
    frames = for_ticket(sent, ticket)
    assert frames
    assert all(set(p) == {"type", "office", "ticket", "event", "pending"} for _n, p in frames)
    text = json.dumps([payload for _names, payload in frames])
    for private in ("Giovanna", "Esposito", "giovanna@", "RSSMRA", "TARI", "Segreto",
                    ticket.short_code):
        assert private not in text


def test_a_failing_layer_is_logged_and_never_breaks_the_service(
        db, factories, monkeypatch, caplog, django_capture_on_commit_callbacks):
    from wagtail_helpdesk.conversations import groups

    class Broken:
        async def group_send(self, name, payload):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(groups, "layer", lambda: Broken())
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        ticket = factories.request_ticket(service_=factories.service())
    assert ticket.pk
    assert any("helpdesk.tickets" in r.getMessage() for r in caplog.records)


# --- The operator's socket ---------------------------------------------------------------

pytestmark_sockets = pytest.mark.django_db(transaction=True, serialized_rollback=True)


async def socket_of(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    ws = WebsocketCommunicator(APP, "/ws/helpdesk/operator/", headers=[ORIGIN, cookie])
    connected, code = await ws.connect()
    return ws, connected, code


async def changed(ws, timeout=3):
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == "tickets.changed":
            return frame


@pytestmark_sockets
@on_own_loop
async def test_the_socket_hears_only_the_offices_its_user_sees(desk, factories, fresh_layer):
    mine, theirs = desk.office, await database_sync_to_async(factories.office)()
    admin = await database_sync_to_async(factories.administrator)()
    operator, _c, _code = await socket_of(desk.operator)
    everyone, _c, _code = await socket_of(admin)
    new = database_sync_to_async(factories.request_ticket)
    other_service = await database_sync_to_async(factories.service)(theirs)

    ticket = await new(service_=desk.service)
    frame = await changed(operator)
    assert frame == {"type": "tickets.changed", "office": mine.pk, "ticket": ticket.pk,
                     "event": "created", "pending": True}
    assert (await changed(everyone))["ticket"] == ticket.pk

    elsewhere = await new(service_=other_service)
    assert (await changed(everyone))["ticket"] == elsewhere.pk
    assert await operator.receive_nothing(timeout=0.5)  # another office's ticket
    await operator.disconnect()
    await everyone.disconnect()


@pytestmark_sockets
@on_own_loop
async def test_a_user_who_is_no_operator_is_refused(factories, fresh_layer):
    editor = await database_sync_to_async(factories.user)(group=None, is_staff=True)
    ws, connected, code = await socket_of(editor)
    assert not connected and code == 4403


@pytestmark_sockets
@on_own_loop
async def test_ping_answers_while_the_session_lasts(desk, fresh_layer):
    from django.contrib.sessions.models import Session

    ws, connected, _code = await socket_of(desk.operator)
    assert connected
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await database_sync_to_async(lambda: Session.objects.all().delete())()  # logged out
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(timeout=3))["type"] == "error"
    assert (await ws.receive_output(timeout=3))["code"] == 4401
