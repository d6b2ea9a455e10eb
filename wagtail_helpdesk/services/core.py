"""Shared steps of every ticket change: transaction, lock, save, record."""

from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from ..errors import StaleTicket
from ..models import HelpdeskSettings, Ticket, TicketEvent, Visibility
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
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor_user(actor),
        by_citizen=isinstance(actor, CitizenActor) if by_citizen is None else by_citizen,
        visibility=visibility,
        body=body,
        data=data or {},
        created_at=now,
    )


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
