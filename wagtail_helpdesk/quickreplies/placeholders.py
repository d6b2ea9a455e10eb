"""Quick replies' placeholders.

The placeholders ``{cittadino}``, ``{codice}``, ``{tipo}`` (the kind of ticket
as a word in the site's language: "richiesta" or "segnalazione"),
``{servizio}``, ``{ufficio}``, ``{operatore}`` and ``{data}`` are filled with
a regular expression, never ``str.format``: unknown names, values the ticket
does not have and stray braces are left as they are.
"""

import re

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..formats import person_name

#: name → what it becomes (for help texts).
PLACEHOLDERS = {
    "cittadino": _("the citizen's full name"),
    "codice": _("the ticket's code"),
    "tipo": _("the kind of ticket: “request” or “report”"),
    "servizio": _("the service or problem type"),
    "ufficio": _("the ticket's office"),
    "operatore": _("your name"),
    "data": _("today's date (dd/mm/yyyy)"),
}

#: ``{tipo}``: what a ticket of each kind is called in a sentence ("your … was
#: taken in charge"), lower case.
KIND_WORDS = {
    "request": pgettext_lazy("ticket kind, in a sentence", "request"),
    "report": pgettext_lazy("ticket kind, in a sentence", "report"),
}

PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")

#: How the reply text and the quick reply are joined when inserted without JavaScript.
PARAGRAPH = "\n\n"


def placeholder_values(ticket, user, *, today=None):
    """The placeholders' values for ``ticket`` answered by ``user``; a value
    the ticket does not have (an anonymous report has no citizen) is left out,
    so its placeholder stays visible for the operator to fill in."""
    today = today or timezone.localdate()
    values = {"codice": ticket.reference, "operatore": person_name(user),
              "data": today.strftime("%d/%m/%Y")}
    if ticket.kind in KIND_WORDS:
        # The replies are written in the site's language, whatever the
        # operator's admin language is.
        with translation.override(settings.LANGUAGE_CODE):
            values["tipo"] = str(KIND_WORDS[ticket.kind])
    citizen = ticket.citizen
    if citizen is not None and not getattr(citizen, "erased_at", None) and citizen.full_name:
        values["cittadino"] = citizen.full_name
    topic = ticket.service or ticket.report_category
    if topic is not None:
        values["servizio"] = topic.name
    if ticket.office is not None:
        values["ufficio"] = ticket.office.name
    return {key: value for key, value in values.items() if value}


def fill_placeholders(text, values):
    """``text`` with every ``{name}`` known to ``values`` replaced, in one pass
    (a value containing braces is not expanded again)."""
    def replace(match):
        value = values.get(match.group(1))
        return match.group(0) if value is None else str(value)

    return PLACEHOLDER_RE.sub(replace, text or "")


def render_reply(reply, ticket, user, *, today=None):
    """The text of ``reply`` for ``ticket``, as ``user`` would send it."""
    return fill_placeholders(reply.body, placeholder_values(ticket, user, today=today))


def unknown_placeholders(text):
    """The ``{names}`` in ``text`` that are not placeholders (typos, mostly)."""
    return sorted({m.group(1) for m in PLACEHOLDER_RE.finditer(text or "")} - set(PLACEHOLDERS))


def append_text(typed, addition):
    """What the operator typed followed by ``addition``, a blank line between
    them; nothing typed is dropped (only an all-blank box is replaced)."""
    typed = typed or ""
    if not typed.strip():
        return addition
    if typed.endswith(PARAGRAPH):
        return typed + addition
    return typed + ("\n" if typed.endswith("\n") else PARAGRAPH) + addition
