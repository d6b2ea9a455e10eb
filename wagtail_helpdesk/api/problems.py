"""Errors as RFC 7807 problem details (``application/problem+json``).

Every refusal names its reason in ``detail`` (translated, in the caller's
language) and, when fields are to blame, lists them in ``errors``:
``[{"field": "body", "message": "…"}]``.
"""

import json
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from .. import throttle
from ..errors import GuardFailed, HelpdeskError, StaleTicket

PROBLEM_JSON = "application/problem+json"
#: A short code per kind of refusal (the ``code`` member), documented in docs/api.md.
CODES = {
    400: "unreadable", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed",
    409: "not_now", 422: "invalid", 429: "too_many_requests",
}


def problem(status, detail, *, errors=None, code=None, headers=None):
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
            "code": code or CODES.get(status, "error"), "detail": str(detail)}
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


SOURCES = ("body", "query", "path", "form", "file", "header", "cookie")
#: Names of the views' schema parameters (the API's fields are inside them).
WRAPPERS = ("data", "filters")


def _field_name(location):
    """A field's name from ninja's error location (``["body", "data", "body"]``)."""
    parts = list(location)
    if parts and parts[0] in SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in WRAPPERS:
        parts = parts[1:]
    # The item of a list: the list names the field.
    return ".".join(str(part) for part in parts if not isinstance(part, int)) or "request"


def register(api):
    @api.exception_handler(NinjaValidationError)
    def invalid(request, exc):
        errors = [{"field": _field_name(error.get("loc", ())), "message": error.get("msg", "")}
                  for error in exc.errors]
        names = ", ".join(dict.fromkeys(error["field"] for error in errors))
        return problem(422, _("Check these fields: %(fields)s.") % {"fields": names},
                       errors=errors)

    @api.exception_handler(GuardFailed)
    def guard_failed(request, exc):
        # Fields to fix: invalid input. None: a condition of the ticket's state
        # (e.g. already taken in charge): not possible now.
        errors = [{"field": field, "message": str(message)}
                  for field, message in exc.field_errors.items()]
        return problem(422 if errors else 409, exc.message, errors=errors or None)

    @api.exception_handler(StaleTicket)
    def stale(request, exc):
        return problem(409, exc.message, code="stale")

    @api.exception_handler(HelpdeskError)  # TransitionNotAllowed and the others
    def refused(request, exc):
        return problem(409, exc.message)

    @api.exception_handler(PermissionDenied)
    def denied(request, exc):
        return problem(403, str(exc) or _("You are not allowed to do this."))

    @api.exception_handler(Http404)
    def missing(request, exc):
        return problem(404, _("Not found, or not yours to see."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return problem(401, _("Send a valid API token: Authorization: Bearer <token>. "
                              "Revoked tokens and tokens of deactivated users are refused."),
                       headers={"WWW-Authenticate": 'Bearer realm="helpdesk"'})

    @api.exception_handler(Throttled)
    def throttled(request, exc):
        wait = exc.wait or throttle.retry_after(60)
        return problem(429, _("Too many requests with this token: try again in %(seconds)d "
                              "seconds.") % {"seconds": wait},
                       headers={"Retry-After": str(wait)})

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if exc.status_code == 400:  # ninja could not parse the body
            return problem(400, _("The request body cannot be read: send JSON "
                                  "(Content-Type: application/json), or multipart/form-data "
                                  "for files."))
        return problem(exc.status_code, str(exc))
