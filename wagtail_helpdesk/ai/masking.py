"""Personal data out of a text and back in: names, fiscal codes, e-mail
addresses, phone numbers, IBANs, dates and street addresses become placeholders
("[NOME_1]", "[EMAIL_1]") before a text leaves the assist's hands (the
optional language model, another citizen's reply offered as a suggestion),
and the placeholders become the data again afterwards.

A :class:`Masker` keeps its placeholders across several texts (the same
value is always the same placeholder). Names are found when they are known
(the ticket's citizen, its declared contact, the operators involved) and
after a title ("sig.ra Bianchi", "dott. Verdi", "Gentile Mario Rossi");
the rest by its shape. Masking errs on the side of masking too much.
"""

import re

#: Kinds of personal data and their placeholders' names.
NAME, FISCAL_CODE, EMAIL, PHONE, IBAN, ADDRESS, DATE = (
    "NOME", "CODICE_FISCALE", "EMAIL", "TELEFONO", "IBAN", "INDIRIZZO", "DATA")

_CAP = r"[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['’][A-ZÀ-ÖØ-Þ][^\W\d_]*)?"
_WORD = r"[^\W\d_]+(?:['’][^\W\d_]+)?"  # any word, in any case
_OMO = "[0-9LMNPQRSTUVlmnpqrstuv]"  # a digit of a fiscal code, or its "omocodia" letter
_PATTERNS = [
    (EMAIL, re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    (IBAN, re.compile(r"\b[A-Za-z]{2}\d{2}[ ]?[A-Za-z0-9]{4}(?:[ ]?[A-Za-z0-9]{4}){2,6}"
                      r"(?:[ ]?[A-Za-z0-9]{1,3})?\b")),
    (FISCAL_CODE, re.compile(
        rf"\b[A-Za-z]{{6}}{_OMO}{{2}}[A-EHLMPR-Ta-ehlmpr-t]{_OMO}{{2}}[A-Za-z]{_OMO}{{3}}[A-Za-z]\b")),
    # Dates (of birth, of an appointment): "12/03/1980", "3-4-56", "03.04.1956".
    (DATE, re.compile(r"(?<![\w/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\w/.-])")),
    (PHONE, re.compile(r"(?<![\w/.,])(?:(?:\+|00)39[\s.-]?)?(?:3\d{2}|0\d{1,3})(?:[\s./-]?\d){5,8}"
                       r"(?![\w/])")),
    (ADDRESS, re.compile(
        r"\b(?i:via|viale|v\.le|piazza|p\.za|piazzale|corso|c\.so|largo|vicolo|vico|strada|"
        r"contrada|località|loc\.|borgo|lungomare|salita|traversa)\s+"
        rf"(?:(?i:d[aei]l?l?[aeo]?|de[il]?|degli|delle|san|sant['’]|santa|santo|s\.)\s+|"
        rf"{_WORD}\s+|[IVXL]+\s+|\d{{1,2}}\s+)*{_WORD}"
        r",?\s*(?:(?i:n\.?|nr\.?|civico)\s*)?\d{1,4}(?:\s*/\s*[0-9A-Za-z]{1,3}|[A-Za-z](?![\w]))?"
        r"(?!\d)")),
]
_TITLES = (r"(?i:sig\.(?:ra|na)?|sigg\.|signor[ae]?|dott\.(?:ssa)?|dottor(?:essa)?|"
           r"prof\.(?:ssa)?|professor(?:essa)?|avv\.|avvocat[oa]|ing\.|ingegner[e]?|geom\.|"
           r"arch\.|rag\.|gentile|gent\.(?:mo|ma)?|gentilissim[oa]|egregi[oa]|egr\.|"
           r"mi chiamo|sono)")
_TITLED = re.compile(rf"\b{_TITLES}\s+(?:{_TITLES}\s+)?(?P<name>{_CAP}(?:\s+{_CAP}){{0,2}})")
#: Words after a title that are not names ("Gentile Cittadino", "Sono Stato").
_NOT_NAMES = frozenset("""
cittadino cittadina cittadini utente utenti signore signora signori dottore cliente
ufficio comune sindaco assessore responsabile operatore stato stata stati state
""".split())
_CAPITALISED_RUN = re.compile(rf"(?<![\w\[]){_CAP}(?:[ ]+{_CAP})+(?![\w\]])")
_PLACEHOLDER = re.compile(r"\[\s*([A-Za-z_]+?)_(\d+)\s*\]")


def _key(value):
    return " ".join(value.split()).casefold()


def find(text):
    """The personal data ``text`` shows by its shape: ``[(kind, start, end)]``,
    without overlaps (known names aside: see :class:`Masker`)."""
    text = text or ""
    spans = []
    for kind, pattern in _PATTERNS:
        spans += [(kind, m.start(), m.end()) for m in pattern.finditer(text)]
    for match in _TITLED.finditer(text):
        name = match.group("name")
        words = name.split()
        while words and words[-1].casefold() in _NOT_NAMES:
            words.pop()
        if words and words[0].casefold() not in _NOT_NAMES:
            start = match.start("name")
            spans.append((NAME, start, start + len(" ".join(words))))
    return _without_overlaps(spans)


#: Capitalised words that start a run without being part of a name.
_LEADERS = frozenset("""
gentile gentili caro cara cari egregio egregia spettabile buongiorno buonasera salve
il lo la i gli le un una dal dalla al alla del della nel nella sig signor signora dott
""".split())


def _guessed_names(text):
    """``(start, end)`` of the runs of two or more capitalised words, leading
    greetings and articles left out."""
    for match in _CAPITALISED_RUN.finditer(text):
        words = list(re.finditer(r"\S+", match.group(0)))
        while words and words[0].group(0).rstrip(".").casefold() in _LEADERS:
            words.pop(0)
        if len(words) >= 2 or (words and len(words) < len(match.group(0).split())):
            yield match.start() + words[0].start(), match.end()


def _without_overlaps(spans):
    chosen = []
    for span in sorted(spans, key=lambda s: (s[1], -(s[2] - s[1]))):
        if not chosen or span[1] >= chosen[-1][2]:
            chosen.append(span)
    return chosen


class Masker:
    """Masks texts with consistent placeholders and restores them.

    ``names``: the people's names to mask wherever they appear (a full name,
    and its given and family names alone). ``keep``: values never masked
    (the office's own e-mail address and phone number).
    """

    def __init__(self, names=(), keep=(), *, guess_names=False):
        self.guess_names = guess_names
        self.values = {}  # placeholder → original
        self._by_key = {}  # (kind, normalised value) → placeholder
        self._counts = {}
        self._keep = {_key(v) for v in keep if v}
        self._known = []  # (kind, value), longest first
        for name in names:
            if not name or not name.strip():
                continue
            self.add_known(NAME, name)
            for part in name.split():
                if len(part) > 2:
                    self.add_known(NAME, part)

    def add_known(self, kind, value):
        """Mask ``value`` (as ``kind``) wherever it appears, whatever its shape."""
        value = " ".join((value or "").split())
        if value and _key(value) not in {_key(v) for _, v in self._known}:
            self._known.append((kind, value))
            # Longest first: "Maria Rossi" before "Rossi".
            self._known.sort(key=lambda item: len(item[1]), reverse=True)

    def _placeholder(self, kind, value):
        key = (kind, " ".join(value.split()))  # case kept: restored exactly
        if key not in self._by_key:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._by_key[key] = placeholder
            self.values[placeholder] = value
        return self._by_key[key]

    def _spans(self, text):
        spans = [(kind, m.start(), m.end()) for kind, value in self._known
                 for m in re.finditer(rf"(?<![\w]){re.escape(value)}(?![\w])", text,
                                      re.IGNORECASE)]
        chosen = _without_overlaps(spans + find(text))
        if not self.guess_names:
            return chosen
        for start, end in _guessed_names(text):
            inside = [c for c in chosen if start < c[2] and c[1] < end]
            if all(c[0] == NAME and start <= c[1] and c[2] <= end for c in inside):
                # "Marco Conti" around the known "Conti": another person of
                # the family, masked whole rather than as the known one.
                chosen = [c for c in chosen if c not in inside] + [(NAME, start, end)]
        return sorted(chosen, key=lambda s: s[1])

    def mask(self, text):
        """``text`` with its personal data replaced by placeholders."""
        text = text or ""
        out, last = [], 0
        for kind, start, end in self._spans(text):
            value = text[start:end]
            if _key(value) in self._keep:
                continue
            out += [text[last:start], self._placeholder(kind, value)]
            last = end
        out.append(text[last:])
        return "".join(out)

    def keeps(self, value):
        """Whether ``value`` is one of the values never masked."""
        return _key(value) in self._keep

    @staticmethod
    def has_placeholders(text):
        """Whether ``text`` already looks masked (its "[NOME_1]" could not be
        told from ours)."""
        return bool(_PLACEHOLDER.search(text or ""))

    def unknown(self, text):
        """The placeholders in ``text`` this masker did not make."""
        return [m.group(0) for m in _PLACEHOLDER.finditer(text or "")
                if self._normal(m) not in self.values]

    @staticmethod
    def _normal(match):
        return f"[{match.group(1).upper()}_{match.group(2)}]"

    def restore(self, text, replace=None):
        """``text`` with every placeholder of this masker back to its value
        (``replace``: ``(placeholder, value) → str`` to put something else)."""
        def back(match):
            placeholder = self._normal(match)
            if placeholder not in self.values:
                return match.group(0)
            value = self.values[placeholder]
            return replace(placeholder, value) if replace else value

        return _PLACEHOLDER.sub(back, text or "")

    def kind_of(self, placeholder):
        match = _PLACEHOLDER.fullmatch(placeholder)
        return match.group(1).upper() if match else None


def people_names(*citizens):
    """The names to mask of these citizens (``None`` and erased ones skipped)."""
    names = []
    for citizen in citizens:
        if citizen is None or getattr(citizen, "erased_at", None):
            continue
        names += [citizen.full_name, citizen.given_name, citizen.family_name]
    return [n for n in names if n]


def ticket_masker(ticket, extra_names=(), *, guess_names=False):
    """A masker for ``ticket``: its citizen's and declared contact's names
    (and the codes they gave), its address, and ``extra_names``; the office's
    own contacts are kept."""
    citizens = [ticket.citizen if ticket.citizen_id else None,
                ticket.declared_contact if ticket.declared_contact_id else None]
    office = ticket.office if ticket.office_id else None
    masker = Masker(names=[*people_names(*citizens), *extra_names],
                    keep=[getattr(office, "email", ""), getattr(office, "phone", "")],
                    guess_names=guess_names)
    for citizen in citizens:
        if citizen is not None:
            for value, kind in ((citizen.fiscal_code, FISCAL_CODE),
                                (citizen.declared_fiscal_code, FISCAL_CODE),
                                (citizen.email, EMAIL), (citizen.phone, PHONE)):
                masker.add_known(kind, value)
    masker.add_known(ADDRESS, ticket.address)
    return masker


def people_data(ticket, text):
    """The personal data of ``ticket``'s citizen and declared contact that
    ``text`` names (their names, fiscal codes, e-mail addresses, phones):
    what must not reach other people, such as the reporters of a duplicate."""
    citizens = [c for c in (ticket.citizen if ticket.citizen_id else None,
                            ticket.declared_contact if ticket.declared_contact_id else None) if c]
    masker = Masker(names=people_names(*citizens))
    for citizen in citizens:
        for value, kind in ((citizen.fiscal_code, FISCAL_CODE),
                            (citizen.declared_fiscal_code, FISCAL_CODE),
                            (citizen.email, EMAIL), (citizen.phone, PHONE)):
            masker.add_known(kind, value)
    known = {" ".join(v.split()).casefold() for _kind, v in masker._known}
    masker.mask(text)
    return [v for v in masker.values.values() if " ".join(v.split()).casefold() in known]
