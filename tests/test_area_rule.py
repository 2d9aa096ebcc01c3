"""The one point-in-area rule (gcgeo.coverage.point_in_area) and its two users.

``gcgeo coverage`` (coverage_by_area) and ``gcgeo scenario`` (compare with --areas) once
tested membership differently (``intersects`` in WGS-84 vs ``within`` in the network CRS)
and disagreed about an origin 0.39 m from a zone border of the demo. These tests put an
origin exactly on a border two zones share and check that both count the same origins
per zone and that the tie goes to the first zone in the layer's order.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from gridosm import TOWN_NODES, X0, Y0, lonlat, points, two_blocks

from gcgeo import InputError
from gcgeo.by_area import assign_areas, coverage_by_area
from gcgeo.cli import main
from gcgeo.coverage import AREA_CRS, AREA_RULE, compute_coverage, point_in_area
from gcgeo.layers import load_layer
from gcgeo.scenario import area_membership, compare, parse_scenario
from gcgeo.study import Study, open_study

# Two zones split by the line x = 220 m through the town: no town node lies on it.
# West of it: N0*, N1* (10), N20, A, E = 13 nodes; east: N3*, N4* (10), B = 11.
BORDER_X = 220.0
BORDER_VERTEX = (BORDER_X, 200.0)  # shared by both zones: the "border" origin sits on it
WEST = [(-100, -100), (BORDER_X, -100), BORDER_VERTEX, (BORDER_X, 600), (-100, 600)]
EAST = [(BORDER_X, -100), (550, -100), (550, 600), (BORDER_X, 600), BORDER_VERTEX]


# --------------------------------------------------------------------------- the rule itself
def _squares(order: tuple[str, ...] = ("a", "b")) -> gpd.GeoDataFrame:
    """Unit squares a = [0, 100] x [0, 100] and b = [100, 200] x [0, 100] (EPSG:4548)."""
    boxes = {"a": shapely.box(X0, Y0, X0 + 100, Y0 + 100),
             "b": shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100)}  # fmt: skip
    return gpd.GeoDataFrame({"code": list(order)}, geometry=[boxes[c] for c in order], crs=AREA_CRS)


def _pts(*xy: tuple[float, float] | None) -> gpd.GeoSeries:
    geoms = [None if p is None else shapely.Point(X0 + p[0], Y0 + p[1]) for p in xy]
    return gpd.GeoSeries(geoms, crs=AREA_CRS)


def test_inside_boundary_and_ties_go_to_the_first_area() -> None:
    pts = _pts((50, 50), (150, 50), (100, 50), (0, 50), (100, 0), (300, 50), None)
    # inside a, inside b, on the shared edge, on a's outer edge, shared corner, outside, none
    assert point_in_area(pts, _squares(("a", "b"))).tolist() == [0, 1, 0, 0, 0, -1, -1]
    # the tie follows the layer's order, not the codes or the geometry
    assert point_in_area(pts, _squares(("b", "a"))).tolist() == [1, 0, 0, 1, 0, -1, -1]


def test_overlapping_areas_first_wins_and_each_point_counts_once() -> None:
    big = shapely.box(X0 - 50, Y0 - 50, X0 + 250, Y0 + 150)
    areas = pd.concat(
        [_squares(), gpd.GeoDataFrame({"code": ["big"]}, geometry=[big], crs=AREA_CRS)]
    )
    pos = point_in_area(_pts((50, 50), (150, 50), (240, 140)), areas.reset_index(drop=True))
    assert pos.tolist() == [0, 1, 2]
    o_idx, a_idx = area_membership(
        points([(50, 50), (150, 50), (240, 140)]),
        areas.reset_index(drop=True).assign(name_zh="区", name_en="area"),
    )
    assert o_idx.tolist() == [0, 1, 2] and a_idx.tolist() == [0, 1, 2]


def test_any_input_crs_same_answer() -> None:
    pts = _pts((50, 50), (150, 50), (199, 99), (300, 50))
    areas = _squares()
    want = point_in_area(pts, areas)
    assert point_in_area(pts.to_crs(4326), areas.to_crs(4326)).tolist() == want.tolist()
    assert point_in_area(pts.to_crs(3857), areas).tolist() == want.tolist()
    # polygons stand for their representative point
    cells = gpd.GeoSeries(pts.buffer(5).values, crs=AREA_CRS)
    assert point_in_area(cells, areas).tolist() == want.tolist()
    assert "first" in AREA_RULE and AREA_CRS in AREA_RULE and "boundary" in AREA_RULE


def test_rule_refuses_missing_crs_and_unprojectable_points() -> None:
    with pytest.raises(InputError, match="no CRS"):
        point_in_area(gpd.GeoSeries([shapely.Point(X0, Y0)]), _squares())
    with pytest.raises(InputError, match="no CRS"):
        point_in_area(_pts((1, 1)), gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]))
    with pytest.raises(InputError, match="GeoDataFrame"):
        point_in_area([shapely.Point(X0, Y0)], _squares())  # type: ignore[arg-type]
    nan = gpd.GeoSeries([shapely.Point(np.nan, 36.0)], crs=4326)
    with pytest.raises(InputError, match="NaN or infinite"):
        point_in_area(nan, _squares())


def test_vectorised_over_many_points() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(-10, 210, (200_000, 2))
    pos = point_in_area(gpd.GeoSeries(shapely.points(xy + [X0, Y0]), crs=AREA_CRS), _squares())
    inside = (xy[:, 1] >= 0) & (xy[:, 1] <= 100)
    want = np.where(inside & (xy[:, 0] >= 0) & (xy[:, 0] <= 100), 0, -1)
    want = np.where(inside & (xy[:, 0] > 100) & (xy[:, 0] <= 200), 1, want)
    assert (pos == want).all()


# --------------------------------------------------------------------------- coverage vs scenario
def _zone_feature(code: str, ring: list[tuple[float, float]]) -> dict:
    coords = [list(lonlat(x, y)) for x, y in [*ring, ring[0]]]
    return {
        "type": "Feature",
        "properties": {"code": code, "name_zh": f"{code}区", "name_en": code,
                       "strategy": "test zone split at x = 220 m", "source": "unit test",
                       "confidence": "draft"},
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }  # fmt: skip


def _zones_dir(tmp_path: Path, order: tuple[str, ...]) -> Path:
    d = tmp_path / f"layers_{'_'.join(order)}"
    d.mkdir()
    rings = {"west": WEST, "east": EAST}
    fc = {"type": "FeatureCollection", "features": [_zone_feature(c, rings[c]) for c in order]}
    (d / "zones.geojson").write_text(json.dumps(fc), encoding="utf-8")
    return d


def _border_origin(layers_dir: Path) -> tuple[float, float]:
    """The shared vertex as the rule sees it: the zones' vertex projected to AREA_CRS."""
    xy = shapely.get_coordinates(load_layer("zones", layers_dir).to_crs(AREA_CRS).geometry.values)
    target = np.array([X0 + BORDER_VERTEX[0], Y0 + BORDER_VERTEX[1]])
    return tuple(xy[np.argmin(np.hypot(*(xy - target).T))])


@pytest.fixture
def town(tmp_path: Path) -> Study:
    return open_study(two_blocks().write(tmp_path / "town.osm"))


def _origins(border: tuple[float, float]) -> gpd.GeoDataFrame:
    b = two_blocks()
    town_pts = points([b.xy(k) for k in TOWN_NODES], name=TOWN_NODES)
    extra = gpd.GeoDataFrame({"name": ["border"]}, geometry=[shapely.Point(border)], crs=AREA_CRS)
    return gpd.GeoDataFrame(pd.concat([town_pts, extra], ignore_index=True), crs=AREA_CRS)


@pytest.mark.parametrize(("order", "want"), [
    (("west", "east"), {"west": 14, "east": 11}),
    (("east", "west"), {"east": 12, "west": 13}),
])  # fmt: skip
def test_border_origin_counted_once_alike_by_coverage_and_scenario(
    town: Study, tmp_path: Path, order: tuple[str, ...], want: dict[str, int]
) -> None:
    d = _zones_dir(tmp_path, order)
    zones = load_layer("zones", d)
    origins = _origins(_border_origin(d))
    border = zones.to_crs(AREA_CRS).geometry
    pt = origins.geometry.iloc[-1]
    assert border.iloc[0].touches(pt) and border.iloc[1].touches(pt)  # on both, in neither
    cats = town.catalogue.select(["kindergarten"])

    # gcgeo coverage: coverage_by_area on the coverage result
    result = compute_coverage(town.network, town.facilities, cats, origins)
    assert assign_areas(result.origins, d)["zone"].iloc[-1] == order[0]
    by_area = coverage_by_area(result.origins, cats, d)
    cov = by_area[by_area["area_layer"] == "zones"].set_index("code")
    # gcgeo scenario: compare with the zones as --areas (an empty scenario: before == after)
    res = compare(
        town.network, town.facilities, cats, origins, parse_scenario('name = "无"'), zones
    )
    sc = res.delta[res.delta["area_code"] != "all"].set_index("area_code")

    assert cov["origins"].to_dict() == sc["origins"].to_dict() == want
    assert list(cov.index) == list(sc.index) == list(order)
    for code in order:
        assert sc.loc[code, "before_share"] == pytest.approx(
            cov.loc[code, "share_kindergarten"], abs=1e-4
        )


def test_cli_coverage_and_scenario_agree_on_the_border_origin(tmp_path: Path) -> None:
    d = _zones_dir(tmp_path, ("west", "east"))
    origins_path = tmp_path / "origins.gpkg"
    _origins(_border_origin(d)).to_file(origins_path, driver="GPKG")
    osm = two_blocks().write(tmp_path / "town.osm")
    (tmp_path / "none.toml").write_text('name = "无"\n', encoding="utf-8")
    common = ["--osm", str(osm), "--origins", str(origins_path), "--categories", "kindergarten"]
    r = CliRunner().invoke(
        main, ["coverage", *common, "--layers", str(d), "--out", str(tmp_path / "c")]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["scenario", str(tmp_path / "none.toml"), *common, "--areas",
                                  str(d / "zones.geojson"), "--out", str(tmp_path / "s")])  # fmt: skip
    assert r.exit_code == 0, r.output
    cov = pd.read_csv(tmp_path / "c" / "coverage_by_area.csv", encoding="utf-8-sig")
    cov = cov[cov["area_layer"] == "zones"].set_index("code")["origins"].to_dict()
    sc = pd.read_csv(tmp_path / "s" / "delta.csv", encoding="utf-8-sig")
    sc = sc[sc["area_code"] != "all"].set_index("area_code")["origins"].to_dict()
    assert cov == sc == {"west": 14, "east": 11}
