"""Map settings shared by the operator's ticket page, the editors' map widget
and the citizens' forms."""

from django.urls import NoReverseMatch, reverse

from .conf import get_setting

PROXY_URL_NAME = "wagtail_helpdesk_map_tile"


def proxy_tile_url():
    """The tile proxy's URL template (``…/tiles/{z}/{x}/{y}.png``), or "" when
    the citizens' URLs are not mounted."""
    try:
        url = reverse(PROXY_URL_NAME, args=[0, 0, 0])
    except NoReverseMatch:
        return ""
    return url[: -len("0/0/0.png")] + "{z}/{x}/{y}.png"


def tile_url():
    """Where browsers fetch tiles: this site's proxy when it is on, else the tile server."""
    if get_setting("MAP_TILE_PROXY"):
        proxied = proxy_tile_url()
        if proxied:
            return proxied
    return get_setting("MAP_TILE_URL")


def map_settings():
    """The tile server, its attribution and the maximum zoom (from settings)."""
    return {
        "tile_url": tile_url(),
        "attribution": get_setting("MAP_ATTRIBUTION"),
        "max_zoom": int(get_setting("MAP_MAX_ZOOM")),
    }
