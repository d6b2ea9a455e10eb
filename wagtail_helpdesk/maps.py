"""Map settings shared by the operator's ticket page and the citizens' forms."""

from .conf import get_setting


def map_settings():
    """The tile server, its attribution and the maximum zoom (from settings)."""
    return {
        "tile_url": get_setting("MAP_TILE_URL"),
        "attribution": get_setting("MAP_ATTRIBUTION"),
        "max_zoom": int(get_setting("MAP_MAX_ZOOM")),
    }
