"""Who gets a waiting conversation (offer, round robin, least busy), the
minute's job (offline and silent operators lose their conversations), the
queue position and the honest wait, files, call-backs and the rating."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.support import factories
from tests.support.images import png_bytes
from wagtail_helpdesk.errors import GuardFailed
from wagtail_helpdesk.models import (
    Attachment,
    ChatRouting,
    Conversation,
    ConversationMessage,
    EventKind,
    Presence,
    TicketEvent,
    Visibility,
)
from wagtail_helpdesk.notifications import jobs
from wagtail_helpdesk.services import conversations
from wagtail_helpdesk.services import presence as presence_service

pytestmark = pytest.mark.django_db


def available(*users):
    for user in users:
        presence_service.choose(user, Presence.AVAILABLE)


def route(desk, routing):
    desk.office.chat_routing = routing
    desk.office.save(update_fields=["chat_routing"])


def test_offer_routing_hands_out_nothing(desk):
    available(desk.operator, desk.colleague)
    c = desk.start()
    assert conversations.dispatch([desk.office.pk]) == []
    c.refresh_from_db()
    assert c.state == "waiting"


def test_round_robin_takes_turns_among_available_operators_with_a_free_place(desk, django_capture_on_commit_callbacks):
    route(desk, ChatRouting.ROUND_ROBIN)
    available(desk.operator, desk.colleague)
    with django_capture_on_commit_callbacks(execute=True):
        first = desk.start()
    with django_capture_on_commit_callbacks(execute=True):
        second = desk.start()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == "active"
    assert {first.operator_id, second.operator_id} == {desk.operator.pk, desk.colleague.pk}
    joined = TicketEvent.objects.get(ticket=first.ticket, kind=EventKind.CHAT_JOINED)
    assert joined.data["automatic"] is True


def test_least_busy_prefers_whoever_holds_fewer(desk):
    route(desk, ChatRouting.LEAST_BUSY)
    busy = desk.start()
    conversations.accept(busy, desk.operator)
    available(desk.operator, desk.colleague)
    c = desk.start()
    (handed,) = conversations.dispatch([desk.office.pk])
    assert handed.pk == c.pk and handed.operator_id == desk.colleague.pk


def test_nobody_available_or_all_full_leaves_the_queue_waiting(desk, settings):
    route(desk, ChatRouting.ROUND_ROBIN)
    c = desk.start()
    assert conversations.dispatch([desk.office.pk]) == []  # nobody available
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    available(desk.operator)
    conversations.accept(desk.start(), desk.operator)
    presence_service.choose(desk.colleague, Presence.BUSY)
    assert conversations.dispatch([desk.office.pk]) == []  # the only available one is full
    c.refresh_from_db()
    assert c.state == "waiting"
    assert conversations.availability(desk.office) == 0


def test_the_job_hands_back_an_offline_operators_conversation_and_a_silent_ones(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_ANSWER_TIMEOUT = 60
    gone = conversations.accept(desk.start(), desk.operator)
    silent = conversations.accept(desk.start(), desk.colleague)
    answered = desk.start()
    conversations.accept(answered, desk.colleague)
    conversations.send(answered, desk.colleague, "Eccomi", "o-1")
    # The operator's browser went away (no heartbeat): offline by the job's clock.
    presence_service.touch(desk.operator, now=timezone.now() - timedelta(hours=2))
    presence_service.choose(desk.colleague, Presence.AVAILABLE)
    later = timezone.now() + timedelta(minutes=5)
    result = jobs.chat_queues(now=later)
    assert result["handed_back"] == 2
    states = dict(Conversation.objects.values_list("pk", "state"))
    assert states[gone.pk] == states[silent.pk] == "waiting"
    assert states[answered.pk] == "active"
    reasons = set(TicketEvent.objects.filter(kind=EventKind.CHAT_LEFT)
                  .values_list("data__reason", flat=True))
    assert reasons == {"offline", "unanswered"}


def test_the_job_is_scheduled_every_minute():
    from wagtail_helpdesk.notifications.schedules import PREFIX, wanted

    job = wanted()[f"{PREFIX}live chat queues"]
    assert job["func"] == jobs.CHAT_QUEUES and job["minutes"] == 1


def test_position_counts_who_is_ahead_and_says_nothing_it_cannot_know(desk):
    first, second, third = desk.start(), desk.start(), desk.start()
    assert conversations.position(first) == (1, None)  # nobody available, no history
    assert conversations.position(third)[0] == 3
    available(desk.operator)
    assert conversations.position(first) == (1, 0)  # a free place now
    assert conversations.position(second)[0] == 2
    conversations.accept(first, desk.operator)
    second.refresh_from_db()
    assert conversations.position(second) == (1, 0)
    first.refresh_from_db()
    assert conversations.position(first) == (None, None)


def test_the_wait_is_estimated_from_recent_handling_times(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    now = timezone.now()
    for minutes in (4, 6, 8):
        done = desk.start()
        Conversation.objects.filter(pk=done.pk).update(
            state="closed", operator=desk.operator, accepted_at=now - timedelta(minutes=minutes),
            closed_at=now)
    available(desk.operator)
    conversations.accept(desk.start(), desk.operator)  # the only place is taken
    waiting = desk.start()
    place, seconds = conversations.position(waiting)
    assert place == 1 and seconds == 6 * 60  # one round of the median handling time


def test_a_photo_in_the_chat_is_checked_stored_and_shown_to_both(desk, jpeg_upload):
    c = conversations.accept(desk.start(), desk.operator)
    citizen = conversations.citizen_actor(c)
    message = conversations.send_file(c, citizen, jpeg_upload("buca.jpg"), "f-1")
    again = conversations.send_file(c, citizen, jpeg_upload("buca.jpg"), "f-1")
    assert again.pk == message.pk and Attachment.objects.count() == 1
    attachment = message.attachment
    assert attachment.ticket_id == c.ticket_id and attachment.by_citizen
    assert attachment.visibility == Visibility.PUBLIC
    rows = [m.attachment_id for m in conversations.messages_after(c, 0)]
    assert attachment.pk in rows


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_stored(desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = conversations.accept(desk.start(), desk.operator)
    fake = SimpleUploadedFile("foto.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    with pytest.raises(GuardFailed) as refused:
        conversations.send_file(c, conversations.citizen_actor(c), fake, "f-1")
    assert "attachments" in refused.value.field_errors
    assert not Attachment.objects.exists()
    assert not ConversationMessage.objects.filter(client_id="f-1").exists()


def test_an_operators_private_file_stays_internal(desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = conversations.accept(desk.start(), desk.operator)
    png = SimpleUploadedFile("schema.png", png_bytes(), content_type="image/png")
    message = conversations.send_file(c, desk.operator, png, "o-f", private=True)
    assert message.attachment.visibility == Visibility.INTERNAL
    assert message.pk not in [m.pk for m in conversations.messages_after(c, 0)]


def test_call_me_back_becomes_a_request_with_the_number_on_its_timeline(desk):
    c = desk.start()
    with pytest.raises(GuardFailed) as refused:
        conversations.to_ticket(c, callback_phone="chiamami")
    assert "phone" in refused.value.field_errors
    c.refresh_from_db()
    assert c.state == "waiting"
    c = conversations.to_ticket(c, callback_phone=" 333  1234567 ")
    assert c.state == "ticket" and c.callback_phone == "333 1234567"
    event = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.CHAT_CALLBACK)
    assert event.body == "333 1234567" and event.visibility == Visibility.PUBLIC
    assert conversations.messages_after(c, 0)[-1].event == "callback"


def test_the_citizen_rates_once_when_the_chat_is_over(desk):
    c = conversations.accept(desk.start(), desk.operator)
    citizen = conversations.citizen_actor(c)
    with pytest.raises(GuardFailed):
        conversations.rate(c, citizen, 5)  # still going
    conversations.end(c, desk.operator)
    with pytest.raises(GuardFailed) as refused:
        conversations.rate(c, citizen, 9)
    assert "score" in refused.value.field_errors
    with pytest.raises(PermissionDenied):
        conversations.rate(c, desk.operator, 5)
    event = conversations.rate(c, citizen, 4, "Gentili")
    assert event.kind == EventKind.RATING and event.data["score"] == 4 and event.by_citizen
    with pytest.raises(GuardFailed):
        conversations.rate(c, citizen, 5)
    other = desk.start()
    with pytest.raises(PermissionDenied):
        conversations.rate(c, conversations.citizen_actor(other), 1)


def test_the_device_is_kept_in_a_few_words(desk):
    phone_ua = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/126.0 Mobile Safari/537.36")
    c = desk.start(user_agent=phone_ua)
    assert c.device == "Smartphone · Chrome"
    assert desk.start(user_agent="").device == ""
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    assert desk.start(user_agent=firefox).device == "Computer · Firefox"


def test_a_supervisor_of_another_office_cannot_join(desk):
    c = conversations.accept(desk.start(), desk.operator)
    with pytest.raises(PermissionDenied):
        conversations.join(c, factories.supervisor(factories.office()))


def test_choosing_offline_hands_the_conversations_back_at_once(desk):
    c = conversations.accept(desk.start(), desk.operator)
    presence_service.choose(desk.operator, Presence.OFFLINE)
    c.refresh_from_db()
    assert c.state == "waiting" and c.operator_id is None
    left = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.CHAT_LEFT)
    assert left.data["reason"] == "offline"


def test_becoming_available_hands_over_what_an_automatic_queue_holds(
        desk, django_capture_on_commit_callbacks):
    route(desk, ChatRouting.ROUND_ROBIN)
    c = desk.start()
    with django_capture_on_commit_callbacks(execute=True):
        presence_service.choose(desk.colleague, Presence.AVAILABLE)
    c.refresh_from_db()
    assert c.state == "active" and c.operator_id == desk.colleague.pk


def test_a_citizen_who_queued_long_is_not_taken_from_the_operator_who_just_accepted(
        desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_ANSWER_TIMEOUT = 60
    c = desk.start()
    Conversation.objects.filter(pk=c.pk).update(queued_at=timezone.now() - timedelta(minutes=10))
    ConversationMessage.objects.filter(conversation=c).update(
        created_at=timezone.now() - timedelta(minutes=10))
    conversations.accept(c, desk.operator)
    assert conversations.unanswered() == []
    assert conversations.unanswered(timezone.now() + timedelta(minutes=2)) == [c.pk]
    # A private note to a colleague is no answer to the citizen.
    conversations.send(c, desk.operator, "Nota interna", "o-1", private=True)
    assert conversations.unanswered(timezone.now() + timedelta(minutes=2)) == [c.pk]
    conversations.send(c, desk.operator, "Eccomi", "o-2")
    assert conversations.unanswered(timezone.now() + timedelta(minutes=2)) == []
