"""``gcgeo coverage``: outputs, JSON, origin layers and boundary errors (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cli.cliutil import _assert_usage_error, run


def test_coverage_writes_outputs(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "cov"
    r = run("coverage", "--osm", str(town), "--categories", "kindergarten,primary_school", "--cell", "100",
            "--origin-rule", "all", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert list(summary["category"]) == ["kindergarten", "primary_school"]
    assert set(summary.columns) >= {"threshold_m", "origins", "covered", "share", "origin_rule"}
    assert (summary["origins"] == 9).all() and (summary["origin_rule"] == "all").all()
    origins = gpd.read_file(out / "origins.gpkg", layer="origins")
    assert len(origins) == 9
    assert {"dist_kindergarten_m", "dist_primary_school_m", "lc_completeness"} <= set(
        origins.columns
    )
    # the test town lies in the drafted 中优 centre zone and 老城 old town (117.812 E, 36.057 N)
    assert set(origins["zone"]) == {"center"} and set(origins["wing"]) == {"old_town"}
    by_area = pd.read_csv(out / "coverage_by_area.csv", encoding="utf-8-sig").set_index("code")
    assert by_area.loc["center", "origins"] == 9 and by_area.loc["east", "origins"] == 0
    assert by_area.loc["center", "share_kindergarten"] == pytest.approx(
        summary["share"].iloc[0], abs=1e-4
    )
    assert by_area.loc["center", "name_zh"] == "中优"
    run_meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run_meta["meta"]["origin_rule"] == "all"
    # again without --overwrite: refused, files untouched
    before = (out / "coverage.csv").read_bytes()
    _assert_usage_error(run("coverage", "--osm", str(town), "--out", str(out)), "--overwrite")
    assert (out / "coverage.csv").read_bytes() == before


def test_coverage_json_and_bad_category(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "cov"
    _assert_usage_error(
        run("coverage", "--osm", str(town), "--categories", "park,nope", "--out", str(out)),
        "'nope'",
    )
    assert not out.exists()
    r = run(
        "coverage",
        "--osm",
        str(town),
        "--categories",
        "kindergarten",
        "--origin-rule",
        "all",
        "--json",
        "--out",
        str(out),
    )
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["summary"][0]["category"] == "kindergarten"


def test_coverage_with_origin_layer_and_boundary_errors(town: Path, tmp_path: Path) -> None:
    _assert_usage_error(
        run(
            "coverage",
            "--osm",
            str(town),
            "--boundary",
            str(tmp_path / "nope.geojson"),
            "--out",
            str(tmp_path / "o"),
        ),
        "nope.geojson",
    )
    _assert_usage_error(
        run("coverage", "--osm", str(town), "--population", "pop", "--out", str(tmp_path / "o")),
        "--origins",
    )


def test_coverage_reports_where_the_time_goes(town: Path, tmp_path: Path) -> None:
    """--json and run.json carry per-stage wall times (issue 13: read, network, facilities,
    snap, search, write); a cached run reports cache_load instead of the first three."""
    out = tmp_path / "cov"
    args = ["coverage", "--osm", str(town), "--categories", "kindergarten,primary_school",
            "--cell", "100", "--origin-rule", "all", "--json", "--out", str(out)]  # fmt: skip
    r = run(*args, "--no-cache")
    assert r.exit_code == 0, r.output
    timings = json.loads(r.output)["timings_s"]
    assert set(timings) == {"read", "network", "facilities", "snap", "search", "write"}
    assert all(v >= 0 for v in timings.values())
    on_disk = json.loads((out / "run.json").read_text(encoding="utf-8"))["timings_s"]
    assert on_disk == timings
    assert run(*args, "--cache", str(tmp_path / "c"), "--overwrite").exit_code == 0
    r = run(*args, "--cache", str(tmp_path / "c"), "--overwrite")  # second run: a cache hit
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.output)["timings_s"]) == {"cache_load", "snap", "search", "write"}
