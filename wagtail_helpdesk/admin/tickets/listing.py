"""The ticket list ("Elenco ticket"): queues, filters, search, columns, export.

One query for the page of tickets (its ids found first in the tickets alone,
then only those rows joined to what a row shows, with their labels' ids and
the count), whatever the number of rows. At scale (issue 20): the count is
bounded and deep pages are keyset cursors (:mod:`.paging`); the search
recognises what was typed (:mod:`~wagtail_helpdesk.tickets.search`); the
menus of the filters are cached; the table, its cells and the filter menus
are written in Python with the templates' markup (:mod:`.cells`,
:mod:`.widget_html`).
"""

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic import IndexView

from ...tickets import labels
from ...tickets.filters import TicketFilterSet
from ...tickets.queries import visible_tickets
from ...tickets.queues import BY_SLUG, DEFAULT, QUEUES
from ...tickets.search import search
from ..presence import PresenceSwitch
from . import columns, paging
from .cells import BulkActionsCheckboxColumn, Table
from .export import TicketExportMixin
from .widget_html import RENDERER

#: What a row shows of a ticket's relations (joined in).
ROW_RELATED = ("citizen", "service", "report_category", "office", "assignee")


class TicketIndexView(TicketExportMixin, IndexView):
    template_name = "wagtail_helpdesk/admin/ticket_index.html"
    results_template_name = "wagtail_helpdesk/admin/ticket_index_results.html"
    filterset_class = TicketFilterSet
    search_fields = ["subject"]  # enables the search box; the search itself is ours
    search_backend_name = None
    default_ordering = "-last_activity_at"
    paginate_by = 50
    paginator_class = paging.CappedPaginator  # a bounded count; cursors past it
    table_class = Table  # rows written in Python (Wagtail's markup)
    page_title = _("Tickets")
    detail_url_name = None
    any_permission_required = ["view", "change"]
    list_export = ["reference", "get_kind_display", "get_status_display", "subject",
                   "citizen", "office", "assignee", "get_priority_display", "get_channel_display",
                   "created_at", "last_activity_at", "due_at", "unread_count"]
    export_headings = {
        "reference": _("Code"), "get_kind_display": _("Kind"), "get_status_display": _("Status"),
        "subject": _("Subject"), "citizen": _("Citizen"), "office": _("Office"),
        "assignee": _("Assignee"), "get_priority_display": _("Priority"),
        "get_channel_display": _("Channel"), "created_at": _("Created"),
        "last_activity_at": _("Last interaction"), "due_at": _("Due"),
        "unread_count": _("Unread"),
    }
    export_filename = "tickets"

    @cached_property
    def add_item_label(self):
        return _("New ticket")

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        switch = PresenceSwitch.for_request(self.request)
        return [switch, *buttons] if switch else buttons

    @cached_property
    def filters(self):
        filters = super().filters
        if filters is not None:  # the drawer's menus written in Python (same HTML)
            filters.form.renderer = RENDERER
        return filters

    def get_base_queryset(self):
        tickets = visible_tickets(self.request.user, as_lists=True).select_related(*ROW_RELATED)
        if "labels" in self.shown_columns:  # one query for the page's labels
            tickets = tickets.prefetch_related(labels.prefetch())
        return tickets

    def order_queryset(self, queryset):
        # The id breaks ties: numbered pages and cursors agree on one order.
        return queryset.order_by(*paging.ordering_with_id(self.ordering)) if self.ordering \
            else queryset

    @cached_property
    def cursor(self):
        """``(AFTER|BEFORE, (value, pk))`` of a valid cursor in the request, or None."""
        for name in (paging.AFTER, paging.BEFORE):
            if (found := paging.decode(self.request.GET.get(name), self.ordering)) is not None:
                return name, found
        return None

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        if not paging.keyset_field(self.ordering):  # no cursors: numbered pages, however deep
            paginator.row_limit = None
        return paginator

    def paginate_queryset(self, queryset, page_size):
        if self.cursor is None:
            paginator = self.get_paginator(queryset, page_size,
                                           orphans=self.get_paginate_orphans(),
                                           allow_empty_first_page=self.get_allow_empty())
            page = paging.numbered_page(paginator, self.request.GET.get(self.page_kwarg),
                                        rows=self.page_rows)
            if page is None:  # past the end, or empty: the paginator's usual answer
                return super().paginate_queryset(queryset, page_size)
            self.attach_labels(page.object_list)
            return paginator, page, page.object_list, page.has_other_pages()
        name, found = self.cursor
        page = paging.keyset_page(queryset, self.ordering, page_size, rows=self.page_rows,
                                  **{name: found})
        self.attach_labels(page.object_list)
        return paging.KeysetPaginator(), page, page.object_list, True

    def page_rows(self, ids):
        """The page's tickets, read by id (``ids``: a subquery of the visible,
        filtered, ordered tickets of the page — see :func:`.paging.by_ids`)
        with what a row shows joined in (only the fields the columns read), and
        the labels' ids in the same query (:func:`.columns.with_label_ids`)
        rather than a prefetch."""
        tickets = (self.model._default_manager.filter(pk__in=ids).select_related(*ROW_RELATED)
                   .only(*columns.ROW_FIELDS))
        return columns.with_label_ids(tickets) if "labels" in self.shown_columns else tickets

    def attach_labels(self, tickets):
        if "labels" in self.shown_columns:
            columns.attach_labels(tickets)

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search(queryset, self.search_query)

    def get_detail_url(self, ticket):
        return reverse(self.detail_url_name, args=[ticket.pk])

    @cached_property
    def all_columns(self):
        return columns.available(self.get_detail_url)

    @cached_property
    def shown_columns(self):
        return columns.chosen(self.request, list(self.all_columns))

    @cached_property
    def columns(self):
        return [BulkActionsCheckboxColumn("bulk_actions", obj_type="ticket"),
                *(self.all_columns[name] for name in self.shown_columns)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        current = self.request.GET.get("queue") or DEFAULT
        if current not in BY_SLUG:
            current = DEFAULT
        params = self.request.GET.copy()
        for name in ("p", paging.AFTER, paging.BEFORE):
            params.pop(name, None)
        tabs = []
        for queue in QUEUES:
            params["queue"] = queue.slug
            tabs.append({"queue": queue, "url": f"{self.index_url}?{params.urlencode()}",
                         "active": queue.slug == current})
        context["queue_tabs"] = tabs
        context["column_choices"] = [
            {"name": name, "label": column.label, "shown": name in self.shown_columns,
             "required": name in columns.REQUIRED}
            for name, column in self.all_columns.items()]
        context["column_param"] = columns.PARAM
        context["kept_params"] = [(k, v) for k, values in self.request.GET.lists()
                                  for v in values
                                  if k not in (columns.PARAM, "p", paging.AFTER, paging.BEFORE)]
        page = context.get("page_obj")
        context["keyset_page"] = page if isinstance(page, paging.KeysetPage) else None
        paginator = context.get("paginator")
        context["list_capped"] = bool(getattr(paginator, "is_capped", False))
        # The total is unknown: "Page N" without "of M".
        context["list_truncated"] = bool(getattr(paginator, "is_truncated", False)
                                         or getattr(paginator, "is_open_ended", False))
        context["next_cursor"] = (
            paging.page_cursor(page, self.ordering)
            if getattr(paginator, "is_truncated", False) and page.number == paginator.num_pages
            else None)
        return context
