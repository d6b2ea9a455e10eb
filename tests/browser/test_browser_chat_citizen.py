"""The citizen's chat widget in a real Chromium on a phone, against the real
ASGI server (HTTP and WebSockets): a whole conversation with an operator
driven through the services, a reload that resumes it, the end with the
transcript and the rating; and the two ways out when nobody answers (a
request, a call-back). axe-core on the widget in every state."""

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from websockets.sync.client import connect

from tests.support.asgi import asgi_live_server_fixture, in_thread  # noqa: F401 (fixture)
from tests.support.images import png_bytes
from wagtail_helpdesk.models import Conversation, ConversationMessage, EventKind, Presence
from wagtail_helpdesk.services import conversations, presence

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
AXE = Axe()
LOG = "[data-chat-log]"


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="it-IT", accept_downloads=True, **PHONE)
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def chat_page(pages):
    page = pages.request.specific
    page.body.append(("chat", {"inactivity_minutes": 10}))
    page.save_revision().publish()
    return page


def accessible(page, state):
    """axe-core on the widget: no serious or critical violation."""
    results = AXE.run(page, context="[data-helpdesk-chat]")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations in the widget ({state}): {bad}"


def open_and_start(page, server, chat_page, pages, body="Quando scade la carta d'identità?"):
    page.goto(f"{server.url}{chat_page.url}")
    launcher = page.locator("[data-chat-launcher]")
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    page.wait_for_selector("[data-chat-step=start]", state="visible")
    accessible(page, "start")
    page.select_option("[data-chat-step=start] select[name=service]", str(pages.service.pk))
    page.fill("[data-chat-step=start] textarea[name=body]", body)
    page.fill("[data-chat-step=start] input[name=given_name]", "Maria")
    page.fill("[data-chat-step=start] input[name=family_name]", "Rossi")
    page.fill("[data-chat-step=start] input[name=email]", "maria@example.org")
    # Start without accepting the privacy notice: refused, nothing typed lost.
    page.click("[data-chat-step=start] button[type=submit]")
    page.wait_for_selector("[data-chat-error-for=privacy]:not(:empty)")
    assert page.input_value("[data-chat-step=start] input[name=email]") == "maria@example.org"
    assert page.evaluate("document.activeElement.name") == "privacy"
    page.locator("[data-chat-step=start] label[for$=-privacy]").click()
    page.click("[data-chat-step=start] button[type=submit]")
    page.wait_for_selector("[data-chat-step=chat]", state="visible")
    page.wait_for_selector(f"{LOG} [data-seq='1']")
    return Conversation.objects.get()


def rows(page):
    return page.eval_on_selector_all(f"{LOG} [data-seq]",
                                     "els => els.map(e => Number(e.dataset.seq))")


def test_a_whole_chat_on_a_phone(asgi_live_server, phone, chat_page, pages, tmp_path):
    page = phone
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    operator = pages.factories.operator(pages.office, first_name="Luca")
    presence.choose(operator, Presence.AVAILABLE)
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    token = page.evaluate("JSON.parse(sessionStorage.getItem('helpdeskChat')).token")
    assert token and token not in page.url
    assert sockets and all(token not in url for url in sockets)  # the socket, token not in it
    page.wait_for_selector("[data-chat-queue]", state="visible")
    assert page.inner_text("[data-chat-queue-text]").strip()
    accessible(page, "waiting")

    in_thread(conversations.accept, c, operator)
    in_thread(conversations.send, c, operator, "Buongiorno, sono Luca: come posso aiutarti?",
              "op-1")
    page.wait_for_selector(f"{LOG} >> text=come posso aiutarti")
    page.wait_for_selector("[data-chat-queue]", state="hidden")
    assert "Luca" in page.inner_text("[data-chat-with]")
    page.wait_for_timeout(500)
    assert page.locator(f"{LOG} >> text=come posso aiutarti").count() == 1
    accessible(page, "active")

    # The operator types (from their own socket): "Luca is typing", never the text.
    client = Client()
    client.force_login(operator)
    with connect(f"{asgi_live_server.ws_url}/ws/helpdesk/operator/", open_timeout=5,
                 additional_headers={"Origin": asgi_live_server.url,
                                     "Cookie": f"sessionid={client.cookies['sessionid'].value}"}
                 ) as desk:
        desk.send(json.dumps({"type": "typing", "conversation": c.pk}))
        page.wait_for_selector("[data-chat-typing]:has-text('Luca')")

    # The citizen writes (focus stays in the input) and sends a photo.
    page.fill("[data-chat-input]", "Grazie, vorrei sapere quando scade.")
    page.press("[data-chat-input]", "Enter")
    assert page.evaluate("document.activeElement.hasAttribute('data-chat-input')")
    page.wait_for_selector(f"{LOG} >> text=vorrei sapere quando scade")
    photo = tmp_path / "documento.png"
    photo.write_bytes(png_bytes())
    page.set_input_files("[data-chat-file]", str(photo))
    page.wait_for_selector(f"{LOG} .helpdesk-chat-file-link")
    sent = ConversationMessage.objects.get(conversation=c, attachment__isnull=False)
    assert sent.attachment.original_name == "documento.png"
    before = rows(page)
    assert before == sorted(set(before))

    # A reload resumes the same conversation; what came meanwhile arrives once.
    in_thread(conversations.send, c, operator, "La controllo subito.", "op-2")
    page.reload()
    page.wait_for_selector(f"{LOG} >> text=La controllo subito")
    after = rows(page)
    assert after == sorted(set(after)) and set(before) <= set(after)
    assert Conversation.objects.count() == 1

    in_thread(conversations.end, c, operator)
    page.wait_for_selector("[data-chat-step=end]", state="visible")
    accessible(page, "ended")
    with page.expect_download() as download:
        page.click("[data-chat-transcript=txt]")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "vorrei sapere quando scade" in text and "La controllo subito." in text
    page.locator("label[for$=-score-5]").click()
    page.fill("[data-chat-rating] textarea[name=comment]", "Molto gentili")
    page.click("[data-chat-rating] button[type=submit]")
    page.wait_for_selector("[data-chat-rating]", state="hidden")
    rating = c.ticket.events.get(kind=EventKind.RATING)
    assert (rating.data["score"], rating.body) == (5, "Molto gentili")
    accessible(page, "rated")
    page.click("[data-chat-new]")
    page.wait_for_selector("[data-chat-step=start]", state="visible")
    assert page.evaluate("sessionStorage.getItem('helpdeskChat')") is None


def test_nobody_available_the_question_becomes_a_request(asgi_live_server, phone, chat_page,
                                                          pages):
    page = phone
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    page.wait_for_selector("[data-chat-nobody]", state="visible")
    assert page.is_visible("[data-chat-to-ticket]")
    accessible(page, "nobody available")
    page.press("[data-chat-input]", "Escape")
    assert page.locator("[data-chat-launcher]").get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.hasAttribute('data-chat-launcher')")
    page.keyboard.press("Enter")  # the launcher again, from the keyboard
    page.click("[data-chat-to-ticket]")
    page.wait_for_selector("[data-chat-step=end]", state="visible")
    c.refresh_from_db()
    assert c.state == "ticket" and c.ticket.reference in page.inner_text("[data-chat-end-text]")
    assert not page.is_visible("[data-chat-rating]")
    accessible(page, "request")


def test_call_me_back(asgi_live_server, phone, chat_page, pages):
    page = phone
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    page.click("[data-chat-callback-open]")
    page.fill("[data-chat-callback] input", "chiamatemi")
    page.click("[data-chat-callback] button[type=submit]")
    page.wait_for_selector("[data-chat-error-for=callback_phone]:not(:empty)")
    assert page.get_attribute("[data-chat-callback] input", "aria-invalid") == "true"
    accessible(page, "call-back refused")
    page.fill("[data-chat-callback] input", "333 1234567")
    page.click("[data-chat-callback] button[type=submit]")
    page.wait_for_selector("[data-chat-step=end]", state="visible")
    c.refresh_from_db()
    assert (c.state, c.callback_phone) == ("ticket", "333 1234567")


def test_without_websockets_polling_carries_the_chat_and_offline_messages_wait(
        asgi_live_server, phone, chat_page, pages):
    page = phone
    # A network that blocks WebSockets: every socket is closed at once.
    page.context.route_web_socket(re.compile(r".*/ws/helpdesk/chat/"),
                                  lambda ws: ws.close(code=1011))
    operator = pages.factories.operator(pages.office, first_name="Luca")
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    in_thread(conversations.accept, c, operator)
    in_thread(conversations.send, c, operator, "Ti rispondo via polling.", "op-1")
    page.wait_for_selector(f"{LOG} >> text=Ti rispondo via polling")
    page.fill("[data-chat-input]", "Ricevuto.")
    page.press("[data-chat-input]", "Enter")
    page.wait_for_selector(f"{LOG} >> text=Ricevuto.")

    # Offline: what is written waits in the outbox, then goes, once.
    page.context.set_offline(True)
    page.fill("[data-chat-input]", "Scritto senza rete.")
    page.press("[data-chat-input]", "Enter")
    page.wait_for_selector("[data-chat-outbox] >> text=Scritto senza rete")
    page.wait_for_timeout(1000)
    assert not ConversationMessage.objects.filter(body="Scritto senza rete.").exists()
    page.context.set_offline(False)
    page.wait_for_selector(f"{LOG} >> text=Scritto senza rete")
    page.wait_for_selector("[data-chat-outbox] li", state="detached")
    assert ConversationMessage.objects.filter(body="Scritto senza rete.").count() == 1
    assert rows(page) == sorted(set(rows(page)))


def test_inactivity_warns_can_be_extended_then_leaves(asgi_live_server, phone, chat_page, pages):
    page = phone
    page.clock.install()
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    warning = "[data-chat-inactivity]"
    page.clock.run_for("09:30")
    assert not page.is_visible(warning)
    page.clock.run_for("00:31")
    page.wait_for_selector(warning, state="visible")
    assert page.evaluate("document.activeElement.hasAttribute('data-chat-extend')")
    assert page.inner_text(f"{warning} [data-chat-inactivity-text]").strip()
    accessible(page, "inactivity warning")
    page.keyboard.press("Enter")  # "I am still here"
    page.wait_for_selector(warning, state="hidden")
    assert page.evaluate("document.activeElement.hasAttribute('data-chat-input')")
    page.clock.run_for("10:01")
    page.wait_for_selector(warning, state="visible")
    page.clock.run_for("02:01")
    page.wait_for_selector("[data-chat-step=end]", state="visible")
    c.refresh_from_db()
    assert c.state == "ticket"  # still waiting: the question became a request


def test_a_page_that_goes_closes_its_socket_and_picks_up_when_shown_again(
        asgi_live_server, phone, chat_page, pages):
    """pagehide closes the chat's socket at once (no "offline" notice, no
    retry); shown again from the back/forward cache, the chat reconnects and
    what the operator wrote meanwhile arrives, once."""
    page = phone
    closed = []
    page.on("websocket", lambda ws: ws.on("close", lambda _ws: closed.append(ws.url)))
    operator = pages.factories.operator(pages.office, first_name="Luca")
    presence.choose(operator, Presence.AVAILABLE)
    c = open_and_start(page, asgi_live_server, chat_page, pages)
    in_thread(conversations.accept, c, operator)
    in_thread(conversations.send, c, operator, "Buongiorno, sono Luca.", "op-1")
    page.wait_for_selector(f"{LOG} >> text=sono Luca")
    chat = "document.querySelector('[data-helpdesk-chat]').helpdeskChat"
    page.wait_for_function(f"() => {chat}.socketReady")
    shown = page.inner_text(LOG)

    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', "
                  "{ persisted: true }))")
    assert page.evaluate(f"() => {chat}.socket") is None
    page.wait_for_timeout(1500)
    assert closed  # the socket closed there and then
    assert page.inner_text(LOG) == shown  # no "offline" notice
    in_thread(conversations.send, c, operator, "Le scrivo mentre è via.", "op-2")
    page.wait_for_timeout(1500)
    assert page.locator(f"{LOG} >> text=mentre è via").count() == 0  # nothing heard meanwhile

    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pageshow', "
                  "{ persisted: true }))")
    page.wait_for_selector(f"{LOG} >> text=mentre è via")
    page.wait_for_function(f"() => {chat}.socketReady")
    in_thread(conversations.send, c, operator, "E ora di nuovo dal vivo.", "op-3")
    page.wait_for_selector(f"{LOG} >> text=di nuovo dal vivo")
    page.wait_for_timeout(500)
    assert page.locator(f"{LOG} >> text=mentre è via").count() == 1
    seqs = rows(page)
    assert seqs == sorted(set(seqs))
