"""Who may still download an export: its requester, while they may work on
tickets and still see every office whose tickets the file may hold.

The file is a copy of the list as its requester saw it; it must not outlive
their right to see it. A kept file holds only the tickets of the requester's
offices (and their own without an office): a ticket shared with them for a
consult is theirs to see while the consult lasts, not for a file kept a week
(:func:`kept_in_file`). The offices they saw are recorded when the export is
asked for and again when the file is made (:func:`scope_of`); the download
checks them against what the requester sees now (:func:`may_download`).
"""

from ..permissions import office_ids_for, office_scope, ticket_policy


def may_export(user):
    """May ``user`` export the ticket list (and see their exports)?"""
    return ticket_policy().user_has_any_permission(user, ["view", "change"])


def scope_of(user):
    """``{"all_offices": …, "office_ids": […]}``: what ``user`` sees now, to
    record on an export."""
    if ticket_policy().sees_all_offices(user):
        return {"all_offices": True, "office_ids": []}
    return {"all_offices": False, "office_ids": sorted(office_ids_for(user))}


def may_download(user, export):
    """Does ``user`` (the requester) still see everything ``export`` may hold?"""
    if export.requested_by_id != user.pk or not may_export(user):
        return False
    if ticket_policy().sees_all_offices(user):
        return True
    if export.all_offices:
        return False
    return set(export.office_ids or ()) <= office_ids_for(user)


def kept_in_file(queryset, user):
    """The tickets of ``queryset`` (the list as ``user`` sees it) that a file
    kept for them may hold: their offices' (every office's for those who see
    all) and their own without an office — not the ones shared with them for
    a consult. The same for those who may only view tickets."""
    if ticket_policy().sees_all_offices(user):
        return queryset
    return queryset.filter(office_scope(user, sorted(office_ids_for(user))))
