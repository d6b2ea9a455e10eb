"""Bulk actions on the ticket list: take charge, assign, set priority.

Wagtail's bulk-action framework (checkboxes, footer, confirmation page); each
ticket still changes through the services layer, one by one, so permissions,
workflow guards, events and notifications are exactly those of the ticket
page. Tickets the operator may not see are silently left out; tickets an
action cannot apply to are listed with the reason.
"""

from abc import abstractmethod

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin import messages
from wagtail.admin.views.bulk_action import BulkAction

from ... import services
from ...errors import HelpdeskError
from ...formats import person_name
from ...models import Priority, Ticket
from ...services import presence
from ...tickets.queries import assignable_users, visible_tickets
from ...workflow import Action, allowed_actions
from .forms import ObjectChoiceField

#: At most this many tickets per bulk action ("select all" included).
BULK_LIMIT = 200


class TicketBulkAction(BulkAction):
    models = [Ticket]
    template_name = "wagtail_helpdesk/admin/bulk_confirm.html"
    workflow_action = None

    def visible(self):
        return visible_tickets(self.request.user, "change")

    def get_all_objects_in_listing_query(self, parent_id):
        return self.visible().order_by("-last_activity_at").values_list(
            "pk", flat=True)[:BULK_LIMIT]

    @cached_property
    def _actionable(self):
        ids = [pk for pk in self.request.GET.getlist("id") if pk.isdigit() or pk == "all"]
        if "all" in ids:
            ids = list(self.get_all_objects_in_listing_query(None))
        tickets = (
            self.visible().filter(pk__in=ids[:BULK_LIMIT])
            .select_related("citizen", "office", "assignee").order_by("pk")
        )
        objects, refused = [], []
        for ticket in tickets:
            if reason := self.refusal(ticket):
                refused.append({"ticket": ticket, "reason": reason})
            else:
                objects.append(ticket)
        return objects, {"items_with_no_access": refused}

    def get_actionable_objects(self):
        return self._actionable

    def refusal(self, ticket):
        """Why this action does not apply to ``ticket`` (None when it does)."""
        if self.workflow_action not in allowed_actions(ticket.status):
            return _("not possible while the ticket is “%(status)s”") % {
                "status": ticket.get_status_display()}
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_label"] = self.display_name
        context["bulk_limit"] = BULK_LIMIT
        return context

    def get_execution_context(self):
        return {"view": self, **(self.cleaned_form.cleaned_data if self.cleaned_form else {})}

    @classmethod
    def execute_action(cls, objects, view=None, **data):
        done, failed = 0, []
        for ticket in objects:
            try:
                view.apply(ticket, data)
            except (HelpdeskError, PermissionDenied) as exc:
                failed.append((ticket, exc))
            else:
                done += 1
        for ticket, exc in failed:
            messages.warning(view.request, _("%(reference)s: %(reason)s") % {
                "reference": ticket.reference,
                "reason": str(exc) or _("you cannot work on this ticket")})
        return done, 0

    @abstractmethod
    def apply(self, ticket, data):
        """Change one ticket through the services layer (raise to refuse it)."""


class TakeChargeBulkAction(TicketBulkAction):
    display_name = _("Take charge")
    action_type = "take_charge"
    aria_label = _("Take charge of the selected tickets")
    action_priority = 10
    workflow_action = Action.TAKE_CHARGE

    def refusal(self, ticket):
        reason = super().refusal(ticket)
        if reason is None and ticket.assignee_id == self.request.user.pk:
            return _("already yours")
        return reason

    def apply(self, ticket, data):
        services.take_charge(ticket, self.request.user)

    def get_success_message(self, done, _children):
        return ngettext("You took charge of %(count)d ticket.",
                        "You took charge of %(count)d tickets.", done) % {"count": done}


class AssignForm(forms.Form):
    assignee = ObjectChoiceField(label=_("Assign to"), required=True)

    def __init__(self, *args, operators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].set_objects(operators, presence.name_and_status(operators))


class AssignBulkAction(TicketBulkAction):
    display_name = _("Assign")
    action_type = "assign"
    aria_label = _("Assign the selected tickets to an operator")
    action_priority = 20
    workflow_action = Action.ASSIGN
    form_class = AssignForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # The tickets are the user's to change (visible with "change"): whoever
        # may be assigned one of them is offered, as on each ticket's page.
        offices = {t.office_id for t in self.get_actionable_objects()[0]}
        kwargs["operators"] = list(assignable_users(*offices))
        return kwargs

    def apply(self, ticket, data):
        if ticket.assignee_id == data["assignee"].pk:
            raise HelpdeskError(_("already assigned to this operator"))
        services.assign(ticket, self.request.user, data["assignee"])

    def get_success_message(self, done, _children):
        return ngettext("%(count)d ticket assigned to %(name)s.",
                        "%(count)d tickets assigned to %(name)s.", done) % {
            "count": done, "name": person_name(self.cleaned_form.cleaned_data["assignee"])}


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)


class PriorityBulkAction(TicketBulkAction):
    display_name = _("Set priority")
    action_type = "set_priority"
    aria_label = _("Set the priority of the selected tickets")
    action_priority = 30
    workflow_action = Action.SET_PRIORITY
    form_class = PriorityForm

    def apply(self, ticket, data):
        services.set_priority(ticket, self.request.user, data["priority"])

    def get_success_message(self, done, _children):
        return ngettext("Priority set on %(count)d ticket.",
                        "Priority set on %(count)d tickets.", done) % {"count": done}


BULK_ACTIONS = [TakeChargeBulkAction, AssignBulkAction, PriorityBulkAction]
