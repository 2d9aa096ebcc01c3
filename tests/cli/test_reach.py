"""``gcgeo reach``: hand-computed walks from a points table (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from osmxml import lonlat

from cli.cliutil import PTS, _points_csv, run


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
        assert got.loc[pid, "walk_min"] == pytest.approx(d / 1.1 / 60, abs=0.05)  # 0.1 min
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


def test_facilities_columns_named_outright(town: Path, tmp_path: Path) -> None:
    """--facilities-lon-col/--facilities-lat-col read a table whose headers are no usual name;
    the answer equals the same table with lon/lat headers, and without the options the
    error names the table and the options."""
    lon, lat = lonlat(300.0, 0.0)  # on the street beside P4
    plain = tmp_path / "fac.csv"
    plain.write_text(f"name,category,lon,lat\n新建幼儿园,kindergarten,{lon},{lat}\n", "utf-8")
    odd = tmp_path / "fac_odd.csv"
    odd.write_text(f"name,category,E,N\n新建幼儿园,kindergarten,{lon},{lat}\n", "utf-8")
    pts = _points_csv(tmp_path / "pts.csv", far=False)
    common = ["reach", "--osm", str(town), "--points", str(pts), "--category", "kindergarten"]
    a = run(*common, "--no-osm-facilities", "--facilities", str(plain))
    b = run(*common, "--no-osm-facilities", "--facilities", str(odd),
            "--facilities-lon-col", "E", "--facilities-lat-col", "N")  # fmt: skip
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert a.output == b.output
    rows = {line.split(",")[0]: line.split(",") for line in a.output.splitlines()[1:]}
    assert rows["P4"][5] == "新建幼儿园" and float(rows["P4"][2]) == pytest.approx(0.0, abs=0.05)
    c = run(*common, "--no-osm-facilities", "--facilities", str(odd))
    assert c.exit_code == 2
    assert "fac_odd.csv" in c.output and "(found: name, category, E, N)" in c.output
    assert "--facilities-lon-col and --facilities-lat-col" in c.output
