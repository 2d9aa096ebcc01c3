"""Scenarios on the hand-checked two-block town: facilities, links, areas, bad files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gridosm import TOWN_NODES, X0, Y0, lonlat, points, two_blocks

from gcgeo import InputError, ScenarioError
from gcgeo.catalogue import load_catalogue
from gcgeo.network import to_networkx
from gcgeo.scenario import (
    add_links,
    apply_facilities,
    compare,
    load_scenario,
    parse_scenario,
    persona_categories,
)
from gcgeo.study import Study, open_study

TOL = 0.05  # OSM stores 7 decimals: ~1 cm per coordinate


def _town(railway: bool = False) -> str:
    b = two_blocks(railway=railway)
    # the kindergarten sits 10 m south of N42 on the x = 400 footway: no distance lands on 300 m
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    return b.xml()


@pytest.fixture
def study(tmp_path: Path) -> Study:
    p = tmp_path / "town.osm"
    p.write_text(_town(), encoding="utf-8")
    return open_study(p)


@pytest.fixture
def origins() -> gpd.GeoDataFrame:
    b = two_blocks()
    return points([b.xy(k) for k in TOWN_NODES], name=TOWN_NODES)


def _ll(x: float, y: float) -> str:
    lon, lat = lonlat(x, y)
    return f"[{lon:.7f}, {lat:.7f}]"


def _dist(res, name: str) -> float:
    o = res.origins
    return float(o.loc[o["name"] == name, "dist_kindergarten_m"].iloc[0])


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
    assert _dist(res.after[sc.name], "N10") == pytest.approx(290, abs=TOL)
    assert _dist(res.after[sc.name], "N14") == pytest.approx(310, abs=TOL)


def test_link_joining_two_dead_ends_shortens_distances(study: Study, origins) -> None:
    b = two_blocks()
    sc = parse_scenario(
        f'name = "连通"\n[[add_link]]\nconnect = [{_ll(*b.xy("A"))}, {_ll(*b.xy("B"))}]\n'
    )
    cats = study.catalogue.select(["kindergarten"])
    net = study.network
    n_nodes, n_edges, nnz = net.n_nodes, len(net.edges), net.graph.nnz
    res = compare(net, study.facilities, cats, origins, sc)
    before, after = res.before[sc.name], res.after[sc.name]
    # before: K -> N41 90 -> N40 190 -> N30 290 -> N20 390 -> N10 490 -> N12 690 -> A 740
    assert _dist(before, "N12") == pytest.approx(690, abs=TOL)
    assert _dist(before, "A") == pytest.approx(740, abs=TOL)
    # after: K -> N32 110 -> B 160 -> (new 100 m link) A 260 -> N12 310
    assert _dist(after, "A") == pytest.approx(260, abs=TOL)
    assert _dist(after, "N12") == pytest.approx(310, abs=TOL)
    assert _dist(after, "N02") == pytest.approx(410, abs=TOL)
    row = res.delta.iloc[0]
    assert (row.gained, row.lost, row.after_covered) == (1, 0, 11)
    # the input network is untouched
    assert (net.n_nodes, len(net.edges), net.graph.nnz) == (n_nodes, n_edges, nnz)


def test_link_end_mid_segment_splits_it(study: Study) -> None:
    net = study.network
    line = np.array([[X0 + 150, Y0 + 200], [X0 + 300, Y0 + 150]])  # A -> middle of N31-N32
    new = add_links(net, [line], straight=[True])
    assert new.n_nodes == net.n_nodes + 1
    assert len(new.edges) == len(net.edges) + 2  # N31-N32 -> two halves, plus the link
    assert net.n_nodes == 24 and not (net.nodes["osmid"] < 0).any()
    g = to_networkx(new)
    xy = new.xy
    a = int(np.flatnonzero((np.abs(xy - [X0 + 150, Y0 + 200]) < 0.05).all(axis=1))[0])
    n42 = int(np.flatnonzero((np.abs(xy - [X0 + 400, Y0 + 200]) < 0.05).all(axis=1))[0])
    import networkx as nx

    d = nx.shortest_path_length(g, a, n42, weight="length")
    assert d == pytest.approx(np.hypot(150, 50) + 50 + 100, abs=TOL)  # A-p, p-N32, N32-N42
    assert new.edges["length"].sum() == pytest.approx(
        net.edges["length"].sum() + np.hypot(150, 50), abs=TOL
    )


def test_line_link_keeps_vertices(study: Study) -> None:
    net = study.network
    line = np.array([[X0 + 150, Y0 + 200], [X0 + 200, Y0 + 260], [X0 + 250, Y0 + 200]])
    new = add_links(net, [line], names=["弯路"])
    assert new.n_nodes == net.n_nodes + 1
    link = new.edges[new.edges["highway"] == "scenario_link"]
    assert len(link) == 2 and link["length"].sum() == pytest.approx(2 * np.hypot(50, 60), abs=TOL)
    assert set(link["name"]) == {"弯路"}


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
    scaled = persona_categories(cat, sc.speed_mps)
    assert [c.max_distance_m for c in scaled] == [150, 500]
    assert parse_scenario('name = "x"\npersona = "child"').speed_mps == 0.9


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
