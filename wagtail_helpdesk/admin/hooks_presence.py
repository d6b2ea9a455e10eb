"""Wagtail hook registrations for operators' presence (imported by wagtail_hooks)."""

from django.contrib.auth.signals import user_logged_in
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks

from .presence import HEARTBEAT_URL_NAME, URL_NAME


@hooks.register("register_admin_urls")
def register_presence_urls():
    from .presence import choose_presence, heartbeat

    return [
        path("helpdesk/presence/", choose_presence, name=URL_NAME),
        path("helpdesk/presence/heartbeat/", heartbeat, name=HEARTBEAT_URL_NAME),
    ]


@hooks.register("insert_global_admin_css")
def presence_css():
    return format_html('<link rel="stylesheet" href="{}">',
                       static("wagtail_helpdesk/admin/presence.css"))


@hooks.register("insert_global_admin_js")
def presence_heartbeat_js():
    from ..presence import HEARTBEAT_EVERY

    return format_html(
        '<script defer src="{}" data-helpdesk-heartbeat="{}" data-every="{}"></script>',
        static("wagtail_helpdesk/admin/presence.js"), reverse(HEARTBEAT_URL_NAME),
        HEARTBEAT_EVERY * 1000,
    )


def _seen_at_login(sender, request, user, **kwargs):
    from .. import presence
    from ..permissions import ticket_policy

    if ticket_policy().user_has_permission(user, "change"):
        presence.touch(user)


user_logged_in.connect(_seen_at_login, dispatch_uid="wagtail_helpdesk_presence_login")
