"""Open311 POST requests: registered clients file reports through the
services layer; every refusal writes nothing; retries file nothing twice."""

import pytest
from django.test import Client

from tests.support.open311 import (
    INSIDE,
    OUTSIDE,
    body,
    errors,
    make_category,
    new_client,
    url,
    validate,
)
from wagtail_helpdesk import services
from wagtail_helpdesk.errors import PermissionDenied
from wagtail_helpdesk.models import (
    Channel,
    Citizen,
    EventKind,
    Kind,
    Notification,
    Open311Client,
    Ticket,
)
from wagtail_helpdesk.workflow import Action, Status

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]
DESCRIPTION = "Buca profonda in mezzo alla carreggiata.\nPericolosa per gli scooter."


@pytest.fixture
def category(factories):
    return make_category(factories)


@pytest.fixture
def api_key(db):
    """An active client's key."""
    return new_client()[1]


def post(client, fmt="json", **data):
    return client.post(url("requests", fmt), data)


def fields(category, key, **extra):
    data = {"api_key": key, "service_code": str(category.pk), "description": DESCRIPTION,
            **INSIDE}
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def filed_id(response, fmt):
    assert response.status_code == 200, response.content
    data = body(response, fmt)
    if fmt == "json":
        validate("post-response", data)
        return data[0]["service_request_id"]
    assert data.tag == "service_requests" and [c.tag for c in data] == ["request"]
    return data.find("request").findtext("service_request_id")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_client_files_a_report_through_the_services_layer(client, category, api_key, fmt):
    category.office.email = "strade@comune.example.it"
    category.office.save()
    response = post(client, fmt, **fields(
        category, api_key, email="mario@example.org", first_name="Mario", last_name="Bianchi",
        phone="3330000000", address_string="Via Roma 12", media_url="https://fms.example.org/p/1.jpg",
        account_id="acct-7"))
    request_id = filed_id(response, fmt)
    ticket = Ticket.objects.get()
    assert request_id == ticket.short_code
    assert (ticket.kind, ticket.channel, ticket.status) == (Kind.REPORT, Channel.OPEN311,
                                                           Status.NEW)
    assert ticket.report_category == category and ticket.office == category.office
    assert ticket.due_at is not None  # the category's deadline
    assert ticket.subject == "Buca profonda in mezzo alla carreggiata."
    assert ticket.description.startswith(DESCRIPTION)
    assert "https://fms.example.org/p/1.jpg" in ticket.description
    assert (str(ticket.latitude), str(ticket.longitude), ticket.address) == (
        "45.070000", "7.680000", "Via Roma 12")
    citizen = ticket.citizen
    assert (citizen.given_name, citizen.family_name, citizen.email, citizen.phone,
            citizen.fiscal_code) == ("Mario", "Bianchi", "mario@example.org", "3330000000", None)
    created = ticket.events.get(kind=EventKind.CREATED)
    key_client = Open311Client.objects.get()
    assert created.actor is None
    assert created.data["client"] == {"kind": "open311", "id": key_client.pk,
                                      "name": "FixMyStreet Italia"}
    assert created.data["channel"] == "open311"
    assert ticket.events.filter(kind=EventKind.SUBMITTED).exists()
    templates = set(Notification.objects.values_list("template", flat=True))
    assert {"citizen/ticket_received", "office/new_ticket"} <= templates
    assert key_client.last_used_at is not None
    if fmt == "json":
        data = body(response, fmt)
        assert data[0]["account_id"] == "acct-7"
        assert "5 working days" in data[0]["service_notice"]


def test_without_personal_data_the_report_is_anonymous(client, category, api_key):
    filed_id(post(client, **fields(category, api_key)), "json")
    assert Ticket.objects.get().citizen is None
    assert Citizen.objects.count() == 0


def test_an_email_never_links_to_someone_elses_record(client, factories, category, api_key):
    someone = factories.citizen(email="mario@example.org", fiscal_code=factories.FISCAL_CODES[1])
    filed_id(post(client, **fields(category, api_key, email="mario@example.org")), "json")
    ticket = Ticket.objects.get()
    assert ticket.citizen != someone and ticket.citizen.email == "mario@example.org"


def test_an_address_alone_is_a_place(client, category, api_key):
    filed_id(post(client, **fields(category, api_key, lat=None, long=None,
                                   address_string="Piazza Castello")), "json")
    ticket = Ticket.objects.get()
    assert ticket.address == "Piazza Castello" and not ticket.has_location


def test_a_filed_report_can_be_followed(client, category, api_key):
    request_id = filed_id(post(client, **fields(category, api_key)), "json")
    response = client.get(url(f"requests/{request_id}", "json"))
    (row,) = body(response, "json")
    assert row["status"] == "open" and row["description"].startswith("Buca profonda")
    assert (row["lat"], row["long"]) == (45.07, 7.68)


def test_csrf_does_not_apply(category, api_key):
    strict = Client(enforce_csrf_checks=True)
    filed_id(post(strict, **fields(category, api_key)), "json")


def test_attributes_are_checked_and_kept(client, category, api_key, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_ATTRIBUTES = {"*": [
        {"code": "danger", "description": "Pericolosa?", "datatype": "singlevaluelist",
         "required": True, "values": [{"key": "si", "name": "Sì"}, {"key": "no", "name": "No"}]},
        {"code": "sides", "description": "Lati", "datatype": "multivaluelist",
         "values": [{"key": "n", "name": "Nord"}, {"key": "s", "name": "Sud"}]},
        {"code": "width", "description": "Larghezza (cm)", "datatype": "number"},
        {"code": "seen", "description": "Vista il", "datatype": "datetime"},
    ]}
    data = fields(category, api_key, **{"attribute[danger]": "si", "attribute[sides][]": ["n", "s"],
                                       "attribute[width]": "40,5",
                                       "attribute[seen]": "2026-03-01T08:00:00+01:00"})
    filed_id(post(client, **data), "json")
    description = Ticket.objects.get().description
    assert "Pericolosa?: Sì" in description and "Lati: Nord, Sud" in description
    assert "Larghezza (cm): 40.5" in description and "Vista il: 2026-03-01" in description


# Refusals: the right status, a clear message, nothing written -------------------------


def assert_refused(response, fmt, status, *fragments):
    assert response.status_code == status, response.content
    found = errors(response, fmt)
    assert {code for code, _d in found} == {status}
    text = " ".join(d for _c, d in found)
    for fragment in fragments:
        assert fragment in text, text
    assert Ticket.objects.count() == 0
    assert Citizen.objects.count() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_keys(client, category, fmt):
    client_, key = new_client()
    assert_refused(post(client, fmt, **fields(category, None)), fmt, 403, "api_key is required")
    in_query = client.post(f"{url('requests', fmt)}?api_key={key}", fields(category, None))
    assert_refused(in_query, fmt, 403, "api_key is required")  # URLs end up in logs
    assert_refused(post(client, fmt, **fields(category, "o311_wrong", email="a@b.it")), fmt, 403,
                   "not valid")
    client_.active = False
    client_.save()
    assert_refused(post(client, fmt, **fields(category, key, email="a@b.it")), fmt, 403,
                   "revoked")
    assert Open311Client.objects.get().last_used_at is None


REFUSALS = [
    ({"service_code": None}, 400, "service_code is required"),
    ({"service_code": "999999"}, 404, "Unknown service_code"),
    ({"service_code": "buche"}, 404, "Unknown service_code"),
    (OUTSIDE, 400, "outside the municipality"),
    ({"lat": "45.07", "long": None}, 400, "lat and long"),
    ({"lat": "north", "long": "7.68"}, 400, "lat and long"),
    ({"lat": None, "long": None}, 400, "Say where the problem is"),
    ({"lat": None, "long": None, "address_id": "A-123"}, 400, "address_id is not supported"),
    ({"description": "<b>Buca</b> in via Roma"}, 400, "without HTML"),
    ({"description": "Buca <script>alert(1)</script>"}, 400, "without HTML"),
    ({"description": "x" * 4001}, 400, "at most 4000"),
    ({"description": "   "}, 400, "description is required"),
    ({"email": "not-an-address"}, 400, "email is not a valid"),
    ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
    ({"phone": "3" * 41}, 400, "phone is too long"),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("changes", "status", "message"), REFUSALS)
def test_refusals(client, category, api_key, fmt, changes, status, message):
    data = fields(category, api_key, email="mario@example.org", first_name="Mario")
    data.update(changes)
    assert_refused(post(client, fmt, **{k: v for k, v in data.items() if v is not None}), fmt,
                   status, message)


def test_an_inactive_category_is_unknown(client, factories, api_key):
    old = factories.report_category(active=False)
    assert_refused(post(client, **fields(old, api_key)), "json", 404, "Unknown service_code")


def test_several_errors_at_once(client, category, api_key):
    response = post(client, "xml", **fields(category, api_key, description="<i>x</i>",
                                            email="nope", **OUTSIDE))
    assert_refused(response, "xml", 400)
    assert len(errors(response, "xml")) == 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_attributes_refused(client, category, api_key, settings, fmt):
    settings.WAGTAIL_HELPDESK_OPEN311_ATTRIBUTES = {category.slug: [
        {"code": "danger", "description": "Pericolosa?", "datatype": "singlevaluelist",
         "required": True, "values": [{"key": "si", "name": "Sì"}, {"key": "no", "name": "No"}]},
        {"code": "width", "description": "Larghezza", "datatype": "number"},
        {"code": "seen", "description": "Vista il", "datatype": "datetime"},
    ]}
    assert_refused(post(client, fmt, **fields(category, api_key)), fmt, 400,
                   "attribute[danger] is required: Pericolosa?")
    assert_refused(post(client, fmt, **fields(category, api_key, **{"attribute[danger]": "forse"})),
                   fmt, 400, "attribute[danger] must be one of: no, si")
    assert_refused(post(client, fmt, **fields(category, api_key, **{
        "attribute[danger]": "si", "attribute[width]": "largo", "attribute[seen]": "ieri"})),
        fmt, 400, "attribute[width] must be a number", "attribute[seen] must be a date")


def test_a_category_of_a_closed_office_is_unknown(client, category, api_key):
    category.office.active = False
    category.office.save()
    assert_refused(post(client, **fields(category, api_key)), "json", 404)


def test_jurisdiction_on_post(client, category, api_key, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_JURISDICTION_ID = "comune.example.it"
    assert_refused(post(client, **fields(category, api_key, jurisdiction_id="other.it")),
                   "json", 404, "jurisdiction_id")
    filed_id(post(client, **fields(category, api_key, jurisdiction_id="comune.example.it")),
             "json")


# Retries, allowance --------------------------------------------------------------------


def test_a_fixmystreet_retry_files_nothing_twice(client, category, api_key):
    data = fields(category, api_key, email="mario@example.org",
                  **{"attribute[fixmystreet_id]": "4711"})
    first = filed_id(post(client, **data), "json")
    again = filed_id(post(client, "xml", **data), "xml")
    changed = filed_id(post(client, **data | {"description": "Testo corretto."}), "json")
    assert first == again == changed
    assert Ticket.objects.count() == 1 and Citizen.objects.count() == 1
    other = filed_id(post(client, **data | {"attribute[fixmystreet_id]": "4712"}), "json")
    assert other != first and Ticket.objects.count() == 2


def test_a_plain_retry_files_nothing_twice(client, category, api_key):
    data = fields(category, api_key, email="mario@example.org")
    assert filed_id(post(client, **data), "json") == filed_id(post(client, **data), "json")
    assert Ticket.objects.count() == 1 and Citizen.objects.count() == 1
    filed_id(post(client, **data | {"description": "Un'altra buca."}), "json")
    assert Ticket.objects.count() == 2


def test_the_same_report_from_another_client_is_another_ticket(client, category, api_key):
    _other, other_key = new_client("Un'altra app")
    data = fields(category, api_key, **{"attribute[fixmystreet_id]": "1"})
    first = filed_id(post(client, **data), "json")
    assert filed_id(post(client, **data | {"api_key": other_key}), "json") != first


def test_posts_are_limited_per_key(client, category, api_key, settings):
    settings.WAGTAIL_HELPDESK_OPEN311_RATE_POSTS_PER_KEY = 2
    for n in range(2):
        filed_id(post(client, **fields(category, api_key, description=f"Buca {n}")), "json")
    response = post(client, **fields(category, api_key, description="Buca 3"))
    assert response.status_code == 429 and response["Retry-After"]
    assert errors(response, "json")[0][0] == 429
    assert Ticket.objects.count() == 2
    # Another client has its own allowance.
    filed_id(post(client, **fields(category, new_client("Altro")[1], description="Buca 4")),
             "json")


# The client as an actor ------------------------------------------------------------------


def test_a_client_can_only_file_tickets(category, factories):
    client_, _key = new_client()
    from wagtail_helpdesk.open311.clients import actor

    ticket = factories.report_ticket(actor(client_), category=category, channel=Channel.OPEN311)
    for action in (Action.REPLY, Action.NOTE, Action.RESOLVE, Action.SUBMIT):
        with pytest.raises(PermissionDenied):
            services.actors.authorise(actor(client_), action, ticket)
    assert not services.actors.is_operator(actor(client_))


def test_the_timeline_names_the_client(category, api_key):
    from wagtail_helpdesk.tickets.timeline import build_timeline

    filed_id(post(Client(), **fields(category, api_key)), "json")
    ticket = Ticket.objects.get()
    created = build_timeline(ticket, [])[0]
    assert (str(created.actor_role), created.actor) == ("Integration", "FixMyStreet Italia")
