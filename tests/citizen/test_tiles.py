"""The tile proxy (WAGTAIL_HELPDESK_MAP_TILE_PROXY): map tiles served from the
municipality's own site, against a local server standing in for the tile
server (the real one is out of reach here, and must not get test traffic)."""

import math
import re
import time

import pytest
from django.core import checks
from django.core.cache import cache
from werkzeug import Response

from tests.support.citizen import post, shown
from wagtail_helpdesk.checks import check_third_party_tiles, check_tile_proxy
from wagtail_helpdesk.maps import map_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"tile" * 50
pytestmark = pytest.mark.django_db  # 404 pages are Wagtail's

AREA = "7.57,45.00,7.77,45.14"  # the demo town (Torino's surroundings)


def tile_of(lat, lng, z):
    """The standard web-map tile holding a point (written out independently)."""
    n = 2 ** z
    x = int((lng + 180) / 360 * n)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat)))
             / math.pi) / 2 * n)
    return z, x, y


INSIDE = tile_of(45.07, 7.68, 15)
ROME = tile_of(41.90, 12.49, 15)


def url(z, x, y):
    return f"/helpdesk/tiles/{z}/{x}/{y}.png"


@pytest.fixture
def upstream(httpserver, settings):
    """A tile server on loopback: records every request; ``answer`` decides
    (status, headers, body) for the next ones."""
    settings.WAGTAIL_HELPDESK_MAP_TILE_URL = httpserver.url_for("/") + "{z}/{x}/{y}.png"
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = True
    settings.WAGTAIL_HELPDESK_MAP_AREA_BBOX = AREA
    settings.WAGTAIL_HELPDESK_MAP_TILE_CONTACT = "urp@comune.example.it"
    settings.WAGTAIL_HELPDESK_SITE_URL = "https://www.comune.example.it"
    state = type("Upstream", (), {})()
    state.seen = []
    state.answer = lambda request: (200, {"Cache-Control": "max-age=3600", "ETag": '"v1"'}, PNG)
    state.content_type = "image/png"

    def handler(request):
        state.seen.append(request)
        status, headers, body = state.answer(request)
        return Response(body, status=status, headers=headers, content_type=state.content_type)

    httpserver.expect_request(re.compile(r"^/\d+/\d+/\d+\.png$")).respond_with_handler(handler)
    cache.clear()
    return state


def test_a_tile_of_the_area_is_fetched_once_then_served_from_the_cache(client, upstream):
    first = client.get(url(*INSIDE))
    assert first.status_code == 200
    assert first["Content-Type"] == "image/png" and first.content == PNG
    assert "public" in first["Cache-Control"] and "max-age=3" in first["Cache-Control"]
    second = client.get(url(*INSIDE))
    assert second.status_code == 200 and second.content == PNG
    assert len(upstream.seen) == 1
    (asked,) = upstream.seen
    assert asked.path == "/{}/{}/{}.png".format(*INSIDE)
    agent = asked.headers["User-Agent"]
    assert agent.startswith("wagtail-helpdesk/")
    assert "urp@comune.example.it" in agent and "https://www.comune.example.it" in agent
    assert asked.headers["Referer"] == "https://www.comune.example.it/"


def test_tiles_outside_the_area_are_404_and_never_asked_upstream(client, upstream):
    assert client.get(url(*ROME)).status_code == 404
    z, x, y = INSIDE
    assert client.get(url(z, x + 40, y)).status_code == 404  # well east of the box
    assert upstream.seen == []


@pytest.mark.parametrize("path", [
    "/helpdesk/tiles/20/{x}/{y}.png",  # beyond MAP_MAX_ZOOM (19)
    "/helpdesk/tiles/3/9/2.png",  # x beyond 2**z
    "/helpdesk/tiles/15/-1/2.png",
    "/helpdesk/tiles/15/abc/2.png",
    "/helpdesk/tiles/15/1/2.jpg",
])
def test_bad_coordinates_are_404(client, upstream, path):
    _, x, y = INSIDE
    assert client.get(path.format(x=x * 32, y=y * 32)).status_code == 404
    assert upstream.seen == []


def test_the_proxy_is_off_by_default(client, upstream, settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = False
    assert client.get(url(*INSIDE)).status_code == 404
    assert upstream.seen == []


def test_an_upstream_error_with_nothing_cached_is_502_not_cached(client, upstream):
    upstream.answer = lambda request: (503, {}, b"overloaded")
    response = client.get(url(*INSIDE))
    assert response.status_code == 502
    assert "no-store" in response["Cache-Control"]


def test_a_non_image_answer_is_refused(client, upstream):
    upstream.content_type = "text/html"
    assert client.get(url(*INSIDE)).status_code == 502


def test_an_expired_tile_is_revalidated_and_served_stale_when_upstream_fails(client, upstream):
    upstream.answer = lambda request: (200, {"Cache-Control": "max-age=0", "ETag": '"v1"'}, PNG)
    assert client.get(url(*INSIDE)).content == PNG
    # Expired: asked again, conditionally; "not modified" keeps the copy.
    upstream.answer = lambda request: (304, {"Cache-Control": "max-age=0"}, b"")
    again = client.get(url(*INSIDE))
    assert again.status_code == 200 and again.content == PNG
    assert upstream.seen[1].headers["If-None-Match"] == '"v1"'
    # The tile server fails: the stale copy, kept briefly by browsers.
    upstream.answer = lambda request: (500, {}, b"")
    stale = client.get(url(*INSIDE))
    assert stale.status_code == 200 and stale.content == PNG
    assert "max-age=300" in stale["Cache-Control"]
    assert len(upstream.seen) == 3


def test_a_slow_tile_server_times_out(client, upstream, settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_TIMEOUT = 0.3

    def slow(request):
        time.sleep(1)
        return 200, {}, PNG

    upstream.answer = slow
    started = time.monotonic()
    assert client.get(url(*INSIDE)).status_code == 502
    assert time.monotonic() - started < 1


def test_tiles_unknown_upstream_are_404_and_remembered(client, upstream):
    upstream.answer = lambda request: (404, {}, b"")
    assert client.get(url(*INSIDE)).status_code == 404
    assert client.get(url(*INSIDE)).status_code == 404
    assert len(upstream.seen) == 1


def test_each_address_gets_a_limited_number_of_tiles_per_minute(client, upstream, settings):
    settings.WAGTAIL_HELPDESK_RATE_TILES_PER_IP = 3
    z, x, y = INSIDE
    for dx in range(3):
        assert client.get(url(z, x + dx - 1, y)).status_code == 200
    limited = client.get(url(z, x, y))
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 61
    other = client.get(url(z, x, y), REMOTE_ADDR="10.0.0.7")
    assert other.status_code == 200


def test_upstream_fetches_are_bounded_across_visitors(client, upstream, settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_UPSTREAM_PER_MINUTE = 2
    z, x, y = INSIDE
    codes = [client.get(url(z, x + dx - 1, y), REMOTE_ADDR=f"10.0.0.{dx}").status_code
             for dx in range(3)]
    assert codes == [200, 200, 502]
    assert len(upstream.seen) == 2


def test_with_the_proxy_on_every_map_takes_tiles_from_this_site(client, pages, upstream,
                                                                 settings):
    assert map_settings()["tile_url"] == "/helpdesk/tiles/{z}/{x}/{y}.png"
    post(client, pages.report, pages.report_block, {"action": "next", "privacy": "on"})
    html = shown(client, pages.report)  # the report form's second step: the map
    assert 'data-tiles="/helpdesk/tiles/{z}/{x}/{y}.png"' in html
    assert "openstreetmap.org/{z}" not in html and "127.0.0.1" not in html
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = False
    assert map_settings()["tile_url"] == settings.WAGTAIL_HELPDESK_MAP_TILE_URL


# --- system checks ------------------------------------------------------------------------


def ids(found):
    return [m.id for m in found]


def test_third_party_tiles_are_flagged_by_the_deployment_checks(settings):
    settings.WAGTAIL_HELPDESK_MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert ids(check_third_party_tiles(None)) == ["wagtail_helpdesk.W010"]
    assert "wagtail_helpdesk.W010" in {m.id for m in checks.run_checks(
        include_deployment_checks=True)}
    assert "wagtail_helpdesk.W010" not in {m.id for m in checks.run_checks()}
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = True
    assert check_third_party_tiles(None) == []
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = False
    settings.ALLOWED_HOSTS = ["www.comune.example.it", ".comune.example.it"]
    settings.WAGTAIL_HELPDESK_MAP_TILE_URL = "https://tiles.comune.example.it/{z}/{x}/{y}.png"
    assert check_third_party_tiles(None) == []


def test_the_proxy_settings_are_checked(settings, tmp_path):
    settings.WAGTAIL_HELPDESK_MAP_TILE_PROXY = True
    settings.WAGTAIL_HELPDESK_OPEN311_AREA_BBOX = ""
    settings.WAGTAIL_HELPDESK_MAP_AREA_BBOX = ""
    settings.DEBUG = False
    assert ids(check_tile_proxy(None)) == ["wagtail_helpdesk.W011", "wagtail_helpdesk.W012",
                                           "wagtail_helpdesk.W014"]
    settings.WAGTAIL_HELPDESK_MAP_AREA_BBOX = "7.77,45.00,7.57,45.14"
    settings.WAGTAIL_HELPDESK_MAP_TILE_CONTACT = "urp@comune.example.it"
    settings.WAGTAIL_HELPDESK_MAP_TILE_CACHE = "tiles"
    assert ids(check_tile_proxy(None)) == ["wagtail_helpdesk.E010", "wagtail_helpdesk.E011"]
    settings.WAGTAIL_HELPDESK_MAP_AREA_BBOX = AREA
    settings.CACHES = {**settings.CACHES, "tiles": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "tiles")}}
    assert check_tile_proxy(None) == []


def test_visitors_asking_for_the_same_missing_tile_cause_one_upstream_request(upstream):
    import threading

    from wagtail_helpdesk import tiles

    def slow(request):
        time.sleep(0.4)
        return 200, {"Cache-Control": "max-age=3600"}, PNG

    upstream.answer = slow
    got = []
    threads = [threading.Thread(target=lambda: got.append(tiles.get_tile(*INSIDE).body))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [PNG, PNG, PNG]
    assert len(upstream.seen) == 1
