"""Scenario files: parsing, planned facilities, and bad files named by line and key."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from gridosm import lonlat

from gcgeo import ScenarioError
from gcgeo.scenario import compare, load_scenario, parse_scenario
from gcgeo.study import Study


def test_planned_facility_from_injected_layer(study: Study, origins) -> None:
    lon, lat = lonlat(0, 190)
    layer = gpd.GeoDataFrame(
        {"id": ["PF-1"], "category": ["kindergarten"], "name": ["规划幼儿园"]},
        geometry=[shapely.Point(lon, lat)],
        crs="EPSG:4326",
    )
    sc = parse_scenario(
        'name = "规划"\n[[add_facility]]\nplanned = "PF-1"\n', planned=lambda: layer
    )
    assert sc.add_facilities[0].category == "kindergarten"
    assert sc.add_facilities[0].name == "规划幼儿园"
    res = compare(
        study.network, study.facilities, study.catalogue.select(["kindergarten"]), origins, sc
    )
    assert res.delta.iloc[0].gained == 11
    with pytest.raises(ScenarioError, match=r"line 2.*'PF-9'"):
        parse_scenario('name = "x"\n[[add_facility]]\nplanned = "PF-9"\n', planned=layer)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('name = "x"\n[[add_facility]]\ncategory = "spaceport"\nlon = 117.8\nlat = 36.0\n',
         ["line 2", "'category'", "spaceport"]),
        ('name = "x"\n[[add_link]]\nconnect = [[117.0, 36.0], [117.8, 36.0]]\n',
         ["line 2", "add_link", "'connect'", "[0]", "beyond"]),
        ('name = "x"\n[[add_facility]\ncategory = "kindergarten"\n', ["not valid TOML", "line 2"]),
        ('name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nplanned = "PF-404"\n',
         ["line 2", "'PF-404'"]),
        ('name = "x"\n\n[[add_link]]\nline = [[117.0]]\n', ["line 3", "'line'"]),
        ('name = "x"\npersona = "robot"\n', ["'persona'", "robot"]),
        ('nam = "x"\n', ["unknown key 'nam'"]),
        ('name = "x"\n[[remove_facility]]\nfacility_id = "n0"\n', ["line 2", "'n0'"]),
        ('name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nlon = 500\nlat = 36\n',
         ["line 2", "WGS-84"]),
    ],
)  # fmt: skip
def test_bad_scenarios_name_line_or_key(
    study: Study, origins, text: str, needles: list[str]
) -> None:
    layer = gpd.GeoDataFrame(
        {"id": ["PF-1"]}, geometry=[shapely.Point(117.8, 36.0)], crs="EPSG:4326"
    )
    with pytest.raises(ScenarioError) as exc:
        sc = parse_scenario(text, source="bad.toml", planned=layer)
        compare(
            study.network, study.facilities, study.catalogue.select(["kindergarten"]), origins, sc
        )
    msg = str(exc.value)
    assert "bad.toml" in msg or "add_link" in msg
    assert msg.count(". ") == 0 and "\n" not in msg  # one sentence
    for n in needles:
        assert n in msg, msg


def test_load_scenario_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")


_BIG = "9" * 400  # a TOML integer too large for a float


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('name = "x"\npersona = "elderly"\n[personas]\nelderly = nan\n',
         ["'personas.elderly'", "nan", "finite", "m/s"]),
        ('name = "x"\n[personas]\nfast = inf\n', ["'personas.fast'", "inf", "finite", "m/s"]),
        ('name = "x"\n[personas]\nslow = 0\n', ["'personas.slow'", "m/s", "between 0 and 5"]),
        ('name = "x"\n[personas]\nslow = true\n', ["'personas.slow'", "m/s"]),
        ('name = "x"\nlink_max_snap = inf\n', ["'link_max_snap'", "inf", "finite", "metres"]),
        ('name = "x"\nlink_max_snap = nan\n', ["'link_max_snap'", "nan", "metres"]),
        ('name = "x"\nlink_max_snap = -inf\n', ["'link_max_snap'", "metres"]),
        ('name = "x"\nlink_max_snap = 1e9\n', ["'link_max_snap'", "at most 5000", "metres"]),
        ('name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nlon = nan\nlat = 36.0\n',
         ["line 2", "[[add_facility]]", "'lon'/'lat'", "nan", "degrees"]),
        ('name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nlon = 117.8\nlat = -inf\n',
         ["line 2", "[[add_facility]]", "'lon'/'lat'", "-inf", "degrees"]),
        (f'name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nlon = {_BIG}\nlat = 36.0\n',
         ["line 2", "'lon'/'lat'", "inf", "degrees"]),
        ('name = "x"\n\n[[add_link]]\nline = [[117.8, 36.0], [inf, 36.0]]\n',
         ["line 3", "[[add_link]]", "'line'[1]", "inf", "degrees"]),
        ('name = "x"\n[[add_link]]\nconnect = [[nan, 36.0], [117.8, 36.0]]\n',
         ["line 2", "[[add_link]]", "'connect'[0]", "nan", "degrees"]),
        ('name = "x"\n[[add_facility]]\nplanned = "P-nowhere"\n',
         ["line 2", "[[add_facility]]", "'P-nowhere'", "no location", "'planned'"]),
        ('name = "x"\n[[add_facility]]\nplanned = "P-nan"\n',
         ["line 2", "[[add_facility]]", "key 'planned'", "'P-nan'", "nan", "degrees"]),
    ],
)  # fmt: skip
def test_non_finite_or_out_of_range_numbers_refused(text: str, needles: list[str]) -> None:
    layer = gpd.GeoDataFrame(
        {"id": ["P-nowhere", "P-nan"], "category": ["kindergarten"] * 2},
        geometry=[None, shapely.Point(float("nan"), 36.0)],
        crs="EPSG:4326",
    )
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, source="bad.toml", planned=layer)
    msg = str(exc.value)
    assert "bad.toml" in msg
    assert msg.count(". ") == 0 and "\n" not in msg  # one sentence
    for n in needles:
        assert n in msg, msg


def test_numbers_in_range_accepted() -> None:
    sc = parse_scenario(
        'name = "x"\npersona = "p"\nlink_max_snap = 5000\n[personas]\np = 4.99\n'
        '[[add_facility]]\ncategory = "kindergarten"\nlon = -180\nlat = 90\n'
    )
    assert (sc.speed_mps, sc.link_max_snap) == (4.99, 5000.0)
    assert (sc.add_facilities[0].lon, sc.add_facilities[0].lat) == (-180.0, 90.0)


def test_planned_facility_blank_name_is_empty() -> None:
    layer = gpd.GeoDataFrame(
        {"id": ["P1"], "category": ["kindergarten"], "name": [float("nan")]},
        geometry=[shapely.Point(117.8, 36.0)],
        crs="EPSG:4326",
    )
    sc = parse_scenario('name = "x"\n[[add_facility]]\nplanned = "P1"\n', planned=layer)
    assert sc.add_facilities[0].name == ""
