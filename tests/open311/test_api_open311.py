"""The two APIs together, as on the demo site: an Open311 client files a
report, the office works it through the REST API, and the client follows it
to its resolution."""

import pytest

from tests.support.open311 import INSIDE, make_category, new_client

pytestmark = pytest.mark.django_db


def test_an_open311_report_worked_through_the_rest_api(client, caller, factories):
    category = make_category(factories)
    operator = factories.operator(category.office)
    _, key = new_client()
    filed = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": str(category.pk), **INSIDE,
        "description": "Buca profonda davanti al civico 12"})
    assert filed.status_code == 200, filed.content
    code = filed.json()[0]["service_request_id"]

    api = caller(operator)
    (ticket,) = api.get("/tickets/", {"q": code}).json()["items"]
    assert ticket["channel"] == "open311" and ticket["kind"] == "report"
    api.post(f"/tickets/{ticket['id']}/take-charge/")
    api.post(f"/tickets/{ticket['id']}/reply/", {"body": "Interveniamo entro venerdì."})
    kind = factories.resolution_type()
    resolved = api.post(f"/tickets/{ticket['id']}/resolve/", {
        "resolution_type": kind.pk, "resolution_text": "Buca chiusa con asfalto a freddo."})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"

    (followed,) = client.get(f"/open311/v2/requests/{code}.json").json()
    assert followed["status"] == "closed"
    assert followed["status_notes"] == "Buca chiusa con asfalto a freddo."
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == code]
    assert [u["status"] for u in mine][-1] == "fixed"
    assert any(u["description"] == "Interveniamo entro venerdì." for u in mine)


def test_office_texts_on_reports_not_filed_through_open311_stay_private(client, factories):
    from tests.support.open311 import report, work

    category = make_category(factories)
    operator = factories.operator(category.office)
    ticket = report(factories, category, channel="web")
    kind = factories.resolution_type()
    work(ticket, operator, to="resolved", resolution=kind,
         text="Ne abbiamo parlato con il sig. Carlo Bianchi del civico 7.")
    (published,) = client.get(f"/open311/v2/requests/{ticket.short_code}.json").json()
    assert published["status"] == "closed" and published["status_notes"] == kind.name
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    texts = " ".join(u["description"] for u in updates)
    assert "Bianchi" not in texts and "entro la settimana" not in texts
    assert "Risposta dell'ufficio." in texts or "Reply from the office." in texts


@pytest.mark.parametrize("query", [
    "requests.json?start_date=0001-01-01", "requests.json?end_date=9999-12-31",
    "requests.json?start_date=0001-01-01T00:00:00%2B14:00",
    "servicerequestupdates.json?end_date=0001-01-01", "requests.json?service_request_id=a%00b",
    "requests/a%00b.json"])
def test_edge_input_on_open311_reads_is_400_or_404_never_500(client, query):
    response = client.get(f"/open311/v2/{query}")
    assert response.status_code in (400, 404), (query, response.status_code)
    assert response.json()[0]["description"]


@pytest.mark.parametrize("fields", [{"lat": "nan", "long": "7.68"},
                                    {"lat": "45.07", "long": "sNaN"},
                                    {"lat": "45.07", "long": "inf"},
                                    {"address_string": "Via Roma\x00 1"},
                                    {"first_name": "Ugo\x00", "lat": "45.07", "long": "7.68"}])
def test_edge_input_on_open311_posts_is_400_and_files_nothing(client, factories, fields):
    from wagtail_helpdesk.models import Ticket

    category = make_category(factories)
    _, key = new_client()
    response = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": str(category.pk), "description": "Buca", **fields})
    assert response.status_code == 400, (fields, response.content)
    assert not Ticket.objects.exists()


def test_a_date_only_end_date_includes_its_day(client, factories):
    from django.utils import timezone

    from tests.support.open311 import report

    category = make_category(factories)
    ticket = report(factories, category)
    today = timezone.localdate().isoformat()
    found = client.get(f"/open311/v2/requests.json?start_date={today}&end_date={today}")
    assert [r["service_request_id"] for r in found.json()] == [ticket.short_code]


def test_a_json_post_is_told_to_send_a_form(client, factories):
    category = make_category(factories)
    _, key = new_client()
    response = client.post("/open311/v2/requests.json",
                           {"api_key": key, "service_code": str(category.pk)},
                           content_type="application/json")
    assert response.status_code == 400 and "form-encoded" in response.json()[0]["description"]
