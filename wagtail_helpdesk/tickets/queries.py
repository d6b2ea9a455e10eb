"""Which tickets a user may see or act on, and who can be assigned one: the
permission policy's (:mod:`wagtail_helpdesk.permissions`) answers, in one place.

Every read of "the tickets visible to this user" goes through
:func:`visible_tickets`; each caller joins in what it shows.
"""

from django.shortcuts import get_object_or_404

from ..permissions import ticket_policy


def visible_tickets(user, action="view", *, as_lists=False):
    """The tickets ``user`` may do ``action`` on (``"view"``, ``"change"``,
    ``"dashboard"``…): their offices' tickets, every office's for those who
    see all, their own drafts without an office and, for ``"view"``, the tickets
    shared with them for a consult. Never a citizen's unsent draft.

    One query, with no joins: callers add the ``select_related`` they need.
    ``as_lists`` (lists at scale: the admin ticket list): the user's offices
    and consults are read first (one query) so that the scope is lists of
    ids every index can serve, rather than subqueries."""
    return ticket_policy().instances_user_has_any_permission_for(user, [action],
                                                                 as_lists=as_lists)


def visible_ticket_or_404(user, pk, action="view", *, related=()):
    """The ticket ``pk`` among :func:`visible_tickets` (``user``, ``action``),
    with ``related`` joined in; else ``Http404`` (whether it exists or not)."""
    tickets = visible_tickets(user, action)
    if related:
        tickets = tickets.select_related(*related)
    return get_object_or_404(tickets, pk=pk)


def assignable_users(*offices):
    """Who can be assigned a ticket of ``offices`` (offices or their ids): the
    active users with the ``change`` permission who belong to one of them or
    see every office (superusers, helpdesk administrators) — those
    :func:`~wagtail_helpdesk.services.assign` accepts. By name.

    The one answer for the ticket page's choice, the bulk action's (tickets of
    several offices: the people of any of them; the service refuses the others
    ticket by ticket) and the API's check."""
    office_ids = {getattr(office, "pk", office) for office in offices} - {None}
    return (ticket_policy().users_with_any_permission_for_offices(["change"], office_ids)
            .filter(is_active=True).order_by("first_name", "last_name", "username"))
