"""The accepted area of a report form: a bounding box, a GeoJSON polygon
(the municipal boundary), or both. Pure functions, no GIS library."""

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def parse_bbox(text):
    """``"minlon,minlat,maxlon,maxlat"`` → a 4-tuple of floats, or None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        values = [float(part) for part in text.replace(";", ",").split(",")]
    except ValueError as exc:
        raise ValidationError(_("Write four numbers: west, south, east, north.")) from exc
    if len(values) != 4:
        raise ValidationError(_("Write four numbers: west, south, east, north."))
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationError(_("The box's west must be less than east and south less than north."))
    return west, south, east, north


def parse_polygons(text):
    """GeoJSON (a Polygon, MultiPolygon, Feature or FeatureCollection) → a list
    of polygons, each a list of rings of ``(lon, lat)``; [] when empty."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(_("This is not valid GeoJSON.")) from exc
    polygons = []

    def items(container, key):
        found = container.get(key, []) if isinstance(container, dict) else []
        return found if isinstance(found, list) else []

    def collect(geometry):
        if not isinstance(geometry, dict):
            return
        kind = geometry.get("type")
        if kind == "Polygon":
            polygons.append(geometry.get("coordinates"))
        elif kind == "MultiPolygon":
            polygons.extend(items(geometry, "coordinates"))
        elif kind == "GeometryCollection":
            for item in items(geometry, "geometries"):
                collect(item)

    if not isinstance(data, dict):
        raise ValidationError(_("This is not valid GeoJSON."))
    if data.get("type") == "FeatureCollection":
        for feature in items(data, "features"):
            collect(feature.get("geometry") if isinstance(feature, dict) else None)
    elif data.get("type") == "Feature":
        collect(data.get("geometry"))
    else:
        collect(data)
    try:
        clean = [[[(float(p[0]), float(p[1])) for p in ring] for ring in polygon]
                 for polygon in polygons]
    except (TypeError, ValueError, IndexError) as exc:
        raise ValidationError(_("The polygon's coordinates are not valid.")) from exc
    if not clean or any(not polygon for polygon in clean) \
            or any(len(ring) < 4 for polygon in clean for ring in polygon):
        raise ValidationError(_("The GeoJSON holds no polygon (a boundary is a Polygon or "
                                "MultiPolygon)."))
    return clean


def _in_ring(lon, lat, ring):
    """Ray casting: whether the point is inside the ring."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat):
            x = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x:
                inside = not inside
        j = i
    return inside


def _in_polygon(lon, lat, polygon):
    outer, *holes = polygon
    return _in_ring(lon, lat, outer) and not any(_in_ring(lon, lat, h) for h in holes)


def boundary_text(value):
    """A report block's GeoJSON boundary: pasted, or read from its document."""
    text = value.get("area_geojson") or ""
    document = value.get("area_file")
    if not text.strip() and document is not None:
        try:
            with document.file.open("rb") as handle:
                text = handle.read(2_000_000).decode("utf-8", "replace")
        except (OSError, ValueError):
            text = ""
    return text


@dataclass(frozen=True)
class Area:
    bbox: tuple | None = None
    polygons: tuple = ()

    @classmethod
    def from_block(cls, value):
        """The area a report block's editor configured (never raises: the
        block's own validation refused bad input when it was saved)."""
        try:
            bbox = parse_bbox(value.get("area_bbox", ""))
        except ValidationError:
            bbox = None
        text = boundary_text(value)
        try:
            polygons = tuple(parse_polygons(text))
        except ValidationError:
            polygons = ()
        if bbox is None and polygons:
            lons = [p[0] for poly in polygons for p in poly[0]]
            lats = [p[1] for poly in polygons for p in poly[0]]
            bbox = (min(lons), min(lats), max(lons), max(lats))
        return cls(bbox=bbox, polygons=polygons)

    @property
    def limited(self):
        return self.bbox is not None

    def contains(self, lat, lon):
        if lat is None or lon is None:
            return True
        lat, lon = float(lat), float(lon)
        if self.bbox is not None:
            west, south, east, north = self.bbox
            if not (west <= lon <= east and south <= lat <= north):
                return False
        if self.polygons:
            return any(_in_polygon(lon, lat, polygon) for polygon in self.polygons)
        return True


def parse_coordinate(value, low, high):
    """A coordinate typed or sent by the map, as a Decimal with 6 decimals, or None."""
    text = str(value or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationError(_("Enter a number.")) from exc
    if not number.is_finite():  # "nan", "inf": not a place
        raise ValidationError(_("Enter a number."))
    if not (low <= number <= high):
        raise ValidationError(_("Enter a number between %(low)s and %(high)s.")
                              % {"low": low, "high": high})
    return number.quantize(Decimal("0.000001"))
