"""The chat's HTTP URLs. Include them in the site's urls.py::

    path("helpdesk/chat/", include("wagtail_helpdesk.conversations.urls")),
"""

from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.citizen_messages, name="wagtail_helpdesk_chat_messages"),
    path("<int:conversation_id>/messages/", views.operator_messages,
         name="wagtail_helpdesk_chat_operator_messages"),
]
