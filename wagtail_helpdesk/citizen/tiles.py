"""The tile proxy's view: map tiles served from the municipality's own site
(``WAGTAIL_HELPDESK_MAP_TILE_PROXY``; the logic is in :mod:`wagtail_helpdesk.tiles`)."""

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .. import throttle, tiles
from ..conf import get_setting

WINDOW = 60  # seconds: the per-address limit is per minute


def _text(message, status):
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    add_never_cache_headers(response)
    return response


def _not_found():
    """A light 404 (no site page to render: maps ask for many tiles at once),
    kept an hour by browsers: the area only changes with the settings."""
    response = HttpResponse(b"", status=404, content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=3600)
    return response


@require_safe
def tile(request, z, x, y):
    if not tiles.enabled() or not tiles.served(z, x, y):
        return _not_found()
    if not throttle.allow("tiles", throttle.client_ip(request),
                          get_setting("RATE_TILES_PER_IP"), window=WINDOW):
        response = _text(_("Too many map tiles requested: try again in a minute."), 429)
        response["Retry-After"] = str(throttle.retry_after(WINDOW))
        return response
    try:
        found = tiles.get_tile(z, x, y)
    except tiles.TileNotFound:
        return _not_found()
    except tiles.TileUnavailable:
        return _text(_("The map is not available right now."), 502)
    response = HttpResponse(found.body, content_type=found.content_type)
    patch_cache_control(response, public=True, max_age=found.max_age)
    response["X-Content-Type-Options"] = "nosniff"
    return response
