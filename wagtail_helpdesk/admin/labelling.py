"""Putting labels on a ticket from the ticket page and from the chat
workspace's side panel (a chat's conversation is a ticket): plain POST forms,
no JavaScript needed, each one call of :mod:`wagtail_helpdesk.services.labels`.

``POST /admin/helpdesk/labels/ticket/<pk>/`` with ``label`` (an id chosen
from the offered labels or, where the office's vocabulary is open, a name
typed) adds it; with ``remove`` (a label id) takes one off. ``conversation`` (an id) sends
the operator back to that conversation in the workspace instead of the
ticket page. A refused label shows the page again with the error next to the
field and what was typed kept.

Label changes commute with every other change, so they do not ask for the
version of the ticket the operator saw.
"""

from collections import Counter

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from wagtail.admin import messages

from .. import services
from ..errors import HelpdeskError
from ..models import Label, TicketLabel
from ..services.labels import MAX_LENGTH
from ..tickets.labels import offered_labels
from ..tickets.queries import visible_ticket_or_404
from .widgets import DatalistInput

URL_NAME = "wagtail_helpdesk_ticket_labels"


class LabelChoiceField(forms.ChoiceField):
    """The offered labels by id (an int once clean). A name sent instead (a
    form typed before the office closed its vocabulary) is passed on as it
    is: the service says why it is refused, or takes the label so named."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        return int(value) if value.isdigit() else value

    def valid_value(self, value):
        return not isinstance(value, int) or super().valid_value(str(value))


class LabelsForm(forms.Form):
    """Add a label: a choice among the offered labels the ticket lacks (by id:
    a global and an office label may share a name) or, where the office's
    vocabulary is open, a name typed (suggestions from the vocabulary).
    ``cleaned_data["label"]`` is the id (an int) or the name typed."""

    action = "labels"
    label = forms.CharField(label=gettext_lazy("Add a label"), max_length=MAX_LENGTH)

    def __init__(self, data=None, *, ticket, offered, current, typing=None, prefix=None):
        super().__init__(data, prefix=prefix)
        self.ticket = ticket
        self.current = list(current)
        on = {label.pk for label in self.current}
        self.choices = [label for label in offered if label.pk not in on]
        if typing is None:
            typing = bool(ticket.office_id and ticket.office.open_labels)
        self.typing = typing
        field = self.fields["label"]
        id_ = f"helpdesk-labels-{ticket.pk}{'-' + prefix if prefix else ''}"
        if typing:
            field.widget = DatalistInput(
                attrs={"id": id_, "autocomplete": "off", "maxlength": MAX_LENGTH},
                options=[label.name for label in self.choices])
            field.help_text = _("Choose a label or type a new one: it is added to this "
                                "office's labels.")
        else:
            field = self.fields["label"] = LabelChoiceField(
                label=field.label, choices=[("", _("Choose a label…")), *_choices(self.choices)],
                widget=forms.Select(attrs={"id": id_}))
            field.help_text = _("The labels of this office and the global ones; a "
                                "supervisor adds new ones.")

    @property
    def is_usable(self):
        return self.typing or bool(self.choices) or (self.is_bound and bool(self.errors))

    def add_service_errors(self, error):
        for name, message in error.field_errors.items():
            self.add_error(name if name in self.fields else None, message)
        if not error.field_errors:
            self.add_error(None, error.message)


def _choices(labels):
    """``(id, text)`` of each label; where a global and an office label share a
    name, the text says which is which (no query)."""
    counts = Counter(label.name.lower() for label in labels)
    for label in labels:
        if counts[label.name.lower()] < 2:
            yield label.pk, label.name
        elif label.office_id is None:
            yield label.pk, _("%(name)s (all offices)") % {"name": label.name}
        else:
            yield label.pk, _("%(name)s (this office)") % {"name": label.name}


def offered_and_current(ticket):
    """``(offered, current)``: the labels that may be put on ``ticket`` and
    those it has (by name), in one query: the offered labels and the
    ticket's own, each marked whether it is on the ticket."""
    on_ticket = TicketLabel.objects.filter(ticket_id=ticket.pk, label_id=OuterRef("pk"))
    rows = list(Label.objects.annotate(on_ticket=Exists(on_ticket))
                .filter(Q(pk__in=offered_labels(ticket).values("pk")) | Q(on_ticket=True))
                .order_by("name", "pk"))
    offered = [label for label in rows
               if label.office_id is None or label.office_id == ticket.office_id]
    current = sorted((label for label in rows if label.on_ticket),
                     key=lambda label: (label.name.lower(), label.pk))
    return offered, current


def labels_form(ticket, data=None):
    """The form for ``ticket`` (one query: the labels it is offered and its own)."""
    offered, current = offered_and_current(ticket)
    return LabelsForm(data, ticket=ticket, offered=offered, current=current)


def _conversation(request, ticket):
    """The conversation to go back to (the ticket's own), or None."""
    from ..models import Conversation

    pk = request.POST.get("conversation") or ""
    if not pk.isdigit():
        return None
    return Conversation.objects.filter(pk=int(pk), ticket_id=ticket.pk).first()


def _back(request, ticket, conversation):
    if conversation is not None:
        return redirect(f"{reverse('wagtail_helpdesk_chat:workspace')}?c={conversation.pk}")
    page = reverse("helpdesk_tickets:detail", args=[ticket.pk])
    return redirect(f"{page}#ticket-labels-section")


def _refused(request, ticket, conversation, form, status):
    if conversation is not None:
        from .chat.workspace import WorkspaceView

        return WorkspaceView.render_page(request, bound=(conversation.pk, form),
                                         selected=conversation.pk, status=status)
    from .tickets.detail import TicketDetailView

    return TicketDetailView.render_page(request, ticket, labels_form=form, status=status)


@require_POST
def ticket_labels(request, pk):
    from .tickets.detail import PAGE_RELATED

    user = request.user
    ticket = visible_ticket_or_404(user, pk, related=PAGE_RELATED)
    conversation = _conversation(request, ticket)
    remove = request.POST.get("remove") or ""
    form = labels_form(ticket, None if remove else request.POST)
    try:
        if remove:
            if not remove.isdigit():
                raise HelpdeskError(_("Choose the label to take off."))
            changed = services.remove_labels(ticket, user, [int(remove)])
        elif not form.is_valid():
            messages.error(request, _("The label could not be added: correct the errors "
                                      "below."))
            return _refused(request, ticket, conversation, form, 200)
        else:
            changed = services.add_labels(ticket, user, [form.cleaned_data["label"]])
    except PermissionDenied as exc:
        messages.error(request, str(exc) if exc.args else _("You cannot work on this ticket."))
        return _refused(request, ticket, conversation, form, 403)
    except HelpdeskError as exc:
        form.add_service_errors(exc)
        messages.error(request, exc.message)
        return _refused(request, ticket, conversation, form, 200)
    change = changed.label_change
    if change.added:
        messages.success(request, _("Label “%(name)s” added to %(reference)s.") % {
            "name": change.added[0], "reference": changed.reference})
    elif change.removed:
        messages.success(request, _("Label “%(name)s” taken off %(reference)s.") % {
            "name": change.removed[0], "reference": changed.reference})
    else:
        messages.info(request, _("Nothing changed: the ticket's labels were already so."))
    return _back(request, ticket, conversation)


urlpatterns = [
    path("helpdesk/labels/ticket/<int:pk>/", ticket_labels, name=URL_NAME),
]
