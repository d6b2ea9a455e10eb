"""The text of a ticket as the assist reads it, and its Italian words.

Pure functions, no database: :func:`ticket_text` is what gets embedded and
indexed; :func:`words` and :func:`stems` are the tokens lexical search ranks
(lowercase, accents folded, Italian stop words dropped, a light stemmer that
only folds number and gender and a few common suffixes: "buca", "buche" →
"buc"; "lampione", "lampioni" → "lampion").
"""

import re
import unicodedata

#: Characters of text embedded per ticket (the model reads ~512 tokens).
MAX_CHARS = 1500
#: Citizen messages after the description that are part of the text.
MAX_MESSAGES = 3

_WORD = re.compile(r"[0-9a-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n|\n(?=\s*[-•*]\s)")
_SPACES = re.compile(r"\s+")

STOP_WORDS = frozenset("""
a ad al all alla alle allo agli ai anche ancora avere aveva avevo abbiamo avete
c ce che chi ci cio coi col come con contro cosa cui d da dai dal dall dalla dalle
dallo dagli de degli dei del dell della delle dello di dove e ed ecc era erano
essere gia gli ha hai hanno ho i il in io l la le lei li lo loro lui ma me mi
mia mie miei mio molto ne negli nei nel nell nella nelle nello no noi non nostra
nostre nostri nostro o od ogni per perche piu po poi piu qua quale quali quando
quanto quella quelle quelli quello questa queste questi questo qui se sara sei
sembra sia siamo siete solo sono su sua sue sui sul sull sulla sulle sullo suo
suoi ti tra tu tua tue tuo tuoi tutti tutto un una uno vi voi vostra vostro
stato stata stati state fa fare fatto essere via buongiorno buonasera salve
grazie cordiali saluti gentile gentili egregio spett sig sigra
""".split())

_SUFFIXES = ("amenti", "amento", "imenti", "imento", "azione", "azioni", "uzione",
             "uzioni", "mente", "ista", "iste", "isti", "ismo", "ismi")


def fold(text):
    """Lowercase without accents ("Città" → "citta")."""
    text = str(text or "").lower()
    if text.isascii():
        return text
    text = text.translate(_LATIN)  # fast: à, è, é, ì, ò, ù and the like
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _latin_table():
    table = {}
    for code in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFKD", chr(code))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base.isascii() and base.isalpha():
            table[code] = base
    return table


_LATIN = _latin_table()


def words(text):
    """The words of ``text``, lowercase and accents folded."""
    return _WORD.findall(fold(text))


def stem(word):
    """A light Italian stem of one folded word."""
    found = _stems.get(word)
    if found is None:
        found = _stem(word)
        if len(_stems) < 200_000:  # the vocabulary of a help desk is far smaller
            _stems[word] = found
    return found


_stems = {}


def _stem(word):
    if len(word) > 6:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
    if len(word) > 3 and word[-1] in "aeio":
        word = word[:-1]
        if len(word) > 3 and word[-1] == "h" and word[-2] in "cg":  # buche → buc
            word = word[:-1]
        elif len(word) > 3 and word[-1] == "i" and word[-2] in "cg":  # arancia → aranc
            word = word[:-1]
    return word


def stems(text):
    """The stems of ``text``'s words that carry meaning (stop words dropped)."""
    return [_stems.get(word) or stem(word) for word in words(text)
            if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())]


def sentences(text):
    """The sentences of ``text``, stripped, empty ones dropped."""
    found = []
    for part in _SENTENCE_END.split(str(text or "")):
        part = _SPACES.sub(" ", part).strip(" -•*\t")
        if part:
            found.append(part)
    return found


def _body(message):
    return message if isinstance(message, str) else getattr(message, "body", "") or ""


def ticket_text(ticket, messages=()):
    """What is embedded and indexed for ``ticket``.

    Its subject, topic (service or problem type), description and the first
    citizen ``messages`` (strings, or events: their ``body``), whitespace
    collapsed, trimmed to :data:`MAX_CHARS` at a word boundary. Reads the
    topic's name: select ``service`` and ``report_category`` with the ticket.
    """
    topic = ticket.service if ticket.service_id else (
        ticket.report_category if ticket.report_category_id else None)
    parts = [ticket.subject, getattr(topic, "name", ""), ticket.description]
    parts += [_body(message) for message in list(messages)[:MAX_MESSAGES]]
    pieces = []
    for part in parts:
        part = _SPACES.sub(" ", part or "").strip()
        if part:
            pieces.append(part if part[-1] in ".!?…:;" else part + ".")
    text = " ".join(pieces)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(" ", 1)[0]
    return text
