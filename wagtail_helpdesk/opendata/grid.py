"""Places moved to the centre of a square grid cell, so that no published
report points at a house.

The method (documented in docs/open-data.md):

* rows of the grid are bands of latitude ``step_lat = metres / 111 320`` degrees
  high (a degree of latitude is about 111.32 km everywhere), counted from the
  equator: a point falls in row ``floor(lat / step_lat)``;
* inside a row, columns are ``step_lon = metres / (111 320 × cos φ)`` degrees
  wide, where φ is the latitude of the *row's centre* (a degree of longitude
  shrinks with the cosine of the latitude), counted from the Greenwich
  meridian: column ``floor(lon / step_lon)``;
* the published point is the centre of that cell, rounded to 6 decimals
  (about 0.1 m, far below any cell).

Every point of a row uses the same ``step_lon``, so cells never overlap and
two points in one cell always get the same coordinates. Cells are about
``metres`` × ``metres`` on the ground (exact up to the curvature inside one
cell); near the poles the longitude step is capped at 360°.

The overviews (wagtail_helpdesk/overviews/figures.py) count reports per cell
of this same grid, in the database: :func:`cell_expressions` is the SQL form
of :func:`steps` (same operations, same order) and :func:`centre` turns a
cell back into its published point, so an overview's squares are the
open-data squares of the same side.
"""

import math

from django.db.models import FloatField, Value
from django.db.models.functions import Abs, Cos, Floor, Greatest, Least, Radians

#: Metres in a degree of latitude (and of longitude at the equator).
METRES_PER_DEGREE = 111_320.0
#: Decimals of the published coordinates.
DECIMALS = 6


def steps(latitude, metres):
    """(step_lat, step_lon, row) of the grid of side ``metres`` at ``latitude``."""
    step_lat = metres / METRES_PER_DEGREE
    row = math.floor(float(latitude) / step_lat)
    return step_lat, _step_lon(row, step_lat, metres), row


def _step_lon(row, step_lat, metres):
    centre_lat = (row + 0.5) * step_lat
    cosine = math.cos(math.radians(min(abs(centre_lat), 90.0)))
    return 360.0 if cosine <= metres / (METRES_PER_DEGREE * 360.0) else (
        metres / (METRES_PER_DEGREE * cosine))


def snap(latitude, longitude, metres):
    """The centre of the cell of side ``metres`` holding the point, as
    ``(latitude, longitude)`` floats rounded to :data:`DECIMALS`."""
    _step_lat, step_lon, row = steps(latitude, metres)
    return centre(row, math.floor(float(longitude) / step_lon), metres)


def centre(row, column, metres):
    """The published point (centre) of the cell ``(row, column)`` of the grid
    of side ``metres``, as :func:`snap` gives it."""
    step_lat = metres / METRES_PER_DEGREE
    step_lon = _step_lon(row, step_lat, metres)
    centre_lat = (row + 0.5) * step_lat
    centre_lon = (column + 0.5) * step_lon
    centre_lat = max(-90.0, min(90.0, centre_lat))
    centre_lon = max(-180.0, min(180.0, centre_lon))
    return round(centre_lat, DECIMALS), round(centre_lon, DECIMALS)


def _float(value):
    return Value(float(value), output_field=FloatField())


def cell_expressions(latitude, longitude, metres):
    """``(row, column)`` of the cell holding each row's point, as database
    expressions over the float expressions ``latitude`` and ``longitude``
    (SQLite and PostgreSQL): the operations of :func:`steps`. The 360° cap
    is ``LEAST(metres / (M × cos φ), 360)``, the same number as the
    ``if`` of :func:`steps` (a tiny floor keeps the division defined at
    the pole)."""
    step_lat = metres / METRES_PER_DEGREE
    row = Floor(latitude / _float(step_lat), output_field=FloatField())
    centre_lat = (row + _float(0.5)) * _float(step_lat)
    cosine = Cos(Radians(Least(Abs(centre_lat), _float(90.0))))
    step_lon = Least(_float(metres) / (_float(METRES_PER_DEGREE)
                                       * Greatest(cosine, _float(1e-12))), _float(360.0))
    column = Floor(longitude / step_lon, output_field=FloatField())
    return row, column
