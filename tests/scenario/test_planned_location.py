"""Planned facilities whose layer row has no location (11 of the 13 shipped ones): the
scenario gives ``lon``/``lat`` (and ``crs``) with the id, and the facility is then added
exactly like a plain added point; without them the error names it and the lines to add."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from gridosm import lonlat

from gcgeo import ScenarioError, settings
from gcgeo.crs import wgs84_to_gcj02
from gcgeo.scenario import compare, parse_scenario
from gcgeo.study import Study

LON, LAT = lonlat(0, 190)  # the west edge of the two-block town


def _delta(study: Study, origins, text: str, category: str, planned=None) -> pd.DataFrame:
    sc = parse_scenario(text, source="plan.toml", planned=planned)
    res = compare(study.network, study.facilities, study.catalogue.select([category]), origins, sc)
    return res.delta.drop(columns=["scenario"], errors="ignore").reset_index(drop=True)


def test_shipped_planned_without_location_names_it_and_the_lines_to_add() -> None:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(
            'name = "x"\n[[add_facility]]\nplanned = "wenyuan_health_centre"\n', source="plan.toml"
        )
    assert str(exc.value) == (
        "scenario plan.toml line 2, [[add_facility]] #1: planned facility "
        "'wenyuan_health_centre' (汶源卫生院) has no location in the planned-facility layer, so "
        "key 'planned' alone cannot place it; add its site to this [[add_facility]] table as "
        "the two lines lon = 117.80 and lat = 36.05 (the site's own WGS-84 degrees, or add "
        'crs = "gcj02" for Amap ones).'
    )


def test_planned_with_lon_lat_equals_a_plain_added_point(study: Study, origins) -> None:
    planned = (
        f'name = "卫生院"\n[[add_facility]]\nplanned = "wenyuan_health_centre"\n'
        f"lon = {LON!r}\nlat = {LAT!r}\n"
    )
    plain = (
        f'name = "卫生院"\n[[add_facility]]\ncategory = "health_centre"\n'
        f"lon = {LON!r}\nlat = {LAT!r}\n"
    )
    sc = parse_scenario(planned)
    add = sc.add_facilities[0]
    assert (add.category, add.lon, add.lat) == ("health_centre", LON, LAT)
    assert add.planned == "wenyuan_health_centre"
    got = _delta(study, origins, planned, "health_centre")
    want = _delta(study, origins, plain, "health_centre")
    assert got.loc[0, "gained"] > 0  # the town had no health centre
    pd.testing.assert_frame_equal(got, want)


def test_planned_lon_lat_in_gcj02(study: Study, origins) -> None:
    glon, glat = (float(v) for v in wgs84_to_gcj02(LON, LAT))
    layer = gpd.GeoDataFrame(
        {"id": ["PF-X"], "category": ["kindergarten"]}, geometry=[None], crs=settings.WGS84
    )
    text = (
        f'name = "x"\n[[add_facility]]\nplanned = "PF-X"\nlon = {glon!r}\nlat = {glat!r}\n'
        'crs = "gcj02"\n'
    )
    sc = parse_scenario(text, planned=layer)
    assert sc.add_facilities[0].lon == pytest.approx(LON, abs=1e-7)
    assert sc.add_facilities[0].lat == pytest.approx(LAT, abs=1e-7)
    plain = f'name = "x"\n[[add_facility]]\ncategory = "kindergarten"\nlon = {LON}\nlat = {LAT}\n'
    pd.testing.assert_frame_equal(
        _delta(study, origins, text, "kindergarten", layer),
        _delta(study, origins, plain, "kindergarten"),
        check_exact=False,
        atol=0.01,
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (f"lon = {LON}\nlat = {LAT}\n",
         "scenario plan.toml line 2, [[add_facility]] #1: planned facility 'PF-1' already has a "
         "location in the planned-facility layer; drop keys 'lon'/'lat' (or drop key 'planned' "
         "to place it yourself)."),
        (f"lon = {LON}\n",
         "scenario plan.toml line 2, [[add_facility]] #1: key 'lat' is missing; give both lon "
         "and lat."),
        (f'lon = {LON}\nlat = {LAT}\ncrs = "baidu"\n',
         "Unknown coordinate system 'baidu' for scenario plan.toml line 2, [[add_facility]] #1 "
         "key 'crs'; use wgs84, gcj02, bd09 or an EPSG code such as EPSG:4548."),
    ],
)  # fmt: skip
def test_planned_lon_lat_refusals(extra: str, message: str) -> None:
    layer = gpd.GeoDataFrame(
        {"id": ["PF-1", "PF-X"], "category": ["kindergarten"] * 2},
        geometry=[shapely.Point(LON, LAT), None],
        crs=settings.WGS84,
    )
    pid = "PF-1" if "crs" not in extra and "lat" in extra else "PF-X"
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(
            f'name = "x"\n[[add_facility]]\nplanned = "{pid}"\n{extra}',
            source="plan.toml",
            planned=layer,
        )
    assert str(exc.value) == message
