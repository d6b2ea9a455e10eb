"""The chat's HTTP URLs. Include them in the site's urls.py::

    path("helpdesk/chat/", include("wagtail_helpdesk.conversations.urls")),

The polling fallback (``messages/``) and the citizen's widget: its start,
and — with the conversation's token in the ``X-Helpdesk-Chat-Token``
header — status, sending, files, leaving, the turn into a request, the
transcript and the rating (:mod:`wagtail_helpdesk.citizen.chat`).
"""

from django.urls import path

from ..citizen import chat
from . import views

urlpatterns = [
    path("messages/", views.citizen_messages, name="wagtail_helpdesk_chat_messages"),
    path("<int:conversation_id>/messages/", views.operator_messages,
         name="wagtail_helpdesk_chat_operator_messages"),
    # The citizen's widget.
    path("availability/", chat.availability, name="wagtail_helpdesk_chat_availability"),
    path("start/", chat.start, name="wagtail_helpdesk_chat_start"),
    path("status/", chat.status, name="wagtail_helpdesk_chat_status"),
    path("send/", chat.send, name="wagtail_helpdesk_chat_send"),
    path("upload/", chat.upload, name="wagtail_helpdesk_chat_upload"),
    path("files/<int:attachment_id>/", chat.attachment, name="wagtail_helpdesk_chat_file"),
    path("to-ticket/", chat.to_ticket, name="wagtail_helpdesk_chat_to_ticket"),
    path("leave/", chat.leave, name="wagtail_helpdesk_chat_leave"),
    path("transcript.txt", chat.transcript_text, name="wagtail_helpdesk_chat_transcript_text"),
    path("transcript.pdf", chat.transcript_pdf, name="wagtail_helpdesk_chat_transcript_pdf"),
    path("transcript/email/", chat.transcript_email,
         name="wagtail_helpdesk_chat_transcript_email"),
    path("rate/", chat.rate, name="wagtail_helpdesk_chat_rate"),
]
