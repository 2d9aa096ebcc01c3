"""Scenarios compared on the hand-checked two-block town: delta tables, areas, personas, map."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from gridosm import TOWN_NODES, X0, Y0, lonlat

from gcgeo import InputError
from gcgeo.catalogue import load_catalogue
from gcgeo.scenario import apply_facilities, compare, parse_scenario, persona_categories
from gcgeo.study import Study

from .town import TOL, dist


def test_add_facility_gains_hand_counted_origins(study: Study, origins) -> None:
    lon, lat = lonlat(0, 190)
    sc = parse_scenario(
        f'name = "西区幼儿园"\n[[add_facility]]\ncategory = "kindergarten"\nlon = {lon}\nlat = {lat}\n'
    )
    cats = study.catalogue.select(["kindergarten"])
    res = compare(study.network, study.facilities, cats, origins, sc)
    row = res.delta.iloc[0]
    # before (K at (400,190), 300 m): N3*, N4* except N34 (310), plus B (160) -> 10 of 24
    # the new one at (0,190): N0* (10..210), N10 (290), N11, N12, N13, A (160), E (260) -> +11
    assert (row.before_covered, row.after_covered, row.gained, row.lost) == (10, 21, 11, 0)
    assert row.before_share == pytest.approx(10 / 24, abs=1e-4)
    assert row.delta_share == pytest.approx(11 / 24, abs=1e-4)
    gained = set(res.changes["origin"].map(dict(enumerate(TOWN_NODES))))
    assert gained == {"N00", "N01", "N02", "N03", "N04", "N10", "N11", "N12", "N13", "A", "E"}
    assert dist(res.after[sc.name], "N10") == pytest.approx(290, abs=TOL)
    assert dist(res.after[sc.name], "N14") == pytest.approx(310, abs=TOL)


def test_remove_facility_and_areas(study: Study, origins) -> None:
    fid = study.facilities["facility_id"].iloc[0]
    sc = parse_scenario(f'name = "拆除"\n[[remove_facility]]\nfacility_id = "{fid}"\n')
    fac = apply_facilities(study.facilities, sc)
    assert len(fac) == 0 and len(study.facilities) == 1
    areas = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name_zh": ["西区", "东区"], "name_en": ["West", "East"]},
        geometry=[
            shapely.box(X0 - 50, Y0 - 50, X0 + 199, Y0 + 500),
            shapely.box(X0 + 201, Y0 - 50, X0 + 450, Y0 + 500),
        ],
        crs="EPSG:4548",
    )
    res = compare(
        study.network,
        study.facilities,
        study.catalogue.select(["kindergarten"]),
        origins,
        sc,
        areas,
    )
    d = res.delta.set_index("area_code")
    assert d.loc["all", "lost"] == 10 and d.loc["all", "after_covered"] == 0
    # west block + A + E = 12 origins, none covered before; east block + B = 11, 10 covered
    assert (d.loc["W", "origins"], d.loc["W", "lost"]) == (12, 0)
    assert (d.loc["E", "origins"], d.loc["E", "lost"]) == (11, 10)
    assert d.loc["E", "before_share"] == pytest.approx(10 / 11, abs=1e-4)
    assert set(res.changes["change"]) == {"lost"}


def test_persona_scales_thresholds() -> None:
    cat = load_catalogue().select(["kindergarten", "middle_school"])
    sc = parse_scenario('name = "老人"\npersona = "elderly"\n[personas]\nelderly = 0.55\n')
    assert sc.speed_mps == 0.55
    # The persona rule is defined once (gcgeo.walker.threshold_for, issue item 4): a persona
    # sets the speed and thresholds stay the standard's distances, so `coverage --speed` and a
    # scenario persona agree. This test asserted the old scaling 300 × 0.55 / 1.1 = 150 and
    # 1000 × 0.55 / 1.1 = 500; scaling is now asked for with threshold_basis="time", which
    # takes the tier's minutes at the speed: 5 × 60 × 0.55 = 165, 15 × 60 × 0.55 = 495.
    scaled = persona_categories(cat, sc.speed_mps)
    assert [c.max_distance_m for c in scaled] == [300, 1000]
    timed = persona_categories(cat, sc.speed_mps, threshold_basis="time")
    assert [c.max_distance_m for c in timed] == [165, 495]
    assert parse_scenario('name = "x"\npersona = "child"').speed_mps == 0.9


def _map_changes(m) -> dict[str, int]:
    """Count the origins drawn per change kind in a folium map (walks every element)."""
    import folium

    counts = {"gained": 0, "lost": 0}
    stack = [m]
    while stack:
        el = stack.pop()
        if isinstance(el, folium.GeoJson):
            for f in el.data["features"]:
                kind = f["properties"].get("change")
                if kind:
                    counts[kind] += 1
        stack.extend(el._children.values())
    return counts


def test_scenario_delta_map_counts_match_delta_table(study: Study, origins) -> None:
    from gcgeo.maps import scenario_delta_map, to_html

    lon, lat = lonlat(0, 190)
    add = parse_scenario(
        f'name = "加园"\n[[add_facility]]\ncategory = "kindergarten"\nlon = {lon}\nlat = {lat}\n'
    )
    fid = study.facilities["facility_id"].iloc[0]
    remove = parse_scenario(f'name = "拆除"\n[[remove_facility]]\nfacility_id = "{fid}"\n')
    cats = study.catalogue.select(["kindergarten"])
    res = compare(study.network, study.facilities, cats, origins, [add, remove])
    gained, lost = res.tables["加园"].iloc[0].gained, res.tables["拆除"].iloc[0].lost
    assert gained > 0 and lost == 10
    m = scenario_delta_map(res)
    assert _map_changes(m) == {"gained": gained, "lost": lost}
    page = to_html(m)
    # offline by default: Leaflet inlined, no CDN, no tiles; legend counts; OSM credit
    assert "<script src=" not in page and "tile.openstreetmap.org" not in page
    assert f"新增可达 gained reach ({gained})" in page and f"失去可达 lost reach ({lost})" in page
    assert "#1a9850" in page and "#d73027" in page
    assert "© OpenStreetMap contributors" in page
    # one scenario, no changes: an empty but valid map
    none = parse_scenario('name = "无"\n')
    res0 = compare(study.network, study.facilities, cats, origins, none)
    assert _map_changes(scenario_delta_map(res0)) == {"gained": 0, "lost": 0}
    with pytest.raises(InputError, match="ScenarioResult"):
        scenario_delta_map(object())
