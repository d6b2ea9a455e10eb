"""The ticket list written in Python (issue 20): the filter menus, the table
and its cells give the markup of the Django and Wagtail templates they stand
for, and a page's rows are read by id (a deferred join) — the same rows."""

import re

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import get_default_renderer
from django.test import RequestFactory
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.safestring import mark_safe
from wagtail.admin.ui import tables

from tests.support.desk import ANNA, BRUNO
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets import cells, columns, paging
from wagtail_helpdesk.admin.tickets.listing import ROW_RELATED
from wagtail_helpdesk.admin.tickets.widget_html import RENDERER
from wagtail_helpdesk.models import Label, Ticket
from wagtail_helpdesk.tickets.filters import TicketFilterSet

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/tickets/"


@pytest.fixture
def desk(make_desk):
    desk = make_desk(office={"name": "URP <& Co>"}, me=ANNA, colleague=BRUNO, service=True,
                     other_office={"name": "Tributi"},
                     ticket={"description": "Scadenza documento"})
    f = desk.factories
    desk.urgent = Label.objects.create(name="Urgente", colour="red")
    desk.callback = Label.objects.create(name="Da \"richiamare\"", office=desk.office,
                                         colour="blue")
    desk.taken = services.take_charge(f.request_ticket(service_=desk.service), desk.me)
    desk.labelled = services.add_labels(f.request_ticket(service_=desk.service), desk.me,
                                        [desk.urgent, desk.callback])
    desk.resolved = services.resolve(services.take_charge(
        f.request_ticket(service_=desk.service), desk.me), desk.me, f.resolution_type(),
        "Fatto.")
    desk.odd = f.request_ticket(service_=desk.service, subject="<b>Tasse</b> & \"altro\"")
    return desk


def request_for(user, **params):
    request = RequestFactory().get(LIST, params)
    request.user = user
    return request


# --- The filter menus ------------------------------------------------------------------------


def widget_html(form, renderer):
    form.renderer = renderer
    return {field.name: str(field) for field in form}


@pytest.mark.parametrize("params", [
    {"queue": "all"},
    {"queue": "pending", "status": ["in_progress", "waiting"], "kind": "x<y", "channel": ["web"],
     "unread": "yes", "created_at_after": "2026-01-02"},
])
def test_the_filter_menus_are_the_templates_markup_byte_for_byte(desk, params):
    params = dict(params, office=str(desk.office.pk), label=[str(desk.urgent.pk)],
                  assignee=str(desk.me.pk))
    request = request_for(desk.me, **params)
    form = TicketFilterSet(request.GET, request=request).form
    expected = widget_html(form, get_default_renderer())
    assert widget_html(form, RENDERER) == expected
    assert re.search(rf'value="{desk.urgent.pk}" id="id_label_\d" checked', expected["label"])
    assert "URP &lt;&amp; Co&gt;" in expected["office"]


class Grouped(forms.Form):
    chosen = forms.ChoiceField(choices=[("", "—"), ("Group <1>", [("a", "A & a"), ("b", "B")]),
                                        ("c", mark_safe("<i>C</i>"))])
    several = forms.MultipleChoiceField(
        choices=[("Group", [(1, "One"), (2, "Two")]), (3, "Three")],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "w-list", "data-x": True}))
    radio = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect,
                              required=False)
    bare = forms.ChoiceField(choices=[("x", "X")], widget=forms.Select(attrs={"hidden": False}))


@pytest.mark.parametrize("data", [None, {"chosen": "b", "several": ["1", "3"], "radio": "y"}])
def test_grouped_choices_and_odd_attributes_too(data):
    form = Grouped(data, auto_id="id_%s")
    assert widget_html(form, RENDERER) == widget_html(form, get_default_renderer())


def test_a_widget_with_its_own_option_template_keeps_its_templates():
    class Own(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    class Form(forms.Form):
        chosen = forms.ChoiceField(choices=[("a", "A")], widget=Own)

    form = Form()
    html = widget_html(form, RENDERER)["chosen"]
    assert "<option" not in html and 'type="select"' in html  # the option template's markup
    assert html == widget_html(form, get_default_renderer())["chosen"]


# --- The table and its cells ------------------------------------------------------------------


def table_html(table_class, column_classes, rows, request, **kwargs):
    """The list's columns made with ``column_classes`` (names → classes) in a
    ``table_class``, rendered."""
    swapped = {
        name: column_classes[type(column).__name__](
            **{"name": column.name, "label": column.label, "sort_key": column.sort_key,
               "classname": column.classname, "accessor": column.accessor,
               **({"primary": column.primary} if hasattr(column, "primary") else {}),
               **({"get_url": column._get_url_func, "get_title_id": column._get_title_id_func}
                  if hasattr(column, "_get_url_func") else {})})
        if type(column).__name__ in column_classes else column
        for name, column in columns.available(lambda t: f"/t/{t.pk}/?a=1&b=2").items()}
    checkbox = column_classes["BulkActionsCheckboxColumn"]("bulk_actions", obj_type="ticket")
    table = table_class([checkbox, *swapped.values()], rows, base_url=LIST,
                        ordering="-last_activity_at", **kwargs)
    return table.render_html({"request": request})


WAGTAIL = {"TextColumn": tables.Column, "TitleColumn": tables.TitleColumn,
           "StatusTagColumn": tables.StatusTagColumn, "DateColumn": tables.DateColumn,
           "BulkActionsCheckboxColumn": tables.BulkActionsCheckboxColumn}
OURS = {"TextColumn": cells.TextColumn, "TitleColumn": cells.TitleColumn,
        "StatusTagColumn": cells.StatusTagColumn, "DateColumn": cells.DateColumn,
        "BulkActionsCheckboxColumn": cells.BulkActionsCheckboxColumn}


@pytest.mark.parametrize("language", ["en", "it"])
def test_the_table_is_the_templates_markup(desk, settings, language):
    settings.LANGUAGE_CODE = language
    draft = Ticket.objects.filter(pk=desk.ticket.pk)
    draft.update(short_code=None)  # no code: "#<id>"
    rows = columns.attach_labels(list(
        columns.with_label_ids(Ticket.objects.select_related(*ROW_RELATED))
        .order_by("-last_activity_at", "-pk")))
    assert {desk.taken, desk.labelled, desk.resolved, desk.odd} <= set(rows)
    request = request_for(desk.me)
    for kwargs in ({}, {"caption": "Tickets <all>", "attrs": {"data-x": "1"},
                        "classname": "listing full"}):
        ours = table_html(cells.Table, OURS, rows, request, **kwargs)
        theirs = table_html(tables.Table, WAGTAIL, rows, request, **kwargs)
        assert parse_html(ours) == parse_html(theirs)
    assert "&lt;b&gt;Tasse&lt;/b&gt; &amp; &quot;altro&quot;" in ours
    assert f'aria-describedby="ticket_{desk.odd.pk}_title"' in ours
    assert f'<span id="ticket_{desk.ticket.pk}_title">#{desk.ticket.pk}</span>' in ours
    assert f'href="/t/{desk.odd.pk}/?a=1&amp;b=2"' in ours
    assert "w-status w-status--primary" in ours  # open tickets
    assert "Da &quot;richiamare&quot;" in ours


def test_cells_of_other_shapes_keep_wagtails_templates(desk):
    """A title as a ``<label>``, a date column given a plain date, a checkbox
    for pages: the template's markup (the cell falls back to it)."""
    request = request_for(desk.me)
    ticket = Ticket.objects.get(pk=desk.ticket.pk)
    ticket.day = timezone.localdate()
    context = {"row": None, "table": None, "request": request}
    pairs = [
        (cells.TitleColumn("subject", label_prefix="choose"),
         tables.TitleColumn("subject", label_prefix="choose")),
        (cells.DateColumn("day"), tables.DateColumn("day")),
        (cells.BulkActionsCheckboxColumn("x", obj_type="page"),
         tables.BulkActionsCheckboxColumn("x", obj_type="page")),
    ]
    for ours, theirs in pairs:
        assert parse_html(ours.render_cell_html(ticket, context)) == parse_html(
            theirs.render_cell_html(ticket, context))


def test_a_column_given_another_template_renders_it(desk):
    column = cells.TextColumn("subject")
    column.cell_template_name = "wagtail_helpdesk/admin/labels/chips_cell.html"
    html = column.render_cell_html(desk.odd, {"row": None, "table": None, "request": None})
    assert 'class="helpdesk-labels-cell"' in html


# --- Rows read by id ---------------------------------------------------------------------------


def test_a_page_reads_its_ids_first_then_joins_only_them(client, desk):
    client.force_login(desk.me)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"queue": "all"})
    assert response.status_code == 200
    page = next(q["sql"] for q in queries if "_bounded_count" in q["sql"])
    # The citizens, offices… are joined to the rows of the page only: the ids
    # come from a subquery on the tickets alone.
    ids = re.search(r'"wagtail_helpdesk_ticket"\."id" IN \((SELECT .*?LIMIT \d+)\)', page)
    assert ids and "JOIN" not in ids[1].upper()
    assert "wagtail_helpdesk_citizen" in page


@pytest.mark.parametrize("ordering", ["-last_activity_at", "short_code", "-status",
                                      "unread_count"])
def test_rows_read_by_id_are_the_same_rows_in_the_same_order(desk, ordering):
    visible = Ticket.objects.filter(office=desk.office)
    ordered = visible.order_by(*paging.ordering_with_id(ordering))
    expected = list(ordered.values_list("pk", flat=True))
    assert len(expected) >= 5

    def rows(ids):
        return Ticket.objects.filter(pk__in=ids).select_related("citizen")

    paginator = paging.CappedPaginator(ordered, 2)
    for number in (1, 2, 3):
        page = paging.numbered_page(paginator, number, rows=rows)
        assert [t.pk for t in page.object_list] == expected[(number - 1) * 2:number * 2]
    cursor = (getattr(Ticket.objects.get(pk=expected[1]), ordering.lstrip("-")), expected[1])
    after = paging.keyset_page(visible, ordering, 2, after=cursor, rows=rows)
    assert [t.pk for t in after.object_list] == expected[2:4] and after.has_next
    cursor = (getattr(Ticket.objects.get(pk=expected[3]), ordering.lstrip("-")), expected[3])
    before = paging.keyset_page(visible, ordering, 2, before=cursor, rows=rows)
    assert [t.pk for t in before.object_list] == expected[1:3]


def test_rows_read_by_id_never_widen_what_an_operator_sees(client, desk):
    theirs = desk.factories.request_ticket(
        service_=desk.factories.service(desk.other_office))
    client.force_login(desk.me)
    html = client.get(LIST, {"queue": "all", "q": theirs.reference}).content.decode()
    assert f"/admin/helpdesk/tickets/{theirs.pk}/" not in html
    mine = client.get(LIST, {"queue": "all", "q": desk.odd.reference}).content.decode()
    assert f"/admin/helpdesk/tickets/{desk.odd.pk}/" in mine


def test_every_column_reads_only_the_fields_read_with_the_page(client, desk):
    """The rows are read with :data:`.columns.ROW_FIELDS` only: every column
    shown costs no query more than the code alone (no field read row by row)."""
    assert set(paging.KEYSET_FIELDS) <= set(columns.ROW_FIELDS)
    report = desk.factories.report_ticket(office=desk.office)
    client.force_login(desk.me)

    def page(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"queue": "all", **params})
        assert response.status_code == 200
        return len(queries), response.content.decode()

    page()  # the caches warm
    default, _html = page()
    page(columns=["reference"])  # kept in the session
    fewest, _html = page()
    page(columns=list(columns.available(str)))
    every, html = page()
    assert every == fewest == default
    assert "URP &lt;&amp; Co&gt;" in html and desk.service.name in html
    assert report.report_category.name in html
    assert "Maria Rossi" in html and desk.me.first_name in html
    page(columns="default")
    again, _html = page()
    assert again == default
