"""Private messages and monitoring through the sockets: the citizen never
receives the operators' private talk, nor a signal that it happened, a supervisor who follows a live
conversation is recorded, an operator who is no supervisor cannot follow
a colleague's conversation."""

import pytest
from channels.db import database_sync_to_async

from tests.support import factories
from wagtail_helpdesk.models import EventKind, TicketEvent
from wagtail_helpdesk.services import conversations

from .test_consumers import citizen_socket, next_of, on_own_loop, operator_socket

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def chat(desk, fresh_layer):
    started = desk.start()
    c = conversations.accept(started, desk.operator)
    conversations.invite(c, desk.operator, desk.stranger)
    return desk, c, started.token


@on_own_loop
async def test_a_private_frame_reaches_the_consultant_and_never_the_citizen(chat):
    desk, c, token = chat
    citizen, ready = await citizen_socket(token)
    consultant = await operator_socket(desk.stranger)  # joined to the conversation's group
    operator = await operator_socket(desk.operator)
    await operator.send_json_to({"type": "send", "conversation": c.pk, "client_id": "p-1",
                                 "body": "Tra noi: è un caso noto?", "private": True})
    sent = await next_of(operator, "sent")
    signal = await next_of(consultant, "new")
    assert signal["seq"] == sent["seq"]
    await consultant.send_json_to({"type": "after", "conversation": c.pk, "seq": 0})
    rows = (await next_of(consultant, "messages"))["messages"]
    private = [r for r in rows if r["body"] == "Tra noi: è un caso noto?"]
    assert private and private[0]["visibility"] == "internal"
    # The citizen does not even hear that something was written...
    assert await citizen.receive_nothing(timeout=0.5)
    # ...and the rows hold none of it.
    await citizen.send_json_to({"type": "after", "seq": 0})
    rows = (await next_of(citizen, "messages"))["messages"]
    assert all(r["visibility"] == "public" for r in rows)
    assert "Tra noi: è un caso noto?" not in [r["body"] for r in rows]
    assert "consult" not in [r["event"] for r in rows]
    # A private flag of the wrong type is refused, the socket stays open.
    await operator.send_json_to({"type": "send", "conversation": c.pk, "client_id": "p-2",
                                 "body": "x", "private": "yes"})
    assert (await next_of(operator, "error"))["client_id"] == "p-2"
    for ws in (citizen, consultant, operator):
        await ws.disconnect()


@on_own_loop
async def test_watching_a_live_conversation_is_monitoring_and_only_for_supervisors(chat):
    desk, c, _token = chat
    boss = await database_sync_to_async(factories.supervisor)(desk.office)
    colleague = await operator_socket(desk.colleague)
    await colleague.send_json_to({"type": "watch", "conversation": c.pk})
    assert (await next_of(colleague, "error"))["conversation"] == c.pk
    supervisor = await operator_socket(boss)
    await supervisor.send_json_to({"type": "watch", "conversation": c.pk})
    watching = await next_of(supervisor, "watching")
    assert watching["conversation"] == c.pk

    def monitored():
        return list(TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED)
                    .values_list("actor_id", flat=True))

    assert await database_sync_to_async(monitored)() == [boss.pk]
    for ws in (colleague, supervisor):
        await ws.disconnect()


@on_own_loop
async def test_an_office_colleague_cannot_read_a_live_chat_by_asking_after_n(chat):
    desk, c, _token = chat
    colleague = await operator_socket(desk.colleague)
    await colleague.send_json_to({"type": "after", "conversation": c.pk, "seq": 0})
    refused = await next_of(colleague, "error")
    assert refused["conversation"] == c.pk
    await colleague.disconnect()
