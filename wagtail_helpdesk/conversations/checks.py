"""System checks of the live chat's transport (registered by the app's ready()).

Channels itself is a dependency of the package; channels-redis comes with the
``redis`` extra (``pip install 'wagtail-helpdesk[redis]'``).
"""

import importlib.util

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from ..conf import get_setting

IN_MEMORY = "channels.layers.InMemoryChannelLayer"


def _backend():
    return (getattr(settings, "CHANNEL_LAYERS", None) or {}).get("default", {}).get("BACKEND")


@register(Tags.compatibility)
def check_chat_transport(app_configs, **kwargs):
    """A channel layer configured, and its package installed."""
    if not get_setting("CHAT_ENABLED"):
        return []
    backend = _backend()
    if not backend:
        return [Warning(
            "The live chat is on but CHANNEL_LAYERS has no 'default' layer: messages reach the "
            "other side only when it polls.",
            hint="Set CHANNEL_LAYERS (channels_redis.pubsub.RedisPubSubChannelLayer in "
                 "production, channels.layers.InMemoryChannelLayer for one process).",
            id="wagtail_helpdesk.W030",
        )]
    if backend.startswith("channels_redis.") and importlib.util.find_spec("channels_redis") is None:
        return [Error(
            f"CHANNEL_LAYERS uses {backend} but channels-redis is not installed.",
            hint="pip install 'wagtail-helpdesk[redis]', or choose another layer.",
            id="wagtail_helpdesk.E030",
        )]
    return []


@register(Tags.compatibility, deploy=True)
def check_chat_layer_shared(app_configs, **kwargs):
    """``check --deploy``: more than one process needs a shared (Redis) layer."""
    if not get_setting("CHAT_ENABLED"):
        return []
    if _backend() == IN_MEMORY and not settings.DEBUG:
        return [Warning(
            "The live chat uses the in-memory channel layer: it works only when one ASGI "
            "process serves the whole site. A WSGI site beside an ASGI process, or more than "
            "one process, needs Redis.",
            hint="Set CHANNEL_LAYERS to channels_redis.pubsub.RedisPubSubChannelLayer with "
                 "your Redis URL (pip install 'wagtail-helpdesk[redis]').",
            id="wagtail_helpdesk.W031",
        )]
    return []
