"""The ticket list export's safety: no cell a spreadsheet takes for a
formula (CSV and XLSX, on the spot and in the background), export files
that go with their rows and stop being served once their requester no
longer sees the offices they cover."""

import csv
import io
import zipfile

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from wagtail_helpdesk.admin.tickets.export import neutralised
from wagtail_helpdesk.admin.tickets.listing import TicketIndexView
from wagtail_helpdesk.exports import rows as export_rows
from wagtail_helpdesk.exports import tasks
from wagtail_helpdesk.models import ExportStatus, Label, TicketExport
from wagtail_helpdesk.services import labels as label_service

URL = "/admin/helpdesk/tickets/"
EVIL = '=HYPERLINK("http://evil","x")'
#: Subjects (kept as written, but for leading blanks: a tab or a carriage
#: return at the start is tested on :func:`neutralised` itself).
NASTY = [EVIL, "+39 333", "-2+3", "@SUM(A1)"]


@pytest.fixture
def desk(factories):
    office, elsewhere = factories.office(name="URP"), factories.office(name="Tributi")
    op = factories.operator(office)
    service = factories.service(office)
    tickets = [factories.request_ticket(service_=service, subject=subject)
               for subject in [*NASTY, "Pratica normale"]]

    class Desk:
        pass

    desk = Desk()
    desk.op, desk.office, desk.elsewhere, desk.tickets = op, office, elsewhere, tickets
    return desk


def subjects_of_csv(body):
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    column = rows[0].index("Subject")
    return {row[column] for row in rows[1:]}


def expected_csv():
    return {"'" + subject for subject in NASTY} | {"Pratica normale"}


def test_the_inline_csv_neutralises_formulas(client, desk):
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "csv"})
    assert subjects_of_csv(b"".join(response.streaming_content)) == expected_csv()


def test_what_is_neutralised():
    for value in [*NASTY, "\tTAB", "\rCR"]:
        assert neutralised(value) == "'" + value
    for value in ["Pratica", "", " =spaced", "'=quoted", None, -3, 0]:
        assert neutralised(value) == value


def test_a_labels_cell_is_neutralised_too(client, desk):
    label = Label.objects.create(name="@evil")
    label_service.add_labels(desk.tickets[-1], desk.op, [label])
    client.force_login(desk.op)
    body = b"".join(client.get(URL, {"queue": "all", "export": "csv"}).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows[0][-1] == "Labels"
    assert {row[-1] for row in rows[1:]} == {"", "'@evil"}


def test_the_csv_read_as_tickets_neutralises_formulas_too(client, desk, monkeypatch):
    """The model-instance path (a column the values path cannot read)."""
    monkeypatch.setattr(export_rows, "plan", lambda model, fields: None)
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "csv"})
    assert subjects_of_csv(b"".join(response.streaming_content)) == expected_csv()


def test_the_background_csv_neutralises_formulas(client, desk, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    monkeypatch.setattr(TicketIndexView, "csv_inline_limit", 1)
    client.force_login(desk.op)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(URL, {"queue": "all", "export": "csv"}).status_code == 302
    export = TicketExport.objects.get()
    assert export.status == ExportStatus.DONE
    body = b"".join(client.get(reverse("helpdesk_tickets:export_download",
                                       args=[export.pk])).streaming_content)
    assert subjects_of_csv(body) == expected_csv()


def xlsx_subjects(body):
    """{subject: cell data type}; and no formula anywhere in the sheet's XML."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows())
    column = [c.value for c in rows[0]].index("Subject")
    return {row[column].value: row[column].data_type for row in rows[1:]}


def test_the_inline_xlsx_has_no_formulas(client, desk, factories):
    factories.request_ticket(service_=factories.service(desk.office), subject="Bell\x07 #N/A")
    client.force_login(desk.op)
    response = client.get(URL, {"queue": "all", "export": "xlsx"})
    assert response.status_code == 200
    subjects = xlsx_subjects(b"".join(response.streaming_content))
    assert set(subjects) == {*NASTY, "Pratica normale", "Bell #N/A"}
    assert set(subjects.values()) == {"s"}


def test_the_background_xlsx_has_no_formulas(client, desk, monkeypatch,
                                             django_capture_on_commit_callbacks):
    monkeypatch.setattr(TicketIndexView, "xlsx_inline_limit", 1)
    client.force_login(desk.op)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(URL, {"queue": "all", "export": "xlsx"})
    export = TicketExport.objects.get()
    body = b"".join(client.get(reverse("helpdesk_tickets:export_download",
                                       args=[export.pk])).streaming_content)
    subjects = xlsx_subjects(body)
    assert EVIL in subjects and set(subjects.values()) == {"s"}


# --- The files and who may download them ---------------------------------------------


def done_export(user, query="queue=all"):
    export = tasks.request_export(user, "csv", query)
    assert tasks.generate(export.pk) is True
    export.refresh_from_db()
    assert export.file.storage.exists(export.file.name)
    return export


def test_deleting_an_export_row_deletes_its_file(desk, django_capture_on_commit_callbacks):
    export = done_export(desk.op)
    storage, name = export.file.storage, export.file.name
    with django_capture_on_commit_callbacks(execute=True):
        TicketExport.objects.filter(pk=export.pk).delete()  # no delete_export()
    assert not storage.exists(name)


def test_deleting_the_requester_deletes_the_file(desk, django_capture_on_commit_callbacks):
    export = done_export(desk.op)
    storage, name = export.file.storage, export.file.name
    with django_capture_on_commit_callbacks(execute=True):
        get_user_model().objects.filter(pk=desk.op.pk).delete()
    assert not TicketExport.objects.exists() and not storage.exists(name)


def test_the_offices_seen_are_recorded(desk, factories):
    export = done_export(desk.op)
    assert (export.all_offices, export.office_ids) == (False, [desk.office.pk])
    admin = factories.administrator()
    assert done_export(admin).all_offices is True


def test_an_operator_moved_to_another_office_cannot_download(client, desk):
    export = done_export(desk.op)
    url = reverse("helpdesk_tickets:export_download", args=[export.pk])
    client.force_login(desk.op)
    assert client.get(url).status_code == 200
    desk.office.members.remove(desk.op)
    desk.elsewhere.members.add(desk.op)
    assert client.get(url).status_code == 404
    desk.office.members.add(desk.op)  # back (and still in the other one): served again
    assert client.get(url).status_code == 200


def test_an_export_of_every_office_needs_every_office(client, desk, factories):
    admin = factories.administrator()
    export = done_export(admin)
    url = reverse("helpdesk_tickets:export_download", args=[export.pk])
    client.force_login(admin)
    assert client.get(url).status_code == 200
    admin.groups.set(desk.op.groups.all())  # an operator of one office now
    desk.office.members.add(admin)
    assert client.get(url).status_code == 404


def test_losing_the_ticket_permissions_refuses_the_download(client, desk):
    export = done_export(desk.op)
    url = reverse("helpdesk_tickets:export_download", args=[export.pk])
    desk.op.groups.clear()
    client.force_login(desk.op)
    assert client.get(url).status_code in (302, 403, 404)
    assert TicketExport.objects.filter(pk=export.pk).exists()


def test_the_exports_page_says_a_moved_operators_export_is_no_longer_available(client, desk):
    export = done_export(desk.op)
    url = reverse("helpdesk_tickets:export_download", args=[export.pk]).encode()
    client.force_login(desk.op)
    assert url in client.get(reverse("helpdesk_tickets:exports")).content
    desk.office.members.remove(desk.op)
    desk.elsewhere.members.add(desk.op)
    page = client.get(reverse("helpdesk_tickets:exports")).content
    assert url not in page and b"No longer available" in page


def test_a_kept_file_leaves_out_the_tickets_shared_for_a_consult(client, desk, factories):
    """Seen on the list while the consult lasts, but not copied into a file
    kept for a week: the background export holds the requester's offices'
    tickets only (the inline download is the list as seen now)."""
    from wagtail_helpdesk.services import consults

    colleague = factories.operator(desk.elsewhere)
    theirs = factories.request_ticket(service_=factories.service(desk.elsewhere),
                                      subject="Pratica di Tributi")
    consults.grant(theirs, colleague, desk.op)
    client.force_login(desk.op)
    inline = client.get(URL, {"queue": "all", "export": "csv"})
    assert "Pratica di Tributi" in subjects_of_csv(b"".join(inline.streaming_content))

    export = done_export(desk.op)
    with export.file.open("rb") as handle:  # written in the operator's language
        rows = list(csv.reader(io.StringIO(handle.read().decode(), newline="")))
    column = rows[0].index("Oggetto")
    kept = {row[column] for row in rows[1:]}
    assert "Pratica di Tributi" not in kept
    assert kept == expected_csv()
    assert export.rows == len(desk.tickets)
