"""Quick replies: their placeholders and who may see, insert and change them.

Rules (the admin views, the reply box and the JSON endpoint all ask here):

* every helpdesk user with the quick-reply permissions manages their own
  *personal* replies, and nobody else sees them;
* supervisors (users with the ticket ``dashboard`` permission) also manage the
  *office-wide* replies of the offices they belong to;
* helpdesk administrators (who see every office's tickets) manage every
  office-wide reply;
* everyone sees — and inserts — their personal replies and the office-wide
  replies of their offices (in the reply box, also those of the ticket's office).

The placeholders ``{cittadino}``, ``{codice}``, ``{tipo}`` (the kind of ticket
as a word in the site's language: "richiesta" or "segnalazione"),
``{servizio}``, ``{ufficio}``, ``{operatore}`` and ``{data}`` are filled with
a regular expression, never ``str.format``: unknown names, values the ticket
does not have and stray braces are left as they are.
"""

import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.permission_policies.base import ModelPermissionPolicy

from .identity import person_name
from .permissions import office_ids_for, ticket_policy

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


# --- Who may do what ------------------------------------------------------------------


def _working(user):
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_administrator(user):
    return _working(user) and ticket_policy().sees_all_offices(user)


def is_supervisor(user):
    return _working(user) and ticket_policy().user_has_permission(user, "dashboard")


def managed_office_ids(user):
    """The offices whose replies ``user`` manages: ``None`` means every office."""
    if is_administrator(user):
        return None
    if is_supervisor(user):
        return office_ids_for(user)
    return frozenset()


def can_manage(user, reply):
    """May ``user`` change or delete ``reply``?"""
    if not _working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    offices = managed_office_ids(user)
    return offices is None or reply.office_id in offices


def can_see(user, reply):
    if not _working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    return reply.office_id in office_ids_for(user) or can_manage(user, reply)


def visible_q(user):
    """Filter for the replies ``user`` sees (lists the admin shows)."""
    query = Q(owner=user) | Q(office_id__in=office_ids_for(user))
    if is_administrator(user):
        query |= Q(office__isnull=False)
    return query


def manageable_q(user):
    query = Q(owner=user)
    offices = managed_office_ids(user)
    if offices is None:
        return query | Q(office__isnull=False)
    return query | Q(office_id__in=offices)


class QuickReplyPermissionPolicy(ModelPermissionPolicy):
    """The model permissions (given to the helpdesk groups) plus the rules above."""

    def user_has_permission(self, user, action):
        return _working(user) and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        return can_see(user, instance) if action == "view" else can_manage(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        qs = self.model._default_manager.all()
        actions = list(actions)
        if not self.user_has_any_permission(user, actions):
            return qs.none()
        if "view" in actions and self.user_has_permission(user, "view"):
            return qs.filter(visible_q(user))
        return qs.filter(manageable_q(user))

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])


_policy = None


def quick_reply_policy():
    """The policy for quick replies (the one registered with Wagtail, if it is)."""
    from wagtail.permissions import policy_registry

    from .models import QuickReply

    global _policy
    registered = policy_registry.get_by_type(QuickReply, fallback=False)
    if isinstance(registered, QuickReplyPermissionPolicy):
        return registered
    if _policy is None:
        _policy = QuickReplyPermissionPolicy(QuickReply)
    return _policy


def visible_replies(user):
    return quick_reply_policy().instances_user_has_any_permission_for(user, ["view"])


def insertable_replies(user, ticket):
    """The active replies ``user`` may insert in a reply on ``ticket`` (the
    caller has checked the ticket is theirs to see): their own, their offices'
    and the ticket's office's."""
    from .models import QuickReply

    if not quick_reply_policy().user_has_permission(user, "view"):
        return QuickReply.objects.none()
    offices = set(office_ids_for(user))
    if ticket.office_id is not None:
        offices.add(ticket.office_id)
    return QuickReply.objects.active().filter(Q(owner=user) | Q(office_id__in=offices))


#: How much of a reply's text the reply box's search list shows.
PREVIEW_LENGTH = 140


def reply_box_choices(user, ticket):
    """What the reply box offers (one query): ``(groups, data)`` — groups of
    replies (personal first, then by office) for the ``<select>``, and plain
    dicts for the script's searchable list."""
    replies = list(insertable_replies(user, ticket).select_related("office")
                   .only("pk", "title", "shortcut", "category", "body", "owner_id",
                         "office__name"))
    personal = sorted((r for r in replies if r.owner_id), key=lambda r: r.title.lower())
    by_office = {}
    for reply in replies:
        if reply.office_id:
            by_office.setdefault(reply.office.name, []).append(reply)
    groups = [(_("Personal"), personal)] if personal else []
    groups += [(name, sorted(items, key=lambda r: r.title.lower()))
               for name, items in sorted(by_office.items())]
    data = [
        {"id": reply.pk, "title": reply.title, "shortcut": reply.shortcut,
         "category": reply.category, "scope": str(label),
         "preview": " ".join(reply.body.split())[:PREVIEW_LENGTH]}
        for label, items in groups for reply in items
    ]
    return [{"label": label, "replies": items} for label, items in groups], data


# --- Ready-made office replies ----------------------------------------------------------


def default_office_replies():
    """A few office-wide replies in Italian (for the demo data and new installs):
    dicts with ``title``, ``shortcut``, ``category`` and ``body``."""
    return [
        {
            "title": "Presa in carico",
            "shortcut": "presa",
            "category": "Apertura",
            "body": (
                "Gentile {cittadino},\n"
                "la sua {tipo} {codice} relativa a «{servizio}» è stata presa in carico; "
                "se ne occupa: {ufficio}. La terremo aggiornata sull'avanzamento.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Richiesta di documenti",
            "shortcut": "documenti",
            "category": "Integrazioni",
            "body": (
                "Gentile {cittadino},\n"
                "per completare la pratica {codice} abbiamo bisogno di una copia di un "
                "documento d'identità valido. Può allegarla rispondendo a questo messaggio "
                "dalla sua area personale.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Orari di apertura",
            "shortcut": "orari",
            "category": "Informazioni",
            "body": (
                "Gentile {cittadino},\n"
                "riceviamo il pubblico ({ufficio}) dal lunedì al venerdì dalle 9:00 alle "
                "12:30 e il giovedì anche dalle 14:30 alle 17:00, su appuntamento.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Segnalazione inoltrata alla squadra",
            "shortcut": "sopralluogo",
            "category": "Segnalazioni",
            "body": (
                "Gentile {cittadino},\n"
                "grazie per la segnalazione {codice} ({servizio}). L'abbiamo inoltrata alla "
                "squadra tecnica, che effettuerà un sopralluogo nei prossimi giorni.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Non di competenza",
            "shortcut": "competenza",
            "category": "Chiusura",
            "body": (
                "Gentile {cittadino},\n"
                "la {tipo} {codice} non è di competenza del Comune. Le consigliamo di "
                "rivolgersi direttamente all'ente competente, che potrà aiutarla.\n\n"
                "Cordiali saluti,\n{operatore}"
            ),
        },
        {
            "title": "Chiusura della pratica",
            "shortcut": "chiusura",
            "category": "Chiusura",
            "body": (
                "Gentile {cittadino},\n"
                "in data {data} consideriamo conclusa la {tipo} {codice}. Se il problema "
                "dovesse ripresentarsi può rispondere a questo messaggio e la {tipo} "
                "verrà riaperta.\n\n"
                "Cordiali saluti,\n{operatore}\n{ufficio}"
            ),
        },
    ]
