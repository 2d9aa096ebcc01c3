"""The shipped example files keep working on the demo network they were written for."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from gcgeo.cli import main
from gcgeo.demo import write_demo_osm

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_demo_scenario_example_runs(tmp_path: Path) -> None:
    osm = tmp_path / "demo.osm"
    write_demo_osm(osm)  # the default seed: the network the example was written for
    out = tmp_path / "scn"
    r = CliRunner().invoke(
        main,
        [
            "scenario",
            str(EXAMPLES / "demo_scenario.toml"),
            "--osm",
            str(osm),
            "--categories",
            "elderly_canteen",
            "--out",
            str(out),
        ],  # fmt: skip
    )
    assert r.exit_code == 0, r.output
    delta = pd.read_csv(out / "delta.csv", encoding="utf-8-sig")
    row = delta[(delta["category"] == "elderly_canteen") & (delta["area_code"] == "all")].iloc[0]
    # three canteens at suggested sites must add covered origins and remove none
    assert row["gained"] > 0 and row["lost"] == 0
    assert row["after_covered"] == row["before_covered"] + row["gained"]
