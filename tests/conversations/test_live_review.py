"""Review fixes of the live ticket list's signal and socket: a rolled-back
savepoint changes nothing of the frame; chat messages are news for their
assignee only; the generations travel with the signal; an operator who left
an office stops hearing it at the next ping."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import transaction

from tests.conversations.test_consumers import on_own_loop
from tests.conversations.test_live_signal import changed, for_ticket, sent, socket_of  # noqa: F401
from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, OfficeMembership
from wagtail_helpdesk.tickets import live


def generation(scope):
    return cache.get(live.generation_key(scope))


def test_a_rolled_back_transfer_leaves_the_frame_as_it_was(
        db, factories, sent, django_capture_on_commit_callbacks):  # noqa: F811
    office, other = factories.office(), factories.office()
    op = factories.supervisor(office, other)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.request_ticket(service_=factories.service(office))
    sent.clear()
    before = generation(f"o{other.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            services.take_charge(ticket, op)
            with pytest.raises(RuntimeError), transaction.atomic():
                services.transfer(ticket, op, other)
                raise RuntimeError("savepoint rolled back")
    assert for_ticket(sent, ticket)
    for names, payload in for_ticket(sent, ticket):
        assert names == [live.office_group(office.pk), live.ALL_GROUP]  # never office B's
        assert payload["office"] == office.pk and payload["event"] == "taken_charge"
    assert generation(f"o{other.pk}") == before  # B's figures not counted again


def test_a_released_savepoint_keeps_its_change_and_the_first_event(
        db, factories, sent, django_capture_on_commit_callbacks):  # noqa: F811
    office, other = factories.office(), factories.office()
    op = factories.supervisor(office, other)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.request_ticket(service_=factories.service(office))
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            services.take_charge(ticket, op)
            with transaction.atomic():
                services.transfer(ticket, op, other)
    frames = for_ticket(sent, ticket)
    assert [payload["office"] for _names, payload in frames][-1] == other.pk
    names, payload = frames[-1]  # the savepoint's: the state at the end, both offices
    assert set(names) == {live.office_group(office.pk), live.office_group(other.pk),
                          live.ALL_GROUP}
    assert payload["event"] == "taken_charge"


def test_a_chat_message_is_news_for_its_assignee_only(
        db, factories, sent, django_capture_on_commit_callbacks):  # noqa: F811
    office = factories.office()
    op = factories.operator(office)
    ticket = factories.request_ticket(service_=factories.service(office))
    with django_capture_on_commit_callbacks(execute=True):
        services.take_charge(ticket, op)
    ticket.refresh_from_db()
    sent.clear()
    office_before, own_before = generation(f"o{office.pk}"), generation(f"u{op.pk}")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.on_event(ticket, EventKind.CHAT_MESSAGE, {"conversation": 1, "seq": 2})
    assert [names for names, _p in for_ticket(sent, ticket)] == [[live.user_group(op.pk)]]
    assert generation(f"o{office.pk}") == office_before
    assert generation(f"u{op.pk}") != own_before  # their menu figure (unread) recounts
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):  # with another change: everyone
        with transaction.atomic():
            live.on_event(ticket, EventKind.CHAT_MESSAGE, {"conversation": 1, "seq": 3})
            services.add_note(ticket, op, "Richiamo domani")
    assert any(live.office_group(office.pk) in names for names, _p in for_ticket(sent, ticket))


def test_an_unassigned_chat_message_signals_nobody(
        db, factories, sent, django_capture_on_commit_callbacks):  # noqa: F811
    ticket = factories.request_ticket(service_=factories.service())
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        live.on_event(ticket, EventKind.CHAT_MESSAGE, {"conversation": 1, "seq": 2})
    assert for_ticket(sent, ticket) == []


@on_own_loop
async def test_a_socket_adopts_newer_generations_only(db):
    key = live.generation_key("o991")
    await cache.adelete(key)
    await live.adopt({"gen": 500, "scopes": ["o991"]})
    assert await cache.aget(key) == 500
    await live.adopt({"gen": 400, "scopes": ["o991"]})  # older: kept
    assert await cache.aget(key) == 500
    await live.adopt({"gen": "x", "scopes": ["o991"]})  # not a token: ignored
    assert await cache.aget(key) == 500


pytestmark_sockets = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytestmark_sockets
@on_own_loop
async def test_an_operator_removed_from_an_office_stops_hearing_it_at_the_ping(
        desk, factories, fresh_layer):
    ws, connected, _code = await socket_of(desk.operator)
    assert connected
    layer = get_channel_layer()
    event = {"type": live.CHANGED, "office": desk.office.pk, "ticket": 1, "event": "created",
             "pending": True}
    await layer.group_send(live.office_group(desk.office.pk), event)
    assert (await changed(ws))["ticket"] == 1
    await database_sync_to_async(
        lambda: OfficeMembership.objects.filter(user=desk.operator).delete())()
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await layer.group_send(live.office_group(desk.office.pk), {**event, "ticket": 2})
    assert await ws.receive_nothing(timeout=0.5)  # no longer their office
    other = await database_sync_to_async(factories.office)()
    await database_sync_to_async(
        lambda: OfficeMembership.objects.create(user=desk.operator, office=other))()
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await layer.group_send(live.office_group(other.pk), {**event, "ticket": 3})
    assert (await changed(ws))["ticket"] == 3  # the new office, without reconnecting
    await ws.disconnect()
