"""Who is acting: an operator (a Django user), a citizen, or the system.

* a ``User``: operators, supervisors, administrators, API token owners; their
  rights come from the ticket permission policy;
* :class:`CitizenActor`: a citizen acting on their own tickets (web forms,
  personal area, signed links); ``user`` is set when logged in with SPID/CIE;
* :data:`SYSTEM`: background work (inbound e-mail, scheduled jobs);
* :class:`ClientActor`: an integration authenticated by its own key (an
  Open311 client). It files tickets, recorded as its own on their events,
  and does nothing else.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from ..permissions import ticket_policy
from ..workflow import Action, Status


@dataclass(frozen=True)
class CitizenActor:
    citizen: object
    user: object = None


@dataclass(frozen=True)
class ClientActor:
    kind: str  # "open311"
    client_id: int
    name: str

    def as_data(self):
        """What the timeline records of the client (on each event it causes)."""
        return {"kind": self.kind, "id": self.client_id, "name": self.name}


class _System:
    def __repr__(self):
        return "SYSTEM"


SYSTEM = _System()

#: What a citizen may do on their own ticket.
CITIZEN_ACTIONS = frozenset(
    {Action.SUBMIT, Action.EDIT_DRAFT, Action.DELETE_DRAFT, Action.CITIZEN_MESSAGE,
     Action.ADD_ATTACHMENT}
)
#: Only citizens (or the system relaying them, e.g. inbound e-mail) write citizen messages.
OPERATOR_FORBIDDEN = frozenset({Action.CITIZEN_MESSAGE})
#: Only a person can take a ticket in charge (it becomes theirs).
PERSON_ONLY = frozenset({Action.TAKE_CHARGE})


def actor_user(actor):
    """The Django user behind an actor, if any (for event and ticket records)."""
    if actor is SYSTEM or actor is None or isinstance(actor, ClientActor):
        return None
    if isinstance(actor, CitizenActor):
        return actor.user
    return actor


def is_operator(actor):
    return actor is not None and actor is not SYSTEM and not isinstance(
        actor, (CitizenActor, ClientActor))


def owns(actor, ticket):
    """Whether the citizen actor is the ticket's (saved) citizen."""
    pk = actor.citizen.pk
    return pk is not None and ticket.citizen_id == pk


def authorise(actor, action, ticket):
    """Raise PermissionDenied unless ``actor`` may take ``action`` on ``ticket``.

    Drafts belong to the side that opened them: a citizen's unsent draft to
    that citizen only, an operator's draft (e.g. a phone call being typed in)
    to the operators of its office.
    """
    if actor is None:
        raise PermissionDenied(_("An actor is required."))
    is_draft = ticket.status == Status.DRAFT
    if isinstance(actor, ClientActor):
        raise PermissionDenied(_("An integration can only file new tickets."))
    if actor is SYSTEM:
        if action in PERSON_ONLY:
            raise PermissionDenied(_("Only an operator can take charge of a ticket."))
        return
    if isinstance(actor, CitizenActor):
        if (action in CITIZEN_ACTIONS and owns(actor, ticket)
                and (not is_draft or ticket.opened_by_citizen)):
            return
        raise PermissionDenied(_("You can only act on your own requests."))
    if action in OPERATOR_FORBIDDEN:
        raise PermissionDenied(_("Only the citizen can write a citizen message."))
    if not ticket_policy().user_has_permission_for_instance(actor, "change", ticket):
        raise PermissionDenied(_("You cannot work on the tickets of this office."))
