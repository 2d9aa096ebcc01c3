"""Walk filter, projection, components and the CSR graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from osmxml import OSMBuilder, hand_grid

from gcgeo import EmptyNetworkError, InputError
from gcgeo.network import build_network, choose_crs, load_network, walk_decision
from gcgeo.osm import read_osm


@pytest.fixture
def grid_osm(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "grid.osm")


@pytest.mark.parametrize(
    "tags,expected",
    [
        ({"highway": "residential"}, "keep"),
        ({"highway": "footway"}, "keep"),
        ({"highway": "steps"}, "keep"),
        ({"highway": "footway", "foot": "no"}, "drop:foot=no"),
        ({"highway": "residential", "access": "no"}, "drop:access=no"),
        ({"highway": "residential", "access": "no", "foot": "yes"}, "keep"),
        ({"highway": "motorway"}, "drop:motorway"),
        ({"highway": "motorway_link"}, "drop:motorway"),
        # at-grade trunk roads are Chinese urban arterials people walk along: kept by
        # default since the China-aware filter (was "drop:trunk")
        ({"highway": "trunk"}, "keep_trunk"),
        ({"highway": "trunk", "bridge": "yes"}, "drop:trunk bridge/tunnel"),
        ({"highway": "trunk", "bridge": "no"}, "keep_trunk"),
        ({"highway": "trunk", "tunnel": "yes"}, "drop:trunk bridge/tunnel"),
        ({"highway": "trunk", "motorroad": "yes"}, "drop:trunk motorroad"),
        ({"highway": "trunk", "foot": "no"}, "drop:foot=no"),
        ({"highway": "trunk", "access": "no"}, "drop:trunk"),
        ({"highway": "trunk", "bridge": "yes", "sidewalk": "both"}, "keep"),
        ({"highway": "trunk_link"}, "drop:trunk_link"),
        ({"highway": "trunk", "sidewalk": "both"}, "keep"),
        ({"highway": "trunk", "foot": "yes"}, "keep"),
        ({"highway": "cycleway"}, "drop:cycleway"),
        ({"highway": "cycleway", "foot": "designated"}, "keep"),
        ({"highway": "construction"}, "drop:highway=construction"),
        ({"highway": "service", "access": "private"}, "keep_private"),
        ({"highway": "footway", "access": "private"}, "keep_private"),
        ({"highway": "primary", "access": "private"}, "drop:access=private"),
        ({"highway": "pedestrian", "area": "yes"}, "keep"),
        ({"highway": "service", "area": "yes"}, "drop:area"),
    ],
)
def test_walk_decision(tags: dict, expected: str) -> None:
    assert walk_decision(tags) == expected


def test_private_switch() -> None:
    tags = {"highway": "service", "access": "private"}
    assert walk_decision(tags, include_private=False) == "drop:access=private"


def test_trunk_switch() -> None:
    assert walk_decision({"highway": "trunk"}, include_trunk=False) == "drop:trunk"
    # mapped sidewalks keep a trunk road either way
    assert walk_decision({"highway": "trunk", "sidewalk": "both"}, include_trunk=False) == "keep"


def trunk_town() -> tuple[OSMBuilder, dict[str, int]]:
    """A residential street R0..R5 (100 m apart) with one 100 m spur north of each of
    R1..R5, one per kind of trunk road; returns the builder and each spur's way id."""
    b = OSMBuilder()
    for i in range(6):
        b.node(f"R{i}", 100.0 * i, 0.0)
    b.way([f"R{i}" for i in range(6)], highway="residential")
    kinds = {
        "trunk": {"highway": "trunk", "name": "经十路"},
        "bridge": {"highway": "trunk", "bridge": "yes", "layer": "1"},
        "motorroad": {"highway": "trunk", "motorroad": "yes"},
        "link": {"highway": "trunk_link"},
        "foot_no": {"highway": "trunk", "foot": "no"},
    }
    ids = {}
    for i, (kind, tags) in enumerate(kinds.items(), start=1):
        b.node(f"T{i}", 100.0 * i, 100.0)
        ids[kind] = b.way([f"R{i}", f"T{i}"], **tags)
    return b, ids


def test_trunk_rule_on_hand_built_town(tmp_path: Path) -> None:
    b, ids = trunk_town()
    path = b.write(tmp_path / "trunk.osm")
    net = load_network(path)
    kept = set(net.edges["way_id"].tolist())
    # exactly the at-grade trunk road joins the residential street; the others are dropped
    assert kept & set(ids.values()) == {ids["trunk"]}
    r = net.report
    assert r["trunk_ways_kept"] == 1 and r["include_trunk"] is True
    assert r["dropped_by_reason"] == {
        "trunk bridge/tunnel": 1,
        "trunk motorroad": 1,
        "trunk_link": 1,
        "foot=no": 1,
    }
    assert net.n_nodes == 7 and len(net.edges) == 6
    off = load_network(path, include_trunk=False)
    assert set(off.edges["way_id"].tolist()) & set(ids.values()) == set()
    assert off.report["trunk_ways_kept"] == 0 and off.report["include_trunk"] is False
    assert off.report["dropped_by_reason"]["trunk"] == 3  # the plain, bridge and motorroad one
    assert off.n_nodes == 6


def test_hand_grid_network(grid_osm: Path) -> None:
    net = load_network(grid_osm)
    # 12 grid nodes + G (gated compound); M, Q dropped by filter; D1, D2 small component
    assert net.n_nodes == 13
    assert net.crs == "EPSG:4548"
    r = net.report
    assert r["private_ways_kept"] == 1
    assert r["dropped_by_reason"] == {"foot=no": 1, "motorway": 1}
    assert r["components"] == 2 and r["nodes_dropped_small_components"] == 2
    # every grid segment is 100 m (to the cm of OSM's 7-decimal coordinates)
    assert np.allclose(net.edges["length"], 100.0, atol=0.03)
    # 3 rows x 3 + 4 columns x 2 + sidewalk + private = 19 segments
    assert len(net.edges) == 19
    assert net.edges["private"].sum() == 1
    assert set(net.edges.columns) >= {
        "u",
        "v",
        "length",
        "way_id",
        "highway",
        "name",
        "access",
        "foot",
        "sidewalk",
    }


def test_graph_keeps_minimum_of_duplicate_segments(grid_osm: Path) -> None:
    net = load_network(grid_osm)
    g = net.graph
    # N00-N10 is mapped twice (road + sidewalk); the CSR must hold 100 m, not 200 m
    assert g.nnz == 2 * 18  # 19 segments, one duplicate pair, both directions
    assert np.allclose(g.data, 100.0, atol=0.03)
    assert (g != g.T).nnz == 0


def test_private_ways_dropped_on_request(grid_osm: Path) -> None:
    net = load_network(grid_osm, include_private=False)
    assert net.n_nodes == 12
    assert net.report["private_ways_kept"] == 0
    assert net.report["dropped_by_reason"]["access=private"] == 1


def test_keep_all_components(grid_osm: Path) -> None:
    net = load_network(grid_osm, largest_component=False)
    assert net.n_nodes == 15


def test_choose_crs() -> None:
    assert choose_crs(np.array([117.8]), np.array([36.06])) == "EPSG:4548"
    assert choose_crs(np.array([116.35]), np.array([40.0])) == "EPSG:4548"
    assert choose_crs(np.array([24.94]), np.array([60.17])) == "EPSG:32635"  # Helsinki, UTM 35N
    assert choose_crs(np.array([121.5]), np.array([31.2])) == "EPSG:32651"


def test_bad_crs(grid_osm: Path) -> None:
    with pytest.raises(InputError, match="not projected"):
        load_network(grid_osm, crs="EPSG:4326")
    with pytest.raises(InputError, match="not known"):
        load_network(grid_osm, crs="EPSG:999999")


def test_no_walkable_ways(tmp_path: Path) -> None:
    b = OSMBuilder()
    b.node("a", 0, 0)
    b.node("b", 100, 0)
    b.way(["a", "b"], highway="motorway")
    with pytest.raises(EmptyNetworkError, match="No walkable street"):
        load_network(b.write(tmp_path / "motorway.osm"))


# ---------------------------------------------------------------- real data


def test_beijing_walk_filter_keeps_campus_and_drops_motorways(beijing_osm: Path) -> None:
    osm = read_osm(beijing_osm)
    net = build_network(osm, largest_component=False)
    hw = set(net.edges["highway"])
    assert "motorway" not in hw and "motorway_link" not in hw
    assert net.report["dropped_by_reason"]["motorway"] == 5  # 2 motorway + 3 motorway_link ways
    # The 中国农业大学 campus (a gated campus) is crossed by service/footway ways that stay in.
    campus = [
        p
        for p in osm.pois
        if p[4].get("amenity") == "university" and "中国农业大学" in p[4].get("name", "")
    ]
    assert campus, "the sample should hold the CAU campus"


def test_beijing_gated_compound_ways_kept(beijing_osm: Path, tmp_path: Path) -> None:
    """Tag the service/footway ways inside the campus access=private: kept by default, dropped on request."""
    import osmium

    osm = read_osm(beijing_osm)
    campus_geoms = []
    for obj in (
        osmium.FileProcessor(str(beijing_osm))
        .with_areas()
        .with_filter(osmium.filter.TagFilter(("amenity", "university")))
    ):
        if obj.is_area():
            campus_geoms.append(shapely.from_wkb(osmium.geom.WKBFactory().create_multipolygon(obj)))
    campus = shapely.union_all(campus_geoms)
    inside_ids = {
        w.id
        for w in osm.ways
        if w.tags.get("highway") in ("service", "footway")
        and shapely.contains_xy(campus, w.lon, w.lat).all()
    }
    assert len(inside_ids) >= 10
    # rewrite the file with access=private on those ways
    out = tmp_path / "gated.osm"
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(beijing_osm)):
            if obj.is_way() and obj.id in inside_ids:
                tags = dict(obj.tags)
                tags["access"] = "private"
                obj = obj.replace(tags=tags)
            writer.add(obj)
    kept = load_network(out, largest_component=False)
    dropped = load_network(out, include_private=False, largest_component=False)
    assert kept.report["private_ways_kept"] == len(inside_ids)
    assert dropped.report["dropped_by_reason"]["access=private"] == len(inside_ids)
    assert set(kept.edges.loc[kept.edges["private"], "way_id"]) == inside_ids
    assert not set(dropped.edges["way_id"]) & inside_ids


def test_beijing_matches_osmnx_parser(beijing_osm: Path) -> None:
    """An independent parser (osmnx.graph_from_xml) with the same walk filter gives the same segments."""
    import osmnx as ox

    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = old + ["foot", "sidewalk", "motorroad"]
    try:
        G = ox.graph_from_xml(beijing_osm, simplify=False, retain_all=True, bidirectional=True)
    finally:
        ox.settings.useful_tags_way = old
    pairs_ox = set()
    length_ox = {}
    for u, v, d in G.edges(data=True):
        tags = {
            k: d[k]
            for k in (
                "highway",
                "access",
                "foot",
                "sidewalk",
                "area",
                "service",
                "bridge",
                "tunnel",
                "motorroad",
            )
            if isinstance(d.get(k), str)
        }
        if "highway" not in tags or not walk_decision(tags).startswith("keep"):
            continue
        key = (min(u, v), max(u, v))
        pairs_ox.add(key)
        length_ox[key] = min(length_ox.get(key, np.inf), d["length"])
    net = load_network(beijing_osm, largest_component=False)
    ids = net.nodes["osmid"].to_numpy()
    u, v = ids[net.edge_u], ids[net.edge_v]
    pairs = set(zip(np.minimum(u, v).tolist(), np.maximum(u, v).tolist()))
    assert pairs == pairs_ox
    ours = {}
    for a, b, w in zip(
        np.minimum(u, v).tolist(), np.maximum(u, v).tolist(), net.edge_length.tolist()
    ):
        ours[(a, b)] = min(ours.get((a, b), np.inf), w)
    rel = np.array([ours[k] / length_ox[k] - 1 for k in pairs if length_ox[k] > 1])
    # osmnx lengths are spherical (haversine), off the ellipsoid by up to ~0.3 %
    assert np.abs(rel).max() < 5e-3


def test_lengths_match_ellipsoidal_distance(beijing_osm: Path) -> None:
    """EPSG:4548 plane lengths equal WGS-84 ellipsoid distances (pyproj.Geod) to 1e-4."""
    import pyproj

    net = load_network(beijing_osm)
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    _, _, geod = pyproj.Geod(ellps="WGS84").inv(
        lon[net.edge_u], lat[net.edge_u], lon[net.edge_v], lat[net.edge_v]
    )
    long_enough = geod > 5
    rel = net.edge_length[long_enough] / geod[long_enough] - 1
    assert np.abs(rel).max() < 1e-4


JINAN_ROADS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm"
JINAN_ROADS = JINAN_ROADS / "jinan_roads_mtrajrec.osm.pbf"


def test_jinan_trunk_roads_kept(tmp_path: Path) -> None:
    """On the real Jinan road network (only ``highway`` tags) the 1,095 trunk ways are kept
    and join the largest component; the 309 trunk_link ramps stay dropped."""
    if not JINAN_ROADS.is_file():
        pytest.skip(f"shared data file {JINAN_ROADS} is absent on this machine")
    from gcgeo.study import open_study

    kept = open_study(JINAN_ROADS, cache=tmp_path / "cache", osm_facilities=False)
    off = open_study(JINAN_ROADS, cache=tmp_path / "cache", include_trunk=False)
    on, no = kept.meta["network"], off.meta["network"]  # what run.json's study.network holds
    assert off.meta["cache"]["hit"] is False  # its own cache entry, not the trunk one
    assert on["trunk_ways_kept"] == 1095 and on["include_trunk"] is True
    assert no["trunk_ways_kept"] == 0 and no["dropped_by_reason"]["trunk"] == 1095
    assert on["dropped_by_reason"]["trunk_link"] == 309 == no["dropped_by_reason"]["trunk_link"]
    assert "trunk" not in on["dropped_by_reason"]
    assert on["ways_kept"] - no["ways_kept"] == 1095
    # measured: 32,338 nodes / 36,842 edges without trunk roads, 36,095 / 41,184 with them
    assert (no["nodes"], no["edges"]) == (32338, 36842)
    assert (on["nodes"], on["edges"]) == (36095, 41184)
    assert on["nodes_dropped_small_components"] < no["nodes_dropped_small_components"]


def test_geometries_are_built_only_when_asked_for(beijing_osm: Path, tmp_path: Path) -> None:
    """A coverage run reads columns only; the first read of nodes/edges builds the
    geometries, equal to segments drawn from the node coordinates by hand."""
    import geopandas as gpd

    from gcgeo.catalogue import load_catalogue
    from gcgeo.coverage import compute_coverage, grid_origins
    from gcgeo.study import open_study

    study = open_study(beijing_osm, cache=False)
    net = study.network
    cats = load_catalogue().select(["kindergarten", "bus_stop"])
    compute_coverage(net, study.facilities, cats, grid_origins(net, 200, None, "all"))
    assert not isinstance(net.node_table, gpd.GeoDataFrame)
    assert not isinstance(net.edge_table, gpd.GeoDataFrame)
    edges, nodes = net.edges, net.nodes
    assert isinstance(edges, gpd.GeoDataFrame) and edges.crs == net.crs == nodes.crs
    assert list(edges.columns)[-1] == "geometry" and len(edges) == net.n_edges
    for i in (0, len(edges) // 2, len(edges) - 1):
        u, v = int(edges["u"].iloc[i]), int(edges["v"].iloc[i])
        ax, ay = nodes["x"].iloc[u], nodes["y"].iloc[u]
        bx, by = nodes["x"].iloc[v], nodes["y"].iloc[v]
        assert edges.geometry.iloc[i].equals_exact(shapely.LineString([(ax, ay), (bx, by)]), 0)
        assert nodes.geometry.iloc[u].equals_exact(shapely.Point(ax, ay), 0)
    assert net.edges is edges  # built once
    copy = net.replace(report={})
    assert copy.n_edges == net.n_edges and copy.edge_table is net.edge_table
    with pytest.raises(TypeError, match="no part"):
        net.replace(colour="red")
