"""Labels on tickets (etichette): add and remove them, one ticket or many, and
keep the vocabulary (create, change, delete a label).

A ticket is offered the global labels and those of its office
(:func:`wagtail_helpdesk.tickets.labels.offered_labels`). Whoever may change
the ticket may put an offered label on it, or take any of its labels off. A
name nobody has used yet becomes a new label of the ticket's office only
where the office's vocabulary is open (``Office.open_labels``); elsewhere the
operator picks one of the vocabulary.

Names are matched without regard to case, trimmed (inner spaces collapsed),
at most :data:`MAX_LENGTH` characters. Each change is one transaction and one
internal ``labels_changed`` event recording the names added and removed;
asking for what is already so changes nothing and records nothing.

A label change is bookkeeping, not work on the case: it touches only the
ticket's ``updated_at`` (the live list's pulse sees it), never its
``version`` (a colleague's reply or resolution, prepared on the version they
saw, still goes through) nor its ``last_activity_at`` (the list's "last
interaction" order does not move).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed, HelpdeskError
from ..models import EventKind, Label, LabelColour, TicketLabel, Visibility
from ..permissions import ticket_policy
from ..tickets import open_labels
from ..tickets.labels import can_manage, label_policy, offered_labels
from . import core
from .actors import SYSTEM, actor_user, is_operator

MAX_LENGTH = 40
FIELD = "label"


@dataclass(frozen=True)
class LabelChange:
    """What a call changed on one ticket (names, as recorded)."""

    added: tuple = ()
    removed: tuple = ()

    def __bool__(self):
        return bool(self.added or self.removed)


def clean_name(name):
    """``name`` trimmed, its inner spaces collapsed; a clear error when empty
    or too long."""
    name = " ".join(str(name or "").split())
    if not name:
        raise GuardFailed(_("Write the name of the label."),
                          {FIELD: _("This field is required.")})
    if len(name) > MAX_LENGTH:
        message = _("A label has at most %(max)d characters.") % {"max": MAX_LENGTH}
        raise GuardFailed(message, {FIELD: message})
    return name


def _authorise(actor, ticket):
    if actor is SYSTEM:
        return
    if not is_operator(actor):
        raise PermissionDenied(_("Only operators label tickets."))
    if not ticket_policy().user_has_permission_for_instance(actor, "change", ticket):
        raise PermissionDenied(_("You cannot work on the tickets of this office."))


def _find(offered, item):
    """The offered label ``item`` (a Label, an id or a name) names; None for a
    name the vocabulary lacks. The office's label wins over a global one of the
    same name."""
    if isinstance(item, Label):
        item = item.pk
    if isinstance(item, int):
        found = next((label for label in offered if label.pk == item), None)
        if found is None:
            raise GuardFailed(_("This label cannot be used on this ticket."),
                              {FIELD: _("Choose one of the labels offered.")})
        return found
    name = clean_name(item).lower()
    matches = [label for label in offered if label.name.lower() == name]
    matches.sort(key=lambda label: label.office_id is None)
    return matches[0] if matches else None


def _new_label(ticket, actor, name):
    office = ticket.office
    if office is None or not office.open_labels:
        message = _("“%(name)s” is not a label of this office: choose one of the labels "
                    "offered (a supervisor adds new ones).") % {"name": name}
        raise GuardFailed(message, {FIELD: message})
    try:
        with transaction.atomic():  # a concurrent twin: use it
            return Label.objects.create(name=name, office=office, created_by=actor_user(actor))
    except IntegrityError:
        return Label.objects.get(office=office, name__iexact=name)


def _on_ticket(current, item):
    if isinstance(item, Label):
        item = item.pk
    if isinstance(item, int):
        return next((label for label in current if label.pk == item), None)
    name = clean_name(item).lower()
    return next((label for label in current if label.name.lower() == name), None)


def change_labels(ticket, actor, *, add=(), remove=(), expected_version=None):
    """Put the labels ``add`` on ``ticket`` and take ``remove`` off (each a
    :class:`Label`, its id or its name). Returns the ticket, with
    ``label_change`` (:class:`LabelChange`): empty when nothing changed."""
    add, remove = list(add), list(remove)
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        _authorise(actor, t)
        current = list(t.labels.all())
        offered = list(offered_labels(t))
        on = {label.pk for label in current}
        added, removed = [], []
        for item in add:
            label = _find(offered, item)
            if label is None:
                label = _new_label(t, actor, clean_name(item))
                offered.append(label)
            if label.pk not in on:
                on.add(label.pk)
                added.append(label)
        for item in remove:
            label = _on_ticket(current, item)
            if label is not None and label.pk in on and label not in added:
                on.discard(label.pk)
                removed.append(label)
        change = LabelChange(tuple(label.name for label in added),
                             tuple(label.name for label in removed))
        if change:
            user = actor_user(actor)
            TicketLabel.objects.bulk_create([
                TicketLabel(ticket=t, label=label, added_by=user, added_at=now,
                            open_office_id=open_labels.open_office_of(t))
                for label in added])
            TicketLabel.objects.filter(ticket=t, label__in=removed).delete()
            t.updated_at = now  # no version bump, no last activity: see the module's text
            t.save(update_fields=["updated_at"])
            core.record(t, EventKind.LABELS_CHANGED, actor, now=now,
                        visibility=Visibility.INTERNAL,
                        data={"added": list(change.added), "removed": list(change.removed)})
    t.label_change = change
    return t


def add_labels(ticket, actor, labels, *, expected_version=None):
    return change_labels(ticket, actor, add=labels, expected_version=expected_version)


def remove_labels(ticket, actor, labels, *, expected_version=None):
    return change_labels(ticket, actor, remove=labels, expected_version=expected_version)


@dataclass
class BulkResult:
    changed: list
    unchanged: list
    failed: list  # (ticket, error)


def bulk_change_labels(tickets, actor, *, add=(), remove=()):
    """:func:`change_labels` on each of ``tickets``, one transaction each: a
    ticket refused (permission, a label its office does not offer) is listed
    in ``failed`` with the reason, the others change."""
    result = BulkResult([], [], [])
    for ticket in tickets:
        try:
            changed = change_labels(ticket, actor, add=add, remove=remove)
        except (HelpdeskError, PermissionDenied) as exc:
            result.failed.append((ticket, exc))
        else:
            (result.changed if changed.label_change else result.unchanged).append(changed)
    return result


# --- The vocabulary -------------------------------------------------------------------


def _may(user, action, label):
    """``user`` may ``action`` ``label``: the model permission, and the office
    the label is stored with as well as the one it is given (a supervisor
    cannot take another office's label over by moving it to theirs)."""
    policy = label_policy()
    refused = PermissionDenied(_("You cannot manage this label."))
    if not (policy.user_has_permission(user, action) and can_manage(user, label)):
        raise refused
    if label.pk is not None:
        stored = list(Label.objects.filter(pk=label.pk).values_list("office_id", flat=True))
        if stored and stored[0] != label.office_id and not can_manage(
                user, Label(office_id=stored[0])):
            raise refused


def _check_unique(label):
    twins = Label.objects.filter(name__iexact=label.name, office_id=label.office_id)
    if label.pk:
        twins = twins.exclude(pk=label.pk)
    if twins.exists():
        message = _("A label with this name already exists here.")
        raise GuardFailed(message, {"name": message})


def save_label(user, label, **fields):
    """Create ``label`` (unsaved) or change it with ``fields`` (name, colour,
    office, description), if ``user`` manages its office (or global labels)."""
    for name, value in fields.items():
        setattr(label, name, value)
    label.name = clean_name(label.name)
    if label.colour not in LabelColour.values:
        raise GuardFailed(_("Choose a colour of the palette."),
                          {"colour": _("Choose a colour of the palette.")})
    _may(user, "change" if label.pk else "add", label)
    _check_unique(label)
    if label.pk is None:
        label.created_by = user
    label.save()
    return label


def delete_label(user, label):
    """Delete ``label``: it goes from every ticket that carries it (no event on
    them: the vocabulary changed, not the tickets). Returns how many carried it."""
    _may(user, "delete", label)
    carried = TicketLabel.objects.filter(label=label).count()
    label.delete()
    return carried
