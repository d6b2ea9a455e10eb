"""The Helpdesk catalogue in the Wagtail admin."""

import pytest
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from wagtail_helpdesk.models import Office, Service

VIEWSETS = ["helpdesk_offices", "helpdesk_service_categories", "helpdesk_services",
            "helpdesk_report_categories", "helpdesk_resolution_types"]


@pytest.fixture
def admin_client(client, factories):
    client.force_login(factories.administrator())
    return client


@pytest.mark.parametrize("viewset", VIEWSETS)
def test_administrator_lists_and_opens_the_add_form(admin_client, viewset):
    assert admin_client.get(reverse(f"{viewset}:index")).status_code == 200
    assert admin_client.get(reverse(f"{viewset}:add")).status_code == 200


def test_helpdesk_menu_group_lists_the_catalogue(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Helpdesk" in html
    for path in ("/admin/helpdesk/offices/", "/admin/helpdesk/services/",
                 "/admin/helpdesk/resolution-types/"):
        assert path in html


def test_helpdesk_menu_name_is_not_confused_with_other_menus(admin_client):
    """The sidebar opens submenus by name prefix: "helpdesk" opened Wagtail's "help"."""
    import json
    import re

    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    props = json.loads(re.search(r'id="wagtail-sidebar-props"[^>]*>(.*?)</script>', html, re.S)[1])
    main_menu = next(m for m in props["modules"] if m["_type"] == "wagtail.sidebar.MainMenuModule")
    names = [item["_args"][0]["name"] for item in main_menu["_args"][0]]
    assert "wagtail-helpdesk" in names
    for name in names:
        for other in names:
            assert name == other or not other.startswith(name), (name, other)


def test_create_an_office_with_members(admin_client, factories):
    op = factories.operator()
    response = admin_client.post(reverse("helpdesk_offices:add"), {
        "name": "Ufficio Tributi", "slug": "tributi", "email": "tributi@comune.example.it",
        "phone": "", "members": [op.pk], "chat_routing": "least_busy", "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    office = Office.objects.get(slug="tributi")
    assert list(office.members.all()) == [op]
    assert office.chat_routing == "least_busy"


def test_service_form_errors_keep_what_was_typed(admin_client, factories):
    response = admin_client.post(reverse("helpdesk_services:add"), {
        "name": "Permessi ZTL", "slug": "", "description": "Rilascio dei permessi",
        "sla_days": "abc",
    })
    assert response.status_code == 200
    html = response.content.decode()
    assert "Permessi ZTL" in html and "Rilascio dei permessi" in html
    assert not Service.objects.filter(name="Permessi ZTL").exists()


def test_operators_can_view_but_not_edit_the_catalogue(client, factories):
    office = factories.office()
    client.force_login(factories.operator(office))
    assert client.get(reverse("helpdesk_services:index")).status_code == 200
    response = client.get(reverse("helpdesk_services:add"))
    assert response.status_code in (302, 403)
    response = client.post(reverse("helpdesk_offices:add"), {"name": "X", "slug": "x"})
    assert response.status_code in (302, 403)
    assert not Office.objects.filter(slug="x").exists()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("helpdesk_offices:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_site_settings_page(admin_client):
    from wagtail.models import Site

    site = Site.objects.get(is_default_site=True)
    url = reverse("wagtailsettings:edit", args=["wagtail_helpdesk", "helpdesksettings", site.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "short_code_mode" in response.content.decode()


@pytest.mark.parametrize("viewset", ["helpdesk_offices", "helpdesk_services",
                                     "helpdesk_report_categories"])
def test_listing_queries_do_not_grow_with_rows(admin_client, factories, viewset,
                                               django_assert_max_num_queries):
    """Pinned: the same number of queries for 1 and for 30 rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        from django.core.cache import cache

        cache.clear()  # the menu's attention figure is cached: measure it every time
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse(f"{viewset}:index")).status_code == 200
        return len(ctx.captured_queries)

    office = factories.office()
    factories.service(office), factories.report_category(office)
    small = count()
    for _ in range(29):
        office = factories.office()
        factories.service(office), factories.report_category(office)
    assert count() == small


class TestWithWagtailUtils(WagtailTestUtils):
    def test_edit_an_office(self, admin_client, factories):
        office = factories.office(name="URP")
        url = reverse("helpdesk_offices:edit", args=[office.pk])
        soup = self.get_soup(admin_client.get(url).content)
        assert soup.select_one("input[name=name]")["value"] == "URP"
