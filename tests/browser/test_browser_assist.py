"""The AI assist in a real Chromium: an operator inserts a suggested reply,
edits it while the readability index follows, and sends it; the timeline
marks the reply as AI-assisted."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in
from wagtail_helpdesk import services
from wagtail_helpdesk.ai.readability import gulpease
from wagtail_helpdesk.models import EventKind, QuickReply, Ticket
from wagtail_helpdesk.services import CitizenActor

pytestmark = [pytest.mark.browser,
              pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]

HARD = ("Si comunica che l'amministrazione, conformemente alle disposizioni regolamentari "
        "vigenti in materia di documentazione anagrafica, provvederà all'espletamento degli "
        "adempimenti procedimentali conseguenti.")


def test_operator_inserts_edits_and_sends_a_suggested_reply(page, live_server, factories,
                                                            settings):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""  # words only: the test is about the page
    office = factories.office(name="Anagrafe")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    person = factories.citizen(given_name="Paolo", family_name="Conti")
    ticket = factories.request_ticket(
        CitizenActor(person), citizen_=person,
        service_=factories.service(office, name="Carta d'identità"),
        description="Devo rinnovare la carta d'identità.")
    services.add_citizen_message(ticket, CitizenActor(person),
                                 "Quando posso prenotare la carta d'identità elettronica?")
    reply = QuickReply.objects.create(
        office=office, title="Carta d'identità elettronica", shortcut="cie",
        body="Gentile {cittadino}, la carta d'identità elettronica si prenota sul sito del "
             "Comune, nella pagina dei servizi anagrafici.")
    QuickReply.objects.create(office=office, title="Rimborso TARI", shortcut="tari",
                              body="Il rimborso della tassa rifiuti arriva entro 90 giorni.")

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{ticket.pk}/")
    suggestion = page.locator(".helpdesk-assist__item").first
    expect(suggestion).to_contain_text("Gentile Paolo Conti, la carta d'identità elettronica")
    expect(page.locator(".helpdesk-assist__item")).to_have_count(1)  # TARI shares no word

    # Insert: the empty box gets the suggestion, the form records where it came from.
    suggestion.locator("[data-action='helpdesk-assist#insert']").click()
    box = page.locator("#id_reply_body")
    expect(box).to_have_value(re.compile(r"^Gentile Paolo Conti, la carta d'identità"))
    assert page.input_value("#id_reply_assisted") == f"quick_reply:{reply.pk}"
    meter = page.locator(".helpdesk-readability")
    expect(meter).to_be_visible()
    expect(meter).to_contain_text("/100")

    # Emptying the box forgets the suggestion; inserting again brings it back.
    box.fill("")
    assert page.input_value("#id_reply_assisted") == ""
    expect(meter).to_be_hidden()
    suggestion.locator("[data-action='helpdesk-assist#insert']").click()
    assert page.input_value("#id_reply_assisted") == f"quick_reply:{reply.pk}"

    # The operator edits it; bureaucratic Italian gets a gentle warning.
    box.press("End")
    box.type(" " + HARD)
    typed = page.input_value("#id_reply_body")
    index = gulpease(typed)
    assert index < 60
    expect(meter).to_contain_text(f"{index}/100")  # the page and the server agree
    expect(meter).to_have_attribute("data-level", re.compile("^(hard|very_hard)$"))

    page.get_by_role("button", name="Invia risposta").click()
    page.wait_for_selector("text=Risposta al cittadino inviata")
    event = Ticket.objects.get(pk=ticket.pk).events.get(kind=EventKind.REPLY)
    assert event.body.endswith(HARD)
    assert event.body.startswith("Gentile Paolo Conti")
    assert event.data["assisted"] == {"source": "quick_reply", "ref": str(reply.pk)}
    expect(page.locator(f"#event-{event.pk} .helpdesk-tag--assisted")).to_be_visible()


def test_operator_has_a_suggestion_rewritten_then_sends_it(page, live_server, factories,
                                                           settings, httpserver):
    from tests.ai.fake_openai import FakeOpenAI, configure

    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""
    fake = FakeOpenAI(httpserver)
    fake.answer = lambda prompt: prompt.replace("Gentile", "Cara")
    office = factories.office(name="Anagrafe")
    factories.operator(office, username="anna", first_name="Anna", last_name="Neri")
    person = factories.citizen(given_name="Paola", family_name="Conti")
    ticket = factories.request_ticket(
        CitizenActor(person), citizen_=person,
        service_=factories.service(office, name="Carta d'identità"),
        description="Quando posso prenotare la carta d'identità elettronica?")
    reply = QuickReply.objects.create(
        office=office, title="Carta d'identità elettronica", shortcut="cie",
        body="Gentile {cittadino}, la carta d'identità elettronica si prenota sul sito.")
    configure(fake)

    log_in(page, live_server, "anna")
    page.goto(f"{live_server.url}/admin/helpdesk/tickets/{ticket.pk}/")
    suggestion = page.locator(".helpdesk-assist__item").first
    suggestion.locator("[data-action='helpdesk-assist#rewrite']").click()
    expect(suggestion.locator(".helpdesk-assist__text")).to_contain_text(
        "Cara Paola Conti, la carta d'identità elettronica")
    assert "Paola" not in fake.sent_texts() and "Conti" not in fake.sent_texts()
    suggestion.locator("[data-action='helpdesk-assist#insert']").click()
    expect(page.locator("#id_reply_body")).to_have_value(re.compile(r"^Cara Paola Conti"))
    assert page.input_value("#id_reply_assisted") == f"rewrite:quick_reply:{reply.pk}"
    page.get_by_role("button", name="Invia risposta").click()
    page.wait_for_selector("text=Risposta al cittadino inviata")
    event = Ticket.objects.get(pk=ticket.pk).events.get(kind=EventKind.REPLY)
    assert event.data["assisted"] == {"source": "rewrite", "ref": f"quick_reply:{reply.pk}"}
