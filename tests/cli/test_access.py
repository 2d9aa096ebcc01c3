"""``gcgeo access`` on the demo: scores recomputed from its own od.csv, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gcgeo.demo import write_demo_osm
from gcgeo.fca import ODPairs, fca_scores

from .cliutil import run


@pytest.fixture(scope="module")
def demo_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("demo") / "demo.osm"
    write_demo_osm(p)
    return p


def test_access_scores_follow_from_the_exported_cost_table(demo_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "acc"
    r = run("access", "--osm", str(demo_osm), "--category", "kindergarten", "--method",
            "e2sfca", "--capacity", "120", "--population-total", "30000", "--od", "--no-cache",
            "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    acc = pd.read_csv(out / "access.csv", encoding="utf-8-sig")
    od = pd.read_csv(out / "od.csv", encoding="utf-8-sig")
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert doc["population_estimate"] and acc["estimate"].all()
    assert acc["population"].sum() == pytest.approx(30000)
    assert (od["distance_m"] <= 300).all() and len(od) == doc["pairs_within_catchment"]
    # rebuild the scores from od.csv alone
    pos = {v: i for i, v in enumerate(acc["id"])}
    fids = sorted(set(od["facility_id"]))
    fpos = {f: j for j, f in enumerate(fids)}
    pairs = ODPairs(od["origin_id"].map(pos).to_numpy(), od["facility_id"].map(fpos).to_numpy(),
                    od["distance_m"].to_numpy())  # fmt: skip
    score, _ = fca_scores(pairs, acc["population"].to_numpy(), np.full(len(fids), 120.0), 300.0,
                          "e2sfca")  # fmt: skip
    np.testing.assert_allclose(acc["access_kindergarten"], score, rtol=1e-9, atol=1e-12)
    assert (score > 0).any()
    by_area = pd.read_csv(out / "access_by_area.csv", encoding="utf-8-sig")
    assert {"zones", "wings", "renewal_areas"} == set(by_area["area_layer"])


def test_access_needs_a_population(demo_osm: Path, tmp_path: Path) -> None:
    r = run("access", "--osm", str(demo_osm), "--category", "kindergarten", "--no-cache",
            "--out", str(tmp_path / "a"))  # fmt: skip
    assert r.exit_code == 2 and "needs a population" in r.output


def test_capacity_column_of_the_facilities_table(demo_osm: Path, tmp_path: Path) -> None:
    """Two planner kindergartens with 60 and 240 places (OSM ones keep --capacity 0): the
    run's total places are 300, and the scores follow from its cost table."""
    from gcgeo.network import load_network

    net = load_network(demo_osm)
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    table = tmp_path / "fac.csv"
    table.write_text(
        "id,name,category,lon,lat,seats\n"
        f"k1,甲幼儿园,kindergarten,{lon[10]},{lat[10]},60\n"
        f"k2,乙幼儿园,kindergarten,{lon[500]},{lat[500]},240\n",
        encoding="utf-8",
    )
    out = tmp_path / "acc"
    r = run("access", "--osm", str(demo_osm), "--category", "kindergarten", "--facilities",
            str(table), "--capacity-col", "seats", "--capacity", "0", "--population-total",
            "5000", "--od", "--no-cache", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert doc["places"] == 300.0
    r = run("access", "--osm", str(demo_osm), "--category", "kindergarten", "--capacity-col",
            "seats", "--population-total", "5000", "--no-cache", "--out", str(tmp_path / "b"))  # fmt: skip
    assert r.exit_code == 2 and "needs --facilities" in r.output
