"""Open311 GeoReport v2, the public side: discovery, services, service
definitions, requests (list, filters, one), FixMyStreet's
servicerequestupdates — in JSON and XML, against the JSON Schemas — and
what is never published."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.open311 import (
    body,
    errors,
    items,
    make_category,
    report,
    url,
    validate,
    work,
)
from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Kind, ShortCodeMode, Ticket
from wagtail_helpdesk.open311 import params

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


@pytest.fixture
def category(factories):
    return make_category(factories)


def get(client, path, fmt, **query):
    return client.get(url(path, fmt), query)


def requests_list(client, fmt, **query):
    response = get(client, "requests", fmt, **query)
    assert response.status_code == 200, response.content
    rows = items(response, fmt, "service_requests", "request")
    if fmt == "json":
        validate("requests", rows)
    return rows


def ids(rows):
    return [row["service_request_id"] for row in rows]


# Discovery, services, definitions ----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_a_production_and_a_test_endpoint(client, fmt, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_CONTACT = "urp@comune.example.it"
    settings.WAGTAIL_HELPDESK_OPEN311_TEST_URL = "https://staging.comune.example.it/open311/v2/"
    response = get(client, "discovery", fmt)
    assert response.status_code == 200
    data = body(response, fmt)
    if fmt == "json":
        validate("discovery", data)
        endpoints = data["endpoints"]
        assert data["contact"] == "urp@comune.example.it" and data["key_service"]
    else:
        assert data.tag == "discovery"
        assert data.findtext("contact") == "urp@comune.example.it"
        endpoints = [{"type": e.findtext("type"), "url": e.findtext("url"),
                      "specification": e.findtext("specification"),
                      "formats": [f.text for f in e.find("formats")]}
                     for e in data.find("endpoints").findall("endpoint")]
    assert [(e["type"], e["url"]) for e in endpoints] == [
        ("production", "http://testserver/open311/v2"),
        ("test", "https://staging.comune.example.it/open311/v2")]
    for endpoint in endpoints:
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_active_report_categories(client, factories, fmt):
    office = factories.office(name="Verde pubblico")
    parks = factories.report_category(office, name="Parchi e giardini", sla_days=10,
                                      description="Panchine, giochi, alberi.")
    lights = factories.report_category(name="Illuminazione pubblica")
    factories.report_category(name="Vecchia categoria", active=False)
    closed_office = factories.office(name="Ufficio chiuso", active=False)
    factories.report_category(closed_office, name="Di un ufficio chiuso")
    factories.service(name="Carta d'identità")  # an assistance service: never offered
    response = get(client, "services", fmt)
    rows = items(response, fmt, "services", "service")
    if fmt == "json":
        validate("services", rows)
    assert [row["service_name"] for row in rows] == ["Illuminazione pubblica",
                                                      "Parchi e giardini"]
    by_code = {row["service_code"]: row for row in rows}
    assert set(by_code) == {str(parks.pk), str(lights.pk)}
    park = by_code[str(parks.pk)]
    assert park["group"] == "Verde pubblico"
    assert park["description"] == "Panchine, giochi, alberi."
    assert park["type"] == "realtime"
    assert park["metadata"] in (True, "true")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_declares_its_attributes(client, category, fmt, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_ATTRIBUTES = {
        category.slug: [
            {"code": "danger", "description": "Is it dangerous?", "datatype": "singlevaluelist",
             "required": True, "values": [{"key": "yes", "name": "Yes"},
                                          {"key": "no", "name": "No"}]},
            {"code": "width_cm", "description": "How wide (cm)?", "datatype": "number"},
        ],
    }
    response = get(client, f"services/{category.pk}", fmt)
    assert response.status_code == 200
    data = body(response, fmt)
    if fmt == "json":
        validate("service-definition", data)
        attributes = data["attributes"]
        assert data["service_code"] == str(category.pk)
    else:
        assert data.tag == "service_definition"
        assert data.findtext("service_code") == str(category.pk)
        attributes = [{child.tag: child.text for child in a if child.tag != "values"}
                      | ({"values": [{"key": v.findtext("key"), "name": v.findtext("name")}
                                     for v in a.find("values")]} if a.find("values") is not None
                         else {})
                      for a in data.find("attributes")]
    assert [a["code"] for a in attributes] == ["danger", "width_cm", "fixmystreet_id"]
    danger, width, fms = attributes
    assert danger["datatype"] == "singlevaluelist"
    assert danger["required"] in (True, "true")
    assert danger["values"] == [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}]
    assert width["datatype"] == "number" and width["required"] in (False, "false")
    assert fms["variable"] in (False, "false") and fms["automated"] == "server_set"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["999999", "abc", "1" * 40, "inactive"])
def test_an_unknown_service_is_404(client, factories, fmt, code):
    if code == "inactive":
        code = str(factories.report_category(active=False).pk)
    response = get(client, f"services/{code}", fmt)
    assert response.status_code == 404
    assert [c for c, _d in errors(response, fmt)] == [404]


# Requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_list_only_sent_reports(client, factories, category, fmt):
    sent = report(factories, category)
    web = report(factories, category, channel=Channel.WEB)
    report(factories, category, draft=True)
    factories.request_ticket()  # an assistance request: a person's own matter
    factories.request_ticket(draft=True)
    rows = requests_list(client, fmt)
    assert ids(rows) == [web.short_code, sent.short_code]  # newest first
    assert Ticket.objects.count() == 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_is_published_with_the_spec_fields(client, factories, category, fmt):
    ticket = report(factories, category, address="Via Roma 12", latitude="45.071234",
                    longitude="7.681234")
    (row,) = requests_list(client, fmt)
    ticket.refresh_from_db()
    expected_times = {
        "requested_datetime": params.iso(ticket.submitted_at),
        "updated_datetime": params.iso(ticket.updated_at),
        "expected_datetime": params.iso(ticket.due_at),
    }
    assert {k: row[k] for k in expected_times} == expected_times
    assert row["requested_datetime"].endswith("+01:00")  # local time, with its zone
    assert row["service_request_id"] == ticket.short_code
    assert row["status"] == "open"
    assert row["service_code"] == str(category.pk)
    assert row["service_name"] == "Buche stradali"
    assert row["agency_responsible"] == "Manutenzione strade"
    assert row["description"] == "Buca profonda davanti al civico 12."
    assert row["address"] == "Via Roma 12"
    assert "5 working days" in row["service_notice"]
    assert row["media_url"] is None
    assert float(row["lat"]) == 45.071234 and float(row["long"]) == 7.681234


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_closed_with_the_resolution_as_status_notes(client, factories, category, fmt):
    operator = category.office.members.get()
    ticket = work(report(factories, category), operator, to="resolved",
                  resolution=factories.resolution_type(), text="Buca chiusa con asfalto a freddo.")
    still_open = work(report(factories, category), operator, to="waiting")
    rows = {row["service_request_id"]: row for row in requests_list(client, fmt)}
    closed = rows[ticket.short_code]
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Buca chiusa con asfalto a freddo."
    assert closed["updated_datetime"] == params.iso(ticket.resolved_at)
    waiting = rows[still_open.short_code]
    assert waiting["status"] == "open"
    assert waiting["status_notes"] == "Waiting for the citizen"


@pytest.mark.parametrize("fmt", FORMATS)
def test_filters(client, factories, category, fmt):
    other = factories.report_category(name="Rifiuti")
    operator = category.office.members.get()
    a = report(factories, category)
    b = work(report(factories, category), operator, to="resolved",
             resolution=factories.resolution_type())
    c = report(factories, other)
    old = report(factories, category)
    Ticket.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=120))

    assert set(ids(requests_list(client, fmt))) == {a.short_code, b.short_code, c.short_code}
    assert set(ids(requests_list(client, fmt, service_code=str(other.pk)))) == {c.short_code}
    assert set(ids(requests_list(client, fmt, service_code=f"{other.pk}, {category.pk}"))) \
        == {a.short_code, b.short_code, c.short_code}
    assert ids(requests_list(client, fmt, service_code="nonsense")) == []
    assert set(ids(requests_list(client, fmt, status="open"))) == {a.short_code, c.short_code}
    assert ids(requests_list(client, fmt, status="closed")) == [b.short_code]
    assert len(requests_list(client, fmt, status="open,closed")) == 3
    # A period: the old one only.
    start = (timezone.now() - timedelta(days=130)).isoformat()
    end = (timezone.now() - timedelta(days=100)).isoformat()
    assert ids(requests_list(client, fmt, start_date=start, end_date=end)) == [old.short_code]
    # An offset whose "+" arrived as a space (unencoded query string) still parses.
    assert ids(requests_list(client, fmt, start_date=start.replace("+", " "),
                             end_date=end)) == [old.short_code]
    # service_request_id overrides every other filter.
    assert set(ids(requests_list(client, fmt, service_request_id=f"{old.short_code},{b.short_code}",
                                 status="open", service_code=str(other.pk)))) \
        == {old.short_code, b.short_code}
    # Empty parameters count as absent.
    assert len(requests_list(client, fmt, status="", service_code="", start_date="")) == 3


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", [
    {"start_date": "yesterday"},
    {"end_date": "2026-02-30T00:00:00Z"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"},  # > 90 days
    {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},  # reversed
    {"status": "pending"},
])
def test_bad_filters_are_400(client, fmt, query):
    response = get(client, "requests", fmt, **query)
    assert response.status_code == 400
    assert [c for c, _d in errors(response, fmt)] == [400]


def test_at_most_1000_rows_newest_first(client, factories, category, monkeypatch):
    from wagtail_helpdesk.open311 import publish

    monkeypatch.setattr(publish, "MAX_ROWS", 2)
    made = [report(factories, category) for _ in range(3)]
    assert ids(requests_list(client, "json")) == [made[2].short_code, made[1].short_code]
    assert params.MAX_ROWS == 1000


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_is_still_an_array(client, factories, category, fmt):
    ticket = report(factories, category)
    report(factories, category)
    response = get(client, f"requests/{ticket.short_code}", fmt)
    assert response.status_code == 200
    rows = items(response, fmt, "service_requests", "request")
    if fmt == "json":
        validate("requests", rows)
    assert ids(rows) == [ticket.short_code]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_drafts_and_assistance_requests_are_404(client, factories, category, fmt):
    draft = report(factories, category, draft=True)
    assistance = factories.request_ticket()
    for request_id in ("SEG-1999-000001", str(draft.pk), assistance.short_code,
                       str(assistance.pk), "x" * 300):
        response = get(client, f"requests/{request_id}", fmt)
        assert response.status_code == 404, request_id
        assert [c for c, _d in errors(response, fmt)] == [404]


def test_without_short_codes_the_id_is_the_ticket_number(client, factories, category):
    factories.settings(short_code_mode=ShortCodeMode.OFF)
    ticket = report(factories, category)
    assert ticket.short_code is None
    (row,) = requests_list(client, "json")
    assert row["service_request_id"] == str(ticket.pk)
    response = get(client, f"requests/{ticket.pk}", "json")
    assert ids(body(response, "json")) == [str(ticket.pk)]
    # Once codes are on, a number never reaches a ticket known by its code.
    factories.settings(short_code_mode=ShortCodeMode.SEQUENTIAL)
    coded = report(factories, category)
    assert get(client, f"requests/{coded.pk}", "json").status_code == 404


# What is never published -------------------------------------------------------------


@pytest.fixture
def person(factories):
    return factories.citizen(given_name="Gianluca", family_name="Verdolini",
                             fiscal_code=factories.FISCAL_CODES[0],
                             email="gianluca.verdolini@example.org", phone="+39 333 1234567")


PERSONAL = ("Gianluca", "Verdolini", "RSSMRA85T10A562S", "gianluca.verdolini@example.org",
            "333 1234567", "3331234567")


def assert_no_personal_data(text):
    for value in PERSONAL:
        assert value.lower() not in text.lower(), value


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_personal_data_nor_private_notes_anywhere(client, factories, category, person, fmt,
                                                     settings):
    settings.WAGTAIL_HELPDESK_OPEN311_PUBLIC_DETAILS = "all"
    operator = category.office.members.get()
    ticket = report(factories, category, citizen=person, channel=Channel.WEB,
                    description="Buca davanti a casa di Gianluca Verdolini, chiamatemi al "
                                "333 1234567 o a gianluca.verdolini@example.org.",
                    address="Via Roma 3 (sig. Verdolini)")
    ticket = services.take_charge(ticket, operator)
    services.add_note(ticket, operator, "SEGRETO: il sig. Verdolini è un consigliere.")
    services.reply(ticket, operator, "Gentile Gianluca Verdolini, grazie della segnalazione.")
    services.add_citizen_message(ticket, services.CitizenActor(person),
                                 "Sono Gianluca, il CF è RSSMRA85T10A562S.")
    ticket = services.resolve(ticket, operator, factories.resolution_type(),
                              "Sig. Verdolini, la buca è stata chiusa.")
    for path in ("requests", f"requests/{ticket.short_code}", "servicerequestupdates"):
        response = get(client, path, fmt)
        assert response.status_code == 200
        text = response.content.decode()
        assert_no_personal_data(text)
        assert "SEGRETO" not in text and "consigliere" not in text
        assert "[…]" in text  # the redacted texts are there, without the person
    (row,) = requests_list(client, fmt)
    assert row["description"] == "Buca davanti a casa di […] […], chiamatemi al […] o a […]."
    assert row["status_notes"] == "Sig. […], la buca è stata chiusa."


@pytest.mark.parametrize("fmt", FORMATS)
def test_details_of_other_channels_stay_private_by_default(client, factories, category, fmt):
    via_open311 = report(factories, category, address="Via Po 1", latitude="45.071234",
                         longitude="7.681234")
    from_web = report(factories, category, channel=Channel.WEB, address="Via Roma 3",
                      latitude="45.071234", longitude="7.681234",
                      description="Davanti al portone del condominio.")
    rows = {row["service_request_id"]: row for row in requests_list(client, fmt)}
    published = rows[via_open311.short_code]
    assert published["address"] == "Via Po 1" and published["description"]
    private = rows[from_web.short_code]
    assert private["description"] is None and private["address"] is None
    assert float(private["lat"]) == 45.071 and float(private["long"]) == 7.681  # ~100 m
    assert "portone" not in get(client, "requests", fmt).content.decode()


def test_no_details_at_all_when_configured(client, factories, category, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_PUBLIC_DETAILS = "none"
    report(factories, category, address="Via Po 1")
    (row,) = requests_list(client, "json")
    assert row["description"] is None and row["address"] is None


# servicerequestupdates (FixMyStreet) -------------------------------------------------


def updates(client, fmt, **query):
    response = get(client, "servicerequestupdates", fmt, **query)
    assert response.status_code == 200, response.content
    rows = items(response, fmt, "service_request_updates", "request_update")
    if fmt == "json":
        validate("updates", rows)
    return rows


@pytest.mark.parametrize("fmt", FORMATS)
def test_updates_follow_the_office_work(client, factories, category, fmt):
    operator = category.office.members.get()
    citizen = factories.citizen()
    ticket = report(factories, category, citizen=citizen)
    ticket = work(ticket, operator, to="waiting")
    services.add_citizen_message(ticket, services.CitizenActor(citizen), "Civico 12.")
    services.add_note(ticket, operator, "nota privata")
    ticket = services.resolve(ticket, operator, factories.resolution_type("duplicata"),
                              "Già segnalata con SEG-2026-000001.")
    services.reopen(ticket, operator, reason="Il problema si è ripresentato.")
    rows = updates(client, fmt)
    assert [(r["status"], r["description"]) for r in rows] == [
        ("in_progress", "Taken in charge by the office."),
        ("in_progress", "Grazie, interveniamo entro la settimana."),
        ("in_progress", "Ci serve il numero civico."),
        ("duplicate", "Già segnalata con SEG-2026-000001."),
        ("open", "Il problema si è ripresentato."),
    ]
    assert {r["service_request_id"] for r in rows} == {ticket.short_code}
    assert rows[3]["external_status_code"] == "duplicata"
    assert len({r["update_id"] for r in rows}) == 5
    text = get(client, "servicerequestupdates", fmt).content.decode()
    assert "Civico 12" not in text and "nota privata" not in text


@pytest.mark.parametrize(("slug", "status"), [("risolta", "fixed"),
                                              ("non-di-competenza", "not_councils_responsibility"),
                                              ("respinta", "no_further_action")])
def test_resolution_types_map_to_fixmystreet_statuses(client, factories, category, slug, status):
    operator = category.office.members.get()
    work(report(factories, category), operator, to="resolved",
         resolution=factories.resolution_type(slug))
    assert updates(client, "json")[-1]["status"] == status


def test_updates_of_a_period_only(client, factories, category):
    operator = category.office.members.get()
    ticket = services.take_charge(report(factories, category), operator)
    ticket.events.update(created_at=timezone.now() - timedelta(days=10))
    services.reply(ticket, operator, "Risposta di oggi.")
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert [r["description"] for r in updates(client, "json", start_date=since)] \
        == ["Risposta di oggi."]
    assert len(updates(client, "json")) == 2
    response = get(client, "servicerequestupdates", "json", start_date="2026-01-01T00:00:00Z",
                   end_date="2026-12-31T00:00:00Z")
    assert response.status_code == 400


def test_updates_leave_out_assistance_requests(client, factories):
    office = factories.office()
    operator = factories.operator(office)
    ticket = factories.request_ticket(service_=factories.service(office))
    services.reply(ticket, operator, "Risposta personale.")
    assert updates(client, "json") == []


# Query counts, jurisdiction, allowance, headers -----------------------------------------


def _queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_query_counts_do_not_grow_with_the_rows(client, factories, django_assert_num_queries):
    office = factories.office()
    operator = factories.operator(office)
    resolution = factories.resolution_type()

    def grow(n):
        for _ in range(n):
            factories.report_category(office)
        for cat in list(factories.ReportCategory.objects.all())[:n]:
            ticket = report(factories, cat, citizen=factories.citizen())
            work(ticket, operator, to="resolved", resolution=resolution)

    grow(3)
    assert Ticket.objects.filter(kind=Kind.REPORT).count() == 3
    with django_assert_num_queries(1):
        client.get(url("services", "json"))
    with django_assert_num_queries(1):
        client.get(url("requests", "xml"))
    with django_assert_num_queries(2):
        client.get(url("servicerequestupdates", "json"))
    grow(27)
    assert Ticket.objects.filter(kind=Kind.REPORT).count() == 30
    with django_assert_num_queries(1):
        assert len(client.get(url("services", "json")).json()) == 30
    with django_assert_num_queries(1):
        assert len(client.get(url("requests", "json")).json()) == 30
    with django_assert_num_queries(2):
        assert len(client.get(url("servicerequestupdates", "json")).json()) == 30 * 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_jurisdiction(client, category, settings, fmt):
    settings.WAGTAIL_HELPDESK_OPEN311_JURISDICTION_ID = "comune.example.it"
    assert get(client, "services", fmt, jurisdiction_id="comune.example.it").status_code == 200
    assert get(client, "services", fmt).status_code == 200  # optional
    response = get(client, "services", fmt, jurisdiction_id="altro.example.it")
    assert response.status_code == 404
    assert "comune.example.it" in errors(response, fmt)[0][1]


def test_reads_are_limited_per_address(client, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_RATE_READS_PER_IP = 2
    assert get(client, "services", "json").status_code == 200
    assert get(client, "discovery", "json").status_code == 200
    response = get(client, "services", "xml")
    assert response.status_code == 429 and response["Retry-After"]
    assert errors(response, "xml")[0][0] == 429


def test_get_answers_may_be_read_by_browser_applications(client):
    response = get(client, "services", "json")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_other_methods_and_formats(client):
    response = client.post(url("services", "json"))
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert errors(response, "json")[0][0] == 405
    assert client.get(f"{url('services', 'json')[:-5]}.html").status_code == 404
    assert client.head(url("services", "xml")).status_code == 200


def test_the_schemas_refuse_what_the_spec_refuses():
    from jsonschema import ValidationError

    good = {"service_request_id": "SEG-2026-000001", "status": "open", "service_code": "3",
            "requested_datetime": "2026-03-01T10:00:00+01:00"}
    validate("requests", [good])
    for bad in ({"service_request_id": 1}, {"service_code": 3}, {"status": "pending"},
                {"requested_datetime": "2026-03-01T10:00:00"}, {"description": "x" * 4001},
                {"email": "someone@example.org"}, {"media_url": "not a url"}):
        with pytest.raises(ValidationError):
            validate("requests", [good | bad])
