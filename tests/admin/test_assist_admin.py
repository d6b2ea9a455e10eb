"""The AI assist on the ticket page: the panel and its switches, the reply
form's `assisted` mark down to the timeline, and the rewrite endpoint's
permission and privacy."""

import json

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.ai.fake_openai import FakeOpenAI, configure
from tests.support.desk import ANNA, GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.assist import assist_panel
from wagtail_helpdesk.admin.tickets.forms import ReplyForm
from wagtail_helpdesk.models import AssistSettings, EventKind, QuickReply, Ticket
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.services import consults as consult_service
from wagtail_helpdesk.tickets.timeline import build_timeline

pytestmark = pytest.mark.django_db

QUESTION = "Quando posso prenotare la carta d'identità elettronica? Mi scade il documento."


@pytest.fixture(autouse=True)
def words_only(settings):
    settings.WAGTAIL_HELPDESK_AI_EMBEDDER = ""


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "Anagrafe"}, me=ANNA, colleague=True,
                     other_office={"name": "Tributi"}, outsider=True, citizen=GIOVANNA,
                     service={"name": "Carta d'identità"},
                     ticket={"description": "Devo rinnovare la carta d'identità."})
    desk.ticket = services.take_charge(desk.ticket, desk.me)
    desk.ticket = services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), QUESTION)
    desk.reply = QuickReply.objects.create(
        office=desk.office, title="Carta d'identità elettronica", shortcut="cie",
        body="Gentile {cittadino}, la carta d'identità elettronica si prenota sul sito.")
    return desk


def page_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


def rewrite_url(ticket):
    return reverse("helpdesk_tickets:assist_rewrite", args=[ticket.pk])


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def switch(**values):
    from tests.support import factories

    settings = AssistSettings.for_site(factories.default_site())
    for key, value in values.items():
        setattr(settings, key, value)
    settings.save()


# --- The reply form's mark ----------------------------------------------------------


@pytest.mark.parametrize("value, cleaned", [
    ("quick_reply:12", {"source": "quick_reply", "ref": "12"}),
    ("ticket:345", {"source": "ticket", "ref": "345"}),
    ("rewrite:quick_reply:12", {"source": "rewrite", "ref": "quick_reply:12"}),
    ("", None), ("quick_reply:", None), ("quick_reply:abc", None), ("evil:1", None),
    ("rewrite:evil:1", None), ("ticket:" + "1" * 50, None),
])
def test_reply_form_cleans_the_mark(desk, value, cleaned):
    form = ReplyForm({"version": desk.ticket.version, "body": "Testo", "assisted": value},
                     ticket=desk.ticket, user=desk.me)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["assisted"] == cleaned


def test_a_reply_sent_from_a_suggestion_is_marked_in_the_timeline(client, desk):
    client.force_login(desk.me)
    response = client.post(reverse("helpdesk_tickets:action", args=[desk.ticket.pk, "reply"]), {
        "version": fresh(desk.ticket).version, "body": "Gentile Giovanna, si prenota sul sito.",
        "assisted": f"quick_reply:{desk.reply.pk}"})
    assert response.status_code == 302
    event = fresh(desk.ticket).events.get(kind=EventKind.REPLY)
    assert event.data["assisted"] == {"source": "quick_reply", "ref": str(desk.reply.pk)}
    # Another reply, typed by hand: no mark.
    client.post(reverse("helpdesk_tickets:action", args=[desk.ticket.pk, "reply"]), {
        "version": fresh(desk.ticket).version, "body": "Scritta a mano."})
    page = BeautifulSoup(client.get(page_url(desk.ticket)).content, "html.parser")
    replies = page.select(".helpdesk-event--reply")
    assert len(replies) == 2
    assert [bool(r.select(".helpdesk-tag--assisted")) for r in replies] == [True, False]
    assert replies[0].select_one(".helpdesk-tag--assisted").get_text(strip=True) == "AI-assisted"


def test_timeline_entry_knows_the_mark(desk):
    services.reply(desk.ticket, desk.me, "Testo", assisted={"source": "ticket", "ref": "3"})
    entries = build_timeline(fresh(desk.ticket), [])
    assert [e.assisted for e in entries if e.kind == EventKind.REPLY] == [True]
    assert not any(e.assisted for e in entries if e.kind != EventKind.REPLY)


# --- The panel ----------------------------------------------------------------------------


def with_suggestions(client, response):
    """The page as the browser ends up showing it: the suggested replies'
    region replaced by the fragment it fetches once the page has rendered."""
    page = BeautifulSoup(response.content, "html.parser")
    region = page.select_one("#reply-suggestions-region")
    assert region["aria-live"] == "polite"
    assert region["data-controller"].split() == ["w-swap", "w-init"]
    assert region.select_one("a")["href"] == "?panels=all#reply-suggestions"  # without JS
    assert not region.select(".helpdesk-assist__item")  # not computed with the page
    fragment = client.get(region["data-w-swap-src-value"])
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    region.clear()
    region.append(BeautifulSoup(fragment.content, "html.parser"))
    return page


def test_the_page_offers_suggestions_and_readability(client, desk):
    client.force_login(desk.me)
    response = client.get(page_url(desk.ticket))
    page = with_suggestions(client, response)
    item = page.select_one(".helpdesk-assist__item")
    assert item is not None
    assert "Gentile Giovanna Esposito, la carta d" in item.get_text()
    assert item.select_one("[data-action='helpdesk-assist#insert']").get_text(strip=True) == "Insert"
    data = json.loads(page.select_one("#helpdesk-assist-data").string)
    assert data[0]["assisted"] == f"quick_reply:{desk.reply.pk}"
    bands = json.loads(page.select_one("#helpdesk-assist-bands").string)
    assert [b["min"] for b in bands["bands"]] == [80, 60, 40, 0]
    assert page.select_one("#id_reply_assisted")["type"] == "hidden"
    scripts = [s.get("src", "") for s in page.select("script")]
    assert any("gulpease.js" in s for s in scripts) and any("assist.js" in s for s in scripts)
    # No summary: the ticket is short; no rewrite: the language model is off.
    assert not page.select(".helpdesk-assist-summary")
    assert "helpdesk-assist#rewrite" not in response.content.decode()


def test_the_suggestions_in_place_without_javascript(client, desk):
    client.force_login(desk.me)
    page = BeautifulSoup(client.get(page_url(desk.ticket), {"panels": "all"}).content,
                         "html.parser")
    assert page.select_one("#reply-suggestions-region") is None
    assert "Gentile Giovanna Esposito, la carta d" in page.select_one(
        ".helpdesk-assist__item").get_text()


def test_the_suggestions_fragment_is_checked_like_the_page(client, desk):
    fragment = reverse("helpdesk_tickets:assist_suggestions", args=[desk.ticket.pk])
    client.force_login(desk.outsider)  # an operator of another office
    assert client.get(page_url(desk.ticket)).status_code == 404
    assert client.get(fragment).status_code == 404
    client.logout()
    assert client.get(fragment).status_code == 302  # to the admin's login
    switch(suggestions_enabled=False, readability_enabled=False)
    client.force_login(desk.me)
    assert client.get(fragment).content.strip() == b""
    assert b"reply-suggestions-region" not in client.get(page_url(desk.ticket)).content


def test_a_long_ticket_has_its_summary(client, desk):
    ticket = desk.ticket
    for n in range(2):
        ticket = services.reply(ticket, desk.me, f"Risposta {n}.")
        ticket = services.add_citizen_message(ticket, CitizenActor(desk.citizen),
                                              f"Il documento scade il {20 + n} dicembre.")
    client.force_login(desk.me)
    page = BeautifulSoup(client.get(page_url(desk.ticket)).content, "html.parser")
    summary = page.select_one(".helpdesk-assist-summary")
    assert summary is not None
    text = summary.get_text(" ", strip=True)
    assert "Giovanna Esposito opened a request about “Carta d'identità”" in text
    assert "Taken in charge by Anna Bianchi" in text
    copied = json.loads(page.select_one("#ticket-summary-text").string)
    assert copied.startswith("Giovanna Esposito opened a request")
    assert summary["data-helpdesk-assist-summary-text-value"] == "ticket-summary-text"


def test_switched_off_shows_nothing(client, desk):
    switch(summary_enabled=False, suggestions_enabled=False, readability_enabled=False)
    client.force_login(desk.me)
    html = client.get(page_url(desk.ticket)).content.decode()
    assert "helpdesk-assist" not in html and "gulpease.js" not in html
    assert "id_reply_assisted" in html  # the form's field stays: harmless


def test_panel_queries_do_not_grow(rf, desk):
    request = rf.get("/")
    request.user = desk.me
    ticket = fresh(desk.ticket)
    timeline = build_timeline(ticket, [])
    assist_panel(request, ticket, timeline)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        assist_panel(request, ticket, timeline)
    for n in range(5):
        ticket = services.add_citizen_message(ticket, CitizenActor(desk.citizen),
                                              f"Messaggio {n} sulla carta d'identità.")
        QuickReply.objects.create(office=desk.office, title=f"Carta {n}", shortcut=f"c{n}",
                                  body="La carta d'identità elettronica.")
    ticket = fresh(ticket)
    timeline = build_timeline(ticket, [])
    assist_panel(request, ticket, timeline)
    with CaptureQueriesContext(connection) as many:
        assist_panel(request, ticket, timeline)
    assert len(many) == len(few) <= 5


# --- The rewrite endpoint --------------------------------------------------------------------


@pytest.fixture
def fake(httpserver):
    return FakeOpenAI(httpserver)


def post_rewrite(client, ticket, body):
    return client.post(rewrite_url(ticket), json.dumps(body), content_type="application/json")


def test_rewrite_is_off_by_default(client, desk, fake):
    client.force_login(desk.me)
    response = post_rewrite(client, desk.ticket, {"purpose": "reply", "text": "Ciao"})
    assert response.status_code == 404
    assert fake.requests == []


def test_rewrite_of_a_reply_masks_and_restores(client, desk, fake):
    configure(fake)
    fake.answer = lambda prompt: prompt.replace("Gentile", "Cara")
    client.force_login(desk.me)
    text = "Gentile Giovanna Esposito, la chiamiamo al 333 1234567. Anna Bianchi"
    response = post_rewrite(client, desk.ticket, {"purpose": "reply", "text": text})
    assert response.status_code == 200
    answer = response.json()
    assert answer["rewritten"] is True
    assert answer["text"] == text.replace("Gentile", "Cara")
    sent = fake.sent_texts()
    for value in ("Giovanna", "Esposito", "333 1234567", "Anna", "Bianchi"):
        assert value not in sent
    assert "no-store" in response["Cache-Control"]


def test_rewrite_of_the_summary(client, desk, fake):
    configure(fake)
    client.force_login(desk.me)
    answer = post_rewrite(client, desk.ticket, {"purpose": "summary"}).json()
    assert answer["rewritten"] is True
    assert "Giovanna Esposito" in answer["text"]
    assert "Giovanna" not in fake.sent_texts() and "Anna Bianchi" not in fake.sent_texts()


def test_rewrite_permission(client, desk, fake, factories):
    configure(fake)
    body = {"purpose": "reply", "text": "Testo da riscrivere."}
    client.force_login(desk.outsider)  # another office: the ticket does not exist for them
    assert post_rewrite(client, desk.ticket, body).status_code == 404
    expert = factories.operator(desk.other_office)
    consult_service.grant(desk.ticket, desk.me, expert)
    client.force_login(expert)  # a consultant reads, never replies
    assert post_rewrite(client, desk.ticket, body).status_code == 403
    client.force_login(desk.colleague)
    assert post_rewrite(client, desk.ticket, body).status_code == 200
    assert client.get(rewrite_url(desk.ticket)).status_code == 405
    assert post_rewrite(client, desk.ticket, {"purpose": "other"}).status_code == 400
    assert len(fake.requests) == 1
    client.logout()
    assert post_rewrite(client, desk.ticket, body).status_code in (302, 403)


def test_chat_summary_only_for_long_chats(factories):
    from wagtail_helpdesk.admin.assist import chat_assist
    from wagtail_helpdesk.services import conversations

    office = factories.office(email="")
    operator = factories.operator(office)
    c = conversations.start(service=factories.service(office), body="Una domanda sulla TARI.",
                            person={"given_name": "Maria", "family_name": "Rossi",
                                    "email": "maria@example.org"})
    conversations.accept(c, operator)
    assert chat_assist(c, list(c.messages.order_by("seq"))) is None  # short
    citizen = conversations.citizen_actor(c)
    for n in range(4):
        conversations.send(c, citizen, f"Dettaglio numero {n} sulla bolletta della TARI.", f"c{n}")
    panel = chat_assist(c, list(c.messages.order_by("seq")))
    assert panel["summary"].long and "Maria Rossi" in panel["summary_text"]
    assert panel["summary_id"] == f"chat-summary-{c.pk}"
    switch(summary_enabled=False)
    assert chat_assist(c, list(c.messages.order_by("seq"))) is None


def test_rewrites_are_rate_limited_per_operator(client, desk, fake, settings):
    from django.core.cache import cache

    cache.clear()
    settings.WAGTAIL_HELPDESK_AI_REWRITES_PER_HOUR = 2
    configure(fake)
    fake.answer = lambda prompt: prompt
    client.force_login(desk.me)
    body = {"purpose": "reply", "text": "Buongiorno, la pratica è chiusa."}
    assert [post_rewrite(client, desk.ticket, body).status_code for _ in range(2)] == [200, 200]
    refused = post_rewrite(client, desk.ticket, body)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many rewrites" in refused.json()["error"]
    assert len(fake.requests) == 2  # the third never reached the model
