"""Build the host's ASGI application: Django for HTTP, the chat's consumers
for WebSockets (behind the allowed-hosts origin check and the session's
user). In the host's ``asgi.py``, after ``DJANGO_SETTINGS_MODULE`` is set::

    from django.core.asgi import get_asgi_application

    django_app = get_asgi_application()  # first: it sets Django up

    from wagtail_helpdesk.conversations.asgi import application

    application = application(django_app)
"""


def application(http=None, *, websocket_urlpatterns=()):
    """A ``ProtocolTypeRouter``: ``http`` (default: Django's own ASGI
    application) and the chat's WebSocket URLs, plus the host's own."""
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator

    if http is None:
        from django.core.asgi import get_asgi_application

        http = get_asgi_application()
    from .routing import websocket_urlpatterns as chat

    return ProtocolTypeRouter({
        "http": http,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([*chat, *websocket_urlpatterns]))),
    })
