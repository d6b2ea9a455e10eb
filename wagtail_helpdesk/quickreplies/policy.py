"""Quick replies: who may see, insert and change them.

Rules (the admin views, the reply box and the JSON endpoint all ask here):

* every helpdesk user with the quick-reply permissions manages their own
  *personal* replies, and nobody else sees them;
* supervisors (users with the ticket ``dashboard`` permission) also manage the
  *office-wide* replies of the offices they belong to;
* helpdesk administrators (who see every office's tickets) manage every
  office-wide reply;
* everyone sees — and inserts — their personal replies and the office-wide
  replies of their offices (in the reply box, also those of the ticket's office).
"""

from django.db.models import Q
from wagtail.permission_policies.base import ModelPermissionPolicy

from ..permissions import office_ids_for, ticket_policy


def _working(user):
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_administrator(user):
    return _working(user) and ticket_policy().sees_all_offices(user)


def is_supervisor(user):
    return _working(user) and ticket_policy().user_has_permission(user, "dashboard")


def managed_office_ids(user):
    """The offices whose replies ``user`` manages: ``None`` means every office."""
    if is_administrator(user):
        return None
    if is_supervisor(user):
        return office_ids_for(user)
    return frozenset()


def can_manage(user, reply):
    """May ``user`` change or delete ``reply``?"""
    if not _working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    offices = managed_office_ids(user)
    return offices is None or reply.office_id in offices


def can_see(user, reply):
    if not _working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    return reply.office_id in office_ids_for(user) or can_manage(user, reply)


def visible_q(user):
    """Filter for the replies ``user`` sees (lists the admin shows)."""
    query = Q(owner=user) | Q(office_id__in=office_ids_for(user))
    if is_administrator(user):
        query |= Q(office__isnull=False)
    return query


def manageable_q(user):
    query = Q(owner=user)
    offices = managed_office_ids(user)
    if offices is None:
        return query | Q(office__isnull=False)
    return query | Q(office_id__in=offices)


class QuickReplyPermissionPolicy(ModelPermissionPolicy):
    """The model permissions (given to the helpdesk groups) plus the rules above."""

    def user_has_permission(self, user, action):
        return _working(user) and super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        return can_see(user, instance) if action == "view" else can_manage(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        qs = self.model._default_manager.all()
        actions = list(actions)
        if not self.user_has_any_permission(user, actions):
            return qs.none()
        if "view" in actions and self.user_has_permission(user, "view"):
            return qs.filter(visible_q(user))
        return qs.filter(manageable_q(user))

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])


_policy = None


def quick_reply_policy():
    """The policy for quick replies (the one registered with Wagtail, if it is)."""
    from wagtail.permissions import policy_registry

    from ..models import QuickReply

    global _policy
    registered = policy_registry.get_by_type(QuickReply, fallback=False)
    if isinstance(registered, QuickReplyPermissionPolicy):
        return registered
    if _policy is None:
        _policy = QuickReplyPermissionPolicy(QuickReply)
    return _policy


def visible_replies(user):
    return quick_reply_policy().instances_user_has_any_permission_for(user, ["view"])


def insertable_replies(user, ticket):
    """The active replies ``user`` may insert in a reply on ``ticket`` (the
    caller has checked the ticket is theirs to see): their own, their offices'
    and the ticket's office's."""
    from ..models import QuickReply

    if not quick_reply_policy().user_has_permission(user, "view"):
        return QuickReply.objects.none()
    offices = set(office_ids_for(user))
    if ticket.office_id is not None:
        offices.add(ticket.office_id)
    return QuickReply.objects.active().filter(Q(owner=user) | Q(office_id__in=offices))
