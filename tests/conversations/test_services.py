"""The chat services: sequence numbers, idempotent sends, limits, claims,
capacity, hand-backs, wrap-up, the turn into a request, identities."""

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise

from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    Channel,
    Citizen,
    Conversation,
    ConversationMessage,
    EventKind,
    Notification,
    Ticket,
    TicketEvent,
)
from wagtail_helpdesk.services import SYSTEM, CitizenActor, conversations
from wagtail_helpdesk.services import presence as presence_service
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db


def kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def test_a_declared_contact_starts_a_chat_ticket_in_the_queue(desk):
    c = desk.start()
    ticket = c.ticket
    assert (ticket.channel, ticket.kind, ticket.status) == (Channel.CHAT, "request", Status.NEW)
    assert ticket.office == desk.office and c.office == desk.office
    assert ticket.short_code and ticket.description.startswith("Buongiorno")
    assert c.state == "waiting" and c.identity == "declared" and c.citizen.declared
    assert c.citizen.email == "maria@example.org"
    created = TicketEvent.objects.get(ticket=ticket, kind=EventKind.CREATED)
    assert created.data["identity"] == "declared"
    (first,) = conversations.messages_after(c, 0)
    assert (first.seq, first.author_kind, first.body) == (1, "citizen", ticket.description)
    assert conversations.by_token(c.token).pk == c.pk
    assert len(c.token) >= 40 and c.token not in Conversation.objects.get().token_hash
    assert conversations.by_token(c.token[:-1] + "x") is None


def test_a_citizen_logged_in_with_spid_is_verified_and_no_record_is_declared(desk, factories):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("spid-cittadino", password="pw")
    citizen = factories.citizen(user=user, fiscal_code=factories.FISCAL_CODES[0])
    c = desk.start(user=user, person={"given_name": "Altro", "email": "x@example.org"})
    assert c.identity == "verified" and c.citizen == citizen and c.ticket.citizen == citizen
    assert not Citizen.objects.filter(declared=True).exists()
    assert conversations.citizen_actor(c).user == user
    assert conversations.messages_after(c, 0)[0].author == user


def test_a_declared_contact_needs_a_name_and_an_email_and_nothing_is_created(desk):
    with pytest.raises(GuardFailed) as error:
        desk.start(person={"given_name": "Maria", "email": " "})
    assert set(error.value.field_errors) == {"email"}
    assert isinstance(error.value.message, Promise)  # translated when shown
    assert not Ticket.objects.exists() and not Citizen.objects.exists()


def test_sequence_numbers_increase_and_a_retry_stores_nothing_twice(desk):
    c = desk.start()
    citizen = conversations.citizen_actor(c)
    first = conversations.send(c, citizen, "Sono ancora qui", "c-1")
    again = conversations.send(c, citizen, "Sono ancora qui", "c-1")
    assert first.pk == again.pk and first.seq == 2
    conversations.accept(c, desk.operator)  # a notice: seq 3
    reply = conversations.send(c, desk.operator, "Buongiorno, mi dica", "o-1")
    assert reply.seq == 4 and reply.author_kind == "operator"
    seqs = [m.seq for m in conversations.messages_after(c, 0)]
    assert seqs == [1, 2, 3, 4]
    assert [m.seq for m in conversations.messages_after(c, 2)] == [3, 4]
    c.refresh_from_db()
    assert c.last_seq == 4 and ConversationMessage.objects.filter(client_id="c-1").count() == 1
    # The same client id is another conversation's own business.
    other = desk.start()
    assert conversations.send(other, conversations.citizen_actor(other), "x", "c-1").seq == 2


def test_chat_messages_reach_the_timeline_without_e_mails(desk):
    c = desk.start()
    conversations.accept(c, desk.operator)
    before = Notification.objects.count()
    conversations.send(c, desk.operator, "Le rispondo subito", "o-1")
    conversations.send(c, conversations.citizen_actor(c), "Grazie", "c-1")
    assert Notification.objects.count() == before
    messages = TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MESSAGE)
    assert [(e.body, e.by_citizen, e.visibility) for e in messages] == [
        (c.ticket.description, True, "public"), ("Le rispondo subito", False, "public"),
        ("Grazie", True, "public")]
    ticket = Ticket.objects.get(pk=c.ticket_id)
    assert ticket.first_response_at is not None and ticket.last_citizen_activity_at is not None


def test_a_message_too_long_is_refused_clearly_and_can_be_sent_again(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_MESSAGE_MAX_CHARS = 20
    c = desk.start(body="Domanda breve")
    citizen = conversations.citizen_actor(c)
    with pytest.raises(GuardFailed) as error:
        conversations.send(c, citizen, "x" * 21, "c-1")
    assert "at most 20 characters (it has 21)" in str(error.value.message)
    assert isinstance(error.value.field_errors["body"], Promise)  # translated when shown
    assert not ConversationMessage.objects.filter(client_id="c-1").exists()
    assert conversations.send(c, citizen, "x" * 20, "c-1").seq == 2
    with pytest.raises(GuardFailed):
        conversations.send(c, citizen, "   ", "c-2")


def test_the_rate_limit_refuses_extra_messages_and_loses_none(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_RATE_PER_MINUTE = 3
    c = desk.start()
    citizen = conversations.citizen_actor(c)
    for n in range(3):
        conversations.send(c, citizen, f"messaggio {n}", f"c-{n}")
    with pytest.raises(GuardFailed) as error:
        conversations.send(c, citizen, "uno di troppo", "c-3")
    assert "too quickly" in str(error.value.message)
    assert conversations.send(c, citizen, "messaggio 0", "c-0").seq == 2  # a retry still answers
    cache.clear()  # the next minute
    late = conversations.send(c, citizen, "uno di troppo", "c-3")
    assert late.seq == 5 and late.body == "uno di troppo"


def test_accepting_claims_the_conversation_and_its_ticket(desk):
    c = desk.start()
    c = conversations.accept(c, desk.operator)
    assert c.state == "active" and c.operator == desk.operator and c.accepted_at
    ticket = Ticket.objects.get(pk=c.ticket_id)
    assert ticket.assignee == desk.operator and ticket.status == Status.IN_PROGRESS
    assert EventKind.CHAT_JOINED in kinds(ticket)
    notice = conversations.messages_after(c, 1)[0]
    assert (notice.author_kind, notice.event, notice.data["name"]) == ("system", "joined", "Luca")
    with pytest.raises(GuardFailed, match="already accepted"):
        conversations.accept(c, desk.colleague)
    with pytest.raises(PermissionDenied):
        conversations.send(c, desk.colleague, "Intervengo io", "k-1")


def test_an_operator_of_another_office_cannot_accept_or_read(desk):
    c = desk.start()
    with pytest.raises(PermissionDenied):
        conversations.accept(c, desk.stranger)
    assert not conversations.can_read(desk.stranger, c)
    assert conversations.can_read(desk.operator, c)
    assert Conversation.objects.get().state == "waiting"
    other = desk.start()
    assert not conversations.can_read(conversations.citizen_actor(other), c)
    with pytest.raises(PermissionDenied):
        conversations.send(c, conversations.citizen_actor(other), "intrusione", "z-1")


def test_capacity_is_a_hard_limit_until_a_conversation_closes(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 2
    chats = [desk.start() for _ in range(3)]
    conversations.accept(chats[0], desk.operator)
    conversations.accept(chats[1], desk.operator)
    with pytest.raises(GuardFailed, match="maximum"):
        conversations.accept(chats[2], desk.operator)
    with pytest.raises(GuardFailed, match="maximum"):
        conversations.accept_next(desk.operator)
    conversations.end(chats[0], desk.operator)  # wrap-up still holds a place
    with pytest.raises(GuardFailed, match="maximum"):
        conversations.accept(chats[2], desk.operator)
    conversations.close(chats[0], desk.operator, desk.resolution, "Informazioni date.")
    assert conversations.accept_next(desk.operator).pk == chats[2].pk
    assert conversations.accept_next(desk.colleague) is None  # nothing left waiting


def test_accept_next_takes_the_longest_waiting_of_the_own_queues(desk, factories):
    first, second = desk.start(), desk.start()
    factories.service(factories.office())  # another queue, not the operator's
    assert conversations.accept_next(desk.operator).pk == first.pk
    assert conversations.accept_next(desk.colleague).pk == second.pk
    assert conversations.accept_next(desk.stranger) is None


def test_releasing_puts_it_back_in_the_queue_for_a_colleague(desk):
    c = conversations.accept(desk.start(), desk.operator)
    with pytest.raises(PermissionDenied):
        conversations.release(c, desk.colleague)
    c = conversations.release(c, desk.operator)
    assert (c.state, c.operator) == ("waiting", None)
    assert EventKind.CHAT_LEFT in kinds(c.ticket)
    with pytest.raises(PermissionDenied):
        conversations.send(c, desk.operator, "ci sono ancora", "o-9")
    c = conversations.accept(c, desk.colleague)
    ticket = Ticket.objects.get(pk=c.ticket_id)
    assert ticket.assignee == desk.colleague
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNED,
                                      data__to=desk.colleague.pk).exists()
    events = [m.event for m in conversations.messages_after(c, 0) if m.event]
    assert events == ["joined", "left", "joined"]


def test_operators_gone_offline_have_their_conversations_requeued(desk):
    kept = conversations.accept(desk.start(), desk.operator)
    lost = conversations.accept(desk.start(), desk.colleague)
    presence_service.touch(desk.operator)  # the colleague was never seen: offline
    released = conversations.requeue_absent()
    assert [c.pk for c in released] == [lost.pk]
    assert Conversation.objects.get(pk=lost.pk).state == "waiting"
    assert Conversation.objects.get(pk=kept.pk).state == "active"


def test_closing_resolves_the_ticket_and_frees_the_place(desk):
    c = conversations.accept(desk.start(), desk.operator)
    with pytest.raises(GuardFailed):
        conversations.close(c, desk.operator, desk.resolution, "")  # a resolution text is needed
    assert Conversation.objects.get().state == "active"
    with pytest.raises(PermissionDenied):
        conversations.close(c, desk.colleague, desk.resolution, "Fatto")
    c = conversations.close(c, desk.operator, desk.resolution, "Spiegata la scadenza TARI.")
    ticket = Ticket.objects.get(pk=c.ticket_id)
    assert ticket.status == Status.RESOLVED and ticket.resolution_type == desk.resolution
    assert c.state == "closed" and c.closed_at
    assert {EventKind.RESOLVED, EventKind.CHAT_CLOSED} <= set(kinds(ticket))
    assert conversations.messages_after(c, 0)[-1].event == "closed"
    with pytest.raises(GuardFailed, match="ended"):
        conversations.send(c, conversations.citizen_actor(c), "ancora una cosa", "c-8")


def test_a_citizen_who_stops_waiting_leaves_a_request_answered_by_e_mail(desk):
    c = desk.start()
    conversations.send(c, conversations.citizen_actor(c), "Il mio codice è 1234", "c-1")
    c = conversations.to_ticket(c)
    assert c.state == "ticket" and c.closed_at
    ticket = Ticket.objects.get(pk=c.ticket_id)
    assert ticket.status == Status.NEW and ticket.channel == Channel.CHAT
    assert EventKind.CHAT_TO_TICKET in kinds(ticket)
    with pytest.raises(GuardFailed, match="no longer waiting"):
        conversations.accept(c, desk.operator)
    with pytest.raises(GuardFailed):
        conversations.to_ticket(c)
    # Answered as any request: a reply by e-mail to the declared address.
    from wagtail_helpdesk import services

    services.reply(ticket, desk.operator, "Le scriviamo per e-mail.")
    assert Notification.objects.filter(ticket=ticket, template="citizen/reply",
                                       address="maria@example.org").exists()


def test_a_transfer_moves_the_conversation_to_the_other_queue(desk, factories):
    other = factories.office()
    newcomer = factories.operator(other)
    c = conversations.accept(desk.start(), desk.operator)
    with pytest.raises(PermissionDenied):
        conversations.transfer(c, desk.colleague, other)
    c = conversations.transfer(c, desk.operator, other, note="Competenza dei tributi")
    assert (c.state, c.office, c.operator) == ("waiting", other, None)
    assert Ticket.objects.get(pk=c.ticket_id).office == other
    with pytest.raises(PermissionDenied):
        conversations.accept(c, desk.colleague)
    assert conversations.accept(c, newcomer).operator == newcomer


def test_chat_tickets_are_not_assigned_by_the_office_round_robin(desk):
    desk.office.auto_assign = True
    desk.office.save()
    presence_service.touch(desk.operator)
    c = desk.start()
    assert Ticket.objects.get(pk=c.ticket_id).assignee is None
    assert Conversation.objects.get(pk=c.pk).state == "waiting"


def test_a_resolved_ticket_cannot_be_accepted_as_a_chat(desk):
    from wagtail_helpdesk import services

    c = desk.start()
    services.take_charge(c.ticket, desk.colleague)
    services.resolve(Ticket.objects.get(pk=c.ticket_id), desk.colleague, desk.resolution, "ok")
    assert Conversation.objects.get().state == "closed"  # it closed with its ticket
    with pytest.raises(GuardFailed, match="no longer waiting"):
        conversations.accept(c, desk.operator)
    assert conversations.accept_next(desk.operator) is None


def test_every_change_signals_its_groups_once_committed(desk, django_capture_on_commit_callbacks,
                                                        monkeypatch):
    from wagtail_helpdesk.conversations import groups

    sent = []
    monkeypatch.setattr(groups, "send", lambda names, payload: sent.append((names, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        c = desk.start()
    office, conv = f"helpdesk.chat.q{desk.office.pk}", f"helpdesk.chat.c{c.pk}"
    assert sent == [([conv, office], {"type": "chat.signal", "conversation": c.pk, "seq": 1,
                                      "state": "waiting", "office": desk.office.pk})]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        conversations.accept(c, desk.operator)
        conversations.send(c, desk.operator, "Eccomi", "o-1")
    assert [names for names, _ in sent] == [
        [conv, office, f"helpdesk.chat.o{desk.operator.pk}"], [conv]]
    assert [payload["seq"] for _, payload in sent] == [2, 3]
    assert all("Eccomi" not in str(payload) for _, payload in sent)


def test_system_cannot_write_and_client_ids_are_checked(desk):
    c = desk.start()
    with pytest.raises(PermissionDenied):
        conversations.send(c, SYSTEM, "testo", "s-1")
    with pytest.raises(GuardFailed):
        conversations.send(c, conversations.citizen_actor(c), "testo", "x" * 65)
    with pytest.raises(GuardFailed):
        conversations.send(c, conversations.citizen_actor(c), "testo", None)


def test_a_declared_identity_never_touches_the_registered_citizen_it_names(desk, factories):
    registered = factories.citizen(fiscal_code=factories.FISCAL_CODES[0], given_name="Maria",
                                   family_name="Rossi", email="maria@example.org", phone="")
    before = Citizen.objects.values().get(pk=registered.pk)
    c = desk.start(person={"given_name": "Maria", "family_name": "Rossi",
                           "email": "maria@example.org", "phone": "333 1234567",
                           "fiscal_code": factories.FISCAL_CODES[0]})
    # A record of its own, holding the claim; the registered one unchanged and unlinked.
    assert c.identity == "declared" and c.citizen != registered and c.citizen.declared
    assert c.citizen.declared_fiscal_code == factories.FISCAL_CODES[0]
    assert not c.citizen.fiscal_code and c.ticket.citizen == c.citizen
    assert Citizen.objects.values().get(pk=registered.pk) == before
    assert not registered.tickets.exists()
    assert not conversations.can_read(CitizenActor(registered), c)


def test_the_chat_tickets_timeline_is_in_order_of_time(desk):
    c = desk.start()
    events = list(TicketEvent.objects.filter(ticket=c.ticket).order_by("pk")
                  .values_list("kind", "created_at"))
    assert events[0][0] == EventKind.CREATED
    times = [when for _kind, when in events]
    assert times == sorted(times)
