"""The NinjaAPI instance: its own URL namespace (``wagtail_helpdesk_api``),
token authentication and per-token rate limit on every operation, errors as
problem details, the OpenAPI schema at ``openapi.json`` and interactive docs
at ``docs``."""

from functools import wraps

from django.http import Http404
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger

from ..conf import get_setting
from . import actions, attachments, catalogue, openapi, people, problems, tickets
from .auth import TokenAuth, TokenRateThrottle

DESCRIPTION = """\
The municipality's help desk, for operators' scripts and integrations: list and
read tickets with their timeline, create them (channel `api`), take every
workflow action, attach and download files, read the catalogue, find citizens.

**Authentication.** Every call carries a Wagtail API token of a help desk user
(`Authorization: Bearer <token>`) and acts as that user: it sees the tickets of
the user's offices and may do what the user may do in the admin. Tokens are
created and revoked in the admin (Settings → API tokens) or with
`manage.py api_tokens`.

**Errors** are `application/problem+json` (RFC 7807): `detail` says what went
wrong, `errors` lists the fields to fix. 401 no valid token, 403 not allowed,
404 not found or not yours to see, 409 not possible now (or the ticket changed
since `expected_version`), 422 invalid input, 429 too many calls (see
`Retry-After`).

**Pages.** The ticket list is paginated by cursor: follow `next` until it is null.
"""


def _docs_gate(view):
    @wraps(view)
    def gated(request, *args, **kwargs):
        if not get_setting("API_DOCS_ENABLED"):
            raise Http404
        return view(request, *args, **kwargs)

    return gated


def _method_as_problem(view):
    """Ninja answers a method an address does not take with a plain-text 405:
    ours is a problem, like every other refusal of the API."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "") != (
                problems.PROBLEM_JSON):
            allowed = response.get("Allow", "")
            return problems.problem(405, _("Method not allowed here: use %(methods)s.")
                                    % {"methods": allowed}, headers={"Allow": allowed})
        return response

    checked.csrf_exempt = True
    return checked


def _unknown_address(request, *args, **kwargs):
    return problems.problem(404, _("This API has no such address: its calls are listed at "
                                   "%(docs)s.") % {"docs": request.build_absolute_uri(
                                       reverse("wagtail_helpdesk_api:openapi-view"))})


_unknown_address.csrf_exempt = True


class HelpdeskAPI(NinjaAPI):
    @property
    def urls(self):
        """Ninja's URLs, with problems for wrong methods and unknown addresses."""
        patterns, app_name, namespace = super().urls
        for pattern in patterns:
            pattern.callback = _method_as_problem(pattern.callback)
        return [*patterns, re_path(r"", _unknown_address)], app_name, namespace

    def get_openapi_schema(self, **kwargs):
        return openapi.with_problems(super().get_openapi_schema(**kwargs))

    def get_openapi_operation_id(self, operation):
        return operation.view_func.__name__  # list_tickets, take_charge, …


api = HelpdeskAPI(
    title="wagtail_helpdesk API",
    version="1.0",
    description=DESCRIPTION,
    urls_namespace="wagtail_helpdesk_api",
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    docs=Swagger(settings={"persistAuthorization": True}),
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=_docs_gate,
)
problems.register(api)
api.add_router("/tickets/", tickets.router)
api.add_router("/tickets/", actions.router)
api.add_router("/tickets/", attachments.router)
api.add_router("/", catalogue.router)
api.add_router("/", people.router)
