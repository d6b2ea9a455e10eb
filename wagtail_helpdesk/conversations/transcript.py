"""The transcript of a conversation as the citizen sees it: plain text and
PDF (fpdf2, built-in fonts, as the receipt). Operators' internal messages
never appear in it."""

from contextlib import nullcontext

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from ..citizen.receipt import _latin1, _municipality
from ..formats import format_datetime
from ..models import AuthorKind
from .rows import notice_text

BATCH = 500  # messages read at once


def public_messages(conversation):
    """Every message the citizen may read, in order."""
    from ..services import conversations

    after, out = 0, []
    while True:
        batch = conversations.messages_after(conversation, after, limit=BATCH)
        if not batch:
            return out
        out.extend(batch)
        after = batch[-1].seq


def _size(size):
    size = int(size or 0)
    if size >= 1024 * 1024:
        return _("%(size).1f MB") % {"size": size / (1024 * 1024)}
    return _("%(size)d KB") % {"size": max(1, round(size / 1024))}


def _lines(conversation):
    """(time, who, text) per message, in the active language."""
    for message in public_messages(conversation):
        when = timezone.localtime(message.created_at).strftime("%H:%M")
        if message.author_kind == AuthorKind.SYSTEM:
            yield when, "", notice_text(message)
            continue
        if message.author_kind == AuthorKind.CITIZEN:
            who = _("You")
        else:
            author = message.author
            who = (author.first_name or author.get_username()) if author else _("Operator")
        text = message.body or ""
        attachment = getattr(message, "attachment", None)
        if attachment is not None:
            note = _("[attachment: %(name)s, %(size)s]") % {
                "name": attachment.original_name, "size": _size(attachment.size)}
            text = f"{text}\n{note}".strip()
        yield when, who, text


def _header(conversation):
    ticket = conversation.ticket
    rows = [(_("Municipality"), _municipality(ticket)),
            (_("Request"), ticket.reference),
            (_("Topic"), str(ticket.service or "")),
            (_("Started"), format_datetime(timezone.localtime(conversation.created_at)))]
    return [(label, value) for label, value in rows if value]


def _title():
    return _("Chat transcript")


def as_text(conversation, language=None):
    """The transcript as plain text (in ``language``, default the active one)."""
    with translation.override(language) if language else nullcontext():
        out = [_title(), ""]
        out += [f"{label}: {value}" for label, value in _header(conversation)]
        out.append("")
        for when, who, text in _lines(conversation):
            prefix = f"[{when}] {who}: " if who else f"[{when}] "
            body = text.replace("\n", "\n    ")
            out.append(f"{prefix}{body}")
        return "\n".join(out).rstrip() + "\n"


def as_pdf(conversation, language=None):
    """The transcript as PDF bytes."""
    with translation.override(language) if language else nullcontext():
        ticket = conversation.ticket
        pdf = FPDF(format="A4")
        pdf.set_title(_latin1(f"{_title()} {ticket.reference}"))
        pdf.set_author(_latin1(_municipality(ticket)))
        pdf.set_lang(translation.get_language() or "it")
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_page()
        pdf.set_font("helvetica", "B", 18)
        pdf.cell(0, 10, _latin1(_title()), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        for label, value in _header(conversation):
            pdf.set_font("helvetica", "B", 10)
            pdf.cell(35, 7, _latin1(label))
            pdf.set_font("helvetica", "", 10)
            pdf.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        for when, who, text in _lines(conversation):
            pdf.set_font("helvetica", "B" if who else "I", 10)
            pdf.cell(0, 6, _latin1(f"{when} {who}".strip()), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("helvetica", "I" if not who else "", 10)
            pdf.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        return bytes(pdf.output())


def file_name(conversation, extension):
    reference = (conversation.ticket.short_code or f"chat-{conversation.pk}").replace("/", "-")
    # Translators: the start of the transcript's file name (no spaces).
    name = _("chat-transcript")
    return f"{name}-{reference}.{extension}"

