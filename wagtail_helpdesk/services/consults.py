"""Consults (consulenze): sharing a ticket with a colleague of another office
for advice, and ending it.

The operators of the ticket's office share it; the consultant may then read
the ticket (its internal notes and files too: it was shared for advice) and
write private notes on it — nothing else: no reply to the citizen, no status
change, no file for the citizen (every other action needs ``change``, which a
consult does not give). The office's operators end a consult, and so does
the consultant ("Termina la consulenza"); it ends at once. Each step is one
transaction recorded in the timeline as an internal event naming who and whom.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed
from ..formats import person_name
from ..models import EventKind, OfficeMembership, TicketConsult
from ..permissions import forget_offices, is_consultant, ticket_policy
from ..workflow import Action, Status
from . import core, notify
from .actors import actor_user, authorise, is_operator


def candidates(ticket):
    """The colleagues ``ticket`` may be shared with: active operators (of some
    office, with the helpdesk's "view" permission) who cannot see it yet."""
    policy = ticket_policy()
    already = policy.users_with_any_permission_for_instance(["view"], ticket)
    return (policy.users_with_any_permission(["view"])
            .filter(is_active=True, pk__in=OfficeMembership.objects.values("user_id"))
            .exclude(pk__in=already.values("pk")))


def authorise_note(actor, ticket):
    """Who may write a private note: whoever works on the ticket's office
    (:func:`~.actors.authorise`), and a colleague it is shared with."""
    try:
        authorise(actor, Action.NOTE, ticket)
    except PermissionDenied:
        if not (is_operator(actor) and ticket_policy().user_has_permission(actor, "view")
                and is_consultant(actor, ticket)):
            raise


def _refuse(message, field="consultant"):
    return GuardFailed(message, {field: message})


def grant(ticket, actor, consultant, *, message="", expected_version=None):
    """Share ``ticket`` with ``consultant`` for a consult; they are notified."""
    message = (message or "").strip()
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        if not is_operator(actor):
            raise PermissionDenied(_("Only an operator can share a ticket for a consult."))
        authorise(actor, Action.NOTE, t)  # an operator of the ticket's office
        if t.status == Status.DRAFT:
            raise GuardFailed(_("Send the draft first: a draft cannot be shared for a consult."))
        name = person_name(consultant)
        policy = ticket_policy()
        forget_offices(consultant)
        if not (consultant.is_active and policy.user_has_permission(consultant, "view")):
            raise _refuse(_("%(name)s does not use the helpdesk.") % {"name": name})
        if policy.user_has_permission_for_instance(consultant, "view", t):
            raise _refuse(_("%(name)s can already see this ticket.") % {"name": name})
        TicketConsult.objects.create(ticket=t, consultant=consultant,
                                     granted_by=actor_user(actor), granted_at=now)
        core.save(t, [], now)
        event = core.record(t, EventKind.CONSULT_GRANTED, actor, now=now, body=message,
                            data={"consultant": consultant.pk})
        notify.operator(t, event, "consult", consultant)
    return t


def end(ticket, actor, consultant, *, expected_version=None):
    """End the consult of ``consultant`` on ``ticket``: by an operator of the
    ticket's office (revoked) or by the consultant themselves (ended)."""
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        if not is_operator(actor):
            raise PermissionDenied(_("Only an operator can end a consult."))
        by_consultant = actor_user(actor) == consultant
        if not by_consultant:
            authorise(actor, Action.NOTE, t)  # an operator of the ticket's office
        deleted, _rows = TicketConsult.objects.filter(ticket=t, consultant=consultant).delete()
        if not deleted:
            if by_consultant:  # says nothing the consultant could not see before
                raise PermissionDenied(_("This ticket is not shared with you."))
            raise _refuse(_("%(name)s is not consulting on this ticket.")
                          % {"name": person_name(consultant)})
        core.save(t, [], now)
        core.record(t, EventKind.CONSULT_REVOKED, actor, now=now,
                    data={"consultant": consultant.pk, "by_consultant": by_consultant})
    return t
