"""Segnalazioni raggruppate: the supervisors' view of open reports that are
probably about the same problem (:mod:`wagtail_helpdesk.ai.clusters`),
largest group first.

Who sees it, and which offices, as the supervisor dashboard: users with
``view_helpdesk_dashboard`` see the offices they belong to (those who see
every office, all of them), and may narrow it to one office. Switched off
with the similar tickets in the AI assist settings. A constant number of
queries, whatever the number of reports (pinned by tests).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem

from ..ai import switches
from ..ai.clusters import report_clusters
from ..errors import HelpdeskError
from ..permissions import office_ids_for, ticket_policy
from ..services.duplicates import link_duplicate
from ..tickets.queries import visible_tickets
from .dashboard import OfficeFilterForm, SupervisorView

URL_NAME = "wagtail_helpdesk_clusters"
LINK_URL_NAME = "wagtail_helpdesk_clusters_link"

#: How many reports one "link all" takes at most (each is its own change).
MAX_LINKED = 50


class ClustersView(SupervisorView):
    template_name = "wagtail_helpdesk/admin/ai/clusters.html"
    page_title = _("Grouped reports")
    header_icon = "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = OfficeFilterForm(self.request.GET or None, offices=self.offices)
        office = form.cleaned_data.get("office") if form.is_valid() else None
        enabled = switches.enabled("similar")
        clusters = []
        if enabled:
            tickets = visible_tickets(self.request.user, "dashboard")
            if office is not None:
                tickets = tickets.filter(office=office)
            clusters = report_clusters(tickets)
        user, policy = self.request.user, ticket_policy()
        everywhere = policy.sees_all_offices(user)
        mine = frozenset() if everywhere else office_ids_for(user)
        may_change = policy.user_has_permission(user, "change")
        for cluster in clusters:  # "link all" only where the user may change every report
            cluster.can_link = bool(may_change and cluster.unlinked and all(
                everywhere or r.office_id in mine for r in cluster.reports))
        context.update(form=form, office=office, enabled=enabled, clusters=clusters,
                       reports=sum(c.size for c in clusters),
                       link_url=reverse(LINK_URL_NAME))
        return context


def _ids(values):
    return sorted({int(v) for v in values if str(v).isdigit()})


@require_POST
def link_cluster(request):
    """Collega tutti come duplicati: each report of a group to the group's
    primary, one service call each (a refusal leaves the others linked);
    back to the page with what happened."""
    office = request.POST.get("office", "")
    back = redirect(reverse(URL_NAME) + (f"?office={office}" if office.isdigit() else ""))
    if not ticket_policy().user_has_permission(request.user, "dashboard"):
        raise PermissionDenied
    if not request.POST.get("confirmed"):
        messages.error(request, _now("Confirm that the reports are about the same problem."))
        return back
    visible = visible_tickets(request.user)
    primary_pk = request.POST.get("primary", "")
    primary = visible.filter(pk=int(primary_pk)).first() if primary_pk.isdigit() else None
    ids = _ids(request.POST.getlist("tickets"))[:MAX_LINKED]
    if primary is None or not ids:
        messages.error(request, _now("Those reports cannot be found any more: nothing was "
                                     "linked."))
        return back
    linked, refused = [], []
    for ticket in visible.filter(pk__in=ids).order_by("pk"):
        if ticket.pk == primary.pk or ticket.duplicate_of_id == primary.pk:
            continue
        try:
            link_duplicate(ticket, request.user, primary)
        except (HelpdeskError, PermissionDenied) as exc:
            refused.append(f"{ticket.reference}: {getattr(exc, 'message', None) or exc}")
        else:
            linked.append(ticket.reference)
    if linked:
        messages.success(request, ngettext(
            "%(count)d report linked as a duplicate of %(primary)s.",
            "%(count)d reports linked as duplicates of %(primary)s.", len(linked))
            % {"count": len(linked), "primary": primary.reference})
    for reason in refused:
        messages.error(request, reason)
    return back


class ClustersMenuItem(MenuItem):
    """Shown to the users who may see the supervisor dashboard."""

    def is_shown(self, request):
        return ticket_policy().user_has_permission(request.user, "dashboard")


def clusters_urls():
    """The view's url (mounted by ``wagtail_hooks`` under the admin)."""
    return [path("helpdesk/grouped-reports/", ClustersView.as_view(), name=URL_NAME),
            path("helpdesk/grouped-reports/link/", link_cluster, name=LINK_URL_NAME)]


def clusters_menu_item(order=112):
    """The menu item, next to the dashboard's (for ``MENU_HOOK``)."""
    return ClustersMenuItem(_("Grouped reports"), reverse(URL_NAME), name="helpdesk-clusters",
                            icon_name="group", order=order)
