"""The CSV export's fast path (:mod:`wagtail_helpdesk.exports.rows`, written a
chunk at a time by ``stream_csv_chunks``) against Wagtail's own writer on
the model instances: the same file, byte for byte, whatever the citizens'
names, the datetimes, the labels and the language; on PostgreSQL the
datetimes' text written by the database, the labels read with the rows and
the planner's setting put back."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets.export import TicketExportMixin
from wagtail_helpdesk.admin.tickets.viewset import ticket_viewset
from wagtail_helpdesk.exports import rows as export_rows
from wagtail_helpdesk.models import Channel, Kind, Label, Ticket
from wagtail_helpdesk.services import labels as label_service

URL = "/admin/helpdesk/tickets/"
#: PostgreSQL writes the datetimes' text: deselected (and counted) on SQLite.
postgresql_only = pytest.mark.postgres


@pytest.fixture
def desk(factories):
    office = factories.office(name="URP")
    op = factories.operator(office)
    service = factories.service(office)
    citizens = [
        factories.citizen(),  # given and family names
        factories.citizen(family_name=""),
        factories.citizen(given_name=""),
        factories.citizen(given_name="", family_name="", fiscal_code="RSSMRA80A01H501U"),
        factories.citizen(given_name="", family_name=""),  # "Anonymous citizen"
    ]
    tickets = [factories.request_ticket(service_=service, citizen_=citizen,
                                        subject=f"Pratica {i}")
               for i, citizen in enumerate(citizens)]
    tickets.append(factories.request_ticket(service_=service, subject="=SUM(A1)"))
    tickets.append(factories.request_ticket(service_=service, subject="Senza cittadino"))
    Ticket.objects.filter(pk=tickets[-1].pk).update(citizen=None)
    # Whole seconds (str() writes no fraction), a fraction, a due date or none.
    Ticket.objects.filter(pk=tickets[0].pk).update(
        created_at=datetime(2025, 1, 31, 8, 5, 9, tzinfo=UTC),
        due_at=datetime(2025, 2, 28, 23, 59, 59, 250000, tzinfo=UTC))
    Ticket.objects.filter(pk=tickets[1].pk).update(
        last_activity_at=datetime(2025, 3, 1, 0, 0, tzinfo=UTC), due_at=None)
    labels = [Label.objects.create(name=name) for name in ("urgente", "Stampa", "@evil")]
    label_service.add_labels(tickets[2], op, labels)
    label_service.add_labels(tickets[3], op, labels[:1])
    services.create_ticket(op, kind=Kind.REPORT, channel=Channel.PHONE, draft=True,
                           report_category=factories.report_category(office))

    class Desk:
        pass

    desk = Desk()
    desk.op, desk.tickets = op, tickets
    return desk


def list_view(rf, user, **params):
    request = rf.get(URL, params)
    request.user = user
    request.session = {}
    function = ticket_viewset.index_view
    view = function.view_class(**function.view_initkwargs)
    view.setup(request)
    return view


def wagtails_csv(view, monkeypatch):
    """The file Wagtail's writer makes of the model instances."""
    with monkeypatch.context() as patch:
        patch.setattr(export_rows, "plan", lambda model, fields: None)
        return b"".join(view.stream_csv(view.get_export_queryset()))


def fast_csv(view, monkeypatch):
    read = []

    def text_chunks(*args):
        read.append(args)
        return export_rows.chunks(*args, as_text=True)

    with monkeypatch.context() as patch:
        patch.setattr(export_rows, "text_chunks", text_chunks)
        body = b"".join(view.stream_csv(view.get_export_queryset()))
    assert read, "the fast path was not taken"
    return body


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("queue", ["all", "drafts"])
def test_the_chunked_csv_is_wagtails_byte_for_byte(rf, desk, monkeypatch, language, queue):
    monkeypatch.setattr(TicketExportMixin, "chunk_size", 3)
    view = list_view(rf, desk.op, queue=queue)
    with translation.override(language):
        fast, slow = fast_csv(view, monkeypatch), wagtails_csv(view, monkeypatch)
    assert fast == slow
    lines = fast.decode().splitlines()
    assert len(lines) == (len(desk.tickets) + 1 if queue == "all" else 2)
    if queue == "all":
        assert "2025-01-31 08:05:09+00:00" in fast.decode()
        assert "2025-02-28 23:59:59.250000+00:00" in fast.decode()
        assert "'=SUM(A1)" in fast.decode() and "'@evil, Stampa, urgente" in fast.decode()


def test_a_list_with_a_custom_preprocessing_keeps_wagtails_writer(rf, desk, monkeypatch):
    view = list_view(rf, desk.op, queue="all")
    view.custom_field_preprocess = {"subject": {"csv": str.upper}}
    body = b"".join(view.stream_csv(view.get_export_queryset()))
    assert "PRATICA 0" in body.decode()


@postgresql_only
@pytest.mark.parametrize("moment", [
    datetime(2025, 1, 31, 8, 5, 9, tzinfo=UTC),
    datetime(2025, 1, 31, 8, 5, 9, 7, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(999, 3, 1, 12, 0, 0, 500000, tzinfo=UTC),
])
def test_the_database_writes_a_datetime_as_python_does(desk, moment):
    ticket = desk.tickets[0]
    Ticket.objects.filter(pk=ticket.pk).update(created_at=moment)
    read = Ticket.objects.filter(pk=ticket.pk)
    text = read.values_list(export_rows.UtcText("created_at"), flat=True).get()
    assert text == str(read.get().created_at)


def cursor_fraction():
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        return cursor.fetchone()[0]


@postgresql_only
def test_the_planners_setting_is_put_back(rf, desk, monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 0.3")
    view = list_view(rf, desk.op, queue="all")
    fast_csv(view, monkeypatch)
    assert cursor_fraction() == "0.3"
    with export_rows._planned_for_every_row("default"):
        assert cursor_fraction() == "1"
    assert cursor_fraction() == "0.3"
    with pytest.raises(ZeroDivisionError), export_rows._planned_for_every_row("default"):
        1 / 0  # noqa: B018
    assert cursor_fraction() == "0.3"


def test_the_export_reads_the_labels_with_the_rows(rf, desk, monkeypatch):
    """On PostgreSQL the labels come with the rows (no query per chunk; the
    small tables' names once each); elsewhere one labels query per chunk."""

    def queries(chunk_size):
        monkeypatch.setattr(TicketExportMixin, "chunk_size", chunk_size)
        view = list_view(rf, desk.op, queue="all")
        with CaptureQueriesContext(connection) as ctx:
            fast_csv(view, monkeypatch)
        return [q["sql"] for q in ctx.captured_queries]

    def of_labels(sqls):
        return [sql for sql in sqls if sql.startswith("SELECT")
                and 'FROM "wagtail_helpdesk_ticketlabel"' in sql]

    many, one = queries(2), queries(100)
    chunks = -(-len(desk.tickets) // 2)
    if connection.vendor == "postgresql":
        # The list's consults, the planner's setting and back, the rows, the
        # office's name, the labels' names.
        assert len(one) == 6
        assert not of_labels(many) and not of_labels(one)
    else:
        assert len(of_labels(many)) == chunks and len(of_labels(one)) == 1


def test_the_fast_rows_are_the_tickets_for_the_xlsx_too(rf, desk, monkeypatch):
    """The row dicts (what the XLSX and the background files are written
    from) against the model instances, on the same fixture."""
    from wagtail_helpdesk.admin.tickets.export import ChunkedRows

    view = list_view(rf, desk.op, queue="all")
    queryset = view.get_export_queryset()
    fast = ChunkedRows(queryset, view.list_export, chunk_size=3)
    slow = ChunkedRows(queryset, view.list_export, chunk_size=3)
    slow.columns = None
    fast_rows = [view.to_row_dict(item) for item in fast]
    slow_rows = [{k: (str(v) if hasattr(v, "_meta") else v)
                  for k, v in view.to_row_dict(item).items()} for item in slow]
    assert fast_rows == slow_rows
    assert {row["citizen"] for row in fast_rows} >= {"RSSMRA80A01H501U", "Anonymous citizen",
                                                     None}
    assert any(row["due_at"] is None for row in fast_rows)
    assert all(isinstance(row["created_at"], datetime) for row in fast_rows)
