"""The two formats of every answer, as the spec shows them: JSON (collections
as top-level arrays) and XML (declaration, a root element, one element per
item). Values are prepared by the other modules: strings, numbers, booleans,
None (``null`` in JSON, an empty element in XML), lists and dicts."""

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
#: The XML element of each list's items, by the list's own element.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: Characters XML 1.0 cannot carry at all (control characters, stray surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element, value):
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, (list, tuple)):
        item = ITEMS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root, data):
    element = ET.Element(root)
    _fill(element, data)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode")


def to_json(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def respond(fmt, root, data, status=200):
    """``data`` in ``fmt``; ``root`` names the XML root (a list's or an object's)."""
    body = to_json(data) if fmt == "json" else to_xml(root, data)
    return HttpResponse(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def respond_error(fmt, error):
    response = respond(fmt, "errors", error.as_list(), status=error.status)
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response
