"""A conversation and its ticket never drift apart; claims respect a transfer
landing in between; the token is the citizen's credential; each side's
message ids are its own."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError

from wagtail_helpdesk import services
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    Citizen,
    Conversation,
    ConversationMessage,
    EventKind,
    Ticket,
    TicketEvent,
)
from wagtail_helpdesk.services import chatqueue, conversations
from wagtail_helpdesk.workflow import Status

from .conftest import PERSON

pytestmark = pytest.mark.django_db

FISCAL_CODE = "RSSMRA85T10A562S"


def fresh(c):
    return Conversation.objects.select_related("ticket").get(pk=c.pk)


def resolve_behind_its_back(c, resolution):
    """The ticket resolved without its conversation knowing (drifted rows)."""
    Ticket.objects.filter(pk=c.ticket_id).update(
        status=Status.RESOLVED, resolution_type=resolution, resolution_text="Altrove",
        resolved_at=c.created_at)


# --- 1. a transfer between the permission check and the claim ------------------------


def test_a_transfer_between_the_check_and_the_claim_refuses_the_old_queue(
        desk, factories, monkeypatch):
    other = factories.office()
    c = desk.start()
    checked = chatqueue._check_capacity

    def transferred_meanwhile(operator):
        checked(operator)
        conversations.transfer(fresh(c), desk.colleague, other)

    monkeypatch.setattr(chatqueue, "_check_capacity", transferred_meanwhile)
    with pytest.raises(PermissionDenied):
        conversations.accept(c, desk.operator)
    assert fresh(c).operator is None


def test_a_stale_conversation_of_the_old_queue_cannot_be_accepted(desk, factories):
    other = factories.office()
    newcomer = factories.operator(other)
    c = desk.start()
    conversations.transfer(c, desk.colleague, other)
    with pytest.raises(PermissionDenied):
        conversations.accept(c, desk.operator)  # its copy still says the old queue
    assert fresh(c).state == "waiting"
    assert conversations.accept(c, newcomer).operator == newcomer


# --- 2. the ticket changed through the generic services -------------------------------


def test_resolving_a_waiting_chat_from_the_ticket_page_does_not_block_the_queue(desk):
    stuck = desk.start()
    services.take_charge(stuck.ticket, desk.colleague)
    services.resolve(Ticket.objects.get(pk=stuck.ticket_id), desk.colleague, desk.resolution,
                     "Risolto al telefono")
    assert fresh(stuck).state == "closed"
    later = desk.start()
    assert conversations.accept_next(desk.operator).pk == later.pk


def test_accept_next_skips_a_waiting_chat_whose_ticket_is_no_longer_open(desk):
    drifted = desk.start()
    resolve_behind_its_back(drifted, desk.resolution)
    later = desk.start()
    assert conversations.accept_next(desk.operator).pk == later.pk
    assert conversations.accept_next(desk.colleague) is None


def test_resolving_an_active_chat_from_the_ticket_page_closes_it(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    c = conversations.accept(desk.start(), desk.operator)
    services.resolve(Ticket.objects.get(pk=c.ticket_id), desk.operator, desk.resolution,
                     "Risolto dalla scheda")
    c = fresh(c)
    assert (c.state, c.closed_at is not None) == ("closed", True)
    assert conversations.messages_after(c, 0)[-1].event == "closed"
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_CLOSED).exists()
    with pytest.raises(GuardFailed, match="ended"):
        conversations.send(c, conversations.citizen_actor(c), "ci sono ancora?", "c-5")
    # The operator's place is free.
    assert conversations.accept(desk.start(), desk.operator).state == "active"


def test_closing_a_chat_whose_ticket_is_already_resolved_only_closes_it(desk):
    c = conversations.accept(desk.start(), desk.operator)
    resolve_behind_its_back(c, desk.resolution)
    c = conversations.close(c, desk.operator, desk.resolution, "Chiusa")
    assert c.state == "closed" and c.ticket.status == Status.RESOLVED
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_CLOSED).count() == 1


def test_closing_records_the_close_once(desk):
    c = conversations.accept(desk.start(), desk.operator)
    c = conversations.close(c, desk.operator, desk.resolution, "Informazioni date")
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_CLOSED).count() == 1
    assert [m.event for m in conversations.messages_after(c, 0)].count("closed") == 1


def test_a_ticket_transfer_takes_its_chat_to_the_new_queue(desk, factories, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    other = factories.office()
    newcomer = factories.operator(other)
    c = conversations.accept(desk.start(), desk.operator)
    services.transfer(Ticket.objects.get(pk=c.ticket_id), desk.operator, other,
                      note="Competenza dei tributi")
    c = fresh(c)
    assert (c.state, c.office, c.operator) == ("waiting", other, None)
    assert conversations.messages_after(c, 0)[-1].event == "transferred"
    with pytest.raises(PermissionDenied):
        conversations.send(c, desk.operator, "ci sono ancora", "o-1")
    assert conversations.accept_next(newcomer).pk == c.pk
    # The first operator's place is free again.
    assert conversations.accept(desk.start(), desk.operator).state == "active"


def test_a_ticket_transfer_during_the_wrap_up_closes_the_chat(desk, factories):
    other = factories.office()
    c = conversations.accept(desk.start(), desk.operator)
    conversations.end(c, desk.operator)
    services.transfer(Ticket.objects.get(pk=c.ticket_id), desk.operator, other)
    c = fresh(c)
    assert (c.state, c.office) == ("closed", desk.office)
    assert Ticket.objects.get(pk=c.ticket_id).office == other


# --- 3. the conversation's token after "Collega al cittadino" -------------------------


def test_the_token_still_works_after_the_ticket_is_linked_to_the_registered_citizen(
        desk, factories):
    registered = factories.citizen(fiscal_code=FISCAL_CODE)
    c = desk.start(person={**PERSON, "fiscal_code": FISCAL_CODE})
    services.link_citizen(Ticket.objects.get(pk=c.ticket_id), desk.operator, registered)
    assert Ticket.objects.get(pk=c.ticket_id).citizen == registered
    c = conversations.by_token(c.token)
    citizen = conversations.citizen_actor(c)
    assert conversations.can_read(citizen, c)
    assert conversations.send(c, citizen, "Sono ancora qui", "c-2").seq == 2
    assert conversations.to_ticket(c).state == "ticket"  # "leave" while waiting
    # Another citizen is not let in by the link.
    stranger = conversations.citizen_actor(desk.start())
    assert not conversations.can_read(stranger, c)


def test_a_linked_citizen_ends_an_active_chat_with_the_token(desk, factories):
    registered = factories.citizen(fiscal_code=FISCAL_CODE)
    c = desk.start(person={**PERSON, "fiscal_code": FISCAL_CODE})
    conversations.accept(c, desk.operator)
    services.link_citizen(Ticket.objects.get(pk=c.ticket_id), desk.operator, registered)
    c = conversations.by_token(c.token)
    assert conversations.end(c, conversations.citizen_actor(c)).state == "wrapup"
    assert Citizen.objects.filter(declared=True).count() == 1


# --- 4. each side's message ids -------------------------------------------------------


def test_an_operator_message_with_the_citizens_client_id_is_stored(desk):
    c = desk.start()
    mine = conversations.send(c, conversations.citizen_actor(c), "Domanda", "x-1")
    conversations.accept(c, desk.operator)
    reply = conversations.send(c, desk.operator, "Risposta", "x-1")
    assert reply.pk != mine.pk
    assert (reply.author_kind, reply.body, reply.author) == ("operator", "Risposta",
                                                              desk.operator)
    assert conversations.send(c, desk.operator, "Risposta", "x-1").pk == reply.pk  # a retry


def test_another_operators_client_id_is_refused_not_answered(desk):
    c = conversations.accept(desk.start(), desk.operator)
    first = conversations.send(c, desk.operator, "Prima risposta", "o-1")
    conversations.release(c, desk.operator)
    conversations.accept(c, desk.colleague)
    with pytest.raises(GuardFailed):
        conversations.send(c, desk.colleague, "Seconda risposta", "o-1")
    assert ConversationMessage.objects.get(client_id="o-1").pk == first.pk


def test_a_concurrent_duplicate_send_returns_the_stored_message(desk, monkeypatch):
    c = desk.start()
    citizen = conversations.citizen_actor(c)
    stored = conversations.send(c, citizen, "Ci siete?", "c-2")
    lookup, calls = conversations._stored, []

    def not_yet_seen(*args, **kwargs):  # the other send commits after both lookups
        calls.append(1)
        return None if len(calls) <= 2 else lookup(*args, **kwargs)

    monkeypatch.setattr(conversations, "_stored", not_yet_seen)
    assert conversations.send(c, citizen, "Ci siete?", "c-2").pk == stored.pk
    assert fresh(c).last_seq == 2
    monkeypatch.setattr(conversations, "_stored", lambda *a, **k: None)
    # An integrity error that is no duplicate is not hidden.
    monkeypatch.setattr(conversations, "append",
                        lambda *a, **k: (_ for _ in ()).throw(IntegrityError("other")))
    with pytest.raises(IntegrityError):
        conversations.send(c, citizen, "altro", "c-3")


def test_rows_show_a_client_id_only_to_its_sender(desk, client):
    c = desk.start()
    conversations.send(c, conversations.citizen_actor(c), "Domanda", "c-secret")
    conversations.accept(c, desk.operator)
    conversations.send(c, desk.operator, "Risposta", "o-secret")
    rows = client.get("/helpdesk/chat/messages/", {"after": 1},
                      HTTP_X_HELPDESK_CHAT_TOKEN=c.token).json()["messages"]
    assert [(r["author"], r["client_id"]) for r in rows] == [
        ("citizen", "c-secret"), ("system", None), ("operator", None)]
    # Another reader (a supervisor of the queue: following a live chat is
    # theirs and its operator's) sees nobody's ids.
    from tests.support import factories

    client.force_login(factories.supervisor(desk.office))
    rows = client.get(f"/helpdesk/chat/{c.pk}/messages/", {"after": 1}).json()["messages"]
    assert [r["client_id"] for r in rows if r["visibility"] == "public"][:3] == [None, None, None]
    client.force_login(desk.operator)
    rows = client.get(f"/helpdesk/chat/{c.pk}/messages/", {"after": 1}).json()["messages"]
    assert [r["client_id"] for r in rows][:3] == [None, None, "o-secret"]
