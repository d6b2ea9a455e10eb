"""Keep pages holding a helpdesk form out of shared caches.

A page with a form carries a CSRF token tied to the visitor's session: served
from a shared cache (a CDN, Varnish, wagtail-cache) to someone else, the token
is stale and the form fails. The form blocks mark the request while
rendering; this middleware then marks the response ``private, no-cache``,
which caches honour. Add it to ``MIDDLEWARE`` (anywhere after the session
middleware)."""

from django.utils.cache import add_never_cache_headers, patch_cache_control

from .citizen.rendering import FORM_RENDERED


class HelpdeskFormCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, FORM_RENDERED, False):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
