"""The editors' map widget (the report block's map centre, from
wagtailgeowidget): Leaflet from the app's own static files, never a CDN, and
the app's tile source (the tile proxy when it is on)."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from tests.support.browser import log_in
from wagtail_helpdesk.blocks.fields import MapPointBlock


@pytest.fixture
def editor_client(client, db):
    client.force_login(get_user_model().objects.create_superuser(
        "editrice", "editrice@example.it", "x"))
    return client


def edit_page(client, pages):
    response = client.get(f"/admin/pages/{pages.report.pk}/edit/")
    assert response.status_code == 200
    return response.content.decode()


def asset_urls(html):
    return re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"', html)


def test_the_page_editor_loads_leaflet_from_the_app_not_from_a_cdn(editor_client, pages):
    html = edit_page(editor_client, pages)
    leaflet = [url for url in asset_urls(html) if "leaflet" in url.lower()]
    assert any(url.endswith("wagtail_helpdesk/vendor/leaflet-1.9.4/leaflet.js") for url in leaflet)
    assert any(url.endswith("wagtail_helpdesk/vendor/leaflet-1.9.4/leaflet.css") for url in leaflet)
    # Every asset of the page comes from this site: no external host at all.
    assert [url for url in asset_urls(html) if urlsplit(url).netloc] == []
    assert "unpkg.com" not in html and "cdnjs" not in html


def test_the_widget_media_is_the_vendored_leaflet_before_the_field_script():
    media = MapPointBlock(required=False).field.widget.media
    scripts = [str(path) for path in media._js]
    assert scripts[0] == "wagtail_helpdesk/vendor/leaflet-1.9.4/leaflet.js"
    assert all("://" not in path for path in scripts + list(media._css["all"]))


def test_the_widget_uses_the_app_tile_source(editor_client, pages, settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_URL = "https://tiles.comune.example.it/{z}/{x}/{y}.png"
    html = edit_page(editor_client, pages)
    assert "tiles.comune.example.it/{z}/{x}/{y}.png" in html
    assert "tile.openstreetmap.org" not in html  # wagtailgeowidget's own default


def test_with_the_proxy_the_widget_takes_tiles_from_this_site_around_the_area(
        editor_client, pages, settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = True
    settings.WAGTAIL_HELPDESK_MAP_AREA_BBOX = "7.57,45.00,7.77,45.14"
    html = edit_page(editor_client, pages).replace("\\u0022", '"').replace("&quot;", '"')
    assert '"tileLayer": "/helpdesk/tiles/{z}/{x}/{y}.png"' in html.replace('\\"', '"')
    assert "tile.openstreetmap.org" not in html
    assert "45.07" in html and "7.67" in html  # opens on the area's centre, not Stockholm


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("django_db_serialized_rollback")
def test_the_map_widget_renders_in_chromium_with_no_internet(page, live_server):
    """Every request to another host is refused, as on an admin network with
    no access to CDNs: the editor still gets its map."""
    from example_site.home.models import StandardPage

    get_user_model().objects.create_superuser("editrice", "editrice@example.it", "pw")
    report = StandardPage.objects.get(slug="segnala-disservizio")
    outside = []

    def only_this_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    log_in(page, live_server, "editrice")
    page.goto(f"{live_server.url}/admin/pages/{report.pk}/edit/")
    page.wait_for_selector(".leaflet-field.leaflet-container", state="attached")
    assert "This widget failed to render" not in page.content()
    assert not [url for url in outside if "leaflet" in url]
