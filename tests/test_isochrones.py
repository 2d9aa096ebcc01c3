"""Tests for gcgeo.isochrones: reached street pieces and isochrone polygons.

Expected lengths and areas are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo import isochrones, maps
from gcgeo._errors import InputError

CRS = "EPSG:4548"


def line_edges(xs: list[float], y: float = 0.0) -> gpd.GeoDataFrame:
    """A straight street along x through nodes at ``xs`` (node i at xs[i])."""
    u = np.arange(len(xs) - 1)
    pts = np.column_stack([xs, np.full(len(xs), y)])
    return gpd.GeoDataFrame(
        {"u": u, "v": u + 1, "length": np.diff(xs)},
        geometry=shapely.linestrings(np.stack([pts[u], pts[u + 1]], axis=1)),
        crs=CRS,
    )


def test_reached_streets_straight_street_partial_from_u() -> None:
    e = line_edges([0, 100, 200, 300])
    # R = 150: segment 0-1 whole (100 m), segment 1-2 the first 50 m from node 1, 2-3 none
    got = isochrones.reached_streets(e, [0, 100, 200, 300], 150.0)
    assert got["edge"].tolist() == [0, 1]
    assert got["reached_m"].tolist() == [100.0, 50.0]
    assert shapely.get_coordinates(got.geometry.iloc[1]).tolist() == [[100, 0], [150, 0]]


def test_reached_streets_both_ends_and_unreached() -> None:
    # one 300 m segment B(0)–C(300), B at 100 m, C at 120 m (via some other path),
    # plus a segment between two unreached nodes (inf, NaN)
    e = gpd.GeoDataFrame(
        {"u": [0, 2], "v": [1, 3], "length": [300.0, 50.0]},
        geometry=[shapely.LineString([(0, 0), (300, 0)]), shapely.LineString([(0, 9), (50, 9)])],
        crs=CRS,
    )
    d = [100.0, 120.0, np.inf, np.nan]
    # R = 150: 50 m from B and 30 m from C, with a 220 m gap between them
    got = isochrones.reached_streets(e, d, 150.0)
    assert sorted(got["reached_m"].tolist()) == [30.0, 50.0]
    coords = sorted(shapely.get_coordinates(g).tolist() for g in got.geometry)
    assert coords == [[[0, 0], [50, 0]], [[270, 0], [300, 0]]]
    # R = 300: 200 m from B + 180 m from C >= 300 m, so the segment is whole
    got = isochrones.reached_streets(e, d, 300.0)
    assert got["edge"].tolist() == [0] and got["reached_m"].tolist() == [300.0]


def test_reached_streets_bent_geometry_uses_substring() -> None:
    # an L-shaped 200 m street (100 east, then 100 north), node u at 0 m; R = 150
    e = gpd.GeoDataFrame(
        {"u": [0], "v": [1], "length": [200.0]},
        geometry=[shapely.LineString([(0, 0), (100, 0), (100, 100)])],
        crs=CRS,
    )
    got = isochrones.reached_streets(e, [0.0, np.inf], 150.0)
    assert got["reached_m"].tolist() == [150.0]
    assert shapely.get_coordinates(got.geometry.iloc[0]).tolist() == [[0, 0], [100, 0], [100, 50]]


def _poly32(r: float) -> float:
    """Area of the 32-gon GEOS uses for a full round cap pair (quad_segs=8)."""
    return 0.5 * 32 * r * r * math.sin(2 * math.pi / 32)


def test_isochrone_area_straight_street() -> None:
    e = line_edges([0, 100, 200, 300])
    # 5 min at 0.5 m/s = 150 m reached; buffered by 10 m: 150 x 20 rectangle + two half caps
    iso = isochrones.isochrone_polygons(
        e, [0, 100, 200, 300], minutes=(5,), speed_mps=0.5, buffer_m=10
    )
    assert iso["minutes"].tolist() == [5.0]
    assert iso["reached_m"].tolist() == [150.0]
    expected = 150 * 20 + _poly32(10)  # 3000 + 312.14
    assert iso.geometry.iloc[0].area == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(3000 + math.pi * 100, rel=0.01)


def test_isochrone_area_cross_is_not_a_hull() -> None:
    # centre node 0, four 200 m arms to nodes 1..4; R = 150 m -> four 150 m arms
    ends = [(200, 0), (-200, 0), (0, 200), (0, -200)]
    e = gpd.GeoDataFrame(
        {"u": [0] * 4, "v": [1, 2, 3, 4], "length": [200.0] * 4},
        geometry=[shapely.LineString([(0, 0), p]) for p in ends],
        crs=CRS,
    )
    d = [0.0, 200.0, 200.0, 200.0, 200.0]
    iso = isochrones.isochrone_polygons(e, d, minutes=(5, 10), speed_mps=0.5, buffer_m=10)
    assert iso["reached_m"].tolist() == [600.0, 800.0]
    # two 300 x 20 bars crossing (6000 + 6000 - 400 overlap) + 4 half caps at the ends;
    # the caps at the centre fall inside the crossing bar
    assert iso.geometry.iloc[0].area == pytest.approx(11600 + 2 * _poly32(10), rel=1e-9)
    # 10 min = 300 m > 200 m: whole arms, 400 x 20 bars
    assert iso.geometry.iloc[1].area == pytest.approx(16000 - 400 + 2 * _poly32(10), rel=1e-9)
    # far smaller than the convex hull of the reached area (a diamond of ~ 2 * 160^2)
    assert iso.geometry.iloc[0].area < 0.5 * iso.geometry.iloc[0].convex_hull.area
    assert iso.geometry.iloc[1].contains(iso.geometry.iloc[0].buffer(-0.01))


def test_isochrone_unhappy_paths() -> None:
    e = line_edges([0, 100, 200])
    with pytest.raises(InputError, match="same network"):
        isochrones.reached_streets(e, [0.0, 1.0], 100)
    with pytest.raises(InputError, match="project it to metres"):
        isochrones.isochrone_polygons(e.set_crs(4326, allow_override=True), [0, 100, 200])
    with pytest.raises(InputError, match="positive"):
        isochrones.isochrone_polygons(e, [0, 100, 200], minutes=(0, 5))
    with pytest.raises(InputError, match="lacks column"):
        isochrones.reached_streets(e.drop(columns="length"), [0, 100, 200], 100)
    # nothing reached: an empty polygon, not an error
    iso = isochrones.isochrone_polygons(e, [np.inf] * 3, minutes=(5,))
    assert iso.geometry.iloc[0].is_empty and iso["reached_m"].tolist() == [0.0]


def test_maps_re_exports_the_isochrone_functions() -> None:
    assert maps.reached_streets is isochrones.reached_streets
    assert maps.isochrone_polygons is isochrones.isochrone_polygons
