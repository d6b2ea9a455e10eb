"""The Gulpease index: the formula, its counting rules, its bands, and the
reply box's JavaScript giving the very same figures (run with Node)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from wagtail_helpdesk.ai.readability import BANDS, MIN_WORDS, band, bands_config, counts, gulpease

GULPEASE_JS = (Path(__file__).resolve().parents[2] / "wagtail_helpdesk" / "static"
               / "wagtail_helpdesk" / "admin" / "gulpease.js")

PLAIN = ("Il Comune ha chiuso la buca. La strada è di nuovo aperta. "
         "Grazie per la segnalazione.")
BUREAUCRATIC = (
    "In riferimento all'istanza pervenuta, si comunica che l'amministrazione comunale, "
    "conformemente alle disposizioni regolamentari vigenti in materia di manutenzione "
    "straordinaria delle infrastrutture viarie, provvederà all'espletamento degli "
    "adempimenti procedimentali conseguenti, subordinatamente alla disponibilità delle "
    "necessarie risorse finanziarie nell'ambito della programmazione triennale.")
TEXTS = [
    PLAIN,
    BUREAUCRATIC,
    "Gentile sig. Rossi, la pratica n. 12 è stata chiusa dal dott. Bianchi ecc. Per "
    "informazioni scriva a ufficio.tributi@comune.example.it o visiti www.comune.example.it.",
    "Buongiorno,\n\nabbiamo ricevuto la sua richiesta!!! La contatteremo al più presto… "
    "Cordiali saluti\n\nUfficio Relazioni con il Pubblico",
    "Il costo è di 3.500,00 euro (IVA inclusa). Il pagamento va fatto entro il 31/12/2026. "
    "M. Rossi ha già pagato? Sì.",
    "«Perché non risponde nessuno?» chiede il cittadino. Vedi https://example.org/a/b?x=1. "
    "L'ufficio è aperto dalle 9 alle 12.",
    "   ",
    "Troppo corto.",
]


def test_formula_on_counted_text():
    sentences, words, letters = counts(PLAIN)
    assert (sentences, words) == (3, 16)
    assert letters == sum(c.isalpha() for c in PLAIN)
    assert gulpease(PLAIN) == min(100, round(89 + (300 * 3 - 10 * letters) / 16))
    sentences, words, letters = counts(BUREAUCRATIC)
    assert sentences == 1
    assert gulpease(BUREAUCRATIC) == max(0, round(89 + (300 - 10 * letters) / words))


def test_plain_text_scores_higher_than_bureaucratic_italian():
    assert gulpease(PLAIN) >= 80
    assert gulpease(BUREAUCRATIC) < 40
    assert band(gulpease(PLAIN))[0] == "easy"
    assert band(gulpease(BUREAUCRATIC))[0] == "very_hard"


def test_abbreviations_initials_and_numbers_do_not_end_sentences():
    text = "Il sig. Rossi e il dott. M. Bianchi pagano 3.500 euro per la pratica n. 4."
    assert counts(text)[0] == 1


def test_links_count_as_one_short_word():
    with_link = "Scriva a ufficio.tributi@comune.example.it per avere il modulo della pratica."
    plain = "Scriva a link per avere il modulo della pratica."
    assert counts(with_link) == counts(plain)


def test_unterminated_paragraphs_are_sentences():
    assert counts("Buongiorno\n\nla pratica è chiusa\n\nSaluti")[0] == 3
    assert counts("Pratica chiusa. \n\n")[0] == 1


def test_short_or_empty_text_has_no_index():
    assert gulpease("") is None
    assert gulpease("Grazie, arrivederci.") is None
    assert band(None) == (None, "")
    assert gulpease(" ".join(["casa"] * MIN_WORDS)) is not None


def test_clamped_to_the_scale():
    assert gulpease(" ".join(["Sì."] * 20)) == 100
    assert gulpease(" ".join(["precipitevolissimevolmente"] * 20)) == 0


def test_bands_cover_the_scale():
    levels = [band(i)[0] for i in (100, 80, 79, 60, 59, 40, 39, 0)]
    assert levels == ["easy", "easy", "fair", "fair", "hard", "hard", "very_hard", "very_hard"]
    assert all(band(i)[1] for i in range(101))
    config = bands_config()
    assert [b["min"] for b in config["bands"]] == [b[0] for b in BANDS]
    assert config["minWords"] == MIN_WORDS


def test_javascript_gives_the_same_counts_and_index():
    node = shutil.which("node")
    assert node, "Node.js is needed to check the reply box's script"
    script = (f"const g = require({json.dumps(str(GULPEASE_JS))});"
              "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(texts.map((t) => [g.counts(t), g.gulpease(t)])));")
    done = subprocess.run([node, "-e", script], input=json.dumps(TEXTS), capture_output=True,  # noqa: S603 - our own script
                          text=True, timeout=30, check=True)
    from_js = json.loads(done.stdout)
    from_python = [[list(counts(t)), gulpease(t)] for t in TEXTS]
    assert from_js == from_python
    assert len({index for _, index in from_python}) >= 4  # the texts differ in difficulty


@pytest.mark.parametrize("text", TEXTS)
def test_index_is_within_the_scale(text):
    index = gulpease(text)
    assert index is None or 0 <= index <= 100
