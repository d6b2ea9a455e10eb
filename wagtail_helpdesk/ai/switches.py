"""The administrator's switches of the AI assist (``AssistSettings``)."""

FEATURES = ("similar", "summary", "suggestions", "readability", "generative")


def assist_settings():
    """The AI assist settings of the default site (one query).

    Unsaved defaults when the site has none yet: every feature on but the
    generative backend.
    """
    from ..models import AssistSettings

    found = (AssistSettings.objects.filter(site__is_default_site=True)
             .order_by("pk").first())
    return found if found is not None else AssistSettings()


#: Where :func:`for_request` keeps the settings it read on the request.
_REQUEST_ATTRIBUTE = "_wagtail_helpdesk_assist_settings"


def for_request(request):
    """:func:`assist_settings`, read once per request (the ticket page's
    panels all ask)."""
    found = getattr(request, _REQUEST_ATTRIBUTE, None)
    if found is None:
        found = assist_settings()
        setattr(request, _REQUEST_ATTRIBUTE, found)
    return found


def enabled(feature, settings=None):
    """Whether ``feature`` (one of :data:`FEATURES`) is switched on.

    ``settings``: an :func:`assist_settings` already read, to save the query.
    """
    if feature not in FEATURES:
        raise ValueError(f"Unknown AI assist feature: {feature}")
    settings = assist_settings() if settings is None else settings
    return bool(getattr(settings, f"{feature}_enabled"))
