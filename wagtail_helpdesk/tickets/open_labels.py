"""The labels on open tickets, per office, from one index range.

The supervisors' dashboard counts how many open tickets carry each label.
Read through the tickets, that joins every label ever put on a ticket with
the scope's open tickets (at 1M tickets: 120,000 label rows against 26,000
open tickets, ~30 ms of hash join). So each label row keeps a copy of its
ticket's office while the ticket is open, null otherwise
(``TicketLabel.open_office``, a partial index on it and the label), and the
count reads only the label rows of the offices in scope.

The copy follows the ticket whatever the path: a ticket saved with its status
or office (``post_save``) and labels added through the relation
(``m2m_changed``) update it. Only ``bulk_create`` and a queryset's
``update`` send no signal: :mod:`wagtail_helpdesk.services.labels` sets the
copy on the rows it creates, and code that changes tickets' status or office
in bulk calls :func:`sync`. The dashboard's tests compare these counts with
the ones read through the tickets.
"""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.signals import m2m_changed, post_save

from ..workflow import OPEN_STATUSES

#: The ticket fields the copy depends on (as ``update_fields`` names them).
WATCHED = frozenset({"status", "office", "office_id"})


def open_office_of(ticket):
    """The office a label on ``ticket`` is counted for (None: not counted here)."""
    return ticket.office_id if ticket.status in OPEN_STATUSES else None


def sync(ticket_ids):
    """Set the copy on every label of the tickets ``ticket_ids`` from the
    tickets as they are in the database (one UPDATE)."""
    from ..models import Ticket, TicketLabel

    TicketLabel.objects.filter(ticket_id__in=list(ticket_ids)).update(open_office=Subquery(
        Ticket.objects.filter(pk=OuterRef("ticket_id"), status__in=OPEN_STATUSES)
        .values("office_id")[:1]))


def counts(offices):
    """``[{label_id, label__name, label__colour, label__office__name, count}]``:
    the labels on the open tickets of ``offices`` (ids; None: every office's,
    not the tickets without an office). One query on the partial index."""
    from ..models import TicketLabel

    rows = TicketLabel.objects.filter(open_office__isnull=False)
    if offices is not None:
        rows = rows.filter(open_office_id__in=sorted(offices))
    return (rows.values("label_id", "label__name", "label__colour", "label__office__name")
            .annotate(count=Count("*")).order_by())


def _ticket_saved(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and not WATCHED & set(update_fields)):
        return  # a new ticket has no labels yet
    from ..models import TicketLabel

    TicketLabel.objects.filter(ticket_id=instance.pk).update(
        open_office_id=open_office_of(instance))


def _labels_added(sender, action, instance, reverse, pk_set, **kwargs):
    if action == "post_add" and pk_set:
        sync(pk_set if reverse else [instance.pk])


def connect():
    from ..models import Ticket

    post_save.connect(_ticket_saved, sender=Ticket,
                      dispatch_uid="wagtail_helpdesk_open_labels_ticket")
    m2m_changed.connect(_labels_added, sender=Ticket.labels.through,
                        dispatch_uid="wagtail_helpdesk_open_labels_added")
