"""Exceptions raised by the workflow and the services layer.

Views and API handlers turn them into messages: every one carries a translated,
human-readable ``message`` and, where a field is to blame, ``field_errors``
(field name → message) so a form can show the error next to the field.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

__all__ = [
    "GuardFailed",
    "HelpdeskError",
    "PermissionDenied",
    "StaleTicket",
    "TransitionNotAllowed",
]


class HelpdeskError(Exception):
    default_message = _("The operation could not be completed.")

    def __init__(self, message=None, field_errors=None):
        self.message = message or self.default_message
        self.field_errors = dict(field_errors or {})
        super().__init__(str(self.message))


class TransitionNotAllowed(HelpdeskError):
    """The action is not possible in the ticket's current status."""


class GuardFailed(HelpdeskError):
    """The action is possible in this status, but a precondition is not met."""


class StaleTicket(HelpdeskError):
    """The caller worked on an outdated version of the ticket."""

    default_message = _(
        "Someone else changed this ticket in the meantime. Reload it and check "
        "before trying again: nothing was saved."
    )
