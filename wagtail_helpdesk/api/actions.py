"""The workflow actions on one ticket, each through the services layer as
the admin's buttons are: the same rules, the same timeline, the same
notifications. Every action answers with the ticket as it is now."""

from django.utils.translation import gettext as _
from ninja import Router

from .. import services
from ..models import Office, ResolutionType
from ..tickets.queries import assignable_users, visible_ticket_or_404
from . import serialise
from .schemas import (
    AssignIn,
    Expected,
    LabelsIn,
    PriorityIn,
    ReopenIn,
    ResolveIn,
    TextIn,
    TicketOut,
    TransferIn,
    WaitingIn,
)
from .tickets import one, read

router = Router(tags=["actions"])


def _act(request, ticket, action, data, *args, **kwargs):
    """``action`` (a services-layer function) on ``ticket`` by the caller, with the
    version they saw; the ticket as it is now."""
    done = action(ticket, request.user, *args, expected_version=data.expected_version, **kwargs)
    return serialise.ticket(request, read(done.pk))


@router.post("/{ticket_id}/take-charge/", response=TicketOut, summary="Take charge")
def take_charge(request, ticket_id: int, data: Expected | None = None):
    data = data or Expected()
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.take_charge, data)


@router.post("/{ticket_id}/assign/", response=TicketOut, summary="Assign to an operator")
def assign(request, ticket_id: int, data: AssignIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    # Only the people who may be assigned this ticket: naming anyone else says
    # nothing about them (not even that they exist).
    assignee = one(assignable_users(ticket.office_id), data.assignee, "assignee",
                   _("No operator of this ticket's office with this id."))
    return _act(request, ticket, services.assign, data, assignee)


@router.post("/{ticket_id}/transfer/", response=TicketOut,
             summary="Transfer to another office")
def transfer(request, ticket_id: int, data: TransferIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    office = one(Office.objects.all(), data.office, "office", _("No office with this id."))
    return _act(request, ticket, services.transfer, data, office, note=data.note)


@router.post("/{ticket_id}/reply/", response=TicketOut, summary="Reply to the citizen",
             description="Public: the citizen is notified. To send files with it, upload "
                         "them first as public attachments.")
def reply(request, ticket_id: int, data: TextIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.reply, data, data.body)


@router.post("/{ticket_id}/note/", response=TicketOut, summary="Add a private note",
             description="Operators only; @username notifies a colleague.")
def note(request, ticket_id: int, data: TextIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.add_note, data, data.body)


@router.post("/{ticket_id}/priority/", response=TicketOut, summary="Set the priority")
def priority(request, ticket_id: int, data: PriorityIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.set_priority, data, data.priority)


@router.post("/{ticket_id}/waiting/", response=TicketOut,
             summary="Wait for the citizen")
def waiting(request, ticket_id: int, data: WaitingIn | None = None):
    data = data or WaitingIn()
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.mark_waiting, data, message=data.message)


@router.post("/{ticket_id}/resolve/", response=TicketOut, summary="Resolve")
def resolve(request, ticket_id: int, data: ResolveIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    kind = one(ResolutionType.objects.filter(active=True), data.resolution_type,
                "resolution_type", _("No active resolution type with this id."))
    return _act(request, ticket, services.resolve, data, kind, data.resolution_text)


@router.post("/{ticket_id}/labels/", response=TicketOut, summary="Add or remove labels",
             description="Labels to put on the ticket and to take off, in one change (one "
                         "timeline event), by id (a number) or name (a string). What is "
                         "already so changes nothing.")
def change_labels(request, ticket_id: int, data: LabelsIn):
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    # Numbers are ids, strings names (an all-digit string too): as the service takes them.
    return _act(request, ticket, services.change_labels, data, add=data.add, remove=data.remove)


@router.post("/{ticket_id}/reopen/", response=TicketOut, summary="Reactivate")
def reopen(request, ticket_id: int, data: ReopenIn | None = None):
    data = data or ReopenIn()
    ticket = visible_ticket_or_404(request.user, ticket_id, related=serialise.TICKET_RELATED)
    return _act(request, ticket, services.reopen, data, reason=data.reason)
