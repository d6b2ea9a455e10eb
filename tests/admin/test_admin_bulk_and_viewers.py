"""Bulk actions on the ticket list, "who else has this ticket open", and the
office form's member choices."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.support.desk import ANNA, BRUNO
from wagtail_helpdesk import services
from wagtail_helpdesk.models import EventKind, Priority, Ticket
from wagtail_helpdesk.workflow import Status

LIST = "/admin/helpdesk/tickets/"


def bulk_url(action, *tickets, extra=""):
    ids = "&".join(f"id={t.pk}" for t in tickets)
    return f"/admin/bulk/wagtail_helpdesk/ticket/{action}/?{ids}&next={LIST}{extra}"


@pytest.fixture
def desk(make_desk):
    """URP (Anna, Bruno; three new tickets, one closed) and Tributi (Carla, a ticket)."""
    desk = make_desk(office={"name": "URP"}, me=ANNA, colleague=BRUNO,
                     other_office={"name": "Tributi"},
                     outsider={"first_name": "Carla", "last_name": "Neri"}, service=True)
    desk.stranger, factories, me = desk.outsider, desk.factories, desk.me
    desk.new = [factories.request_ticket(service_=desk.service) for _ in range(3)]
    desk.closed = services.resolve(
        services.take_charge(factories.request_ticket(service_=desk.service), me),
        me, factories.resolution_type(), "Fatto")
    desk.foreign = factories.request_ticket(service_=factories.service(desk.other_office))
    return desk


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_the_list_offers_bulk_actions(client, desk):
    client.force_login(desk.me)
    page = BeautifulSoup(client.get(LIST, {"queue": "all"}).content, "html.parser")
    boxes = {box["data-object-id"] for box in page.select("input[data-bulk-action-checkbox]")}
    assert str(desk.new[0].pk) in boxes and str(desk.foreign.pk) not in boxes
    buttons = {a.get_text(strip=True) for a in page.select("[data-bulk-action-button]")}
    assert {"Take charge", "Assign", "Set priority"} <= buttons


def test_bulk_take_charge(client, desk):
    client.force_login(desk.me)
    url = bulk_url("take_charge", *desk.new[:2], desk.closed, desk.foreign)
    confirm = client.get(url).content.decode()
    # The closed ticket is listed as left out with the reason; the other
    # office's ticket is not even mentioned.
    assert desk.new[0].reference in confirm and desk.new[1].reference in confirm
    assert "not possible while the ticket is “Resolved”" in confirm
    assert desk.foreign.reference not in confirm
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == LIST
    for ticket in desk.new[:2]:
        t = fresh(ticket)
        assert (t.status, t.assignee) == (Status.IN_PROGRESS, desk.me)
        assert t.events.filter(kind=EventKind.TAKEN_CHARGE).count() == 1
    assert fresh(desk.foreign).assignee is None and fresh(desk.new[2]).assignee is None
    assert "You took charge of 2 tickets." in [str(m).strip() for m in get_messages(response.wsgi_request)]


def test_bulk_assign_offers_the_offices_operators_only(client, desk):
    client.force_login(desk.me)
    url = bulk_url("assign", *desk.new)
    page = BeautifulSoup(client.get(url).content, "html.parser")
    names = {o.get_text(strip=True).split(" — ")[0]
             for o in page.select("select[name=assignee] option") if o["value"]}
    assert names == {"Anna Bianchi", "Bruno Verdi"}
    # A missing choice: the form again, nothing changed.
    response = client.post(url, {})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert all(fresh(t).assignee is None for t in desk.new)
    # Someone of another office is not a valid choice.
    response = client.post(url, {"assignee": desk.stranger.pk})
    assert response.status_code == 200
    assert all(fresh(t).assignee is None for t in desk.new)
    response = client.post(url, {"assignee": desk.colleague.pk})
    assert response.status_code == 302
    assert all(fresh(t).assignee == desk.colleague for t in desk.new)
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert "3 tickets assigned to Bruno Verdi." in messages


def test_bulk_priority_reports_the_tickets_it_could_not_change(client, desk):
    client.force_login(desk.me)
    services.set_priority(desk.new[0], desk.me, Priority.HIGH)
    response = client.post(bulk_url("set_priority", *desk.new), {"priority": Priority.HIGH})
    assert response.status_code == 302
    assert [fresh(t).priority for t in desk.new] == [Priority.HIGH] * 3
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert "Priority set on 2 tickets." in messages
    assert any(desk.new[0].reference in m and "already has this priority" in m for m in messages)


def test_bulk_actions_ignore_tickets_of_other_offices(client, desk):
    client.force_login(desk.stranger)
    response = client.post(bulk_url("take_charge", *desk.new))
    assert response.status_code in (200, 302)
    assert all(fresh(t).assignee is None for t in desk.new)


def test_select_all_applies_to_visible_tickets_only(client, desk):
    client.force_login(desk.me)
    response = client.post(f"/admin/bulk/wagtail_helpdesk/ticket/take_charge/?id=all&next={LIST}")
    assert response.status_code == 302
    assert all(fresh(t).assignee == desk.me for t in desk.new)
    assert fresh(desk.foreign).assignee is None


# --- who else has the ticket open ---------------------------------------------------


def viewers_url(ticket):
    return reverse("helpdesk_tickets:viewers", args=[ticket.pk])


def test_colleagues_on_the_same_ticket_see_each_other(client, desk):
    from django.test import Client

    ticket = desk.new[0]
    colleague = Client()
    colleague.force_login(desk.colleague)
    colleague.get(reverse("helpdesk_tickets:detail", args=[ticket.pk]))
    client.force_login(desk.me)
    page = client.get(reverse("helpdesk_tickets:detail", args=[ticket.pk])).content.decode()
    assert "Also on this ticket now:" in page and "Bruno Verdi" in page
    data = colleague.get(viewers_url(ticket), {"version": fresh(ticket).version}).json()
    assert data == {"viewers": ["Anna Bianchi"], "version": fresh(ticket).version,
                    "changed": False}


def test_the_page_learns_that_the_ticket_changed(client, desk):
    ticket = desk.new[0]
    client.force_login(desk.me)
    opened_at = fresh(ticket).version
    services.add_note(ticket, desk.colleague, "Lo seguo io")
    data = client.get(viewers_url(ticket), {"version": opened_at}).json()
    assert data["changed"] is True and data["version"] == opened_at + 1


def test_viewers_of_another_offices_ticket_are_not_disclosed(client, desk):
    client.force_login(desk.stranger)
    assert client.get(viewers_url(desk.new[0])).status_code == 404


# --- the office form ---------------------------------------------------------------------


def test_office_members_are_chosen_among_admin_users(client, factories, desk):
    citizen_account = factories.user(group=None, username="cittadino")
    admin = factories.administrator()
    client.force_login(admin)
    office = fresh(desk.new[0]).office
    page = BeautifulSoup(
        client.get(reverse("helpdesk_offices:edit", args=[office.pk])).content, "html.parser")
    values = {o["value"] for o in page.select("[name=members] option, input[name=members]")}
    assert str(desk.me.pk) in values and str(desk.stranger.pk) in values
    assert str(citizen_account.pk) not in values
