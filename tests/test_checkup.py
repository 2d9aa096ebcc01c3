"""Checkup indicators on the hand-built two-block town, every value worked out by hand.

The kindergarten K stands at (400, 200). Four origins (100 m cells) on the streets:

====  ==========  =====================  ==========  ==========  ==========
      position    walk to K              res. land   residents   reached
====  ==========  =====================  ==========  ==========  ==========
O1    (400, 150)  50 m up its footway    1,000 m²    50          ≤ 100, ≤ 300
O2    (300, 150)  50 + 100 m             3,000 m²    100         ≤ 300
O3    (0, 0)      600 m round by N20     4,000 m²    300         no
O4    (100, 400)  900 m                  2,000 m²    550         no
====  ==========  =====================  ==========  ==========  ==========

Within 300 m: area (1,000 + 3,000) / 10,000 = 0.4, population 150 / 1,000 = 0.15, origins
2 / 4 = 0.5. Within 100 m: 0.1, 0.05, 0.25. The east half (x > 200) holds O1, O2: 1.0 on
every basis within 300 m; the west half 0.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gridosm import X0, Y0, two_blocks

from gcgeo._errors import InputError
from gcgeo.catalogue import load_catalogue
from gcgeo.checkup import checkup_table
from gcgeo.facilities import facilities_from_osm
from gcgeo.indicators import Indicator, load_indicators
from gcgeo.network import build_network
from gcgeo.osm import read_osm

RES = np.array([1000.0, 3000.0, 4000.0, 2000.0])
POP = np.array([50.0, 100.0, 300.0, 550.0])


def _indicator(iid: str, radius: float | None, cats=("kindergarten",)) -> Indicator:
    return Indicator(iid, f"{iid} 中文", iid, "街区", "test", "area", tuple(cats), radius,
                     "checked", "by hand", "checked", "by hand")  # fmt: skip


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = two_blocks().write(tmp_path_factory.mktemp("town") / "town.osm")
    osm = read_osm(path)
    net = build_network(osm)
    fac = facilities_from_osm(osm, load_catalogue())
    pts = [(400, 150), (300, 150), (0, 0), (100, 400)]
    xy = np.array(pts, dtype=float) + [X0, Y0]
    origins = gpd.GeoDataFrame(
        {"cell_id": range(4), "x": xy[:, 0], "y": xy[:, 1]},
        geometry=shapely.points(xy),
        crs="EPSG:4548",
    )
    origins.attrs["cell_m"] = 100.0
    halves = gpd.GeoDataFrame(
        {"code": ["west", "east"], "name_zh": ["西", "东"]},
        geometry=[
            shapely.box(X0 - 50, Y0 - 50, X0 + 200, Y0 + 500),
            shapely.box(X0 + 200, Y0 - 50, X0 + 500, Y0 + 500),
        ],  # fmt: skip
        crs="EPSG:4548",
    )
    return {"net": net, "fac": fac, "origins": origins, "halves": halves}


def _table(town: dict, basis: str, population=POP):
    inds = [_indicator("k300", 300.0), _indicator("k100", 100.0)]
    return checkup_table(
        town["net"], town["fac"], load_catalogue(), inds, town["origins"], RES, population,
        "layer", [("halves", town["halves"])], basis,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("basis", "k300", "k100"),
    [("area", 0.4, 0.1), ("population", 0.15, 0.05), ("origins", 0.5, 0.25)],
)
def test_district_values_by_hand(town: dict, basis: str, k300: float, k100: float) -> None:
    t = _table(town, basis)
    d = t[t["area_layer"] == "district"].set_index("indicator_id")
    assert d.at["k300", "value"] == pytest.approx(k300)
    assert d.at["k100", "value"] == pytest.approx(k100)
    assert set(d["basis"]) == {basis}


def test_area_values_by_hand(town: dict) -> None:
    t = _table(town, "area")
    h = t[(t["area_layer"] == "halves") & (t["indicator_id"] == "k300")].set_index("area_code")
    assert h.at["east", "value"] == pytest.approx(1.0)
    assert h.at["west", "value"] == pytest.approx(0.0)
    assert h.at["east", "total"] == pytest.approx(4000.0)
    # the shipped layers are used only when passed; here the planner's halves alone
    assert set(t["area_layer"]) == {"district", "halves"}


def test_population_basis_needs_a_population(town: dict) -> None:
    with pytest.raises(InputError, match="no population was given"):
        _table(town, "population", population=None)


def test_an_indicator_of_several_categories_needs_all_of_them(town: dict) -> None:
    """kindergarten and clinic: the town has no clinic, so nothing is covered."""
    inds = [_indicator("both", 300.0, ("kindergarten", "clinic"))]
    t = checkup_table(town["net"], town["fac"], load_catalogue(), inds, town["origins"], RES)
    assert t.loc[t["area_layer"] == "district", "value"].iloc[0] == 0.0


def test_shipped_indicators_load_with_flags() -> None:
    inds = load_indicators()
    ids = [i.id for i in inds]
    for want in ("kindergarten_coverage", "primary_school_coverage", "middle_school_coverage",
                 "park_coverage", "bus_stop_coverage", "life_circle_15min"):  # fmt: skip
        assert want in ids
    life = next(i for i in inds if i.id == "life_circle_15min")
    assert set(life.categories) == set(load_catalogue().life_circle_ids())
    assert life.radius_m is None
    for i in inds:
        assert i.status in ("checked", "to_confirm") and i.source
    assert all(i.status == "to_confirm" for i in inds)  # no name is confirmed yet


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("x = 1\n", "no [[indicator]]"),
        ('[[indicator]]\nid = "Bad-Id"\n', "snake_case"),
        ('[[indicator]]\nid = "a_b"\nname_zh = "x"\ndefinition = "d"\ncategories = ["cinema"]\n',
         "'cinema' is not in the facility catalogue"),
        ('[[indicator]]\nid = "a_b"\nname_zh = "x"\ndefinition = "d"\ncategories = ["park"]\n'
         'radius_m = -3\n', "radius_m -3"),
        ('[[indicator]]\nid = "a_b"\nname_zh = "x"\ndefinition = "d"\ncategories = ["park"]\n'
         'target = 2\n', "target 2"),
        ('[[indicator]]\nid = "a_b"\nname_zh = "x"\ndefinition = "d"\ncategories = ["park"]\n'
         'basis = "land"\n', "basis 'land'"),
        ('[[indicator]]\nid = "a_b"\nname_zh = "x"\ndefinition = "d"\ncategories = ["park"]\n'
         'radius_status = "sure"\n', "checked or to_confirm"),
        ('[[indicator]]\nid = "a_b"\nnope = 1\n', "unknown key 'nope'"),
        ("[[indicator\n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_planners_indicator_file_is_checked(tmp_path: Path, text: str, words: str) -> None:
    p = tmp_path / "ind.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_indicators(p)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_shortfall_by_hand(town: dict) -> None:
    """Beyond 300 m live O3 and O4: 300 + 550 = 850 residents, all in the west half; with
    400 residents per kindergarten that is ceil(850 / 400) = 3 more."""
    from gcgeo.checkup import measure_reach, shortfall_table
    from gcgeo.indicators import TierSize, load_tier_sizes

    cat = load_catalogue()
    inds = [_indicator("k300", 300.0)]
    reach = measure_reach(town["net"], town["fac"], cat, inds, town["origins"])
    tiers = {5: TierSize(5, 400.0, "checked", "by hand")}
    t = shortfall_table(cat, inds, town["origins"], POP, "layer", reach, tiers,
                        [("halves", town["halves"])])  # fmt: skip
    t = t.set_index("area_code")
    assert t.at["all", "population_beyond"] == 850.0 and t.at["all", "facilities_needed"] == 3
    assert t.at["west", "facilities_needed"] == 3 and t.at["east", "facilities_needed"] == 0
    shipped = load_tier_sizes()
    assert shipped[5].residents_per_facility == 12000 and shipped[5].status == "to_confirm"
    assert shipped[10].status == shipped[15].status == "checked"
