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

The policy's shape (model permissions, view = sees, the rest = manages, the
registered policy first) is :mod:`wagtail_helpdesk.vocabulary_policy`'s,
shared with labels.
"""

from django.db.models import Q

from ..permissions import office_ids_for
from ..vocabulary_policy import (
    OfficeVocabularyPolicy,
    managed_office_ids,
    policy_for,
    sees_all,
    working,
)


def can_manage(user, reply):
    """May ``user`` change or delete ``reply``?"""
    if not working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    offices = managed_office_ids(user)
    return offices is None or reply.office_id in offices


def can_see(user, reply):
    if not working(user):
        return False
    if reply.owner_id is not None:
        return reply.owner_id == user.pk
    return reply.office_id in office_ids_for(user) or can_manage(user, reply)


def visible_q(user):
    """Filter for the replies ``user`` sees (lists the admin shows)."""
    query = Q(owner=user) | Q(office_id__in=office_ids_for(user))
    if sees_all(user):  # helpdesk administrators
        query |= Q(office__isnull=False)
    return query


def manageable_q(user):
    query = Q(owner=user)
    offices = managed_office_ids(user)
    if offices is None:
        return query | Q(office__isnull=False)
    return query | Q(office_id__in=offices)


class QuickReplyPermissionPolicy(OfficeVocabularyPolicy):
    """The model permissions (given to the helpdesk groups) plus the rules above."""

    def can_see(self, user, reply):
        return can_see(user, reply)

    def can_manage(self, user, reply):
        return can_manage(user, reply)

    def visible_q(self, user):
        return visible_q(user)

    def manageable_q(self, user):
        return manageable_q(user)


def quick_reply_policy():
    """The policy for quick replies (the one registered with Wagtail, if it is)."""
    from ..models import QuickReply

    return policy_for(QuickReply, QuickReplyPermissionPolicy)


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
