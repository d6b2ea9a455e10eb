"""The live chat's launcher, as a StreamField block (``ChatLauncherBlock``)
and as a template tag (``{% helpdesk_chat %}``, for a site's base template).

Both render ``wagtail_helpdesk/citizen/chat/widget.html`` with
:func:`chat_context`: the topics offered, the citizen's verified identity
(logged in with SPID/CIE) or the fields of a declared one, the privacy
notice, the endpoints and the inactivity timeout.
Rendering reads; it writes nothing (the page is only marked not cacheable,
as pages holding a form are: it carries a CSRF token).
"""

import json

from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from ..conf import get_setting
from .fields import CatalogueChoiceBlock

#: Minutes without the citizen's activity before the widget warns them
#: (a block's "inactivity_minutes", or the template tag's ``inactivity``).
INACTIVITY_MINUTES = 10
#: Seconds the warning waits for "Continue" before the conversation is left.
INACTIVITY_GRACE_SECONDS = 120

#: The endpoints the widget calls (names in :mod:`..conversations.urls`).
URL_NAMES = {
    "start": "wagtail_helpdesk_chat_start",
    "availability": "wagtail_helpdesk_chat_availability",
    "status": "wagtail_helpdesk_chat_status",
    "messages": "wagtail_helpdesk_chat_messages",
    "send": "wagtail_helpdesk_chat_send",
    "upload": "wagtail_helpdesk_chat_upload",
    "to_ticket": "wagtail_helpdesk_chat_to_ticket",
    "leave": "wagtail_helpdesk_chat_leave",
    "transcript_txt": "wagtail_helpdesk_chat_transcript_text",
    "transcript_pdf": "wagtail_helpdesk_chat_transcript_pdf",
    "transcript_email": "wagtail_helpdesk_chat_transcript_email",
    "rate": "wagtail_helpdesk_chat_rate",
}


class ChatLauncherBlock(blocks.StructBlock):
    """"Chatta con un operatore": a launcher opening the live chat."""

    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=120,
                               help_text=_("Empty: “Chat with the municipality”."))
    intro = blocks.TextBlock(label=_("Introduction"), required=False)
    service_categories = CatalogueChoiceBlock(
        "wagtail_helpdesk.ServiceCategory", label=_("Service categories offered"),
        help_text=_("None ticked: every category."))
    services = CatalogueChoiceBlock(
        "wagtail_helpdesk.Service", label=_("Services offered"),
        help_text=_("None ticked: every service of the categories offered."))
    privacy_page = blocks.PageChooserBlock(
        label=_("Privacy notice page"), required=False,
        help_text=_("Empty: the page set in Settings → Helpdesk."))
    inactivity_minutes = blocks.IntegerBlock(
        label=_("Inactivity warning after (minutes)"), default=INACTIVITY_MINUTES,
        min_value=2, max_value=60,
        help_text=_("Without the citizen's activity for this long, the chat asks whether "
                    "they are still there; without an answer it ends (or, still waiting, "
                    "becomes a request)."))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["chat"] = chat_context(value, context, dom_id=f"helpdesk-chat-"
                                       f"{str(context.get('id') or 'preview')[:8]}")
        return context

    class Meta:
        label = _("Live chat")
        icon = "comment"
        template = "wagtail_helpdesk/citizen/chat/widget.html"


def _urls():
    try:
        urls = {key: reverse(name) for key, name in URL_NAMES.items()}
        # The files' address with a placeholder id the script replaces.
        urls["file"] = reverse("wagtail_helpdesk_chat_file", args=[0])
        return urls
    except NoReverseMatch:
        return None


def _groups(services):
    grouped = {}
    for service in services:
        grouped.setdefault(service.category.name, []).append(service)
    return list(grouped.items())


def chat_context(value, context, *, dom_id="helpdesk-chat", inactivity=None):
    """What the widget needs; ``{"enabled": False}`` when it cannot be shown.
    A fixed number of queries, however many topics and offices (the page may
    carry it everywhere): who is available is asked by the widget, for the
    topic chosen."""
    from ..citizen.chatforms import ChatStartForm, chat_services
    from ..citizen.rendering import FORM_RENDERED, _login_url, privacy_notice
    from ..services.submissions import verified_citizen

    value = value or {}
    request = context.get("request")
    page = context.get("page")
    urls = _urls()
    if not get_setting("CHAT_ENABLED") or urls is None:
        return {"enabled": False}
    privacy = privacy_notice(value, request, page)
    if privacy["privacy_missing"]:
        return {"enabled": False, **privacy}
    services = chat_services(value)
    if not services:
        return {"enabled": False}
    user = getattr(request, "user", None)
    verified = verified_citizen(user)
    form = ChatStartForm(services=services, verified=verified, auto_id=f"{dom_id}-%s")
    if request is not None:
        setattr(request, FORM_RENDERED, True)  # a CSRF token: not cacheable
        get_token(request)
    minutes = int(inactivity or value.get("inactivity_minutes") or INACTIVITY_MINUTES)
    return {
        "enabled": True,
        "dom_id": dom_id,
        "form": form,
        "groups": _groups(services),
        "offices_json": json.dumps({s.pk: s.office_id for s in services}),
        "verified": verified,
        "login_url": "" if verified else (_login_url(request, page) if request else ""),
        "urls": urls,
        "urls_json": json.dumps(urls),
        "ws_path": "/ws/helpdesk/chat/",
        "inactivity_seconds": minutes * 60,
        "grace_seconds": INACTIVITY_GRACE_SECONDS,
        "max_chars": get_setting("CHAT_MESSAGE_MAX_CHARS"),
        **privacy,
    }
