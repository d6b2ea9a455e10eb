"""The summary of a long ticket or chat: the facts in the site's language,
the citizen's most informative sentences, the cache keyed by the timeline."""

from datetime import timedelta

import pytest
from django.test.utils import override_settings
from django.utils import timezone, translation

from tests.support.desk import ANNA, GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.ai import extract
from wagtail_helpdesk.ai.summary import ticket_summary, who
from wagtail_helpdesk.models import Citizen, Ticket
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db

WORDS_ONLY = override_settings(WAGTAIL_HELPDESK_AI_EMBEDDER="")

LONG_MESSAGE = (
    "Buongiorno,\n\n"
    "ho chiesto il rinnovo della carta d'identità il mese scorso. "
    "Il sistema di prenotazione non mostra nessuna data libera fino a marzo. "
    "Il mio documento scade il 20 dicembre e devo partire per lavoro a gennaio. "
    "Vorrei sapere se esiste una procedura d'urgenza per chi deve viaggiare. "
    "Il tempo oggi è bello.\n\n"
    "Cordiali saluti\nGiovanna Esposito\n\n"
    "Il giorno 1 dicembre 2026 alle 10:00 Ufficio URP ha scritto:\n"
    "> La sua pratica è in lavorazione.\n"
)


def fetch(ticket):
    ticket = Ticket.objects.select_related(
        "citizen", "office", "assignee", "service", "report_category", "resolution_type",
        "declared_contact").get(pk=ticket.pk)
    events = list(ticket.events.select_related("actor").order_by("created_at", "pk"))
    return ticket, events


@pytest.fixture
def desk(make_desk):
    return make_desk(office={"name": "URP"}, me=ANNA, citizen=GIOVANNA,
                     service={"name": "Carta d'identità"},
                     ticket={"description": "Devo rinnovare la carta d'identità prima "
                                            "di un viaggio di lavoro."})


def worked(desk):
    t = services.take_charge(desk.ticket, desk.me)
    t = services.reply(t, desk.me, "Può prenotare dal sito del Comune.")
    t = services.add_citizen_message(t, CitizenActor(desk.citizen), LONG_MESSAGE)
    t = services.reply(t, desk.me, "Verifichiamo e le faremo sapere.")
    t = services.add_citizen_message(t, CitizenActor(desk.citizen),
                                     "Aspetto vostre notizie, il viaggio è il 3 gennaio.")
    return t


@WORDS_ONLY
def test_long_ticket_in_italian(desk):
    ticket = worked(desk)
    ticket, events = fetch(ticket)
    summary = ticket_summary(ticket, events)
    assert summary.long
    assert summary.facts[0].startswith(
        "Giovanna Esposito opened a request about “Carta d'identità” through the website on ")
    assert any(f.startswith("Taken in charge by Anna Bianchi on ") for f in summary.facts)
    assert "So far: 2 messages from the citizen, 2 replies to the citizen." in summary.facts
    assert any(f.startswith("The citizen wrote last, on ") for f in summary.facts)
    assert summary.text.endswith(f"“{summary.quotes[-1]}”")
    # 1–3 sentences of the citizen, the informative ones, never greetings or quoted mail.
    assert 1 <= len(summary.quotes) <= 3
    assert not any(q.startswith(("Buongiorno", "Cordiali")) for q in summary.quotes)
    assert not any("in lavorazione" in q for q in summary.quotes)
    assert "Il tempo oggi è bello." not in summary.quotes
    joined = " ".join(summary.quotes)
    assert "scade il 20 dicembre" in joined


@WORDS_ONLY
def test_built_in_the_active_language(desk):
    ticket, events = fetch(worked(desk))
    with translation.override("it"):
        facts = ticket_summary(ticket, events).facts
    assert "dicembre" in facts[0] or "gennaio" in facts[0] or any(
        m in facts[0] for m in ("novembre", "ottobre", "febbraio", "marzo", "aprile", "maggio",
                                "giugno", "luglio", "agosto", "settembre"))


@WORDS_ONLY
def test_facts_follow_the_status(desk, factories):
    ticket = worked(desk)
    ticket = services.mark_waiting(ticket, desk.me, message="Ci mandi la ricevuta.")
    ticket, events = fetch(ticket)
    summary = ticket_summary(ticket, events)
    assert any("waiting for the citizen's answer" in f for f in summary.facts)
    assert any("Status: “Waiting for the citizen” since" in f for f in summary.facts)
    assert any("put on hold for the citizen 1 time" in f for f in summary.facts)

    ticket = services.resolve(ticket, desk.me, factories.resolution_type("risolta"),
                              "Appuntamento fissato.")
    ticket, events = fetch(ticket)
    summary = ticket_summary(ticket, events)
    assert any(f.startswith("Resolved on") and "Risolta" in f for f in summary.facts)
    assert not any("waiting" in f for f in summary.facts)


@WORDS_ONLY
def test_short_ticket_is_not_long(desk):
    ticket, events = fetch(desk.ticket)
    summary = ticket_summary(ticket, events)
    assert not summary.long
    assert any("has had no reply yet" in f for f in summary.facts)


@WORDS_ONLY
def test_anonymous_report_with_place(factories):
    office = factories.office(name="Strade")
    report = factories.report_ticket(category=factories.report_category(office, name="Buche"),
                                     address="Via Roma 12")
    ticket, events = fetch(report)
    summary = ticket_summary(ticket, events)
    assert summary.facts[0].startswith("An anonymous citizen reported “Buche” through the website")
    assert "Place: Via Roma 12." in summary.facts


def test_declared_identity_is_said(db):
    declared = Citizen(given_name="Luca", family_name="Neri", declared=True)
    assert who(declared) == "Luca Neri (identity declared, not verified)"
    assert who(Citizen(given_name="Luca", family_name="Neri")) == "Luca Neri"
    assert who(None, anonymous_report=True) == "An anonymous citizen"
    assert who(Citizen(given_name="Luca", erased_at=timezone.now())) == "A citizen"


@WORDS_ONLY
def test_quotes_cached_by_what_the_citizen_wrote(desk, monkeypatch):
    ticket = worked(desk)
    calls = []
    real = extract.key_sentences

    def counting(texts, **kwargs):
        calls.append(len(texts))
        return real(texts, **kwargs)

    monkeypatch.setattr("wagtail_helpdesk.ai.summary.key_sentences", counting)
    ticket_summary(*fetch(ticket))
    ticket_summary(*fetch(ticket))
    assert len(calls) == 1
    ticket = services.add_note(ticket, desk.me, "Nota interna.")  # nothing the citizen wrote
    ticket_summary(*fetch(ticket))
    assert len(calls) == 1
    ticket = services.add_citizen_message(ticket, CitizenActor(desk.citizen),
                                          "Aggiungo che ho già pagato il bollettino di 22 euro.")
    ticket_summary(*fetch(ticket))
    assert len(calls) == 2


def test_summary_makes_no_query(desk, django_assert_num_queries):
    ticket, events = fetch(worked(desk))
    ticket_summary(ticket, events)  # fills the cache
    with django_assert_num_queries(0):
        ticket_summary(ticket, events, now=timezone.now() + timedelta(days=1))


def test_mmr_avoids_repeating_itself():
    texts = ["La buca in via Roma è molto profonda e pericolosa per le biciclette. "
             "La buca in via Roma è davvero profonda e pericolosa per chi va in bicicletta. "
             "Ieri sera un motorino è caduto proprio nella buca. "
             "Chiedo di chiudere la buca prima che qualcuno si faccia male."]
    with override_settings(WAGTAIL_HELPDESK_AI_EMBEDDER=""):
        chosen = extract.key_sentences(texts, limit=2)
    assert len(chosen) == 2
    assert not (chosen[0].startswith("La buca") and chosen[1].startswith("La buca"))


def test_quoted_mail_and_signatures_are_dropped():
    text = "Grazie.\nVorrei sapere quando riapre lo sportello anagrafe.\n\n-- \nMario\n> citato"
    assert extract.candidate_sentences([text]) == [
        "Vorrei sapere quando riapre lo sportello anagrafe."]


def test_conversation_summary(factories, no_embedder):
    from wagtail_helpdesk.ai.summary import conversation_summary
    from wagtail_helpdesk.models import Conversation
    from wagtail_helpdesk.services import conversations

    office = factories.office(name="Tributi", email="")
    operator = factories.operator(office, first_name="Luca", last_name="Blu")
    service = factories.service(office, name="TARI")
    c = conversations.start(service=service, body="Buongiorno, ho una domanda sulla TARI.",
                            person={"given_name": "Maria", "family_name": "Rossi",
                                    "email": "maria@example.org"})
    conversations.accept(c, operator)
    citizen = conversations.citizen_actor(c)
    conversations.send(c, operator, "Buongiorno, mi dica.", "o-1")
    conversations.send(c, citizen, "Ho ricevuto un avviso di pagamento della TARI per una casa "
                                   "che ho venduto a marzo.", "c-1")
    conversations.send(c, citizen, "Devo pagarlo lo stesso o posso chiedere il rimborso?", "c-2")
    c = Conversation.objects.select_related("citizen", "office", "operator").get(pk=c.pk)
    messages = list(c.messages.order_by("seq"))
    summary = conversation_summary(c, messages)
    assert summary.facts[0].startswith(
        "Maria Rossi (identity declared, not verified) started a chat with Tributi on ")
    assert any(f.startswith("Luca Blu answered after") for f in summary.facts)
    assert "3 messages from the citizen, 1 reply to the citizen." in summary.facts
    assert any(f.startswith("The citizen wrote last: a reply is awaited") for f in summary.facts)
    assert "Devo pagarlo lo stesso o posso chiedere il rimborso?" in summary.quotes
    assert not any(q.startswith("Buongiorno") for q in summary.quotes)
    assert summary.long


def test_quotes_with_the_text_model(desk, fake_embedder):
    ticket, events = fetch(worked(desk))
    summary = ticket_summary(ticket, events)
    assert 1 <= len(summary.quotes) <= 3
    assert fake_embedder.embedded  # the sentences went through the model
    assert not any(q.startswith(("Buongiorno", "Cordiali")) for q in summary.quotes)
    assert "Il tempo oggi è bello." not in summary.quotes


def test_quotes_with_the_real_model(desk, real_embedder):
    ticket, events = fetch(worked(desk))
    quotes = ticket_summary(ticket, events).quotes
    assert 1 <= len(quotes) <= 3
    assert "Il tempo oggi è bello." not in quotes
    joined = " ".join(quotes)
    assert "scade il 20 dicembre" in joined and "procedura d'urgenza" in joined


@WORDS_ONLY
def test_a_question_while_waiting_is_a_message_of_the_office(desk):
    """Asked through "waiting for the citizen" and answered: the office owes
    a reply since the citizen's answer, and it did write to the citizen."""
    t = services.take_charge(desk.ticket, desk.me)
    t = services.mark_waiting(t, desk.me, message="Ci mandi la ricevuta del pagamento.")
    t = services.add_citizen_message(t, CitizenActor(desk.citizen), "Ecco la ricevuta.")
    ticket, events = fetch(t)
    answer = [e for e in events if e.kind == "citizen_message"][-1]
    facts = ticket_summary(ticket, events).facts
    assert not any("no reply yet" in f for f in facts)
    assert any("1 reply to the citizen" in f for f in facts)
    assert any(f.startswith("The citizen wrote last, on ") for f in facts), facts
    assert answer.body == "Ecco la ricevuta."


def test_the_cache_keeps_no_words_of_the_citizen(desk):
    from django.core.cache import cache

    cache.clear()
    ticket_summary(*fetch(worked(desk)))
    import pickle

    stored = [pickle.loads(v) for k, v in cache._cache.items() if ":quotes:" in k]  # noqa: S301 (our own cache)
    assert stored and all(isinstance(i, int) for value in stored for i in value)
