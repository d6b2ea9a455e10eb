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

from ..conf import get_setting


class ShapeError(AssertionError):
    """An answer that differs from its schema's validation of it."""


def shaped(request, schema, data, status=200):
    """``data`` (shaped as ``schema``) as the API's JSON response."""
    from .main import api  # the instance that mounts the routers calling this

    response = api.create_response(request, data, status=status)
    if get_setting("API_CHECK_RESPONSES"):
        checked = schema.model_validate(
            data, context={"request": request, "response_status": status}
        ).model_dump(by_alias=True)
        expected = api.create_response(request, checked, status=status).content
        if expected != response.content:
            raise ShapeError(f"{schema.__name__}: the answer is not what the schema makes of it"
                             f"\n  sent:     {response.content[:2000]!r}"
                             f"\n  expected: {expected[:2000]!r}")
    return response
