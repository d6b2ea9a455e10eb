"""Erasing a citizen's personal data reaches their chats' transcripts."""

from django.contrib.auth import get_user_model

from wagtail_helpdesk import services
from wagtail_helpdesk.models import (
    AuthorKind,
    Conversation,
    ConversationMessage,
    EventKind,
    TicketEvent,
)
from wagtail_helpdesk.services import conversations
from wagtail_helpdesk.services.erasure import placeholder


def test_erasure_blanks_what_the_citizen_wrote_and_their_names_in_replies(
        desk, factories, django_capture_on_commit_callbacks):
    user = get_user_model().objects.create_user("spid-giulia", password="pw")
    citizen = factories.citizen(user=user, fiscal_code=factories.FISCAL_CODES[0],
                                given_name="Giulia", family_name="Bianchi")
    c = desk.start(user=user, body="Sono Giulia Bianchi, la mia TARI è sbagliata.")
    conversations.accept(c, desk.operator)
    conversations.send(c, desk.operator, "Buongiorno Giulia Bianchi, controllo subito.", "o-1")
    other = desk.start(body="Un'altra persona scrive qui.")

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(factories.administrator(), citizen, reason="Richiesta art. 17")

    texts = dict(c.messages.exclude(author_kind=AuthorKind.SYSTEM)
                 .values_list("author_kind", "body"))
    assert texts[AuthorKind.CITIZEN] == placeholder()
    reply = texts[AuthorKind.OPERATOR]
    assert "Giulia" not in reply and "Bianchi" not in reply
    assert reply.startswith("Buongiorno ") and reply.endswith(", controllo subito.")
    # Someone else's chat is untouched.
    assert ConversationMessage.objects.get(conversation=other, seq=1).body == (
        "Un'altra persona scrive qui.")


def test_erasure_closes_the_citizens_live_chats_and_their_tokens_stop_working(
        desk, factories, django_capture_on_commit_callbacks, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    user = get_user_model().objects.create_user("spid-paolo", password="pw")
    citizen = factories.citizen(user=user, fiscal_code=factories.FISCAL_CODES[0])
    active = desk.start(user=user)
    conversations.accept(active, desk.operator)
    waiting = desk.start(user=user)
    ended = desk.start(user=user)
    conversations.to_ticket(ended)
    other = desk.start(body="Un'altra persona scrive qui.")

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(factories.administrator(), citizen, reason="Richiesta art. 17")

    for c, state in ((active, "closed"), (waiting, "closed"), (ended, "ticket")):
        current = Conversation.objects.get(pk=c.pk)
        assert current.state == state
        assert conversations.by_token(c.token) is None
    for c in (active, waiting):
        assert conversations.messages_after(c, 0)[-1].event == "closed"
        assert TicketEvent.objects.filter(ticket_id=c.ticket_id,
                                          kind=EventKind.CHAT_CLOSED).exists()
    # The operator's place is free; someone else's chat goes on.
    assert conversations.accept(other, desk.operator).state == "active"
    assert conversations.by_token(other.token).pk == other.pk


def test_erasing_a_linked_citizen_closes_the_chat_they_started_declared(desk, factories):
    code = "RSSMRA85T10A562S"
    registered = factories.citizen(fiscal_code=code)
    c = desk.start(person={"given_name": "Mario", "email": "m@example.org",
                           "fiscal_code": code})
    services.link_citizen(c.ticket, desk.operator, registered)
    services.erase_citizen(factories.administrator(), registered)
    assert Conversation.objects.get(pk=c.pk).state == "closed"
    assert conversations.by_token(c.token) is None


def test_erasure_removes_the_call_back_number_the_device_and_the_chats_files(
        desk, factories, jpeg_upload, django_capture_on_commit_callbacks):
    from wagtail_helpdesk.models import Attachment

    user = get_user_model().objects.create_user("spid-rita", password="pw")
    citizen = factories.citizen(user=user, fiscal_code=factories.FISCAL_CODES[0])
    sent = conversations.accept(desk.start(user=user, user_agent="Mozilla/5.0 (iPhone) "
                                           "Safari/604.1"), desk.operator)
    message = conversations.send_file(sent, conversations.citizen_actor(sent),
                                      jpeg_upload("rita-rossi-bolletta.jpg"), "f-1")
    called = conversations.to_ticket(desk.start(user=user), callback_phone="333 7654321")

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(factories.administrator(), citizen, reason="Richiesta art. 17")

    rows = Conversation.objects.filter(pk__in=[sent.pk, called.pk])
    assert set(rows.values_list("callback_phone", "device")) == {("", "")}
    callback = TicketEvent.objects.get(ticket=called.ticket, kind=EventKind.CHAT_CALLBACK)
    assert "7654321" not in callback.body and callback.data == {}
    message.refresh_from_db()
    assert message.attachment_id is None and "rita" not in message.body
    assert not Attachment.objects.filter(ticket=sent.ticket).exists()


def test_erasing_a_declared_contact_reaches_the_chat_whose_ticket_was_linked_to_another(
        desk, factories, django_capture_on_commit_callbacks):
    from wagtail_helpdesk.services.identities import link_citizen

    registered = factories.citizen(fiscal_code=factories.FISCAL_CODES[0], given_name="Maria",
                                   family_name="Rossi", email="maria@example.org")
    started = desk.start(person={"given_name": "Maria", "family_name": "Rossi",
                                 "email": "maria@example.org",
                                 "fiscal_code": factories.FISCAL_CODES[0]})
    c = conversations.accept(started, desk.operator)
    c.token = started.token
    declared = c.citizen
    link_citizen(c.ticket, desk.operator, registered)
    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(factories.administrator(), declared, reason="Richiesta art. 17")
    c.refresh_from_db()
    assert c.state == "closed"  # the chat the declared contact started is shut...
    assert conversations.by_token(c.token) is None  # ...and their browser cannot open it
