"""The citizen's chat over HTTP: the start (form, CSRF, limits, identity),
and every endpoint the widget calls with the conversation's token."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from wagtail_helpdesk.models import (
    Citizen,
    Conversation,
    ConversationMessage,
    EventKind,
    Identity,
    Presence,
    Ticket,
    Visibility,
)
from wagtail_helpdesk.services import conversations, presence

pytestmark = pytest.mark.django_db

BASE = "/helpdesk/chat/"
PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Mobile Safari/537.36")


@pytest.fixture
def chat(factories):
    office = factories.office(name="URP", email="")
    return type("Chat", (), {
        "office": office,
        "service": factories.service(office, name="Tributi"),
        "operator": factories.operator(office, first_name="Luca"),
        "other": factories.service(factories.office(), name="Anagrafe"),
        "resolution": factories.resolution_type(),
    })


def form(chat, **overrides):
    data = {"service": chat.service.pk, "body": "Buongiorno, una domanda sulla TARI.",
            "given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org",
            "phone": "", "privacy": "on", "client_id": "first-1"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def start(client, chat, **overrides):
    answer = client.post(f"{BASE}start/", form(chat, **overrides), HTTP_USER_AGENT=PHONE_UA)
    assert answer.status_code == 201, answer.content
    return answer.json()


def with_token(token):
    return {"HTTP_X_HELPDESK_CHAT_TOKEN": token}


def active(client, chat):
    """A started conversation an operator accepted: (json, conversation)."""
    data = start(client, chat)
    c = Conversation.objects.get(pk=data["conversation"])
    conversations.accept(c, chat.operator)
    return data, Conversation.objects.get(pk=c.pk)


# --- start ---------------------------------------------------------------------------


def test_an_anonymous_citizen_starts_a_chat(client, chat):
    data = start(client, chat)
    c = Conversation.objects.select_related("citizen", "ticket").get(pk=data["conversation"])
    assert data["state"] == "waiting" and data["reference"] == c.ticket.reference
    assert conversations.by_token(data["token"]) == c  # the token opens it
    assert c.identity == Identity.DECLARED and c.citizen.declared
    assert (c.citizen.given_name, c.citizen.family_name, c.citizen.email) == (
        "Maria", "Rossi", "maria@example.org")
    assert c.device and "Mozilla" not in c.device  # a short description, not the header
    first = ConversationMessage.objects.get(conversation=c)
    assert (first.seq, first.client_id, first.body) == (1, "first-1",
                                                        "Buongiorno, una domanda sulla TARI.")
    assert data["token"] not in c.ticket.description


def test_bad_input_gets_translated_field_errors_and_creates_nothing(client, chat):
    answer = client.post(f"{BASE}start/", form(chat, email="non-una-mail", given_name="",
                                                body="  ", privacy=None, service="999"),
                         HTTP_ACCEPT_LANGUAGE="it")
    assert answer.status_code == 400
    fields = answer.json()["fields"]
    assert set(fields) == {"email", "given_name", "body", "privacy", "service"}
    assert fields["given_name"] == ["Questo campo è obbligatorio."]
    assert "informativa" in fields["privacy"][0]
    assert fields["service"] == ["Scegli uno dei servizi elencati."]
    assert answer.json()["error"] and not Conversation.objects.exists()
    assert not Ticket.objects.exists() and not Citizen.objects.exists()


def test_a_bad_phone_is_refused(client, chat):
    answer = client.post(f"{BASE}start/", form(chat, phone="chiamami"))
    assert answer.status_code == 400 and set(answer.json()["fields"]) == {"phone"}


def test_the_start_checks_csrf_and_answers_json(chat):
    strict = Client(enforce_csrf_checks=True)
    answer = strict.post(f"{BASE}start/", form(chat))
    assert answer.status_code == 403 and "reload the page" in answer.json()["error"]
    assert not Conversation.objects.exists()


def test_starts_are_rate_limited_per_client_address(client, chat, settings):
    settings.WAGTAIL_HELPDESK_RATE_TICKETS_PER_IP = 2
    start(client, chat)
    start(client, chat, email="altra@example.org")
    answer = client.post(f"{BASE}start/", form(chat, email="terza@example.org"))
    assert answer.status_code == 429 and answer["Retry-After"]
    assert Conversation.objects.count() == 2


def test_the_honeypot_starts_nothing(client, chat):
    assert client.post(f"{BASE}start/", form(chat, website="spam")).status_code == 400
    assert not Conversation.objects.exists()


def test_a_declared_identity_is_never_linked_to_an_existing_citizen(client, chat, factories):
    user = factories.user(group=None, username="spid-maria")
    registered = Citizen.objects.create(given_name="Maria", family_name="Rossi",
                                        fiscal_code="RSSMRA85T10A562S",
                                        email="maria@example.org", user=user)
    data = start(client, chat)  # the same name and e-mail, typed
    c = Conversation.objects.get(pk=data["conversation"])
    assert c.citizen_id != registered.pk and c.citizen.declared
    assert c.ticket.citizen_id == c.citizen_id
    assert not Ticket.objects.filter(citizen=registered).exists()
    # The registered citizen, logged in, cannot open it without its token.
    client.force_login(user)
    assert client.get(f"{BASE}status/").status_code == 403


def test_a_verified_citizen_starts_with_their_identity_only(client, chat, factories):
    user = factories.user(group=None, username="spid-mario")
    mario = Citizen.objects.create(given_name="Mario", family_name="Bianchi",
                                   fiscal_code="BNCLRA90A41H501F", email="mario@example.it",
                                   user=user)
    client.force_login(user)
    data = start(client, chat, given_name="Altro", family_name="Nome",
                 email="altro@example.org")  # typed: ignored
    c = Conversation.objects.get(pk=data["conversation"])
    assert c.identity == Identity.VERIFIED and c.citizen_id == mario.pk
    assert Citizen.objects.count() == 1
    # Nothing of the person is required then.
    data = start(client, chat, given_name="", family_name="", email="")
    assert Conversation.objects.get(pk=data["conversation"]).citizen_id == mario.pk


# --- the token ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["status/", "messages/", "transcript.txt", "transcript.pdf",
                                  "files/1/"])
def test_reads_need_the_right_token(client, chat, path):
    data = start(client, chat)
    assert client.get(f"{BASE}{path}").status_code == 403
    assert client.get(f"{BASE}{path}", **with_token(data["token"][::-1])).status_code == 403
    assert client.get(f"{BASE}{path}?token={data['token']}").status_code == 403  # not in URLs


@pytest.mark.parametrize("path", ["send/", "upload/", "to-ticket/", "leave/",
                                  "transcript/email/", "rate/"])
def test_actions_need_the_right_token(client, chat, path):
    start(client, chat)
    answer = client.post(f"{BASE}{path}", {"body": "x", "client_id": "a", "score": 5},
                         **with_token("x" * 43), HTTP_ACCEPT_LANGUAGE="it")
    assert answer.status_code == 403 and answer.json()["error"]


def test_wrong_tokens_are_throttled_per_address(client, chat):
    data = start(client, chat)
    for _n in range(31):
        client.get(f"{BASE}status/", **with_token("y" * 43))
    # Over the allowance even the right token waits.
    assert client.get(f"{BASE}status/", **with_token(data["token"])).status_code == 429


def test_status_says_the_queue_place_and_an_honest_wait(client, chat):
    first = start(client, chat)
    second = start(client, chat, email="b@example.org")
    status = client.get(f"{BASE}status/", **with_token(second["token"])).json()
    assert (status["state"], status["place"]) == ("waiting", 2)
    assert status["wait"] is None  # nobody available, no history: not invented
    assert status["available"] == 0
    presence.choose(chat.operator, Presence.AVAILABLE)
    status = client.get(f"{BASE}status/", **with_token(first["token"])).json()
    assert (status["place"], status["available"]) == (1, 1)


def test_availability_before_starting(client, chat):
    url = f"{BASE}availability/"
    assert client.get(url, {"service": chat.service.pk}).json()["available"] == 0
    presence.choose(chat.operator, Presence.AVAILABLE)
    assert client.get(url, {"service": chat.service.pk}).json()["available"] == 1
    assert client.get(url, {"service": "x"}).status_code == 404


# --- messages and files -------------------------------------------------------------------


def test_sending_over_http_is_idempotent(client, chat):
    data, c = active(client, chat)
    token = with_token(data["token"])
    one = client.post(f"{BASE}send/", {"body": "Eccomi", "client_id": "m-2"}, **token).json()
    again = client.post(f"{BASE}send/", {"body": "Eccomi", "client_id": "m-2"}, **token).json()
    assert one == again and one["client_id"] == "m-2"
    assert ConversationMessage.objects.filter(conversation=c, client_id="m-2").count() == 1
    empty = client.post(f"{BASE}send/", {"body": " ", "client_id": "m-3"}, **token)
    assert empty.status_code == 400 and "body" in empty.json()["fields"]


def test_a_photo_is_sent_and_downloaded_by_its_conversation_only(client, chat, jpeg_upload):
    data, c = active(client, chat)
    token = with_token(data["token"])
    sent = client.post(f"{BASE}upload/", {"client_id": "f-1", "file": jpeg_upload("buca.jpg")},
                       **token)
    assert sent.status_code == 200, sent.content
    row = client.get(f"{BASE}messages/?after=0", **token).json()["messages"][-1]
    assert row["attachment"]["name"] == "buca.jpg"
    url = f"{BASE}files/{row['attachment']['id']}/"
    got = client.get(url, **token)
    assert got.status_code == 200 and b"".join(got.streaming_content)[:2] == b"\xff\xd8"
    assert "no-store" in got["Cache-Control"] and got["X-Content-Type-Options"] == "nosniff"
    other = start(client, chat, email="altra@example.org")
    assert client.get(url, **with_token(other["token"])).status_code == 404
    assert client.get(url).status_code == 403


def test_internal_files_are_not_the_citizens(client, chat, jpeg_upload):
    data, c = active(client, chat)
    message = conversations.send_file(c, chat.operator, jpeg_upload("interno.jpg"), "op-1",
                                      private=True)
    assert message.visibility == Visibility.INTERNAL
    url = f"{BASE}files/{message.attachment_id}/"
    assert client.get(url, **with_token(data["token"])).status_code == 404


def test_a_bad_file_is_refused_with_a_clear_message(client, chat):
    data, _c = active(client, chat)
    fake = SimpleUploadedFile("foto.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    answer = client.post(f"{BASE}upload/", {"client_id": "f-2", "file": fake},
                         **with_token(data["token"]), HTTP_ACCEPT_LANGUAGE="it")
    assert answer.status_code == 400 and answer.json()["error"]
    none = client.post(f"{BASE}upload/", {"client_id": "f-3"}, **with_token(data["token"]))
    assert none.status_code == 400 and "file" in none.json()["fields"]


def test_uploads_are_rate_limited(client, chat, jpeg_upload, monkeypatch):
    from wagtail_helpdesk.citizen import chat as views

    monkeypatch.setattr(views, "UPLOADS_PER_HOUR", 1)
    data, _c = active(client, chat)
    token = with_token(data["token"])
    assert client.post(f"{BASE}upload/", {"client_id": "u-1", "file": jpeg_upload()},
                       **token).status_code == 200
    assert client.post(f"{BASE}upload/", {"client_id": "u-2", "file": jpeg_upload()},
                       **token).status_code == 429


# --- leaving, requests, call-backs -------------------------------------------------------------


def test_turn_into_a_request(client, chat):
    data = start(client, chat)
    answer = client.post(f"{BASE}to-ticket/", **with_token(data["token"]))
    assert answer.status_code == 200 and answer.json()["state"] == "ticket"
    c = Conversation.objects.get(pk=data["conversation"])
    assert c.state == "ticket" and not c.callback_phone
    again = client.post(f"{BASE}to-ticket/", **with_token(data["token"]))
    assert again.status_code == 400


def test_call_me_back_validates_the_phone(client, chat):
    data = start(client, chat)
    token = with_token(data["token"])
    bad = client.post(f"{BASE}to-ticket/", {"callback_phone": "domani"}, **token,
                      HTTP_ACCEPT_LANGUAGE="it")
    assert bad.status_code == 400 and "callback_phone" in bad.json()["fields"]
    assert Conversation.objects.get(pk=data["conversation"]).state == "waiting"
    empty = client.post(f"{BASE}to-ticket/", {"callback_phone": ""}, **token)
    assert empty.status_code == 400
    good = client.post(f"{BASE}to-ticket/", {"callback_phone": "333 1234567"}, **token)
    assert good.status_code == 200
    c = Conversation.objects.get(pk=data["conversation"])
    assert (c.state, c.callback_phone) == ("ticket", "333 1234567")
    assert c.ticket.events.filter(kind=EventKind.CHAT_CALLBACK).exists()


def test_leaving_while_waiting_makes_a_request_and_while_active_ends(client, chat):
    waiting = start(client, chat)
    assert client.post(f"{BASE}leave/", **with_token(waiting["token"])).json()["state"] == "ticket"
    data, _c = active(client, chat)
    assert client.post(f"{BASE}leave/", **with_token(data["token"])).json()["state"] == "wrapup"
    assert client.post(f"{BASE}leave/", **with_token(data["token"])).status_code == 400


# --- the end: transcript, e-mail, rating -------------------------------------------------------


def ended(client, chat):
    data, c = active(client, chat)
    conversations.send(c, chat.operator, "Buongiorno, sono Luca.", "op-1")
    conversations.send(c, chat.operator, "Nota per i colleghi", "op-2", private=True)
    conversations.end(c, chat.operator)
    return data, Conversation.objects.get(pk=c.pk)


def test_transcripts_as_text_and_pdf(client, chat):
    data, _c = ended(client, chat)
    token = with_token(data["token"])
    text = client.get(f"{BASE}transcript.txt", **token, HTTP_ACCEPT_LANGUAGE="it")
    assert text.status_code == 200 and text["Content-Type"].startswith("text/plain")
    body = text.content.decode()
    assert "Buongiorno, una domanda sulla TARI." in body and "Buongiorno, sono Luca." in body
    assert "Nota per i colleghi" not in body  # operators' internal talk
    assert "attachment" in text["Content-Disposition"]
    pdf = client.get(f"{BASE}transcript.pdf", **token)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_transcript_goes_by_email_only_to_the_conversations_citizen(client, chat, mailoutbox):
    from wagtail_helpdesk.models import Notification
    from wagtail_helpdesk.notifications import email

    waiting = start(client, chat)
    early = client.post(f"{BASE}transcript/email/", **with_token(waiting["token"]))
    assert early.status_code == 400  # not over yet
    data, c = ended(client, chat)
    token = with_token(data["token"])
    answer = client.post(f"{BASE}transcript/email/", {"email": "intruso@example.net"}, **token)
    assert answer.status_code == 200 and "ma***@example.org" in answer.json()["message"]
    notification = Notification.objects.get(template="citizen/chat_transcript")
    assert notification.address == "maria@example.org"
    message = email.build(notification)
    assert "Buongiorno, sono Luca." in message.body
    assert "Nota per i colleghi" not in message.body
    assert c.ticket.events.filter(data__conversation=c.pk, data__to="ma***@example.org").exists()
    # A declared address (typed, perhaps someone else's) gets it once, never again.
    again = client.post(f"{BASE}transcript/email/", **token)
    assert again.status_code == 400
    assert Notification.objects.filter(template="citizen/chat_transcript").count() == 1


def test_rating_once_after_the_chat(client, chat):
    waiting = start(client, chat)
    early = client.post(f"{BASE}rate/", {"score": 5}, **with_token(waiting["token"]))
    assert early.status_code == 400
    data, c = ended(client, chat)
    token = with_token(data["token"])
    bad = client.post(f"{BASE}rate/", {"score": 9}, **token, HTTP_ACCEPT_LANGUAGE="it")
    assert bad.status_code == 400 and "score" in bad.json()["fields"]
    good = client.post(f"{BASE}rate/", {"score": 4, "comment": "Gentili"}, **token)
    assert good.status_code == 200
    event = c.ticket.events.get(kind=EventKind.RATING)
    assert (event.data["score"], event.body) == (4, "Gentili")
    assert client.post(f"{BASE}rate/", {"score": 5}, **token).status_code == 400
