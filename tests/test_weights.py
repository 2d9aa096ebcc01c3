"""Population weights on a four-origin town: completeness, covered population, medians.

The town (tests/osmxml.py, metres from X0, Y0): one residential street along y = 0 from
x = 0 to x = 2500. Kindergarten K at (0, -10) snaps to (0, 0), leg 10; primary school S at
(2500, -10) snaps to (2500, 0), leg 10. The origins lie 10 m north of the street (leg 10),
so a walk is 10 + |x - x_facility| + 10:

=====  ==========  ===  ====================  ====================
origin  x (m)      pop  kindergarten (300 m)  primary school (500 m)
=====  ==========  ===  ====================  ====================
O1      100          1  120  reached          2420 beyond 1000 m
O2      200          2  220  reached          2320 beyond
O3      1700         3  1720 beyond 990 m     820  not reached
O4      2100         4  2120 beyond           420  reached
=====  ==========  ===  ====================  ====================

Search limits (adult 1.1 m/s): kindergarten max(2 × 300, 15 min × 1.1 m/s) = 990 m, school
max(1000, 990) = 1000 m. Total population 10, half 5.

* Kindergarten: covered O1, O2 = 2 origins, 1 + 2 = 3 people, share 0.3. Median: the
  cumulative 1, 3 stays below 5 among the reached; the rest (3 + 4 people) is beyond 990 m,
  so the median is "> 990 m" (the old median over reached origins only said 170 m).
* School: covered O4 = 1 origin, 4 people, share 0.4. Median: 420 (4), 820 (3): the
  cumulative 4, 7 passes 5 at 820 m (unweighted, counting the beyond: (820 + inf) / 2).
* Completeness over both: O1 0.5, O2 0.5, O3 0, O4 0.5; weighted
  (1 × 0.5 + 2 × 0.5 + 0 + 4 × 0.5) / 10 = 0.35 (unweighted 0.375).

An elderly walker (0.8 m/s) with the default distance basis keeps 300 m: O1 and O2 are
covered, share 0.3, whether by ``coverage --speed 0.8`` or a scenario's elderly persona
(the old persona scaling 300 × 0.8 / 1.1 = 218 m lost O2 at 220 m: share 0.1). With
``--threshold-basis time`` the threshold is 5 min × 60 × 0.8 = 240 m for both: share 0.3.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from osmxml import X0, Y0, OSMBuilder

from gcgeo.catalogue import load_catalogue
from gcgeo.cli import main
from gcgeo.columns import COMPLETENESS, POPULATION
from gcgeo.coverage import compute_coverage, origins_from_layer
from gcgeo.report import area_table
from gcgeo.report_pages import area_report_html
from gcgeo.study import open_study
from gcgeo.walker import threshold_for, walker_categories
from gcgeo.weights import median_text, origin_weights, weighted_mean, weighted_median

ORIGINS = {"O1": (100, 1), "O2": (200, 2), "O3": (1700, 3), "O4": (2100, 4)}


def _town() -> OSMBuilder:
    b = OSMBuilder()
    keys = [b.node(f"N{x}", float(x), 0.0) for x in range(0, 2501, 500)]
    b.way(keys, highway="residential", name="长街")
    b.node("K", 0.0, -10.0, amenity="kindergarten", name="幼儿园")
    b.node("S", 2500.0, -10.0, amenity="school", name="小学", isced__level="1")
    return b


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return _town().write(tmp_path / "line.osm")


@pytest.fixture
def homes(tmp_path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"name": list(ORIGINS), "pop": [p for _, p in ORIGINS.values()]},
        geometry=[shapely.Point(X0 + x, Y0 + 10) for x, _ in ORIGINS.values()],
        crs="EPSG:4548",
    )
    path = tmp_path / "homes.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def _coverage(town: Path, homes: Path, population: str | None = "pop"):
    s = open_study(town, cache=False)
    cats = load_catalogue().select("kindergarten,primary_school")
    o = origins_from_layer(gpd.read_file(homes), s.network.crs, population)
    return compute_coverage(s.network, s.facilities, cats, o), cats


def test_weighted_summary_hand_values(town: Path, homes: Path) -> None:
    res, cats = _coverage(town, homes)
    d = res.origins
    assert d["dist_kindergarten_m"].to_numpy()[:2] == pytest.approx([120, 220], abs=0.05)
    assert d["dist_kindergarten_m"].isna().tolist() == [False, False, True, True]
    assert d["dist_primary_school_m"].to_numpy()[2:] == pytest.approx([820, 420], abs=0.05)
    s = res.summary.set_index("category")
    kg, sc = s.loc["kindergarten"], s.loc["primary_school"]
    assert (kg["basis"], kg["covered"], kg["covered_population"]) == ("population", 2, 3)
    assert kg["share"] == pytest.approx(0.3) and kg["population"] == 10
    assert kg["search_limit_m"] == pytest.approx(990)
    assert math.isnan(kg["median_dist_m"]) and kg["median_beyond_limit"]
    assert kg["median_text"] == "> 990 m"
    assert (sc["covered"], sc["covered_population"], sc["share"]) == (1, 4, pytest.approx(0.4))
    assert sc["median_dist_m"] == pytest.approx(820, abs=0.05) and not sc["median_beyond_limit"]
    assert sc["median_text"] == "820 m"
    assert d[COMPLETENESS].tolist() == [0.5, 0.5, 0.0, 0.5]
    w, basis = origin_weights(d)
    assert basis == "population" and weighted_mean(d[COMPLETENESS], w) == pytest.approx(0.35)


def test_area_table_and_page_say_beyond(town: Path, homes: Path) -> None:
    res, cats = _coverage(town, homes)
    t = area_table(res.origins, cats).set_index("category")
    assert set(t["basis"]) == {"population"}
    assert t.loc["kindergarten", "covered_population"] == 3
    assert t.loc["kindergarten", "median_beyond_limit"]
    assert math.isnan(t.loc["kindergarten", "median_dist_m"])
    assert t.loc["primary_school", "median_dist_m"] == pytest.approx(820, abs=0.05)
    area = {"code": "x", "name_zh": "测试", "name_en": "Test", "confidence": "official"}
    page = area_report_html(area, "zones", t.reset_index(), 0.35)
    assert "<td>&gt; 990 m</td>" in page and "<td>820</td>" in page and "35.0%" in page
    assert "weighted by population" in page


def test_without_population_counts_origins(town: Path, homes: Path) -> None:
    res, _ = _coverage(town, homes, population=None)
    s = res.summary.set_index("category")
    assert set(s["basis"]) == {"origins"} and s["covered_population"].isna().all()
    assert s.loc["kindergarten", "share"] == 0.5 and s.loc["kindergarten", "covered"] == 2
    # four origins, two beyond 990 m: the median is the mean of 220 and "beyond"
    assert s.loc["kindergarten", "median_beyond_limit"]
    assert s.loc["primary_school", "median_beyond_limit"]  # 420, 820, beyond, beyond


def test_weighted_median_rules() -> None:
    assert weighted_median([4, 1, 3, 2], [1, 1, 1, 1]) == (2.5, False)  # as numpy.median
    assert weighted_median([1, 2, 3], [1, 1, 1]) == (2.0, False)
    assert weighted_median([10, 20, np.nan], [1, 3, 1]) == (20.0, False)
    med, beyond = weighted_median([10, np.inf, np.nan], [1, 1, 1])
    assert math.isnan(med) and beyond
    med, beyond = weighted_median([], [])
    assert math.isnan(med) and not beyond
    assert weighted_median([5, 7], [0, 2]) == (7.0, False)  # no weight, no say
    assert median_text(683.6, False, 990) == "684 m"
    assert median_text(math.nan, True, 990.0) == "> 990 m"
    assert median_text(math.nan, False, 990.0) == "—"


def test_walker_rule() -> None:
    kg, school = load_catalogue().select("kindergarten,primary_school")
    assert threshold_for(kg, 0.8) == (300, 1.1)  # distance: the standard's metres
    assert threshold_for(kg, 0.8, "time") == (240, 0.8)  # 5 min × 60 × 0.8 m/s
    assert [c.max_distance_m for c in walker_categories([kg, school], 0.8, "time")] == [240, 480]
    assert walker_categories([kg], 0.8)[0] is kg


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("basis", ["distance", "time"])
def test_speed_and_elderly_persona_give_one_baseline(
    town: Path, homes: Path, tmp_path: Path, basis: str
) -> None:
    common = ["--osm", str(town), "--origins", str(homes), "--population", "pop",
              "--categories", "kindergarten", "--no-cache", "--threshold-basis", basis]  # fmt: skip
    r = _run("coverage", *common, "--speed", "0.8", "--out", str(tmp_path / "cov"))
    assert r.exit_code == 0, r.output
    cov = pd.read_csv(tmp_path / "cov" / "coverage.csv", encoding="utf-8-sig")
    sc = tmp_path / "elderly.toml"
    sc.write_text('name = "老人"\npersona = "elderly"\n', encoding="utf-8")
    r = _run("scenario", str(sc), *common, "--out", str(tmp_path / "sc"))
    assert r.exit_code == 0, r.output
    delta = pd.read_csv(tmp_path / "sc" / "delta.csv", encoding="utf-8-sig")
    before = delta[delta["area_code"] == "all"].iloc[0]
    assert (
        cov["threshold_m"].iloc[0] == before["threshold_m"] == (300 if basis == "distance" else 240)
    )
    assert cov["share"].iloc[0] == pytest.approx(0.3) == before["before_share"]
    assert before["basis"] == cov["basis"].iloc[0] == POPULATION
    assert before["before_covered_population"] == cov["covered_population"].iloc[0] == 3
