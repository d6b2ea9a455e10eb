"""Service discovery: where the endpoints are, their formats, whom to ask.

Two endpoints are listed, production (this one) and test
(``OPEN311_TEST_URL``, by default this one too): validators such as
open311-validator expect more than one.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from ..conf import get_setting
from .render import CONTENT_TYPES

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = [CONTENT_TYPES["xml"].split(";")[0], CONTENT_TYPES["json"].split(";")[0]]


def base_url(request):
    """This endpoint's root, e.g. ``https://comune.example.it/open311/v2``."""
    discovery = reverse("wagtail_helpdesk_open311_discovery", kwargs={"fmt": "json"})
    return request.build_absolute_uri(discovery).rsplit("/", 1)[0]


def document(request):
    changeset = get_setting("OPEN311_CHANGESET")
    production = base_url(request)
    endpoints = [("production", production),
                 ("test", (get_setting("OPEN311_TEST_URL") or production).rstrip("/"))]
    return {
        "changeset": changeset,
        "contact": get_setting("OPEN311_CONTACT") or None,
        "key_service": get_setting("OPEN311_KEY_SERVICE") or _(
            "API keys for filing reports are issued by the municipality to the "
            "organisations it works with: ask the contact above."),
        "endpoints": [
            {"specification": SPECIFICATION, "url": url, "changeset": changeset,
             "type": kind, "formats": FORMATS}
            for kind, url in endpoints
        ],
    }
