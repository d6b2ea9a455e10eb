"""Template tags of the citizens' pages: Bootstrap Italia (opt-in copy),
the forms' scripts, and Bootstrap Italia form fields with their errors."""

from django import forms, template
from django.templatetags.static import static
from django.utils.html import format_html

from ..conf import get_setting

register = template.Library()

BOOTSTRAP_ITALIA = "wagtail_helpdesk/vendor/bootstrap-italia-2.18.3"


#: The face every citizen page uses first (body text), fetched early.
BODY_FONT = f"{BOOTSTRAP_ITALIA}/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2"


@register.simple_tag
def helpdesk_bootstrap_italia_css():
    """The app's pinned Bootstrap Italia stylesheet (for sites that do not load
    their own), with its web fonts (Titillium Web, Lora, Roboto Mono) from the
    app's static files: the bundle only declares them when a page calls its
    ``loadFonts()``, which nothing does, so the text fell back to system fonts.
    A stylesheet rather than that call: the fonts start with the CSS, not after
    the 1 MB script, and a manifest storage gives them hashed, cacheable names."""
    return format_html(
        '<link rel="preload" href="{}" as="font" type="font/woff2" crossorigin>'
        '<link rel="stylesheet" href="{}"><link rel="stylesheet" href="{}">',
        static(BODY_FONT),
        static("wagtail_helpdesk/citizen/fonts.css"),
        static(f"{BOOTSTRAP_ITALIA}/css/bootstrap-italia.min.css"),
    )


@register.simple_tag
def helpdesk_bootstrap_italia_js():
    """The pinned Bootstrap Italia bundle (its fonts come with the stylesheet)."""
    return format_html('<script src="{}"></script>',
                       static(f"{BOOTSTRAP_ITALIA}/js/bootstrap-italia.bundle.min.js"))


@register.simple_tag
def helpdesk_sprite(name):
    return f"{static(BOOTSTRAP_ITALIA + '/svg/sprites.svg')}#{name}"


@register.simple_tag
def helpdesk_bootstrap_italia_auto_css():
    """The stylesheet when ``WAGTAIL_HELPDESK_BOOTSTRAP_ITALIA`` is on, else nothing."""
    return helpdesk_bootstrap_italia_css() if get_setting("BOOTSTRAP_ITALIA") else ""


@register.simple_tag
def helpdesk_bootstrap_italia_auto_js():
    return helpdesk_bootstrap_italia_js() if get_setting("BOOTSTRAP_ITALIA") else ""


@register.simple_tag(takes_context=True)
def helpdesk_title_prefix(context):
    """For the page's ``<title>``: the step of the form journey on it, "Error"
    when the step has errors, or the confirmation ("Error - Step 2 of 3: … - ")."""
    from ..citizen.rendering import title_prefix

    return title_prefix(context.get("request"), context.get("page"))


@register.inclusion_tag("wagtail_helpdesk/citizen/field.html")
def helpdesk_field(field, readonly_text=None):
    """One field in Bootstrap Italia markup: label (with the required mark),
    input described by its hint and error, error message."""
    widget = field.field.widget
    describedby = []
    if field.help_text:
        describedby.append(f"{field.auto_id}-hint")
    if field.errors:
        describedby.append(f"{field.auto_id}-error")
    attrs = {}
    if describedby:
        attrs["aria-describedby"] = " ".join(describedby)
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
    kind = ("checkbox" if isinstance(widget, forms.CheckboxInput) else
            "select" if isinstance(widget, forms.Select) else
            "file" if isinstance(widget, forms.ClearableFileInput) else
            "textarea" if isinstance(widget, forms.Textarea) else "input")
    return {"field": field, "widget_html": field.as_widget(attrs=attrs), "kind": kind,
            "required": field.field.required and not field.field.disabled}


@register.inclusion_tag("wagtail_helpdesk/citizen/chat/widget.html", takes_context=True)
def helpdesk_chat(context, inactivity=None):
    """The live chat's launcher on any page (e.g. in the site's base
    template): every topic, the privacy notice of Settings → Helpdesk;
    ``inactivity``: minutes before the inactivity warning."""
    from django.middleware.csrf import get_token

    from ..blocks.chat import chat_context

    request = context.get("request")
    return {"chat": chat_context({}, context, dom_id="helpdesk-chat", inactivity=inactivity),
            "request": request,
            "csrf_token": context.get("csrf_token") or (get_token(request) if request else "")}


@register.filter
def helpdesk_chat_transcript(event):
    """The transcript of the conversation a timeline event names (the
    "transcript by e-mail" message), in the active language."""
    from ..conversations.transcript import as_text
    from ..models import Conversation

    pk = (getattr(event, "data", None) or {}).get("conversation")
    conversation = (Conversation.objects.select_related("ticket", "citizen")
                    .filter(pk=pk).first() if pk else None)
    return as_text(conversation) if conversation is not None else ""
