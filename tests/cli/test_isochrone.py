"""``gcgeo isochrone``: hand-checked lengths on a straight street, HTML and errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from osmxml import lonlat

from cli.cliutil import REMOTE_TAG, run_strict


def test_isochrone_geojson_hand_lengths(street: Path, tmp_path: Path) -> None:
    out = tmp_path / "iso.geojson"
    lon, lat = lonlat(0, 0)
    # at 1 m/s: 1 min = 60 m and 3 min = 180 m of street, east from the west end
    res = run_strict(
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
    res = run_strict("isochrone", "--osm", str(street), "--at", f"{lon},{lat}", "--offline",
              "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "步行等时圈 Walking isochrones" in page or "\\u6b65\\u884c" in page
    assert "\\u8d77\\u70b9 Start" in page and f"[{lat}, {lon}]" in page  # 起点: the start
    assert not REMOTE_TAG.search(page)
    for args, needle in [
        (["--at", "36.0"], "LON,LAT"),
        (["--at", f"{lon},{lat}", "--minutes", "0,5"], "positive"),
        (["--at", f"{lon},{lat}", "--out", str(tmp_path / "x.txt")], ".geojson, .gpkg or .html"),
        (["--at", "117.0,36.9"], "--max-snap"),
    ]:
        full = ["isochrone", "--osm", str(street), *args]
        if "--out" not in args:
            full += ["--out", str(tmp_path / "y.geojson")]
        res = run_strict(*full)
        assert res.exit_code == 2 and needle in res.output, (args, res.output)
    assert not (tmp_path / "y.geojson").exists()


def test_isochrone_offline_by_default_and_online_note(street: Path, tmp_path: Path) -> None:
    from cli.cliutil import _unescape_js
    from gcgeo.cli.options import ONLINE_NOTE

    lon, lat = lonlat(500, 0)
    base = ["isochrone", "--osm", str(street), "--at", f"{lon},{lat}", "--no-cache"]
    default = tmp_path / "default.html"
    assert run_strict(*base, "--out", str(default)).exit_code == 0
    page = default.read_text(encoding="utf-8")
    assert not REMOTE_TAG.search(page) and ONLINE_NOTE not in _unescape_js(page)
    online = tmp_path / "online.html"
    assert run_strict(*base, "--online", "--out", str(online)).exit_code == 0
    page = online.read_text(encoding="utf-8")
    assert REMOTE_TAG.search(page) and ONLINE_NOTE in _unescape_js(page)
