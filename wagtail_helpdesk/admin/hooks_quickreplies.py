"""Wagtail hook registrations for the quickreplies screens (imported by wagtail_hooks)."""

from wagtail import hooks

from .quickreplies import quick_reply_viewset


@hooks.register("register_admin_viewset")
def register_quick_reply_viewset():
    return quick_reply_viewset
