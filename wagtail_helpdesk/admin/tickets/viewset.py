"""The Tickets viewset: list, ticket page and actions, under /admin/helpdesk/tickets/.

There is no generic add/edit/delete: tickets change only through the services
layer, via the action views.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSet

from ...exports.views import export_urls
from ...models import Ticket
from ..assist import assist_urls
from ..similar import similar_urls
from ..viewsets import MENU_HOOK
from .actions import ticket_action
from .consults import end_consult, grant_consult
from .create import TicketCreateView
from .detail import TicketDetailView, attachment_download
from .linking import link_citizen
from .listing import TicketIndexView
from .viewers import ticket_viewers


class TicketViewSet(ModelViewSet):
    model = Ticket
    icon = "clipboard-list"
    menu_label = _("Tickets")
    menu_name = "helpdesk-tickets"
    menu_order = 100
    menu_hook = MENU_HOOK
    add_to_admin_menu = False
    index_view_class = TicketIndexView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs.update(add_url_name=self.get_url_name("create"), edit_url_name=None,
                      delete_url_name=None,
                      detail_url_name=self.get_url_name("detail"))
        return kwargs

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", TicketCreateView.as_view(), name="create"),
            path("<int:pk>/edit/", TicketCreateView.as_view(), name="edit_draft"),
            path("<int:pk>/", TicketDetailView.as_view(), name="detail"),
            path("<int:pk>/viewers/", ticket_viewers, name="viewers"),
            path("<int:pk>/attachments/<int:attachment_pk>/", attachment_download,
                 name="attachment"),
            path("<int:pk>/link-citizen/", link_citizen, name="link_citizen"),
            path("<int:pk>/consults/", grant_consult, name="consult"),
            path("<int:pk>/consults/<int:user_pk>/end/", end_consult, name="end_consult"),
            *assist_urls(),
            *similar_urls(),
            *export_urls(),
            path("<int:pk>/<slug:action>/", ticket_action, name="action"),
        ]


ticket_viewset = TicketViewSet("helpdesk_tickets", url_prefix="helpdesk/tickets")
