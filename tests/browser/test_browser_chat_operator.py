"""The operators' chat workspace in a real Chromium against the real ASGI
server (HTTP and WebSockets): the citizen is driven through the services
(in another thread, as a consumer would), the operator is notified on
another admin page, accepts, talks live, consults a colleague (a second
browser context) who answers privately, and closes with the wrap-up.
axe-core on the workspace: no serious or critical violation."""

import json
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from websockets.sync.client import connect

from tests.support.asgi import asgi_live_server_fixture, in_thread  # noqa: F401 (fixture)
from tests.support.browser import log_in
from tests.support.images import png_bytes
from wagtail_helpdesk.models import Conversation, ConversationMessage
from wagtail_helpdesk.services import conversations

pytestmark = [pytest.mark.browser]

AXE = Axe()
#: Closes the workspace's socket (it reopens by itself and asks for what it missed).
DROP_SOCKET = """() => {
    const element = document.querySelector('[data-controller~="helpdesk-chat"]');
    window.wagtail.app.getControllerForElementAndIdentifier(element, 'helpdesk-chat')
        .socket.drop();
}"""
PERSON = {"given_name": "Maria", "family_name": "Rossi", "email": "maria@example.org"}


def accessible(page, step):
    # Wagtail's messages slide in: check what they look like once they are there.
    page.wait_for_timeout(800)
    results = AXE.run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"accessibility violations at {step}: {bad}"


@pytest.fixture
def desk(asgi_live_server, factories):
    office = factories.office(name="URP", email="")
    return {
        "office": office,
        "service": factories.service(office),
        "luca": factories.operator(office, username="luca", first_name="Luca"),
        "anna": factories.operator(factories.office(name="Tributi"), username="anna",
                                   first_name="Anna", last_name="Verdi"),
        "resolution": factories.resolution_type(),
    }


def new_page(browser):
    context = browser.new_context(locale="it-IT", viewport={"width": 1366, "height": 900})
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def citizen_says(c, body, client_id):
    return in_thread(lambda: conversations.send(
        Conversation.objects.get(pk=c.pk), conversations.citizen_actor(
            Conversation.objects.select_related("citizen").get(pk=c.pk)), body, client_id))


def test_operator_is_notified_accepts_talks_consults_and_closes(asgi_live_server, browser, desk):
    server = asgi_live_server
    c = in_thread(conversations.start, service=desk["service"], person=dict(PERSON),
                  body="Buongiorno, ho una domanda sulla TARI.")
    luca = new_page(browser)
    log_in(luca, server, "luca")  # logging in makes Luca available

    # Another admin page: the notice comes, with Accept.
    luca.goto(f"{server.url}/admin/helpdesk/tickets/")
    notice = luca.locator('.helpdesk-chat-notice [role="status"]')
    notice.locator("button.button").first.wait_for()
    assert "TARI" in notice.inner_text() or "URP" in notice.inner_text()
    notice.locator("button.button").first.click()

    # The workspace, with the conversation as the selected tab.
    luca.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/\?c={c.pk}$"))
    panel = luca.locator(f"#helpdesk-chat-panel-{c.pk}")
    assert panel.get_attribute("data-state") == "active"
    log = panel.locator('[role="log"]')
    assert "Buongiorno, ho una domanda sulla TARI." in log.inner_text()
    luca.wait_for_function("() => document.querySelector('.helpdesk-chat__connection')"
                           " && window.HelpdeskChatSocket")
    accessible(luca, "workspace with a conversation")
    # The sound of the notices: switched on in the workspace, kept by the browser.
    luca.locator("[data-chat-sound-slot] input[type=checkbox]").check()
    assert luca.evaluate("() => localStorage.getItem('helpdesk-chat-sound')") == "on"

    # The citizen writes: it appears without reloading, once.
    time.sleep(0.5)  # the socket is open and watching
    citizen_says(c, "La bolletta è arrivata due volte", "c-2")
    message = log.locator("li", has_text="La bolletta è arrivata due volte")
    message.wait_for()
    time.sleep(1)
    assert message.count() == 1

    # The citizen types (their socket): "sta scrivendo", never the text.
    with connect(server.ws_url + "/ws/helpdesk/chat/", open_timeout=5,
                 additional_headers={"Origin": server.url}) as citizen:
        citizen.send(json.dumps({"type": "auth", "token": c.token}))
        assert json.loads(citizen.recv(timeout=5))["type"] == "ready"
        citizen.send(json.dumps({"type": "typing"}))
        luca.wait_for_function(
            f"() => document.querySelector('#helpdesk-chat-panel-{c.pk} [data-typing]')"
            ".textContent.trim() !== ''")

    # The socket drops; what the citizen writes meanwhile arrives once, in order.
    luca.evaluate(DROP_SOCKET)
    citizen_says(c, "Mentre eri via", "c-3")
    citizen_says(c, "E poi questo", "c-4")
    log.locator("li", has_text="E poi questo").wait_for()
    time.sleep(1)
    texts = log.locator("li .helpdesk-chat__body").all_inner_texts()
    assert texts.count("Mentre eri via") == 1 and texts.count("E poi questo") == 1
    assert texts.index("Mentre eri via") < texts.index("E poi questo")

    # The operator answers with Enter.
    text = panel.locator("textarea[data-text]")
    text.fill("Controllo subito, un attimo")
    text.press("Enter")
    log.locator("li", has_text="Controllo subito, un attimo").wait_for()
    luca.wait_for_function(f"() => !document.querySelector('#helpdesk-chat-text-{c.pk}').value")
    assert ConversationMessage.objects.filter(conversation_id=c.pk,
                                              body="Controllo subito, un attimo").count() == 1

    # A photo, through the file button.
    panel.locator("input[data-file]").set_input_files(
        files=[{"name": "foto.png", "mimeType": "image/png", "buffer": png_bytes()}])
    log.locator(".helpdesk-chat__attachment a", has_text="foto.png").wait_for()
    assert log.locator(".helpdesk-chat__attachment a", has_text="foto.png").count() == 1

    # Consult a colleague of another office.
    consult = panel.locator("details[data-consult]")
    consult.locator("summary").click()
    consult.locator("input[data-colleague-search]").fill("Anna")
    consult.locator(f'input[name="colleague"][value="{desk["anna"].pk}"]').check()
    consult.locator("textarea").fill("Sai se vale la riduzione?")
    consult.locator("button[type=submit]").click()
    luca.wait_for_url(re.compile(rf".*\?c={c.pk}$"))
    panel = luca.locator(f"#helpdesk-chat-panel-{c.pk}")
    log = panel.locator('[role="log"]')

    anna = new_page(browser)
    log_in(anna, server, "anna")
    anna.goto(f"{server.url}/admin/helpdesk/chat/")
    anna_panel = anna.locator(f"#helpdesk-chat-panel-{c.pk}")
    assert "Buongiorno" in anna_panel.locator('[role="log"]').inner_text()
    accessible(anna, "workspace of a consulted colleague")
    anna_text = anna_panel.locator("textarea[data-text]")
    anna_text.fill("Sì, con ISEE sotto 8.000 euro")
    anna_text.press("Enter")

    private = log.locator("li.helpdesk-chat__msg--internal", has_text="ISEE sotto 8.000")
    private.wait_for()
    assert private.count() == 1
    stored = ConversationMessage.objects.get(conversation_id=c.pk, body__contains="ISEE")
    assert stored.visibility == "internal"

    # Fine → wrap-up (an error first: the text is kept) → closed.
    panel.locator(".helpdesk-chat__actions button[type=submit]").first.click()
    luca.wait_for_load_state()
    wrapup = luca.locator(f"#helpdesk-chat-panel-{c.pk} [data-wrapup]")
    wrapup.wait_for()
    wrapup.locator("textarea").fill("Spiegata la riduzione TARI")
    wrapup.locator("button[type=submit]").click()
    wrapup = luca.locator(f"#helpdesk-chat-panel-{c.pk} [data-wrapup]")
    assert wrapup.locator("textarea").input_value() == "Spiegata la riduzione TARI"
    wrapup.locator("select").select_option(str(desk["resolution"].pk))
    wrapup.locator("button[type=submit]").click()
    luca.wait_for_url(re.compile(r".*/admin/helpdesk/chat/$"))
    closed = Conversation.objects.select_related("ticket").get(pk=c.pk)
    assert closed.state == "closed" and closed.ticket.status == "resolved"
    accessible(luca, "workspace after closing")
    anna.context.close()
    luca.context.close()


def test_without_websockets_the_workspace_polls_and_sends_over_http(asgi_live_server, browser,
                                                                     desk):
    """A network that lets WebSockets open and closes them at once: the page
    falls back to polling ?after=N and to sending over HTTP; nothing is lost
    or doubled."""
    server = asgi_live_server
    c = in_thread(conversations.start, service=desk["service"], person=dict(PERSON),
                  body="Buongiorno, scrivo da una rete difficile.")
    in_thread(lambda: conversations.accept(Conversation.objects.get(pk=c.pk), desk["luca"]))
    luca = new_page(browser)
    luca.context.route_web_socket(re.compile(r".*/ws/helpdesk/operator/$"),
                                  lambda ws: ws.close())
    log_in(luca, server, "luca")
    luca.goto(f"{server.url}/admin/helpdesk/chat/")
    panel = luca.locator(f"#helpdesk-chat-panel-{c.pk}")
    connection = luca.locator(".helpdesk-chat__connection")
    luca.wait_for_function(
        "() => document.querySelector('.helpdesk-chat__connection').textContent.trim() !== ''")
    assert connection.get_attribute("role") == "status"

    citizen_says(c, "Mi sentite?", "c-2")
    log = panel.locator('[role="log"]')
    log.locator("li", has_text="Mi sentite?").wait_for(timeout=15_000)

    text = panel.locator("textarea[data-text]")
    text.fill("Sì, la leggo")
    text.press("Enter")
    log.locator("li", has_text="Sì, la leggo").wait_for()
    time.sleep(3.5)  # one more polling round: still once
    texts = log.locator("li .helpdesk-chat__body").all_inner_texts()
    assert texts.count("Mi sentite?") == 1 and texts.count("Sì, la leggo") == 1
    assert ConversationMessage.objects.filter(conversation_id=c.pk,
                                              body="Sì, la leggo").count() == 1
    luca.context.close()
