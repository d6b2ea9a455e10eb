"""Suggested replies: the office's quick replies that fit the citizen's last
message, and the final replies of similar resolved tickets without the other
citizen's personal data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.desk import ANNA, GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.ai.suggest import scrub, suggestions
from wagtail_helpdesk.models import QuickReply, Ticket
from wagtail_helpdesk.services import CitizenActor

pytestmark = pytest.mark.django_db

QUESTION = "Quando posso prenotare la carta d'identità elettronica? Mi scade il documento."
OLD_REPLY = ("Gentile Paolo Conti, abbiamo fissato l'appuntamento per la carta d'identità "
             "elettronica il 12 gennaio. Per urgenze chiami il 333 1234567 o scriva a "
             "paolo.conti@example.org; la pratica {code} è chiusa. Abita in via Po 3, vero?")


@pytest.fixture
def desk(make_desk, factories):
    desk = make_desk(office={"name": "Anagrafe", "email": "anagrafe@comune.example.it"},
                     me=ANNA, citizen=GIOVANNA, service={"name": "Carta d'identità"},
                     ticket={"subject": "Carta d'identità",
                             "description": "Devo rinnovare la carta d'identità."})
    desk.ticket = services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen), QUESTION)
    for title, body in [
        ("Carta d'identità elettronica",
         "Gentile {cittadino}, la carta d'identità elettronica si prenota sul sito del Comune "
         "(pratica {codice})."),
        ("Rimborso TARI", "Il rimborso della tassa rifiuti arriva entro 90 giorni."),
        ("Orari", "Lo sportello è aperto dal lunedì al venerdì."),
    ]:
        QuickReply.objects.create(office=desk.office, title=title, shortcut=title[:5].lower(),
                                  body=body)
    return desk


def resolved_similar(desk, factories, name=("Paolo", "Conti"), reply=OLD_REPLY):
    other_citizen = factories.citizen(given_name=name[0], family_name=name[1],
                                      email="paolo.conti@example.org")
    other = factories.request_ticket(
        CitizenActor(other_citizen), service_=desk.service, citizen_=other_citizen,
        subject="Rinnovo carta d'identità elettronica",
        description="Vorrei prenotare il rinnovo della carta d'identità elettronica.")
    other = services.reply(other, desk.me, reply.format(code=other.short_code))
    return services.resolve(other, desk.me, factories.resolution_type("risolta"),
                            "Appuntamento fissato.")


def test_quick_replies_ranked_against_the_last_message(desk, no_embedder):
    found = suggestions(desk.ticket, desk.me)
    assert found[0].source == "quick_reply"
    assert found[0].title == "Carta d'identità elettronica"
    assert found[0].text == ("Gentile Giovanna Esposito, la carta d'identità elettronica si "
                             f"prenota sul sito del Comune (pratica {desk.ticket.short_code}).")
    assert found[0].assisted == f"quick_reply:{found[0].ref}"
    assert any("elettronica" in why and "identità" in why for why in found[0].why)
    assert "Rimborso TARI" not in [s.title for s in found]  # shares no word, not close


def test_with_the_text_model_too(desk, fake_embedder):
    found = suggestions(desk.ticket, desk.me)
    assert found[0].title == "Carta d'identità elettronica"
    assert "Rimborso TARI" not in [s.title for s in found]
    assert fake_embedder.embedded  # the replies were embedded (then cached)
    fake_embedder.embedded.clear()
    suggestions(desk.ticket, desk.me)
    assert fake_embedder.embedded == []


def test_final_reply_of_a_similar_resolved_ticket_without_its_personal_data(desk, factories,
                                                                           no_embedder):
    other = resolved_similar(desk, factories)
    found = [s for s in suggestions(desk.ticket, desk.me, limit=3) if s.source == "ticket"]
    assert [s.ref for s in found] == [str(other.pk)]
    text = found[0].text
    for personal in ("Paolo", "Conti", "333 1234567", "paolo.conti", other.short_code, "via Po"):
        assert personal not in text, personal
    assert text.startswith("Gentile Giovanna Esposito, abbiamo fissato l'appuntamento")
    assert "[phone]" in text and "[e-mail]" in text and "[address]" in text
    assert f"la pratica {desk.ticket.short_code} è chiusa" in text
    assert found[0].title.startswith(f"Reply to {other.reference}")


def test_open_similar_tickets_are_not_suggested(desk, factories, no_embedder):
    other_citizen = factories.citizen()
    other = factories.request_ticket(CitizenActor(other_citizen), service_=desk.service,
                                     citizen_=other_citizen,
                                     description="Prenotare carta d'identità elettronica")
    services.reply(other, desk.me, "Stiamo verificando.")
    assert not [s for s in suggestions(desk.ticket, desk.me) if s.source == "ticket"]


def test_another_offices_tickets_are_not_used(desk, factories, no_embedder):
    elsewhere = factories.office(name="Altro")
    stranger = factories.operator(elsewhere)
    other_citizen = factories.citizen()
    other = factories.request_ticket(CitizenActor(other_citizen),
                                     service_=factories.service(elsewhere, name="Carta"),
                                     citizen_=other_citizen,
                                     description="Prenotare carta d'identità elettronica")
    other = services.reply(other, stranger, "Risposta riservata dell'altro ufficio.")
    services.resolve(other, stranger, factories.resolution_type("risolta"), "Fatto.")
    assert not [s for s in suggestions(desk.ticket, desk.me) if s.source == "ticket"]


def test_scrub_for_a_ticket_without_citizen(desk, factories, no_embedder):
    other = resolved_similar(desk, factories)
    other = Ticket.objects.select_related("citizen", "declared_contact", "office").get(pk=other.pk)
    report = factories.report_ticket(address="Via Verdi 7")
    text = scrub("Gentile Paolo Conti, in via Po 3 abbiamo riparato.", other, report, {})
    assert text == "Gentile {cittadino}, in Via Verdi 7 abbiamo riparato."


def test_constant_number_of_queries(desk, factories, no_embedder):
    resolved_similar(desk, factories)
    suggestions(desk.ticket, desk.me)  # the ticket's service is then loaded
    desk.ticket.__dict__.pop("_similar_memo")  # what one request looked up (similar tickets)
    with CaptureQueriesContext(connection) as few:
        suggestions(desk.ticket, desk.me)
    for n in range(3):
        resolved_similar(desk, factories, name=(f"Nome{n}", "Cognome"),
                         reply=f"Appuntamento {n} per la carta d'identità elettronica ({{code}}).")
        QuickReply.objects.create(office=desk.office, title=f"Carta {n}", shortcut=f"c{n}",
                                  body="La carta d'identità elettronica si prenota online.")
    desk.ticket.__dict__.pop("_similar_memo")
    with CaptureQueriesContext(connection) as many:
        found = suggestions(desk.ticket, desk.me, limit=6)
    assert len([s for s in found if s.source == "ticket"]) >= 2
    assert len(many) == len(few)



def test_the_real_model_finds_a_reply_sharing_no_word(real_embedder, factories):
    office = factories.office(name="Manutenzioni")
    operator = factories.operator(office)
    report = factories.report_ticket(
        category=factories.report_category(office, name="Lampioni"), subject="Lampione al buio",
        description="Il lampione davanti a casa mia non si accende più da tre sere.")
    for title, body in [
        ("Illuminazione pubblica guasta", "La ringraziamo: il punto luce spento è stato "
         "segnalato al gestore, che interviene entro cinque giorni lavorativi."),
        ("Rimborso TARI", "Il rimborso della tassa rifiuti arriva entro 90 giorni dalla domanda."),
        ("Orari sportello anagrafe", "Lo sportello è aperto dal lunedì al venerdì dalle 9 alle 12."),
        ("Cambio di residenza", "Per il cambio di residenza compili il modulo online."),
    ]:
        QuickReply.objects.create(office=office, title=title, shortcut=title[:6].lower(),
                                  body=body)
    found = suggestions(report, operator)
    assert [s.title for s in found] == ["Illuminazione pubblica guasta"]
    assert found[0].why == ["similar meaning"]


def test_a_placeholder_is_not_a_word_in_common(desk, no_embedder):
    """"{cittadino}" in a quick reply does not match a citizen who writes
    "cittadino": only what the reply says counts."""
    QuickReply.objects.create(office=desk.office, title="Non di competenza", shortcut="noncomp",
                              body="Gentile {cittadino}, non è di competenza del Comune.")
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen),
                                 "Sono una cittadina: a chi mi devo rivolgere?")
    titles = [s.title for s in suggestions(Ticket.objects.get(pk=desk.ticket.pk), desk.me)]
    assert "Non di competenza" not in titles


def test_far_in_meaning_and_one_word_in_common_is_not_suggested(desk, fake_embedder, settings):
    """With a text model, a quick reply it finds far needs more than one word
    in common with the message."""
    settings.WAGTAIL_HELPDESK_AI_SUGGEST_MIN_COSINE = 0.999  # the fake finds everything far
    titles = [s.title for s in suggestions(desk.ticket, desk.me)]
    assert "Carta d'identità elettronica" in titles  # many words in common
    assert "Orari" not in titles and "Rimborso TARI" not in titles


def test_a_generic_quick_reply_is_not_suggested_for_every_message(desk, factories,
                                                                  real_embedder):
    """With the real model a generic reply ("not our competence") is close to
    any message; compared with the office's typical message it is not, and
    the reply that answers the question comes first."""
    from django.core.cache import cache

    from wagtail_helpdesk.ai.tasks import embed_missing

    cache.clear()
    for subject, description in [
        ("Certificato di residenza", "Mi serve un certificato di residenza per la banca."),
        ("Cambio di indirizzo", "Mi sono trasferito in via Po: come cambio la residenza?"),
        ("Carta d'identità smarrita", "Ho perso la carta d'identità, cosa devo fare?"),
        ("Stato di famiglia", "Vorrei lo stato di famiglia per la scuola di mio figlio."),
        ("Atto di nascita", "Mi serve l'estratto dell'atto di nascita."),
        ("Passaporto", "Per il passaporto devo prima rinnovare la carta d'identità?"),
        ("Residenza di mia madre", "Mia madre si trasferisce da me, come faccio?"),
        ("Certificato storico", "Avrei bisogno di un certificato storico di residenza."),
        ("Iscrizione AIRE", "Mi trasferisco all'estero: devo iscrivermi all'AIRE?"),
        ("Autentica di firma", "Posso autenticare una firma allo sportello?"),
    ]:
        factories.request_ticket(service_=desk.service, subject=subject, description=description)
    embed_missing()
    QuickReply.objects.create(office=desk.office, title="Non di competenza", shortcut="noncomp",
                              body="Gentile {cittadino}, la richiesta non è di competenza del "
                                   "Comune: le consigliamo di rivolgersi all'ente competente.")
    QuickReply.objects.create(office=desk.office, title="Orari di apertura", shortcut="orari2",
                              body="Gli uffici sono aperti al pubblico dal lunedì al venerdì "
                                   "dalle 9 alle 12 e il giovedì anche dalle 15 alle 17.")
    services.add_citizen_message(desk.ticket, CitizenActor(desk.citizen),
                                 "A che ora apre l'ufficio il giovedì pomeriggio?")
    found = suggestions(Ticket.objects.get(pk=desk.ticket.pk), desk.me)
    titles = [s.title for s in found if s.source == "quick_reply"]
    assert titles[0] == "Orari di apertura"
    assert "Non di competenza" not in titles


def test_scrub_takes_out_the_other_family_and_odd_shapes(desk, factories, no_embedder):
    other = resolved_similar(desk, factories)
    other = Ticket.objects.select_related("citizen", "declared_contact", "office").get(pk=other.pk)
    text = scrub("Gentile Paolo Conti, abbiamo sentito suo figlio Marco Conti, nato il "
                 "12/03/1980: la richiamiamo al 333/123 4567; rimborso su "
                 "it60x0542811101000000123456 in via po 3.", other, desk.ticket, {})
    for leak in ("Paolo", "Marco", "Conti", "12/03/1980", "333/123", "it60x", "via po"):
        assert leak not in text, leak
    assert text.startswith("Gentile {cittadino}, abbiamo sentito suo figlio [name], nato il [date]")


def test_a_resolved_ticket_behind_many_open_ones_still_suggests_its_reply(desk, factories,
                                                                         no_embedder):
    resolved_similar(desk, factories)
    for n in range(6):  # open ones, more alike, rank first
        factories.request_ticket(
            service_=desk.service, subject="Prenotare la carta d'identità elettronica",
            description=f"Quando posso prenotare la carta d'identità elettronica? ({n})")
    found = suggestions(Ticket.objects.get(pk=desk.ticket.pk), desk.me)
    assert [s for s in found if s.source == "ticket"]
