"""The AI assist on the ticket page: the summary of a long ticket, the
suggested replies and the readability of the reply being written; and the
endpoint that has the optional language model rewrite the summary or a
suggestion.

Everything is computed on this server. Each feature follows the
administrator's switch (``AssistSettings``); with every one off the page
shows nothing of the assist.
"""

import json
import logging

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from .. import throttle
from ..ai import generative, switches
from ..ai.masking import ticket_masker
from ..ai.readability import bands_config
from ..ai.suggest import QUICK_REPLY, suggestions
from ..ai.summary import conversation_summary, ticket_summary
from ..conf import get_setting
from ..formats import person_name
from ..permissions import ticket_policy
from ..tickets.queries import visible_ticket_or_404

logger = logging.getLogger(__name__)

#: The reply form's fields the script works with (``auto_id`` "id_reply_%s").
REPLY_TEXTAREA = "id_reply_body"
REPLY_ASSISTED = "id_reply_assisted"
#: The suggested replies' fragment (fetched by the ticket page).
SUGGESTIONS_URL = "helpdesk_tickets:assist_suggestions"
#: The longest text the rewrite endpoint takes (characters).
MAX_REWRITE_CHARS = 6000


def _may_reply(user, ticket):
    return ticket.is_open and ticket_policy().user_has_permission_for_instance(
        user, "change", ticket)


def assist_panel(request, ticket, events, *, can_reply=None, replies=None, settings=None,
                 defer_suggestions=False):
    """What the ticket page shows of the assist, or None when nothing.

    ``events``: the page's timeline (entries or events, oldest first);
    ``can_reply``: whether the page offers the reply form (None: worked out
    here); ``replies``: the quick replies the reply box already loaded;
    ``settings``: the assist settings already read (else read once per
    request). With ``defer_suggestions`` the suggested replies (and the
    readability meter, which lives in the same block) are not computed: the
    panel carries ``suggestions_url``, the fragment the page fetches once it
    has rendered (:func:`suggestions_fragment`). No query but the settings'
    when deferred; else the suggestions' own, none per event.
    """
    settings = settings if settings is not None else switches.for_request(request)
    user = request.user
    if can_reply is None:
        can_reply = _may_reply(user, ticket)
    generative_on = generative.configured(settings) is not None
    panel = {"summary": None, "suggestions": None, "readability": None,
             "suggestions_url": None,
             "generative": generative_on and can_reply,
             "rewrite_url": reverse("helpdesk_tickets:assist_rewrite", args=[ticket.pk]),
             "textarea_id": REPLY_TEXTAREA, "assisted_id": REPLY_ASSISTED}
    if switches.enabled("summary", settings):
        summary = ticket_summary(ticket, events)
        if summary.long:
            panel["summary"] = summary
            panel["summary_text"] = summary.text
    if can_reply and defer_suggestions and switches.enabled("suggestions", settings):
        panel["suggestions_url"] = reverse(SUGGESTIONS_URL, args=[ticket.pk])
    else:
        _add_suggestions(panel, request, ticket, events, can_reply=can_reply, replies=replies,
                         settings=settings)
    if not (panel["summary"] or panel["suggestions"] is not None or panel["readability"]
            or panel["suggestions_url"]):
        return None
    panel["source_labels"] = {QUICK_REPLY: _("Quick reply"), "ticket": _("Similar ticket")}
    return panel


def _add_suggestions(panel, request, ticket, events, *, can_reply, replies, settings):
    """Put the suggested replies and the readability bands in ``panel``."""
    if can_reply and switches.enabled("suggestions", settings):
        found = suggestions(ticket, request.user, events=events, replies=replies)
        panel["suggestions"] = found
        panel["suggestion_data"] = [
            {"source": s.source, "ref": s.ref, "title": s.title, "text": s.text,
             "assisted": s.assisted} for s in found]
    if can_reply and switches.enabled("readability", settings):
        panel["readability"] = bands_config()


@require_safe
def suggestions_fragment(request, pk):
    """The suggested replies' block of the ticket page (HTML, no page
    around it), fetched by the page once it has rendered. Whoever may see
    the page may fetch it (the same lookup); empty when the page would not
    offer suggestions (no reply possible, switched off)."""
    from ..tickets.actions import available_actions
    from .tickets.detail import PAGE_RELATED

    ticket = visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)
    may_change = ticket_policy().user_has_permission_for_instance(request.user, "change", ticket)
    can_reply = "reply" in available_actions(ticket, request.user, can_change=may_change)
    settings = switches.for_request(request)
    panel = {"summary": None, "suggestions": None, "readability": None,
             "suggestions_url": None,
             "generative": can_reply and generative.configured(settings) is not None,
             "rewrite_url": reverse("helpdesk_tickets:assist_rewrite", args=[ticket.pk]),
             "textarea_id": REPLY_TEXTAREA, "assisted_id": REPLY_ASSISTED,
             "source_labels": {QUICK_REPLY: _("Quick reply"), "ticket": _("Similar ticket")}}
    _add_suggestions(panel, request, ticket, None, can_reply=can_reply, replies=None,
                     settings=settings)
    response = render(request, "wagtail_helpdesk/admin/ai/suggestions.html",
                      {"assist": panel, "ticket": ticket})
    response["Cache-Control"] = "private, no-store"
    return response


def chat_assist(conversation, messages, *, settings=None):
    """The summary of a long live chat for the operator workspace (the same
    template as the ticket's: ``admin/ai/summary_panel.html`` with this as
    ``assist``), or None. No rewrite there. ``settings``: the assist
    settings already read (else one query). Reads the conversation's
    citizen, office and operator."""
    if not switches.enabled("summary", settings):
        return None
    summary = conversation_summary(conversation, messages)
    if not summary.long:
        return None
    return {"summary": summary, "summary_text": summary.text, "generative": False,
            "rewrite_url": "", "summary_id": f"chat-summary-{conversation.pk}"}


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


@require_POST
def assist_rewrite(request, pk):
    """JSON: the summary (``{"purpose": "summary"}``) or a reply text
    (``{"purpose": "reply", "text": …}``) rewritten by the language model,
    personal data masked on the way out. For the operators who may change
    the ticket; 404 when the model is off."""
    from .tickets.detail import PAGE_RELATED

    ticket = visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)
    if not ticket_policy().user_has_permission_for_instance(request.user, "change", ticket):
        # JSON, not Wagtail's redirect to the dashboard.
        return _error(_("You cannot work on the tickets of this office."), 403)
    settings = generative.configured()
    if settings is None:
        return _error(_("The language model is switched off."), 404)
    if not throttle.allow("ai_rewrite", request.user.pk, get_setting("AI_REWRITES_PER_HOUR")):
        response = _error(_("Too many rewrites in the last hour: try again later."), 429)
        response["Retry-After"] = str(throttle.retry_after(throttle.WINDOW))
        return response
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = request.POST
    purpose = data.get("purpose")
    events = list(ticket.events.select_related("actor").order_by("created_at", "pk"))
    operators = {person_name(e.actor) for e in events if e.actor_id and e.actor}
    operators |= {person_name(request.user)}
    if purpose == "summary":
        text = ticket_summary(ticket, events).text
    elif purpose == "reply":
        text = str(data.get("text") or "")
        if not text.strip() or len(text) > MAX_REWRITE_CHARS:
            return _error(_("Nothing to rewrite."), 400)
    else:
        return _error(_("Nothing to rewrite."), 400)
    result = generative.rewrite(text, purpose=purpose, settings=settings,
                                masker=ticket_masker(ticket, extra_names=operators,
                                                    guess_names=True))
    response = JsonResponse({
        "text": result.text, "rewritten": result.rewritten,
        "message": (_("Rewritten by the language model: check it before using it.")
                    if result.rewritten else
                    _("The language model could not rewrite it: the text is unchanged.")),
    })
    response["Cache-Control"] = "private, no-store"
    return response


def assist_urls():
    """The assist's URLs, mounted by the tickets' viewset (namespace
    ``helpdesk_tickets``)."""
    return [path("<int:pk>/assist/rewrite/", assist_rewrite, name="assist_rewrite"),
            path("<int:pk>/assist/suggestions/", suggestions_fragment,
                 name=SUGGESTIONS_URL.partition(":")[2])]
