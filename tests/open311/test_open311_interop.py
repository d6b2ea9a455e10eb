"""Interoperability with a real third-party Open311 client, PyPI ``georeport``
0.3.1, against a live server: every call it has, in JSON and XML; then a
report filed with a plain form-encoded POST (``requests``) and followed with
georeport, and its updates read as FixMyStreet reads them.

georeport's XML mode turns a single child element into a dict (xmltodict):
the data seeds at least two of everything, and :func:`as_list` normalises
the one answer that is a single element by nature (``requests/{id}``). An
empty list in XML is an empty root element, which georeport cannot index:
empty answers are checked in JSON only.
"""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from georeport import GeoReport

from tests.support.open311 import INSIDE, new_client, work
from wagtail_helpdesk.models import Channel

# live_server pulls in a transactional database: ask for serialized rollback
# explicitly so the rows migrations made (site, content types, groups) come back.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("django_db_serialized_rollback")]
FORMATS = ["json", "xml"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def flag(value):
    return value in (True, "true")


@pytest.fixture
def world(factories):
    office = factories.office(name="Manutenzione strade")
    operator = factories.operator(office, username="strade")
    potholes = factories.report_category(office, name="Buche stradali", sla_days=5)
    lights = factories.report_category(office, name="Illuminazione pubblica")
    first = factories.report_ticket(category=potholes, channel=Channel.OPEN311,
                                    description="Buca davanti alla scuola.")
    second = factories.report_ticket(category=lights, channel=Channel.OPEN311,
                                     description="Lampione spento.")
    work(second, operator, to="resolved", resolution=factories.resolution_type(),
         text="Lampada sostituita.")
    second.refresh_from_db()
    return {"potholes": potholes, "lights": lights, "open": first, "closed": second}


@pytest.fixture
def root(live_server):
    return f"{live_server.url}/open311/v2"


@pytest.mark.parametrize("fmt", FORMATS)
def test_georeport_reads_services_and_definitions(root, world, fmt):
    client = GeoReport(root, output_format=fmt)
    services = as_list(client.get_service_list())
    assert {s["service_name"] for s in services} == {"Buche stradali", "Illuminazione pubblica"}
    codes = {s["service_name"]: s["service_code"] for s in services}
    assert codes["Buche stradali"] == str(world["potholes"].pk)
    assert all(flag(s["metadata"]) and s["type"] == "realtime" for s in services)
    definition = client.get_service_definition(codes["Buche stradali"])
    assert definition["service_code"] == codes["Buche stradali"]
    attributes = definition["attributes"]
    attributes = attributes if fmt == "json" else as_list(attributes["attribute"])
    assert [a["code"] for a in attributes] == ["fixmystreet_id"]
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("999999")
    assert caught.value.response.status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_georeport_reads_requests_with_filters(root, world, fmt):
    client = GeoReport(root, output_format=fmt)
    open_, closed = world["open"], world["closed"]
    rows = as_list(client.get_service_requests())
    assert {r["service_request_id"] for r in rows} == {open_.short_code, closed.short_code}
    (only_open,) = as_list(client.get_service_requests(status="open"))
    assert only_open["service_request_id"] == open_.short_code
    (lights,) = as_list(client.get_service_requests(service_code=str(world["lights"].pk)))
    assert lights["status"] == "closed" and lights["status_notes"] == "Lampada sostituita."
    both = as_list(client.get_service_requests(
        service_request_id=f"{open_.short_code},{closed.short_code}", status="closed"))
    assert len(both) == 2
    now = timezone.now()
    recent = as_list(client.get_service_requests(
        start_date=(now - timedelta(hours=1)).isoformat(),
        end_date=(now + timedelta(hours=1)).isoformat()))
    assert len(recent) == 2
    if fmt == "json":  # georeport cannot read an empty XML list (an empty root element)
        assert client.get_service_requests(start_date="2026-01-01T00:00:00Z",
                                           end_date="2026-02-01T00:00:00Z") == []
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_requests(start_date="2025-01-01T00:00:00Z",
                                    end_date="2026-01-01T00:00:00Z")
    assert caught.value.response.status_code == 400


@pytest.mark.parametrize("fmt", FORMATS)
def test_georeport_reads_one_request(root, world, fmt):
    client = GeoReport(root, output_format=fmt)
    (one,) = as_list(client.get_service_request(world["closed"].short_code))
    assert one["service_request_id"] == world["closed"].short_code
    assert one["status"] == "closed" and one["agency_responsible"]
    assert one["requested_datetime"].endswith("+01:00")
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_request("SEG-1999-000001")
    assert caught.value.response.status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_filed_by_post_is_followed_with_georeport(root, world, factories, fmt):
    _client, key = new_client()
    code = str(world["potholes"].pk)
    answer = requests.post(f"{root}/requests.{fmt}", data={
        "api_key": key, "service_code": code, "description": "Tombino sollevato.",
        "email": "mario@example.org", "attribute[fixmystreet_id]": "31337", **INSIDE},
        timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == (
        "application/json; charset=utf-8" if fmt == "json" else "text/xml; charset=utf-8")
    if fmt == "json":
        request_id = answer.json()[0]["service_request_id"]
    else:
        import xml.etree.ElementTree as ET

        answer_xml = ET.fromstring(answer.content)  # noqa: S314 - our own server's answer
        request_id = answer_xml.find("request").findtext("service_request_id")
    client = GeoReport(root, api_key=key, output_format=fmt)
    (filed,) = as_list(client.get_service_request(request_id))
    assert filed["status"] == "open" and filed["description"].startswith("Tombino sollevato.")
    assert filed["service_code"] == code
    assert "mario@example.org" not in str(filed)
    # The office works it; the client follows the updates as FixMyStreet does.
    from wagtail_helpdesk.models import Ticket

    ticket = Ticket.objects.get(short_code=request_id)
    operator = world["potholes"].office.members.get()
    work(ticket, operator, to="resolved", resolution=factories.resolution_type(),
         text="Tombino risistemato.")
    (closed,) = as_list(client.get_service_request(request_id))
    assert closed["status"] == "closed" and closed["status_notes"] == "Tombino risistemato."
    updates = requests.get(f"{root}/servicerequestupdates.json", timeout=10).json()
    mine = [u for u in updates if u["service_request_id"] == request_id]
    assert [u["status"] for u in mine] == ["in_progress", "in_progress", "fixed"]
