"""Duplicates: an operator links a ticket to the one it repeats (its primary);
the primary's resolution then resolves it too, and its citizen is told like
any other reporter.

The rules, decided here once:

* **Same kind, and a request only with its own person.** Reports of the same
  problem come from many people; a request is personal (one person's
  certificate, one person's permit), so it duplicates only a request of the
  same citizen or the same declared contact (sent twice, by web and e-mail).
* **Open duplicate, open primary.** A resolved ticket's citizen was already
  told; a resolved primary has nothing left to resolve its duplicates with:
  resolve the duplicate itself instead.
* **No chains.** Linking to a duplicate links to its primary. A ticket that
  has duplicates of its own brings them along: they move to the new primary
  (each timeline says so), so one resolution still reaches everyone.
* **Permission.** An operator who may change both tickets links them; one who
  may change the duplicate unlinks it. The link is the authorisation for the
  resolution together: whoever resolves the primary resolves its open
  duplicates, in whatever office they are now.
* **Resolution together.** :func:`resolve_linked` (called by
  :func:`~wagtail_helpdesk.services.actions.resolve` inside its transaction)
  resolves every *open* duplicate with the primary's resolution type and text,
  each through the same steps as a resolution of its own (workflow check,
  ``resolved`` event, a live chat closed, the citizen's usual "resolved"
  notification); a duplicate nobody had taken in charge is taken in charge by
  the resolver first, as the workflow requires. The resolution text therefore
  reaches every reporter: the ticket page says so above the form.
* **Reopening.** Reopening the primary leaves its resolved duplicates resolved
  (their citizens may write back within the reopen window, which reopens
  theirs) and linked: when the primary is resolved again, only the duplicates
  open by then are resolved with it.

Locks: every function locks the tickets it changes in ascending primary key
order, in one statement, so two of them never wait for each other in a cycle.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import workflow
from ..errors import GuardFailed, StaleTicket
from ..models import EventKind, Kind, Ticket, Visibility
from ..workflow import OPEN_STATUSES, Action, Status
from . import core, notify
from .actors import SYSTEM, authorise, is_operator

__all__ = ["link_duplicate", "lock_linked", "resolve_linked", "unlink_duplicate"]


def _lock_many(pks):
    """Lock the tickets ``pks`` in ascending order (one statement) → {pk: ticket}."""
    rows = (Ticket.objects.select_for_update(of=("self",))
            .select_related("citizen", "office", "assignee")
            .filter(pk__in=set(pks)).order_by("pk"))
    return {t.pk: t for t in rows}


def _check_version(ticket, expected_version):
    if expected_version is not None and int(expected_version) != ticket.version:
        raise StaleTicket()


def _authorise(actor, ticket):
    """Operators (and the system) link and unlink; citizens never do."""
    if actor is not SYSTEM and not is_operator(actor):
        raise PermissionDenied(_("Only an operator can link duplicates."))
    authorise(actor, Action.NOTE, ticket)  # an operator's "change" on the ticket


def same_person(a, b):
    """Whether two tickets share their citizen or declared contact."""
    people = {a.citizen_id, a.declared_contact_id} - {None}
    return bool(people & ({b.citizen_id, b.declared_contact_id} - {None}))


def _guard_link(ticket, primary):
    if ticket.pk == primary.pk:
        raise GuardFailed(_("A ticket cannot be a duplicate of itself."))
    if ticket.kind != primary.kind:
        raise GuardFailed(_("A report can only duplicate a report, and a request a request."))
    if ticket.kind == Kind.REQUEST and not same_person(ticket, primary):
        raise GuardFailed(_("A request can only duplicate a request of the same citizen."))
    if ticket.status not in OPEN_STATUSES:
        raise GuardFailed(_("Only an open ticket can be linked as a duplicate."))
    if primary.status not in OPEN_STATUSES:
        raise GuardFailed(
            _("%(reference)s is not open: resolve this ticket on its own instead.")
            % {"reference": primary.reference})
    if ticket.duplicate_of_id == primary.pk:
        raise GuardFailed(_("This ticket is already linked as a duplicate of %(reference)s.")
                          % {"reference": primary.reference})
    if ticket.duplicate_of_id is not None:
        raise GuardFailed(_("This ticket is already linked as a duplicate of another ticket: "
                            "unlink it first."))


def _ref(ticket):
    return {"id": ticket.pk, "reference": ticket.reference}


def _record(ticket, kind, actor, now, role, other, **extra):
    """A link event on ``ticket``: its ``role`` and the ``other`` ticket."""
    return core.record(ticket, kind, actor, now=now, visibility=Visibility.INTERNAL,
                       data={"role": role, "other": other.pk, "reference": other.reference,
                             **extra})


def link_duplicate(ticket, actor, primary, *, expected_version=None):
    """Collega come duplicato: ``ticket`` duplicates ``primary`` (or, when
    ``primary`` is itself a duplicate, its primary). ``ticket``'s own
    duplicates move to the primary with it. Returns ``ticket``, changed.

    ``expected_version``: the version of ``ticket`` the operator saw."""
    now = core.now()
    with core.atomic_change():
        target = Ticket.objects.only("pk", "duplicate_of_id", "short_code").get(pk=primary.pk)
        root = target.duplicate_of_id or target.pk
        if root == ticket.pk and target.pk != ticket.pk:
            raise GuardFailed(_("%(reference)s is already linked as a duplicate of this ticket.")
                              % {"reference": target.reference})
        moving = list(Ticket.objects.filter(duplicate_of_id=ticket.pk)
                      .values_list("pk", flat=True))
        locked = _lock_many([ticket.pk, root, *moving])
        # Linked to the ticket while we waited for the locks: the ticket is
        # held now, so no more can come; they move along too.
        late = set(Ticket.objects.filter(duplicate_of_id=ticket.pk).values_list(
            "pk", flat=True)) - set(locked)
        if late:
            locked.update(_lock_many(late))
            moving += sorted(late)
        t, p = locked[ticket.pk], locked[root]
        _check_version(t, expected_version)
        if p.duplicate_of_id is not None:  # became a duplicate meanwhile
            raise GuardFailed(_("%(reference)s was linked to another ticket meanwhile: "
                                "reload the page and try again.")
                              % {"reference": p.reference})
        _authorise(actor, t)
        _authorise(actor, p)
        _guard_link(t, p)
        moved = [locked[pk] for pk in moving if locked[pk].duplicate_of_id == t.pk]
        t.duplicate_of = p
        core.save(t, ["duplicate_of"], now)
        _record(t, EventKind.DUPLICATE_LINKED, actor, now, "duplicate", p)
        for d in moved:
            d.duplicate_of = p
            core.save(d, ["duplicate_of"], now)
            _record(d, EventKind.DUPLICATE_LINKED, actor, now, "duplicate", p,
                    moved_from=_ref(t))
        core.save(p, [], now)
        _record(p, EventKind.DUPLICATE_LINKED, actor, now, "primary", t,
                brought=[_ref(d) for d in moved])
    return t


def unlink_duplicate(ticket, actor, *, expected_version=None):
    """Scollega: ``ticket`` is no longer a duplicate (of any status but a
    draft); both timelines say so. Whoever may change the duplicate or its
    primary may unlink it. Returns ``ticket``, changed."""
    now = core.now()
    with core.atomic_change():
        current = Ticket.objects.only("pk", "duplicate_of_id").get(pk=ticket.pk)
        if current.duplicate_of_id is None:
            raise GuardFailed(_("This ticket is not linked as a duplicate."))
        locked = _lock_many([ticket.pk, current.duplicate_of_id])
        t = locked[ticket.pk]
        _check_version(t, expected_version)
        p = locked.get(t.duplicate_of_id)
        if p is None:  # unlinked (or linked elsewhere) meanwhile
            raise StaleTicket()
        try:
            _authorise(actor, t)
        except PermissionDenied:
            # The primary's operators may let go of a duplicate they cannot
            # work on (one that would keep their resolution from going through).
            _authorise(actor, p)
        t.duplicate_of = None
        core.save(t, ["duplicate_of"], now)
        _record(t, EventKind.DUPLICATE_UNLINKED, actor, now, "duplicate", p)
        core.save(p, [], now)
        _record(p, EventKind.DUPLICATE_UNLINKED, actor, now, "primary", t)
    return t


def lock_linked(ticket):
    """Lock ``ticket`` and its open duplicates, in ascending order, in one
    statement: what :func:`~wagtail_helpdesk.services.actions.resolve` does
    first, so that it never holds the primary while waiting for a duplicate
    another change holds before the primary.

    A duplicate linked while this statement waited for the primary is not
    among them (the statement's snapshot is older): :func:`resolve_linked`
    reads them again, once the primary is held and no link can change."""
    list(Ticket.objects.select_for_update(of=("self",))
         .filter(Q(pk=ticket.pk) | Q(duplicate_of_id=ticket.pk, status__in=OPEN_STATUSES))
         .order_by("pk").values_list("pk", flat=True))


def resolve_linked(primary, actor, now, resolution_type, resolution_text):
    """Resolve the open duplicates of ``primary`` (locked, just resolved) with
    its resolution, each as if resolved on its own, and tell each citizen.
    Returns the duplicates resolved."""
    duplicates = list(
        Ticket.objects.select_for_update(of=("self",))
        .select_related("citizen", "office", "assignee")
        .filter(duplicate_of_id=primary.pk, status__in=OPEN_STATUSES).order_by("pk"))
    together = {"primary": _ref(primary)}
    _check_shareable(primary, duplicates, resolution_text)
    told = _people(primary)  # who already receives the primary's "resolved"
    for d in duplicates:
        fields = ["status", "resolution_type", "resolution_text"]
        if d.status == Status.NEW:  # nobody had it yet: the resolver takes it in charge
            d.status = workflow.check(d, Action.TAKE_CHARGE)
            if is_operator(actor):
                d.assignee = actor
                fields.append("assignee")
                core.record(d, EventKind.TAKEN_CHARGE, actor, now=now,
                            visibility=Visibility.PUBLIC, data=together)
        d.resolution_type = resolution_type
        d.resolution_text = resolution_text
        try:
            d.status = workflow.check(d, Action.RESOLVE)
        except GuardFailed as exc:  # e.g. a mandatory field emptied since: say which ticket
            raise GuardFailed(
                _("Its duplicate %(reference)s cannot be resolved with it: %(reason)s")
                % {"reference": d.reference, "reason": exc.message}) from exc
        event = core.write_resolution(d, actor, now, fields, resolution_type, data=together)
        if not _people(d) & told:  # one person, one notification
            notify.citizen(d, event, "resolved")
        told |= _people(d)
    return duplicates


def _people(ticket):
    """Who a ticket's notifications reach: its citizen and declared contact."""
    return {("citizen", ticket.citizen_id), ("contact", ticket.declared_contact_id)} - {
        ("citizen", None), ("contact", None)}


def _check_shareable(primary, duplicates, text):
    """The primary's resolution text reaches the citizens of its duplicates:
    refuse it while it names the primary's citizen (name, codes, contacts)."""
    from ..ai.masking import people_data

    others = [d for d in duplicates if _people(d) - _people(primary)]
    if not others or not text:
        return
    found = people_data(primary, text)
    if found:
        raise GuardFailed(
            _("The resolution also goes to the citizens of its duplicates: remove this "
              "citizen's personal data from it (%(data)s).")
            % {"data": ", ".join(dict.fromkeys(found))},
            {"resolution_text": _("Write it for every reporter, without names or contacts.")})
