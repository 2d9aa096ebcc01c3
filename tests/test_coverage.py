"""Origins, coverage shares, population weights and completeness, by hand."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from osmxml import X0, Y0, hand_grid, lonlat

from gcgeo import InputError
from gcgeo.columns import COMPLETENESS, dist_col, min_col, reached_col, tier_col
from gcgeo.coverage import compute_coverage, grid_origins, origins_from_layer
from gcgeo.study import open_study

# P1..P6 and their hand-computed walks (see tests/osmxml.py for the town):
# kindergarten (K at (150,20), K2 at (300,310)), primary school S at (0,250).
POINTS = [(50, 190), (190, -30), (300, 0), (310, 290), (0, 250)]
KG = [330, 90, 170, 30, 420]
SCHOOL = [110, 470, 550, 450, 100]
POP = [100, 200, 300, 400, 1000]


@pytest.fixture
def study(tmp_path: Path):
    return open_study(hand_grid().write(tmp_path / "grid.osm"))


def _layer(pop: bool = True) -> gpd.GeoDataFrame:
    data = {"name": [f"P{i + 1}" for i in range(len(POINTS))]}
    if pop:
        data["people"] = POP
    return gpd.GeoDataFrame(
        data, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in POINTS], crs="EPSG:4548"
    )


def test_coverage_by_hand(study) -> None:
    cats = study.catalogue.select("kindergarten,primary_school")
    origins = origins_from_layer(_layer(pop=False), study.network.crs)
    res = compute_coverage(study.network, study.facilities, cats, origins)
    o = res.origins
    assert o[dist_col("kindergarten")].to_numpy() == pytest.approx(KG, abs=0.05)
    assert o[dist_col("primary_school")].to_numpy() == pytest.approx(SCHOOL, abs=0.05)
    assert o[min_col("kindergarten")].to_numpy() == pytest.approx(np.array(KG) / 1.1 / 60, abs=0.01)
    assert o[reached_col("kindergarten")].tolist() == [False, True, True, True, False]
    assert o[reached_col("primary_school")].tolist() == [True, True, False, True, True]
    assert o[COMPLETENESS].tolist() == [0.5, 1.0, 0.5, 1.0, 0.5]
    assert o[tier_col(5)].tolist() == [0, 1, 1, 1, 0]
    assert o[tier_col(10)].tolist() == [1, 2, 1, 2, 1]
    s = res.summary.set_index("category")
    assert s.loc["kindergarten", "covered"] == 3 and s.loc["kindergarten", "share"] == 0.6
    assert s.loc["primary_school", "share"] == 0.8
    assert s.loc["kindergarten", "facilities"] == 2
    assert list(o.index) == list(origins.index)
    assert res.meta["origin_rule"] == "layer"


def test_population_weighted(study) -> None:
    cats = study.catalogue.select("kindergarten,primary_school")
    origins = origins_from_layer(_layer(), study.network.crs, population="people")
    s = compute_coverage(study.network, study.facilities, cats, origins).summary.set_index(
        "category"
    )
    assert s.loc["kindergarten", "share"] == pytest.approx((200 + 300 + 400) / 2000)
    assert s.loc["primary_school", "share"] == pytest.approx((100 + 200 + 400 + 1000) / 2000)
    assert s.loc["kindergarten", "weighted_by"] == "population"


def test_speed_changes_minutes_not_metres(study) -> None:
    cats = study.catalogue.select("kindergarten")
    origins = origins_from_layer(_layer(False), study.network.crs)
    res = compute_coverage(study.network, study.facilities, cats, origins, speed_mps=0.8)
    assert res.origins[min_col("kindergarten")].iloc[1] == pytest.approx(90 / 0.8 / 60, abs=0.01)
    with pytest.raises(InputError, match="walking speed"):
        compute_coverage(study.network, study.facilities, cats, origins, speed_mps=0)


def test_category_without_facilities(study) -> None:
    cats = study.catalogue.select("clinic")
    origins = origins_from_layer(_layer(False), study.network.crs)
    res = compute_coverage(study.network, study.facilities, cats, origins)
    assert res.summary["share"].iloc[0] == 0.0
    assert res.origins[dist_col("clinic")].isna().all()


def test_grid_rules(study) -> None:
    net = study.network
    every = grid_origins(net, cell=100, rule="all")
    # the network spans x 0..300, y 0..300: cell centres at 50, 150, 250 each way
    assert len(every) == 9 and every.attrs["origin_rule"] == "all"
    assert sorted(set((every["x"] - X0).round(1))) == [50, 150, 250]
    near = grid_origins(net, cell=100, rule="street", max_snap=40)
    # only centres within 40 m of a street: none (each centre is 50 m from the nearest street)
    assert len(near) == 0
    near = grid_origins(net, cell=100, rule="street", max_snap=60)
    assert len(near) == 9
    assert grid_origins(net, cell=100).attrs["origin_rule"] == "street"  # no residential areas


def test_grid_residential_rule(tmp_path: Path) -> None:
    b = hand_grid()
    # a residential landuse polygon over the block x 100..200, y 100..200 (closed way)
    for k, (x, y) in enumerate([(110, 110), (190, 110), (190, 190), (110, 190)]):
        b.node(f"R{k}", x, y)
    b.way(["R0", "R1", "R2", "R3", "R0"], landuse="residential")
    st = open_study(b.write(tmp_path / "res.osm"))
    o = grid_origins(st.network, cell=100)
    assert o.attrs["origin_rule"] == "residential"
    assert len(o) == 1 and o["x"].iloc[0] - X0 == pytest.approx(150, abs=0.01)


@pytest.mark.parametrize("layout", ["buildings", "on-cell-edges", "one-large-area"])
def test_grid_residential_rule_equals_testing_every_cell(study, layout: str) -> None:
    """Drawing only the cells near each building keeps exactly the cells whose square
    meets residential land: the same as testing every cell against their union."""
    net = study.network
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = net.bounds
    cell = 25.0
    if layout == "buildings":  # small squares anywhere, some overlapping
        cx, cy = rng.uniform(x0, x1, 40), rng.uniform(y0, y1, 40)
        geoms = shapely.box(cx - 4, cy - 3, cx + 4, cy + 3)
    elif layout == "on-cell-edges":  # corners and sides exactly on the cells' squares
        every = grid_origins(net, cell=cell, rule="all")
        pick = rng.choice(len(every), 30, replace=False)
        ax = every["x"].to_numpy()[pick] - cell / 2  # the squares' own corners, as drawn
        ay = every["y"].to_numpy()[pick] - cell / 2
        geoms = np.concatenate(
            [
                shapely.points(ax[:10], ay[:10]),  # a corner: meets the four squares there
                shapely.box(ax[10:20] - 5, ay[10:20] + 5, ax[10:20], ay[10:20] + 10),
                shapely.box(ax[20:] + cell, ay[20:] + 3, ax[20:] + cell + 4, ay[20:] + 6),
            ]
        )
    else:  # one polygon over most of the grid: the slack boxes hold more cells than the grid
        geoms = np.array([shapely.Polygon([(x0, y0), (x1, y0 + 40), (x0 + 60, y1)])])
    residential = gpd.GeoSeries(geoms, crs=net.crs)
    o = grid_origins(net.replace(residential=residential), cell=cell, rule="residential")
    every = grid_origins(net, cell=cell, rule="all")
    boxes = shapely.box(
        every["x"] - cell / 2, every["y"] - cell / 2, every["x"] + cell / 2, every["y"] + cell / 2
    )
    want = shapely.intersects(boxes, shapely.union_all(geoms[~shapely.is_empty(geoms)]))
    assert 0 < want.sum() < len(every)
    np.testing.assert_array_equal(o[["x", "y"]].to_numpy(), every[["x", "y"]].to_numpy()[want])


def test_grid_boundary_and_bad_cell(study) -> None:
    lo, hi = lonlat(0, 0), lonlat(200, 200)
    poly = shapely.box(lo[0], lo[1], hi[0], hi[1])
    o = grid_origins(study.network, cell=100, boundary=poly, rule="all")
    assert len(o) == 4
    with pytest.raises(InputError, match="cell size"):
        grid_origins(study.network, cell=-5)
    with pytest.raises(InputError, match="origin rule"):
        grid_origins(study.network, rule="houses")
    with pytest.raises(InputError, match="residential"):
        grid_origins(study.network, rule="residential")


def test_population_column_checked(study) -> None:
    with pytest.raises(InputError, match="population column 'pop'"):
        origins_from_layer(_layer(), study.network.crs, population="pop")
    bad = _layer().assign(people=[1, 2, -3, 4, 5])
    with pytest.raises(InputError, match="negative"):
        origins_from_layer(bad, study.network.crs, population="people")


def test_search_limit_rule() -> None:
    from gcgeo.coverage import search_limit

    assert search_limit(300, 1.1) == pytest.approx(990.0)  # a 15-minute walk at 1.1 m/s
    assert search_limit(1000, 1.1) == 2000.0  # twice the threshold
    assert search_limit(300, 0.8) == pytest.approx(720.0)
    assert search_limit(300, 1.1, limit=5000) == 5000.0


def test_search_limit_cuts_far_origins(study) -> None:
    cats = study.catalogue.select("kindergarten")
    origins = origins_from_layer(_layer(False), study.network.crs)
    res = compute_coverage(study.network, study.facilities, cats, origins, limit=200)
    # only P2 (90 m), P4 (170 m) and P5 (30 m) lie within a 200 m search
    assert res.origins[dist_col("kindergarten")].notna().tolist() == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert res.summary["search_limit_m"].iloc[0] == 200
