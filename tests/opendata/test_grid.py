"""Places are moved to the centre of a grid cell of ``grid_metres``."""

import math

import pytest

from wagtail_helpdesk.opendata import grid

M = grid.METRES_PER_DEGREE


def _metres_between(a, b):
    """Equirectangular distance in metres (good at these short distances)."""
    mean = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[0] - b[0]) * M, (a[1] - b[1]) * M * math.cos(mean))


def test_two_points_in_one_cell_get_the_same_coordinates():
    step = 100 / M
    row = math.floor(45.4642 / step)
    south, north = (row + 0.05) * step, (row + 0.95) * step  # both inside the row
    _step_lat, step_lon, _row = grid.steps(south, 100)
    column = math.floor(9.19 / step_lon)
    west, east = (column + 0.05) * step_lon, (column + 0.95) * step_lon
    assert grid.snap(south, west, 100) == grid.snap(north, east, 100)
    # ... and a point just over the cell's edge gets the next centre, 100 m away.
    beyond = grid.snap(south, (column + 1.05) * step_lon, 100)
    assert beyond != grid.snap(south, west, 100)
    assert _metres_between(beyond, grid.snap(south, west, 100)) == pytest.approx(100, abs=0.5)


def test_the_published_point_is_the_centre_of_its_cell():
    lat, lon = 45.4642, 9.19
    step_lat, step_lon, row = grid.steps(lat, 100)
    column = math.floor(lon / step_lon)
    assert grid.snap(lat, lon, 100) == (round((row + 0.5) * step_lat, 6),
                                        round((column + 0.5) * step_lon, 6))
    # The centre is never further than half a diagonal from the real place.
    assert _metres_between(grid.snap(lat, lon, 100), (lat, lon)) <= 100 * math.sqrt(2) / 2
    # The centre snaps to itself (publishing is idempotent).
    centre = grid.snap(lat, lon, 100)
    assert grid.snap(*centre, 100) == centre


@pytest.mark.parametrize("latitude", [0.0005, 45.4642, 69.65, 78.22, -41.29])
def test_cells_are_squares_on_the_ground_at_every_latitude(latitude):
    """The longitude step grows with the latitude: east-west neighbours are
    ``metres`` apart, not fewer (a fixed step would make narrow cells up north)."""
    step_lat, step_lon, row = grid.steps(latitude, 250)
    assert step_lat == pytest.approx(250 / M)
    centre = (row + 0.5) * step_lat
    assert step_lon * M * math.cos(math.radians(centre)) == pytest.approx(250)
    a = grid.snap(latitude, 15.6, 250)
    b = grid.snap(latitude, 15.6 + step_lon, 250)
    assert _metres_between(a, b) == pytest.approx(250, rel=1e-3)


def test_high_latitudes_and_the_pole_stay_in_range():
    lat, lon = grid.snap(89.9999, 179.9999, 5000)
    assert -90 <= lat <= 90 and -180 <= lon <= 180
    north = grid.snap(78.2232, 15.6267, 100)  # Longyearbyen
    assert _metres_between(north, (78.2232, 15.6267)) <= 100 * math.sqrt(2) / 2


def test_at_most_six_decimals():
    for value in grid.snap(45.123456789, 9.987654321, 50):
        assert len(repr(value).split(".")[1]) <= 6
