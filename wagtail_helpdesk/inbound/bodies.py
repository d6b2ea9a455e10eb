"""The part of a citizen's e-mail worth putting on a ticket.

A reply carries the whole conversation below it, and a signature, and
sometimes "Inviato da iPhone". Operators want only what is new. We cut the
quoted history where the clients announce it (their headers, in Italian and
English), drop ``>`` blocks, then let mail-parser-reply remove signatures and
disclaimers. If all that leaves nothing, the whole text is kept: losing a
citizen's words is worse than showing a quote twice.
"""

import re
from html import unescape
from html.parser import HTMLParser

import nh3
from mailparser_reply.parser import EmailMessage as _ReplyMessage

_LANGUAGES = ["it", "en"]
_MAX_HTML = 1_000_000  # beyond this, HTML is not a message body anyone reads
#: HTML sanitised for display at most (nh3 is superlinear on deeply nested tags).
SANITISE_LIMIT = 100_000
_TAIL_LINES, _TAIL_CHARS = 40, 6000  # where signatures are looked for

# Short codes: sequential "<PREFIX>-<year>-<nnnnnn>" (prefixes are configurable,
# letters only) or the random 8 characters of services.shortcodes.ALPHABET in brackets.
SHORT_CODE_RE = re.compile(
    r"(?<![A-Za-z0-9-])(?P<seq>[A-Za-z]{2,10}-\d{4}-\d{6})(?![0-9])"
    r"|\[(?P<rnd>[A-HJKMNP-Z2-9]{8})\]"
)

# Lines that open quoted history. Wrapped attributions ("… ha\nscritto:") are joined first.
_ATTRIBUTION_RE = re.compile(
    r"^[ \t]*(?:"
    r"Il(?: giorno)? .{4,200}? ha scritto:"        # Thunderbird, Gmail, Apple Mail (it)
    r"|On .{4,200}? wrote:"                         # the same in English
    r"|Le .{4,200}? a écrit ?:"
    r"|Am .{4,200}? schrieb .{0,80}:"
    r")[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Messaggio originale|Original Message)\s*-{2,}|_{20,})[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# A forwarded message is the content, not history: nothing after it is cut.
_FORWARD_RE = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Messaggio inoltrato|Forwarded message)\s*-{2,}"
    r"|(?:Inizio messaggio inoltrato|Begin forwarded message):)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# Outlook's block: "Da: …" followed within a few lines by "Inviato:"/"Data:"/"Sent:"/"Date:".
_OUTLOOK_RE = re.compile(
    r"^[ \t>*]*(?:Da|From|De|Von)[ \t*]*:[^\n]*\n(?:[^\n]*\n){0,3}?"
    r"[ \t>*]*(?:Inviato|Data|Sent|Date|Envoyé|Gesendet)[ \t*]*:",
    re.MULTILINE | re.IGNORECASE,
)
_SENT_FROM_RE = re.compile(
    r"^[ \t]*(?:Inviato (?:da|dal mio|con)|Sent (?:from|with|via)|Scarica Outlook"
    r"|Get Outlook for|Envoyé de mon)\b[^\n]{0,60}$",
    re.MULTILINE | re.IGNORECASE,
)
_WRAPPED_RE = re.compile(
    r"^([ \t>]*(?:Il|On) [^\n]{4,200}?)\n[ \t>]*([^\n]{0,120}?(?:scritto|wrote):)[ \t]*$",
    re.MULTILINE,
)
_SIGNATURE_DASHES_RE = re.compile(r"^-- ?$", re.MULTILINE)
_BLANKS_RE = re.compile(r"\n{3,}")


def short_codes(subject):
    """The short codes in a subject, upper-cased, in order, without repeats."""
    found = []
    for match in SHORT_CODE_RE.finditer(subject or ""):
        found.append((match.group("seq") or match.group("rnd")).upper())
    return list(dict.fromkeys(found))


def _join_wrapped_attribution(text):
    """Clients wrap long "Il giorno … ha scritto:" lines; put them back on one line."""
    return _WRAPPED_RE.sub(r"\1 \2", text)


def _cut_history(text):
    """(the text above the first quoted-history marker with ``>`` lines dropped,
    a message forwarded below it or "")."""
    text = _join_wrapped_attribution(text)
    forward = _FORWARD_RE.search(text)
    if forward:
        text, forwarded = text[:forward.start()], text[forward.start():]
    cut = len(text)
    for regex in (_SEPARATOR_RE, _OUTLOOK_RE):
        match = regex.search(text)
        if match and match.start() > 0:
            cut = min(cut, match.start())
    for match in _ATTRIBUTION_RE.finditer(text):
        if match.start() >= cut:
            break
        rest = text[match.end():].lstrip("\n")
        if rest.startswith(">"):  # a quoted block follows: drop it, keep what comes after
            continue
        cut = match.start()
        break
    kept = text[:cut].split("\n")
    kept = [line for line in kept if not line.lstrip().startswith(">")]
    kept = _ATTRIBUTION_RE.sub("", "\n".join(kept))
    return kept, (forwarded.strip() if forward and cut == len(text) else "")


def _clean_signatures(text):
    """mail-parser-reply's signature and disclaimer removal, minus its hyphen-list trap.

    Only on the last lines: signatures are at the end, and some of the
    library's patterns are quadratic on long lines, so a long message would
    cost seconds.
    """
    lines = text.split("\n")
    head, tail = "\n".join(lines[:-_TAIL_LINES]), "\n".join(lines[-_TAIL_LINES:])
    if len(tail) > _TAIL_CHARS:
        return text
    try:
        message = _ReplyMessage(text=tail, languages=list(_LANGUAGES), keep_hyphen_lists=True)
        replies = message.read().replies
    except Exception:  # it is a regex heap: never let it cost us the message
        return text
    tail = replies[0].body if replies else tail
    return f"{head}\n{tail}" if head else tail


def reply_text(parsed):
    """The new text of a message: quoted history and signatures removed."""
    text = (parsed.text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    new, forwarded = _cut_history(text)
    match = _SIGNATURE_DASHES_RE.search(new)
    if match:
        new = new[:match.start()]
    new = _SENT_FROM_RE.sub("", new)
    if new.strip():
        new = _clean_signatures(new)
    new = "\n\n".join(part for part in (new.strip(), forwarded) if part)
    new = _BLANKS_RE.sub("\n\n", "\n".join(line.rstrip() for line in new.split("\n"))).strip()
    return new or text.strip()


class _TextExtractor(HTMLParser):
    """HTML to readable text: blocks become lines, paragraphs are separated by a
    blank line, quotes become ``>`` lines (so quoted history can be cut)."""

    _LINES = {"div", "tr", "li", "address", "section", "article", "dt", "dd", "center"}
    _PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre",
                   "blockquote"}
    _HIDDEN = {"script", "style", "head", "title", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines, self.current, self.hidden, self.quote, self.pre = [], [], 0, 0, 0

    def _flush(self):
        line = "".join(self.current)
        line = line if self.pre else " ".join(line.split())
        prefix = "> " * self.quote
        self.lines.append(prefix + line if line else prefix.rstrip())
        self.current = []

    def _break(self):
        if "".join(self.current).strip():
            self._flush()
        self.current = []

    def _gap(self):
        self._break()
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append(("> " * self.quote).rstrip())

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in ("br", "hr"):
            self._flush()
        elif tag in self._PARAGRAPHS:
            self._gap()
            self.quote += tag == "blockquote"
            self.pre += tag == "pre"
        elif tag in self._LINES:
            self._break()
            if tag == "li":
                self.current.append("- ")

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._PARAGRAPHS:
            self._break()
            if tag == "blockquote":
                while self.lines and not self.lines[-1].strip(" >"):
                    self.lines.pop()
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._gap()
        elif tag in self._LINES:
            self._break()

    def handle_data(self, data):
        if not self.hidden:
            self.current.append(data)


def html_to_text(html):
    """Readable plain text of an HTML body (never raises)."""
    if not html:
        return ""
    extractor = _TextExtractor()
    try:
        extractor.feed(html[:_MAX_HTML])
        extractor.close()
        extractor._break()
    except Exception:  # HTMLParser is lenient; this is only a last resort
        return unescape(re.sub(r"<[^>]*>", " ", html[:_MAX_HTML])).strip()
    text = "\n".join(line.rstrip() for line in extractor.lines).replace("\xa0", " ")
    return _BLANKS_RE.sub("\n\n", text).strip()


def _allowed_attribute(tag, name, value):
    """No remote images (tracking pixels): only embedded (cid:/data:image) sources."""
    if tag == "img" and name == "src":
        return value if value.startswith(("cid:", "data:image/")) else None
    if name == "href" and value.lower().startswith("data:"):
        return None
    return value


def sanitise_html(html):
    """HTML safe to show an operator: no scripts, styles, remote images; safe links."""
    if not html:
        return ""
    return nh3.clean(
        html[:_MAX_HTML],
        clean_content_tags={"script", "style", "title", "head"},
        attribute_filter=_allowed_attribute,
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        link_rel="noopener noreferrer",
    ).strip()
