"""Where Open311 clients may place a report: the box and boundary of the
settings, checked by the very :class:`~wagtail_helpdesk.citizen.area.Area` the
citizens' report form uses (bounding box first, then point in polygon)."""

from functools import lru_cache
from pathlib import Path

from ..citizen.area import Area, parse_bbox, parse_polygons
from ..conf import get_setting


def boundary_text(setting):
    """The GeoJSON of ``OPEN311_AREA_GEOJSON``: the text itself, or the
    content of the file it names."""
    setting = (setting or "").strip()
    if not setting or setting.startswith("{"):
        return setting
    return Path(setting).read_text(encoding="utf-8")


def validate(bbox, geojson):
    """Raise ValidationError (or OSError) when the settings are not usable."""
    parse_bbox(bbox)
    parse_polygons(boundary_text(geojson))


@lru_cache(maxsize=4)
def _area(bbox, geojson):
    return Area.from_block({"area_bbox": bbox, "area_geojson": boundary_text(geojson)})


def accepted_area():
    return _area(get_setting("OPEN311_AREA_BBOX") or "", get_setting("OPEN311_AREA_GEOJSON") or "")


def contains(lat, lng):
    return accepted_area().contains(lat, lng)
