"""The ticket page's "Ticket simili" panel and its two actions.

The panel lists similar tickets (open, and resolved recently) with why they
match, the likely duplicates of a report (or of a request of the same
person) with a deliberate "Collega come duplicato", and the ticket's
duplicate links with "Scollega". It reads only; the two POST views change
tickets through :mod:`wagtail_helpdesk.services.duplicates` and return to the
ticket page with a message.

The page shows the panel's frame only and fetches its content once it has
rendered (:func:`similar_fragment`: the lookup is the slowest part of the
page); ``?panels=all`` on the page puts it in place without JavaScript.

Queries: the switch, the lookup (:func:`~wagtail_helpdesk.ai.similar.similar_tickets`:
a constant number) and one for the links — whatever the ticket.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from wagtail.admin import messages

from ..ai import switches
from ..ai.duplicates import SCAN, likely_duplicates
from ..errors import HelpdeskError
from ..models import Ticket
from ..permissions import ticket_policy
from ..services.duplicates import link_duplicate, unlink_duplicate
from ..tickets.queries import visible_ticket_or_404, visible_tickets
from ..workflow import OPEN_STATUSES, Status

#: Similar tickets shown.
SHOWN = 5

LINK_URL = "link_duplicate"
UNLINK_URL = "unlink_duplicate"
#: The panel's content, fetched by the ticket page.
FRAGMENT_URL = "helpdesk_tickets:similar_panel"


def similar_urls():
    """The panel's actions, mounted by the tickets' viewset (namespace
    ``helpdesk_tickets``)."""
    return [
        path("<int:pk>/duplicates/link/", link_duplicate_view, name=LINK_URL),
        path("<int:pk>/duplicates/unlink/", unlink_duplicate_view, name=UNLINK_URL),
        path("<int:pk>/similar/", similar_fragment, name=FRAGMENT_URL.partition(":")[2]),
    ]


def _links(ticket, matches):
    """The primary of ``ticket``, its duplicates and the primaries of the
    matches that are duplicates: one query, whatever the ticket."""
    wanted = {m.ticket.duplicate_of_id for m in matches} | {ticket.duplicate_of_id}
    wanted.discard(None)
    rows = (Ticket.objects.filter(Q(pk__in=wanted) | Q(duplicate_of_id=ticket.pk))
            .only("pk", "short_code", "subject", "status", "office_id", "duplicate_of_id",
                  "opened_by_citizen", "created_by_id")
            .order_by("pk"))
    by_pk = {t.pk: t for t in rows}
    duplicates = [t for t in by_pk.values() if t.duplicate_of_id == ticket.pk]
    return by_pk, duplicates


def _offer(ticket, match, by_pk, may_change):
    """What the panel offers for a likely duplicate: which of the two would be
    the duplicate and which the primary. A ticket already linked keeps its
    primary (the other joins it); else the older one is the primary."""
    other = match.ticket
    if ticket.duplicate_of_id and other.duplicate_of_id:
        duplicate, primary = None, None  # both linked elsewhere: unlink one first
    elif ticket.duplicate_of_id:
        duplicate, primary = other, by_pk.get(ticket.duplicate_of_id)
    elif other.duplicate_of_id:
        duplicate, primary = ticket, by_pk.get(other.duplicate_of_id)
    elif (other.submitted_at or other.created_at) <= (ticket.submitted_at or ticket.created_at):
        duplicate, primary = ticket, other
    else:
        duplicate, primary = other, ticket
    can_link = bool(
        duplicate is not None and primary is not None
        and duplicate.status in OPEN_STATUSES and primary.status in OPEN_STATUSES
        and may_change(duplicate) and may_change(primary))
    return {"match": match, "duplicate": duplicate, "primary": primary,
            "this_is_duplicate": duplicate is ticket, "can_link": can_link}


def similar_panel(request, ticket, *, settings=None, defer=False):
    """The context of the panel for ``ticket`` (None: switched off, or the
    user may not see the ticket, or it is a draft). ``settings``: the
    :func:`~wagtail_helpdesk.ai.switches.assist_settings` the page already
    read (else read once per request). With ``defer`` nothing is looked up:
    ``{"deferred_url": …}``, the fragment the page fetches once it has
    rendered (:func:`similar_fragment`)."""
    from ..ai.embedder import missing_reason
    from ..ai.similar import similar_tickets

    user = request.user
    policy = ticket_policy()
    settings = settings if settings is not None else switches.for_request(request)
    if ticket.status == Status.DRAFT or not switches.enabled("similar", settings):
        return None
    if not policy.user_has_permission_for_instance(user, "view", ticket):
        return None
    if defer:
        return {"deferred_url": reverse(FRAGMENT_URL, args=[ticket.pk])}

    def may_change(t):
        return policy.user_has_permission_for_instance(user, "change", t)

    matches = similar_tickets(ticket, user, limit=SCAN)
    by_pk, duplicates = _links(ticket, matches)
    likely = likely_duplicates(ticket, user, matches=matches)
    offers = [_offer(ticket, m, by_pk, may_change) for m in likely]
    primary = by_pk.get(ticket.duplicate_of_id) if ticket.duplicate_of_id else None
    can_change = may_change(ticket)
    return {
        "similar": matches[:SHOWN],
        "offers": offers,
        "primary": primary,
        "primary_visible": primary is not None and may_change(primary),
        "duplicates": [{"ticket": d, "visible": may_change(d), "is_open": d.is_open}
                       for d in duplicates],
        "open_duplicates": sum(1 for d in duplicates if d.is_open),
        "can_change": can_change,
        "lexical_only": missing_reason(),
        "is_report": ticket.kind == "report",
    }


@require_safe
def similar_fragment(request, pk):
    """The panel's content (HTML, no page around it), fetched by the ticket
    page once it has rendered. Whoever may see the page may fetch it (the
    same lookup); empty when the page would not show the panel."""
    from .tickets.detail import PAGE_RELATED

    ticket = visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)
    similar = similar_panel(request, ticket)
    if similar is None:
        response = HttpResponse("")
    else:
        response = render(request, "wagtail_helpdesk/admin/ai/similar_panel_body.html",
                          {"similar": similar, "ticket": ticket})
    response["Cache-Control"] = "private, no-store"
    return response


def _back(request, *tickets):
    """The ticket page the form was on (one of ``tickets``), else the first's."""
    wanted = request.POST.get("back", "")
    for t in tickets:
        if t is not None and str(t.pk) == wanted:
            return redirect("helpdesk_tickets:detail", pk=t.pk)
    return redirect("helpdesk_tickets:detail", pk=tickets[0].pk)


def _version(request, field="version"):
    version = request.POST.get(field) or None
    if version is not None and not version.isdigit():
        raise HelpdeskError(_("This page was out of date: check the ticket and try again."))
    return version


def _other(request, name):
    pk = request.POST.get(name, "")
    if not pk.isdigit():
        return None
    return visible_tickets(request.user).filter(pk=int(pk)).first()


@require_POST
def link_duplicate_view(request, pk):
    """Collega come duplicato: the page's ticket and another one; ``duplicate``
    and ``primary`` say which is which (one of them is the page's ticket)."""
    ticket = visible_ticket_or_404(request.user, pk)
    duplicate, primary = _other(request, "duplicate"), _other(request, "primary")
    if duplicate is None or primary is None or ticket.pk not in (duplicate.pk, primary.pk):
        messages.error(request, _("That ticket cannot be found any more: nothing was linked."))
        return redirect("helpdesk_tickets:detail", pk=ticket.pk)
    if not request.POST.get("confirmed"):
        messages.error(request, _("Confirm that the two tickets are about the same problem."))
        return _back(request, ticket)
    try:
        version = _version(request) if duplicate.pk == ticket.pk else None
        linked = link_duplicate(duplicate, request.user, primary, expected_version=version)
    except (HelpdeskError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", None) or str(exc))
        return _back(request, ticket)
    messages.success(request, _("%(duplicate)s linked as a duplicate of %(primary)s: it will be "
                                "resolved with it, and its citizen told.")
                     % {"duplicate": linked.reference,
                        "primary": linked.duplicate_of.reference})
    return _back(request, ticket)


@require_POST
def unlink_duplicate_view(request, pk):
    """Scollega: the ticket ``pk`` is no longer a duplicate."""
    ticket = visible_ticket_or_404(request.user, pk)
    primary = ticket.duplicate_of
    try:
        unlink_duplicate(ticket, request.user, expected_version=_version(request))
    except (HelpdeskError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", None) or str(exc))
        return _back(request, ticket, primary)
    messages.success(request, _("%(duplicate)s is no longer linked as a duplicate of "
                                "%(primary)s.")
                     % {"duplicate": ticket.reference,
                        "primary": primary.reference if primary else "—"})
    return _back(request, ticket, primary)
