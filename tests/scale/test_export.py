"""The ticket list's export at scale: the CSV streamed in chunks with the
labels column, large exports (CSV and XLSX) prepared in the background with
the list's queue, filters and search, and downloaded only by their requester."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.exports import said
from wagtail_helpdesk import services
from wagtail_helpdesk.admin.tickets.listing import TicketIndexView
from wagtail_helpdesk.exports import tasks
from wagtail_helpdesk.models import ExportStatus, Label, TicketExport
from wagtail_helpdesk.services import labels as label_service

URL = "/admin/helpdesk/tickets/"



@pytest.fixture
def desk(factories):
    office, elsewhere = factories.office(name="URP"), factories.office(name="Tributi")
    op = factories.operator(office)
    service = factories.service(office)
    urgent = Label.objects.create(name="Urgente")
    press = Label.objects.create(name="Stampa", office=office)
    # One citizen whose name holds no digits: a search for "Pratica 11" then
    # matches by subject only, whatever counters the factories are at.
    person = factories.citizen(given_name="Maria", family_name="Bianchi")
    tickets = [factories.request_ticket(service_=service, citizen_=person,
                                        subject=f"Pratica {i}")
               for i in range(12)]
    for ticket in tickets[:4]:
        services.resolve(services.take_charge(ticket, op), op, factories.resolution_type(),
                         "Fatto")
    label_service.add_labels(tickets[5], op, [urgent, press])
    hidden = factories.request_ticket(service_=factories.service(elsewhere),
                                      subject="Pratica altrove")

    class Desk:
        pass

    desk = Desk()
    desk.op, desk.office, desk.tickets, desk.hidden = op, office, tickets, hidden
    desk.other = factories.operator(office)
    return desk


def csv_rows(body):
    return list(csv.reader(io.StringIO(body.decode())))


def streamed(response):
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def test_the_csv_is_streamed_with_the_lists_columns_and_the_labels(client, desk):
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = csv_rows(streamed(response))
    assert rows[0] == ["Code", "Kind", "Status", "Subject", "Citizen", "Office", "Assignee",
                       "Priority", "Channel", "Created", "Last interaction", "Due", "Unread",
                       "Labels"]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {t.short_code for t in desk.tickets}  # not the other office's
    assert by_code[desk.tickets[5].short_code][-1] == "Stampa, Urgente"
    assert by_code[desk.tickets[6].short_code][-1] == ""


def test_the_csv_keeps_the_lists_filters_search_and_order(client, desk):
    client.force_login(desk.op)
    rows = csv_rows(streamed(client.get(
        URL, {"queue": "all", "status": ["resolved"], "ordering": "-last_activity_at",
              "export": "csv"})))
    codes = [row[0] for row in rows[1:]]
    resolved = sorted(desk.tickets[:4], key=lambda t: t.pk)
    assert set(codes) == {t.short_code for t in resolved}
    searched = csv_rows(streamed(client.get(URL, {"queue": "all", "q": "Pratica 11",
                                                  "export": "csv"})))
    assert [row[0] for row in searched[1:]] == [desk.tickets[11].short_code]


def test_the_csv_reads_the_tickets_in_chunks(client, desk, monkeypatch):
    """12 tickets in chunks of 5: the heading and three pieces of rows, so
    rows are never all loaded at once; the labels are read once per chunk
    (on PostgreSQL with the rows themselves: no query of their own)."""
    monkeypatch.setattr(TicketIndexView, "chunk_size", 5)
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "csv"})
    with CaptureQueriesContext(connection) as ctx:
        pieces = list(response.streaming_content)
    rows = csv_rows(b"".join(pieces))
    assert len(rows) == 13
    assert [piece.count(b"\r\n") for piece in pieces] == [1, 5, 5, 2]
    prefetches = [q for q in ctx.captured_queries if q["sql"].startswith("SELECT")
                  and 'FROM "wagtail_helpdesk_ticketlabel"' in q["sql"]]
    assert len(prefetches) == (0 if connection.vendor == "postgresql" else 3)


def test_the_values_read_give_the_same_rows_as_the_tickets(rf, desk, factories):
    """The fast path (plain values per chunk) against the model instances,
    column by column: assignees, no assignee, drafts without a code, labels
    of mixed case, other languages' choices."""
    from django.utils import translation

    from wagtail_helpdesk.admin.tickets.export import ChunkedRows
    from wagtail_helpdesk.models import Channel, Kind

    op = desk.op
    services.create_ticket(op, kind=Kind.REPORT, channel=Channel.PHONE, draft=True,
                           report_category=factories.report_category(desk.office))
    lower = Label.objects.create(name="aperto")
    label_service.add_labels(desk.tickets[5], op, [lower])
    services.take_charge(desk.tickets[6], op)
    from wagtail_helpdesk.admin.tickets.viewset import ticket_viewset

    fast_rows, slow_rows = [], []
    for queue in ("all", "drafts"):
        request = rf.get(URL, {"queue": queue})
        request.user = op
        request.session = {}
        function = ticket_viewset.index_view
        view = function.view_class(**function.view_initkwargs)
        view.setup(request)
        queryset = view.get_export_queryset()
        fast = ChunkedRows(queryset, view.list_export, chunk_size=4)
        assert fast.columns is not None
        slow = ChunkedRows(queryset, view.list_export, chunk_size=4)
        slow.columns = None  # model instances, as Wagtail reads them
        with translation.override("it"):
            fast_rows += [view.to_row_dict(item) for item in fast]
            slow_rows += [view.to_row_dict(item) for item in slow]
    assert len(fast_rows) == len(slow_rows) == 13
    for quick, full in zip(fast_rows, slow_rows, strict=True):
        full = {k: (str(v) if hasattr(v, "_meta") else v) for k, v in full.items()}
        assert quick == full
    assert any(row["reference"].startswith("#") for row in fast_rows)  # the draft
    assert any(row["labels"] == ["aperto", "Stampa", "Urgente"] for row in fast_rows)
    assert any(row["assignee"] for row in fast_rows)


def test_the_export_makes_no_page_queries(client, desk):
    """No count, no page, no table: the bounded size check and the rows only."""
    client.force_login(desk.op)
    client.get(URL, {"queue": "all"})  # session, menus: warm
    with CaptureQueriesContext(connection) as small:
        streamed(client.get(URL, {"queue": "all", "export": "csv"}))
    assert not any("COUNT(" in q["sql"] and "LIMIT" not in q["sql"]
                   for q in small.captured_queries
                   if "wagtail_helpdesk_ticket" in q["sql"] and "FILTER" not in q["sql"])


def background(client, django_capture_on_commit_callbacks, params):
    with django_capture_on_commit_callbacks(execute=True):
        return client.get(URL, params)


def test_a_large_csv_goes_to_the_background_and_matches_the_streamed_one(
        client, desk, monkeypatch, django_capture_on_commit_callbacks):
    client.force_login(desk.op)
    params = {"queue": "all", "status": ["new"], "q": "Pratica", "export": "csv"}
    inline = streamed(client.get(URL, params))
    monkeypatch.setattr(TicketIndexView, "csv_inline_limit", 3)
    response = background(client, django_capture_on_commit_callbacks, params)
    assert response.status_code == 302
    assert "export=" not in response["Location"] and "status=new" in response["Location"]
    export = TicketExport.objects.get()
    assert (export.status, export.requested_by, export.format) == (ExportStatus.DONE, desk.op,
                                                                  "csv")
    assert export.rows == 8 and export.progress == 100
    download = client.get(reverse("helpdesk_tickets:export_download", args=[export.pk]))
    assert download.status_code == 200
    assert {"private", "no-store"} <= {d.strip() for d in download["Cache-Control"].split(",")}
    assert b"".join(download.streaming_content) == inline


def test_a_large_xlsx_goes_to_the_background(client, desk, monkeypatch,
                                             django_capture_on_commit_callbacks):
    monkeypatch.setattr(TicketIndexView, "xlsx_inline_limit", 2)
    client.force_login(desk.op)
    response = background(client, django_capture_on_commit_callbacks,
                          {"queue": "all", "export": "xlsx"})
    assert response.status_code == 302
    export = TicketExport.objects.get()
    assert export.status == ExportStatus.DONE and export.rows == 12
    body = b"".join(client.get(reverse("helpdesk_tickets:export_download",
                                       args=[export.pk])).streaming_content)
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(body))
            .active.iter_rows()]
    assert rows[0][0] == "Code" and rows[0][-1] == "Labels"
    assert {row[0] for row in rows[1:]} == {t.short_code for t in desk.tickets}


def test_a_small_xlsx_is_still_made_on_the_spot(client, desk):
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "xlsx"})
    assert response.status_code == 200 and not TicketExport.objects.exists()
    body = b"".join(response.streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert len(rows) == 13 and rows[0][-1] == "Labels"


def test_only_the_requester_downloads_an_export(client, desk, monkeypatch,
                                                django_capture_on_commit_callbacks):
    monkeypatch.setattr(TicketIndexView, "csv_inline_limit", 1)
    client.force_login(desk.op)
    background(client, django_capture_on_commit_callbacks, {"queue": "all", "export": "csv"})
    url = reverse("helpdesk_tickets:export_download", args=[TicketExport.objects.get().pk])
    client.force_login(desk.other)  # a colleague of the same office
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login


def test_the_exports_page_lists_the_users_exports(client, desk, monkeypatch,
                                                  django_capture_on_commit_callbacks):
    monkeypatch.setattr(TicketIndexView, "csv_inline_limit", 1)
    client.force_login(desk.op)
    follow = background(client, django_capture_on_commit_callbacks,
                        {"queue": "all", "export": "csv"})
    page = client.get(follow["Location"])
    assert b"prepared in the background" in page.content
    export = TicketExport.objects.get()
    listing = client.get(reverse("helpdesk_tickets:exports"))
    assert listing.status_code == 200
    assert reverse("helpdesk_tickets:export_download", args=[export.pk]).encode() in (
        listing.content)
    client.force_login(desk.other)
    assert reverse("helpdesk_tickets:export_download", args=[export.pk]).encode() not in (
        client.get(reverse("helpdesk_tickets:exports")).content)


def test_a_user_has_at_most_a_few_exports_pending(client, desk, monkeypatch):
    monkeypatch.setattr(TicketIndexView, "csv_inline_limit", 1)
    monkeypatch.setattr(tasks, "_enqueue_now", lambda pk: None)  # no worker runs them
    client.force_login(desk.op)
    for _ in range(tasks.PENDING_LIMIT + 1):
        client.get(URL, {"queue": "all", "export": "csv"})
    assert TicketExport.objects.count() == tasks.PENDING_LIMIT


def test_an_export_is_prepared_once(desk):
    export = tasks.request_export(desk.op, "csv", "queue=all")
    assert tasks.generate(export.pk) is True
    assert tasks.generate(export.pk) is False  # done: claimed by nobody again
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.rows == 12


def test_a_failed_export_says_so(desk, monkeypatch):
    export = tasks.request_export(desk.op, "csv", "queue=all")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tasks, "write", broken)
    assert tasks.generate(export.pk) is False
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.error == said(export, tasks.failure_message)
    assert not export.file


def test_old_exports_are_deleted_when_a_new_one_is_asked_for(desk):
    old = tasks.request_export(desk.op, "csv", "queue=all")
    tasks.generate(old.pk)
    old.refresh_from_db()
    storage, name = old.file.storage, old.file.name
    assert storage.exists(name)
    TicketExport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - tasks.KEPT - timedelta(minutes=1))
    recent = tasks.request_export(desk.other, "csv", "queue=all")  # another user's: kept
    tasks.request_export(desk.op, "csv", "queue=all")
    assert not TicketExport.objects.filter(pk=old.pk).exists() and not storage.exists(name)
    assert TicketExport.objects.filter(pk=recent.pk).exists()
