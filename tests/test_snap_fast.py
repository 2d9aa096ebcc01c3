"""The KD-tree snapping path gives the same answer as an exhaustive STRtree query."""

from __future__ import annotations

import numpy as np
import shapely

from gcgeo.network import from_arrays, load_network
from gcgeo.snap import snap_points


def _grid(side=30, spacing=50.0, seed=0):
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (500_000 + j * spacing + rng.uniform(-10, 10, i.shape)).ravel()
    y = (4_000_000 + i * spacing + rng.uniform(-10, 10, i.shape)).ravel()
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) > 0.05
    # one long diagonal street across the grid (pieces of the KD index)
    u = np.append(u[keep], 0)
    v = np.append(v[keep], side * side - 1)
    return from_arrays(x, y, u, v, "EPSG:4548")


def _check(net, xy, max_snap=300.0):
    s = snap_points(net, xy, max_snap)
    (qi, ti), dist = net.edge_tree.query_nearest(
        shapely.points(xy), max_distance=max_snap, return_distance=True, all_matches=True
    )
    ref = np.full(len(xy), np.inf)
    np.minimum.at(ref, qi, dist)
    assert np.array_equal(s.ok, np.isfinite(ref))
    np.testing.assert_allclose(s.leg[s.ok], ref[s.ok], atol=1e-6)
    equidistant = set(zip(qi.tolist(), ti.tolist(), strict=True))
    chosen = zip(np.flatnonzero(s.ok).tolist(), s.edge[s.ok].tolist(), strict=True)
    assert all(pair in equidistant for pair in chosen)
    e = s.edge[s.ok]
    assert np.all((s.offset[s.ok] >= 0) & (s.offset[s.ok] <= net.edge_length[e] + 1e-9))
    return s


def _points(net, n, pad, seed):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    pts = np.column_stack([rng.uniform(x0 - pad, x1 + pad, n), rng.uniform(y0 - pad, y1 + pad, n)])
    at_nodes = net.xy[rng.integers(0, net.n_nodes, 200)]
    mids = (net.xy[net.edge_u[:200]] + net.xy[net.edge_v[:200]]) / 2
    return np.concatenate([pts, at_nodes, mids])


def test_grid_matches_strtree():
    net = _grid()
    _check(net, _points(net, 3000, 500, 1))
    _check(net, _points(net, 1000, 100, 2), max_snap=15.0)


def test_beijing_matches_strtree(beijing_osm):
    net = load_network(beijing_osm)
    _check(net, _points(net, 5000, 400, 3))


def test_nan_and_empty():
    net = _grid(5)
    s = snap_points(net, np.array([[np.nan, 1.0], [500_010.0, 4_000_000.0]]))
    assert s.edge[0] == -1 and s.ok[1]
    assert len(snap_points(net, np.zeros((0, 2)))) == 0
