"""Labels, the read side: which labels a user sees, which a ticket is offered,
who manages which part of the vocabulary, the labels of many tickets at
once and their counts.

* A label is *global* (``office`` empty: offered on every office's tickets)
  or belongs to an office's vocabulary.
* A ticket is offered the global labels and those of its office.
* Everyone who works on tickets sees the global labels and those of their
  offices (every office's, for those who see every office).
* Supervisors (the ticket ``dashboard`` permission) manage the vocabulary of
  the offices they belong to; those who see every office (helpdesk
  administrators, superusers) manage every office's and the global labels.
  The model permissions (``add_label``…) are needed as well.

Changes to a ticket's labels go through :mod:`wagtail_helpdesk.services.labels`.
"""

from django.db.models import Count, Prefetch, Q

from ..models import Label, TicketLabel
from ..permissions import office_ids_for
from ..vocabulary_policy import (
    OfficeVocabularyPolicy,
    managed_office_ids,
    policy_for,
    sees_all,
    working,
)
from ..workflow import OPEN_STATUSES


def can_manage(user, label):
    """May ``user`` change or delete ``label`` (the model permission aside)?"""
    offices = managed_office_ids(user)
    if offices is None:
        return True
    return label.office_id is not None and label.office_id in offices


def visible_q(user):
    if sees_all(user):
        return Q()
    return Q(office__isnull=True) | Q(office_id__in=office_ids_for(user))


def visible_labels(user):
    """The labels ``user`` sees (filters, the vocabulary list), by name."""
    if not working(user):
        return Label.objects.none()
    return Label.objects.filter(visible_q(user)).select_related("office").order_by(
        "name", "office__name", "pk")


def offered_labels(ticket):
    """The labels that may be put on ``ticket``: global ones and its office's."""
    scope = Q(office__isnull=True)
    if ticket.office_id is not None:
        scope |= Q(office_id=ticket.office_id)
    return Label.objects.filter(scope).order_by("name", "pk")


def prefetch():
    """``Prefetch`` of each ticket's labels, by name (one query for a page)."""
    return Prefetch("labels", queryset=Label.objects.order_by("name", "pk"))


def labels_of(ticket):
    """``ticket``'s labels by name (prefetched ones when there)."""
    return sorted(ticket.labels.all(), key=lambda label: (label.name.lower(), label.pk))


def having_any(label_ids):
    """Filter for the tickets with any of the labels ``label_ids``: a subquery
    on the (label, ticket) index, no join and no DISTINCT."""
    return Q(pk__in=TicketLabel.objects.filter(label_id__in=label_ids).values("ticket_id"))


def open_counts(tickets):
    """``[{"id", "name", "colour", "hex", "office", "count"}]``: how many of
    ``tickets`` (a queryset) that are open carry each label, the most used
    first. One aggregate query."""
    return counted(TicketLabel.objects
                   .filter(ticket__in=tickets.filter(status__in=OPEN_STATUSES).values("pk"))
                   .values("label_id", "label__name", "label__colour", "label__office__name")
                   .annotate(count=Count("ticket_id"))
                   .order_by("-count", "label__name"))


def counted(rows):
    """Rows of label counts (``label_id``, ``label__name``, ``label__colour``,
    ``label__office__name``, ``count``) as the dashboard shows them."""
    return [{"id": row["label_id"], "name": row["label__name"],
             "colour": row["label__colour"],
             "hex": Label(colour=row["label__colour"]).hex,
             "office": row["label__office__name"], "count": row["count"]} for row in rows]


class LabelPermissionPolicy(OfficeVocabularyPolicy):
    """The model permissions plus the rules of this module."""

    def can_see(self, user, label):
        return sees_all(user) or label.office_id is None or (
            label.office_id in office_ids_for(user))

    def can_manage(self, user, label):
        return can_manage(user, label)

    def visible_q(self, user):
        return visible_q(user)

    def manageable_q(self, user):
        offices = managed_office_ids(user)
        return Q() if offices is None else Q(office_id__in=offices)


def label_policy():
    """The policy for labels (the one registered with Wagtail, if it is)."""
    return policy_for(Label, LabelPermissionPolicy)
