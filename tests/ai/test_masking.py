"""Personal data out of a text and back in, exactly."""

import pytest

from wagtail_helpdesk.ai.masking import Masker, find, ticket_masker

TEXT = (
    "Gentile sig.ra Giovanna Esposito, abito in via Giuseppe Garibaldi 12/B e in piazza del "
    "Popolo, 3. Il mio codice fiscale è RSSMRA85T10A562S (omocodico: RSSMRA85T10A56NH), "
    "tel. 333 123 4567 oppure +39 06 1234567, e-mail giovanna.esposito@example.org, "
    "IBAN IT60 X054 2811 1010 0000 0123 456. Ho parlato con il dott. Mario Verdi. "
    "ESPOSITO conferma che Esposito ha pagato 3.500 euro il 31/12/2026 (pratica "
    "RIC-2026-00012, protocollo n. 4521). Gentile Cittadino, sono Stato informato."
)
PERSONAL = ["Giovanna", "Esposito", "ESPOSITO", "Garibaldi", "Popolo", "RSSMRA85T10A562S",
            "RSSMRA85T10A56NH", "333 123 4567", "06 1234567", "giovanna.esposito@example.org",
            "IT60", "Mario Verdi", "31/12/2026"]  # a date may be a birth date
KEPT = ["3.500 euro", "RIC-2026-00012", "n. 4521", "Gentile Cittadino", "sono Stato"]


def test_no_personal_data_survives_and_restore_is_exact():
    masker = Masker(names=["Giovanna Esposito"])
    masked = masker.mask(TEXT)
    for value in PERSONAL:
        assert value not in masked, value
    for value in KEPT:
        assert value in masked, value
    assert masker.restore(masked) == TEXT
    assert masker.unknown(masked) == []


def test_same_value_same_placeholder_across_texts():
    masker = Masker(names=["Giovanna Esposito"])
    first = masker.mask("Scrive Giovanna Esposito da via Roma 1.")
    second = masker.mask("Risposta a Giovanna Esposito (via Roma 1).")
    assert first == "Scrive [NOME_1] da [INDIRIZZO_1]."
    assert second == "Risposta a [NOME_1] ([INDIRIZZO_1])."


def test_placeholders_restored_loosely_unknown_ones_reported():
    masker = Masker(names=["Luca Neri"])
    masker.mask("Luca Neri chiede.")
    assert masker.restore("Gentile [nome_1], [ NOME_1 ]") == "Gentile Luca Neri, Luca Neri"
    assert masker.unknown("Gentile [NOME_1] e [NOME_2], [EMAIL_1]") == ["[NOME_2]", "[EMAIL_1]"]


def test_kept_values_stay():
    masker = Masker(keep=["urp@comune.example.it"])
    text = "Scriva a urp@comune.example.it, non a mario@example.org."
    assert masker.mask(text) == "Scriva a urp@comune.example.it, non a [EMAIL_1]."


@pytest.mark.parametrize("text", [
    "Il costo è di 3.500,00 euro.", "Scadenza 31/12/2026.", "Pratica n. 12 del 2026.",
    "La buca in via Roma è profonda.", "Gentile utente, grazie.",
])
def test_ordinary_text_is_left_alone(text):
    assert find(text) == []


def test_ticket_masker_knows_the_ticket(make_desk):
    desk = make_desk(citizen={"given_name": "Giovanna", "family_name": "Esposito",
                              "fiscal_code": "RSSMRA85T10A562S", "phone": "011 7654321",
                              "email": "gio@example.org"},
                     ticket={"description": "x", "address": "Strada del Fortino"})
    ticket = desk.ticket
    ticket.address = "Strada del Fortino"
    masker = ticket_masker(ticket, extra_names=["Anna Bianchi"])
    text = ("Giovanna (cf rssmra85t10a562s, 011 7654321, gio@example.org) abita in "
            "Strada del Fortino; la segue Anna Bianchi.")
    masked = masker.mask(text)
    for value in ("Giovanna", "rssmra85t10a562s", "7654321", "gio@", "Fortino", "Anna", "Bianchi"):
        assert value not in masked
    assert masker.restore(masked) == text


def test_guessing_names_for_the_language_model():
    text = ("Ho parlato con Mario Rossi e con la Polizia Locale. Il vicino, Luca De Santis, "
            "conferma.")
    careful = Masker()
    assert careful.mask(text) == text  # nothing known, no title: nothing masked
    guessing = Masker(guess_names=True)
    masked = guessing.mask(text)
    for value in ("Mario Rossi", "Luca De Santis", "Polizia Locale"):
        assert value not in masked
    assert guessing.restore(masked) == text


@pytest.mark.parametrize("value", [
    "333/123 4567", "it60x0542811101000000123456", "rssmra85t10a562s", "via garibaldi 14",
    "03/04/1956", "3-4-56", "corso vittorio emanuele 2",
])
def test_lower_case_and_slashed_data_are_masked_too(value):
    masker = Masker()
    masked = masker.mask(f"Scrivo per conto di mia madre: {value}, come chiesto.")
    assert value not in masked and masker.restore(masked).endswith(f"{value}, come chiesto.")


def test_another_person_of_the_family_is_masked_whole():
    masker = Masker(names=["Paolo Conti"], guess_names=True)
    masked = masker.mask("Abbiamo parlato con suo figlio Marco Conti e con Paolo Conti.")
    assert masked == "Abbiamo parlato con suo figlio [NOME_1] e con [NOME_2]."
    assert masker.values == {"[NOME_1]": "Marco Conti", "[NOME_2]": "Paolo Conti"}
