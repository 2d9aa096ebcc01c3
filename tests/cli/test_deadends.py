"""``gcgeo deadends`` on the two-block town (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cli.cliutil import _one_line_error, run


def test_deadends_cli(blocks_town: Path, tmp_path: Path) -> None:
    out = tmp_path / "de"
    r = run("deadends", "--osm", str(blocks_town), "--out", str(out), "--category", "kindergarten",
            "--origin-rule", "all", "--cell", "50", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["dead_ends"] == 2 and data["excluded_at_edge"] == 1 and data["candidate_links"] == 1
    table = pd.read_csv(out / "deadends.csv", encoding="utf-8-sig")
    assert table["rank"].tolist() == [1] and table["link_m"].iloc[0] == pytest.approx(100, abs=0.05)
    assert "gained_kindergarten" in table.columns
    gj = gpd.read_file(out / "deadends.geojson")
    assert gj.crs.to_epsg() == 4326 and gj.geom_type.tolist() == ["LineString"]
    r = run("deadends", "--osm", str(blocks_town), "--out", str(out), "--category", "nope")
    _one_line_error(r, "'nope'")
