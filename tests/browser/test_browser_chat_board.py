"""The supervisors' live chat board in a real Chromium, against the real ASGI
server (HTTP and the operator socket): a conversation a citizen starts
appears without reloading, the supervisor monitors it (recorded, the
operator told), reads it live, joins and writes to the citizen; axe-core
finds nothing serious on the board and on the live view.

The new controls are found by their ids, not their labels: their Italian
translations are added to the catalogue after this test was written."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.asgi import asgi_live_server_fixture, in_thread  # noqa: F401 (fixture)
from tests.support.browser import axe_serious, log_in
from wagtail_helpdesk.models import (
    ConversationMessage,
    ConversationParticipant,
    EventKind,
    TicketEvent,
)
from wagtail_helpdesk.services import conversations

# Serialized rollback, as the other browser tests: the rows migrations made
# (groups, site, catalogue) come back after each test, and the flush does not
# re-create them behind the next serialized test's back.
pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

PERSON = {"given_name": "Giulia", "family_name": "Bianchi", "email": "giulia@example.org"}


def test_the_board_shows_a_new_conversation_live_then_the_supervisor_monitors_and_joins(
        asgi_live_server, page, factories):
    office = factories.office("Anagrafe")
    service = factories.service(office, name="Carta d'identità")
    luca = factories.operator(office, username="luca", first_name="Luca")
    sara = factories.supervisor(office, username="sara", first_name="Sara")
    # Nothing leaves the machine.
    page.context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                       lambda route: route.abort())

    log_in(page, asgi_live_server, "sara")
    page.goto(f"{asgi_live_server.url}/admin/helpdesk/chat/board/")
    board = page.locator('[data-controller="helpdesk-chat-board"]')
    expect(board).to_have_attribute("data-live", "socket")  # the operator socket is open
    expect(board).not_to_have_attribute("aria-busy", "true")
    assert (found := axe_serious(page)) == [], found

    c = in_thread(conversations.start, service=service, person=dict(PERSON),
                  body="Buongiorno, la mia carta d'identità è scaduta.")
    row = page.locator(f'tr[data-conversation="{c.pk}"]')
    # Well before the 30 s clock refresh: the socket's signal brought it.
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_contain_text("Giulia Bianchi")
    expect(row).to_contain_text(c.ticket.reference)
    expect(page.locator('[data-figure="waiting"]')).to_have_text("1")

    in_thread(conversations.accept, c, luca)
    active_row = page.locator(f'section[data-state="active"] tr[data-conversation="{c.pk}"]')
    expect(active_row).to_be_visible(timeout=5_000)
    expect(active_row).to_contain_text("Luca")

    page.locator(f"#board-monitor-{c.pk}").click()
    page.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/board/{c.pk}/$"))
    log = page.get_by_role("log")
    expect(log).to_contain_text("la mia carta d'identità è scaduta")
    assert TicketEvent.objects.filter(ticket=c.ticket, kind=EventKind.CHAT_MONITORED,
                                      actor=sara).exists()
    assert ConversationMessage.objects.filter(conversation=c, event="monitored").exists()
    expect(page.locator("#helpdesk-chatview-body")).to_have_count(0)  # read-only

    # Live: what the operator writes, private notes included, arrives by itself.
    in_thread(conversations.send, c, luca, "Buongiorno, le spiego la procedura.", "o-1")
    expect(log).to_contain_text("le spiego la procedura", timeout=5_000)
    in_thread(conversations.send, c, luca, "Sara, è il terzo caso oggi.", "o-2", private=True)
    expect(log).to_contain_text("il terzo caso oggi", timeout=5_000)
    expect(page.locator(".helpdesk-chatview__message--internal")).to_have_count(2)  # + notice
    page.wait_for_timeout(1_000)  # Wagtail's message has finished fading in
    assert (found := axe_serious(page)) == [], found

    # Join, then write to the citizen through the socket.
    page.locator(f"form[action$='/board/{c.pk}/join/'] button").click()
    page.wait_for_url(re.compile(rf".*/admin/helpdesk/chat/board/{c.pk}/$"))
    page.locator("[data-controller='helpdesk-chat-monitor']").wait_for()
    body = page.locator("#helpdesk-chatview-body")
    body.fill("Sono Sara, la responsabile: la aiutiamo subito.")
    body.press("Enter")
    expect(log).to_contain_text("la responsabile", timeout=5_000)
    expect(body).to_have_value("")
    sent = ConversationMessage.objects.get(conversation=c, author=sara)
    assert sent.visibility == "public" and sent.body.startswith("Sono Sara")
    assert ConversationParticipant.objects.get(conversation=c, user=sara, ended_at=None).public
    # The citizen reads it.
    assert "Sono Sara, la responsabile: la aiutiamo subito." in [
        m.body for m in conversations.messages_after(c, 0)]
    page.wait_for_timeout(1_000)  # Wagtail's message has finished fading in
    assert (found := axe_serious(page)) == [], found


def test_without_the_socket_the_board_polls(live_server, page, factories):
    """A WSGI server (no WebSocket there): the board says it polls, and a new
    conversation still appears without reloading, within the polling period."""
    office = factories.office("Tributi")
    service = factories.service(office, name="TARI")
    factories.supervisor(office, username="teo")
    page.context.route(re.compile(r"^https?://(?!(localhost|127\.0\.0\.1)[:/]).*"),
                       lambda route: route.abort())
    log_in(page, live_server, "teo")
    page.goto(f"{live_server.url}/admin/helpdesk/chat/board/")
    board = page.locator('[data-controller="helpdesk-chat-board"]')
    expect(board).to_have_attribute("data-live", "polling")
    c = in_thread(conversations.start, service=service, person=dict(PERSON),
                  body="Vorrei rateizzare la TARI.")
    expect(page.locator(f'tr[data-conversation="{c.pk}"]')).to_be_visible(timeout=15_000)
    expect(board).to_have_attribute("data-live", "polling")
