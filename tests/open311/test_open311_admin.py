"""Open311 clients in the admin (named, revocable keys shown once), the
default groups, the configuration checks and the demo's client."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core import checks
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from tests.support.open311 import INSIDE, make_category, new_client, url
from wagtail_helpdesk.groups import ADMINISTRATORS, OPERATORS, SUPERVISORS
from wagtail_helpdesk.models import Open311Client, ReportCategory, Ticket
from wagtail_helpdesk.models.open311 import KEY_PREFIX

pytestmark = pytest.mark.django_db


@pytest.fixture
def category(factories):
    return make_category(factories)


@pytest.fixture
def admin_client(client, factories):
    client.force_login(factories.administrator())
    return client


def key_on_page(response):
    import re

    html = response.content.decode()
    assert "Copy the key now: it is shown only this once." in html
    assert "no-store" in response["Cache-Control"]
    return re.search(r'id="open311-key" value="([^"]+)"', html)[1]


def files(key, category):
    from django.test import Client

    return Client().post(url("requests", "json"), {
        "api_key": key, "service_code": str(category.pk), "description": "Buca.", **INSIDE})


def test_an_administrator_registers_a_client_and_sees_its_key_once(admin_client, category):
    response = admin_client.post(reverse("helpdesk_open311_clients:add"), {
        "name": "FixMyStreet Italia", "contact": "ops@fms.example.org", "active": "on"})
    assert response.status_code == 200
    key = key_on_page(response)
    assert key.startswith(KEY_PREFIX) and len(key) > 40
    client_ = Open311Client.objects.get()
    assert key not in (client_.key_hash, client_.key_hint) and client_.key_hint == key[:9]
    listing = admin_client.get(reverse("helpdesk_open311_clients:index")).content.decode()
    assert "FixMyStreet Italia" in listing and client_.key_hint in listing and key not in listing
    edit_url = reverse("helpdesk_open311_clients:edit", args=[client_.pk])
    assert key not in admin_client.get(edit_url).content.decode()
    assert files(key, category).status_code == 200


def test_editing_keeps_the_key_replacing_shows_a_new_one(admin_client, category):
    client_, key = new_client()
    edit_url = reverse("helpdesk_open311_clients:edit", args=[client_.pk])
    response = admin_client.post(edit_url, {"name": "FMS", "contact": "", "active": "on"})
    assert response.status_code == 302
    assert files(key, category).status_code == 200
    response = admin_client.post(edit_url, {"name": "FMS", "contact": "", "active": "on",
                                            "new_key": "on"})
    new_key = key_on_page(response)
    assert new_key != key
    assert files(key, category).status_code == 403
    assert files(new_key, category).status_code == 200


def test_deactivating_revokes_the_key(admin_client, category):
    client_, key = new_client()
    edit_url = reverse("helpdesk_open311_clients:edit", args=[client_.pk])
    assert admin_client.post(edit_url, {"name": client_.name, "contact": ""}).status_code == 302
    assert files(key, category).status_code == 403
    assert Ticket.objects.count() == 0


def test_only_administrators_manage_clients(client, factories):
    office = factories.office()
    for user in (factories.operator(office), factories.supervisor(office)):
        client.force_login(user)
        response = client.get(reverse("helpdesk_open311_clients:index"))
        assert response.status_code in (302, 403)
        assert "Open311" not in client.get(reverse("wagtailadmin_home")).content.decode()
    wanted = {f"{action}_open311client" for action in ("add", "change", "delete", "view")}
    granted = {name: set(Group.objects.get(name=name).permissions.filter(
        codename__endswith="open311client").values_list("codename", flat=True))
        for name in (OPERATORS, SUPERVISORS, ADMINISTRATORS)}
    assert granted == {OPERATORS: set(), SUPERVISORS: set(), ADMINISTRATORS: wanted}


def test_the_clients_are_in_the_helpdesk_menu(admin_client):
    html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "/admin/helpdesk/open311-clients/" in html


# Configuration checks ---------------------------------------------------------------------


def ids():
    return {m.id for m in checks.run_checks() if m.id.startswith("wagtail_helpdesk")}


def test_the_example_site_configuration_is_clean():
    assert ids() == set()


def test_no_area_is_flagged(settings):
    settings.WAGTAIL_HELPDESK_OPEN311_AREA_BBOX = ""
    assert ids() == {"wagtail_helpdesk.W006"}


def test_a_boundary_file_is_read(settings, tmp_path, client, factories):
    boundary = tmp_path / "confini.geojson"
    boundary.write_text('{"type": "Polygon", "coordinates": [[[7.6, 45.0], [7.7, 45.0], '
                        '[7.7, 45.1], [7.6, 45.1], [7.6, 45.0]]]}')
    settings.WAGTAIL_HELPDESK_OPEN311_AREA_BBOX = ""
    settings.WAGTAIL_HELPDESK_OPEN311_AREA_GEOJSON = str(boundary)
    assert ids() == set()
    cat = factories.report_category()
    _client, key = new_client()
    assert files(key, cat).status_code == 200  # 45.07, 7.68: inside the polygon
    response = client.post(url("requests", "json"), {
        "api_key": key, "service_code": str(cat.pk), "description": "Fuori.",
        "lat": "45.07", "long": "7.75"})  # inside the old box, outside the polygon
    assert response.status_code == 400


@pytest.mark.parametrize(("setting", "value", "problem"), [
    ("OPEN311_AREA_BBOX", "7.57,45.00,7.77", "wagtail_helpdesk.E003"),
    ("OPEN311_AREA_GEOJSON", '{"type": "Point", "coordinates": [7, 45]}', "wagtail_helpdesk.E003"),
    ("OPEN311_AREA_GEOJSON", "/nonexistent/confini.geojson", "wagtail_helpdesk.E003"),
    ("OPEN311_ATTRIBUTES", {"*": [{"code": "x", "datatype": "colour"}]}, "wagtail_helpdesk.E004"),
    ("OPEN311_ATTRIBUTES", {"*": [{"code": "x", "datatype": "singlevaluelist"}]},
     "wagtail_helpdesk.E004"),
    ("OPEN311_ATTRIBUTES", {"*": [{"code": "fixmystreet_id"}]}, "wagtail_helpdesk.E004"),
    ("OPEN311_PUBLIC_DETAILS", "everything", "wagtail_helpdesk.E005"),
])
def test_bad_settings_are_errors(settings, setting, value, problem):
    setattr(settings, f"WAGTAIL_HELPDESK_{setting}", value)
    assert problem in ids()


# The demo ----------------------------------------------------------------------------------


def test_the_demo_has_a_client_with_a_known_key(client):
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("helpdesk_demo", "--tickets", "0", stdout=out)
    assert 'api_key "o311_demo"' in out.getvalue()
    assert "curl -d api_key=o311_demo" in out.getvalue()
    category = ReportCategory.objects.active().first()
    assert files("o311_demo", category).status_code == 200
    again = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("helpdesk_demo", "--tickets", "0", stdout=again)
    assert Open311Client.objects.count() == 1 and "nothing new created" in again.getvalue()
    Open311Client.objects.update(active=False)
    revoked = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("helpdesk_demo", "--tickets", "0", stdout=revoked)
    assert "o311_demo" not in revoked.getvalue()
