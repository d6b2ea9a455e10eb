"""The operators' chat workspace: the page, its actions (POSTs calling the
chat services), who may do what, and its constant number of queries."""

import json

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.images import png_bytes
from wagtail_helpdesk.models import (
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    EventKind,
    TicketEvent,
)
from wagtail_helpdesk.services import conversations
from wagtail_helpdesk.services import presence as presence_service

pytestmark = pytest.mark.django_db

PERSON = {"given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"}
WORKSPACE = "wagtail_helpdesk_chat:workspace"
INCOMING = "wagtail_helpdesk_chat:incoming"


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "URP", "email": ""}, me={"username": "luca",
                                                             "first_name": "Luca"},
                     colleague={"username": "anna", "first_name": "Anna"},
                     other_office={"name": "Tributi"}, outsider={"username": "carla"},
                     service=True)
    desk.resolution = desk.factories.resolution_type()

    def start(body="Buongiorno, ho una domanda sulla TARI.", **kwargs):
        kwargs.setdefault("person", dict(PERSON))
        return conversations.start(service=desk.service, body=body, **kwargs)

    desk.start = start
    return desk


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def url(name, *args):
    return reverse(f"wagtail_helpdesk_chat:{name}", args=args)


def held(desk, n=1):
    """``n`` conversations accepted by desk.me."""
    found = []
    for i in range(n):
        c = desk.start(body=f"Domanda {i}")
        found.append(conversations.accept(c, desk.me))
    return found


def test_the_menu_offers_the_workspace_to_operators(desk):
    response = client_for(desk.me).get(reverse("wagtailadmin_home"))
    assert reverse(WORKSPACE) in response.content.decode()
    # Every admin page has the notifier, with its role="status" box.
    soup = BeautifulSoup(response.content, "html.parser")
    notifier = soup.select_one('[data-controller="helpdesk-chat-notify"]')
    assert notifier["data-helpdesk-chat-notify-url-value"] == reverse(INCOMING)
    assert notifier.select_one('[role="status"]') is not None


def test_the_workspace_lists_waiting_conversations_and_shows_mine_as_tabs(desk):
    waiting = desk.start(body="Sono in attesa")
    (mine,) = held(desk)
    conversations.send(mine, conversations.citizen_actor(mine), "Ecco il mio problema", "c-1")
    conversations.send(mine, desk.me, "Mi dica pure", "o-1")
    response = client_for(desk.me).get(reverse(WORKSPACE))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one(f'[data-waiting="{waiting.pk}"] form')["action"] == url(
        "accept", waiting.pk)
    tab = soup.select_one(f"#helpdesk-chat-tab-{mine.pk}")
    assert tab["aria-selected"] == "true" and "Maria Rossi" in tab.text
    panel = soup.select_one(f"#helpdesk-chat-panel-{mine.pk}")
    log = panel.select_one('[role="log"]')
    assert log["aria-live"] == "polite" and log["aria-relevant"] == "additions"
    seqs = [int(li["data-seq"]) for li in log.select("li")]
    assert seqs == sorted(seqs) and len(seqs) == mine.last_seq + 2
    texts = log.text
    assert "Ecco il mio problema" in texts and "Mi dica pure" in texts
    # A declared identity is shown as declared, and no other tickets are listed.
    side = panel.select_one("aside").text
    assert "Declared, not verified" in side and "maria@example.org" in side
    assert "Not shown for a declared identity" in side


def test_internal_messages_are_marked_as_such(desk):
    (mine,) = held(desk)
    conversations.invite(mine, desk.me, desk.colleague, message="Mi aiuti?")
    conversations.send(mine, desk.me, "Parere riservato", "o-2", private=True)
    soup = BeautifulSoup(client_for(desk.me).get(reverse(WORKSPACE)).content, "html.parser")
    internal = soup.select(".helpdesk-chat__msg--internal")
    assert any("Parere riservato" in li.text for li in internal)
    assert all("Operators only" in li.text for li in internal if li.select_one(".helpdesk-chat__meta"))
    # The consult is active: the private switch is offered to the operator.
    assert not soup.select_one(f"#helpdesk-chat-panel-{mine.pk} [data-private-toggle]").has_attr(
        "hidden")
    # The colleague sees it as a consult, and writes privately.
    colleague = BeautifulSoup(client_for(desk.colleague).get(reverse(WORKSPACE)).content,
                              "html.parser")
    tab = colleague.select_one(f"#helpdesk-chat-tab-{mine.pk}")
    assert "Consult" in tab.text
    assert colleague.select_one(f'#helpdesk-chat-panel-{mine.pk} input[type=hidden][data-private]')


def test_accept_takes_a_waiting_conversation_and_opens_its_tab(desk):
    c = desk.start()
    response = client_for(desk.me).post(url("accept", c.pk))
    assert response.status_code == 302 and response.url.endswith(f"?c={c.pk}")
    c.refresh_from_db()
    assert c.state == "active" and c.operator == desk.me


def test_accept_next_takes_the_longest_waiting(desk):
    first, _second = desk.start(body="Prima"), desk.start(body="Seconda")
    client = client_for(desk.me)
    response = client.post(url("accept_next"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["conversation"] == first.pk
    Conversation.objects.filter(state="waiting").update(state="ticket")
    response = client.post(url("accept_next"), HTTP_ACCEPT="application/json")
    assert response.status_code == 409


def test_an_operator_of_another_office_cannot_reach_the_conversation(desk):
    (c,) = held(desk)
    client = client_for(desk.outsider)
    for name in ("accept", "end", "close", "transfer", "release", "note", "invite", "leave",
                 "send", "send_file"):
        response = client.post(url(name, c.pk), {"body": "x", "client_id": "x"})
        assert response.status_code == 404, name
    assert client.get(url("colleagues", c.pk)).status_code == 404
    assert client.post(url("add_to_chat", c.pk, desk.colleague.pk)).status_code == 404
    c.refresh_from_db()
    assert c.state == "active" and c.operator == desk.me


def test_an_operator_without_change_cannot_accept(desk):
    c = desk.start()
    readers = Group.objects.create(name="Lettori")
    readers.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_ticket"))
    reader = desk.factories.user("lettore", group=None, offices=[desk.office])
    reader.groups.add(readers)
    client = client_for(reader)
    page = BeautifulSoup(client.get(reverse(WORKSPACE)).content, "html.parser")
    assert page.select_one(f'[data-waiting="{c.pk}"]') and not page.select_one(
        f'[data-waiting="{c.pk}"] form')
    response = client.post(url("accept", c.pk))
    assert response.status_code == 403
    c.refresh_from_db()
    assert c.state == "waiting" and c.operator is None


def test_actions_need_the_csrf_token(desk):
    c = desk.start()
    client = client_for(desk.me, enforce_csrf_checks=True)
    assert client.post(url("accept", c.pk)).status_code == 403
    c.refresh_from_db()
    assert c.state == "waiting"


def test_end_then_a_wrapup_with_errors_keeps_the_text_and_is_translated(desk):
    (c,) = held(desk)
    client = client_for(desk.me)
    assert client.post(url("end", c.pk)).status_code == 302
    c.refresh_from_db()
    assert c.state == "wrapup"
    response = client.post(url("close", c.pk), {"resolution_text": "Spiegate le scadenze"},
                           HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "html.parser")
    wrapup = soup.select_one(f"#helpdesk-chat-panel-{c.pk} [data-wrapup]")
    assert not wrapup.has_attr("hidden")
    assert wrapup.select_one("textarea").text.strip() == "Spiegate le scadenze"
    assert "Questo campo è obbligatorio." in wrapup.text
    response = client.post(url("close", c.pk), {"resolution_type": desk.resolution.pk,
                                                "resolution_text": "Spiegate le scadenze"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "closed" and c.ticket.status == "resolved"


def test_a_refused_wrapup_keeps_the_text_and_shows_the_services_reason(desk):
    (c,) = held(desk)  # still active: closing it resolves it; a closed one is refused
    client = client_for(desk.me)
    Conversation.objects.filter(pk=c.pk).update(state="closed")
    response = client.post(url("close", c.pk), {"resolution_type": desk.resolution.pk,
                                                "resolution_text": "Testo da non perdere"})
    assert response.status_code == 400
    assert "Only a conversation an operator accepted can be closed." in response.content.decode()


def test_transfer_moves_it_to_the_other_queue(desk):
    (c,) = held(desk)
    response = client_for(desk.me).post(url("transfer", c.pk), {
        "office": desk.other_office.pk, "note": "Competenza dei Tributi"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "waiting" and c.office == desk.other_office and c.operator is None


def test_transfer_without_an_office_is_refused_with_the_note_kept(desk):
    (c,) = held(desk)
    response = client_for(desk.me).post(url("transfer", c.pk), {"note": "Nota importante"})
    assert response.status_code == 400
    assert "Nota importante" in response.content.decode()


def test_transfer_to_a_colleague_hands_it_over_at_once(desk):
    (c,) = held(desk)
    page = client_for(desk.me).get(reverse(WORKSPACE)).content.decode()
    assert 'name="operator"' in page and "Anna" in page  # the colleague, with presence
    response = client_for(desk.me).post(url("transfer", c.pk), {
        "operator": desk.colleague.pk, "note": "Ti passo la signora Rossi"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "active" and c.operator == desk.colleague
    assert c.ticket.assignee == desk.colleague
    assert EventKind.NOTE in set(c.ticket.events.values_list("kind", flat=True))
    notices = [m.event for m in conversations.messages_after(c, 0)]
    assert notices[-1] == "handed_over"  # the citizen is told who continues


def test_transfer_to_a_colleague_and_an_office_at_once_is_refused(desk):
    (c,) = held(desk)
    response = client_for(desk.me).post(url("transfer", c.pk), {
        "operator": desk.colleague.pk, "office": desk.other_office.pk, "note": "Quale?"})
    assert response.status_code == 400 and "Quale?" in response.content.decode()
    c.refresh_from_db()
    assert c.operator == desk.me


def test_transfer_to_a_full_colleague_is_refused_on_the_field(desk, settings):
    settings.WAGTAIL_HELPDESK_CHAT_CAPACITY = 1
    (c,) = held(desk)
    conversations.accept(desk.start(body="Altro"), desk.colleague)
    response = client_for(desk.me, HTTP_ACCEPT_LANGUAGE="it").post(
        url("transfer", c.pk), {"operator": desk.colleague.pk, "note": ""})
    assert response.status_code == 400
    c.refresh_from_db()
    assert c.operator == desk.me


def test_release_hands_it_back_to_the_queue(desk):
    (c,) = held(desk)
    assert client_for(desk.me).post(url("release", c.pk)).status_code == 302
    c.refresh_from_db()
    assert c.state == "waiting" and c.operator is None
    # Another operator of the office cannot release what is not theirs.
    conversations.accept(c, desk.me)
    response = client_for(desk.colleague).post(url("release", c.pk))
    assert response.status_code == 403


def test_a_private_note_is_saved_on_the_ticket(desk):
    (c,) = held(desk)
    response = client_for(desk.me).post(url("note", c.pk), {"body": "Chiamare il lunedì"})
    assert response.status_code == 302 and response.url.endswith(f"?c={c.pk}")
    note = TicketEvent.objects.get(ticket=c.ticket, kind=EventKind.NOTE)
    assert note.body == "Chiamare il lunedì"


def test_consult_invite_add_and_leave(desk):
    (c,) = held(desk)
    client = client_for(desk.me)
    found = client.get(url("colleagues", c.pk), {"q": "ann"}).json()["colleagues"]
    assert [p["id"] for p in found] == [desk.colleague.pk]
    assert found[0]["presence"] and found[0]["offices"] == ["URP"]
    response = client.post(url("invite", c.pk), {"colleague": 999999, "message": "Aiuto"})
    assert response.status_code == 400 and "Aiuto" in response.content.decode()
    response = client.post(url("invite", c.pk), {"colleague": desk.colleague.pk,
                                                  "message": "Mi aiuti?"})
    assert response.status_code == 302
    part = ConversationParticipant.objects.get(conversation=c, user=desk.colleague)
    assert part.ended_at is None and not part.public
    # The colleague writes privately over HTTP (the socket's fallback).
    colleague = client_for(desk.colleague)
    response = colleague.post(url("send", c.pk), json.dumps(
        {"client_id": "k-1", "body": "Controlla l'ISEE", "private": True}),
        content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    message = ConversationMessage.objects.get(conversation=c, seq=response.json()["seq"])
    assert message.visibility == "internal"
    assert client.post(url("add_to_chat", c.pk, desk.colleague.pk)).status_code == 302
    part.refresh_from_db()
    assert part.public
    assert colleague.post(url("leave", c.pk)).status_code == 302
    part.refresh_from_db()
    assert part.ended_at is not None


def test_sending_over_http_is_idempotent_and_errors_are_json(desk):
    (c,) = held(desk)
    client = client_for(desk.me)
    frame = json.dumps({"client_id": "o-9", "body": "Buongiorno"})
    first = client.post(url("send", c.pk), frame, content_type="application/json")
    again = client.post(url("send", c.pk), frame, content_type="application/json")
    assert first.json()["seq"] == again.json()["seq"]
    empty = client.post(url("send", c.pk), json.dumps({"client_id": "o-10", "body": " "}),
                        content_type="application/json", HTTP_ACCEPT_LANGUAGE="it")
    assert empty.status_code == 400 and empty.json()["fields"]["body"]


def test_a_file_is_sent_in_the_chat(desk):
    (c,) = held(desk)
    upload = SimpleUploadedFile("foto.png", png_bytes(), "image/png")
    response = client_for(desk.me).post(url("send_file", c.pk), {"file": upload,
                                                                  "client_id": "f-1"})
    assert response.status_code == 200, response.content
    row = response.json()["row"]
    assert row["attachment"]["name"] == "foto.png"
    bad = SimpleUploadedFile("virus.exe", b"MZ...", "application/octet-stream")
    response = client_for(desk.me).post(url("send_file", c.pk), {"file": bad,
                                                                  "client_id": "f-2"})
    assert response.status_code == 400 and response.json()["message"]


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx)


def test_the_workspace_reads_in_a_constant_number_of_queries(desk):
    client = client_for(desk.me)
    (first,) = held(desk)
    desk.start(body="In attesa 1")
    _queries(client, reverse(WORKSPACE))  # the first request of a session writes it
    one = _queries(client, reverse(WORKSPACE))
    more = held(desk, 2)
    conversations.invite(more[0], desk.me, desk.colleague)
    for i in range(5):
        desk.start(body=f"In attesa {i + 2}")
        conversations.send(first, desk.me, f"Messaggio {i}", f"o-{i}")
    # A consult the user takes part in adds a tab too.
    other = desk.start(body="Del collega")
    conversations.accept(other, desk.colleague)
    conversations.invite(other, desk.colleague, desk.me)
    many = _queries(client, reverse(WORKSPACE))
    assert many == one, (one, many)


def test_the_notifier_answers_in_constant_queries_only_when_available_with_a_free_place(desk):
    client = client_for(desk.me)
    presence_service.touch(desk.me)
    desk.start(body="Prima")
    client.get(reverse(INCOMING))  # the first request of a session writes it
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(reverse(INCOMING)).json()
    one = len(ctx)
    assert answer["offered"] and len(answer["waiting"]) == 1
    assert answer["waiting"][0]["accept_url"] == url("accept", answer["waiting"][0]["id"])
    for i in range(4):
        desk.start(body=f"Altra {i}")
    with CaptureQueriesContext(connection) as ctx:
        answer = client.get(reverse(INCOMING)).json()
    assert len(ctx) == one and len(answer["waiting"]) == 5
    # Busy: nothing offered.
    presence_service.choose(desk.me, "busy")
    assert client.get(reverse(INCOMING)).json() == {**answer, "presence": "busy",
                                                      "offered": False, "waiting": []}
    # Available but full.
    presence_service.choose(desk.me, "")
    held(desk, 3)
    answer = client.get(reverse(INCOMING)).json()
    assert answer["held"] == 3 and not answer["offered"] and answer["waiting"] == []


def test_the_notifier_is_refused_to_non_operators(desk):
    user = desk.factories.user("visitatore", group=None, is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    assert client_for(user).get(reverse(INCOMING)).status_code == 403
    # Wagtail answers a refused admin page with a redirect to the dashboard.
    response = client_for(user).get(reverse(WORKSPACE))
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")


def test_a_verified_citizen_s_recent_tickets_and_the_quick_replies_are_shown(desk):
    from django.contrib.auth import get_user_model

    from wagtail_helpdesk.models import QuickReply
    from wagtail_helpdesk.services import CitizenActor

    user = get_user_model().objects.create_user("spid-cittadino", password="pw")
    citizen = desk.factories.citizen(user=user, fiscal_code=desk.factories.FISCAL_CODES[0])
    earlier = desk.factories.request_ticket(CitizenActor(citizen), service_=desk.service,
                                            citizen_=citizen, subject="Richiesta precedente")
    QuickReply.objects.create(title="Orari", shortcut="orari", body="Siamo aperti dalle 9.",
                              office=desk.office)
    c = conversations.accept(desk.start(user=user, person=None), desk.me)
    soup = BeautifulSoup(client_for(desk.me).get(reverse(WORKSPACE)).content, "html.parser")
    side = soup.select_one(f"#helpdesk-chat-panel-{c.pk} aside")
    assert "Verified (SPID/CIE)" in side.text and "Declared" not in side.text
    links = [a["href"] for a in side.select(".helpdesk-chat__tickets a")]
    assert links == [reverse("helpdesk_tickets:detail", args=[earlier.pk])]
    picker = soup.select_one(f"#helpdesk-chat-panel-{c.pk} [data-chat-quick-replies]")
    assert picker["data-helpdesk-quick-replies-textarea-value"] == f"helpdesk-chat-text-{c.pk}"
    assert picker["data-helpdesk-quick-replies-url-value"] == reverse(
        "helpdesk_quick_replies:render", args=[c.ticket_id, 0])
    data = json.loads(soup.select_one("#helpdesk-quick-replies-data").string)
    assert [r["shortcut"] for r in data] == ["orari"]
