"""Bulk actions on the ticket list: take charge, assign, set priority, add or
take off a label.

Wagtail's bulk-action framework (checkboxes, footer, confirmation page); each
ticket still changes through the services layer, one by one, so permissions,
workflow guards, events and notifications are exactly those of the ticket
page. Tickets the operator may not see are silently left out; tickets an
action cannot apply to are listed with the reason.
"""

from abc import abstractmethod

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin import messages
from wagtail.admin.views.bulk_action import BulkAction

from ... import services
from ...errors import HelpdeskError
from ...formats import person_name
from ...models import Label, Priority, Ticket, TicketLabel
from ...services import presence
from ...tickets.labels import visible_labels
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


class LabelForm(forms.Form):
    label = forms.ModelChoiceField(label=_("Label"), queryset=Label.objects.none(),
                                   empty_label=_("Choose a label…"))

    def __init__(self, *args, labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].queryset = labels if labels is not None else Label.objects.none()
        self.fields["label"].label_from_instance = _label_choice


def _label_choice(label):
    if label.office_id:
        return f"{label.name} ({label.office.name})"
    return str(label.name)


class LabelBulkAction(TicketBulkAction):
    """Labels are no workflow step: every ticket the user may change takes them."""

    form_class = LabelForm

    def refusal(self, ticket):
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["labels"] = self.offered_labels()
        return kwargs

    @abstractmethod
    def offered_labels(self):
        """The labels the form offers (a queryset)."""

    @abstractmethod
    def change(self, label):
        """``add=`` or ``remove=`` for :func:`services.bulk_change_labels`."""

    def apply(self, ticket, data):  # one ticket: the bulk service does them all
        self.execute_action([ticket], view=self, **data)

    @classmethod
    def execute_action(cls, objects, view=None, **data):
        """:func:`services.bulk_change_labels` (one transaction per ticket);
        those refused or already so are listed with the reason."""
        result = services.bulk_change_labels(objects, view.request.user,
                                             **view.change(data["label"]))
        refused = [*result.failed, *((t, HelpdeskError(view.unchanged_reason))
                                     for t in result.unchanged)]
        for ticket, exc in sorted(refused, key=lambda pair: pair[0].pk):
            messages.warning(view.request, _("%(reference)s: %(reason)s") % {
                "reference": ticket.reference,
                "reason": str(exc) or _("you cannot work on this ticket")})
        return len(result.changed), 0

    def get_success_message(self, done, _children):
        return self.success_message(done) % {
            "count": done, "name": self.cleaned_form.cleaned_data["label"].name}


class AddLabelBulkAction(LabelBulkAction):
    display_name = _("Add label")
    action_type = "add_label"
    aria_label = _("Add a label to the selected tickets")
    action_priority = 40

    def offered_labels(self):
        """The global labels and those of the selected tickets' offices
        (the service refuses, ticket by ticket, a label another office's
        ticket is not offered)."""
        offices = {t.office_id for t in self.get_actionable_objects()[0]} - {None}
        return visible_labels(self.request.user).filter(
            Q(office__isnull=True) | Q(office_id__in=offices))

    unchanged_reason = _("it already has this label")

    def change(self, label):
        return {"add": [label]}

    def success_message(self, done):
        return ngettext("Label “%(name)s” added to %(count)d ticket.",
                        "Label “%(name)s” added to %(count)d tickets.", done)


class RemoveLabelBulkAction(LabelBulkAction):
    display_name = _("Remove label")
    action_type = "remove_label"
    aria_label = _("Take a label off the selected tickets")
    action_priority = 50

    def offered_labels(self):
        """The labels some of the selected tickets carry."""
        ids = [t.pk for t in self.get_actionable_objects()[0]]
        return Label.objects.filter(
            pk__in=TicketLabel.objects.filter(ticket_id__in=ids).values("label_id")
        ).select_related("office").order_by("name", "pk")

    unchanged_reason = _("it does not have this label")

    def change(self, label):
        return {"remove": [label]}

    def success_message(self, done):
        return ngettext("Label “%(name)s” taken off %(count)d ticket.",
                        "Label “%(name)s” taken off %(count)d tickets.", done)


BULK_ACTIONS = [TakeChargeBulkAction, AssignBulkAction, PriorityBulkAction,
                AddLabelBulkAction, RemoveLabelBulkAction]
