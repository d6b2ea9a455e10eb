"""The two APIs together, as on the demo site: an Open311 client files a
report, the office works it through the REST API, and the client follows it
to its resolution."""

import pytest

from tests.open311 import INSIDE, make_category, new_client

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
