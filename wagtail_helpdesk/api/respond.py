"""Answers the API has shaped already: the ticket list and one ticket.

``serialise.py`` writes them as plain dicts, field by field in the schemas'
order, with the types the schemas declare. Ninja would validate them again
with the response schema (a wrapper around every attribute of every nested
object): for a page of 50 tickets, 11.8 ms to validate and dump what took
2.9 ms to write. These views return the dicts as JSON at once, through the
API's own renderer (so dates, decimals and the content type are Ninja's).

With ``WAGTAIL_HELPDESK_API_CHECK_RESPONSES`` on (the test suite's setting)
every such answer is also validated as Ninja would and must come out the same,
byte for byte: a field the schema lacks, a wrong type or order fails the call.
The OpenAPI document still describes the schemas; the fuzzing tests check the
answers against it."""

import json

from ..conf import get_setting


class ShapeError(AssertionError):
    """An answer that differs from its schema's validation of it."""


def shaped(request, schema, data, status=200):
    """``data`` (shaped as ``schema``) as the API's JSON response (rendered by
    this package's ``api``, whose routers call this)."""
    from .main import api

    response = api.create_response(request, data, status=status)
    if get_setting("API_CHECK_RESPONSES"):
        context = {"request": request, "response_status": status}
        checked = schema.model_validate(data, context=context).model_dump(context=context)
        expected = api.create_response(request, checked, status=status).content
        if expected != response.content:
            # Where, not what: the answer holds personal data.
            where = difference(json.loads(response.content), json.loads(expected))
            raise ShapeError(f"{schema.__name__}: the answer differs from what the schema "
                             f"makes of it at {where}")
    return response


def difference(sent, expected, path="$"):
    """The path of the first difference between two JSON values (keys, their
    order, types and values), or None."""
    if type(sent) is not type(expected):
        return f"{path} (type)"
    if isinstance(sent, dict):
        if list(sent) != list(expected):
            extra = [k for k in sent if k not in expected]
            return f"{path} (keys{': ' + ', '.join(extra) if extra else ' in another order'})"
        for key in sent:
            found = difference(sent[key], expected[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(sent, list):
        if len(sent) != len(expected):
            return f"{path} (length)"
        for n, (a, b) in enumerate(zip(sent, expected, strict=True)):
            found = difference(a, b, f"{path}[{n}]")
            if found:
                return found
        return None
    return None if sent == expected else f"{path} (value)"
