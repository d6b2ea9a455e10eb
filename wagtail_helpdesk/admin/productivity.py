"""La mia attività: an operator's own figures, and the office's for supervisors.

"My activity" (every operator: change permission on tickets) shows today's
figures beside a day the operator chooses (by default the same weekday of the
week before) and the current week by day and by channel, as server-drawn SVG
bar charts with their tables. It is always about the signed-in user: no
parameter names another person.

"Office activity" (supervisors: the dashboard permission) shows the same
figures for the offices they belong to (every office for those who see all),
and each operator's figures only where ``HelpdeskSettings.operator_figures``
is on — Italian labour law (art. 4, L. 300/1970) restricts monitoring of
individual workers. Where they are off, a day's office figures are not shown
when fewer than two people worked that day (they would be one person's). The figures come from :mod:`wagtail_helpdesk.insight.productivity`.
"""

from datetime import date

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.models import Site

from ..formats import format_date, format_duration
from ..insight import productivity as figures
from ..permissions import office_ids_for, ticket_policy
from . import dashboard

URL_NAME = "wagtail_helpdesk_my_activity"
OFFICE_URL_NAME = "wagtail_helpdesk_office_activity"
#: Bar groups are never wider than a seventh of the plot (a week's day).
MIN_SLOTS = 7
#: The earliest day one may compare with.
FIRST_DAY = date(2000, 1, 1)

#: The series of the "week by day" chart, and of the "week by channel" one.
#: (A context of their own: "Resolved" and "Taken in charge" name statuses elsewhere.)
DAY_SERIES = (("taken", pgettext_lazy("tickets per day", "Taken in charge")),
              ("replies", _("Replies")), ("chat_messages", _("Chat messages")),
              ("resolved", pgettext_lazy("tickets per day", "Resolved")))
CHANNEL_SERIES = (("tickets", _("Tickets worked on")), ("replies", _("Replies")),
                  ("chat_messages", _("Chat messages")),
                  ("resolved", pgettext_lazy("tickets per day", "Resolved")))


def is_operator(user):
    return ticket_policy().user_has_permission(user, "change")


class ComparisonForm(forms.Form):
    compare = forms.DateField(
        label=_("Compare with"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("By default, the same day of last week."),
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, initial={"compare": figures.default_comparison(today)},
                         **kwargs)
        self.today = today
        self.fields["compare"].widget.attrs.update(max=today.isoformat(),
                                                   min=FIRST_DAY.isoformat())

    def clean_compare(self):
        value = self.cleaned_data["compare"]
        if value is not None and not FIRST_DAY <= value <= self.today:
            raise forms.ValidationError(
                _("Choose a day between %(first)s and today.")
                % {"first": date_format(FIRST_DAY, "SHORT_DATE_FORMAT")})
        return value

    def day(self):
        """The chosen day; the default one when none (or no valid one) was given."""
        if self.is_bound and self.is_valid() and self.cleaned_data["compare"]:
            return self.cleaned_data["compare"]
        return figures.default_comparison(self.today)


def bar_chart(groups, series):
    """Grouped bars (one bar per series in each group) in the dashboard's chart
    geometry and axis scale. ``groups``: ``[{"label": str, **counts}]``;
    ``series``: ``[(key, label)]``. At most a few dozen bars: days or channels."""
    c = dashboard._CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    step, top = dashboard._scale(max([g[key] for g in groups for key, _l in series] + [0]))
    slot = plot_w / max(len(groups), MIN_SLOTS)  # a lone channel is not one huge bar
    bar = slot * 0.8 / max(len(series), 1)
    base = c["top"] + plot_h
    drawn = []
    for i, group in enumerate(groups):
        bars = []
        for n, (key, label) in enumerate(series):
            height = round(plot_h * group[key] / top, 1)
            bars.append({"index": n, "label": label, "value": group[key], "height": height,
                         "x": round(c["left"] + i * slot + slot * 0.1 + n * bar, 1),
                         "y": round(base - height, 1)})
        drawn.append({"label": group["label"], "bars": bars,
                      "label_x": round(c["left"] + i * slot + slot / 2, 1)})
    ticks = [{"value": v, "y": round(base - plot_h * v / top, 1)}
             for v in range(0, top + 1, step)]
    return {**c, "plot_right": c["width"] - c["right"], "base": base, "bar": round(bar, 1),
            "groups": drawn, "ticks": ticks,
            "series": [{"index": n, "key": key, "label": label}
                       for n, (key, label) in enumerate(series)],
            "totals": [sum(g[key] for g in groups) for key, _l in series]}


def _rating(satisfaction):
    if not satisfaction["count"]:
        return "—", ""
    return number_format(satisfaction["average"], 1), satisfaction["count"]


def tiles(day_figures):
    """The figures of a day as tiles: ``[{"key", "label", "value", "meta"}]``."""
    result = [{"key": key, "label": label, "value": day_figures[key], "meta": ""}
              for key, label in figures.FIGURES]
    wait = day_figures["first_response"]
    result.append({"key": "first_response", "label": _("Median first response"),
                   "value": format_duration(wait) if wait is not None else "—",
                   "count": day_figures["first_response_count"], "meta": "tickets"})
    average, count = _rating(day_figures["satisfaction"])
    result.append({"key": "satisfaction", "label": _("Satisfaction received"),
                   "value": average, "count": count or 0, "meta": "ratings"})
    return result


def week_context(scope, day):
    by_day = figures.week_by_day(scope, day)
    for row in by_day:
        row["label"] = format_date(row["day"], "D j/n")
    by_channel = figures.week_by_channel(scope, day)
    return {"week_by_day": by_day, "week_by_channel": by_channel,
            "day_chart": bar_chart(by_day, DAY_SERIES),
            "channel_chart": bar_chart(by_channel, CHANNEL_SERIES) if by_channel else None,
            "week": figures.week_of(day)}


class ActivityView(WagtailAdminTemplateMixin, TemplateView):
    """Today beside the chosen day, and this week, for ``self.scope()``."""

    header_icon = "time"

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        today = figures.today(now)
        form = ComparisonForm(self.request.GET or None, today=today)
        compare = form.day()
        scope = self.scope()
        context.update(
            form=form, today=today, compare=compare, now=now,
            today_tiles=tiles(figures.day_figures(scope, today)),
            compare_tiles=tiles(figures.day_figures(scope, compare)),
            **week_context(scope, today),
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


class MyActivityView(ActivityView):
    template_name = "wagtail_helpdesk/admin/productivity.html"
    page_title = _("My activity")

    def dispatch(self, request, *args, **kwargs):
        if not is_operator(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def scope(self):
        return figures.personal(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if ticket_policy().user_has_permission(self.request.user, "dashboard"):
            context["office_url"] = reverse(OFFICE_URL_NAME)
        return context


class OfficeActivityView(ActivityView, dashboard.SupervisorView):
    template_name = "wagtail_helpdesk/admin/productivity_office.html"
    page_title = _("Office activity")

    def get_context_data(self, **kwargs):
        self.office_form = dashboard.OfficeFilterForm(self.request.GET or None,
                                                      offices=self.offices)
        context = super().get_context_data(**kwargs)
        enabled = figures.operator_figures_enabled(Site.find_for_request(self.request))
        context.update(office_form=self.office_form, office=self.office,
                       operator_figures=enabled, my_activity_url=reverse(URL_NAME))
        if not enabled:
            self._hide_lone_work(context)
        else:
            members = self.members()
            context["operators"] = [
                {"day": day, "rows": [self._operator_row(row) for row in
                                      figures.per_operator(self.scope(), day, members)]}
                for day in (context["today"], context["compare"])
            ]
        return context

    def _hide_lone_work(self, context):
        """Each operator's figures are off: hide the figures of a day (and the
        week's by channel) in which fewer than ``MIN_PEOPLE`` people worked on
        the offices shown — they would be one person's. One query."""
        today, compare, week = context["today"], context["compare"], context["week"]
        people = figures.people_by_day(self.scope(), [*week, compare])

        def few(ids):
            return len(ids) < figures.MIN_PEOPLE

        context["today_hidden"] = few(people[today])
        context["compare_hidden"] = few(people[compare])
        hidden_days = [row for row in context["week_by_day"] if few(people[row["day"]])]
        for row in hidden_days:
            row.update(dict.fromkeys((key for key, _l in figures.FIGURES), 0), hidden=True)
        if hidden_days:
            context["week_hidden_days"] = True
            context["day_chart"] = bar_chart(context["week_by_day"], DAY_SERIES)
        if few(frozenset().union(*(people[day] for day in week))):
            context.update(week_by_channel=[], channel_chart=None, channel_hidden=True)

    def scope(self):
        form = self.office_form
        self.office = form.cleaned_data.get("office") if form.is_valid() else None
        if self.office is not None:
            return figures.offices([self.office.pk])
        if ticket_policy().sees_all_offices(self.request.user):
            return figures.offices()
        return figures.offices(office_ids_for(self.request.user))

    def members(self):
        users = get_user_model().objects.all()
        if self.office is not None:
            return users.filter(helpdesk_memberships__office=self.office)
        if ticket_policy().sees_all_offices(self.request.user):
            return users.filter(helpdesk_memberships__isnull=False).distinct()
        return users.filter(
            helpdesk_memberships__office_id__in=office_ids_for(self.request.user)).distinct()

    @staticmethod
    def _operator_row(row):
        average, count = _rating(row["satisfaction"])
        return {**row, "wait": format_duration(row["first_response"]) or "—",
                "rating": average, "rating_count": count or 0}


class MyActivityMenuItem(MenuItem):
    def is_shown(self, request):
        return is_operator(request.user)


def urls():
    return [
        path("helpdesk/activity/", MyActivityView.as_view(), name=URL_NAME),
        path("helpdesk/activity/office/", OfficeActivityView.as_view(), name=OFFICE_URL_NAME),
    ]


def _my_activity_item():
    return MyActivityMenuItem(_("My activity"), reverse(URL_NAME), name="helpdesk-my-activity",
                              icon_name="time", order=106)


def _office_activity_item():
    return dashboard.DashboardMenuItem(_("Office activity"), reverse(OFFICE_URL_NAME),
                                       name="helpdesk-office-activity", icon_name="time",
                                       order=113)


def menu_items():
    return [_my_activity_item, _office_activity_item]

