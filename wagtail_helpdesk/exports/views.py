"""The user's background exports of the ticket list: their page (status,
progress, download, delete) and the download, served from the private
storage only to whoever asked for the export, while they still may work on
tickets and see every office it covers (:mod:`.access`).

The page refreshes itself while an export is being prepared with the
overviews' controller (``dashboard.js`` + ``overviews.js``); without
JavaScript a "Refresh" link does it.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ..models import ExportStatus, TicketExport
from . import tasks
from .access import may_download, may_export

#: Exports listed (the newest).
LISTED = 30
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _own_export(request, pk):
    if not may_export(request.user):
        raise PermissionDenied
    return get_object_or_404(TicketExport, pk=pk, requested_by=request.user)


class ExportsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/exports/index.html"
    page_title = _("Your exports")
    header_icon = "download"

    def dispatch(self, request, *args, **kwargs):
        if not may_export(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        from django.urls import reverse

        return [*super().get_breadcrumbs_items(),
                {"url": reverse("helpdesk_tickets:index"), "label": _("Tickets")},
                {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        exports = list(TicketExport.objects.filter(requested_by=self.request.user)
                       .order_by("-created_at", "-pk")[:LISTED])
        context.update(
            exports=exports, statuses=ExportStatus,
            downloadable={e.pk for e in exports if may_download(self.request.user, e)},
            running=any(e.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
                        for e in exports),
            refresh_seconds=3, refresh_max_seconds=600, refresh_idle_seconds=120)
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


@require_safe
def download(request, pk):
    export = _own_export(request, pk)
    if export.status != ExportStatus.DONE or not export.file:
        raise Http404
    if not may_download(request.user, export):  # moved to other offices since
        raise Http404
    try:
        handle = export.file.storage.open(export.file.name, "rb")
    except OSError as exc:
        raise Http404 from exc
    name = f"tickets-{export.created_at:%Y%m%d-%H%M}.{export.format}"
    response = FileResponse(handle, as_attachment=True, filename=name,
                            content_type=CONTENT_TYPES[export.format])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def delete(request, pk):
    tasks.delete_export(_own_export(request, pk))
    messages.success(request, _("Export deleted."))
    return redirect("helpdesk_tickets:exports")


def export_urls():
    """The URLs of this module, for the tickets' viewset (``helpdesk_tickets:`` names)."""
    return [
        path("exports/", ExportsView.as_view(), name="exports"),
        path("exports/<int:pk>/download/", download, name="export_download"),
        path("exports/<int:pk>/delete/", delete, name="export_delete"),
    ]
