"""The chat's admin URLs, under ``/admin/helpdesk/chat/`` (namespace
``wagtail_helpdesk_chat``), registered in ``wagtail_hooks.py``."""

from . import board, workspace

app_name = "wagtail_helpdesk_chat"

urlpatterns = [*workspace.urlpatterns, *board.urlpatterns]
