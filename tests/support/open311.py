"""Helpers and fixtures of the Open311 tests: the official-shape JSON Schemas
(checked with real date-time and URI formats), XML reading, registered
clients and reports at each step of their life."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from wagtail_helpdesk import services
from wagtail_helpdesk.models import Channel, Open311Client

BASE = "/open311/v2"
SCHEMAS = Path(__file__).parent / "open311_schemas"
#: Inside the example site's Open311 box (the demo town), and outside it (Milan).
INSIDE = {"lat": "45.070000", "long": "7.680000"}
OUTSIDE = {"lat": "45.464200", "long": "9.190000"}
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _date_time(value):
    """ISO 8601 with the time zone the spec makes mandatory."""
    if not isinstance(value, str):
        return True  # formats apply to strings only (null is allowed by type)
    return datetime.fromisoformat(value).tzinfo is not None


@_formats.checks("uri", raises=ValueError)
def _uri(value):
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _registry():
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text())))
                 for path in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(schema, data):
    """Validate ``data`` against ``open311_schemas/<schema>.json`` (raises)."""
    contents = REGISTRY.contents(f"{schema}.json")
    Draft202012Validator(contents, registry=REGISTRY, format_checker=_formats).validate(data)
    return data


def url(path, fmt):
    return f"{BASE}/{path}.{fmt}"


def body(response, fmt):
    """The parsed body: JSON data, or the XML root element."""
    expected = JSON_TYPE if fmt == "json" else XML_TYPE
    assert response["Content-Type"] == expected
    text = response.content.decode("utf-8")
    if fmt == "json":
        return json.loads(text)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own server's answer


def xml_value(element):
    """An XML element as plain data: text for leaves, dicts for records,
    lists for the spec's lists (children all with the same, plural-free tag)."""
    children = list(element)
    if not children:
        return element.text
    tags = {child.tag for child in children}
    if len(tags) == 1 and element.tag in _LISTS:
        return [xml_value(child) for child in children]
    return {child.tag: xml_value(child) for child in children}


_LISTS = {"services", "service_requests", "service_request_updates", "attributes", "values",
          "endpoints", "formats", "errors"}


def items(response, fmt, root, item):
    """A list answer as a list of dicts (XML leaves stay text)."""
    data = body(response, fmt)
    if fmt == "json":
        return data
    assert data.tag == root
    assert all(child.tag == item for child in data)
    return [xml_value(child) for child in data]


def errors(response, fmt):
    data = body(response, fmt)
    if fmt == "json":
        validate("errors", data)
        return [(e["code"], e["description"]) for e in data]
    assert data.tag == "errors" and len(data) >= 1
    return [(int(e.findtext("code")), e.findtext("description")) for e in data]


def new_client(name="FixMyStreet Italia", active=True):
    client = Open311Client(name=name, active=active)
    key = client.set_key()
    client.save()
    return client, key


def make_category(factories):
    """A report category with a deadline, whose office has an operator."""
    office = factories.office(name="Manutenzione strade")
    factories.operator(office, username="strade")
    return factories.report_category(office, name="Buche stradali", sla_days=5)


def report(factories, category, **kwargs):
    kwargs.setdefault("channel", Channel.OPEN311)
    return factories.report_ticket(category=category, **kwargs)


def work(ticket, operator, *, to, resolution=None, text="Riparata la buca."):
    """Take ``ticket`` through the office's work up to ``to``."""
    ticket = services.take_charge(ticket, operator)
    if to in ("replied", "waiting", "resolved"):
        ticket = services.reply(ticket, operator, "Grazie, interveniamo entro la settimana.")
    if to == "waiting":
        ticket = services.mark_waiting(ticket, operator, message="Ci serve il numero civico.")
    if to == "resolved":
        ticket = services.resolve(ticket, operator, resolution, text)
    return ticket
