"""Filters of the ticket list. Every filter is backed by an index (see models)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from ..models import Channel, Kind, Label, Office, Priority, ReportCategory, Service, Ticket
from ..permissions import office_ids_for, ticket_policy
from ..workflow import Status
from . import labels, queues


class TicketFilterSet(WagtailFilterSet):
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), method="filter_queue", empty_label=None,
        choices=[(q.slug, q.label) for q in queues.QUEUES], widget=forms.RadioSelect,
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, widget=forms.CheckboxSelectMultiple
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Kind.choices,
                                       empty_label=_("All"))
    channel = django_filters.MultipleChoiceFilter(
        label=_("Channel"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    priority = django_filters.MultipleChoiceFilter(
        label=_("Priority"), choices=Priority.choices, widget=forms.CheckboxSelectMultiple
    )
    office = django_filters.ModelChoiceFilter(label=_("Office"), queryset=Office.objects.none())
    service = django_filters.ModelChoiceFilter(label=_("Service"),
                                               queryset=Service.objects.none())
    report_category = django_filters.ModelChoiceFilter(
        label=_("Problem type"), queryset=ReportCategory.objects.none()
    )
    assignee = django_filters.ModelChoiceFilter(
        label=_("Assignee"), queryset=get_user_model().objects.none()
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("Created"), widget=DateRangePickerWidget
    )
    updated_at = django_filters.DateFromToRangeFilter(
        label=_("Updated"), widget=DateRangePickerWidget
    )
    # Tickets with any of the chosen labels (a subquery on the label index).
    label = django_filters.ModelMultipleChoiceFilter(
        label=_("Labels"), queryset=Label.objects.none(), method="filter_label",
        widget=forms.CheckboxSelectMultiple,
    )
    unread = django_filters.ChoiceFilter(
        label=_("Unread citizen messages"), method="filter_unread",
        choices=[("yes", _("Only tickets with unread messages"))], empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, *args, request=None, **kwargs):
        if data is not None and not data.get("queue"):
            data = data.copy()
            data["queue"] = queues.DEFAULT
        super().__init__(data, *args, request=request, **kwargs)
        user = request.user
        if ticket_policy().sees_all_offices(user):
            offices = Office.objects.all()
        else:
            offices = Office.objects.filter(pk__in=office_ids_for(user))
        self.filters["office"].queryset = offices
        self.filters["service"].queryset = Service.objects.filter(office__in=offices)
        self.filters["report_category"].queryset = ReportCategory.objects.filter(
            office__in=offices
        )
        self.filters["assignee"].queryset = (
            get_user_model().objects.filter(helpdesk_memberships__office__in=offices,
                                            is_active=True)
            .distinct().order_by("first_name", "last_name", "username")
        )
        self.filters["label"].queryset = labels.visible_labels(user)

    def filter_label(self, queryset, name, value):
        return queryset.filter(labels.having_any([label.pk for label in value])) if value \
            else queryset

    def filter_queue(self, queryset, name, value):
        queue = queues.BY_SLUG.get(value) or queues.BY_SLUG[queues.DEFAULT]
        return queryset.filter(queue.q(self.request.user))

    def filter_unread(self, queryset, name, value):
        return queryset.filter(unread_count__gt=0) if value == "yes" else queryset
