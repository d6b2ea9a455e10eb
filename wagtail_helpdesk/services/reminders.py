"""What the scheduled jobs change on tickets: deadline reminders to the
assignee, and the automatic resolution of tickets left waiting for the
citizen. Each runs on one ticket, locked, and is safe to repeat."""

from django.utils import translation
from django.utils.translation import gettext

from ..conf import get_setting
from ..models import EventKind, TicketEvent
from ..workflow import Status
from . import core, notify
from .actions import resolve
from .actors import SYSTEM

#: Waiting for the citizen, the ball is in their court: no reminder then.
WARNED_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS})


def warn_sla(ticket, now=None):
    """Remind the assignee of the ticket's deadline, once per deadline and
    assignee (a colleague who takes the ticket over is warned too); not while
    the ticket waits for the citizen. Returns the event, or None when there
    was nothing to do."""
    now = now or core.now()
    with core.atomic_change():
        t = core.lock(ticket)
        if t.status not in WARNED_STATUSES or t.assignee is None or t.due_at is None:
            return None
        due = t.due_at.isoformat()
        if TicketEvent.objects.filter(ticket=t, kind=EventKind.SLA_WARNING,
                                      data__due_at=due, data__to=t.assignee_id).exists():
            return None
        event = core.record(t, EventKind.SLA_WARNING, SYSTEM, now=now,
                            data={"due_at": due, "to": t.assignee_id})
        notify.operator(t, event, "sla_warning", t.assignee)
    return event


def auto_resolve(ticket, resolution_type, days):
    """Resolve a ticket left waiting for the citizen (the citizen is told,
    with the rating link, as for any resolution)."""
    language = (ticket.citizen.language if ticket.citizen_id else "") or \
        get_setting("DEFAULT_LANGUAGE")
    with translation.override(language):  # the citizen reads it
        text = gettext("Closed automatically: no answer from the citizen within %(days)d "
                       "days. Reply to reopen it.") % {"days": days}
    return resolve(ticket, SYSTEM, resolution_type, text)
