"""The supervisors' live chat board: who may see it and what (their queues
only), the queue filter, the refresh fragment, constant query counts; the
conversation's live view; monitor, join, send and hand back as POSTs, each
recorded on the timeline and refused to anyone but a supervisor of its queue."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_helpdesk.admin.chat.board import FRAGMENT_HEADER
from wagtail_helpdesk.models import (
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    EventKind,
    TicketEvent,
)
from wagtail_helpdesk.services import conversations

pytestmark = pytest.mark.django_db

BOARD = "wagtail_helpdesk_chat:board"
PERSON = {"given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"}
XHR = {"X-Requested-With": "XMLHttpRequest"}


def url(name, c):
    return reverse(f"wagtail_helpdesk_chat:{name}", args=[c.pk])


@pytest.fixture
def queue(factories):
    """Anagrafe with its operator Luca and supervisor Sara; Tributi with its
    own operator and supervisor."""
    anagrafe, tributi = factories.office("Anagrafe"), factories.office("Tributi")

    class Queue:
        office = anagrafe
        service = factories.service(anagrafe, name="Carta d'identità")
        operator = factories.operator(anagrafe, first_name="Luca", username="luca")
        boss = factories.supervisor(anagrafe, first_name="Sara", username="sara")
        other_office = tributi
        other_service = factories.service(tributi, name="TARI")
        other_operator = factories.operator(tributi, first_name="Piero")
        other_boss = factories.supervisor(tributi, first_name="Teo")

        def start(self, service=None, body="Buongiorno, mi serve la carta d'identità.",
                  **person):
            return conversations.start(service=service or self.service, body=body,
                                       person={**PERSON, **person})

        def active(self):
            c = self.start()
            conversations.accept(c, self.operator)
            return Conversation.objects.get(pk=c.pk)

    return Queue()


def board(client, **params):
    response = client.get(reverse(BOARD), params)
    assert response.status_code == 200
    return response.content.decode()


# --- access and scope -------------------------------------------------------------------------


def test_a_supervisor_sees_the_conversations_of_their_queues_only(client, queue):
    mine = queue.start(given_name="Giulia", family_name="Bianchi")
    queue.start(service=queue.other_service, given_name="Ottavio", family_name="Verdi")
    client.force_login(queue.boss)
    html = board(client)
    assert "Giulia Bianchi" in html and mine.ticket.reference in html
    assert "Ottavio Verdi" not in html
    assert f'data-conversation="{mine.pk}"' in html
    assert "Statuto dei lavoratori" in html  # monitoring is never covert, said on the page


def test_an_administrator_sees_every_queue_and_can_filter_one(client, queue, factories):
    queue.start(given_name="Giulia", family_name="Bianchi")
    queue.start(service=queue.other_service, given_name="Ottavio", family_name="Verdi")
    client.force_login(factories.administrator())
    html = board(client)
    assert "Giulia Bianchi" in html and "Ottavio Verdi" in html
    html = board(client, office=queue.other_office.pk)
    assert "Giulia Bianchi" not in html and "Ottavio Verdi" in html
    assert 'data-queue="total"' not in html  # one queue: no total row


def test_a_supervisor_cannot_filter_on_a_queue_that_is_not_theirs(client, queue):
    queue.start(service=queue.other_service, given_name="Ottavio", family_name="Verdi")
    client.force_login(queue.boss)
    html = board(client, office=queue.other_office.pk)  # not a choice: ignored
    assert "Ottavio Verdi" not in html


def test_an_operator_is_refused(client, queue):
    client.force_login(queue.operator)
    response = client.get(reverse(BOARD))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert client.get(reverse(BOARD), headers=XHR).status_code == 403


def test_the_menu_item_is_shown_to_supervisors_only(rf, queue, factories):
    from wagtail_helpdesk.admin.dashboard import DashboardMenuItem  # the board's menu item

    item = DashboardMenuItem("Board", reverse(BOARD), name="helpdesk-chat-board")
    for user, shown in ((queue.boss, True), (factories.administrator(), True),
                        (queue.operator, False)):
        request = rf.get("/admin/")
        request.user = user
        assert item.is_shown(request) is shown


def test_anonymous_goes_to_login(client, queue):
    response = client.get(reverse(BOARD))
    assert response.status_code == 302 and reverse("wagtailadmin_login") in response["Location"]


def test_declared_identities_are_marked_and_states_have_their_sections(client, queue):
    waiting = queue.start(given_name="Giulia", family_name="Bianchi")
    active = queue.active()
    client.force_login(queue.boss)
    html = board(client)
    assert html.count(">declared<") == 2
    waiting_section = html.split('data-state="waiting"')[1].split("</section>")[0]
    active_section = html.split('data-state="active"')[1].split("</section>")[0]
    assert f'data-conversation="{waiting.pk}"' in waiting_section
    assert f'data-conversation="{active.pk}"' in active_section and "Luca" in active_section
    assert "Nobody is waiting." not in html and "No conversation ended today." in html


def test_the_fragment_is_the_live_part_only(client, queue):
    queue.start(given_name="Giulia")
    client.force_login(queue.boss)
    response = client.get(reverse(BOARD), headers={FRAGMENT_HEADER: "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "Giulia" in html
    assert "data-announce" in html and "1 conversation waiting" in html
    assert FRAGMENT_HEADER in response["Vary"] and "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("fragment", [False, True])
def test_the_number_of_queries_does_not_grow_with_the_conversations(client, queue, factories,
                                                                    fragment):
    client.force_login(queue.boss)
    headers = {FRAGMENT_HEADER: "1"} if fragment else {}

    def count(n):
        for i in range(n):
            c = queue.start(given_name=f"Persona{i}")
            if i % 3 == 1:
                conversations.accept(c, factories.operator(queue.office))
                conversations.send(c, conversations.citizen_actor(c), "Ci siete?", f"c-{i}")
            if i % 3 == 2:
                conversations.monitor(c, queue.boss)
        client.get(reverse(BOARD), headers=headers)  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse(BOARD), headers=headers)
        assert response.status_code == 200
        assert response.content.decode().count("data-conversation=") == n_total[0] + n
        n_total[0] += n
        return len(queries)

    n_total = [0]
    three = count(3)
    thirty = count(27)  # 30 in all
    assert thirty == three, f"{three} queries with 3 conversations, {thirty} with 30"
    # The page has the admin's own (menu, session…); the fragment only the board's.
    assert three <= (17 if fragment else 24), three


def test_the_board_query_count_is_pinned(client, queue, django_assert_max_num_queries):
    for _ in range(3):
        queue.active()
    client.force_login(queue.boss)
    client.get(reverse(BOARD))
    with django_assert_max_num_queries(24):
        client.get(reverse(BOARD))


# --- monitor ----------------------------------------------------------------------------------


def test_the_live_view_asks_to_monitor_first_and_shows_nothing_before(client, queue):
    c = queue.active()
    conversations.send(c, queue.operator, "Messaggio riservato del turno", "o-1")
    client.force_login(queue.boss)
    response = client.get(url("board_conversation", c))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Messaggio riservato del turno" not in html
    assert url("board_monitor", c) in html and "Statuto dei lavoratori" in html
    assert client.get(url("board_messages", c)).status_code == 403
    assert not TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED).exists()


def test_monitor_is_recorded_told_and_shows_the_messages_internal_ones_too(client, queue):
    c = queue.active()
    conversations.send(c, queue.operator, "Buongiorno, la aiuto io", "o-1")
    conversations.send(c, queue.operator, "Nota per i colleghi", "o-2", private=True)
    client.force_login(queue.boss)
    response = client.post(url("board_monitor", c))
    assert response.status_code == 302 and response["Location"] == url("board_conversation", c)
    event = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.CHAT_MONITORED)
    assert event.actor == queue.boss and event.visibility == "internal"
    participant = ConversationParticipant.objects.get(conversation=c, user=queue.boss)
    assert participant.ended_at is None and not participant.public
    # The operator is told, in the conversation (an internal notice).
    notice = ConversationMessage.objects.filter(conversation=c, event="monitored").get()
    assert notice.visibility == "internal"

    html = client.get(url("board_conversation", c)).content.decode()
    assert "Buongiorno, la aiuto io" in html and "Nota per i colleghi" in html
    assert "Internal: operators only" in html
    assert 'role="log"' in html and 'data-controller="helpdesk-chat-monitor"' in html
    assert 'name="body"' not in html  # read-only: no composer before joining

    data = client.get(url("board_messages", c), {"after": 0}).json()
    assert [m["body"] for m in data["messages"] if m["author"] == "operator"] == [
        "Buongiorno, la aiuto io", "Nota per i colleghi"]
    after = data["last_seq"]
    assert client.get(url("board_messages", c), {"after": after}).json()["messages"] == []
    assert client.get(url("board_messages", c), {"after": "x"}).status_code == 400

    # Monitoring again records nothing new.
    client.post(url("board_monitor", c))
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED).count() == 1


def test_monitor_is_refused_to_an_operator_and_to_another_queue_s_supervisor(client, queue):
    c = queue.active()
    client.force_login(queue.operator)
    assert client.post(url("board_monitor", c), headers=XHR).status_code == 403
    response = client.post(url("board_monitor", c))
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert client.get(url("board_conversation", c), headers=XHR).status_code == 403
    client.force_login(queue.other_boss)
    assert client.post(url("board_monitor", c)).status_code == 404
    assert client.get(url("board_conversation", c)).status_code == 404
    assert client.get(url("board_messages", c)).status_code == 404
    assert not TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED).exists()
    assert not ConversationParticipant.objects.exists()


def test_monitor_is_a_post(client, queue):
    c = queue.active()
    client.force_login(queue.boss)
    assert client.get(url("board_monitor", c)).status_code == 405
    assert not ConversationParticipant.objects.exists()


def test_an_ended_conversation_is_a_transcript_without_monitoring(client, queue, factories):
    c = queue.active()
    conversations.send(c, queue.operator, "Arrivederci", "o-1")
    conversations.end(c, queue.operator)
    conversations.close(c, queue.operator, factories.resolution_type(), "Fatto")
    client.force_login(queue.boss)
    html = client.get(url("board_conversation", c)).content.decode()
    assert "Arrivederci" in html and url("board_monitor", c) not in html
    assert "helpdesk-chat-monitor" not in html.split("data-controller=")[-1][:40]
    response = client.post(url("board_monitor", c))  # the service refuses: said, not a crash
    assert response.status_code == 302 and response["Location"] == reverse(BOARD)


# --- join, send, hand back, leave -------------------------------------------------------------


def test_join_then_write_to_the_citizen(client, queue):
    c = queue.active()
    client.force_login(queue.boss)
    response = client.post(url("board_join", c))
    assert response.status_code == 302 and response["Location"] == url("board_conversation", c)
    assert ConversationParticipant.objects.get(conversation=c, user=queue.boss).public
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_JOINED,
                                      data__role="supervisor").exists()
    html = client.get(url("board_conversation", c)).content.decode()
    assert 'name="body"' in html and "Write to the citizen" in html

    response = client.post(url("board_send", c), {"body": "Sono la responsabile.",
                                                  "client_id": "s-1"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    message = ConversationMessage.objects.get(conversation=c, client_id="s-1")
    assert message.author == queue.boss and message.visibility == "public"
    assert response.json() == {"client_id": "s-1", "seq": message.seq}
    # The citizen reads it.
    rows = conversations.messages_after(c, 0)
    assert "Sono la responsabile." in [m.body for m in rows]


def test_a_refused_message_keeps_the_text(client, queue, settings):
    c = queue.active()
    client.force_login(queue.boss)
    client.post(url("board_join", c))
    settings.WAGTAIL_HELPDESK_CHAT_MESSAGE_MAX_CHARS = 20
    text = "Un messaggio decisamente troppo lungo"
    response = client.post(url("board_send", c), {"body": text, "client_id": "s-1"})
    html = response.content.decode()
    assert response.status_code == 400 and text in html and "too long" in html
    assert 'aria-invalid="true"' in html and 'value="s-1"' in html
    response = client.post(url("board_send", c), {"body": text, "client_id": "s-2"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400 and "too long" in response.json()["error"]
    assert not ConversationMessage.objects.filter(client_id__in=["s-1", "s-2"]).exists()


def test_a_monitoring_supervisor_cannot_write_to_the_citizen(client, queue):
    c = queue.active()
    client.force_login(queue.boss)
    client.post(url("board_monitor", c))
    response = client.post(url("board_send", c), {"body": "Ciao", "client_id": "s-1"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert not ConversationMessage.objects.filter(client_id="s-1").exists()


def test_join_is_refused_to_others(client, queue):
    c = queue.active()
    client.force_login(queue.operator)
    assert client.post(url("board_join", c), headers=XHR).status_code == 403
    client.force_login(queue.other_boss)
    assert client.post(url("board_join", c)).status_code == 404
    assert client.post(url("board_send", c), {"body": "x", "client_id": "s"}).status_code == 404
    assert not ConversationParticipant.objects.exists()


def test_hand_back_to_the_queue(client, queue):
    c = queue.active()
    client.force_login(queue.boss)
    response = client.post(url("board_release", c))
    assert response.status_code == 302 and response["Location"] == reverse(BOARD)
    c.refresh_from_db()
    assert c.state == "waiting" and c.operator is None
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_LEFT).exists()
    # Not active any more: refused with a message, nothing changes.
    response = client.post(url("board_release", c), follow=True)
    assert "not active" in response.content.decode()


def test_hand_back_is_refused_to_others(client, queue):
    c = queue.active()
    client.force_login(queue.other_operator)
    assert client.post(url("board_release", c), headers=XHR).status_code == 403
    client.force_login(queue.other_boss)
    assert client.post(url("board_release", c)).status_code == 404
    c.refresh_from_db()
    assert c.state == "active" and c.operator == queue.operator


def test_stop_monitoring(client, queue):
    c = queue.active()
    client.force_login(queue.boss)
    client.post(url("board_monitor", c))
    response = client.post(url("board_leave", c))
    assert response.status_code == 302 and response["Location"] == reverse(BOARD)
    assert ConversationParticipant.objects.get(conversation=c, user=queue.boss).ended_at
    assert client.get(url("board_messages", c)).status_code == 403


def test_the_live_view_query_count_is_pinned(client, queue, django_assert_max_num_queries):
    c = queue.active()
    for i in range(20):
        conversations.send(c, queue.operator, f"Messaggio {i}", f"o-{i}")
    client.force_login(queue.boss)
    client.post(url("board_monitor", c))
    client.get(url("board_conversation", c))
    with django_assert_max_num_queries(20):
        client.get(url("board_conversation", c))
