"""Overviews (resoconti) in the admin: supervisors and administrators (the
dashboard permission) request an overview of a period and offices, follow
its generation, download its PDF and XLSX, delete it, and switch the
monthly e-mail on or off.

Supervisors choose among their offices, those who see every office among all
of them (or "all offices"). The files are served only by
:class:`DownloadView`, after a permission check: to the requester, or to a
user who may see every office of the overview — never from a public URL.
The page refreshes the rows being generated (``overviews.js``, Stimulus
controller "helpdesk-overviews"); without JavaScript a "Refresh" link does it.
"""


from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from .. import throttle
from ..conf import get_setting
from ..models import Office, Overview, OverviewStatus, OverviewSubscription
from ..overviews import mail, tasks
from ..overviews.figures import MAX_DAYS
from ..permissions import office_ids_for, ticket_policy
from .metrics import local_date
from .productivity import FIRST_DAY

URL_NAME = "wagtail_helpdesk_overviews"
#: Overviews listed (the newest).
LISTED = 50
#: Seconds between two refreshes while an overview is being generated.
REFRESH_SECONDS = 3
#: The page stops refreshing by itself after this many seconds, or after
#: ``REFRESH_IDLE_SECONDS`` without any change of the list (and says so).
REFRESH_MAX_SECONDS = 600
REFRESH_IDLE_SECONDS = 120
#: Overviews one user may have queued or running at once.
PENDING_LIMIT = 3


def may_use(user):
    return ticket_policy().user_has_permission(user, "dashboard")


def allowed_offices(user):
    if ticket_policy().sees_all_offices(user):
        return Office.objects.order_by("name")
    return Office.objects.filter(pk__in=office_ids_for(user)).order_by("name")


def may_download(user, overview):
    """The requester, or a user (with the dashboard permission) who may see
    every office of the overview."""
    if not may_use(user):
        return False
    if overview.requested_by_id == user.pk or ticket_policy().sees_all_offices(user):
        return True
    if overview.all_offices:
        return False
    wanted = {o.pk for o in overview.offices.all()}
    return bool(wanted) and wanted <= office_ids_for(user)


def may_delete(user, overview):
    return may_use(user) and (overview.requested_by_id == user.pk
                              or ticket_policy().sees_all_offices(user))


class OverviewForm(forms.Form):
    LAST_MONTH, THIS_MONTH, CUSTOM = "last_month", "this_month", "custom"
    period = forms.ChoiceField(
        label=_("Period"), initial=LAST_MONTH, widget=forms.RadioSelect,
        choices=[(LAST_MONTH, _("Last month")), (THIS_MONTH, _("This month")),
                 (CUSTOM, _("Other dates"))])
    start = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To (inclusive)"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    all_offices = forms.BooleanField(label=_("All offices"), required=False)
    offices = forms.ModelMultipleChoiceField(label=_("Offices"), queryset=Office.objects.none(),
                                             required=False,
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, user, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.sees_all = ticket_policy().sees_all_offices(user)
        self.fields["offices"].queryset = allowed_offices(user)
        if not self.sees_all:
            del self.fields["all_offices"]

    def clean(self):
        data = super().clean()
        period, today = data.get("period"), self.today
        if period == self.LAST_MONTH:
            data["start"], data["end"] = mail.last_month(today)
        elif period == self.THIS_MONTH:
            data["start"], data["end"] = today.replace(day=1), today
        elif period == self.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None and "start" not in self.errors:
                self.add_error("start", _("Give the first day of the period."))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("Give the last day of the period."))
            if start and end:
                if end < start:
                    self.add_error("end", _("The last day cannot come before the first."))
                elif end > today:
                    self.add_error("end", _("The period cannot end in the future."))
                elif start < FIRST_DAY:
                    self.add_error("start", _("Choose a day from 2000 on."))
                elif (end - start).days + 1 > MAX_DAYS:
                    self.add_error("end", _("A period of at most %(days)d days.")
                                   % {"days": MAX_DAYS})
        if not data.get("all_offices") and not data.get("offices") and "offices" not in self.errors:
            self.add_error("offices", _("Choose at least one office."))
        return data


class OverviewsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/overviews/index.html"
    page_title = _("Overviews")
    header_icon = "doc-full"

    def dispatch(self, request, *args, **kwargs):
        if not may_use(request.user):
            raise PermissionDenied
        self.today = local_date(timezone.now())
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]

    def form(self, data=None):
        return OverviewForm(data, user=self.request.user, today=self.today)

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=200)
        user = request.user
        if tasks.pending(user) >= PENDING_LIMIT:
            form.add_error(None, _("You already have %(count)d overviews being generated: "
                                   "wait for one of them to be ready, then ask again.")
                           % {"count": PENDING_LIMIT})
            return self.render_to_response(self.get_context_data(form=form), status=200)
        if not throttle.allow("overviews", user.pk, get_setting("OVERVIEWS_PER_HOUR")):
            form.add_error(None, _("You asked for too many overviews in the last hour: "
                                   "try again later."))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(throttle.retry_after(throttle.WINDOW))
            return response
        data = form.cleaned_data
        tasks.request_overview(request.user, data["start"], data["end"], data["offices"],
                               bool(data.get("all_offices")))
        messages.success(request, _("The overview is being generated: it will be listed "
                                    "below, ready to download, in a few moments."))
        return redirect(URL_NAME)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        overviews = list(Overview.objects.filter(requested_by=user)
                         .prefetch_related("offices").order_by("-created_at", "-pk")[:LISTED])
        now = timezone.now()
        for overview in overviews:
            overview.may_retry = tasks.is_stuck(overview, now)
        subscription = OverviewSubscription.objects.filter(user=user).first()
        context.update(
            form=kwargs.get("form") or self.form(),
            overviews=overviews,
            running=any(o.status in (OverviewStatus.QUEUED, OverviewStatus.RUNNING)
                        and not o.may_retry for o in overviews),
            subscribed=bool(subscription and subscription.active),
            statuses=OverviewStatus,
            refresh_seconds=REFRESH_SECONDS,
            refresh_max_seconds=REFRESH_MAX_SECONDS,
            refresh_idle_seconds=REFRESH_IDLE_SECONDS,
            has_offices=ticket_policy().sees_all_offices(user) or bool(office_ids_for(user)),
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


class OverviewActionView(View):
    """The base of the POST actions on one overview (and the download)."""

    def dispatch(self, request, *args, **kwargs):
        if not may_use(request.user):
            raise PermissionDenied
        self.overview = get_object_or_404(Overview.objects.prefetch_related("offices"),
                                          pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class DownloadView(OverviewActionView):
    TYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

    def get(self, request, pk, kind):
        overview = self.overview
        if not may_download(request.user, overview):
            raise PermissionDenied
        field = getattr(overview, kind, None) if kind in self.TYPES else None
        if overview.status != OverviewStatus.DONE or not field:
            raise Http404
        try:
            handle = field.storage.open(field.name, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        name = (f"resoconto-{overview.period_start:%Y%m%d}-{overview.period_end:%Y%m%d}"
                f".{kind}")
        response = FileResponse(handle, as_attachment=True, filename=name,
                                content_type=self.TYPES[kind])
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class DeleteView(OverviewActionView):
    def post(self, request, pk):
        if not may_delete(request.user, self.overview):
            raise PermissionDenied
        tasks.delete_overview(self.overview)
        messages.success(request, _("Overview deleted."))
        return redirect(URL_NAME)


class RetryView(OverviewActionView):
    def post(self, request, pk):
        if not may_delete(request.user, self.overview):
            raise PermissionDenied
        if tasks.retry(pk):
            messages.success(request, _("The overview is being generated again."))
        return redirect(URL_NAME)


class SubscriptionView(View):
    def post(self, request):
        if not may_use(request.user):
            raise PermissionDenied
        active = request.POST.get("active") == "1"
        mail.subscribe(request.user, active, all_offices=True,
                       today=local_date(timezone.now()))
        messages.success(request, _("You will receive last month's overview by e-mail at the "
                                    "start of every month.") if active
                         else _("You will no longer receive the monthly overview by e-mail."))
        return redirect(URL_NAME)


class OverviewsMenuItem(MenuItem):
    def is_shown(self, request):
        return may_use(request.user)


def viewsets():
    return []


def urls():
    return [
        path("helpdesk/overviews/", OverviewsView.as_view(), name=URL_NAME),
        path("helpdesk/overviews/<int:pk>/download/<str:kind>/", DownloadView.as_view(),
             name=f"{URL_NAME}_download"),
        path("helpdesk/overviews/<int:pk>/delete/", DeleteView.as_view(),
             name=f"{URL_NAME}_delete"),
        path("helpdesk/overviews/<int:pk>/retry/", RetryView.as_view(),
             name=f"{URL_NAME}_retry"),
        path("helpdesk/overviews/subscription/", SubscriptionView.as_view(),
             name=f"{URL_NAME}_subscription"),
    ]


def _menu_item():
    return OverviewsMenuItem(_("Overviews"), reverse(URL_NAME), name="helpdesk-overviews",
                             icon_name="doc-full", order=112)


def menu_items():
    return [_menu_item]

