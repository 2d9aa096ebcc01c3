"""``gcgeo map`` and ``gcgeo isochrone`` driven with click's CliRunner on small OSM files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from osmxml import OSMBuilder, hand_grid, lonlat

from gcgeo.cli import main

REMOTE_TAG = re.compile(r"<script[^>]*\bsrc=[\"']?https?://|<link[^>]*\bhref=[\"']?https?://")


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


@pytest.fixture
def street(tmp_path: Path) -> Path:
    """One straight 1 km residential street along x, nodes every 100 m."""
    b = OSMBuilder()
    for i in range(11):
        b.node(f"A{i}", 100.0 * i, 0.0)
    b.way([f"A{i}" for i in range(11)], highway="residential", name="钢城大街")
    return b.write(tmp_path / "street.osm")


def _unescape_js(page: str) -> str:
    """The page with the \\uXXXX escapes of folium's embedded JSON decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_map_offline_html_and_png(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.html"
    res = run(
        "map", "--osm", str(town), "--category", "kindergarten", "--offline", "--png",
        "--json", "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["facilities"] == 2 and summary["png"] == str(tmp_path / "k.png")
    page = out.read_text(encoding="utf-8")
    assert not REMOTE_TAG.search(page)
    assert "0–5 分钟 min" in page and "© OpenStreetMap contributors" in page
    assert (tmp_path / "k.png").read_bytes()[:4] == b"\x89PNG"
    # every kept street is within a 5-minute walk of a kindergarten in this small town
    km = summary["street_km_by_band"]
    assert km["0–5 分钟 min"] > 0 and km["不可达 unreachable"] == 0


def test_map_bad_inputs_exit_2_without_output(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.html"
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--tiles", "tianditu",
              "--out", str(out))  # fmt: skip
    assert res.exit_code == 2 and "--tianditu-key" in res.output and not out.exists()
    out.write_text("keep")
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--out", str(out))
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert out.read_text() == "keep"


def test_isochrone_geojson_hand_lengths(street: Path, tmp_path: Path) -> None:
    out = tmp_path / "iso.geojson"
    lon, lat = lonlat(0, 0)
    # at 1 m/s: 1 min = 60 m and 3 min = 180 m of street, east from the west end
    res = run(
        "isochrone", "--osm", str(street), "--at", f"{lon},{lat}", "--minutes", "3,1",
        "--speed", "1.0", "--buffer", "10", "--json", "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    bands = json.loads(res.output)["bands"]
    assert [b["minutes"] for b in bands] == [1.0, 3.0]
    assert [b["reached_street_m"] for b in bands] == pytest.approx([60.0, 180.0], abs=0.05)
    # 60 x 20 m plus the round ends (a 32-gon of radius 10: 312.14 m²)
    assert bands[0]["area_m2"] == pytest.approx(1200 + 312.14, abs=2)
    gdf = gpd.read_file(out)
    assert gdf.crs.to_epsg() == 4326 and gdf["minutes"].tolist() == [1.0, 3.0]


def test_isochrone_html_and_errors(street: Path, tmp_path: Path) -> None:
    lon, lat = lonlat(500, 0)
    out = tmp_path / "iso.html"
    res = run("isochrone", "--osm", str(street), "--at", f"{lon},{lat}", "--offline",
              "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "步行等时圈 Walking isochrones" in page or "\\u6b65\\u884c" in page
    assert not REMOTE_TAG.search(page)
    for args, needle in [
        (["--at", "36.0"], "LON,LAT"),
        (["--at", f"{lon},{lat}", "--minutes", "0,5"], "positive"),
        (["--at", f"{lon},{lat}", "--out", str(tmp_path / "x.txt")], ".geojson or .html"),
        (["--at", "117.0,36.9"], "--max-snap"),
    ]:
        full = ["isochrone", "--osm", str(street), *args]
        if "--out" not in args:
            full += ["--out", str(tmp_path / "y.geojson")]
        res = run(*full)
        assert res.exit_code == 2 and needle in res.output, (args, res.output)
    assert not (tmp_path / "y.geojson").exists()


def test_edge_minutes_beyond_search_limit_is_over_15() -> None:
    """Segments past the search limit are '> 15 min' when the limit covers 15 minutes."""
    from types import SimpleNamespace

    import numpy as np

    from gcgeo.coverage import edge_minutes
    from gcgeo.maps import minute_band

    net = SimpleNamespace(edge_u=np.array([0, 1, 2]), edge_v=np.array([1, 2, 3]))
    dist = np.array([0.0, 660.0, np.inf, np.inf])  # 0 and 10 minutes at 1.1 m/s, then beyond
    m = edge_minutes(net, dist, 1.1, limit=990.0)
    assert m[0] == 0.0 and m[1] == 10.0
    assert minute_band(m).tolist() == [0, 1, 3]
    # a short search limit (500 m < a 15-minute walk) cannot tell: unreachable band
    assert minute_band(edge_minutes(net, dist, 1.1, limit=500.0)).tolist() == [0, 1, 4]
    # nothing reached at all (no facility): unreachable
    none = np.full(4, np.inf)
    assert minute_band(edge_minutes(net, none, 1.1, limit=990.0)).tolist() == [4, 4, 4]


def test_map_draws_district_areas_and_layers_override(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.html"
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--offline", "--json",
              "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["areas"] == {"zones": 5, "wings": 3, "renewal_areas": 3}
    page = out.read_text(encoding="utf-8")
    for name in ("五区 Strategy zones", "一体两翼 Body and two wings", "更新片区 Renewal areas"):
        assert name in page
    # labels (JSON-escaped inside the map script) and the dashed-draft legend entry
    assert "中优" in _unescape_js(page) and "草案/估计 draft/estimate" in page
    assert "设施 Facilities" in page
    # a replacement zones file wins; names in it are escaped
    from gcgeo.layers import load_layer

    zones = load_layer("zones").iloc[[0]].copy()
    zones["name_zh"] = "<b>新中心</b>"
    own = tmp_path / "layers"
    own.mkdir()
    zones.to_file(own / "zones.geojson", driver="GeoJSON")
    out2 = tmp_path / "k2.html"
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--layers", str(own),
              "--json", "--out", str(out2))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["areas"]["zones"] == 1
    page = out2.read_text(encoding="utf-8")
    text = _unescape_js(page)
    assert "<b>新中心" not in text and "&lt;b&gt;新中心&lt;/b&gt;" in text
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--no-areas", "--json",
              "--out", str(tmp_path / "k3.html"))  # fmt: skip
    assert json.loads(res.output)["areas"] == {}
    res = run("map", "--osm", str(town), "--category", "kindergarten", "--layers",
              str(tmp_path / "nope"), "--out", str(tmp_path / "k4.html"))  # fmt: skip
    assert res.exit_code == 2 and "--layers" in res.output


def test_maps_of_the_synthetic_demo_say_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gcgeo.cli import main
    from gcgeo.demo import DEMO_LABEL, GOV_SEAT, write_demo_osm

    osm = tmp_path / "demo.osm"
    write_demo_osm(osm)
    run = CliRunner().invoke
    html_out = tmp_path / "k.html"
    r = run(
        main,
        [
            "map",
            "--osm",
            str(osm),
            "--category",
            "kindergarten",
            "--offline",
            "--no-cache",
            "--out",
            str(html_out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert DEMO_LABEL in html_out.read_text(encoding="utf-8")
    at = f"{GOV_SEAT[0]},{GOV_SEAT[1]}"
    iso_html, iso_json = tmp_path / "iso.html", tmp_path / "iso.geojson"
    for out in (iso_html, iso_json):
        r = run(main, ["isochrone", "--osm", str(osm), "--at", at, "--no-cache", "--out", str(out)])
        assert r.exit_code == 0, r.output
        assert DEMO_LABEL in out.read_text(encoding="utf-8")
