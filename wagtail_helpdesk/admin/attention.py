"""What needs an operator's attention: the figure on the Helpdesk menu and the
operator's panel on the Wagtail dashboard.

The figure is cached per user for ``CACHE_SECONDS``, with the "generations"
of the offices it counts (:mod:`wagtail_helpdesk.tickets.live` bumps them when
a ticket of the office changes): a new ticket is never hidden by the cache.
"""

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.menu import SubmenuMenuItem
from wagtail.admin.ui.components import Component

from ..permissions import office_ids_for, prime, ticket_policy
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
    user's own open tickets, cached for a few seconds per user unless a
    ticket of those offices changed meanwhile.

    Uncached, two queries: the user's offices with the two permissions the
    figure depends on (:func:`~wagtail_helpdesk.permissions.prime`), then
    both figures in one statement (:func:`_count`)."""
    key = _cache_key(user)
    cached = cache.get(key)
    if isinstance(cached, dict) and generations(cached["scopes"]) == cached["generations"]:
        return cached["total"]
    prime(user, ("change", "view_all"))
    if not ticket_policy().user_has_permission(user, "change"):
        return 0
    scopes = generation_scopes(user)
    tokens = generations(scopes)  # before counting: a change meanwhile recounts
    total = _count(user)
    if tokens is not None:
        cache.set(key, {"total": total, "scopes": scopes, "generations": tokens},
                  CACHE_SECONDS)
    return total


def _count(user):
    """Both figures, in one statement of index-served parts: the pending
    tickets of the user's offices (a range of ``helpdesk_t_pending`` per
    office), their own without an office, and the unread messages on their
    open tickets (``helpdesk_t_unread``). The offices are a list, not an
    ``OR`` with the tickets without one: with the ``OR`` no index range
    serves the count and every office's pending tickets are read."""
    visible = visible_tickets(user, "change", as_lists=True)
    pending = visible.filter(_PENDING)
    if ticket_policy().sees_all_offices(user):
        parts = [pending]
    else:
        parts = [pending.filter(office_id__in=sorted(office_ids_for(user))),
                 pending.filter(office__isnull=True)]
    figures = [("COUNT(*)", part.values("pk")) for part in parts]
    figures.append(("SUM(unread_count)", visible.filter(_unread(user)).values("unread_count")))
    selects, params = [], []
    for n, (aggregate, rows) in enumerate(figures):
        try:
            sql, values = rows.order_by().query.get_compiler(rows.db).as_sql()
        except EmptyResultSet:  # e.g. no offices: nothing to count
            continue
        # The ORM's own compilation (values are parameters): no injection.
        selects.append(f"(SELECT {aggregate} FROM ({sql}) AS part{n})")  # noqa: S608
        params += values
    if not selects:
        return 0
    with connections[visible.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        row = cursor.fetchone()
    return sum(value or 0 for value in row)


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
