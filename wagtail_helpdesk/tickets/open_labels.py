"""The labels on open tickets, per office, from one index range.

The supervisors' dashboard counts how many open tickets carry each label.
Read through the tickets, that joins every label ever put on a ticket with
the scope's open tickets (at 1M tickets: 120,000 label rows against 26,000
open tickets, ~30 ms of hash join). So each label row keeps a copy of its
ticket's office while the ticket is open, null otherwise
(``TicketLabel.open_office``, a partial index on it and the label), and the
count reads only the label rows of the offices in scope.

The copy follows the ticket whatever the path: a ticket saved with its status
or office (``post_save``), labels added through the relation (``m2m_changed``)
or saved one by one (``pre_save``) update it. A save writes the label rows
only when the copy changes: a submission, a resolution, a reopening, a
transfer — not a reply. The ticket remembers what it loaded; a ticket created
in this process has no label rows (the services add labels to a ticket they
read again, locked, as they do for every change). Only ``bulk_create`` and a
queryset's ``update`` send no signal: :mod:`wagtail_helpdesk.services.labels`
sets the copy on the rows it creates, and code that changes tickets' status or
office in bulk calls :func:`sync` (none in the product).
``tests/scale/test_open_labels.py`` holds every row right after each workflow
step; the dashboard's tests compare these counts with the ones read through
the tickets.
"""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.signals import m2m_changed, post_save, pre_save

from ..workflow import OPEN_STATUSES

#: The ticket fields the copy depends on (as ``update_fields`` names them).
WATCHED = frozenset({"status", "office", "office_id"})
#: Where a ticket keeps what its label rows hold (:func:`remember`, from ``Ticket.from_db``).
KEPT = "_labels_copy"
#: A ticket created in this process: no label rows yet.
NO_ROWS = object()
_UNKNOWN = object()


def open_office_of(ticket):
    """The office a label on ``ticket`` is counted for (None: not counted here)."""
    return ticket.office_id if ticket.status in OPEN_STATUSES else None


def remember(ticket):
    """Note on ``ticket``, just loaded, what its label rows hold (when its
    status and office were loaded: not deferred)."""
    loaded = ticket.__dict__
    if "status" in loaded and "office_id" in loaded:
        loaded[KEPT] = open_office_of(ticket)


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
    kept = instance.__dict__
    if created:
        kept[KEPT] = NO_ROWS
        return
    if update_fields is not None and not WATCHED & set(update_fields):
        return
    copy = open_office_of(instance)
    known = kept.get(KEPT, _UNKNOWN)
    if known is NO_ROWS or (known is not _UNKNOWN and known == copy):
        return  # no label rows yet, or they hold this already
    from ..models import TicketLabel

    TicketLabel.objects.filter(ticket_id=instance.pk).update(open_office_id=copy)
    kept[KEPT] = copy


def _labels_added(sender, action, instance, reverse, pk_set, **kwargs):
    if action == "post_add" and pk_set:
        sync(pk_set if reverse else [instance.pk])
        if not reverse:
            instance.__dict__.pop(KEPT, None)  # rows now: the next save writes them


def _label_saved(sender, instance, raw=False, **kwargs):
    """A label row saved on its own (not the services' bulk_create): its copy
    from the ticket as it is in the database."""
    if raw or instance.pk is not None or instance.open_office_id is not None:
        return
    from ..models import Ticket

    ticket = Ticket.objects.only("status", "office_id").get(pk=instance.ticket_id)
    instance.open_office_id = open_office_of(ticket)


def connect():
    from ..models import Ticket, TicketLabel

    post_save.connect(_ticket_saved, sender=Ticket,
                      dispatch_uid="wagtail_helpdesk_open_labels_ticket")
    m2m_changed.connect(_labels_added, sender=Ticket.labels.through,
                        dispatch_uid="wagtail_helpdesk_open_labels_added")
    pre_save.connect(_label_saved, sender=TicketLabel,
                     dispatch_uid="wagtail_helpdesk_open_labels_label")
