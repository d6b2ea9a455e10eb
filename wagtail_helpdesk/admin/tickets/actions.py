"""The ticket page's actions: one POST view, one service call per action.

``POST /admin/helpdesk/tickets/<pk>/<action>/`` parses the action's form and
calls the matching function of :mod:`wagtail_helpdesk.services` with the
version of the ticket the operator saw. On success: a message and a redirect
to the ticket page (post/redirect/get). When the service refuses, the page is
shown again with the error next to the field and everything typed kept.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from ... import services
from ...errors import HelpdeskError, StaleTicket
from ...formats import person_name
from ...models import Priority
from ...permissions import ticket_policy
from ...tickets.actions import consulting
from ...tickets.queries import visible_ticket_or_404, visible_tickets
from .detail import PAGE_RELATED, TicketDetailView
from .forms import ACTION_FORMS


@dataclass(frozen=True)
class TicketAction:
    #: ``run(ticket, user, cleaned_data, version)`` → the changed ticket.
    run: Callable
    #: ``message(ticket)`` → the success message.
    message: Callable


def _message(text):
    return lambda t: text % {"reference": t.reference}


ACTIONS = {
    "take_charge": TicketAction(
        run=lambda t, user, data, version: services.take_charge(
            t, user, expected_version=version),
        message=_message(gettext_lazy("You took charge of ticket %(reference)s.")),
    ),
    "assign": TicketAction(
        run=lambda t, user, data, version: services.assign(
            t, user, data["assignee"], expected_version=version),
        message=lambda t: _("Ticket %(reference)s assigned to %(name)s.") % {
            "reference": t.reference, "name": person_name(t.assignee)},
    ),
    "transfer": TicketAction(
        run=lambda t, user, data, version: services.transfer(
            t, user, data["office"], note=data["note"], expected_version=version),
        message=lambda t: _("Ticket %(reference)s transferred to %(office)s.") % {
            "reference": t.reference, "office": t.office.name},
    ),
    "set_priority": TicketAction(
        run=lambda t, user, data, version: services.set_priority(
            t, user, data["priority"], expected_version=version),
        message=lambda t: _("Priority of ticket %(reference)s set to “%(priority)s”.") % {
            "reference": t.reference, "priority": Priority(t.priority).label},
    ),
    "mark_waiting": TicketAction(
        run=lambda t, user, data, version: services.mark_waiting(
            t, user, message=data["message"], expected_version=version),
        message=_message(gettext_lazy("Ticket %(reference)s is waiting for the citizen.")),
    ),
    "resolve": TicketAction(
        run=lambda t, user, data, version: services.resolve(
            t, user, data["resolution_type"], data["resolution_text"],
            expected_version=version),
        message=_message(gettext_lazy("Ticket %(reference)s resolved.")),
    ),
    "reopen": TicketAction(
        run=lambda t, user, data, version: services.reopen(
            t, user, reason=data["reason"], expected_version=version),
        message=_message(gettext_lazy("Ticket %(reference)s reactivated.")),
    ),
    "reply": TicketAction(
        run=lambda t, user, data, version: services.reply(
            t, user, data["body"], attachments=data["attachments"], expected_version=version,
            assisted=data.get("assisted")),
        message=_message(gettext_lazy("Reply to the citizen sent on ticket %(reference)s.")),
    ),
    "note": TicketAction(
        run=lambda t, user, data, version: services.add_note(
            t, user, data["body"], expected_version=version),
        message=_message(gettext_lazy("Private note added to ticket %(reference)s.")),
    ),
}


def _names(users):
    return ", ".join(f"@{u.get_username()} ({person_name(u)})" if u.get_full_name()
                     else f"@{u.get_username()}" for u in users)


def mention_warnings(mentions):
    """What the operator is told of the ``@names`` of a saved note that notified
    nobody: names no colleague has, colleagues who may not see the ticket."""
    if mentions is None:
        return []
    warnings = []
    if mentions.unknown:
        warnings.append(ngettext(
            "Nobody was notified for %(names)s: no colleague has this username.",
            "Nobody was notified for %(names)s: no colleague has these usernames.",
            len(mentions.unknown)) % {"names": ", ".join(f"@{n}" for n in mentions.unknown)})
    if mentions.cannot_see:
        warnings.append(ngettext(
            "%(names)s cannot see this ticket and was not notified: share the ticket with "
            "them for a consult.",
            "%(names)s cannot see this ticket and were not notified: share the ticket with "
            "them for a consult.",
            len(mentions.cannot_see)) % {"names": _names(mentions.cannot_see)})
    return warnings


def _refused(request, ticket, form, status=200):
    """Show the page again with ``form`` as the operator filled it in."""
    return TicketDetailView.render_page(
        request, ticket, bound_form=form, files_dropped=bool(request.FILES), status=status
    )


def _forbidden(request, ticket, form, exc):
    """403, as the ticket page with the reason (Wagtail's admin would turn a
    raised PermissionDenied into a redirect to the dashboard, losing the text)."""
    messages.error(request, str(exc) if exc.args else _("You cannot work on this ticket."))
    return _refused(request, ticket, form, status=403)


@require_POST
def ticket_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    ticket = visible_ticket_or_404(request.user, pk, related=PAGE_RELATED)
    user = request.user
    form_class = ACTION_FORMS[action]
    form = form_class(request.POST, request.FILES, ticket=ticket, user=user)
    if not (ticket_policy().user_has_permission_for_instance(user, "change", ticket)
            or (action == "note" and consulting(user, ticket))):
        return _forbidden(request, ticket, form, PermissionDenied(
            _("You cannot work on the tickets of this office.")))
    if not form.is_valid():
        if "version" in form.errors:
            messages.error(request, _("This page was out of date: check the ticket and "
                                      "try again."))
        else:
            messages.error(request, _("The action could not be completed: correct the "
                                      "errors below."))
        return _refused(request, ticket, form)

    try:
        changed = ACTIONS[action].run(ticket, user, form.cleaned_data,
                                      form.cleaned_data["version"])
    except StaleTicket as exc:
        messages.warning(request, exc.message)
        # Show the ticket as it is now; the form keeps the operator's text and
        # carries the current version, so they can send it again once checked.
        fresh = visible_tickets(user).select_related(*PAGE_RELATED).filter(pk=pk).first()
        if fresh is None:  # moved out of the operator's offices meanwhile
            return redirect(reverse("helpdesk_tickets:index"))
        data = request.POST.copy()
        data["version"] = fresh.version
        return _refused(request, fresh, form_class(data, ticket=fresh, user=user))
    except HelpdeskError as exc:
        form.add_service_errors(exc)
        messages.error(request, exc.message)
        return _refused(request, ticket, form)
    except PermissionDenied as exc:
        return _forbidden(request, ticket, form, exc)

    messages.success(request, ACTIONS[action].message(changed))
    for warning in mention_warnings(getattr(changed, "mentions", None)):
        messages.warning(request, warning)
    if ticket_policy().user_has_permission_for_instance(user, "view", changed):
        return redirect("helpdesk_tickets:detail", pk=changed.pk)
    # Transferred to an office the operator does not work for: back to the list.
    return redirect(reverse("helpdesk_tickets:index"))
