"""No personal data and no free text can reach the open data: every text a
citizen, an operator or an editor writes about a report carries a marker,
and no marker may appear in any published file or page."""

import re

import pytest

from wagtail_helpdesk import services
from wagtail_helpdesk.services import CitizenActor
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db

URLS = ["/helpdesk/open-data/", "/helpdesk/open-data/segnalazioni.csv",
        "/helpdesk/open-data/segnalazioni.geojson", "/helpdesk/open-data/catalogo.rdf",
        "/helpdesk/open-data/catalogo.jsonld"]

MARKERS = {
    "subject": "Zqsubject7731",
    "description": "Zqdescription4412",
    "address": "Via Zqaddress 9981",
    "given_name": "Zqgiven5520",
    "family_name": "Zqfamily6617",
    "fiscal_code": "BNCLRA90A41H501F",
    "declared_fiscal_code": "VRDGPP80C12F205H",
    "email": "zqcitizen3390@example.org",
    "phone": "+39 333 7719905",
    "resolution_text": "Zqresolution2208",
    "reply": "Zqreply8830",
    "note": "Zqnote1147",
    "citizen_message": "Zqmessage6021",
    "operator_first_name": "Zqoperator4478",
    "operator_last_name": "Zqsurname2291",
    "operator_username": "zqlogin9912",
    "office_email": "zqoffice5501@comune.example.it",
    "office_phone": "+39 0471 998877",
    "category_description": "Zqcategorytext3315",
    "exact_latitude": "45.464219",
    "exact_longitude": "9.190127",
}


@pytest.fixture
def marked(territory):
    """Reports in every status whose every text holds a marker."""
    factories = territory.factories
    office = territory.office
    office.email, office.phone = MARKERS["office_email"], MARKERS["office_phone"]
    office.save()
    category = territory.category
    category.description = MARKERS["category_description"]
    category.save()
    operator = factories.operator(office, username=MARKERS["operator_username"],
                                  first_name=MARKERS["operator_first_name"],
                                  last_name=MARKERS["operator_last_name"])
    territory.operator = operator
    person = factories.citizen(
        given_name=MARKERS["given_name"], family_name=MARKERS["family_name"],
        fiscal_code=MARKERS["fiscal_code"], declared_fiscal_code=MARKERS["declared_fiscal_code"],
        email=MARKERS["email"], phone=MARKERS["phone"])
    texts = {"subject": MARKERS["subject"], "description": MARKERS["description"],
             "address": MARKERS["address"], "latitude": MARKERS["exact_latitude"],
             "longitude": MARKERS["exact_longitude"], "citizen": person,
             "resolution_text": MARKERS["resolution_text"]}
    tickets = [territory.report(status=status, **texts)
               for status in (Status.NEW, Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED)]
    services.reply(tickets[1], operator, MARKERS["reply"])
    services.add_note(tickets[1], operator, MARKERS["note"])
    services.add_citizen_message(tickets[2], CitizenActor(person), MARKERS["citizen_message"])
    from wagtail_helpdesk.models import Ticket

    assert Ticket.objects.filter(resolution_text=MARKERS["resolution_text"]).count() == 1
    return tickets


def test_no_marker_appears_anywhere(client, marked):
    published = {}
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 200, url
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content).decode()
        published[url] = body
    assert published["/helpdesk/open-data/segnalazioni.csv"].count("\r\n") == 1 + len(marked)
    for url, body in published.items():
        folded = body.casefold()
        for what, marker in MARKERS.items():
            assert marker.casefold() not in folded, f"{what} in {url}"
        # Neither the ticket numbers nor their short codes.
        for ticket in marked:
            assert ticket.short_code not in body, url
    for url in URLS[1:3]:  # the data: days only, never a time of day
        assert not re.search(r"\d{1,2}:\d{2}", published[url]), url
        for channel in ("web", "phone", "open311", "email", "canale", "channel"):
            assert f'"{channel}"' not in published[url] and f",{channel}," not in published[url]


def test_the_rows_hold_only_the_documented_values(client, marked):
    """What a row may say, column by column: nothing else can slip in."""
    import csv
    import io

    from wagtail_helpdesk.opendata import dataset

    body = b"".join(client.get(URLS[1]).streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == len(marked)
    allowed = {
        "categoria": {"Buche stradali"}, "categoria_codice": {marked[0].report_category.slug},
        "ufficio": {"Lavori pubblici"}, "esito": {"", "Risolta"},
        "stato": set(dataset.PUBLIC_STATUS.values()),
    }
    for row in rows:
        for column, values in allowed.items():
            assert row[column] in values, column
        assert re.fullmatch(r"[0-9a-f]{16}", row["id"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["data_ricezione"])
        assert re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", row["data_risoluzione"])
        assert re.fullmatch(r"-?\d{1,3}(\.\d{1,6})?", row["latitudine"])
