"""The workflow actions a user may offer on a ticket now (the ticket page's
buttons, the API's ``actions``)."""

from ..permissions import is_consultant, office_ids_for, ticket_policy
from ..workflow import allowed_actions

#: The actions offered on a ticket, in the order they are offered (the admin
#: has a form for each, the API a URL).
OFFERED = ("take_charge", "assign", "transfer", "set_priority", "mark_waiting", "resolve",
           "reopen", "reply", "note")


def consulting(user, ticket):
    """Whether ``user`` sees ``ticket`` only because it is shared with them
    (one query, only for users outside the ticket's office)."""
    policy = ticket_policy()
    if policy.sees_all_offices(user) or (
            ticket.office_id is not None and ticket.office_id in office_ids_for(user)):
        return False
    return policy.user_has_permission(user, "view") and is_consultant(user, ticket)


def available_actions(ticket, user, *, can_change):
    """The slugs of the actions ``user`` may offer on ``ticket`` now: allowed by
    the workflow in its status and, ``can_change`` (whether the permission
    policy lets ``user`` change ``ticket``: the caller knows already), all of
    them; else private notes only, for a colleague it is shared with.

    Guards are the services' job; only the obvious refusal ("take charge" of a
    ticket that is already yours) is not offered.
    """
    allowed = allowed_actions(ticket.status)
    if not can_change:
        # A colleague the ticket is shared with for a consult: private notes only.
        return ["note"] if "note" in allowed and consulting(user, ticket) else []
    slugs = [slug for slug in OFFERED if slug in allowed]
    if ticket.assignee_id is not None and ticket.assignee_id == user.pk:
        slugs = [slug for slug in slugs if slug != "take_charge"]
    return slugs
