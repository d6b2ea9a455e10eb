"""Who can be assigned a ticket: one answer for the ticket page, the bulk
action and the API (:func:`wagtail_helpdesk.tickets.queries.assignable_users`)."""

from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from wagtail_helpdesk.models import Ticket
from wagtail_helpdesk.tickets.queries import assignable_users

LIST = "/admin/helpdesk/tickets/"


@pytest.fixture
def staff(factories):
    office, elsewhere = factories.office(name="URP"), factories.office(name="Tributi")
    me = factories.operator(office, first_name="Anna", last_name="Bianchi")
    colleague = factories.operator(office, first_name="Bruno", last_name="Verdi")
    stranger = factories.operator(elsewhere, first_name="Carla", last_name="Neri")
    # No office: they see (and may be assigned) every office's tickets.
    admin = factories.administrator(first_name="Dora", last_name="Rossi")
    root = factories.user(group=None, is_superuser=True, first_name="Elio", last_name="Gialli")
    gone = factories.operator(office, first_name="Franco", last_name="Bassi", is_active=False)
    service = factories.service(office)
    tickets = [factories.request_ticket(service_=service) for _ in range(2)]
    return SimpleNamespace(office=office, me=me, colleague=colleague, stranger=stranger,
                           admin=admin, root=root, gone=gone, tickets=tickets)


def choices(client, url, select):
    page = BeautifulSoup(client.get(url).content, "html.parser")
    return {int(o["value"]) for o in page.select(f"{select} option") if o["value"]}


def bulk_url(*tickets):
    ids = "&".join(f"id={t.pk}" for t in tickets)
    return f"/admin/bulk/wagtail_helpdesk/ticket/assign/?{ids}&next={LIST}"


def test_assignable_users_are_the_offices_people_and_those_who_see_every_office(staff):
    people = list(assignable_users(staff.office))
    assert set(people) == {staff.me, staff.colleague, staff.admin, staff.root}
    assert people == sorted(people, key=lambda u: (u.first_name, u.last_name, u.username))
    # By id too, and for several offices: the people of any of them.
    assert set(assignable_users(staff.office.pk)) == set(people)
    both = set(assignable_users(staff.office, staff.stranger.helpdesk_memberships.get().office))
    assert both == {*people, staff.stranger}


def test_bulk_assign_offers_whoever_the_ticket_page_offers(client, staff):
    client.force_login(staff.me)
    page = choices(client, reverse("helpdesk_tickets:detail", args=[staff.tickets[0].pk]),
                   "#id_assign_assignee")
    bulk = choices(client, bulk_url(*staff.tickets), "select[name=assignee]")
    expected = {u.pk for u in (staff.me, staff.colleague, staff.admin, staff.root)}
    assert page == expected
    assert bulk == page


@pytest.mark.parametrize("who", ["admin", "root"])
def test_bulk_assign_to_someone_who_sees_every_office(client, staff, who):
    client.force_login(staff.me)
    assignee = getattr(staff, who)
    response = client.post(bulk_url(*staff.tickets), {"assignee": assignee.pk})
    assert response.status_code == 302
    assert all(Ticket.objects.get(pk=t.pk).assignee == assignee for t in staff.tickets)


def test_the_api_accepts_the_same_assignees(caller, staff):
    api, ticket = caller(staff.me), staff.tickets[0]
    for refused in (staff.stranger, staff.gone):
        response = api.post(f"/tickets/{ticket.pk}/assign/", {"assignee": refused.pk})
        assert response.status_code == 422, refused
        assert response.json()["errors"][0]["field"] == "assignee"
    response = api.post(f"/tickets/{ticket.pk}/assign/", {"assignee": staff.admin.pk})
    assert response.status_code == 200 and response.json()["assignee"]["id"] == staff.admin.pk
