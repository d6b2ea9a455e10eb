"""Wagtail hook registrations for the dashboard screens (imported by wagtail_hooks)."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .viewsets import MENU_HOOK

URL_NAME = "wagtail_helpdesk_dashboard"


@hooks.register("register_admin_urls")
def register_dashboard_url():
    from .dashboard import DashboardView

    return [path("helpdesk/dashboard/", DashboardView.as_view(), name=URL_NAME)]


class DashboardMenuItem(MenuItem):
    """Shown to the users who may see the supervisor dashboard."""

    def is_shown(self, request):
        from ..permissions import ticket_policy

        return ticket_policy().user_has_permission(request.user, "dashboard")


@hooks.register(MENU_HOOK)
def register_dashboard_menu_item():
    return DashboardMenuItem(
        _("Supervisor dashboard"), reverse(URL_NAME), name="helpdesk-dashboard",
        icon_name="tasks", order=110,
    )
