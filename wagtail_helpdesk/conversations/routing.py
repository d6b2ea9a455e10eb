"""WebSocket URLs of the live chat (the host's ASGI application routes them:
:func:`wagtail_helpdesk.conversations.asgi.application`)."""

from django.urls import path

from .consumers import CitizenConsumer, OperatorConsumer

websocket_urlpatterns = [
    path("ws/helpdesk/chat/", CitizenConsumer.as_asgi(), name="wagtail_helpdesk_chat_ws"),
    path("ws/helpdesk/operator/", OperatorConsumer.as_asgi(),
         name="wagtail_helpdesk_chat_operator_ws"),
]
