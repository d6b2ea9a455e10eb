"""The SPID/CIE login pages and endpoints (mounted at e.g. ``/oidc/rp/``;
the mount path must match ``OIDC_CLIENT_ID``)."""

import logging

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from .. import throttle
from ..citizen.links import personal_area_url
from ..conf import get_setting
from . import federation, flow, identity, keys, resolve_endpoint
from .logsafe import LINE_LIMIT, escape

log = logging.getLogger(__name__)
SESSION_LOGIN = "wagtail_helpdesk_oidc_login"
LOGIN = "wagtail_helpdesk/oidc/login.html"
ERROR = "wagtail_helpdesk/oidc/error.html"


def _context(**extra):
    return {"base_template": get_setting("PUBLIC_BASE_TEMPLATE"), **extra}


def _reason(text):
    """A refusal's reason as one bounded log line: it may quote the provider."""
    return escape(text, LINE_LIMIT)


def _safe_next(request, value):
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return ""


@require_safe
def entity_configuration(request):
    try:
        token = federation.entity_configuration()
    except federation.FederationError as exc:
        log.error("SPID/CIE: cannot publish the entity configuration: %s", _reason(exc))
        return HttpResponse(status=503)
    return HttpResponse(token, content_type="application/entity-statement+jwt")


@require_safe
def resolve(request):
    """The federation resolve endpoint, about ourselves (see resolve_endpoint)."""
    try:
        token = resolve_endpoint.response(
            request.GET.get("sub", ""),
            request.GET.get("trust_anchor") or request.GET.get("anchor", ""),
            request.GET.getlist("entity_type"))
    except resolve_endpoint.ResolveError as exc:
        if exc.status >= 500:
            log.error("SPID/CIE: resolve endpoint: %s", _reason(exc.description))
        return JsonResponse(exc.as_dict(), status=exc.status)
    return HttpResponse(token, content_type=f"application/{resolve_endpoint.RESPONSE_TYPE}")


@require_safe
def jwks(request):
    """Our core public keys, for generic OpenID Connect providers that
    authenticate us with private_key_jwt (federation providers read them in
    the Entity Configuration)."""
    return JsonResponse(keys.public_jwks("sig", "enc"))


@never_cache
@require_safe
def login_page(request):
    next_url = _safe_next(request, request.GET.get("next", ""))
    return render(request, LOGIN, _context(
        spid=flow.providers("spid"), cie=flow.providers("cie"), generic=flow.providers("oidc"),
        next=next_url))


@never_cache
@require_safe
def begin(request):
    chosen = flow.provider(request.GET.get("provider", ""))
    if chosen is None:
        return HttpResponseBadRequest("Unknown identity provider.")
    if not throttle.allow("oidc-begin", throttle.client_ip(request),
                          get_setting("RATE_STEPS_PER_IP")):
        return render(request, ERROR, _context(reason="limited"), status=429)
    try:
        url = flow.begin(request.session, chosen, _safe_next(request, request.GET.get("next")))
    except federation.FederationError as exc:
        log.error("SPID/CIE: %s cannot be trusted: %s", chosen.entity_id, _reason(exc))
        return render(request, ERROR, _context(reason="provider"), status=502)
    return redirect(url)


def _pending_next(request):
    """Where the pending login the callback names was started from (checked
    then), read before the login is used up: the way back after a cancel."""
    pending = (request.session.get(flow.SESSION_KEY) or {}).get(request.GET.get("state") or "")
    return _safe_next(request, (pending or {}).get("next", ""))


@never_cache
@require_safe
def callback(request):
    back = _pending_next(request) if request.GET.get("error") == "access_denied" else ""
    try:
        result = flow.finish(request.session, request.GET)
        user = identity.sign_in(result)
    except identity.LinkRefused as exc:
        log.warning("SPID/CIE login refused: %s", _reason(exc.reason))
        return render(request, ERROR, _context(reason="link"), status=403)
    except flow.LoginError as exc:
        if request.GET.get("error") == "access_denied":
            # The citizen cancelled at the provider, or refused consent.
            log.info("SPID/CIE login cancelled at the provider: %s", _reason(exc.reason))
            return render(request, ERROR, _context(reason="cancelled", back_url=back or "/"))
        log.warning("SPID/CIE login refused: %s", _reason(exc.reason))
        return render(request, ERROR, _context(reason="login"), status=400)
    except federation.FederationError as exc:
        log.error("SPID/CIE: provider not trusted at callback: %s", _reason(exc))
        return render(request, ERROR, _context(reason="provider"), status=502)
    login(request, user, backend=_model_backend())
    request.session[SESSION_LOGIN] = {"provider": result.issuer,
                                      "access_token": result.access_token}
    return redirect(result.next_url or personal_area_url())


@require_POST
def logout_view(request):
    held = request.session.get(SESSION_LOGIN) or {}
    if held.get("provider") and held.get("access_token"):
        flow.revoke(held["provider"], held["access_token"])
    logout(request)
    return redirect("/")


def _model_backend():
    """The first backend the site lists that is a ``ModelBackend`` (Django's,
    the helpdesk's, or a subclass): the session names it, and a session
    naming an unlisted one is signed out."""
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    for path in settings.AUTHENTICATION_BACKENDS:
        backend = import_string(path)
        if isinstance(backend, type) and issubclass(backend, ModelBackend):
            return path
    return "django.contrib.auth.backends.ModelBackend"
