"""Registration with Wagtail: admin viewsets and the Helpdesk menu. Thin."""

from wagtail import hooks

from .admin import (  # noqa: F401
    hooks_citizens,
    hooks_dashboard,
    hooks_presence,
    hooks_quickreplies,
    preferences,
)
from .admin.attention import MyTicketsPanel
from .admin.notifications import undelivered_viewset
from .admin.tickets.bulk import BULK_ACTIONS
from .admin.tickets.viewset import ticket_viewset
from .admin.viewsets import HelpdeskViewSetGroup, catalogue_viewsets
from .open311.admin import open311_client_viewset


@hooks.register("register_admin_viewset")
def register_helpdesk_viewsets():
    return [HelpdeskViewSetGroup(), ticket_viewset, undelivered_viewset, *catalogue_viewsets,
            open311_client_viewset]


@hooks.register("register_admin_urls")
def register_helpdesk_root_url():
    """/admin/helpdesk/ itself: the operator's ticket list."""
    from django.urls import path
    from django.views.generic import RedirectView

    return [path("helpdesk/", RedirectView.as_view(pattern_name="helpdesk_tickets:index"),
                 name="helpdesk_root")]


@hooks.register("construct_homepage_panels")
def add_my_tickets_panel(request, panels):
    from .permissions import ticket_policy

    if ticket_policy().user_has_permission(request.user, "change"):
        panels.append(MyTicketsPanel())


for _bulk_action in BULK_ACTIONS:
    hooks.register("register_bulk_action", _bulk_action)
