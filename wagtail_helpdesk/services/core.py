"""Shared steps of every ticket change: transaction, lock, save, record."""

from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from ..ai.tasks import on_event as _embedding_hook
from ..errors import StaleTicket
from ..models import EventKind, HelpdeskSettings, Ticket, TicketEvent, Visibility
from ..tickets.live import on_event as _live_hook
from .actors import CitizenActor, ClientActor, actor_user


@contextmanager
def atomic_change():
    """A transaction that also removes the files it wrote if it fails.

    Yields a list the body appends ``(storage, name)`` pairs to.
    """
    written = []
    try:
        with transaction.atomic():
            yield written
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise


def lock(ticket, expected_version=None):
    """Re-read ``ticket`` locked for update (inside a transaction).

    ``expected_version`` is the version the caller's user saw; a different
    current version means someone else changed the ticket in the meantime.
    """
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("citizen", "office", "assignee")
        .get(pk=ticket.pk)
    )
    if expected_version is not None and int(expected_version) != locked.version:
        raise StaleTicket()
    return locked


def save(ticket, fields, now):
    """Save the changed ``fields`` and the bookkeeping every change carries."""
    ticket.version += 1
    ticket.updated_at = now
    ticket.last_activity_at = now
    ticket.save(update_fields=[*fields, "version", "updated_at", "last_activity_at"])
    return ticket


def record(ticket, kind, actor, *, now, visibility=Visibility.INTERNAL, body="", data=None,
           by_citizen=None):
    """Append an event to the ticket's timeline.

    ``by_citizen`` defaults to whether the actor is a citizen; pass True when
    the system relays the citizen's own words (e.g. an e-mail reply). An
    integration's events say which client it was (``data["client"]``).
    """
    if isinstance(actor, ClientActor):
        data = {**(data or {}), "client": actor.as_data()}
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor_user(actor),
        by_citizen=isinstance(actor, CitizenActor) if by_citizen is None else by_citizen,
        visibility=visibility,
        body=body,
        data=data or {},
        created_at=now,
    )
    _embedding_hook(ticket, kind)  # the AI assist's vector, recomputed on commit
    _live_hook(ticket, kind, data)  # the live ticket list's signal, sent on commit
    return event


def write_resolution(ticket, actor, now, fields, resolution_type, *, data=None):
    """The end of every resolution (``ticket`` locked, its status, type and
    text set): the time, the first response if none yet, the public
    "resolved" event (returned) and the live chat closed with it."""
    from .chatbase import follow_ticket

    ticket.resolved_at = now
    fields = [*fields, "resolved_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    save(ticket, fields, now)
    event = record(ticket, EventKind.RESOLVED, actor, now=now, visibility=Visibility.PUBLIC,
                   body=ticket.resolution_text,
                   data={"resolution_type": resolution_type.pk,
                         "resolution_name": resolution_type.name, **(data or {})})
    follow_ticket(ticket, now, actor)
    return event


def helpdesk_settings(site=None):
    """The Helpdesk settings of ``site`` (default: the default site)."""
    from wagtail.models import Site

    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return HelpdeskSettings()
    return HelpdeskSettings.for_site(site)


def now():
    return timezone.now()
