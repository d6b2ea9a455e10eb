"""Cruscotto: the supervisors' dashboard of workload and service levels.

Supervisors see the offices they belong to, helpdesk administrators and
superusers every office; both can narrow it to one office. The figures come
from :mod:`wagtail_helpdesk.admin.metrics`: today's live, the closed days
from the daily figures (:mod:`wagtail_helpdesk.insight.daily`). The page reloads its
figures every minute (``dashboard.js`` asks for the same URL with the
``X-Helpdesk-Fragment`` header and swaps the content); without JavaScript the
"Refresh" link does the same by hand.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ..formats import format_duration
from ..models import Office
from ..permissions import office_ids_for, ticket_policy
from ..tickets.queries import visible_tickets
from . import metrics

URL_NAME = "wagtail_helpdesk_dashboard"
FRAGMENT_HEADER = "X-Helpdesk-Fragment"
REFRESH_SECONDS = 60


class OfficeFilterForm(forms.Form):
    office = forms.ModelChoiceField(
        label=_("Office"), queryset=Office.objects.none(), required=False,
        empty_label=_("All offices"),
        # Wagtail's Stimulus controller submits the form on change; the button
        # next to it does the same without JavaScript.
        widget=forms.Select(attrs={"data-controller": "w-submit",
                                   "data-action": "change->w-submit#submit"}),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices


# Geometry of the opened/resolved chart (SVG user units).
_CHART = {"width": 760, "height": 240, "left": 36, "right": 8, "top": 12, "bottom": 34}


def _scale(value):
    """The axis: a step of 1, 2 or 5 × 10ⁿ giving at most 5 intervals, and the
    top (a multiple of the step, at least 4) the busiest day fits under."""
    value = max(value, 4)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= 5 * step * factor:
                size = step * factor
                return size, -(-value // size) * size
        step *= 10


def chart(series):
    """Bar positions for the opened/resolved chart, computed from the series
    (one entry per day: at most a few dozen, never per ticket)."""
    c = _CHART
    plot_w = c["width"] - c["left"] - c["right"]
    plot_h = c["height"] - c["top"] - c["bottom"]
    step, top = _scale(max([d["opened"] for d in series] + [d["resolved"] for d in series]
                           + [0]))
    slot = plot_w / max(len(series), 1)
    bar = slot * 0.38
    base = c["top"] + plot_h

    def height(n):
        return round(plot_h * n / top, 1)

    days = []
    for i, d in enumerate(series):
        x = c["left"] + i * slot + slot * 0.1
        days.append({
            **d,
            "x_opened": round(x, 1),
            "x_resolved": round(x + bar, 1),
            "h_opened": height(d["opened"]),
            "h_resolved": height(d["resolved"]),
            "y_opened": round(base - height(d["opened"]), 1),
            "y_resolved": round(base - height(d["resolved"]), 1),
            "label_x": round(c["left"] + i * slot + slot / 2, 1),
            "labelled": (len(series) - 1 - i) % 5 == 0,
        })
    ticks = [{"value": v, "y": round(base - plot_h * v / top, 1)}
             for v in range(0, top + 1, step)]
    return {
        **c, "plot_right": c["width"] - c["right"], "base": base, "bar": round(bar, 1),
        "days": days, "ticks": ticks, "bars": _bars(days, round(bar, 1), base),
        "total_opened": sum(d["opened"] for d in series),
        "total_resolved": sum(d["resolved"] for d in series),
    }


def _bars(days, bar, base):
    """The chart's bars, one group per day: made here rather than in the
    template (a few hundred template variables and filters a page). Geometry
    as plain numbers (``str``: never a decimal comma); the text localised and
    escaped: the day as the ``date`` filter writes ``"D j/n"`` and ``"j/n"``."""
    opened_resolved = gettext("%(opened)s opened, %(resolved)s resolved")
    groups = []
    for d in days:
        day = d["day"]
        short = f"{day.day}/{day.month}"
        title = escape("{} {}: {}".format(WEEKDAYS_ABBR[day.weekday()], short, opened_resolved % {
            "opened": localize(d["opened"]), "resolved": localize(d["resolved"])}))
        label = (f'<text class="helpdesk-chart__axis" x="{d["label_x"]}" y="{base + 18}"'
                 f' text-anchor="middle">{short}</text>') if d["labelled"] else ""
        groups.append(
            f'<g><title>{title}</title>'
            f'<rect class="helpdesk-chart__bar helpdesk-chart__bar--opened" x="{d["x_opened"]}"'
            f' y="{d["y_opened"]}" width="{bar}" height="{d["h_opened"]}"></rect>'
            f'<rect class="helpdesk-chart__bar helpdesk-chart__bar--resolved"'
            f' x="{d["x_resolved"]}" y="{d["y_resolved"]}" width="{bar}"'
            f' height="{d["h_resolved"]}"></rect>{label}</g>')
    # Numbers and escaped text only: safe.
    return mark_safe("\n".join(groups))  # noqa: S308


class SupervisorView(WagtailAdminTemplateMixin, TemplateView):
    """A page for the users who may see the supervisor dashboard, about the
    offices they see (``self.offices``: all of them for those who see every
    office). The dashboard and the grouped reports."""

    def dispatch(self, request, *args, **kwargs):
        policy = ticket_policy()
        if not policy.user_has_permission(request.user, "dashboard"):
            raise PermissionDenied
        if policy.sees_all_offices(request.user):
            self.offices = Office.objects.order_by("name")
        else:
            self.offices = Office.objects.filter(pk__in=office_ids_for(request.user)).order_by(
                "name")
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]


class DashboardView(SupervisorView):
    template_name = "wagtail_helpdesk/admin/dashboard.html"
    fragment_template_name = "wagtail_helpdesk/admin/dashboard_figures.html"
    page_title = _("Supervisor dashboard")
    header_icon = "tasks"

    def is_fragment(self):
        return bool(self.request.headers.get(FRAGMENT_HEADER))

    def get_template_names(self):
        return [self.fragment_template_name if self.is_fragment() else self.template_name]

    def scope(self):
        """The tickets and the office members the figures are about."""
        user = self.request.user
        form = OfficeFilterForm(self.request.GET or None, offices=self.offices)
        office = form.cleaned_data.get("office") if form.is_valid() else None
        tickets = visible_tickets(user, "dashboard")
        members = get_user_model().objects.all()
        if office is not None:
            tickets = tickets.filter(office=office)
            members = members.filter(helpdesk_memberships__office=office)
            office_ids = {office.pk}
        elif not ticket_policy().sees_all_offices(user):
            office_ids = office_ids_for(user)
            members = members.filter(helpdesk_memberships__office_id__in=office_ids)
        else:
            members = members.filter(helpdesk_memberships__isnull=False)
            office_ids = None  # every office
        return form, office, tickets, members, office_ids

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        form, office, tickets, members, office_ids = self.scope()
        # The closed days come from the daily figures of the offices in scope
        # (the visible tickets: those offices' and the user's own without one).
        figures = metrics.snapshot(tickets, now, members=members, offices=office_ids)
        times = figures["response_times"]
        context.update(
            figures=figures,
            form=form,
            office=office,
            no_offices=not (ticket_policy().sees_all_offices(self.request.user)
                            or office_ids_for(self.request.user)),
            chart=chart(figures["series"]),
            times=[{"days": days, "first_response": format_duration(t["first_response"]),
                    "first_response_count": t["first_response_count"],
                    "resolution": format_duration(t["resolution"]),
                    "resolution_count": t["resolution_count"]}
                   for days, t in times.items()],
            oldest_wait=format_duration((figures["oldest_unassigned"] or {}).get("wait")),
            offices_rows=[{**row, "wait": format_duration(row["oldest_unassigned_wait"])}
                          for row in figures["offices"]],
            refresh_seconds=REFRESH_SECONDS,
            fragment_header=FRAGMENT_HEADER,
            tickets_url=reverse("helpdesk_tickets:index"),
            now=now,
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, [FRAGMENT_HEADER])
        add_never_cache_headers(response)
        return response


class DashboardMenuItem(MenuItem):
    """Shown to the users who may see the supervisor dashboard."""

    def is_shown(self, request):
        return ticket_policy().user_has_permission(request.user, "dashboard")
