"""The ticket list's columns: every one an operator may show, the few shown by
default (they fit a 1,280 px screen), and each operator's choice, kept in
their session.

``?columns=reference&columns=subject…`` chooses (the list's "Columns" menu
sends it); ``?columns=default`` goes back to the defaults.
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn

from ...formats import person_name
from ...tickets.labels import labels_of

SESSION_KEY = "wagtail_helpdesk_ticket_columns"
PARAM = "columns"

#: Shown unless the operator chose otherwise.
DEFAULT = ("reference", "subject", "labels", "citizen", "assignee", "status", "last_activity_at",
           "unread_count")
#: Always shown: the column that opens the ticket.
REQUIRED = ("reference",)


class LabelsColumn(Column):
    """The ticket's labels as coloured chips (their names are the text)."""

    cell_template_name = "wagtail_helpdesk/admin/labels/chips_cell.html"

    def get_value(self, instance):
        return labels_of(instance)


def _topic(ticket):
    return ticket.topic or ""


def available(get_url):
    """Every column, in the order the list shows them; ``get_url`` links the code."""
    return {
        "reference": TitleColumn(
            "reference", label=_("Code"), accessor="reference", get_url=get_url,
            sort_key="short_code", get_title_id=lambda t: f"ticket_{t.pk}_title",
            classname="w-whitespace-nowrap"),
        "kind": Column("kind", label=_("Kind"), accessor="get_kind_display", sort_key="kind"),
        "subject": Column("subject", label=_("Subject"), accessor="subject"),
        "labels": LabelsColumn("labels", label=_("Labels")),
        "citizen": Column("citizen", label=_("Citizen"), accessor="citizen"),
        "topic": Column("topic", label=_("Service / problem type"), accessor=_topic),
        "office": Column("office", label=_("Office"), accessor="office"),
        "assignee": Column("assignee", label=_("Assignee"),
                           accessor=lambda t: person_name(t.assignee)),
        "priority": Column("priority", label=_("Priority"), accessor="get_priority_display",
                           sort_key="priority"),
        "status": StatusTagColumn("status", label=_("Status"), accessor="get_status_display",
                                  primary=lambda t: t.is_open, sort_key="status"),
        "last_activity_at": DateColumn("last_activity_at", label=_("Last interaction"),
                                       sort_key="last_activity_at"),
        "unread_count": Column("unread_count", label=_("Unread"), accessor="unread_count",
                               sort_key="unread_count"),
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
