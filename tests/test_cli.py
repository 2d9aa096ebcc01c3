"""The reach and coverage commands, driven with click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from osmxml import OSMBuilder, hand_grid, lonlat

from gcgeo.cli import main

# hand-computed walks to the nearest kindergarten (see test_engine.py)
PTS = {
    "P1": (50, 190, 330.0),
    "P2": (190, -30, 90.0),
    "P4": (300, 0, 170.0),
    "P5": (310, 290, 30.0),
}


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


def _points_csv(path: Path, far: bool = True, swap: bool = False, encoding: str = "utf-8") -> Path:
    rows = []
    for pid, (x, y, _) in PTS.items():
        lon, lat = lonlat(x, y)
        rows.append((pid, lat, lon) if swap else (pid, lon, lat))
    if far:
        lon, lat = lonlat(3000, 3000)
        rows.append(("远处", lat, lon) if swap else ("远处", lon, lat))
    pd.DataFrame(rows, columns=["id", "lon", "lat"]).to_csv(path, index=False, encoding=encoding)
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_reach_hand_values(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv")
    out = tmp_path / "reach.csv"
    r = run(
        "reach",
        "--osm",
        str(town),
        "--points",
        str(pts),
        "--category",
        "kindergarten",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, encoding="utf-8-sig", dtype={"id": str})
    assert list(df.columns[:9]) == [
        "id", "category", "distance_m", "walk_min", "facility_id", "facility_name",
        "snap_origin_m", "snap_facility_m", "reachable",
    ]  # fmt: skip
    got = df.set_index("id")
    for pid, (_, _, d) in PTS.items():
        assert got.loc[pid, "distance_m"] == pytest.approx(d, abs=0.05)
        assert got.loc[pid, "walk_min"] == pytest.approx(d / 1.1 / 60, abs=0.01)
        assert bool(got.loc[pid, "reachable"])
    assert got.loc["P1", "facility_name"] == "阳光幼儿园"
    assert got.loc["P5", "facility_name"] == "小区幼儿园"
    assert got.loc["P1", "snap_origin_m"] == pytest.approx(10, abs=0.05)
    assert got.loc["P1", "snap_facility_m"] == pytest.approx(20, abs=0.05)
    assert not bool(got.loc["远处", "reachable"])
    assert "farther than 300 m" in got.loc["远处", "note"]
    assert "1 point(s) lie farther than 300 m" in r.output  # stderr note, not fatal


def test_reach_stdout_and_json(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv", far=False)
    r = run("reach", "--osm", str(town), "--points", str(pts), "--category", "kindergarten")
    assert r.exit_code == 0
    assert r.output.splitlines()[0].startswith("id,category,distance_m")
    r = run(
        "reach", "--osm", str(town), "--points", str(pts), "--category", "kindergarten", "--json"
    )
    data = json.loads(r.output)
    assert data["points"] == 4 and data["within_threshold"] == 3 and data["facilities"] == 2


def test_reach_gbk_csv(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "gbk.csv", encoding="gbk")
    r = run("reach", "--osm", str(town), "--points", str(pts), "--category", "kindergarten")
    assert r.exit_code == 0, r.output
    assert "远处" in r.output


def test_reach_gcj02_points(town: Path, tmp_path: Path) -> None:
    from gcgeo.crs import wgs84_to_gcj02

    rows = []
    for pid, (x, y, _) in PTS.items():
        glon, glat = wgs84_to_gcj02(*lonlat(x, y))
        rows.append((pid, float(glon), float(glat)))
    p = tmp_path / "amap.csv"
    pd.DataFrame(rows, columns=["id", "lon", "lat"]).to_csv(p, index=False)
    r = run(
        "reach",
        "--osm",
        str(town),
        "--points",
        str(p),
        "--points-crs",
        "gcj02",
        "--category",
        "kindergarten",
    )
    assert r.exit_code == 0, r.output
    df = pd.read_csv(pd.io.common.StringIO(r.output)).set_index("id")
    for pid, (_, _, d) in PTS.items():
        assert df.loc[pid, "distance_m"] == pytest.approx(d, abs=0.5)


def _assert_usage_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


def test_bad_inputs_exit_2_one_sentence_no_output(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv")
    out = tmp_path / "never.csv"
    base = ["--points", str(pts), "--category", "kindergarten", "--out", str(out)]
    _assert_usage_error(
        run("reach", "--osm", str(tmp_path / "missing.osm"), *base), "missing.osm", "does not exist"
    )
    notosm = tmp_path / "notes.osm"
    notosm.write_text("<html>nope</html>", encoding="utf-8")
    _assert_usage_error(run("reach", "--osm", str(notosm), *base), "notes.osm", "not OSM")
    cut = tmp_path / "cut.osm"
    cut.write_text(town.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    _assert_usage_error(run("reach", "--osm", str(cut), *base), "cut.osm", "truncated")
    b = OSMBuilder()
    b.node("a", 0, 0)
    b.node("b", 500, 0)
    b.way(["a", "b"], highway="motorway")
    _assert_usage_error(
        run("reach", "--osm", str(b.write(tmp_path / "mw.osm")), *base), "No walkable street"
    )
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(pts),
            "--category",
            "schools",
            "--out",
            str(out),
        ),
        "Unknown category 'schools'",
    )
    swapped = _points_csv(tmp_path / "swapped.csv", far=False, swap=True)
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(swapped),
            "--category",
            "kindergarten",
            "--out",
            str(out),
        ),
        "swapped.csv",
        "swap",
    )
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("name,x,y\na,1,2\n", encoding="utf-8")
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(nocols),
            "--category",
            "kindergarten",
            "--out",
            str(out),
        ),
        "nocols.csv",
        "id",
    )
    assert not out.exists()


def test_existing_output_needs_overwrite(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv")
    out = tmp_path / "mine.csv"
    out.write_text("planner's own file\n", encoding="utf-8")
    args = [
        "reach",
        "--osm",
        str(town),
        "--points",
        str(pts),
        "--category",
        "kindergarten",
        "--out",
        str(out),
    ]
    _assert_usage_error(run(*args), "mine.csv", "--overwrite")
    assert out.read_text(encoding="utf-8") == "planner's own file\n"
    assert run(*args, "--overwrite").exit_code == 0
    assert "distance_m" in out.read_text(encoding="utf-8-sig")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]  # no temp left


def test_coverage_writes_outputs(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "cov"
    r = run("coverage", "--osm", str(town), "--categories", "kindergarten,primary_school", "--cell", "100",
            "--origin-rule", "all", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert list(summary["category"]) == ["kindergarten", "primary_school"]
    assert set(summary.columns) >= {"threshold_m", "origins", "covered", "share", "origin_rule"}
    assert (summary["origins"] == 9).all() and (summary["origin_rule"] == "all").all()
    origins = gpd.read_file(out / "origins.gpkg")
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


def test_help_lists_commands() -> None:
    r = run("--help")
    assert r.exit_code == 0 and "reach" in r.output and "coverage" in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["coverage", "--out", "o"],
        ["report", "--out", "o"],
        ["map", "--category", "kindergarten", "--out", "m.html"],
    ],
)
def test_missing_layers_folder_is_one_line_exit_2(town: Path, tmp_path: Path, args: list) -> None:
    args = [a if a not in ("o", "m.html") else str(tmp_path / a) for a in args]
    r = run(*args, "--osm", str(town), "--layers", str(tmp_path / "no_such_layers"))
    _assert_usage_error(r, "no_such_layers", "check --layers")
    assert not (tmp_path / "o").exists() and not (tmp_path / "m.html").exists()
