"""Tests for gcgeo.by_area: which zone, wing and renewal area points lie in, coverage by area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from layerdata import BEICHENGZIPO, SEAT, STATION
from shapely.geometry import Point

from gcgeo import InputError
from gcgeo.by_area import assign_areas, coverage_by_area
from gcgeo.columns import COMPLETENESS, POPULATION, reached_col
from gcgeo.crs import DEFAULT_CRS


def _origins(with_population: bool = True) -> gpd.GeoDataFrame:
    pts = [Point(SEAT), Point(BEICHENGZIPO), Point(STATION), Point(117.85, 36.25)]
    gdf = gpd.GeoDataFrame(
        {reached_col("park"): [True, False, True, False],
         reached_col("clinic"): [True, True, False, True],
         COMPLETENESS: [1.0, 0.5, 0.5, 0.0]},
        geometry=pts, crs=4326, index=["seat", "bczp", "station", "north"],
    ).to_crs(DEFAULT_CRS)  # fmt: skip
    if with_population:
        gdf[POPULATION] = [100, 300, 50, 1000]
    return gdf


def test_assign_areas_projected_input_keeps_index() -> None:
    a = assign_areas(_origins())
    assert list(a.index) == ["seat", "bczp", "station", "north"]
    assert a.loc["seat", "zone"] == "center" and a.loc["seat", "wing"] == "old_town"
    assert pd.isna(a.loc["seat", "renewal_area"])
    assert a.loc["bczp", "renewal_area"] == "beichengzipo"
    assert a.loc["bczp", "zone"] == "center"
    assert a.loc["station", "zone"] == "east"
    assert a.loc["station", "wing"] == "hsr_new_district"
    assert a.loc["north"].isna().all()


def test_assign_areas_needs_crs() -> None:
    with pytest.raises(InputError, match="no CRS"):
        assign_areas(gpd.GeoDataFrame(geometry=[Point(SEAT)]))


def test_coverage_by_area_hand_computed_population_weighted() -> None:
    cov = coverage_by_area(_origins(), ["park", "clinic"]).set_index(["area_layer", "code"])
    # centre: seat (pop 100, park yes, clinic yes, 1.0) + 北城子坡 (pop 300, park no, clinic yes, 0.5)
    c = cov.loc[("zones", "center")]
    assert c["origins"] == 2 and c[POPULATION] == 400
    assert c["share_park"] == pytest.approx(100 / 400)
    assert c["share_clinic"] == pytest.approx(1.0)
    # weighted like the shares (issue item 4): (100 × 1.0 + 300 × 0.5) / 400; this test
    # asserted the unweighted origin mean 0.75 before, next to population-weighted shares
    assert c["mean_completeness"] == pytest.approx((100 * 1.0 + 300 * 0.5) / 400)
    assert (c["basis"], c["covered_park"], c["covered_population_park"]) == (POPULATION, 1, 100)
    assert c["name_zh"] == "中优" and c["name_en"] == "Central optimisation"
    e = cov.loc[("zones", "east")]
    assert (e["origins"], e["share_park"], e["share_clinic"]) == (1, 1.0, 0.0)
    w = cov.loc[("zones", "west")]
    assert w["origins"] == 0 and np.isnan(w["share_park"]) and np.isnan(w["mean_completeness"])
    o = cov.loc[("wings", "old_town")]
    assert o["share_park"] == pytest.approx(0.25)
    r = cov.loc[("renewal_areas", "beichengzipo")]
    assert (r["origins"], r["share_park"], r["share_clinic"]) == (1, 0.0, 1.0)
    assert len(cov) == 5 + 3 + 3
    assert set(cov["weighted_by"]) == {POPULATION}


def test_coverage_by_area_unweighted_and_errors() -> None:
    cov = coverage_by_area(_origins(with_population=False), ["park"]).set_index("code")
    assert cov.loc["center", "share_park"] == pytest.approx(1 / 2)
    assert POPULATION not in cov.columns
    assert set(cov["basis"]) == {"origins"} and cov.loc["center", "covered_park"] == 1
    assert cov.loc["center", "mean_completeness"] == pytest.approx(0.75)  # origins' mean
    with pytest.raises(InputError, match="reach_kindergarten"):
        coverage_by_area(_origins(), ["kindergarten"])
    bad = _origins()
    bad[POPULATION] = [1, -1, 1, 1]
    with pytest.raises(InputError, match="negative"):
        coverage_by_area(bad, ["park"])
