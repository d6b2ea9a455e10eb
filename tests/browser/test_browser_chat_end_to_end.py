"""The live chat end to end, every person in a real browser of their own,
against the real ASGI server: a citizen on a phone starts a chat from the
home page's launcher, the operator is notified in the admin and accepts,
they exchange messages and a photo, the operator consults a colleague of
another office who answers privately, a supervisor monitors the chat from
the board and joins it, the operator closes it with the wrap-up, and the
citizen downloads the transcript and rates the chat. Nothing typed by one
person is lost, doubled, or shown to someone who should not read it."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.asgi import asgi_live_server_fixture, in_thread  # noqa: F401 (fixture)
from tests.support.browser import log_in
from tests.support.images import png_bytes
from wagtail_helpdesk.models import (
    Conversation,
    ConversationMessage,
    EventKind,
    TicketEvent,
    Visibility,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2,
         "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/126.0 Mobile Safari/537.36"}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
LOG = "[data-chat-log]"


def context_page(browser, **device):
    context = browser.new_context(locale="it-IT", accept_downloads=True, **device)
    context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                  lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_a_chat_from_the_citizens_phone_to_the_wrap_up(asgi_live_server, browser, pages):
    server, factories = asgi_live_server, pages.factories
    factories.operator(pages.office, username="luca", first_name="Luca")
    anna = factories.operator(factories.office(name="Tributi"), username="anna",
                              first_name="Anna")
    factories.supervisor(pages.office, username="sara", first_name="Sara")
    resolution = factories.resolution_type()

    operator = context_page(browser, **DESKTOP)
    log_in(operator, server, "luca")  # logging in makes Luca available
    operator.goto(f"{server.url}/admin/helpdesk/tickets/")

    # The citizen, on a phone, from the home page's launcher.
    citizen = context_page(browser, **PHONE)
    citizen.goto(f"{server.url}/")
    citizen.click("[data-chat-launcher]")
    start = "[data-chat-step=start]"
    citizen.wait_for_selector(start, state="visible")
    citizen.select_option(f"{start} select[name=service]", str(pages.service.pk))
    citizen.fill(f"{start} textarea[name=body]", "Come rinnovo la carta d'identità?")
    citizen.fill(f"{start} input[name=given_name]", "Maria")
    citizen.fill(f"{start} input[name=family_name]", "Rossi")
    citizen.fill(f"{start} input[name=email]", "maria@example.org")
    citizen.locator(f"{start} label[for$=-privacy]").click()
    citizen.click(f"{start} button[type=submit]")
    citizen.wait_for_selector("[data-chat-step=chat]", state="visible")
    c = Conversation.objects.get()
    assert c.device == "Smartphone · Chrome"  # the operator sees the device

    # The operator is told on the page they are on, and accepts.
    notice = operator.locator('.helpdesk-chat-notice [role="status"]')
    notice.locator("button.button").first.click()
    operator.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/\?c={c.pk}$"))
    panel = operator.locator(f"#helpdesk-chat-panel-{c.pk}")
    desk_log = panel.locator('[role="log"]')
    expect(desk_log).to_contain_text("Come rinnovo la carta d'identità?")
    citizen.wait_for_selector("[data-chat-with]:has-text('Luca')")

    # They talk: each message appears once on the other side, without reloading.
    citizen.fill("[data-chat-input]", "Ho anche la ricevuta della denuncia.")
    citizen.press("[data-chat-input]", "Enter")
    expect(desk_log.locator("li", has_text="ricevuta della denuncia")).to_have_count(1)
    text = panel.locator("textarea[data-text]")
    text.fill("Buongiorno Maria, mi mandi pure una foto della ricevuta.")
    text.press("Enter")
    citizen.wait_for_selector(f"{LOG} >> text=mi mandi pure una foto")
    citizen.set_input_files("[data-chat-file]", files=[
        {"name": "ricevuta.png", "mimeType": "image/png", "buffer": png_bytes()}])
    expect(desk_log.locator(".helpdesk-chat__attachment a", has_text="ricevuta.png")
           ).to_have_count(1)

    # A consult with a colleague of another office: private, never the citizen's.
    consult = panel.locator("details[data-consult]")
    consult.locator("summary").click()
    consult.locator("input[data-colleague-search]").fill("Anna")
    consult.locator(f'input[name="colleague"][value="{anna.pk}"]').check()
    consult.locator("textarea").fill("Con la denuncia serve altro?")
    consult.locator("button[type=submit]").click()
    operator.wait_for_url(re.compile(rf".*\?c={c.pk}$"))
    panel = operator.locator(f"#helpdesk-chat-panel-{c.pk}")
    desk_log = panel.locator('[role="log"]')
    colleague = context_page(browser, **DESKTOP)
    log_in(colleague, server, "anna")
    colleague.goto(f"{server.url}/admin/helpdesk/chat/")
    anna_text = colleague.locator(f"#helpdesk-chat-panel-{c.pk} textarea[data-text]")
    anna_text.fill("Basta la denuncia e una foto tessera.")
    anna_text.press("Enter")
    expect(desk_log.locator("li.helpdesk-chat__msg--internal", has_text="foto tessera")
           ).to_have_count(1)

    # The supervisor sees it on the board, monitors it (the operator is told), joins.
    supervisor = context_page(browser, **DESKTOP)
    log_in(supervisor, server, "sara")
    supervisor.goto(f"{server.url}/admin/helpdesk/chat/board/")
    supervisor.locator(f"#board-monitor-{c.pk}").click()
    supervisor.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/board/{c.pk}/$"))
    expect(supervisor.get_by_role("log")).to_contain_text("foto tessera")  # internal: shown
    expect(desk_log).to_contain_text("Sara")  # the operator is told they are monitored
    supervisor.locator(f"form[action$='/board/{c.pk}/join/'] button").click()
    supervisor.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/board/{c.pk}/$"))
    body = supervisor.locator("#helpdesk-chatview-body")
    body.fill("Sono Sara, la responsabile dell'ufficio.")
    body.press("Enter")
    citizen.wait_for_selector(f"{LOG} >> text=la responsabile dell'ufficio")
    expect(desk_log).to_contain_text("la responsabile dell'ufficio")

    # The operator ends the chat and closes it with the wrap-up.
    panel.locator(".helpdesk-chat__actions button[type=submit]").first.click()
    wrapup = operator.locator(f"#helpdesk-chat-panel-{c.pk} [data-wrapup]")
    wrapup.wait_for()
    wrapup.locator("select").select_option(str(resolution.pk))
    wrapup.locator("textarea").fill("Spiegato il rinnovo con denuncia di smarrimento.")
    wrapup.locator("button[type=submit]").click()
    operator.wait_for_url(re.compile(r".*/admin/helpdesk/chat/$"))

    # The citizen: the transcript (without the operators' private talk), the rating.
    citizen.wait_for_selector("[data-chat-step=end]", state="visible")
    with citizen.expect_download() as download:
        citizen.click("[data-chat-transcript=txt]")
    transcript = open(download.value.path(), encoding="utf-8").read()
    assert "ricevuta della denuncia" in transcript and "la responsabile dell'ufficio" in transcript
    assert "foto tessera" not in transcript and "serve altro" not in transcript
    citizen.locator("label[for$=-score-5]").click()
    citizen.click("[data-chat-rating] button[type=submit]")
    citizen.wait_for_selector("[data-chat-rating]", state="hidden")
    shown = citizen.inner_text(LOG)
    assert "foto tessera" not in shown and "serve altro" not in shown

    c.refresh_from_db()
    assert c.state == "closed" and c.ticket.status == "resolved"
    kinds = set(TicketEvent.objects.filter(ticket=c.ticket).values_list("kind", flat=True))
    assert {EventKind.CHAT_JOINED, EventKind.CHAT_INVITED, EventKind.CHAT_MONITORED,
            EventKind.CHAT_CLOSED, EventKind.RESOLVED, EventKind.RATING} <= kinds
    # Each message was stored once.
    bodies = list(ConversationMessage.objects.filter(conversation=c)
                  .exclude(author_kind="system").values_list("body", "visibility"))
    assert len(bodies) == len(set(bodies))
    assert ("Basta la denuncia e una foto tessera.", Visibility.INTERNAL) in bodies
    for page in (citizen, operator, colleague, supervisor):
        page.context.close()
