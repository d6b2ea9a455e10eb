"""Labels in the admin: the vocabulary ("Etichette" under the Helpdesk menu)
and, through :mod:`.labelling`, the views that put labels on tickets.

Who sees and manages what is decided by :mod:`wagtail_helpdesk.tickets.labels`:
supervisors manage the labels of the offices they belong to (the office is
required for them, chosen among theirs); those who see every office manage
every office's labels and the global ones. Operators see the vocabulary of
their offices and the global labels, read-only. A label the user does not
see is not found (404); one they see but may not change is refused.
Saving and deleting go through :mod:`wagtail_helpdesk.services.labels`.
"""

import django_filters
from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from .. import services
from ..errors import HelpdeskError
from ..models import Label, LabelColour, Office, TicketLabel
from ..services.labels import MAX_LENGTH
from ..tickets.labels import (
    can_manage,
    label_policy,
    managed_office_ids,
    visible_labels,
)
from .viewsets import MENU_HOOK, HelpdeskMessagesMixin


def scope_label(label):
    return label.office.name if label.office_id else _("Every office (global)")


class SwatchRadioSelect(forms.RadioSelect):
    """The palette as radio buttons, each with its colour shown beside its name."""

    class Media:
        css = {"all": ["wagtail_helpdesk/admin/labels.css"]}


def _colour_choices():
    return [(value, format_html(
        '<span class="helpdesk-label-swatch helpdesk-label-swatch--{}" aria-hidden="true">'
        "</span>{}", value, name)) for value, name in LabelColour.choices]


class LabelForm(WagtailAdminModelForm):
    class Meta:
        model = Label
        fields = ["name", "colour", "office", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        managed = managed_office_ids(self.for_user)
        office = self.fields["office"]
        if managed is None:
            office.queryset = Office.objects.order_by("name")
            office.required = False
            office.empty_label = _("Every office (global label)")
        else:
            office.queryset = Office.objects.filter(pk__in=managed).order_by("name")
            office.required = True
            office.help_text = _("The office whose tickets are offered the label.")
        self.fields["colour"] = forms.ChoiceField(
            label=_("Colour"), choices=_colour_choices(), widget=SwatchRadioSelect,
            initial=self.instance.colour or LabelColour.GREY,
            help_text=_("White text on this colour: every colour of the palette is "
                        "readable."))
        self.fields["name"].help_text = _(
            "At most %(max)d characters; operators see it on the tickets.") % {"max": MAX_LENGTH}

    def clean_name(self):
        try:
            return services.labels.clean_name(self.cleaned_data.get("name"))
        except HelpdeskError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name")
        if name and "office" not in self.errors:
            office = cleaned.get("office")
            twins = Label.objects.filter(name__iexact=name, office=office).exclude(
                pk=self.instance.pk)
            if twins.exists():
                self.add_error("name", _("A label with this name already exists here."))
        return cleaned

    def validate_constraints(self):
        pass  # checked in clean() with a clear message


class LabelFilterSet(WagtailFilterSet):
    office = django_filters.ModelChoiceFilter(label=gettext_lazy("Office"),
                                              queryset=Office.objects.none())
    scope = django_filters.ChoiceFilter(
        label=gettext_lazy("Available to"), method="filter_scope",
        empty_label=gettext_lazy("All"),
        choices=[("global", gettext_lazy("Every office (global)")),
                 ("office", gettext_lazy("One office"))])

    class Meta:
        model = Label
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.filters["office"].queryset = Office.objects.filter(
            pk__in=visible_labels(request.user).filter(office__isnull=False)
            .values("office_id")).order_by("name")

    def filter_scope(self, queryset, name, value):
        if value == "global":
            return queryset.filter(office__isnull=True)
        if value == "office":
            return queryset.filter(office__isnull=False)
        return queryset


class ChipColumn(Column):
    cell_template_name = "wagtail_helpdesk/admin/labels/chips_cell.html"

    def get_value(self, instance):
        return [instance]


class PolicyMixin:
    @cached_property
    def permission_policy(self):
        return label_policy()


class LabelIndexView(PolicyMixin, generic.IndexView):
    filterset_class = LabelFilterSet
    search_fields = ["name", "description"]
    search_backend_name = None
    default_ordering = "name"

    def get_base_queryset(self):
        return visible_labels(self.request.user).annotate(ticket_count=Count("ticket_links"))

    def get_edit_url(self, instance):
        if can_manage(self.request.user, instance):
            return super().get_edit_url(instance)

    def get_delete_url(self, instance):
        if can_manage(self.request.user, instance):
            return super().get_delete_url(instance)


class ManagedObjectMixin(PolicyMixin):
    """The label among those the user sees (404), and theirs to manage (403)."""

    def get_object(self, queryset=None):
        if getattr(self, "object", None):
            return self.object
        pk = unquote(str(self.kwargs.get(self.pk_url_kwarg, "")))
        label = get_object_or_404(visible_labels(self.request.user), pk=pk)
        if not can_manage(self.request.user, label):
            raise PermissionDenied
        return label


class LabelCreateView(PolicyMixin, generic.CreateView):
    def save_instance(self):
        return services.save_label(self.request.user, self.form.instance)


class LabelEditView(ManagedObjectMixin, generic.EditView):
    def save_instance(self):
        return services.save_label(self.request.user, self.form.instance)


class LabelDeleteView(ManagedObjectMixin, generic.DeleteView):
    @cached_property
    def carried(self):
        return TicketLabel.objects.filter(label=self.object).count()

    @property
    def confirmation_message(self):
        if not self.carried:
            return _("No ticket carries the label “%(name)s”. Delete it?") % {
                "name": self.object.name}
        return ngettext(
            "The label “%(name)s” is on %(count)d ticket: deleting it takes it off that "
            "ticket too. Delete it?",
            "The label “%(name)s” is on %(count)d tickets: deleting it takes it off those "
            "tickets too. Delete it?", self.carried) % {"name": self.object.name,
                                                        "count": self.carried}

    def delete_action(self):
        services.delete_label(self.request.user, self.object)


class LabelViewSet(HelpdeskMessagesMixin, ModelViewSet):
    model = Label
    icon = "tag"
    menu_label = gettext_lazy("Labels")
    menu_name = "helpdesk-labels"
    menu_order = 310
    menu_hook = MENU_HOOK
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = False
    list_per_page = 50
    created_message = gettext_lazy("Label “%(object)s” created.")
    updated_message = gettext_lazy("Label “%(object)s” updated.")
    deleted_message = gettext_lazy("Label “%(object)s” deleted.")
    index_view_class = LabelIndexView
    add_view_class = LabelCreateView
    edit_view_class = LabelEditView
    delete_view_class = LabelDeleteView
    list_display = [
        "name",
        ChipColumn("chip", label=gettext_lazy("Looks like")),
        Column("scope", label=gettext_lazy("Available to"), accessor=scope_label),
        Column("ticket_count", label=pgettext_lazy("number of", "Tickets"), accessor="ticket_count",
               sort_key="ticket_count"),
        "description",
    ]
    edit_handler = ObjectList([FieldPanel("name"), FieldPanel("colour"), FieldPanel("office"),
                               FieldPanel("description")], base_form_class=LabelForm)


label_viewset = LabelViewSet("helpdesk_labels", url_prefix="helpdesk/labels")


def viewsets():
    return [label_viewset]


def urls():
    from .labelling import urlpatterns

    return urlpatterns
