"""Wagtail hook registrations for the quickreplies screens (imported by wagtail_hooks)."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy

from ..models import QuickReply
from ..quickreplies import quick_reply_policy
from .quickreplies import quick_reply_viewset

# Before the viewset registers its permissions, so it finds this policy.
register_permission_policy(QuickReply, quick_reply_policy(), exact_class=True)


@hooks.register("register_admin_viewset")
def register_quick_reply_viewset():
    return quick_reply_viewset
