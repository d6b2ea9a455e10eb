"""What the timeline says about duplicate links: a ticket linked as a
duplicate of another (or unlinked), the primary that received it, and a
duplicate resolved together with its primary.

Merged into :mod:`.timeline`'s tables like :mod:`.timeline_mail`; reads the
event's ``data`` only (no query). The events' data, written by
:mod:`wagtail_helpdesk.services.duplicates`: ``role`` ("duplicate" on the
duplicate's timeline, "primary" on the primary's), ``other`` and
``reference`` (the other ticket), ``moved_from`` and ``brought`` (when a
link moved duplicates along).
"""

from django.utils.translation import gettext as _

from ..models import EventKind
from .timeline_mail import RelatedTicket, _int

ICONS = {
    EventKind.DUPLICATE_LINKED: "link",
    EventKind.DUPLICATE_UNLINKED: "cross",
}

def _label(kind, role, reference):
    texts = {
        (EventKind.DUPLICATE_LINKED, "duplicate"): _("Duplicate of %(reference)s"),
        (EventKind.DUPLICATE_LINKED, "primary"):
            _("%(reference)s linked as a duplicate of this ticket"),
        (EventKind.DUPLICATE_UNLINKED, "duplicate"): _("No longer a duplicate of %(reference)s"),
        (EventKind.DUPLICATE_UNLINKED, "primary"):
            _("%(reference)s is no longer a duplicate of this ticket"),
    }
    text = texts.get((kind, role))
    return text % {"reference": reference} if text else None


def related_ticket(event):
    """The other ticket of a duplicate link (or of a resolution together with
    the primary), or None."""
    data = event.data or {}
    if event.kind in ICONS:
        pk = _int(data.get("other"))
        label = _label(event.kind, data.get("role"), data.get("reference") or f"#{pk}")
        return RelatedTicket(pk, label) if pk and label else None
    primary = data.get("primary")
    if event.kind == EventKind.RESOLVED and isinstance(primary, dict) and _int(primary.get("id")):
        reference = primary.get("reference") or f"#{primary['id']}"
        return RelatedTicket(primary["id"], _("Resolved together with %(reference)s") % {
            "reference": reference})
    return None


def _linked(data, names):
    moved = data.get("moved_from")
    if isinstance(moved, dict) and moved.get("reference"):
        yield _("Moved from %(reference)s") % {"reference": moved["reference"]}
    elif isinstance(moved, str) and moved:
        yield _("Moved from %(reference)s") % {"reference": moved}
    brought = data.get("brought")
    if brought:
        refs = [b.get("reference", "") if isinstance(b, dict) else str(b) for b in brought]
        yield _("With its duplicates: %(references)s") % {
            "references": ", ".join(r for r in refs if r)}


DETAILS = {
    EventKind.DUPLICATE_LINKED: _linked,
}
