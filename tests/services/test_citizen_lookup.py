"""The one citizen-search rule (``services.lookup``) on every path: the admin's
"Crea ticket" search, the admin's Citizens list and page, the REST API lookup.

*Find* (to open a ticket for): whoever may add tickets finds any citizen, but
sees only the name, the birth year and masked fiscal code and e-mail. *Read*
(the full record): only citizens with a ticket the user may open, every
citizen for users who see every office."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.citizens import visible_citizens
from wagtail_helpdesk.models import Citizen, Ticket
from wagtail_helpdesk.services import CitizenActor, lookup

pytestmark = pytest.mark.django_db

NEW = "/admin/helpdesk/tickets/new/"
LIST = "/admin/helpdesk/citizens/"
FAR_CODE, NEAR_CODE = "GLLLCU88E15D612K", "RSSMRA85T10A562S"
FAR_EMAIL, FAR_PHONE = "monica.gallo@posta.example.it", "+39 347 5550123"


@pytest.fixture
def town(factories):
    """Two offices. Two citizens named Monica Gallo: the "far" one (born 1988)
    has a ticket in B only, the "near" one (born 1985) in A; the operator works
    in A."""
    a, b = factories.office(name="URP"), factories.office(name="Tributi")
    service_a, service_b = factories.service(a), factories.service(b)
    far = factories.citizen(given_name="Monica", family_name="Gallo", fiscal_code=FAR_CODE,
                            email=FAR_EMAIL, phone=FAR_PHONE)
    near = factories.citizen(given_name="Monica", family_name="Gallo", fiscal_code=NEAR_CODE,
                             email="mg85@example.org", phone="011 4443322")
    factories.request_ticket(CitizenActor(far), service_=service_b, citizen_=far)
    factories.request_ticket(CitizenActor(near), service_=service_a, citizen_=near)
    superuser = factories.user(group=None, is_staff=True, is_superuser=True)
    return type("Town", (), {"a": a, "b": b, "service_a": service_a, "far": far, "near": near,
                             "operator": factories.operator(a), "admin": factories.administrator(),
                             "superuser": superuser, "factories": factories})


def login(client, user):
    client.force_login(user)
    return client


def search(client, text):
    return client.post(NEW, {"kind": "request", "channel": "phone", "priority": "2",
                             "intent": "search", "citizen_query": text})


def results(response):
    """The "Crea ticket" results: {citizen id: label text}."""
    soup = BeautifulSoup(response.content, "html.parser")
    return {int(radio["value"]): " ".join(radio.find_parent("label").get_text(" ").split())
            for radio in soup.select('.helpdesk-citizen-matches input[name="citizen"]')}


def assert_no_full_record(content, citizen=None):
    citizen = citizen or Citizen.objects.get(fiscal_code=FAR_CODE)
    text = content.decode() if isinstance(content, bytes) else content
    for secret in (citizen.fiscal_code, citizen.email, citizen.phone):
        assert secret not in text


# Find in "Crea ticket"


def test_crea_ticket_finds_another_offices_citizen_masked(client, town):
    response = search(login(client, town.operator), "monica gallo")
    assert response.status_code == 200
    found = results(response)
    assert set(found) == {town.far.pk, town.near.pk}
    assert_no_full_record(response.content)  # anywhere in the page
    # Namesakes told apart: birth year, masked fiscal code and e-mail.
    assert "GLL************K" in found[town.far.pk] and "born 1988" in found[town.far.pk]
    assert "m***@p***.it" in found[town.far.pk]
    assert f"•••{FAR_PHONE[-3:]}" in found[town.far.pk] and "1 ticket" in found[town.far.pk]
    # The one with a ticket in the operator's office: in full.
    assert NEAR_CODE in found[town.near.pk] and "mg85@example.org" in found[town.near.pk]
    assert "born 1985" in found[town.near.pk]


@pytest.mark.parametrize("query", ["glllcu88e15d612k", "TINIT-GLLLCU88E15D612K",
                                   " GLLLCU88 E15D612K "])
def test_crea_ticket_finds_by_fiscal_code_and_still_masks(client, town, query):
    response = search(login(client, town.operator), query)
    found = results(response)
    assert list(found) == [town.far.pk]
    assert FAR_CODE not in found[town.far.pk] and "GLL************K" in found[town.far.pk]
    soup = BeautifulSoup(response.content, "html.parser")
    assert_no_full_record(soup.select_one(".helpdesk-citizen-matches").decode())
    assert FAR_EMAIL not in response.content.decode()
    assert FAR_PHONE not in response.content.decode()


def test_a_found_citizen_may_be_given_a_ticket_which_makes_them_readable(client, town):
    client = login(client, town.operator)
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.far.pk])).status_code == 404
    # A draft (deleted without a trace at will) opens nothing.
    client.post(NEW, {"kind": "request", "channel": "phone", "priority": "2", "intent": "draft",
                      "citizen": town.far.pk, "service": town.service_a.pk,
                      "description": "Bozza"})
    assert Ticket.objects.filter(citizen=town.far, status="draft").exists()
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.far.pk])).status_code == 404
    response = client.post(NEW, {"kind": "request", "channel": "phone", "priority": "2",
                                 "intent": "submit", "citizen": town.far.pk,
                                 "service": town.service_a.pk, "description": "Al telefono"})
    assert response.status_code == 302
    assert Ticket.objects.exclude(status="draft").get(
        citizen=town.far, office=town.a).created_by == town.operator
    # Now the citizen has a ticket in the operator's office: theirs to read.
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.far.pk])).status_code == 200


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_users_who_see_every_office_find_full_records(client, town, who):
    found = results(search(login(client, getattr(town, who)), "monica gallo"))
    assert FAR_CODE in found[town.far.pk] and FAR_EMAIL in found[town.far.pk]
    assert FAR_PHONE in found[town.far.pk]


# Read in the Citizens list and page


def test_the_citizens_list_and_page_stay_readable_only(client, town):
    client = login(client, town.operator)
    assert_no_full_record(client.get(LIST).content)
    for query in ("Gallo", FAR_CODE, FAR_EMAIL):  # the search box shows what was typed
        table = BeautifulSoup(client.get(LIST, {"q": query}).content, "html.parser").select_one(
            "table.listing")
        assert "Gallo" in table.get_text() if query == "Gallo" else table is None
        assert_no_full_record(str(table))
    assert NEAR_CODE in client.get(LIST, {"q": "gallo"}).content.decode()
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.far.pk])).status_code == 404
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.near.pk])).status_code == 200
    assert set(visible_citizens(town.operator)) == {town.near}


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_users_who_see_every_office_read_everyone(client, town, who):
    client = login(client, getattr(town, who))
    assert FAR_CODE in client.get(LIST, {"q": "gallo"}).content.decode()
    assert client.get(reverse("helpdesk_citizens:detail", args=[town.far.pk])).status_code == 200


def test_readable_citizens(town, factories):
    assert set(lookup.readable_citizens(town.operator)) == {town.near}
    assert set(lookup.readable_citizens(town.admin)) >= {town.near, town.far}
    nobody = factories.user(group=None)
    assert not lookup.readable_citizens(nobody).exists()
    auditor = factories.user(offices=[town.a], group=None)
    auditor.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    assert not lookup.readable_citizens(auditor).exists()  # no view_citizen


# Find and read through the REST API


def test_api_lookup_finds_another_offices_citizen_masked(caller, town):
    response = caller(town.operator).get("/citizens/", {"fiscal_code": FAR_CODE.lower()})
    assert response.status_code == 200
    assert response.json() == [{
        "id": town.far.pk, "given_name": "Monica", "family_name": "Gallo", "birth_year": 1988,
        "masked_fiscal_code": "GLL************K", "masked_email": "m***@p***.it",
        "readable": False, "declared": False, "fiscal_code": None, "email": None, "phone": None,
        "has_account": None}]
    assert FAR_EMAIL not in response.content.decode()
    assert FAR_PHONE not in response.content.decode()
    assert FAR_CODE not in response.content.decode()


def test_api_lookup_reads_the_citizens_of_the_callers_offices(caller, town):
    [found] = caller(town.operator).get("/citizens/", {"fiscal_code": NEAR_CODE}).json()
    assert found["readable"] and found["fiscal_code"] == NEAR_CODE
    assert (found["email"], found["phone"], found["has_account"]) == (
        "mg85@example.org", "011 4443322", False)
    assert found["masked_fiscal_code"] == "RSS************S" and found["birth_year"] == 1985


@pytest.mark.parametrize("who", ["admin", "superuser"])
def test_api_lookup_reads_everyone_for_all_office_users(caller, town, who):
    [found] = caller(getattr(town, who)).get("/citizens/", {"fiscal_code": FAR_CODE}).json()
    assert found["readable"] and (found["email"], found["phone"]) == (FAR_EMAIL, FAR_PHONE)


def test_api_lookup_without_adding_tickets_finds_only_readable_citizens(caller, town, factories):
    reader = factories.user(offices=[town.a], group=None)
    reader.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_ticket", "view_citizen"]))
    api = caller(reader)
    assert api.get("/citizens/", {"fiscal_code": FAR_CODE}).json() == []
    assert api.get("/citizens/", {"fiscal_code": NEAR_CODE}).json()[0]["readable"]
    switchboard = factories.user(offices=[town.a], group=None)
    switchboard.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    assert caller(switchboard).get("/citizens/", {"fiscal_code": NEAR_CODE}).status_code == 403


def test_api_ticket_citizen_is_full_only_for_readers(caller, town, factories):
    ticket = Ticket.objects.get(citizen=town.near)
    body = caller(town.operator).get(f"/tickets/{ticket.pk}/").json()
    assert body["citizen"]["readable"] and body["citizen"]["email"] == "mg85@example.org"
    auditor = factories.user(offices=[town.a], group=None)
    auditor.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    response = caller(auditor).get(f"/tickets/{ticket.pk}/")
    assert response.json()["citizen"]["readable"] is False
    assert_no_full_record(response.content, town.near)


# Never found


def test_erased_and_declared_citizens_are_never_found(client, caller, town, factories):
    kept = factories.citizen(given_name="Monica", family_name="Gallo",
                             fiscal_code="VRDGPP80C12F205H")
    Citizen.objects.filter(pk=kept.pk).update(erased_at=kept.created_at)  # code still there
    factories.citizen(given_name="Monica", family_name="Gallo", declared=True,
                      declared_fiscal_code="BNCLRA90A41H501F")
    services.erase_citizen(town.admin, town.far)
    for who in (town.operator, town.admin, town.superuser):
        found = results(search(login(client, who), "monica gallo"))
        assert set(found) == {town.near.pk}
        api = caller(who)
        for code in ("VRDGPP80C12F205H", "BNCLRA90A41H501F", FAR_CODE):
            assert api.get("/citizens/", {"fiscal_code": code}).json() == []
        assert lookup.search_citizens(who, "VRDGPP80C12F205H") == []


# One definition


def test_the_word_limit_is_the_same_everywhere(client, town):
    words = " ".join(["monica", "gallo"] * lookup.NAME_WORDS)  # only the first ones count
    beyond = f"{' '.join(['gallo'] * lookup.NAME_WORDS)} nessuno"
    client = login(client, town.admin)
    for text, expected in ((words, {town.far, town.near}), (beyond, {town.far, town.near}),
                           ("monica nessuno", set())):
        assert set(lookup.search_citizens(town.admin, text)) == expected
        assert set(results(search(client, text))) == {c.pk for c in expected}
        listed = BeautifulSoup(client.get(LIST, {"q": text}).content, "html.parser")
        assert len(listed.select("table.listing tbody tr")) == len(expected), text


@pytest.mark.parametrize(("text", "is_code"), [
    (FAR_CODE, True), (FAR_CODE.lower(), True), (f"TINIT-{FAR_CODE}", True),
    (f" {FAR_CODE[:8]} {FAR_CODE[8:]} ", True),
    ("GLLLCU88E15D612X", False),  # wrong check character
    ("GLLLCU88E15D612", False), ("Gallo", False)])
def test_the_fiscal_code_check_is_the_same_everywhere(client, caller, town, text, is_code):
    assert bool(lookup.fiscal_code_in(text)) is is_code
    response = caller(town.operator).get("/citizens/", {"fiscal_code": text})
    assert response.status_code == (200 if is_code else 422)
    in_admin = set(results(search(login(client, town.operator), text)))
    if is_code:
        assert [c["id"] for c in response.json()] == [town.far.pk]
        assert in_admin == {town.far.pk}
    else:  # then the words of a name
        assert in_admin == ({town.far.pk, town.near.pk} if text == "Gallo" else set())


# The match itself


def test_masks_and_birth_year():
    assert lookup.mask_fiscal_code("RSSMRA85T10A562S") == "RSS************S"
    assert lookup.mask_fiscal_code("") == ""
    assert lookup.mask_email("mario.rossi@example.it") == "m***@e***.it"
    assert lookup.mask_email("m@mail.comune.example.it") == "m***@m***.it"
    assert lookup.mask_email("root@localhost") == "r***@l***"
    assert lookup.mask_email("") == lookup.mask_email("not-an-address") == ""
    assert lookup.mask_phone("+39 333 123 4567") == "•••567"
    assert lookup.mask_phone("12") == lookup.mask_phone("") == ""
    assert lookup.birth_year("RSSMRA85T10A562S") == 1985
    assert lookup.birth_year("RSSMRA85T10A56NH") == 1985  # omocodia
    assert lookup.birth_year("RSSMRA85T10A562X") is None  # wrong check character
    assert lookup.birth_year("") is None and lookup.birth_year(None) is None


# Query counts


def test_a_search_is_one_query_whatever_it_finds(town, factories, django_assert_num_queries):
    lookup.search_citizens(town.operator, "gallo")  # the permission caches
    with django_assert_num_queries(1):
        assert len(lookup.search_citizens(town.operator, "gallo")) == 2
    for _ in range(12):
        factories.citizen(given_name="Monica", family_name="Gallo")
    with django_assert_num_queries(1):
        assert len(lookup.search_citizens(town.operator, "gallo")) == 14


def test_the_admin_search_costs_the_same_for_2_or_14_matches(client, town, factories):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(client, town.operator)

    def count():
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert search(client, "gallo").status_code == 200
        return len(ctx.captured_queries)

    count()
    few = count()
    for _ in range(12):
        factories.citizen(given_name="Monica", family_name="Gallo")
    assert count() == few


def test_the_api_lookup_costs_a_fixed_number_of_queries(caller, town, django_assert_num_queries):
    api = caller(town.operator)
    api.get("/citizens/", {"fiscal_code": FAR_CODE})
    with django_assert_num_queries(3):  # token, permissions (one query), search
        assert len(api.get("/citizens/", {"fiscal_code": FAR_CODE}).json()) == 1
