"""Tests for gcgeo.layers and gcgeo.layer_checks, the shipped layers/ data and the
``gcgeo layers list`` / ``check`` commands (register: test_register.py, picture:
test_layer_plot.py, areas: test_by_area.py)."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from layerdata import BEICHENGZIPO, LAYERS, ROOT, SEAT, SONGJIAZHUANG, STATION
from shapely.geometry import Point, shape

from gcgeo import LayerError
from gcgeo.cli import main
from gcgeo.crs import DEFAULT_CRS, convert_geometry_frame
from gcgeo.layers import (
    CONFIDENCE_LEVELS,
    FACILITY_CATEGORIES,
    LAYER_NAMES,
    check_layers_dir,
    layer_summary,
    load_layer,
    shipped_layers_dir,
    validate_layer,
)

GCJ_SOURCE = LAYERS / "source" / "boundary_370117_gcj02.geojson"


def raw(name: str) -> dict:
    return json.loads((LAYERS / f"{name}.geojson").read_text(encoding="utf-8"))


def metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(DEFAULT_CRS)


def write_fc(path: Path, features: list[dict], crs: str | None = None) -> Path:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------- one-step reference
def _one_step_gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """The classic one-step approximation wgs = gcj - delta(gcj), written independently
    (scalar math after the eviltransform/coordtransform formulas) to cross-check the
    shipped boundary; it is good to ~1-2 m, which does not matter for an IoU check."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100 + 2 * x + 3 * y + 0.2 * y**2 + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20 * math.sin(6 * x * math.pi) + 20 * math.sin(2 * x * math.pi)) * 2 / 3
    dlat += (20 * math.sin(y * math.pi) + 40 * math.sin(y / 3 * math.pi)) * 2 / 3
    dlat += (160 * math.sin(y / 12 * math.pi) + 320 * math.sin(y * math.pi / 30)) * 2 / 3
    dlon = 300 + x + 2 * y + 0.1 * x**2 + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20 * math.sin(6 * x * math.pi) + 20 * math.sin(2 * x * math.pi)) * 2 / 3
    dlon += (20 * math.sin(x * math.pi) + 40 * math.sin(x / 3 * math.pi)) * 2 / 3
    dlon += (150 * math.sin(x / 12 * math.pi) + 300 * math.sin(x / 30 * math.pi)) * 2 / 3
    rad = math.radians(lat)
    magic = 1 - ee * math.sin(rad) ** 2
    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlon = dlon * 180 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon - dlon, lat - dlat


# --------------------------------------------------------------------- shipped data
def test_boundary_area_and_seat() -> None:
    b = load_layer("boundary")
    assert b.crs.to_epsg() == 4326
    area_km2 = metric(b).area.sum() / 1e6
    assert 503 <= area_km2 <= 509  # shared README: ≈ 506 km² after conversion
    assert b.geometry.iloc[0].contains(Point(SEAT))
    assert b["adcode"].iloc[0] == "370117"
    assert b["name_zh"].iloc[0] == "钢城区"
    assert b["confidence"].iloc[0] == "estimate"


def test_boundary_matches_independent_one_step_conversion() -> None:
    src = json.loads(GCJ_SOURCE.read_text(encoding="utf-8"))
    polys = []
    for poly in src["coordinates"]:
        rings = [[_one_step_gcj_to_wgs(x, y) for x, y in ring] for ring in poly]
        polys.append(shapely.Polygon(rings[0], rings[1:]))
    ref = gpd.GeoSeries([shapely.MultiPolygon(polys)], crs=4326).to_crs(DEFAULT_CRS).iloc[0]
    mine = metric(load_layer("boundary")).geometry.iloc[0]
    iou = mine.intersection(ref).area / mine.union(ref).area
    assert iou > 0.99
    # and the conversion moved it: the raw GCJ-02 outline fits clearly worse
    gcj = gpd.GeoSeries([shape(src)], crs=4326).to_crs(DEFAULT_CRS).iloc[0]
    assert gcj.intersection(ref).area / gcj.union(ref).area < iou - 0.02


def test_boundary_matches_shared_original_if_present() -> None:
    shared = ROOT.parent / "shared" / "data" / "gangcheng" / "boundary_370117_gcj02.geojson"
    if not shared.exists():
        pytest.skip(f"shared data file {shared} is absent on this machine")
    assert json.loads(shared.read_text()) == json.loads(GCJ_SOURCE.read_text())


def test_every_feature_has_source_and_confidence() -> None:
    for name in LAYER_NAMES:
        for f in raw(name)["features"]:
            props = f["properties"]
            assert isinstance(props.get("source"), str) and len(props["source"]) > 20, name
            assert props.get("confidence") in CONFIDENCE_LEVELS, name
            assert props.get("name_zh") and props.get("name_en"), name


def test_zones_five_codes_no_overlap_inside_boundary() -> None:
    z = metric(load_layer("zones"))
    assert list(z["code"]) == ["center", "east", "west", "south", "north"]
    assert list(z["name_zh"]) == ["中优", "东拓", "西改", "南控", "北融"]
    assert set(z["confidence"]) == {"draft"}
    assert z["strategy"].str.len().min() > 30
    for a, b in itertools.combinations(z.geometry, 2):
        assert a.intersection(b).area < 1.0  # m²: shared edges only
    outline = metric(load_layer("boundary")).geometry.iloc[0]
    for g in z.geometry:
        assert g.difference(outline).area < 10.0
    seat = gpd.GeoSeries([Point(SEAT)], crs=4326).to_crs(DEFAULT_CRS).iloc[0]
    assert z.set_index("code").geometry["center"].contains(seat)


def test_wings_and_renewal_areas() -> None:
    w = load_layer("wings")
    assert list(w["code"]) == ["old_town", "hsr_new_district", "southern_new_town"]
    assert w.set_index("code").geometry["hsr_new_district"].contains(Point(STATION))
    r = metric(load_layer("renewal_areas")).set_index("code")
    assert set(r.index) == {"nanchengzipo", "beichengzipo", "songjiazhuang"}
    assert set(r["type"]) == {"renewal_area"}
    est = gpd.GeoSeries([Point(BEICHENGZIPO), Point(SONGJIAZHUANG)], crs=4326).to_crs(DEFAULT_CRS)
    assert r.geometry["beichengzipo"].contains(est.iloc[0])
    assert r.geometry["songjiazhuang"].contains(est.iloc[1])
    # 南城子坡 lies directly south of 北城子坡, not overlapping it
    n, b = r.geometry["nanchengzipo"].centroid, r.geometry["beichengzipo"].centroid
    assert abs(n.x - b.x) < 50 and n.y < b.y
    assert not r.geometry["nanchengzipo"].intersects(r.geometry["beichengzipo"])


def test_planned_facilities_locations_only_where_known() -> None:
    f = load_layer("planned_facilities").set_index("id")
    assert f.index.is_unique
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in f.index)
    located = f[~f.geometry.isna()]
    assert set(located.index) == {"gangcheng_station", "gangcheng_station_transport_hub"}
    assert (located["location"] == "estimate").all()
    assert (located["confidence"] == "estimate").all()
    st = located.geometry["gangcheng_station"]
    assert (st.x, st.y) == pytest.approx(STATION)
    assert (f.loc[f.geometry.isna(), "location"] == "unknown").all()
    cats = f["category"]
    assert cats.dropna().isin(FACILITY_CATEGORIES).all()
    assert pd.isna(cats["district_cdc"]) and pd.isna(cats["innovation_centre"])
    assert cats["gangcheng_station"] == "rail_station"
    zh = set(f["name_zh"])
    for name in ("区中医医院", "区疾控中心", "汶源卫生院", "里辛卫生院", "颜庄卫生院", "辛庄卫生院",
                 "文体中心", "科创中心", "幸福食堂", "钢城站"):  # fmt: skip
        assert name in zh


# --------------------------------------------------------------------- location / override
def test_shipped_dir_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert shipped_layers_dir().resolve() == LAYERS.resolve()
    monkeypatch.setenv("GCGEO_LAYERS_DIR", str(tmp_path / "nope"))
    with pytest.raises(LayerError, match="GCGEO_LAYERS_DIR"):
        shipped_layers_dir()
    for p in LAYERS.glob("*.geojson"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.setenv("GCGEO_LAYERS_DIR", str(tmp_path))
    assert shipped_layers_dir() == tmp_path


def test_planner_folder_overrides_file_by_file(tmp_path: Path) -> None:
    fc = raw("zones")
    fc["features"] = fc["features"][:2]
    fc["features"][0]["properties"]["name_en"] = "Centre (planner)"
    write_fc(tmp_path / "zones.geojson", fc["features"])
    z = load_layer("zones", tmp_path)
    assert len(z) == 2 and z["name_en"].iloc[0] == "Centre (planner)"
    assert Path(z.attrs["source_path"]).parent == tmp_path
    assert len(load_layer("wings", tmp_path)) == 3  # not in the folder: shipped
    summary = layer_summary(tmp_path).set_index("layer")
    assert summary.loc["zones", "origin"] == "override"
    assert summary.loc["wings", "origin"] == "shipped"


def test_a_layer_is_read_once_until_its_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gcgeo.layers as layers_mod

    reads: list[str] = []
    real = layers_mod.read_layer_file
    monkeypatch.setattr(
        layers_mod,
        "read_layer_file",
        lambda p: (Path(p).name == "zones.geojson" and reads.append(str(p))) or real(p),
    )
    fc = raw("zones")
    write_fc(tmp_path / "zones.geojson", fc["features"][:2])
    a = load_layer("zones", tmp_path)
    a.loc[0, "name_en"] = "changed by the caller"
    b = load_layer("zones", tmp_path)
    assert len(reads) == 1  # the second load: no read
    assert b["name_en"].iloc[0] == fc["features"][0]["properties"]["name_en"]  # a copy
    assert Path(b.attrs["source_path"]).parent == tmp_path
    # the planner edits the file: read again, and a broken edit is refused, not cached over
    write_fc(tmp_path / "zones.geojson", fc["features"][:3])
    assert len(load_layer("zones", tmp_path)) == 3 and len(reads) == 2
    write_fc(tmp_path / "zones.geojson", [_zone_feature("z", _square(*SEAT), name_zh="")])
    with pytest.raises(LayerError, match="no name_zh"):
        load_layer("zones", tmp_path)


def test_load_layer_unknown_name_and_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="Unknown layer 'roads'"):
        load_layer("roads")
    with pytest.raises(LayerError, match="does not exist"):
        load_layer("zones", tmp_path / "missing")


# --------------------------------------------------------------------- validation
def _zone_feature(code: str, geom: dict, **props) -> dict:
    p = {"code": code, "name_zh": "测试", "name_en": "Test", "strategy": "test strategy",
         "source": "unit test", "confidence": "draft"}  # fmt: skip
    p.update(props)
    return {"type": "Feature", "properties": p, "geometry": geom}


def _square(lon: float, lat: float, d: float = 0.005) -> dict:
    return shapely.geometry.mapping(shapely.box(lon - d, lat - d, lon + d, lat + d))


def test_shipped_layers_validate_clean() -> None:
    for name in LAYER_NAMES:
        gdf = gpd.read_file(LAYERS / f"{name}.geojson")
        assert validate_layer(gdf, name) == [], name


def test_missing_name_zh_and_bad_confidence() -> None:
    gdf = gpd.GeoDataFrame(
        {"code": ["a", "b"], "name_zh": [None, "乙"], "name_en": ["A", "B"],
         "strategy": ["s", "s"], "source": ["x", "x"], "confidence": ["draft", "sure"]},
        geometry=[shape(_square(*SEAT)), shape(_square(*SONGJIAZHUANG, 0.001))], crs=4326,
    )  # fmt: skip
    problems = validate_layer(gdf, "zones")
    assert any("'a'" in p and "no name_zh" in p for p in problems)
    assert any("'b'" in p and "confidence 'sure'" in p for p in problems)


def test_missing_column_reported() -> None:
    gdf = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shape(_square(*SEAT))], crs=4326)
    (p,) = validate_layer(gdf, "wings")
    assert "lacks column(s) name_zh, name_en, source, confidence" in p


def test_self_intersecting_polygon_rejected() -> None:
    lon, lat = SEAT
    bowtie = shapely.Polygon(
        [(lon, lat), (lon + 0.01, lat + 0.01), (lon + 0.01, lat), (lon, lat + 0.01)]
    )
    gdf = gpd.GeoDataFrame(
        {"code": ["bow"], "name_zh": ["蝴蝶"], "name_en": ["Bow"], "source": ["t"],
         "confidence": ["draft"]}, geometry=[bowtie], crs=4326,
    )  # fmt: skip
    (p,) = validate_layer(gdf, "wings")
    assert "'bow'" in p and "Self-intersection" in p and "MultiPolygon" in p


def test_repairable_polygon_warns_and_loads(tmp_path: Path) -> None:
    # shell touching itself at one vertex (an inverted hole): make_valid gives a Polygon
    lon, lat = SEAT
    k = 0.001
    ring = [(0, 0), (10, 0), (10, 10), (5, 10), (7, 5), (3, 5), (5, 10), (0, 10), (0, 0)]
    poly = shapely.Polygon([(lon + x * k, lat + y * k) for x, y in ring])
    assert not poly.is_valid
    write_fc(tmp_path / "wings.geojson", [_zone_feature("touch", shapely.geometry.mapping(poly))])
    with pytest.warns(UserWarning, match="repaired"):
        w = load_layer("wings", tmp_path)
    g = w.geometry.iloc[0]
    assert g.is_valid and g.geom_type == "Polygon"
    assert g.area == pytest.approx(90 * k * k, rel=1e-6)  # 100 minus the 10-unit triangle


def test_wrong_crs_3857_and_cgcs2000(tmp_path: Path) -> None:
    zones = gpd.read_file(LAYERS / "zones.geojson")
    p = tmp_path / "zones.geojson"
    zones.to_crs(3857).to_file(p, driver="GeoJSON")
    problems = validate_layer(gpd.read_file(p), "zones")
    assert any("EPSG:3857" in m and "not WGS-84" in m for m in problems)
    feats = raw("zones")["features"]
    write_fc(p, feats, crs="urn:ogc:def:crs:EPSG::4490")
    problems = validate_layer(gpd.read_file(p), "zones")
    assert any("EPSG:4490" in m and "not WGS-84" in m for m in problems)


def test_projected_numbers_labelled_wgs84() -> None:
    zones = metric(load_layer("zones")).set_crs(4326, allow_override=True)
    problems = validate_layer(zones, "zones")
    assert any("not degrees" in m for m in problems)


def _gcj_of(name: str) -> gpd.GeoDataFrame:
    """A shipped layer shifted into GCJ-02 but still labelled WGS-84 (the classic mistake)."""
    return convert_geometry_frame(load_layer(name), "wgs84", "gcj02")


def test_gcj02_boundary_labelled_wgs84_detected() -> None:
    problems = validate_layer(_gcj_of("boundary"), "boundary")
    assert len(problems) == 1
    assert "looks like GCJ-02" in problems[0] and "'gcj02', 'wgs84'" in problems[0]


def test_gcj02_layer_falling_off_the_district_detected() -> None:
    # a wing drawn as the whole district outline, in GCJ-02: it sticks out ~500 m
    b = _gcj_of("boundary")
    gdf = gpd.GeoDataFrame(
        {"code": ["all"], "name_zh": ["全区"], "name_en": ["All"], "source": ["t"],
         "confidence": ["draft"]}, geometry=b.geometry.values, crs=4326,
    )  # fmt: skip
    (p,) = validate_layer(gdf, "wings")
    assert "looks like GCJ-02" in p
    far = int(re.search(r"up to (\d+) m", p).group(1))
    assert 300 < far < 900


def test_feature_outside_boundary_reported() -> None:
    far_away = shape(_square(117.5, 36.0, 0.01))  # west of the district
    gdf = gpd.GeoDataFrame(
        {"code": ["x"], "name_zh": ["外"], "name_en": ["Out"], "source": ["t"],
         "confidence": ["draft"]}, geometry=[far_away], crs=4326,
    )  # fmt: skip
    (p,) = validate_layer(gdf, "wings")
    assert "'x'" in p and "100% of its area outside" in p


def test_facility_point_rules() -> None:
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b", "c"], "name_zh": ["甲", "乙", "丙"], "name_en": ["A", "B", "C"],
         "category": ["hospital", "spaceport", None], "status": ["planned"] * 3,
         "location": ["estimate", "unknown", "unknown"], "source": ["t"] * 3,
         "confidence": ["draft"] * 3},
        geometry=[None, None, Point(SEAT)], crs=4326,
    )  # fmt: skip
    problems = validate_layer(gdf, "planned_facilities")
    assert any("'a'" in p and "no geometry" in p for p in problems)
    assert any("'b'" in p and "'spaceport'" in p for p in problems)
    assert any("'c'" in p and "location 'unknown'" in p for p in problems)
    assert len(problems) == 3


def test_load_layer_raises_listing_problems(tmp_path: Path) -> None:
    write_fc(tmp_path / "zones.geojson", [_zone_feature("z", _square(*SEAT), name_zh="")])
    with pytest.raises(LayerError, match=r"no name_zh.*gcgeo layers check"):
        load_layer("zones", tmp_path)


# --------------------------------------------------------------------- CLI
def _broken_dir(tmp_path: Path) -> Path:
    d = tmp_path / "planner"
    d.mkdir()
    lon, lat = SEAT
    bowtie = {"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.01, lat + 0.01],
              [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]]}  # fmt: skip
    write_fc(d / "zones.geojson", [
        _zone_feature("center", _square(*SEAT)),
        _zone_feature("east", bowtie),
        _zone_feature("west", _square(*SONGJIAZHUANG, 0.001), name_zh=None),
    ])  # fmt: skip
    _gcj_of("boundary").to_file(d / "boundary.geojson", driver="GeoJSON")
    load_layer("wings").to_crs(3857).to_file(d / "wings.geojson", driver="GeoJSON")
    return d


def test_cli_check_reports_each_problem_and_exits_2(tmp_path: Path) -> None:
    d = _broken_dir(tmp_path)
    res = CliRunner().invoke(main, ["layers", "check", str(d)])
    assert res.exit_code == 2, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 4
    assert any(ln.startswith("boundary.geojson:") and "looks like GCJ-02" in ln for ln in lines)
    assert any(ln.startswith("wings.geojson:") and "EPSG:3857" in ln for ln in lines)
    assert any(ln.startswith("zones.geojson:") and "'east'" in ln and "Self-intersection" in ln
               for ln in lines)  # fmt: skip
    assert any(ln.startswith("zones.geojson:") and "'west'" in ln and "no name_zh" in ln
               for ln in lines)  # fmt: skip
    assert "Traceback" not in res.output


def test_cli_check_ok_and_bad_dirs(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    for p in LAYERS.glob("*.geojson"):
        (good / p.name).write_bytes(p.read_bytes())
    res = CliRunner().invoke(main, ["layers", "check", str(good)])
    assert res.exit_code == 0 and res.stdout.startswith("OK")
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(main, ["layers", "check", str(empty)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "holds none of" in res.stderr
    res = CliRunner().invoke(main, ["layers", "check", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.stderr
    (empty / "zones.geojson").write_text("this is not json")
    res = CliRunner().invoke(main, ["layers", "check", str(empty)])
    assert res.exit_code == 2 and "could not be read" in res.stdout


def test_cli_list(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["layers", "list"])
    assert res.exit_code == 0, res.output
    for name in LAYER_NAMES:
        assert name in res.stdout
    assert "五区" in res.stdout and "draft 5" in res.stdout and "estimate 1" in res.stdout
    res = CliRunner().invoke(main, ["layers", "list", "--layers", str(_broken_dir(tmp_path))])
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: Layer 'boundary'") and res.stderr.count("\n") == 1


def test_check_layers_dir_function(tmp_path: Path) -> None:
    checked, problems, _ = check_layers_dir(_broken_dir(tmp_path))
    assert checked == ["boundary.geojson", "zones.geojson", "wings.geojson"]
    assert len(problems) == 4


def test_moved_names_still_importable_from_layers() -> None:
    from gcgeo import by_area, layer_checks, layer_plot, register
    from gcgeo.layers import (
        REGISTER_FILE,
        assign_areas,
        coverage_by_area,
        load_register,
        plot_layers,
        validate_register,
    )

    assert assign_areas is by_area.assign_areas
    assert coverage_by_area is by_area.coverage_by_area
    assert load_register is register.load_register
    assert plot_layers is layer_plot.plot_layers
    assert validate_register is layer_checks.validate_register
    assert REGISTER_FILE == "renewal_register.csv"
    with pytest.raises(ImportError):
        from gcgeo.layers import no_such_name  # noqa: F401
