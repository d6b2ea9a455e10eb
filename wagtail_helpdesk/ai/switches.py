"""The administrator's switches of the AI assist (``AssistSettings``)."""

from dataclasses import dataclass

FEATURES = ("similar", "summary", "suggestions", "readability", "generative")


@dataclass(frozen=True)
class Switches:
    """What the pages need to know of the settings (:func:`for_request`):
    the features switched on and whether a language model is configured —
    not its key, kept out of the cache (the rewrite reads the settings
    themselves)."""

    similar_enabled: bool
    summary_enabled: bool
    suggestions_enabled: bool
    readability_enabled: bool
    generative_enabled: bool
    generative_url: str
    generative_model: str

    @classmethod
    def of(cls, settings):
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})


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
    """The :class:`Switches` of :func:`assist_settings`, read once per request
    (the ticket page's panels all ask) from the cache (no query; changing the
    settings, or which site is the default, shows at once with a shared
    cache: :mod:`wagtail_helpdesk.choices_cache`)."""
    from .. import choices_cache

    found = getattr(request, _REQUEST_ATTRIBUTE, None)
    if found is None:
        found = choices_cache.cached("assist_switches", lambda: Switches.of(assist_settings()))
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
