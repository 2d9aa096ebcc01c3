"""``gcgeo suggest`` on the two-block town (CliRunner)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from osmxml import lonlat

from cli.cliutil import _one_line_error, run


def test_suggest_cli(blocks_town: Path, tmp_path: Path) -> None:
    out = tmp_path / "sg"
    cands = tmp_path / "cands.csv"
    rows = [("p1", *lonlat(0, 190)), ("p2", *lonlat(100, 400))]
    pd.DataFrame(rows, columns=["id", "lon", "lat"]).to_csv(cands, index=False)
    r = run("suggest", "--osm", str(blocks_town), "--out", str(out), "--category", "kindergarten",
            "--count", "1", "--candidates", str(cands), "--origin-rule", "all", "--cell", "50")  # fmt: skip
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "suggestions.csv", encoding="utf-8-sig")
    assert s["id"].tolist() == ["p1"] and s["pick"].tolist() == [1]
    assert gpd.read_file(out / "suggestions.geojson").crs.to_epsg() == 4326
    r = run("suggest", "--osm", str(blocks_town), "--out", str(tmp_path / "x"), "--category",
            "kindergarten", "--count", "1", "--within", "Z9")  # fmt: skip
    _one_line_error(r, "--within", "'Z9'")
