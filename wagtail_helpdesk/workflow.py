"""Ticket statuses, the actions operators and citizens take, and which action is
allowed in which status with which guard.

Pure: no database, no I/O. The services layer asks :func:`check` before every
change; the admin and the API ask :func:`allowed_actions` to show only what can
be done. The whole table is tested pair by pair.
"""

from datetime import timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import GuardFailed, TransitionNotAllowed


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    NEW = "new", _("Pending")
    IN_PROGRESS = "in_progress", _("Taken in charge")
    WAITING = "waiting", _("Waiting for the citizen")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING})


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    EDIT_DRAFT = "edit_draft", _("Edit draft")
    DELETE_DRAFT = "delete_draft", _("Delete draft")
    TAKE_CHARGE = "take_charge", _("Take charge")
    ASSIGN = "assign", _("Assign")
    TRANSFER = "transfer", _("Transfer to another office")
    REPLY = "reply", _("Reply to the citizen")
    CITIZEN_MESSAGE = "citizen_message", _("Message from the citizen")
    NOTE = "note", _("Private note")
    SET_PRIORITY = "set_priority", _("Set priority")
    MARK_WAITING = "mark_waiting", _("Wait for the citizen")
    RESOLVE = "resolve", _("Resolve")
    REOPEN = "reopen", _("Reactivate")
    ADD_ATTACHMENT = "add_attachment", _("Add attachment")


SAME = object()  # "the status does not change"

_WORKING = (Status.NEW, Status.IN_PROGRESS, Status.WAITING)

#: action → {status it may start from → status it leads to (or SAME)}
TRANSITIONS = {
    Action.SUBMIT: {Status.DRAFT: Status.NEW},
    Action.EDIT_DRAFT: {Status.DRAFT: SAME},
    Action.DELETE_DRAFT: {Status.DRAFT: SAME},
    Action.TAKE_CHARGE: {
        Status.NEW: Status.IN_PROGRESS,
        Status.IN_PROGRESS: SAME,
        Status.WAITING: SAME,
    },
    Action.ASSIGN: {
        Status.NEW: Status.IN_PROGRESS,
        Status.IN_PROGRESS: SAME,
        Status.WAITING: SAME,
    },
    # A transferred ticket goes back to the new office's queue, unassigned.
    Action.TRANSFER: dict.fromkeys(_WORKING, Status.NEW),
    # Replying to a pending ticket takes it in charge ("claim on response").
    Action.REPLY: {
        Status.NEW: Status.IN_PROGRESS,
        Status.IN_PROGRESS: SAME,
        Status.WAITING: SAME,
    },
    # The citizen answering brings a waiting ticket back to the operator, and a
    # resolved one within the reopen window back to work.
    Action.CITIZEN_MESSAGE: {
        Status.NEW: SAME,
        Status.IN_PROGRESS: SAME,
        Status.WAITING: Status.IN_PROGRESS,
        Status.RESOLVED: Status.IN_PROGRESS,
    },
    Action.NOTE: dict.fromkeys(Status, SAME),
    Action.SET_PRIORITY: dict.fromkeys((Status.DRAFT, *_WORKING), SAME),
    Action.MARK_WAITING: {Status.IN_PROGRESS: Status.WAITING},
    Action.RESOLVE: {Status.IN_PROGRESS: Status.RESOLVED, Status.WAITING: Status.RESOLVED},
    Action.REOPEN: {Status.RESOLVED: Status.IN_PROGRESS},
    Action.ADD_ATTACHMENT: dict.fromkeys((Status.DRAFT, *_WORKING), SAME),
}

#: Field labels used in "missing field" messages.
FIELD_LABELS = {
    "office": _("Office"),
    "service": _("Service"),
    "report_category": _("Problem type"),
    "subject": _("Subject"),
    "description": _("Description"),
    "citizen": _("Citizen"),
    "location": _("Place"),
    "resolution_type": _("Resolution type"),
    "resolution_text": _("Resolution"),
}


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def missing_fields(ticket):
    """Names of the mandatory fields the ticket still lacks, in form order.

    Requests need a service and a citizen; reports need a problem type, a title
    and a place (coordinates or an address) and may be anonymous.
    """
    missing = []
    if ticket.kind == "request":
        if _blank(ticket.service_id):
            missing.append("service")
    elif _blank(ticket.report_category_id):
        missing.append("report_category")
    if _blank(ticket.office_id):
        missing.append("office")
    if ticket.kind == "report" and _blank(ticket.subject):
        missing.append("subject")
    if _blank(ticket.description):
        missing.append("description")
    if ticket.kind == "request" and _blank(ticket.citizen_id):
        missing.append("citizen")
    if ticket.kind == "report":
        has_point = not (_blank(ticket.latitude) or _blank(ticket.longitude))
        if not has_point and _blank(ticket.address):
            missing.append("location")
    return missing


def _missing_errors(fields):
    return {name: _("This field is required.") for name in fields}


def _guard_complete(ticket, **context):
    missing = missing_fields(ticket)
    if missing:
        raise GuardFailed(
            _("Fill in the mandatory fields marked with an asterisk."),
            _missing_errors(missing),
        )


def _guard_resolve(ticket, **context):
    missing = missing_fields(ticket)
    if _blank(ticket.resolution_type_id):
        missing.append("resolution_type")
    if _blank(ticket.resolution_text):
        missing.append("resolution_text")
    if missing:
        raise GuardFailed(
            _(
                "A ticket is resolved only with a resolution type, a resolution text "
                "and every mandatory field filled in."
            ),
            _missing_errors(missing),
        )


def _guard_citizen_message(ticket, *, now=None, reopen_window_days=None, **context):
    if ticket.status != Status.RESOLVED:
        return
    window = timedelta(days=reopen_window_days or 0)
    if ticket.resolved_at is None or now is None or now - ticket.resolved_at > window:
        raise GuardFailed(
            _(
                "This ticket was closed more than %(days)d days ago and can no longer "
                "be reopened: please open a new request."
            )
            % {"days": reopen_window_days or 0}
        )


def _guard_assign(ticket, *, assignee_id=None, **context):
    if assignee_id is None:
        raise GuardFailed(
            _("Choose the operator to assign the ticket to."),
            {"assignee": _("This field is required.")},
        )
    if assignee_id == ticket.assignee_id:
        raise GuardFailed(_("The ticket is already assigned to this operator."))


def _guard_take_charge(ticket, *, actor_id=None, **context):
    if actor_id is not None and actor_id == ticket.assignee_id:
        raise GuardFailed(_("You have already taken charge of this ticket."))


def _guard_transfer(ticket, *, office_id=None, **context):
    if office_id is None:
        raise GuardFailed(
            _("Choose the office to transfer the ticket to."),
            {"office": _("This field is required.")},
        )
    if office_id == ticket.office_id:
        raise GuardFailed(
            _("The ticket already belongs to this office."),
            {"office": _("Choose a different office.")},
        )


GUARDS = {
    Action.SUBMIT: _guard_complete,
    Action.RESOLVE: _guard_resolve,
    Action.CITIZEN_MESSAGE: _guard_citizen_message,
    Action.ASSIGN: _guard_assign,
    Action.TAKE_CHARGE: _guard_take_charge,
    Action.TRANSFER: _guard_transfer,
}


def target_status(status, action):
    """The status ``action`` leads to from ``status``; raises if not allowed."""
    targets = TRANSITIONS[Action(action)]
    status = Status(status)
    if status not in targets:
        raise TransitionNotAllowed(
            _("“%(action)s” is not possible while the ticket is “%(status)s”.")
            % {"action": Action(action).label, "status": status.label}
        )
    target = targets[status]
    return status if target is SAME else target


def check(ticket, action, **context):
    """Check ``action`` on ``ticket`` (status first, then its guard).

    Returns the status the ticket will have afterwards. Raises
    :class:`TransitionNotAllowed` or :class:`GuardFailed`.
    """
    new_status = target_status(ticket.status, action)
    guard = GUARDS.get(Action(action))
    if guard is not None:
        guard(ticket, **context)
    return new_status


def allowed_actions(status):
    """The actions possible from ``status`` (guards not evaluated)."""
    status = Status(status)
    return {action for action, targets in TRANSITIONS.items() if status in targets}
