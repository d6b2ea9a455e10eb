"""The Gulpease readability index of an Italian text (Lucisano & Piemontese).

``89 + (300 · sentences − 10 · letters) / words``, on a 0–100 scale: the
higher, the easier. The reply box computes the same index while the operator
types (``static/wagtail_helpdesk/admin/gulpease.js``, kept in step with this
module by a test), so the counting rules below are deliberately simple and
written identically in both languages:

* a web address or an e-mail address counts as one word of four letters;
* paragraphs are split at blank lines; in each, every run of ``.``, ``!``,
  ``?`` or ``…`` closing a whitespace-separated chunk ends a sentence — except
  a single dot after an abbreviation (:data:`ABBREVIATIONS`: "sig.", "dott.",
  "n.", "ecc.") or an initial ("M."); a paragraph's words after its last
  sentence end are one more sentence (a greeting, a signature);
* words are runs of letters and digits ("dell'ufficio" is two words, a number
  is a word); letters are alphabetic characters only.

This is the formula's own counting, not the assist's tokenizer
(:mod:`wagtail_helpdesk.ai.text`), which folds accents and drops stop words
for retrieval.
"""

import math
import re
import unicodedata

from django.utils.translation import gettext_lazy as _

#: Below this many words the index says little: none is given.
MIN_WORDS = 10

#: Abbreviations whose dot does not end a sentence (lower case, without it).
ABBREVIATIONS = frozenset({
    "sig", "sigg", "sig.ra", "sig.na", "dott", "dott.ssa", "prof", "prof.ssa", "avv", "ing",
    "geom", "arch", "rag", "on", "egr", "gent", "gent.mo", "gent.ma", "spett", "ecc", "etc",
    "es", "p.es", "cfr", "art", "artt", "n", "nr", "num", "pag", "pagg", "tel", "cell",
    "fax", "ca", "c.a", "v.le", "p.za", "c.so", "loc", "fraz", "prot", "rif", "all", "ss",
    "s.p.a", "s.r.l", "p.iva", "c.f", "lett",
})

_LINK = re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)\]»\"']"
                   r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PARAGRAPHS = re.compile(r"\n[^\S\n]*\n\s*")
_CHUNK_END = re.compile(r"([.!?\u2026]+)[)\]\"'»”’]*$")
_LEADING = re.compile(r"^[(\[\"'«“‘]+")
_WORD = re.compile(r"[^\W_]+")
_LETTER = re.compile(r"[^\W\d_]")
_INITIAL = re.compile(r"^[^\W\d_]$")


def counts(text):
    """``(sentences, words, letters)`` of ``text`` by the rules above."""
    text = unicodedata.normalize("NFC", text or "")
    text = _LINK.sub(" link ", text)
    sentences = 0
    for paragraph in _PARAGRAPHS.split(text):
        words_since_end = False
        for chunk in paragraph.split():
            if _WORD.search(chunk):
                words_since_end = True
            end = _CHUNK_END.search(chunk)
            if not end:
                continue
            if end.group(1) == ".":
                stem = _LEADING.sub("", chunk[:end.start()]).lower()
                if stem in ABBREVIATIONS or _INITIAL.match(stem):
                    continue
            if words_since_end:
                sentences += 1
                words_since_end = False
        if words_since_end:
            sentences += 1
    words = len(_WORD.findall(text))
    letters = len(_LETTER.findall(text))
    return sentences, words, letters


def gulpease(text):
    """The Gulpease index of ``text`` (an int, 0–100), or None when it has
    fewer than :data:`MIN_WORDS` words."""
    sentences, words, letters = counts(text)
    if words < MIN_WORDS:
        return None
    value = 89 + (300 * sentences - 10 * letters) / words
    # Half up, as JavaScript's Math.round (Python's round() goes to even).
    return max(0, min(100, math.floor(value + 0.5)))


#: (lowest index, level, what the operator is told), easiest first.
BANDS = (
    (80, "easy", _("Easy to read for almost everyone.")),
    # Lucisano and Piemontese: below 80 hard for readers with primary
    # schooling only, below 60 with lower-secondary, below 40 with upper-secondary.
    (60, "fair", _("Easy for readers with a lower-secondary education; hard for those with "
                   "primary schooling only.")),
    (40, "hard", _("Hard to read for citizens with a lower-secondary education: shorter "
                   "sentences and everyday words would help.")),
    (0, "very_hard", _("Hard to read for most citizens: try shorter sentences and simpler "
                       "words.")),
)


def band(index):
    """``(level, message)`` for a Gulpease index; ``(None, "")`` for None."""
    if index is None:
        return None, ""
    for lowest, level, message in BANDS:
        if index >= lowest:
            return level, str(message)
    return BANDS[-1][1], str(BANDS[-1][2])


def bands_config():
    """The bands for the reply box's script (translated in the current language)."""
    return {"minWords": MIN_WORDS,
            "bands": [{"min": lowest, "level": level, "message": str(message)}
                      for lowest, level, message in BANDS]}
