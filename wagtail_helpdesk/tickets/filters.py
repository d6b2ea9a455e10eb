"""Filters of the ticket list. Every filter is backed by an index (see models).

The multiple-choice filters say ``distinct=False``: django-filter's default
(``distinct=True``) makes the list a ``SELECT DISTINCT`` over every joined
column (a sort of the whole result, spilled to disk at scale) although a
filter on the ticket's own column can never repeat a row. The menus' choices
come from :mod:`.filter_choices` (cached), not five queries a page."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from ..models import Channel, Kind, Label, Office, Priority, ReportCategory, Service, Ticket
from ..permissions import office_ids_for, ticket_policy
from ..workflow import Status
from . import labels, queues
from .filter_choices import (
    CachedModelChoiceFilter,
    CachedModelMultipleChoiceFilter,
    choices_for,
)


class TicketFilterSet(WagtailFilterSet):
    queue = django_filters.ChoiceFilter(
        label=_("Queue"), method="filter_queue", empty_label=None,
        choices=[(q.slug, q.label) for q in queues.QUEUES], widget=forms.RadioSelect,
    )
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Kind.choices,
                                       empty_label=_("All"))
    channel = django_filters.MultipleChoiceFilter(
        label=_("Channel"), choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    priority = django_filters.MultipleChoiceFilter(
        label=_("Priority"), choices=Priority.choices, widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    office = CachedModelChoiceFilter(label=_("Office"), queryset=Office.objects.none())
    service = CachedModelChoiceFilter(label=_("Service"),
                                               queryset=Service.objects.none())
    report_category = CachedModelChoiceFilter(
        label=_("Problem type"), queryset=ReportCategory.objects.none()
    )
    assignee = CachedModelChoiceFilter(
        label=_("Assignee"), queryset=get_user_model().objects.none()
    )
    created_at = django_filters.DateFromToRangeFilter(
        label=_("Created"), widget=DateRangePickerWidget
    )
    updated_at = django_filters.DateFromToRangeFilter(
        label=_("Updated"), widget=DateRangePickerWidget
    )
    # Tickets with any of the chosen labels (a subquery on the label index).
    label = CachedModelMultipleChoiceFilter(
        label=_("Labels"), queryset=Label.objects.none(), method="filter_label",
        widget=forms.CheckboxSelectMultiple, distinct=False,
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
        # The menus read their choices from the cache; a submitted value is
        # still checked against the queryset above.
        names = ("office", "service", "report_category", "assignee", "label")
        choices = {}

        def source(name):
            def read():
                if not choices:
                    choices.update(choices_for(
                        user, {n: self.filters[n].queryset for n in names}))
                return choices[name]
            return read

        for name in names:
            self.filters[name].extra["choices_source"] = source(name)

    def filter_label(self, queryset, name, value):
        return queryset.filter(labels.having_any([label.pk for label in value])) if value \
            else queryset

    def filter_queue(self, queryset, name, value):
        queue = queues.BY_SLUG.get(value) or queues.BY_SLUG[queues.DEFAULT]
        return queryset.filter(queue.q(self.request.user))

    def filter_unread(self, queryset, name, value):
        return queryset.filter(unread_count__gt=0) if value == "yes" else queryset
