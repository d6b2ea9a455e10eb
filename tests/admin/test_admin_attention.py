"""The attention figure on the Helpdesk menu and the operator's dashboard panel."""

import json
import re

from django.urls import reverse

from wagtail_helpdesk import services
from wagtail_helpdesk.admin.attention import attention_count
from wagtail_helpdesk.services import CitizenActor


def menu_label(client):
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    props = json.loads(re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1])
    main_menu = next(m for m in props["modules"] if m["_type"] == "wagtail.sidebar.MainMenuModule")
    item = next(i for i in main_menu["_args"][0] if i["_args"][0]["name"] == "wagtail-helpdesk")
    return item["_args"][0]["label"], html


def test_figure_counts_pending_tickets_and_unread_messages(client, factories):
    office = factories.office()
    op = factories.operator(office)
    service = factories.service(office)
    factories.request_ticket(service_=service)  # pending: 1
    factories.request_ticket(service_=factories.service())  # another office: not counted
    person = factories.citizen()
    mine = services.take_charge(factories.request_ticket(service_=service, citizen_=person), op)
    for text in ("Aggiungo", "Ancora una cosa"):
        services.add_citizen_message(mine, CitizenActor(person), text)  # unread: 2
    assert attention_count(op) == 3
    client.force_login(op)
    label, html = menu_label(client)
    assert label == "Helpdesk (3)"
    assert "helpdesk-my-tickets" in html and mine.short_code in html


def test_figure_is_cached_briefly(factories, django_assert_num_queries):
    office = factories.office()
    op = factories.operator(office)
    factories.request_ticket(service_=factories.service(office))
    assert attention_count(op) == 1
    factories.request_ticket(service_=factories.service(office))
    with django_assert_num_queries(0):
        assert attention_count(op) == 1  # cached: the new ticket shows up within 30 s


def test_no_figure_and_no_panel_without_ticket_permissions(client, factories):
    editor = factories.user(group=None, is_superuser=False, is_staff=True)
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(Permission.objects.get(codename="access_admin"),
                                Permission.objects.get(codename="view_service"))
    client.force_login(editor)
    label, html = menu_label(client)
    assert label == "Helpdesk"
    assert "helpdesk-my-tickets" not in html


def test_dashboard_queries_do_not_grow_with_tickets(client, factories):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    office = factories.office()
    op = factories.operator(office)
    service = factories.service(office)
    client.force_login(op)

    def count():
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("wagtailadmin_home")).status_code == 200
        return len(ctx.captured_queries)

    services.take_charge(factories.request_ticket(service_=service), op)
    small = count()
    for _ in range(15):
        services.take_charge(factories.request_ticket(service_=service), op)
    assert count() == small
