"""What needs an operator's attention: the figure on the Helpdesk menu and the
operator's panel on the Wagtail dashboard.

The figure is cached per user for ``CACHE_SECONDS``, with the "generations"
of the offices it counts (:mod:`wagtail_helpdesk.tickets.live` bumps them when
a ticket of the office changes): a new ticket is never hidden by the cache.
"""

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import SubmenuMenuItem
from wagtail.admin.ui.components import Component

from ..permissions import office_ids_for, ticket_policy
from ..tickets.live import generations
from ..tickets.queries import visible_tickets
from ..workflow import OPEN_STATUSES, Status

CACHE_SECONDS = 30
#: Both figures concern open tickets only, each served by a partial index
#: (``helpdesk_t_pending``, ``helpdesk_t_unread``): the count never walks
#: the resolved ones.
_PENDING = Q(status=Status.NEW, assignee__isnull=True)


def _unread(user):
    # Tickets without unread messages add nothing to the sum: left out.
    return Q(assignee=user, status__in=OPEN_STATUSES, unread_count__gt=0)


def _cache_key(user):
    return f"wagtail_helpdesk:attention:{user.pk}"


def generation_scopes(user):
    """The generations the user's figures depend on: every office's for those
    who see all, else their offices'; and their own (drafts without an office,
    chat messages on their tickets)."""
    if ticket_policy().sees_all_offices(user):
        return ["all", f"u{user.pk}"]
    return [*(f"o{pk}" for pk in sorted(office_ids_for(user))), f"u{user.pk}"]


def attention_count(user):
    """Pending tickets of the user's offices plus unread citizen messages on the
    user's own open tickets. Two index-served queries (and the user's offices),
    cached for a few seconds per user unless a ticket of those offices changed
    meanwhile."""
    key = _cache_key(user)
    cached = cache.get(key)
    if isinstance(cached, dict) and generations(cached["scopes"]) == cached["generations"]:
        return cached["total"]
    if not ticket_policy().user_has_permission(user, "change"):
        return 0
    scopes = generation_scopes(user)
    tokens = generations(scopes)  # before counting: a change meanwhile recounts
    visible = visible_tickets(user, "change")
    # Two small counts, each served by its partial index (one OR-ed query
    # lets PostgreSQL intersect with the office index: every ticket of the
    # offices is read).
    pending = visible.filter(_PENDING).count()
    unread = visible.filter(_unread(user)).aggregate(n=Sum("unread_count"))["n"]
    total = pending + (unread or 0)
    if tokens is not None:
        cache.set(key, {"total": total, "scopes": scopes, "generations": tokens},
                  CACHE_SECONDS)
    return total


def menu_label(label, count):
    """The Helpdesk menu's label with its figure (none when zero)."""
    if not count:
        return str(label)
    return _("%(label)s (%(count)d)") % {"label": label, "count": count}


class HelpdeskMenuItem(SubmenuMenuItem):
    """The Helpdesk group's menu item, its label carrying the attention figure."""

    def render_component(self, request):
        component = super().render_component(request)
        count = attention_count(request.user)
        if count:
            component.label = menu_label(self.label, count)
        return component


class MyTicketsPanel(Component):
    """Dashboard panel: the operator's open tickets and their offices' queue."""

    name = "helpdesk_my_tickets"
    template_name = "wagtail_helpdesk/admin/home_panel.html"
    order = 50
    limit = 10

    def get_context_data(self, parent_context):
        request = parent_context["request"]
        mine = (
            visible_tickets(request.user, "change")
            .filter(assignee=request.user, status__in=OPEN_STATUSES)
            .select_related("citizen")
            .order_by("-unread_count", "due_at", "-last_activity_at")[: self.limit]
        )
        return {
            "tickets": list(mine),
            "attention": attention_count(request.user),
            "request": request,
        }
