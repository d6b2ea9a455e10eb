"""Collega al cittadino: an operator links a ticket sent with a declared
identity to the registered citizen it claims to be, once they have checked
it (e.g. by phone). One POST, one service call; the page says what happened."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ... import services
from ...errors import HelpdeskError
from ...services.identities import claimed_citizen
from ...tickets.queries import visible_ticket_or_404
from .detail import PAGE_RELATED


@require_POST
def link_citizen(request, pk):
    ticket = visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)
    citizen = claimed_citizen(ticket)
    if citizen is None or str(citizen.pk) != request.POST.get("citizen", ""):
        messages.error(request, _("No registered citizen matches the declared fiscal code "
                                  "any more: nothing was linked."))
        return redirect("helpdesk_tickets:detail", pk=pk)
    version = request.POST.get("version") or None
    if version is not None and not version.isdigit():
        messages.error(request, _("This page was out of date: check the ticket and try again."))
        return redirect("helpdesk_tickets:detail", pk=pk)
    if not request.POST.get("checked"):
        messages.error(request, _("Confirm that you have checked the citizen's identity."))
        return redirect("helpdesk_tickets:detail", pk=pk)
    try:
        services.link_citizen(ticket, request.user, citizen,
                              expected_version=version)
    except (HelpdeskError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", None) or str(exc))
        return redirect("helpdesk_tickets:detail", pk=pk)
    messages.success(request, _("Ticket %(reference)s linked to the registered citizen.")
                     % {"reference": ticket.reference})
    return redirect("helpdesk_tickets:detail", pk=pk)
