"""point_distances (numpy same-edge shortcut) equals the straightforward pandas version."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gcgeo.engine import node_distances, point_distances
from gcgeo.network import from_arrays
from gcgeo.snap import snap_points


def _reference(net, nd, origins, sources):
    """The original pandas-merge implementation (kept here as the oracle)."""
    m = len(origins)
    distance = np.full(m, np.inf)
    ok = np.flatnonzero(origins.ok)
    e, t = origins.edge[ok], origins.offset[ok]
    u, v, length = net.edge_u[e], net.edge_v[e], net.edge_length[e]
    via_u, via_v = nd.dist[u] + t, nd.dist[v] + (length - t)
    best = np.minimum(via_u, via_v)
    s_ok = np.flatnonzero(sources.ok)
    same = pd.DataFrame({"o": np.arange(len(ok)), "edge": e, "t": t}).merge(
        pd.DataFrame(
            {
                "s": s_ok,
                "edge": sources.edge[s_ok],
                "ts": sources.offset[s_ok],
                "leg": sources.leg[s_ok],
            }
        ),
        on="edge",
    )
    if len(same):
        same["d"] = (same["t"] - same["ts"]).abs() + same["leg"]
        same = same.sort_values("d").drop_duplicates("o")
        o, d = same["o"].to_numpy(), same["d"].to_numpy()
        best[o] = np.minimum(best[o], d)
    best = np.where(best <= nd.limit, best, np.inf)
    distance[ok] = best + origins.leg[ok]
    return distance


def test_same_edge_matches_reference():
    rng = np.random.default_rng(0)
    side = 20
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (500_000 + j * 80.0 + rng.uniform(-10, 10, i.shape)).ravel()
    y = (4_000_000 + i * 80.0 + rng.uniform(-10, 10, i.shape)).ravel()
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    net = from_arrays(x, y, u, v, "EPSG:4548")
    x0, y0, x1, y1 = net.bounds
    oxy = np.column_stack([rng.uniform(x0, x1, 3000), rng.uniform(y0, y1, 3000)])
    origins = snap_points(net, oxy)
    for n_src in (1, 10, 300):
        # half the sources near origins, so many share an edge with one (some several)
        sxy = np.concatenate(
            [oxy[:n_src] + rng.normal(0, 8, (n_src, 2)), oxy[rng.integers(0, 3000, n_src)]]
        )
        sources = snap_points(net, sxy)
        for limit in (150.0, 600.0, np.inf):
            nd = node_distances(net, sources, limit=limit)
            got = point_distances(net, nd, origins, sources)
            ref = _reference(net, nd, origins, sources)
            found = np.isfinite(ref)
            np.testing.assert_array_equal(np.isfinite(got.distance), found)
            np.testing.assert_allclose(got.distance[found], ref[found], rtol=0, atol=1e-9)
            # the source reported is at that distance
            s = got.source[found]
            assert np.all(s >= 0)
            np.testing.assert_allclose(
                got.street[found] + got.origin_leg[found] + got.source_leg[found],
                got.distance[found],
            )
