"""``gcgeo map``: offline HTML, PNG, district areas and errors (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.cliutil import REMOTE_TAG, _unescape_js, run_strict
from gcgeo.cli import main


def test_map_offline_html_and_png(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.html"
    res = run_strict(
        "map", "--osm", str(town), "--category", "kindergarten", "--offline", "--png",
        "--json", "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["facilities"] == 2 and summary["png"] == str(tmp_path / "k.png")
    page = out.read_text(encoding="utf-8")
    assert not REMOTE_TAG.search(page)
    assert "0–5 分钟 min" in page and "© OpenStreetMap contributors" in page
    # the map names its category and threshold: page title, title box and streets layer
    what = "幼儿园/托儿所 Kindergarten / nursery 步行时间 walking time (标准 threshold ≤ 300 m)"
    assert _unescape_js(page).count(what) >= 3
    assert (tmp_path / "k.png").read_bytes()[:4] == b"\x89PNG"
    # every kept street is within a 5-minute walk of a kindergarten in this small town
    km = summary["street_km_by_band"]
    assert km["0–5 分钟 min"] > 0 and km["不可达 unreachable"] == 0


def test_map_bad_inputs_exit_2_without_output(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "k.html"
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--tiles", "tianditu",
              "--out", str(out))  # fmt: skip
    assert res.exit_code == 2 and "--tianditu-key" in res.output and not out.exists()
    out.write_text("keep")
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--out", str(out))
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert out.read_text() == "keep"


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
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--offline", "--json",
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
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--layers", str(own),
              "--json", "--out", str(out2))  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["areas"]["zones"] == 1
    page = out2.read_text(encoding="utf-8")
    text = _unescape_js(page)
    assert "<b>新中心" not in text and "&lt;b&gt;新中心&lt;/b&gt;" in text
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--no-areas", "--json",
              "--out", str(tmp_path / "k3.html"))  # fmt: skip
    assert json.loads(res.output)["areas"] == {}
    res = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--layers",
              str(tmp_path / "nope"), "--out", str(tmp_path / "k4.html"))  # fmt: skip
    assert res.exit_code == 2 and "--layers" in res.output


def test_maps_of_the_synthetic_demo_say_so(tmp_path: Path) -> None:

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


def test_map_is_offline_by_default_and_online_pages_say_so(town: Path, tmp_path: Path) -> None:
    from gcgeo.cli.options import ONLINE_NOTE

    base = ["map", "--osm", str(town), "--category", "kindergarten", "--no-cache"]
    default = tmp_path / "default.html"
    assert run_strict(*base, "--out", str(default)).exit_code == 0
    page = default.read_text(encoding="utf-8")
    assert not REMOTE_TAG.search(page)  # no http(s) script or stylesheet
    assert ONLINE_NOTE not in _unescape_js(page)
    online = tmp_path / "online.html"
    assert run_strict(*base, "--online", "--out", str(online)).exit_code == 0
    page = online.read_text(encoding="utf-8")
    assert REMOTE_TAG.search(page) and "tile.openstreetmap.org" in page
    assert ONLINE_NOTE in _unescape_js(page)


def test_map_threshold_basis_time_colours_at_the_walkers_speed(town: Path, tmp_path: Path):
    """Distance basis: the standard's pace colours the streets whatever --speed says; time
    basis: the walker's own minutes, so a slower walker has fewer streets within 5 minutes."""

    def km(*extra: str) -> dict:
        out = tmp_path / f"m{len(list(tmp_path.iterdir()))}.html"
        r = run_strict("map", "--osm", str(town), "--category", "kindergarten", "--json",
                       "--out", str(out), *extra)  # fmt: skip
        assert r.exit_code == 0, r.output
        return json.loads(r.output)["street_km_by_band"]

    adult, slow = km(), km("--speed", "0.8")
    slow_time = km("--speed", "0.8", "--threshold-basis", "time")
    first = next(iter(adult))
    assert slow == adult
    assert slow_time[first] < adult[first]
    assert sum(slow_time.values()) == pytest.approx(sum(adult.values()))
