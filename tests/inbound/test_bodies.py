"""reply_text, html_to_text, sanitise_html, short codes."""

import pytest

from tests.inbound.corpus import make
from wagtail_helpdesk.inbound.bodies import (
    SHORT_CODE_RE,
    html_to_text,
    reply_text,
    sanitise_html,
    short_codes,
)
from wagtail_helpdesk.inbound.parsing import parse


def reply(body):
    return reply_text(parse(make(body)))


QUOTE = "> Gentile cittadino,\n> la pratica è chiusa.\n"


@pytest.mark.parametrize("header", [
    "Il giorno lun 7 dic 2026 alle ore 09:00 Comune <assistenza@comune.example.it> ha scritto:",
    "Il giorno lun 7 dic 2026 alle ore 09:00 Comune <\nassistenza@comune.example.it> ha scritto:",
    "Il 07/12/2026 09:00, Comune di Esempio ha scritto:",
    "Il giorno 7 dic 2026, alle ore 09:00, Comune <assistenza@comune.example.it> ha\nscritto:",
    "On Mon, Dec 7, 2026 at 9:00 AM Comune <assistenza@comune.example.it> wrote:",
    "On 7 Dec 2026, at 09:00, Comune <assistenza@comune.example.it> wrote:",
])
def test_attribution_lines_and_quotes_are_cut(header):
    text = reply(f"Grazie, ricevuto.\n\n{header}\n\n{QUOTE}")
    assert text == "Grazie, ricevuto."


@pytest.mark.parametrize("block", [
    "Da: Comune <assistenza@comune.example.it>\nInviato: lunedì 7 dicembre 2026 09:00\n"
    "A: Mario\nOggetto: pratica",
    "________________________________\nDa: Comune di Esempio\nInviato: lunedì 7 dicembre 2026",
    "-----Messaggio originale-----\nDa: Comune [mailto:assistenza@comune.example.it]\n"
    "Inviato: lunedì 7 dicembre 2026 09:00",
    "-----Original Message-----\nFrom: Comune\nSent: Monday, December 7, 2026 9:00 AM",
    "From: Comune <assistenza@comune.example.it>\nSent: Monday, December 7, 2026 9:00 AM\n"
    "To: Mario\nSubject: pratica",
    "From: Comune <assistenza@comune.example.it>\nDate: Mon, 7 Dec 2026 09:00\nSubject: x",
])
def test_outlook_style_history_is_cut(block):
    text = reply(f"Va bene così.\n\n{block}\n\nGentile cittadino,\nla pratica è chiusa.\n")
    assert text == "Va bene così."


@pytest.mark.parametrize("signature", [
    "Inviato da iPhone", "Inviato dal mio iPhone", "Inviato da Outlook per Android",
    "Sent from my iPhone", "Sent from my Galaxy", "Scarica Outlook per iOS",
    "Get Outlook for Android", "Inviato da Posta per Windows",
])
def test_sent_from_lines_are_stripped(signature):
    assert reply(f"Confermo l'appuntamento.\n\n{signature}\n") == "Confermo l'appuntamento."


def test_dash_dash_signature_is_stripped():
    assert reply("Confermo.\n\n-- \nMario Rossi\nVia Roma 1\n") == "Confermo."


def test_bottom_posted_reply_keeps_the_text_under_the_quote():
    body = f"Il 07/12/2026 09:00, Comune ha scritto:\n{QUOTE}\nHo una domanda ancora.\n"
    assert reply(body) == "Ho una domanda ancora."


def test_interleaved_answers_are_kept_and_quotes_dropped():
    body = "> Può portare la ricevuta?\nSì, domani.\n> E il documento?\nAnche quello.\n"
    assert reply(body) == "Sì, domani.\nAnche quello."


def test_hyphen_lists_survive():
    body = "Porto questi documenti:\n- carta d'identità\n- codice fiscale\n"
    assert reply(body) == body.strip()


def test_a_closing_salutation_and_name_are_stripped_in_italian_and_english():
    assert reply("Tutto chiaro.\n\nCordiali saluti\nMario Rossi\n") == "Tutto chiaro."
    assert reply("All clear.\n\nBest regards\nMario Rossi\n") == "All clear."


def test_only_quoted_text_falls_back_to_the_whole_text():
    body = "Il 07/12/2026 09:00, Comune ha scritto:\n" + QUOTE
    text = reply(body)
    assert "la pratica è chiusa" in text
    assert text == body.strip()


def test_empty_body_gives_empty_text():
    assert reply("") == ""
    assert reply("\n \n") == ""


def test_a_date_line_in_the_text_is_not_history():
    body = "Il giorno 12 ho l'appuntamento.\nData: lunedì\nOra: 9\n"
    assert reply(body) == body.strip()


def test_html_reply_is_stripped_through_its_blockquote():
    html = ('<div>Risposta nuova</div><div class="gmail_quote"><div class="gmail_attr">Il giorno '
            'lun 7 dic 2026 Comune &lt;a@b.it&gt; ha scritto:<br></div><blockquote>'
            '<p>Vecchio testo</p></blockquote></div>')
    assert reply_text(parse(make(html, content_type="text/html; charset=utf-8"))) == \
        "Risposta nuova"


def test_html_to_text():
    assert html_to_text("<div>Riga uno</div><div>Riga&nbsp;due &amp; tre</div>") == \
        "Riga uno\nRiga due & tre"
    assert html_to_text("<p>a<br>b<br/>c</p><p>d</p><ul><li>x</li><li>y</li></ul>") == \
        "a\nb\nc\n\nd\n\n- x\n- y"
    assert html_to_text("<head><title>T</title><style>p{}</style></head><p>ok</p>"
                        "<script>bad()</script>") == "ok"
    assert html_to_text("<p>ciao</p><blockquote><p>q1</p><p>q2</p></blockquote><p>dopo</p>") == \
        "ciao\n\n> q1\n>\n> q2\n\ndopo"
    assert html_to_text("") == ""
    assert html_to_text("<p>non chiuso <b>grassetto") == "non chiuso grassetto"


def test_sanitise_html():
    dirty = ('<p style="color:red" onclick="x()">Testo</p><script>alert(1)</script>'
             '<style>p{}</style><img src="https://track.example.com/p.gif">'
             '<img src="cid:img1@x" alt="foto"><a href="https://comune.example.it/">link</a>'
             '<a href="javascript:alert(1)">js</a><a href="data:text/html,x">data</a>'
             '<iframe src="https://x"></iframe>')
    clean = sanitise_html(dirty)
    assert "<p>Testo</p>" in clean
    for bad in ("script", "alert", "onclick", "style", "track.example.com", "javascript",
                "data:text", "iframe"):
        assert bad not in clean, bad
    assert 'src="cid:img1@x"' in clean
    assert '<a href="https://comune.example.it/" rel="noopener noreferrer">link</a>' in clean
    assert sanitise_html("") == ""


@pytest.mark.parametrize(("subject", "codes"), [
    ("Re: [Comune] Richiesta AST-2026-000042: aggiornamento", ["AST-2026-000042"]),
    ("R: segnalazione seg-2026-000001", ["SEG-2026-000001"]),
    ("I: [K7QM4XPB] risposta", ["K7QM4XPB"]),
    ("AST-2026-000042 e SEG-2026-000007, di nuovo AST-2026-000042",
     ["AST-2026-000042", "SEG-2026-000007"]),
    ("Pratica AST-2026-0000421 (troppe cifre)", []),
    ("Protocollo XAST-2026-000042", ["XAST-2026-000042"]),
    ("[ABCDEFGO] contiene la O", []),
    ("[k7qm4xpb] minuscole", []),
    ("[K7QM4XP] sette", []),
    ("nessun codice, solo 2026-000042", []),
    ("", []),
])
def test_short_codes(subject, codes):
    assert short_codes(subject) == codes


def test_short_code_regex_is_exported():
    assert SHORT_CODE_RE.search("[ZZ22ZZ22]")
    assert not SHORT_CODE_RE.search("ZZ22ZZ22")


def test_pathological_long_texts_stay_fast():
    import time

    for body in [("Il " + "x" * 190 + "\n") * 5000, "Da: x\nA: y\n" * 20000, "a " * 500000]:
        parsed = parse(make(body))
        started = time.perf_counter()
        assert reply_text(parsed)
        assert time.perf_counter() - started < 1.5


@pytest.mark.parametrize("marker", [
    "---------- Forwarded message ---------\nDa: Enel <noreply@enel.example>\n"
    "Date: ven 4 dic 2026 alle ore 10:00\nSubject: Lettura\nTo: <m@x.it>",
    "-------- Messaggio inoltrato --------\nOggetto: Lettura\nData: Fri, 4 Dec 2026 10:00\n"
    "Mittente: Enel <noreply@enel.example>",
    "Inizio messaggio inoltrato:\n\nDa: Enel <noreply@enel.example>\nData: 4 dicembre 2026",
])
def test_forwarded_message_is_content_not_history(marker):
    body = f"Vi inoltro la lettera ricevuta.\n\n-- \nMario\n\n{marker}\n\nLettura del contatore: 1234\n"
    text = reply(body)
    assert text.startswith("Vi inoltro la lettera ricevuta.")
    assert "Lettura del contatore: 1234" in text
    assert "\nMario\n" not in text


def test_forward_inside_quoted_history_is_still_history():
    body = ("Grazie.\n\nDa: Comune\nInviato: lunedì\n\n---------- Forwarded message ---------\n"
            "Vecchio inoltro\n")
    assert reply(body) == "Grazie."
