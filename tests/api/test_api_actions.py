"""REST API: the workflow actions, files, catalogue, citizen lookup, /me —
through the services layer, with the same rules as the admin."""

import pytest

from tests.support.desk import GIOVANNA
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Attachment, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(make_desk):
    """URP (two operators, a service) and Tributi; a request of Giovanna's to URP."""
    desk = make_desk(office={"name": "URP"}, colleague=True, other_office={"name": "Tributi"},
                     service={"name": "Carta d'identità"},
                     citizen={**GIOVANNA, "email": "g@example.org"},
                     ticket=True, ticket_from="system")
    desk.urp, desk.tributi, desk.person = desk.office, desk.other_office, desk.citizen
    return desk


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_a_whole_ticket_life_through_the_api(caller, desk):
    api, t = caller(desk.me), desk.ticket
    body = ok(api.post(f"/tickets/{t.pk}/take-charge/"))
    assert body["status"] == "in_progress" and body["assignee"]["id"] == desk.me.pk
    body = ok(api.post(f"/tickets/{t.pk}/assign/", {"assignee": desk.colleague.pk}))
    assert body["assignee"]["id"] == desk.colleague.pk
    body = ok(api.post(f"/tickets/{t.pk}/priority/", {"priority": 4}))
    assert body["priority"] == 4
    ok(api.post(f"/tickets/{t.pk}/note/", {"body": "@" + desk.colleague.username + " guarda"}))
    body = ok(api.post(f"/tickets/{t.pk}/reply/", {"body": "Serve la ricevuta."}))
    body = ok(api.post(f"/tickets/{t.pk}/waiting/", {"message": "Ci mandi la ricevuta?"}))
    assert body["status"] == "waiting"
    kind = desk.factories.resolution_type()
    body = ok(api.post(f"/tickets/{t.pk}/resolve/", {"resolution_type": kind.pk,
                                                     "resolution_text": "Fatto",
                                                     "expected_version": body["version"]}))
    assert body["status"] == "resolved" and body["resolution"]["text"] == "Fatto"
    body = ok(api.post(f"/tickets/{t.pk}/reopen/", {"reason": "Manca un documento"}))
    assert body["status"] == "in_progress"
    body = ok(api.post(f"/tickets/{t.pk}/transfer/", {"office": desk.tributi.pk,
                                                      "note": "Competenza tributi"}))
    assert body["office"]["name"] == "Tributi"
    kinds = list(TicketEvent.objects.filter(ticket=t).values_list("kind", flat=True))
    for expected in ("taken_charge", "assigned", "priority_changed", "note", "reply",
                     "status_changed", "resolved", "reopened", "transferred"):
        assert expected in kinds
    # The citizen was told, through the outbox, as from the admin.
    assert t.notifications.filter(template="citizen/reply", address="g@example.org").exists()
    # After the transfer the ticket is no longer this operator's to see.
    assert api.get(f"/tickets/{t.pk}/").status_code == 404


def test_a_stale_expected_version_changes_nothing(caller, desk):
    api, t = caller(desk.me), desk.ticket
    response = api.post(f"/tickets/{t.pk}/priority/", {"priority": 4,
                                                       "expected_version": t.version - 1})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "Someone else changed this ticket" in response.json()["detail"]
    t.refresh_from_db()
    assert t.priority == 2


def test_actions_not_possible_now_are_409_with_the_reason(caller, desk):
    api, t = caller(desk.me), desk.ticket
    response = api.post(f"/tickets/{t.pk}/reopen/", {})
    assert response.status_code == 409 and response.json()["detail"]


def test_invalid_action_input_names_the_field(caller, desk):
    api, t = caller(desk.me), desk.ticket
    for action, data, field in (("reply", {"body": ""}, "body"),
                                ("priority", {"priority": 9}, "priority"),
                                ("assign", {"assignee": 424242}, "assignee"),
                                ("transfer", {"office": 424242}, "office"),
                                ("resolve", {"resolution_type": 424242,
                                             "resolution_text": "x"}, "resolution_type"),
                                ("assign", {}, "assignee")):
        response = api.post(f"/tickets/{t.pk}/{action}/", data)
        assert response.status_code == 422, (action, response.content)
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    t.refresh_from_db()
    assert t.version == 1 and t.status == "new"


def test_assigning_to_someone_outside_the_office_is_refused(caller, desk):
    stranger = desk.factories.operator(desk.tributi)
    response = caller(desk.me).post(f"/tickets/{desk.ticket.pk}/assign/",
                                    {"assignee": stranger.pk})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "assignee"


def test_errors_speak_the_callers_language(caller, desk):
    response = caller(desk.me).post(f"/tickets/{desk.ticket.pk}/reopen/", {},
                                    HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail and detail != caller(desk.me).post(f"/tickets/{desk.ticket.pk}/reopen/",
                                                     {}).json()["detail"]


def test_files_upload_and_download(caller, desk, jpeg_upload):
    api, t = caller(desk.me), desk.ticket
    response = api.upload(f"/tickets/{t.pk}/attachments/",
                          {"file": jpeg_upload("foto.jpg"), "visibility": "public"})
    body = ok(response, 201)
    assert body["name"] == "foto.jpg" and body["internal"] is False
    stored = Attachment.objects.get(pk=body["id"])
    download = api.get(f"/tickets/{t.pk}/attachments/{stored.pk}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert download["Cache-Control"] == "private, no-store"
    assert b"".join(download.streaming_content)[:2] == b"\xff\xd8"


def test_a_file_that_is_not_an_image_or_pdf_is_refused(caller, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = caller(desk.me).upload(
        f"/tickets/{desk.ticket.pk}/attachments/",
        {"file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "attachments"
    assert not Attachment.objects.exists()


def test_another_offices_files_are_404(caller, desk, jpeg_upload):
    attachment = services.add_attachment(desk.ticket, desk.me, jpeg_upload())
    stranger = desk.factories.operator(desk.tributi)
    assert caller(stranger).get(
        f"/tickets/{desk.ticket.pk}/attachments/{attachment.pk}/").status_code == 404
    response = caller(stranger).upload(f"/tickets/{desk.ticket.pk}/attachments/",
                                       {"file": jpeg_upload()})
    assert response.status_code == 404 and Attachment.objects.count() == 1


def test_the_catalogue(caller, desk):
    api = caller(desk.me)
    offices = ok(api.get("/offices/"))
    assert {o["name"] for o in offices} >= {"URP", "Tributi"}
    services_ = ok(api.get("/services/"))
    mine = next(s for s in services_ if s["id"] == desk.service.pk)
    assert mine["office"] == {"id": desk.urp.pk, "name": "URP"}
    desk.factories.report_category(desk.urp, name="Buche")
    assert "Buche" in {c["name"] for c in ok(api.get("/report-categories/"))}
    desk.factories.resolution_type()
    assert ok(api.get("/resolution-types/"))[0]["slug"]


def test_citizen_lookup_by_fiscal_code(caller, desk):
    api = caller(desk.me)
    found = ok(api.get("/citizens/", {"fiscal_code": "rssmra85t10a562s"}))
    assert [c["id"] for c in found] == [desk.person.pk]
    assert ok(api.get("/citizens/", {"fiscal_code": "BNCNNA90D43F205J"})) == []
    response = api.get("/citizens/", {"fiscal_code": "NONVALIDO"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == (
        "fiscal_code")
    services.erase_citizen(desk.factories.administrator(), desk.person, reason="richiesta")
    assert ok(api.get("/citizens/", {"fiscal_code": "RSSMRA85T10A562S"})) == []


def test_me(caller, desk):
    body = ok(caller(desk.me).get("/me/"))
    assert body["user"]["id"] == desk.me.pk and body["offices"] == [{"id": desk.urp.pk,
                                                                     "name": "URP"}]
    assert body["can_change_tickets"] and not body["sees_all_offices"]


def test_catalogue_lists_cost_the_same_queries_for_any_size(caller, desk,
                                                            django_assert_num_queries):
    api = caller(desk.me)
    api.get("/me/")  # warm the permission caches
    for more in (0, 20):
        for n in range(more):
            desk.factories.service(desk.urp, name=f"Servizio {more}-{n}")
            desk.factories.report_category(desk.urp, name=f"Problema {more}-{n}")
        for path in ("/services/", "/report-categories/", "/offices/", "/resolution-types/"):
            with django_assert_num_queries(3):  # token, permissions (one query), the list
                assert api.get(path).status_code == 200
