"""The ticket page's consults: share the ticket with a colleague of another
office for advice ("Chiedi una consulenza"), end a consult.

``POST …/tickets/<pk>/consults/`` shares it (operators of the ticket's
office); ``POST …/tickets/<pk>/consults/<user_pk>/end/`` ends the consult of
that colleague (the office's operators, or the colleague themselves). Both
call :mod:`wagtail_helpdesk.services.consults`; the rules live there.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ...errors import HelpdeskError
from ...formats import person_name
from ...models import TicketConsult
from ...permissions import ticket_policy
from ...services import consults as service
from ...tickets.queries import visible_ticket_or_404
from ...workflow import Status
from .forms import ConsultForm


def consult_panel(user, ticket, *, can_change, bound_form=None, deferred_url=None):
    """What the page's "Consults" panel shows ``user``: the colleagues the
    ticket is shared with, the form to share it (operators of its office),
    whether ``user`` is one of the consultants. One query, two with the form.

    With ``deferred_url`` (the page fetches the panel's content once it has
    rendered) nothing is read: ``{"deferred_url": …}``, or None for a draft
    (never shared) — unless ``bound_form`` is a refused share, shown at once."""
    refused = bound_form is not None and bound_form.action == ConsultForm.action
    if deferred_url is not None and not refused:
        return None if ticket.status == Status.DRAFT else {"deferred_url": deferred_url}
    consults = list(TicketConsult.objects.filter(ticket_id=ticket.pk)
                    .select_related("consultant", "granted_by"))
    form = None
    if can_change and ticket.status != Status.DRAFT:
        form = bound_form if refused else ConsultForm(ticket=ticket, user=user)
    return {
        "consults": consults,
        "form": form,
        "can_revoke": can_change,
        "mine": next((c for c in consults if c.consultant_id == user.pk), None),
    }


def _page(request, ticket, form=None, status=200):
    from .detail import TicketDetailView  # the page imports this module's panel

    return TicketDetailView.render_page(request, ticket, bound_form=form, status=status)


def _ticket(request, pk):
    from .detail import PAGE_RELATED

    return visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)


def _forbidden(request, ticket, exc, form=None):
    messages.error(request, str(exc) if exc.args else _("You cannot work on this ticket."))
    return _page(request, ticket, form, status=403)


@require_POST
def grant_consult(request, pk):
    ticket = _ticket(request, pk)
    user = request.user
    form = ConsultForm(request.POST, ticket=ticket, user=user)
    if not ticket_policy().user_has_permission_for_instance(user, "change", ticket):
        return _forbidden(request, ticket, PermissionDenied(
            _("Only the operators of the ticket's office can share it for a consult.")))
    if not form.is_valid():
        messages.error(request, _("The ticket could not be shared: correct the errors below."))
        return _page(request, ticket, form)
    consultant = form.cleaned_data["consultant"]
    try:
        service.grant(ticket, user, consultant, message=form.cleaned_data["message"])
    except HelpdeskError as exc:
        form.add_service_errors(exc)
        messages.error(request, exc.message)
        return _page(request, ticket, form)
    except PermissionDenied as exc:
        return _forbidden(request, ticket, exc, form)
    messages.success(request, _("Ticket %(reference)s shared with %(name)s for a consult: "
                                "they were notified.")
                     % {"reference": ticket.reference, "name": person_name(consultant)})
    return redirect("helpdesk_tickets:detail", pk=ticket.pk)


@require_POST
def end_consult(request, pk, user_pk):
    ticket = _ticket(request, pk)
    user = request.user
    consult = get_object_or_404(TicketConsult.objects.select_related("consultant"),
                                ticket=ticket, consultant_id=user_pk)
    consultant = consult.consultant
    try:
        service.end(ticket, user, consultant)
    except HelpdeskError as exc:
        messages.error(request, exc.message)
        return redirect("helpdesk_tickets:detail", pk=ticket.pk)
    except PermissionDenied as exc:
        return _forbidden(request, ticket, exc)
    if consultant.pk == user.pk:
        messages.success(request, _("You ended your consult on ticket %(reference)s.")
                         % {"reference": ticket.reference})
        return redirect(reverse("helpdesk_tickets:index"))
    messages.success(request, _("The consult of %(name)s on ticket %(reference)s ended.")
                     % {"reference": ticket.reference, "name": person_name(consultant)})
    return redirect("helpdesk_tickets:detail", pk=ticket.pk)
