"""Helpers of the citizens' form tests: the example site's pages holding the
blocks, and posting steps through the test client."""

import json
import time

import pytest
from django.core.cache import cache
from werkzeug import Response


def block_of(page):
    return next(iter(page.specific.body))


@pytest.fixture
def pages(factories):
    from example_site.home.models import StandardPage

    office = factories.office(name="URP")
    service = factories.service(office, name="Carta d'identità")
    category = factories.report_category(office, name="Buche stradali")
    request_page = StandardPage.objects.get(slug="richiedi-assistenza")
    report_page = StandardPage.objects.get(slug="segnala-disservizio")
    return type("Pages", (), {
        "request": request_page, "report": report_page, "service": service,
        "category": category, "office": office, "factories": factories,
        "request_block": block_of(request_page), "report_block": block_of(report_page),
    })


def submit_url(page, block):
    return f"/helpdesk/submit/{page.pk}/{block.id}/"


def post(client, page, block, data, files=None):
    payload = dict(data)
    if files:
        payload["attachments"] = files
    return client.post(submit_url(page, block), payload)


def shown(client, page):
    return client.get(page.url).content.decode()


PERSON = {"given_name": "Giovanna", "family_name": "Esposito",
          "fiscal_code": "rssmra85t10a562s", "email": "giovanna@example.it", "phone": ""}


def send_request(client, pages, **overrides):
    page, block = pages.request, pages.request_block
    post(client, page, block, {"action": "next", "category": pages.service.category_id,
                               "service": pages.service.pk,
                               "details": "Devo rinnovare la carta d'identità."})
    post(client, page, block, {"action": "next", **PERSON, **overrides})
    return post(client, page, block, {"action": "submit", "privacy": "on"})


def report_step_two(pages, **overrides):
    return {"action": "next", "address": "Via Roma 12", "latitude": "41.902800",
            "longitude": "12.496400", "category": pages.category.pk, "title": "Buca",
            "details": "Buca profonda davanti al civico 12.",
            **{f"author-{k}": v for k, v in PERSON.items()}, **overrides}


ROMA = [{
    "place_id": 1, "lat": "41.9009", "lon": "12.4833", "display_name":
    "Fontana di Trevi, Piazza di Trevi, Rione Trevi, Roma, Lazio, 00187, Italia",
    "address": {"road": "Piazza di Trevi", "house_number": "1", "city": "Roma"},
}, {
    "place_id": 2, "lat": "48.8584", "lon": "2.2945", "display_name": "Tour Eiffel, Paris",
    "address": {"road": "Avenue Anatole France", "city": "Paris"},
}, {"place_id": 3, "lat": "not a number", "lon": "1", "display_name": "Broken"}]


@pytest.fixture
def nominatim(httpserver, settings):
    """A Nominatim-compatible server on loopback that records what it was asked."""
    settings.WAGTAIL_HELPDESK_GEOCODER_URL = httpserver.url_for("/")
    settings.WAGTAIL_HELPDESK_GEOCODER_USER_AGENT = "Comune di Prova helpdesk (test)"
    settings.WAGTAIL_HELPDESK_GEOCODER_EMAIL = "urp@comune.example.it"
    settings.WAGTAIL_HELPDESK_GEOCODER_MIN_INTERVAL = 0.3
    seen = []

    def search(request):
        seen.append((time.monotonic(), request))
        return Response(json.dumps(ROMA), content_type="application/json")

    def reverse(request):
        seen.append((time.monotonic(), request))
        if request.args["lat"].startswith("0"):
            return Response(json.dumps({"error": "Unable to geocode"}),
                            content_type="application/json")
        return Response(json.dumps({"lat": request.args["lat"], "lon": request.args["lon"],
                                    "display_name": "Via del Corso 12, Roma",
                                    "address": {"road": "Via del Corso", "house_number": "12",
                                                "city": "Roma"}}),
                        content_type="application/json")

    httpserver.expect_request("/search").respond_with_handler(search)
    httpserver.expect_request("/reverse").respond_with_handler(reverse)
    cache.clear()
    return seen
