"""Synthetic demo network (gcgeo.demo) and ``gcgeo demo``."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from conftest import GC_DATA

from gcgeo.cli import main
from gcgeo.demo import DEMO_LABEL, DEMO_SEED, demo_osm_text, write_demo_osm
from gcgeo.demo_run import DEMO_FILES, DEMO_HOOK_FILES, DemoContext, run_demo
from gcgeo.network import build_network
from gcgeo.osm import read_osm
from gcgeo.study import open_study


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    p = tmp_path_factory.mktemp("demo") / "demo.osm"
    info = write_demo_osm(p)
    return p, info


def test_deterministic_bytes(tmp_path: Path, demo_file) -> None:
    path, _ = demo_file
    again = write_demo_osm(tmp_path / "again.osm", seed=DEMO_SEED)
    assert (tmp_path / "again.osm").read_bytes() == path.read_bytes()
    assert again.nodes == demo_file[1].nodes
    other, _ = demo_osm_text(seed=1)
    assert other.encode() != path.read_bytes()


def test_size_and_labels(demo_file) -> None:
    path, info = demo_file
    assert 5000 <= info.nodes <= 15000
    root = ET.parse(path).getroot()
    nodes = root.findall("node")
    ways = root.findall("way")
    assert len(nodes) == info.nodes and len(ways) == info.ways
    assert DEMO_LABEL in root.get("generator")
    assert DEMO_LABEL in path.read_text(encoding="utf-8").split("\n", 2)[1]  # header comment
    tagged = [e for e in [*nodes, *ways] if e.find("tag") is not None]
    for e in tagged:
        tags = {t.get("k"): t.get("v") for t in e.findall("tag")}
        if e.tag == "way" or tags.get("highway") != "turning_circle":
            assert tags.get("gcgeo:synthetic") == "yes", tags
        if "name" in tags:
            assert tags["name"].startswith("示例 Demo "), tags
    # every node a way refers to exists
    ids = {int(n.get("id")) for n in nodes}
    assert all(int(nd.get("ref")) in ids for w in ways for nd in w.findall("nd"))


def test_read_by_gcgeo_and_by_osmnx(demo_file) -> None:
    import osmnx as ox

    path, info = demo_file
    osm = read_osm(path)
    net = build_network(osm)
    assert net.report["components"] == 1
    g = ox.graph_from_xml(path, simplify=False, retain_all=True)
    # street segments as unordered OSM node pairs, from both parsers
    ours = {
        frozenset(p)
        for p in zip(
            net.nodes["osmid"].to_numpy()[net.edge_u].tolist(),
            net.nodes["osmid"].to_numpy()[net.edge_v].tolist(),
            strict=True,
        )
    }
    theirs = {frozenset((u, v)) for u, v, d in g.edges(data=True) if "highway" in d}
    assert ours == theirs
    # lengths agree to 0.5 % (osmnx: spherical great circle; gcgeo: planar EPSG:4548)
    osmid = net.nodes["osmid"].to_numpy()
    for k in range(0, len(net.edges), 97):
        u, v = int(osmid[net.edge_u[k]]), int(osmid[net.edge_v[k]])
        lx = min(d["length"] for d in g.get_edge_data(u, v).values())
        assert net.edge_length[k] == pytest.approx(lx, rel=5e-3)


def test_dead_ends_match_what_was_built(demo_file) -> None:
    path, info = demo_file
    assert info.dead_ends > 5
    net = build_network(read_osm(path))
    degree = np.diff(net.graph.indptr)
    assert int((degree == 1).sum()) == info.dead_ends
    # every dead end is a tagged turning circle
    root = ET.parse(path).getroot()
    circles = {
        int(n.get("id"))
        for n in root.findall("node")
        if any(t.get("v") == "turning_circle" for t in n.findall("tag"))
    }
    assert set(net.nodes["osmid"].to_numpy()[degree == 1].tolist()) == circles


def test_gated_ways_kept_by_default_dropped_without_private(demo_file) -> None:
    path, info = demo_file
    osm = read_osm(path)
    private_ids = {w.id for w in osm.ways if w.tags.get("access") == "private"}
    assert len(private_ids) == info.gated_ways > 0
    kept = build_network(osm)
    assert kept.report["private_ways_kept"] == info.gated_ways
    assert private_ids <= set(kept.edges["way_id"].tolist())
    assert kept.edges["private"].any()
    dropped = build_network(osm, include_private=False)
    assert dropped.report["private_ways_kept"] == 0
    assert dropped.report["dropped_by_reason"] == {"access=private": info.gated_ways}
    assert not private_ids & set(dropped.edges["way_id"].tolist())
    assert dropped.n_nodes < kept.n_nodes
    # gate nodes sit on the entrance ways
    root = ET.parse(path).getroot()
    gates = [
        n
        for n in root.findall("node")
        if any(t.get("k") == "barrier" and t.get("v") == "gate" for t in n.findall("tag"))
    ]
    assert len(gates) == 2 * info.gated_compounds
    assert {int(g.get("id")) for g in gates} <= set(kept.nodes["osmid"].tolist())


def test_facilities_and_residential(demo_file) -> None:
    path, info = demo_file
    s = open_study(path)
    counts = s.facilities["category"].value_counts().to_dict()
    assert counts["kindergarten"] == info.facilities["kindergarten"]
    assert counts["bus_stop"] == info.facilities["bus_stop"]
    assert counts["rail_station"] == 1
    # the planned facilities with a known location are among them (station hub -> bus_stop)
    hub = s.facilities[s.facilities["name"].str.contains("钢城站综合客运枢纽")]
    assert list(hub["category"]) == ["bus_stop"]
    assert counts["primary_school"] == info.facilities["primary_school"]
    assert counts["middle_school"] == info.facilities["middle_school"]
    assert s.network.residential is not None
    assert len(s.network.residential) == info.blocks["open"] + info.blocks["gated"]


def test_all_coordinates_inside_district(demo_file) -> None:
    """Rough containment: the boundary file is GCJ-02 (≈530 m off), so allow 1 km."""
    boundary = GC_DATA / "boundary_370117_gcj02.geojson"
    if not boundary.exists():
        pytest.skip(f"shared data file {boundary} is absent on this machine")
    path, _ = demo_file
    gcj = gpd.read_file(boundary).to_crs("EPSG:4548")
    area = shapely.union_all(gcj.geometry.values).buffer(1000)
    root = ET.parse(path).getroot()
    lon = np.array([float(n.get("lon")) for n in root.findall("node")])
    lat = np.array([float(n.get("lat")) for n in root.findall("node")])
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(lon, lat)
    assert shapely.contains_xy(area, x, y).all()
    # and the generated core is near the government seat estimate (117.8145 E, 36.0581 N)
    assert lon.min() < 117.8145 < lon.max() and lat.min() < 36.0581 < lat.max()


# --- run_demo / gcgeo demo -------------------------------------------------------------


def test_cli_demo_writes_labelled_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert DEMO_LABEL in r.output
    files = sorted(p for p in out.rglob("*") if p.is_file())
    names = {p.relative_to(out).as_posix() for p in files}
    assert {*DEMO_FILES.values(), *DEMO_HOOK_FILES.values()} <= names
    reports = {n for n in names if n.startswith("reports/")}
    areas = (
        [f"zone_{c}" for c in ("center", "east", "west", "south", "north")]
        + [f"wing_{c}" for c in ("old_town", "hsr_new_district", "southern_new_town")]
        + [f"renewal_{c}" for c in ("nanchengzipo", "beichengzipo", "songjiazhuang")]
    )
    assert reports == {"reports/index.html", "reports/print.html"} | {
        f"reports/{a}.html" for a in areas
    } | {f"reports/maps/{a}.png" for a in areas}
    assert len(names) == len(DEMO_FILES) + len(DEMO_HOOK_FILES) - 1 + len(reports)
    for p in files:  # every output says it is synthetic (the PNGs in their footer pixels)
        if p.parent.name != "maps":
            assert DEMO_LABEL.encode("utf-8") in p.read_bytes(), p.name
    for p in [out / "map.html", *out.glob("reports/*.html")]:
        text = p.read_text(encoding="utf-8")
        assert DEMO_LABEL in re.search(r"<title>(.*?)</title>", text, re.S).group(1), p.name
        # offline: no scripts or stylesheets from the web, no tiles
        assert not re.search(r"<(script|link)[^>]+(src|href)=['\"]?https?:", text), p.name
        assert "tile.openstreetmap.org" not in text, p.name
        assert "© OpenStreetMap contributors" in text, p.name
    by_area = pd.read_csv(out / "coverage_by_area.csv", encoding="utf-8-sig")
    assert (by_area["data_note"] == DEMO_LABEL).all()
    assert by_area.set_index("code").loc["center", "origins"] > 0
    page = (out / "map.html").read_text(encoding="utf-8")
    for layer in ("五区 Strategy zones", "一体两翼 Body and two wings", "更新片区 Renewal areas",
                  "规划设施 Planned facilities", "生活圈完整度 Life-circle completeness"):  # fmt: skip
        assert layer in page, layer
    hub = "钢城站综合客运枢纽"  # the planned hub, a located planned facility (JSON-escaped)
    assert json.dumps(hub)[1:-1] in page
    png = out / "map.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert (cov["data_note"] == DEMO_LABEL).all()
    assert len(cov) == 13 and cov["share"].between(0, 1).all()
    origins = gpd.read_file(out / "origins.gpkg", layer="origins")
    assert (origins["data_note"] == DEMO_LABEL).all()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["label"] == DEMO_LABEL and run["synthetic_demo"] is True
    assert run["meta"]["origin_rule"] == "residential"
    # the demo file is an ordinary OSM file: `gcgeo coverage` on it gives the same table
    r = CliRunner().invoke(
        main, ["coverage", "--osm", str(out / DEMO_FILES["osm"]), "--out", str(tmp_path / "c")]
    )
    assert r.exit_code == 0, r.output
    cov2 = pd.read_csv(tmp_path / "c" / "coverage.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(cov.drop(columns=["data_note"]), cov2)


def test_demo_rerun_replaces_own_folder_but_not_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--out", str(out)]).exit_code == 0
    r = runner.invoke(main, ["demo", "--out", str(out), "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["demo"]["seed"] == 7
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "coverage.csv").write_text("my own work\n", encoding="utf-8")
    r = runner.invoke(main, ["demo", "--out", str(foreign)])
    assert r.exit_code == 2 and "--overwrite" in r.stderr
    assert (foreign / "coverage.csv").read_text(encoding="utf-8") == "my own work\n"
    assert runner.invoke(main, ["demo", "--out", str(foreign), "--overwrite"]).exit_code == 0
    # the default hooks' outputs (maps, reports) are protected the same way
    other = tmp_path / "other"
    (other / "reports").mkdir(parents=True)
    (other / "reports" / "index.html").write_text("my report\n", encoding="utf-8")
    r = runner.invoke(main, ["demo", "--out", str(other)])
    assert r.exit_code == 2 and "index.html" in r.stderr and "--overwrite" in r.stderr
    assert (other / "reports" / "index.html").read_text(encoding="utf-8") == "my report\n"


def test_run_demo_hooks_and_cache(tmp_path: Path) -> None:
    seen: list[DemoContext] = []

    def map_hook(ctx: DemoContext) -> dict[str, Path]:
        seen.append(ctx)
        p = ctx.out_dir / "map.html"
        p.write_text(f"<html><title>{ctx.label}</title></html>", encoding="utf-8")
        return {"map": p}

    cache = tmp_path / "cache"
    files = run_demo(tmp_path / "d1", cache=cache, hooks=[map_hook])
    assert set(files) == {"osm", "coverage", "origins", "map", "run"}
    assert seen[0].result.meta["origin_rule"] == "residential"
    assert seen[0].study.meta["cache"]["hit"] is False
    for p in files.values():
        assert DEMO_LABEL.encode("utf-8") in p.read_bytes(), p
    run = json.loads(files["run"].read_text(encoding="utf-8"))
    assert run["outputs"]["map"] == str(files["map"])
    files2 = run_demo(tmp_path / "d2", cache=cache, hooks=[map_hook])
    assert seen[1].study.meta["cache"]["hit"] is True
    assert files2["coverage"].read_bytes() == files["coverage"].read_bytes()


def test_demo_dem_is_synthetic_and_the_elderly_compare(tmp_path: Path) -> None:
    """run_demo(dem=True): the DEM holds demo_elevation at its pixel centres and says it is
    synthetic; slopes_elderly.csv has the district, every zone and renewal area per
    category, labelled; a slope only ever slows a climb, so on the old town's ridge the
    elderly reach fewer bus stops with slopes than on the flat."""
    rasterio = pytest.importorskip("rasterio")
    import numpy as np
    import pandas as pd
    import pyproj

    from gcgeo import settings
    from gcgeo.demo import DEMO_LABEL
    from gcgeo.demo_dem import demo_elevation
    from gcgeo.demo_run import run_demo
    from gcgeo.demo_town import GOV_SEAT

    files = run_demo(tmp_path / "d", cache=False, hooks=[], dem=True)
    with rasterio.open(files["dem"]) as src:
        assert src.tags()["synthetic"] == "yes" and src.tags()["note"] == DEMO_LABEL
        z = src.read(1)
        rows, cols = np.array([3, 100, 250]), np.array([7, 200, 390])
        xs, ys = rasterio.transform.xy(src.transform, rows, cols, offset="center")
    sx, sy = pyproj.Transformer.from_crs(settings.WGS84, settings.DEFAULT_CRS,
                                         always_xy=True).transform(*GOV_SEAT)  # fmt: skip
    want = demo_elevation(np.asarray(xs) - sx, np.asarray(ys) - sy)
    np.testing.assert_allclose(z[rows, cols], want, atol=1e-3)  # float32 storage
    t = pd.read_csv(files["slopes"])
    assert set(t["data_note"]) == {DEMO_LABEL}
    assert set(t["persona"]) == {"elderly"} and set(t["walk_function"]) == {"tobler_elderly"}
    codes = set(t.loc[t["area_layer"] == "renewal_areas", "code"])
    assert codes == {"nanchengzipo", "beichengzipo", "songjiazhuang"}
    assert set(t.loc[t["area_layer"] == "zones", "code"]) >= {"center", "east", "north", "south"}
    assert len(t[t["area_layer"] == "district"]) == t["category"].nunique()
    row = t[(t["code"] == "beichengzipo") & (t["category"] == "bus_stop")].iloc[0]
    assert row["share_slopes"] < row["share_flat"]
    assert row["change_pp"] == pytest.approx(
        (row["share_slopes"] - row["share_flat"]) * 100, abs=0.06
    )
    run = json.loads(files["run"].read_text(encoding="utf-8"))
    assert run["dem"]["synthetic"] is True and run["dem"]["files"] == ["gangcheng_demo_dem.tif"]
    assert files["slopes_map"].read_text(encoding="utf-8").count(DEMO_LABEL) >= 1
