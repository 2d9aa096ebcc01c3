"""Residential land and population per origin cell, by hand and with a raster written here."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo._errors import InputError
from gcgeo.population import estimate_from_land, from_polygons, from_raster, residential_area

X0, Y0 = 500_000.0, 4_000_000.0


def _grid(nx: int = 3, ny: int = 2, cell: float = 100.0) -> gpd.GeoDataFrame:
    """Cells of ``cell`` m: centres (50, 50), (150, 50), … from (X0, Y0)."""
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny))
    x = X0 + (gx.ravel() + 0.5) * cell
    y = Y0 + (gy.ravel() + 0.5) * cell
    g = gpd.GeoDataFrame({"x": x, "y": y}, geometry=shapely.points(x, y), crs="EPSG:4548")
    g.attrs["cell_m"] = cell
    return g


def test_residential_area_by_hand_overlaps_counted_once() -> None:
    cells = _grid()  # 3 x 2 cells of 100 m
    res = gpd.GeoSeries(
        [
            shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 100),  # half of cell 0, half of cell 1
            shapely.box(X0 + 100, Y0, X0 + 150, Y0 + 50),  # inside the first: counted once
            shapely.box(X0 + 200, Y0 + 100, X0 + 300, Y0 + 200),  # all of cell 5
        ],
        crs="EPSG:4548",
    )
    got = residential_area(cells, res)
    np.testing.assert_allclose(got, [5000, 5000, 0, 0, 0, 10000])


def test_polygon_counts_spread_by_residential_land() -> None:
    cells = _grid()
    land = np.array([1000.0, 3000.0, 0.0, 0.0, 0.0, 0.0])
    polys = gpd.GeoDataFrame(
        {"pop": [400.0, 90.0, 7.0]},
        geometry=[
            shapely.box(X0, Y0, X0 + 200, Y0 + 100),  # cells 0 and 1: by land, 100 and 300
            shapely.box(X0, Y0 + 100, X0 + 300, Y0 + 200),  # cells 3-5, no land: 30 each
            shapely.box(X0 + 1000, Y0, X0 + 1100, Y0 + 100),  # no origin inside: left out
        ],
        crs="EPSG:4548",
    )
    got, left_out = from_polygons(cells, polys, "pop", land)
    np.testing.assert_allclose(got, [100, 300, 0, 30, 30, 30])
    assert left_out == 7.0
    with pytest.raises(InputError, match="'people' is not in the polygon layer"):
        from_polygons(cells, polys, "people", land)


def test_estimate_scales_to_the_total() -> None:
    land = np.array([1000.0, 3000.0, 0.0, 6000.0])
    got = estimate_from_land(land, 308_994)
    assert got.sum() == pytest.approx(308_994)
    np.testing.assert_allclose(got, [30899.4, 92698.2, 0, 185396.4])
    with pytest.raises(InputError, match="no residential land"):
        estimate_from_land(np.zeros(3), 100)


def test_raster_written_here_sums_exactly_to_its_cells(tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    cells = _grid()  # 3 x 2 cells of 100 m
    # 25 m pixels over 325 x 200 m in the same CRS: one no-data pixel, one column off the grid
    data = np.arange(1, 8 * 13 + 1, dtype="float32").reshape(8, 13)  # column 12: east of the grid
    data[0, 0] = -1  # no-data
    path = tmp_path / "pop.tif"
    with rasterio.open(
        path, "w", driver="GTiff", height=8, width=13, count=1, dtype="float32",
        crs="EPSG:4548", transform=from_origin(X0, Y0 + 200, 25, 25), nodata=-1,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    got, left_out = from_raster(cells, path)
    # by hand: row r (from the top) lies in cell row 1 when r < 4; column c in cell c // 4
    want = np.zeros(6)
    for r in range(8):
        for c in range(12):
            if data[r, c] > 0:
                want[(0 if r >= 4 else 1) * 3 + c // 4] += data[r, c]
    np.testing.assert_allclose(got, want)
    assert left_out == pytest.approx(float(data[:, 12].sum()))
    assert got.sum() + left_out == pytest.approx(float(data[data > 0].sum()))
    # a raster with no CRS is refused
    bad = tmp_path / "nocrs.tif"
    with rasterio.open(bad, "w", driver="GTiff", height=1, width=1, count=1, dtype="float32",
                       transform=from_origin(X0, Y0, 1, 1)) as dst:  # fmt: skip
        dst.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(InputError, match="has no CRS"):
        from_raster(cells, bad)


def test_buildings_estimate_by_hand(tmp_path: Path) -> None:
    """B1: 20 x 20 m, building:levels 10 → 4,000 m² of floors, all in cell 0; B2: 10 x 40 m,
    no levels → 6 floors, 2,400 m², half in cell 0 and half in cell 1 (it straddles x = 100).
    640 residents over 6,400 m²: cell 0 gets 400 + 120, cell 1 gets 120."""
    from osmxml import X0 as OX
    from osmxml import Y0 as OY
    from osmxml import OSMBuilder

    from gcgeo.population import estimate_total

    b = OSMBuilder()
    for k, (x, y) in {"a": (10, 10), "b": (30, 10), "c": (30, 30), "d": (10, 30)}.items():
        b.node(k, x, y)
    b.way(["a", "b", "c", "d", "a"], building="apartments", **{"building:levels": "10"})
    for k, (x, y) in {"e": (80, 60), "f": (120, 60), "g": (120, 70), "h": (80, 70)}.items():
        b.node(k, x, y)
    b.way(["e", "f", "g", "h", "e"], building="residential")
    b.node("s1", 0, 90)
    b.node("s2", 200, 90)
    b.way(["s1", "s2"], highway="residential")
    path = b.write(tmp_path / "b.osm")
    x = np.array([OX + 50, OX + 150, OX + 250])
    y = np.full(3, OY + 50.0)
    cells = gpd.GeoDataFrame({"x": x, "y": y}, geometry=shapely.points(x, y), crs="EPSG:4548")
    cells.attrs["cell_m"] = 100.0
    got, source = estimate_total(cells, path, None, 640.0)
    assert source == "estimate_buildings"
    np.testing.assert_allclose(got, [520, 120, 0], atol=0.05)  # OSM's 7 decimals: ~1 cm
