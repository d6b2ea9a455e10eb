"""The Open311 endpoints. Thin: check the method, the jurisdiction and the
allowance, ask the package's modules, render in the format of the path's
suffix. Errors are answered in the same format with the spec's codes."""

from functools import wraps

from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from wagtail.models import Site

from . import catalogue, clients, discovery, intake, publish, updates
from .errors import Open311Error
from .params import check_jurisdiction, period, value
from .render import respond, respond_error


def endpoint(*methods):
    """Wrap a view: allowed methods, jurisdiction, GET allowance, errors."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, fmt, **kwargs):
            try:
                if request.method not in methods and not (
                        request.method == "HEAD" and "GET" in methods):
                    raise Open311Error(405, _("Method not allowed here: use %(methods)s.")
                                       % {"methods": ", ".join(methods)})
                check_jurisdiction(request.POST if request.method == "POST" else request.GET)
                if request.method != "POST":
                    clients.check_reads(request)
                response = view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as error:
                response = respond_error(fmt, error)
                if error.status == 405:
                    response["Allow"] = ", ".join(methods)
            if request.method != "POST":
                # Public data, no cookies: browser applications may read it.
                response["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapper

    return decorate


@endpoint("GET")
def discovery_view(request, fmt):
    return respond(fmt, "discovery", discovery.document(request))


@endpoint("GET")
def services_view(request, fmt):
    return respond(fmt, "services", catalogue.service_list())


@endpoint("GET")
def service_definition(request, code, fmt):
    return respond(fmt, "service_definition", catalogue.definition(catalogue.find(code)))


@csrf_exempt  # authenticated by its api_key, not by a session
@never_cache
@endpoint("GET", "POST")
def requests_view(request, fmt):
    if request.method == "POST":
        return _file(request, fmt)
    rows = publish.filtered(request.GET)
    return respond(fmt, "service_requests", publish.request_items(rows))


def _file(request, fmt):
    client = clients.authenticate(request)
    clients.check_allowance(client)
    clients.mark_used(client)
    ticket, _created = intake.file_request(client, request.POST,
                                           site=Site.find_for_request(request))
    item = {"service_request_id": publish.request_id(ticket),
            "service_notice": catalogue.service_notice(ticket.report_category),
            "account_id": value(request.POST, "account_id") or None}
    return respond(fmt, "service_requests", [item])


@endpoint("GET")
def request_detail(request, request_id, fmt):
    return respond(fmt, "service_requests", publish.request_items(publish.find(request_id)))


@endpoint("GET")
def updates_view(request, fmt):
    start, end = period(request.GET)
    return respond(fmt, "service_request_updates", updates.update_items(updates.events(start, end)))
