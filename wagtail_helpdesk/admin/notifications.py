""""Notifiche non consegnate": the notifications that failed (or were
skipped), with the error and a retry button, for supervisors (their offices'
tickets) and administrators (all). Under /admin/helpdesk/notifications/."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.viewsets.base import ViewSet

from ..models import Notification, NotificationChannel, NotificationStatus
from ..notifications import outbox, tasks
from ..notifications.kinds import describe
from ..permissions import ticket_policy
from ..tickets.queries import visible_tickets
from .viewsets import MENU_HOOK

#: Skipped rows (a citizen not on App IO) are not failures: only the timeline notes them.
UNDELIVERED = (NotificationStatus.FAILED,)


def may_see(user):
    return ticket_policy().user_has_permission(user, "dashboard")


def undelivered(user):
    """The failed or skipped notifications of tickets ``user`` supervises
    (and, for those who see every office, those without a ticket)."""
    scope = Q(ticket__in=visible_tickets(user, "dashboard"))
    if ticket_policy().sees_all_offices(user):
        scope |= Q(ticket__isnull=True)
    return (Notification.objects.filter(scope, status__in=UNDELIVERED)
            .select_related("ticket"))


class TemplateColumn(Column):
    def get_value(self, instance):
        return describe(instance.template)


class AddressColumn(Column):
    """E-mail addresses as they are; App IO rows say "App IO", not the fiscal code."""

    def get_value(self, instance):
        if instance.channel == NotificationChannel.APP_IO:
            return NotificationChannel.APP_IO.label
        return instance.address


class TicketColumn(Column):
    cell_template_name = "wagtail_helpdesk/admin/includes/notification_ticket_cell.html"


class RetryColumn(Column):
    cell_template_name = "wagtail_helpdesk/admin/includes/notification_retry_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["retry_url"] = reverse("helpdesk_notifications:retry", args=[instance.pk])
        return context


class UndeliveredIndexView(IndexView):
    model = Notification
    permission_policy = None  # checked in dispatch: supervisors and administrators
    page_title = _("Undelivered notifications")
    header_icon = "warning"
    paginate_by = 50
    default_ordering = "-created_at"
    columns = [
        DateColumn("created_at", label=_("Queued")),
        TemplateColumn("template", label=_("Notification")),
        TicketColumn("ticket", label=_("Ticket")),
        AddressColumn("address", label=_("To")),
        Column("get_status_display", label=_("Status")),
        Column("attempts", label=_("Attempts")),
        Column("last_error", label=_("Error")),
        RetryColumn("retry", label=""),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not may_see(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return undelivered(self.request.user)


@require_POST
def retry(request, pk):
    if not may_see(request.user):
        raise PermissionDenied
    notification = get_object_or_404(undelivered(request.user), pk=pk)
    if outbox.retry(notification):
        tasks.enqueue([notification.pk])
        messages.success(request, _("The notification will be sent again in a moment."))
    return redirect("helpdesk_notifications:index")


class UndeliveredViewSet(ViewSet):
    icon = "warning"
    menu_label = _("Undelivered notifications")
    menu_hook = MENU_HOOK
    menu_order = 130
    add_to_admin_menu = False

    def get_urlpatterns(self):
        names = {"index_url_name": self.get_url_name("index"),
                 "index_results_url_name": self.get_url_name("index_results")}
        return [
            path("", UndeliveredIndexView.as_view(**names), name="index"),
            path("results/", UndeliveredIndexView.as_view(**names, results_only=True),
                 name="index_results"),
            path("<int:pk>/retry/", retry, name="retry"),
        ]

    def get_menu_item(self, order=None):
        item = super().get_menu_item(order)
        item.is_shown = lambda request: may_see(request.user)
        return item


undelivered_viewset = UndeliveredViewSet("helpdesk_notifications",
                                         url_prefix="helpdesk/notifications")
