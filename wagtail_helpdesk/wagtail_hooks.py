"""Every registration with Wagtail, and nothing else: admin viewsets and URLs,
the Helpdesk menu, admin CSS/JS, account panels, log actions, bulk actions
and home panels. What they register lives in ``admin/``."""

from django.templatetags.static import static
from django.urls import include, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .admin import clusters, dashboard, labels, live, overviews, presence, productivity
from .admin.attention import MyTicketsPanel
from .admin.citizens import citizen_viewset
from .admin.inbound import inbound_viewset
from .admin.mailboxes import mailbox_viewset
from .admin.notifications import undelivered_viewset
from .admin.preferences import HelpdeskNotificationsPanel
from .admin.quickreplies import quick_reply_viewset
from .admin.tickets.bulk import BULK_ACTIONS
from .admin.tickets.viewset import ticket_viewset
from .admin.viewsets import MENU_HOOK, HelpdeskViewSetGroup, catalogue_viewsets
from .open311.admin import open311_client_viewset
from .services.citizens import COMPLETE_ACTION
from .services.erasure import LOG_ACTION


@hooks.register("register_admin_viewset")
def register_helpdesk_viewsets():
    # The citizens' and quick replies' viewsets join the Helpdesk menu group
    # through its ``menu_hook``.
    return [HelpdeskViewSetGroup(), ticket_viewset, undelivered_viewset, *catalogue_viewsets,
            open311_client_viewset, citizen_viewset, quick_reply_viewset, inbound_viewset,
            mailbox_viewset]


@hooks.register("register_admin_urls")
def register_helpdesk_urls():
    from django.views.generic import RedirectView

    return [
        # /admin/helpdesk/ itself: the operator's ticket list.
        path("helpdesk/", RedirectView.as_view(pattern_name="helpdesk_tickets:index"),
             name="helpdesk_root"),
        path("helpdesk/dashboard/", dashboard.DashboardView.as_view(), name=dashboard.URL_NAME),
        path("helpdesk/presence/", presence.choose_presence, name=presence.URL_NAME),
        path("helpdesk/presence/heartbeat/", presence.heartbeat,
             name=presence.HEARTBEAT_URL_NAME),
        path("helpdesk/chat/", include("wagtail_helpdesk.admin.chat.urls")),
        *clusters.clusters_urls(),
    ]


@hooks.register(MENU_HOOK)
def register_dashboard_menu_item():
    return dashboard.DashboardMenuItem(
        _("Supervisor dashboard"), reverse(dashboard.URL_NAME), name="helpdesk-dashboard",
        icon_name="tasks", order=110,
    )


@hooks.register(MENU_HOOK)
def register_clusters_menu_item():
    return clusters.clusters_menu_item()


@hooks.register(MENU_HOOK)
def register_chat_workspace_menu_item():
    from .admin.chat.workspace import ConversationsMenuItem

    return ConversationsMenuItem(
        _("Conversations"), reverse("wagtail_helpdesk_chat:workspace"),
        name="helpdesk-chat-workspace", icon_name="comment", order=105,
    )


@hooks.register(MENU_HOOK)
def register_chat_board_menu_item():
    # Shown to the same users as the dashboard: supervisors.
    return dashboard.DashboardMenuItem(_("Live chat board"), reverse("wagtail_helpdesk_chat:board"),
                                       name="helpdesk-chat-board", icon_name="view", order=111)


@hooks.register("insert_global_admin_css")
def presence_css():
    return format_html('<link rel="stylesheet" href="{}">',
                       static("wagtail_helpdesk/admin/presence.css"))


@hooks.register("insert_global_admin_js")
def presence_heartbeat_js():
    # The script registers the ``helpdesk-presence`` Stimulus controller; the
    # hidden element runs it on every admin page, with the server's heartbeat
    # URL and interval (milliseconds).
    from .services.presence import HEARTBEAT_EVERY

    return format_html(
        '<script defer src="{}"></script>'
        '<div hidden data-controller="helpdesk-presence" data-helpdesk-presence-url-value="{}"'
        ' data-helpdesk-presence-interval-value="{}"></div>',
        static("wagtail_helpdesk/admin/presence.js"), reverse(presence.HEARTBEAT_URL_NAME),
        HEARTBEAT_EVERY * 1000,
    )


@hooks.register("insert_global_admin_js")
def chat_notifier_js():
    # The incoming-conversation notifier (``chatnotify.js``): its element asks
    # the workspace's ``incoming/`` endpoint; non-operators get a 403 and it stops.
    from .admin.chat.workspace import notifier_html

    return notifier_html()


@hooks.register("register_account_settings_panel")
def register_helpdesk_notifications_panel(request, user, profile):
    return HelpdeskNotificationsPanel(request, user, profile)


@hooks.register("register_log_actions")
def register_log_actions(actions):
    actions.register_action(LOG_ACTION, _("Erase personal data"), _("Personal data erased"))
    actions.register_action(
        COMPLETE_ACTION, _("Complete contacts"), _("Empty contacts completed by an operator"))


@hooks.register("construct_homepage_panels")
def add_my_tickets_panel(request, panels):
    from .permissions import ticket_policy

    if ticket_policy().user_has_permission(request.user, "change"):
        panels.append(MyTicketsPanel())


for _bulk_action in BULK_ACTIONS:
    hooks.register("register_bulk_action", _bulk_action)


# Labels, the live ticket list, "La mia attività" and the overviews: each
# module says what it registers.
@hooks.register("register_admin_viewset")
def register_insight_viewsets():
    return [*labels.viewsets(), *overviews.viewsets()]


@hooks.register("register_admin_urls")
def register_insight_urls():
    return [*labels.urls(), *live.urls(), *productivity.urls(), *overviews.urls()]


for _menu_item in (*productivity.menu_items(), *overviews.menu_items()):
    hooks.register(MENU_HOOK, _menu_item)


@hooks.register("insert_global_admin_js")
def live_list_js():
    return live.global_js()
