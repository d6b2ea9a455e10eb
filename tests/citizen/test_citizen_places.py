"""The report form's places: the geocoding proxy (against a local server
speaking Nominatim's API, since the real one is out of reach here), and the
open reports nearby (JSON for the map, and on the summary step)."""

import pytest
from django.test import override_settings

from tests.support.citizen import post, report_step_two, shown
from wagtail_helpdesk.citizen import geocoding
from wagtail_helpdesk.citizen.area import Area


def places_url(pages, what):
    return f"/helpdesk/places/{pages.report.pk}/{pages.report_block.id}/{what}/"


def test_address_search_is_bounded_identified_and_filtered(client, pages, nominatim):
    response = client.get(places_url(pages, "search"), {"q": "  piazza   di trevi "})
    assert response.status_code == 200
    # Paris is outside the block's box (Italy) and the broken row is dropped.
    assert response.json() == {"results": [
        {"label": "Piazza di Trevi 1, Roma", "lat": 41.9009, "lng": 12.4833}]}
    (_, upstream), = nominatim
    assert upstream.headers["User-Agent"] == "Comune di Prova helpdesk (test)"
    assert upstream.args["q"] == "piazza di trevi"
    assert upstream.args["bounded"] == "1" and upstream.args["countrycodes"] == "it"
    assert upstream.args["email"] == "urp@comune.example.it"
    west, south, east, north = map(float, upstream.args["viewbox"].split(","))
    assert (west, south, east, north) == Area.from_block(pages.report_block.value).bbox
    assert "no-store" in response["Cache-Control"]


def test_searches_are_cached_and_paced_to_one_upstream_request_per_interval(
        client, pages, nominatim):
    for query in ("via roma", "VIA ROMA", "via milano", "via napoli"):
        assert client.get(places_url(pages, "search"), {"q": query}).status_code == 200
    # "VIA ROMA" came from the cache: three upstream requests, spaced.
    assert len(nominatim) == 3
    times = [t for t, _ in nominatim]
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.28


def test_too_short_queries_never_reach_the_service(client, pages, nominatim):
    assert client.get(places_url(pages, "search"), {"q": "ab"}).json() == {"results": []}
    assert nominatim == []


def test_reverse_geocoding_gives_the_address_of_a_point(client, pages, nominatim):
    response = client.get(places_url(pages, "reverse"), {"lat": "41.9", "lng": "12.48"})
    assert response.json()["result"]["label"] == "Via del Corso 12, Roma"
    # Outside the municipality (the block's area is Italy): never asked upstream.
    assert client.get(places_url(pages, "reverse"), {"lat": "-33.86", "lng": "151.2"}
                      ).json() == {"result": None}
    assert len(nominatim) == 1
    assert client.get(places_url(pages, "reverse"), {"lat": "x"}).status_code == 400
    assert client.get(places_url(pages, "reverse"), {"lat": "91", "lng": "0"}).status_code == 400


def test_an_unreachable_service_answers_503_with_a_translated_message(client, pages, settings):
    settings.WAGTAIL_HELPDESK_GEOCODER_URL = "http://127.0.0.1:9/"  # discard port: refused
    settings.WAGTAIL_HELPDESK_GEOCODER_TIMEOUT = 1
    response = client.get(places_url(pages, "search"), {"q": "via roma"},
                          HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 503
    assert response.json()["results"] == []
    assert "ricerca" in response.json()["error"].lower()


def test_with_geocoding_off_the_form_has_no_search_and_still_works(client, pages):
    assert not geocoding.enabled()
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    html = shown(client, page)
    assert "data-helpdesk-geocode" not in html and 'name="address"' in html
    assert client.get(places_url(pages, "search"), {"q": "via roma"}).status_code == 503
    post(client, page, block, report_step_two(pages, latitude="", longitude=""))
    assert "3/3" in shown(client, page)


def test_with_geocoding_on_the_search_button_is_offered(client, pages, nominatim):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    html = shown(client, page)
    assert f'data-search-url="{places_url(pages, "search")}"' in html


@override_settings(WAGTAIL_HELPDESK_RATE_LOOKUPS_PER_IP=2)
def test_lookups_are_rate_limited(client, pages, nominatim):
    for _ in range(2):
        assert client.get(places_url(pages, "search"), {"q": "via roma"}).status_code == 200
    response = client.get(places_url(pages, "search"), {"q": "via roma"})
    assert response.status_code == 429 and response.json()["error"]


def test_places_exist_only_for_report_blocks_on_visible_pages(client, pages, nominatim):
    request_url = f"/helpdesk/places/{pages.request.pk}/{pages.request_block.id}/search/"
    assert client.get(request_url, {"q": "via roma"}).status_code == 404
    assert client.get(f"/helpdesk/places/{pages.report.pk}/nope/search/").status_code == 404
    pages.report.unpublish()
    assert client.get(places_url(pages, "search"), {"q": "via roma"}).status_code == 404
    assert client.post(places_url(pages, "search")).status_code == 405


# --- open reports nearby ---------------------------------------------------------------


@pytest.fixture
def around_trevi(pages):
    f, category = pages.factories, pages.category
    other = f.report_category(pages.office, name="Rifiuti")
    near = f.report_ticket(category=category, latitude="41.901800", longitude="12.483300",
                           address="Via delle Muratte 5")  # ~100 m north
    f.report_ticket(category=category, latitude="41.904500", longitude="12.483300")  # ~400 m
    f.report_ticket(category=other, latitude="41.900900", longitude="12.483300")
    f.report_ticket(category=category, latitude="41.900900", longitude="12.483300",
                    draft=True)
    return near


def test_nearby_lists_open_reports_of_the_category_within_the_radius(
        client, pages, around_trevi, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client.get(places_url(pages, "nearby"), {
            "category": pages.category.pk, "lat": "41.900900", "lng": "12.483300"})
    data = response.json()
    assert data["radius"] == 250
    assert [(r["category"], r["distance"]) for r in data["results"]] == [
        ("Buche stradali", 100)]
    # Nothing typed by the citizen (the address is free text), position to ~100 m.
    assert set(data["results"][0]) == {"category", "status", "status_label",
                                       "submitted_at", "distance", "lat", "lng"}
    assert (data["results"][0]["lat"], data["results"][0]["lng"]) == (41.902, 12.483)
    assert "Muratte" not in response.content.decode()


def test_resolved_reports_are_not_nearby(client, pages, around_trevi):
    from wagtail_helpdesk import services

    operator = pages.factories.operator(pages.office)
    ticket = services.take_charge(around_trevi, operator)
    services.resolve(ticket, operator, pages.factories.resolution_type(), "Riparata.")
    response = client.get(places_url(pages, "nearby"), {
        "category": pages.category.pk, "lat": "41.900900", "lng": "12.483300"})
    assert response.json()["results"] == []


def test_nearby_refuses_categories_the_block_does_not_offer(client, pages, around_trevi):
    response = client.get(places_url(pages, "nearby"), {
        "category": 999999, "lat": "41.900900", "lng": "12.483300"})
    assert response.json() == {"results": []}
    assert client.get(places_url(pages, "nearby"), {"category": pages.category.pk}
                      ).status_code == 400


def test_the_summary_shows_nearby_reports_without_javascript(client, pages, around_trevi):
    page, block = pages.report, pages.report_block
    post(client, page, block, {"action": "next", "privacy": "on"})
    post(client, page, block, report_step_two(pages, latitude="41.900900",
                                              longitude="12.483300"))
    html = shown(client, page)
    assert "3/3" in html and "data-helpdesk-nearby-summary" in html
    assert "Buche stradali, 100 m" in html and "Via delle Muratte 5" not in html
    post(client, page, block, {"action": "submit"})
    assert "Report sent" in shown(client, page)



def test_only_http_geocoders_are_called(client, pages, settings):
    settings.WAGTAIL_HELPDESK_GEOCODER_URL = "file:///etc/"
    response = client.get(places_url(pages, "search"), {"q": "passwd"})
    assert response.status_code == 503 and response.json()["results"] == []


def test_nearby_needs_a_point_inside_the_area(client, pages, around_trevi):
    response = client.get(places_url(pages, "nearby"), {
        "category": pages.category.pk, "lat": "48.8566", "lng": "2.3522"})
    assert response.json() == {"results": []}
    assert client.get(places_url(pages, "nearby"), {
        "category": "²", "lat": "41.9009", "lng": "12.4833"}).json() == {"results": []}


def test_places_of_a_login_only_block_need_the_login(client, pages, around_trevi):
    from example_site.home.models import StandardPage

    page = StandardPage.objects.get(pk=pages.report.pk)
    raw = list(page.body.raw_data)
    raw[0]["value"]["login_policy"] = "required"
    page.body = raw
    page.save_revision().publish()
    response = client.get(places_url(pages, "nearby"), {
        "category": pages.category.pk, "lat": "41.900900", "lng": "12.483300"})
    assert response.status_code == 404


def test_blocks_with_different_boundaries_do_not_share_cached_searches(pages, nominatim):
    square = ('{"type":"Polygon","coordinates":[[[12.4,41.8],[12.6,41.8],[12.6,42.0],'
              '[12.4,42.0],[12.4,41.8]]]}')
    elsewhere = ('{"type":"Polygon","coordinates":[[[9.1,45.4],[9.3,45.4],[9.3,45.5],'
                 '[9.1,45.5],[9.1,45.4]]]}')
    bbox = "6.6,36.6,18.6,47.1"
    rome = geocoding.search("trevi", Area.from_block({"area_bbox": bbox,
                                                       "area_geojson": square}))
    milan = geocoding.search("trevi", Area.from_block({"area_bbox": bbox,
                                                        "area_geojson": elsewhere}))
    assert [p.label for p in rome] == ["Piazza di Trevi 1, Roma"] and milan == []
    assert len(nominatim) == 2


def test_a_broken_upstream_answer_is_unavailable_not_an_error(client, pages, httpserver,
                                                               settings):
    settings.WAGTAIL_HELPDESK_GEOCODER_URL = httpserver.url_for("/")
    httpserver.expect_request("/search").respond_with_data("not json", status=200)
    httpserver.expect_request("/reverse").respond_with_data("oops", status=502)
    assert client.get(places_url(pages, "search"), {"q": "via roma"}).status_code == 503
    assert client.get(places_url(pages, "reverse"), {"lat": "41.9", "lng": "12.5"}
                      ).status_code == 503
