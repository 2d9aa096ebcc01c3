"""``--dem`` and ``--walk-function`` on the commands that measure walking: a 1 km street
climbing 10 % eastwards, values by hand from Tobler's formula, outputs and refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
from osmxml import X0, Y0, lonlat

from cli.cliutil import run, run_strict

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402


def tobler_share(s: float) -> float:
    """Tobler's speed on grade s over his speed on the level, computed from W = 6e^(-3.5|s+.05|)."""
    return math.exp(-3.5 * abs(s + 0.05)) / math.exp(-3.5 * 0.05)


@pytest.fixture
def ramp(tmp_path: Path) -> Path:
    """z = 100 + 0.1 x (x metres east of X0), 10 m pixels, in EPSG:4548 like the test towns."""
    import numpy as np

    w, h, px = 140, 40, 10.0
    x0, y0 = X0 - 200, Y0 + 200
    cols = x0 + (np.arange(w) + 0.5) * px
    data = np.tile(100.0 + 0.1 * (cols - X0), (h, 1)).astype("float32")
    path = tmp_path / "ramp.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:4548", transform=from_origin(x0, y0, px, px)) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def _tables(tmp_path: Path) -> tuple[Path, Path]:
    lon, lat = lonlat(200, 0)
    fac = tmp_path / "fac.csv"
    fac.write_text(f"name,category,lon,lat\n新建幼儿园,kindergarten,{lon},{lat}\n", "utf-8")
    rows = ["id,lon,lat"] + [
        f"P{x},{lonlat(x, 0)[0]},{lonlat(x, 0)[1]}" for x in (0, 400, 450, 700)
    ]
    pts = tmp_path / "pts.csv"
    pts.write_text("\n".join(rows) + "\n", "utf-8")
    return fac, pts


def test_reach_times_the_walk_uphill_and_downhill(street: Path, ramp: Path, tmp_path: Path) -> None:
    """From x = 0 the walk to the kindergarten at x = 200 climbs 10 %: 200 m at Tobler's pace,
    200 / 0.7047 = 283.8 flat-equivalent metres; from x = 400 it descends 10 %, where Tobler's
    pace equals the level one (|-0.1 + 0.05| = 0.05), so 200 m. The threshold is the 5-minute
    tier at 1 m/s: 300 m."""
    fac, pts = _tables(tmp_path)
    args = ["reach", "--osm", str(street), "--points", str(pts), "--category", "kindergarten",
            "--no-osm-facilities", "--facilities", str(fac), "--speed", "1.0",
            "--out", str(tmp_path / "r.csv"), "--no-cache"]  # fmt: skip
    r = run_strict(*args, "--dem", str(ramp))
    assert r.exit_code == 0, r.output
    import pandas as pd

    t = pd.read_csv(tmp_path / "r.csv").set_index("id")
    up = 200 / tobler_share(0.1)
    assert t.loc["P0", "distance_m"] == pytest.approx(up, rel=1e-3)
    assert t.loc["P0", "walk_min"] == pytest.approx(up / 60, abs=0.05)  # written to 0.1 min
    assert t.loc["P400", "distance_m"] == pytest.approx(200.0, abs=0.05)
    assert t.loc["P450", "distance_m"] == pytest.approx(250.0, abs=0.05)
    assert t.loc["P700", "distance_m"] == pytest.approx(500.0, abs=0.05)
    assert t["threshold_m"].unique().tolist() == [300.0]
    assert t["within_threshold"].tolist() == [True, True, True, False]
    # the elderly's function slows the climb more: exponent 3.5 × 1.5
    r = run_strict(*args, "--dem", str(ramp), "--walk-function", "tobler_elderly", "--overwrite")
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "r.csv").set_index("id")
    k = 3.5 * 1.5
    share = math.exp(-k * 0.15) / math.exp(-k * 0.05)
    assert t.loc["P0", "distance_m"] == pytest.approx(200 / share, rel=1e-3)
    # flat ignores the DEM: the street's length
    r = run_strict(*args, "--dem", str(ramp), "--walk-function", "flat", "--overwrite")
    t = pd.read_csv(tmp_path / "r.csv").set_index("id")
    assert t.loc["P0", "distance_m"] == pytest.approx(200.0, abs=0.05)


def test_coverage_with_a_dem_reports_it(street: Path, ramp: Path, tmp_path: Path) -> None:
    fac, pts = _tables(tmp_path)
    out = tmp_path / "cov"
    r = run_strict(
        "coverage", "--osm", str(street), "--origins", str(pts), "--categories", "kindergarten",
        "--no-osm-facilities", "--facilities", str(fac), "--speed", "1.0", "--dem", str(ramp),
        "--json", "--out", str(out), "--no-cache",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    dem = run_json["study"]["dem"]
    assert dem["function"] == "tobler" and dem["missing_samples"] == 0
    assert dem["grade_max"] == pytest.approx(0.1, abs=1e-6)
    assert "dem" in run_json["timings_s"]
    assert run_json["meta"]["threshold_basis"] == "time"
    assert run_json["meta"]["distance_unit"].startswith("flat-equivalent metres")
    origins = gpd.read_file(out / "origins.gpkg", layer="origins").set_index("id")
    assert origins.loc["P0", "walk_kindergarten_min"] == pytest.approx(
        200 / tobler_share(0.1) / 60, abs=0.01
    )
    assert origins.loc["P0", "dist_kindergarten_m"] == pytest.approx(
        200 / tobler_share(0.1), abs=0.01
    )
    assert bool(origins.loc["P450", "reach_kindergarten"]) is True
    assert bool(origins.loc["P700", "reach_kindergarten"]) is False


def test_isochrone_on_slopes_is_the_points_catchment(
    street: Path, ramp: Path, tmp_path: Path
) -> None:
    """One minute at 1 m/s from x = 500: walks towards the point from the west climb 10 %
    (60 × 0.7047 = 42.3 m of street), from the east they descend at the level pace (60 m)."""
    lon, lat = lonlat(500, 0)
    r = run_strict(
        "isochrone", "--osm", str(street), "--at", f"{lon},{lat}", "--minutes", "1",
        "--speed", "1.0", "--buffer", "10", "--json", "--out", str(tmp_path / "iso.geojson"),
        "--dem", str(ramp), "--no-cache",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    band = json.loads(r.output)["bands"][0]
    assert band["reached_street_m"] == pytest.approx(60 * tobler_share(0.1) + 60, abs=0.05)


def test_map_with_a_dem_draws_grades(street: Path, ramp: Path, tmp_path: Path) -> None:
    fac, _ = _tables(tmp_path)
    out = tmp_path / "map.html"
    r = run_strict(
        "map", "--osm", str(street), "--category", "kindergarten", "--no-osm-facilities",
        "--facilities", str(fac), "--dem", str(ramp), "--offline", "--no-areas",
        "--gpkg", str(tmp_path / "m.gpkg"), "--out", str(out), "--no-cache",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert "街道坡度 Street grade" in page and "≥ 10 %" in page
    streets = gpd.read_file(tmp_path / "m.gpkg", layer="streets_minutes")
    assert streets["grade_pct"].tolist() == pytest.approx([10.0] * len(streets), abs=0.05)


def test_dem_refusals_are_one_sentence(street: Path, ramp: Path, tmp_path: Path) -> None:
    base = ["coverage", "--osm", str(street), "--out", str(tmp_path / "o"), "--no-cache"]
    r = run(*base, "--dem", str(ramp), "--threshold-basis", "distance")
    assert r.exit_code == 2
    assert "--threshold-basis distance cannot be used with --dem" in r.output
    assert "Traceback" not in r.output
    r = run(*base, "--walk-function", "tobler")
    assert r.exit_code == 2 and "--walk-function needs --dem" in r.output
    r = run(*base, "--dem", str(tmp_path / "none.tif"))
    assert r.exit_code == 2 and "none.tif" in r.output and "check --dem" in r.output
    far = tmp_path / "far.tif"
    import numpy as np

    with rasterio.open(far, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4548", transform=from_origin(X0 + 90_000, Y0, 10, 10)) as dst:  # fmt: skip
        dst.write(np.zeros((10, 10), dtype="float32"), 1)
    r = run(*base, "--dem", str(far))
    assert r.exit_code == 2 and "has no elevation for" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()
    # an output may not overwrite a DEM given as input
    r = run("reach", "--osm", str(street), "--points", str(_tables(tmp_path)[1]), "--category",
            "kindergarten", "--dem", str(ramp), "--out", str(ramp), "--overwrite")  # fmt: skip
    assert r.exit_code == 2 and ramp.stat().st_size > 1000
