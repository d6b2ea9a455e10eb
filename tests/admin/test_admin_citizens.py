"""The Citizens screens: list, search, scope, citizen page, erasure views and
their query counts."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_helpdesk.models import Citizen, EventKind, Ticket, TicketEvent
from wagtail_helpdesk.services import CitizenActor

LIST_URL = "/admin/helpdesk/citizens/"


def detail_url(citizen):
    return reverse("helpdesk_citizens:detail", args=[citizen.pk])


def erase_url(citizen):
    return reverse("helpdesk_citizens:erase", args=[citizen.pk])


@pytest.fixture
def town(factories):
    """Two offices; Giovanna has tickets in A only, Paolo in B only, Carla in
    both (one in A, two in B), Dario none."""
    a, b = factories.office(name="URP"), factories.office(name="Lavori pubblici")
    service_a, service_b = factories.service(a), factories.service(b)
    giovanna = factories.citizen(given_name="Giovanna", family_name="Esposito",
                                 fiscal_code="RSSMRA85T10A562S", phone="+39 011 1234567")
    paolo = factories.citizen(given_name="Paolo", family_name="Bruni",
                              fiscal_code="VRDGPP80C12F205H")
    carla = factories.citizen(given_name="Carla", family_name="Neri",
                              fiscal_code="NREFNC75D50L219Q")
    dario = factories.citizen(given_name="Dario", family_name="Gallo")
    tickets = {
        "giovanna": factories.request_ticket(CitizenActor(giovanna), service_=service_a,
                                             citizen_=giovanna),
        "paolo": factories.request_ticket(CitizenActor(paolo), service_=service_b,
                                          citizen_=paolo),
        "carla_a": factories.request_ticket(CitizenActor(carla), service_=service_a,
                                            citizen_=carla),
        "carla_b1": factories.request_ticket(CitizenActor(carla), service_=service_b,
                                             citizen_=carla),
        "carla_b2": factories.request_ticket(CitizenActor(carla), service_=service_b,
                                             citizen_=carla),
    }
    return type("Town", (), {
        "a": a, "b": b, "service_a": service_a, "service_b": service_b,
        "giovanna": giovanna, "paolo": paolo, "carla": carla, "dario": dario,
        "tickets": tickets, "factories": factories,
        "operator": factories.operator(a), "supervisor": factories.supervisor(a),
        "admin": factories.administrator(),
    })


def login(user):
    client = Client()
    client.force_login(user)
    return client


def rows(response):
    """The list's rows as {name: [cells]}."""
    soup = BeautifulSoup(response.content, "html.parser")
    table = soup.select_one("table.listing")
    if table is None:
        return {}
    result = {}
    for tr in table.select("tbody tr"):
        cells = [" ".join(td.get_text(" ", strip=True).split()) for td in tr.select("td")]
        result[cells[0]] = cells[1:]
    return result


# The list


def test_operators_see_the_citizens_of_their_offices(town):
    response = login(town.operator).get(LIST_URL)
    assert response.status_code == 200
    found = rows(response)
    assert set(found) == {"Giovanna Esposito", "Carla Neri"}
    # Only the tickets the operator may open are counted.
    assert found["Carla Neri"][3] == "1"
    assert found["Giovanna Esposito"][:3] == ["RSSMRA85T10A562S", found["Giovanna Esposito"][1],
                                              "+39 011 1234567"]


def test_supervisors_are_scoped_like_operators(town):
    assert set(rows(login(town.supervisor).get(LIST_URL))) == {"Giovanna Esposito",
                                                               "Carla Neri"}


def test_administrators_see_every_citizen(town):
    found = rows(login(town.admin).get(LIST_URL))
    assert set(found) == {"Giovanna Esposito", "Paolo Bruni", "Carla Neri", "Dario Gallo"}
    assert found["Carla Neri"][3] == "3"
    assert found["Dario Gallo"][3] == "0"


def test_a_citizens_draft_is_not_counted(town):
    town.factories.request_ticket(CitizenActor(town.dario), service_=town.service_a,
                                  citizen_=town.dario, draft=True)
    assert "Dario Gallo" not in rows(login(town.operator).get(LIST_URL))
    assert rows(login(town.admin).get(LIST_URL))["Dario Gallo"][3] == "0"


def test_users_without_helpdesk_rights_cannot_open_the_list(town, factories):
    nobody = factories.user(group=None, is_staff=True)
    from django.contrib.auth.models import Permission

    nobody.user_permissions.add(Permission.objects.get(codename="access_admin"))
    assert login(nobody).get(LIST_URL).status_code in (302, 403)


@pytest.mark.parametrize("query", ["RSSMRA85T10A562S", "rssmra85t10a562s",
                                   "TINIT-RSSMRA85T10A562S", "tinit-rssmra85t10a562s",
                                   " RSSMRA85 T10A562S "])
def test_search_by_fiscal_code(town, query):
    found = rows(login(town.admin).get(LIST_URL, {"q": query}))
    assert set(found) == {"Giovanna Esposito"}


def test_search_by_fiscal_code_is_exact(town):
    # A different valid code (one character changed, checksum fixed) finds nobody.
    assert rows(login(town.admin).get(LIST_URL, {"q": "BNCLRA90A41H501F"})) == {}


def test_search_by_name(town):
    client = login(town.admin)
    assert set(rows(client.get(LIST_URL, {"q": "neri"}))) == {"Carla Neri"}
    assert set(rows(client.get(LIST_URL, {"q": "carla NERI"}))) == {"Carla Neri"}
    assert rows(client.get(LIST_URL, {"q": "carla esposito"})) == {}


def test_search_stays_in_scope(town):
    assert rows(login(town.operator).get(LIST_URL, {"q": "VRDGPP80C12F205H"})) == {}
    assert rows(login(town.operator).get(LIST_URL, {"q": "Bruni"})) == {}


def test_results_view_for_the_search_box(town):
    response = login(town.operator).get(LIST_URL + "results/", {"q": "Esposito"})
    assert response.status_code == 200
    assert set(rows(response)) == {"Giovanna Esposito"}


def test_sort_by_ticket_count(town):
    found = list(rows(login(town.admin).get(LIST_URL, {"ordering": "-ticket_count"})))
    assert found[0] == "Carla Neri" and found[-1] == "Dario Gallo"


def test_the_list_offers_no_add_edit_or_delete(town):
    response = login(town.admin).get(LIST_URL)
    html = response.content.decode()
    assert "/admin/helpdesk/citizens/new/" not in html
    assert "/edit/" not in html and "/delete/" not in html


def test_the_menu_has_citizens(town):
    html = login(town.operator).get("/admin/").content.decode()
    assert LIST_URL in html


def test_erased_citizens_are_listed_without_data(town, django_capture_on_commit_callbacks):
    from wagtail_helpdesk import services

    with django_capture_on_commit_callbacks(execute=True):
        services.erase_citizen(town.admin, town.giovanna)
    found = rows(login(town.operator).get(LIST_URL))
    assert "Giovanna Esposito" not in found
    assert found["Personal data erased"][:3] == ["—", "—", "—"]


# The citizen's page


def test_the_citizen_page_shows_the_data_and_the_visible_tickets(town):
    response = login(town.operator).get(detail_url(town.carla))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    text = soup.get_text(" ")
    assert "NREFNC75D50L219Q" in text and "Carla" in text
    links = {a["href"] for a in soup.select("table.listing a")}
    visible = reverse("helpdesk_tickets:detail", args=[town.tickets["carla_a"].pk])
    hidden = reverse("helpdesk_tickets:detail", args=[town.tickets["carla_b1"].pk])
    assert visible in links and hidden not in links
    assert erase_url(town.carla) not in response.content.decode()


def test_the_citizen_page_is_404_out_of_scope(town):
    assert login(town.operator).get(detail_url(town.paolo)).status_code == 404
    assert login(town.operator).get(detail_url(town.dario)).status_code == 404
    assert login(town.admin).get(detail_url(town.paolo)).status_code == 200


def test_administrators_get_the_erase_button(town):
    response = login(town.admin).get(detail_url(town.carla))
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one(f'a[href="{erase_url(town.carla)}"]') is not None
    links = {a["href"] for a in soup.select("table.listing a")}
    assert len([u for u in links if "/helpdesk/tickets/" in u]) == 3


# Erasure


@pytest.mark.parametrize("who", ["operator", "supervisor"])
def test_erase_views_are_for_administrators_only(town, who):
    client = login(getattr(town, who))
    before = list(Citizen.objects.filter(pk=town.giovanna.pk).values())
    assert client.get(erase_url(town.giovanna)).status_code == 403
    response = client.post(erase_url(town.giovanna), {"confirmation": "ERASE"})
    assert response.status_code == 403
    assert list(Citizen.objects.filter(pk=town.giovanna.pk).values()) == before


def test_erase_view_404_for_an_unknown_citizen(town):
    assert login(town.admin).get(reverse("helpdesk_citizens:erase", args=[999999])
                                 ).status_code == 404


def test_the_confirmation_page_explains_and_asks(town):
    response = login(town.admin).get(erase_url(town.carla))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    form = soup.select_one("form.helpdesk-erase__form")
    assert form["method"] == "post"
    assert form.select_one('input[name="csrfmiddlewaretoken"]') is not None
    assert form.select_one('input[name="confirmation"]') is not None
    assert "cannot be undone" in soup.get_text()
    assert "3 tickets stay" in " ".join(soup.get_text().split())


@pytest.mark.parametrize("typed", ["", "yes", "ERASE IT"])
def test_erasure_needs_the_confirmation_word(town, typed):
    response = login(town.admin).post(erase_url(town.carla), {"confirmation": typed})
    assert response.status_code == 200
    assert "Type ERASE to confirm" in response.content.decode()
    assert Citizen.objects.get(pk=town.carla.pk).erased_at is None


def test_erasure_keeps_the_reason_typed_on_error(town):
    response = login(town.admin).post(erase_url(town.carla),
                                      {"confirmation": "nope", "reason": "Prot. 77/2026"})
    assert "Prot. 77/2026" in response.content.decode()


def test_erasure_needs_csrf(town):
    client = Client(enforce_csrf_checks=True)
    client.force_login(town.admin)
    response = client.post(erase_url(town.carla), {"confirmation": "ERASE"})
    assert response.status_code == 403
    assert Citizen.objects.get(pk=town.carla.pk).erased_at is None


def test_erasure_from_the_admin(town, django_capture_on_commit_callbacks):
    client = login(town.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(erase_url(town.carla),
                               {"confirmation": "erase", "reason": "Prot. 77/2026"})
    assert response.status_code == 302 and response["Location"] == detail_url(town.carla)
    carla = Citizen.objects.get(pk=town.carla.pk)
    assert carla.erased_at is not None and carla.fiscal_code is None
    assert Ticket.objects.filter(citizen=carla).count() == 3
    events = TicketEvent.objects.filter(kind=EventKind.PERSONAL_DATA_ERASED, actor=town.admin)
    assert events.count() == 3
    assert {e.data["reason"] for e in events} == {"Prot. 77/2026"}
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]

    page = client.get(detail_url(carla))
    text = " ".join(BeautifulSoup(page.content, "html.parser").get_text(" ").split())
    assert "were erased on" in text and "NREFNC75D50L219Q" not in text
    assert erase_url(carla) not in page.content.decode()  # no button any more

    # Again: the confirmation page sends back, a POST changes nothing and says so.
    again = client.get(erase_url(carla))
    assert again.status_code == 302 and again["Location"] == detail_url(carla)
    response = client.post(erase_url(carla), {"confirmation": "ERASE"})
    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)][-1] == "warning"
    assert events.count() == 3


def test_operators_still_see_an_erased_citizens_tickets(town, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login(town.admin).post(erase_url(town.giovanna), {"confirmation": "ERASE"})
    response = login(town.operator).get(detail_url(town.giovanna))
    assert response.status_code == 200
    link = reverse("helpdesk_tickets:detail", args=[town.tickets["giovanna"].pk])
    assert link in response.content.decode()


# Query counts


def count_queries(client, url):
    cache.clear()  # the menu's attention figure is cached
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["operator", "admin"])
def test_list_query_count_is_constant(town, who):
    client = login(getattr(town, who))
    count_queries(client, LIST_URL)  # warm up (content types, site, …)
    few = count_queries(client, LIST_URL)
    for n in range(6):
        person = town.factories.citizen(given_name=f"Nuovo{n}", phone="0111")
        town.factories.request_ticket(CitizenActor(person), service_=town.service_a,
                                      citizen_=person)
    many = count_queries(client, LIST_URL)
    assert len(rows(client.get(LIST_URL))) >= 8
    assert many == few
    assert few <= 15  # menu, session, user, permissions, count, page


@pytest.mark.parametrize("who", ["operator", "admin"])
def test_citizen_page_query_count_is_constant(town, who):
    client = login(getattr(town, who))
    url = detail_url(town.giovanna)
    count_queries(client, url)
    few = count_queries(client, url)
    for _n in range(5):
        town.factories.request_ticket(CitizenActor(town.giovanna), service_=town.service_a,
                                      citizen_=town.giovanna)
        town.factories.report_ticket(CitizenActor(town.giovanna),
                                     category=town.factories.report_category(town.a),
                                     citizen=town.giovanna)
    many = count_queries(client, url)
    assert many == few
    assert few <= 15  # menu, session, user, permissions, count, page


def test_erase_page_query_count_is_constant(town):
    client = login(town.admin)
    url = erase_url(town.giovanna)
    count_queries(client, url)
    few = count_queries(client, url)
    for _n in range(5):
        town.factories.request_ticket(CitizenActor(town.giovanna), service_=town.service_a,
                                      citizen_=town.giovanna)
    assert count_queries(client, url) == few


def test_the_confirmation_page_for_a_citizen_without_tickets(town):
    response = login(town.admin).get(erase_url(town.dario))
    text = " ".join(BeautifulSoup(response.content, "html.parser").get_text().split())
    assert "The citizen's personal data will be erased." in text
    assert "0 tickets" not in text


def test_the_audit_log_links_to_the_citizen_page(town):
    from wagtail.admin.admin_url_finder import AdminURLFinder

    assert AdminURLFinder(town.admin).get_edit_url(town.carla) == detail_url(town.carla)


def test_ticket_page_links_to_the_citizen_and_shows_the_erasure_reason(client, factories):
    from django.urls import reverse

    from wagtail_helpdesk import services

    office = factories.office()
    op = factories.operator(office)
    person = factories.citizen()
    ticket = factories.request_ticket(citizen_=person, service_=factories.service(office))
    client.force_login(op)
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert reverse("helpdesk_citizens:detail", args=[person.pk]) in page
    services.erase_citizen(factories.administrator(), person, reason="Richiesta art. 17 GDPR")
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert "Richiesta art. 17 GDPR" in page
