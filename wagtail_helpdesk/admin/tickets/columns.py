"""The ticket list's columns: every one an operator may show, the few shown by
default (they fit a 1,280 px screen), and each operator's choice, kept in
their session.

``?columns=reference&columns=subject…`` chooses (the list's "Columns" menu
sends it); ``?columns=default`` goes back to the defaults.
"""

from django.db.models import Aggregate, CharField, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column

from ...formats import person_name
from ...models import Label, TicketLabel
from ...tickets.filter_choices import label_catalogue
from ...tickets.labels import labels_of
from .cells import DateColumn, StatusTagColumn, TextColumn, TitleColumn

SESSION_KEY = "wagtail_helpdesk_ticket_columns"
PARAM = "columns"

#: Shown unless the operator chose otherwise.
DEFAULT = ("reference", "subject", "labels", "citizen", "assignee", "status", "last_activity_at",
           "unread_count")
#: Always shown: the column that opens the ticket.
REQUIRED = ("reference",)
#: What the columns (and the list's cursors, :data:`.paging.KEYSET_FIELDS`) read of
#: a ticket and of what it is joined to: a page's rows are read with these only —
#: not the descriptions, the addresses, the citizens' contacts, the passwords…
#: (A column reading another field would cost a query per row: the tests render
#: every column and pin the queries.)
ROW_FIELDS = (
    "id", "kind", "short_code", "status", "priority", "subject", "last_activity_at",
    "unread_count", "citizen", "service", "report_category", "office", "assignee",
    "citizen__given_name", "citizen__family_name", "citizen__fiscal_code", "service__name",
    "report_category__name", "office__name", "assignee__first_name", "assignee__last_name",
    "assignee__username",
)


class LabelsColumn(Column):
    """The ticket's labels as coloured chips (their names are the text)."""

    cell_template_name = "wagtail_helpdesk/admin/labels/chips_cell.html"

    def get_value(self, instance):
        listed = getattr(instance, LISTED_LABELS, None)  # read with the page
        return listed if listed is not None else labels_of(instance)


#: Where :func:`attach_labels` puts a listed ticket's labels.
LISTED_LABELS = "_listed_labels"


class _LabelIds(Aggregate):
    """The ids of a ticket's labels as one string ("3,12"): ``string_agg`` on
    PostgreSQL, ``group_concat`` on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(CAST(%(expressions)s AS TEXT), ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT",
                              template="%(function)s(%(expressions)s, ',')", **extra)


def with_label_ids(tickets):
    """``tickets`` with their label ids read in the same query (a correlated
    subquery on the (ticket, label) index) instead of a prefetch: one query
    less a page; :func:`attach_labels` turns them into labels."""
    ids = (TicketLabel.objects.filter(ticket_id=OuterRef("pk")).order_by()
           .values("ticket_id").annotate(ids=_LabelIds("label_id")).values("ids"))
    return tickets.prefetch_related(None).annotate(_label_ids=Subquery(ids))


def attach_labels(tickets):
    """Give each of ``tickets`` (read by :func:`with_label_ids`) its labels, by
    name, from the cached catalogue (a query only for labels it lacks)."""
    wanted = {int(pk) for t in tickets for pk in (t._label_ids or "").split(",") if pk}
    catalogue = label_catalogue()
    known = {pk: Label(pk=pk, name=name, colour=colour, office_id=office_id)
             for pk, (name, colour, office_id) in catalogue.items() if pk in wanted}
    if missing := wanted - set(known):  # made since the catalogue was cached
        known.update(Label.objects.in_bulk(missing))
    for ticket in tickets:
        labels = [known[int(pk)] for pk in (ticket._label_ids or "").split(",")
                  if pk and int(pk) in known]
        setattr(ticket, LISTED_LABELS,
                sorted(labels, key=lambda label: (label.name.lower(), label.pk)))
    return tickets


def _topic(ticket):
    return ticket.topic or ""


def available(get_url):
    """Every column, in the order the list shows them; ``get_url`` links the code."""
    return {
        "reference": TitleColumn(
            "reference", label=_("Code"), accessor="reference", get_url=get_url,
            sort_key="short_code", get_title_id=lambda t: f"ticket_{t.pk}_title",
            classname="w-whitespace-nowrap"),
        "kind": TextColumn("kind", label=_("Kind"), accessor="get_kind_display", sort_key="kind"),
        "subject": TextColumn("subject", label=_("Subject"), accessor="subject"),
        "labels": LabelsColumn("labels", label=_("Labels")),
        "citizen": TextColumn("citizen", label=_("Citizen"), accessor="citizen"),
        "topic": TextColumn("topic", label=_("Service / problem type"), accessor=_topic),
        "office": TextColumn("office", label=_("Office"), accessor="office"),
        "assignee": TextColumn("assignee", label=_("Assignee"),
                               accessor=lambda t: person_name(t.assignee)),
        "priority": TextColumn("priority", label=_("Priority"),
                               accessor="get_priority_display", sort_key="priority"),
        "status": StatusTagColumn("status", label=_("Status"), accessor="get_status_display",
                                  primary=lambda t: t.is_open, sort_key="status"),
        "last_activity_at": DateColumn("last_activity_at", label=_("Last interaction"),
                                       sort_key="last_activity_at"),
        "unread_count": TextColumn("unread_count", label=_("Unread"),
                                   accessor="unread_count", sort_key="unread_count"),
    }


def chosen(request, names):
    """The names of the columns to show: what the request chooses (then kept in
    the session), else the session's, else :data:`DEFAULT`. Unknown names are
    ignored; the code column is always there."""
    asked = request.GET.getlist(PARAM)
    if asked == ["default"]:
        request.session.pop(SESSION_KEY, None)
    elif asked:
        request.session[SESSION_KEY] = [n for n in asked if n in names]
    picked = set(request.session.get(SESSION_KEY) or DEFAULT) | set(REQUIRED)
    return [name for name in names if name in picked]
