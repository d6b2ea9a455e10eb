"""The live list's pulse endpoint (``admin/live.py``): who may ask it, its
figures and stamp, its constant queries, and the Helpdesk menu's cached figure
that a new ticket never leaves stale."""

from functools import partial

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.admin import live
from wagtail_helpdesk.admin.attention import attention_count

URL = "/admin/helpdesk/live/pulse/"


@pytest.fixture
def desk(make_desk):
    return make_desk(office={"name": "URP"}, other_office={"name": "Tributi"}, service=True,
                     ticket=True, ticket_from="system")


def pulse(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.json()


def test_the_url_is_the_named_one():
    assert reverse(live.URL_NAME) == URL


def test_figures_of_the_operators_offices_only(client, desk):
    factories = desk.factories
    services.take_charge(factories.request_ticket(service_=desk.service), desk.me)
    factories.request_ticket(service_=factories.service(desk.other_office))  # not theirs
    client.force_login(desk.me)
    data = pulse(client)
    assert data["user"] == desk.me.pk
    assert data["pending"] == 1 and data["newest_pending"] == desk.ticket.pk
    assert data["attention"] == 1
    assert data["menu"] == {"name": "wagtail-helpdesk", "base": "Helpdesk",
                            "label": "Helpdesk (1)"}
    assert data["poll"] == live.POLL_SECONDS and data["ping"] == live.PING_SECONDS
    assert set(data) == {"user", "stamp", "pending", "newest_pending", "attention", "menu",
                         "poll", "ping", "safety"}  # figures, never a ticket's text


def test_the_stamp_moves_with_every_change_it_can_see(
        client, desk, django_capture_on_commit_callbacks):
    factories = desk.factories
    committed = partial(django_capture_on_commit_callbacks, execute=True)
    client.force_login(desk.me)
    first = pulse(client)["stamp"]
    assert pulse(client)["stamp"] == first  # nothing changed
    with committed():
        factories.request_ticket(service_=factories.service(desk.other_office))
    assert pulse(client)["stamp"] == first  # another office's ticket
    with committed():
        services.take_charge(desk.ticket, desk.me)
    second = pulse(client)
    assert second["stamp"] != first and second["pending"] == 0
    with committed():
        newest = factories.request_ticket(service_=desk.service)
    third = pulse(client)
    assert third["stamp"] != second["stamp"] and third["newest_pending"] == newest.pk


def test_the_menu_figure_in_the_pulse_is_not_stale_after_a_new_ticket(
        client, desk, django_capture_on_commit_callbacks):
    client.force_login(desk.me)
    assert pulse(client)["attention"] == 1  # cached now, for 30 s
    with django_capture_on_commit_callbacks(execute=True):  # the signal bumps the office
        desk.factories.request_ticket(service_=desk.service)
    data = pulse(client)
    assert data["attention"] == 2 and data["menu"]["label"] == "Helpdesk (2)"


def test_the_cache_still_serves_when_nothing_of_the_users_offices_changed(
        desk, django_assert_num_queries, django_capture_on_commit_callbacks):
    assert attention_count(desk.me) == 1
    with django_capture_on_commit_callbacks(execute=True):  # another office: not bumped
        desk.factories.request_ticket(service_=desk.factories.service(desk.other_office))
    with django_assert_num_queries(0):
        assert attention_count(desk.me) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.take_charge(desk.ticket, desk.me)
    assert attention_count(desk.me) == 0  # their office changed: counted again


def test_a_user_who_sees_every_office_is_told_of_any_office(
        desk, django_capture_on_commit_callbacks):
    admin = desk.factories.administrator()
    assert attention_count(admin) == 1
    with django_capture_on_commit_callbacks(execute=True):
        desk.factories.request_ticket(service_=desk.factories.service(desk.other_office))
    assert attention_count(admin) == 2


def test_queries_do_not_grow_with_tickets(client, desk):
    from django.core.cache import cache

    client.force_login(desk.me)

    def count():
        cache.clear()  # the menu's figure counted every time
        with CaptureQueriesContext(connection) as ctx:
            pulse(client)
        return len(ctx.captured_queries)

    small = count()
    for _ in range(12):
        services.take_charge(desk.factories.request_ticket(service_=desk.service), desk.me)
        desk.factories.request_ticket(service_=desk.service)
    assert count() == small
    assert small <= 9  # session, user, permissions, offices, the figures: no more


def test_refused_to_users_who_are_no_operators(client, factories):
    from django.contrib.auth.models import Permission

    editor = factories.user(group=None, is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(editor)
    response = client.get(URL)
    assert response.status_code == 403 and "error" in response.json()


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_only_get(client, desk):
    client.force_login(desk.me)
    assert client.post(URL).status_code == 405


def test_every_admin_page_carries_the_live_element(client, desk):
    client.force_login(desk.me)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert 'data-controller="helpdesk-live"' in html
    assert f'data-helpdesk-live-pulse-value="{URL}"' in html
    assert "wagtail_helpdesk/admin/live.js" in html and "admin/chatsocket.js" in html
    listing = client.get("/admin/helpdesk/tickets/").content.decode()
    assert 'data-controller="helpdesk-live-list"' in listing
    assert 'role="status"' in listing and "Sound for new tickets" in listing


def test_the_figures_are_counted_again_only_when_the_stamp_moves(
        client, desk, django_capture_on_commit_callbacks):
    client.force_login(desk.me)
    first = pulse(client)

    def ticket_queries():
        with CaptureQueriesContext(connection) as ctx:
            data = pulse(client)
        return data, [q["sql"] for q in ctx.captured_queries if "_ticket" in q["sql"]]

    again, queries = ticket_queries()
    assert queries == [] and again == first  # nothing changed: no count at all
    with django_capture_on_commit_callbacks(execute=True):  # another office: not counted
        desk.factories.request_ticket(service_=desk.factories.service(desk.other_office))
    assert ticket_queries()[1] == []
    with django_capture_on_commit_callbacks(execute=True):
        newest = desk.factories.request_ticket(service_=desk.service)
    data, queries = ticket_queries()
    assert queries and data["stamp"] != first["stamp"]
    assert data["pending"] == first["pending"] + 1 and data["newest_pending"] == newest.pk


def test_a_chat_message_moves_only_its_assignees_stamp(
        client, desk, django_capture_on_commit_callbacks):
    from wagtail_helpdesk.models import EventKind
    from wagtail_helpdesk.tickets import live as signal

    colleague = desk.factories.operator(desk.office)
    with django_capture_on_commit_callbacks(execute=True):
        services.take_charge(desk.ticket, desk.me)
    desk.ticket.refresh_from_db()
    client.force_login(desk.me)
    mine = pulse(client)["stamp"]
    client.force_login(colleague)
    theirs = pulse(client)["stamp"]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        signal.on_event(desk.ticket, EventKind.CHAT_MESSAGE, {"conversation": 1, "seq": 4})
    assert pulse(client)["stamp"] == theirs  # the office's lists stay quiet
    client.force_login(desk.me)
    assert pulse(client)["stamp"] != mine  # the assignee's figures follow
