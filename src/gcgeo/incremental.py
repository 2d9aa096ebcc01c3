"""One category's walking distances kept up to date as facilities are added (issue 13).

:class:`CategoryState` holds the node distances and nearest facility of one category
(:func:`gcgeo.engine.node_distances`) and the origins' distances
(:func:`gcgeo.engine.point_distances`). :meth:`CategoryState.add_facility` updates them
exactly without a full recomputation:

* one search from the new facility alone, on the street nodes within the search limit of it
  as the crow flies (a walk of at most the limit never leaves that disc, so the search is
  exact), keeping the old distances where they are smaller: the multi-source minimum;
* only the origins whose street has an end that got nearer, or that share the new
  facility's street, are measured again (a node → origins index built once); the method
  returns the origins that changed.

The work per addition grows with the streets within the limit, not with the network.

A full :func:`~gcgeo.engine.node_distances` over all facilities is the test oracle
(``tests/test_incremental.py``). Removing facilities and adding links are not covered yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import NodeDistances, PointDistances, node_distances, point_distances
from .network import StreetNetwork
from .snap import Snap

__all__ = ["CategoryState"]


def _concat(a: Snap, b: Snap) -> Snap:
    return Snap(
        np.concatenate([a.edge, b.edge]),
        np.concatenate([a.offset, b.offset]),
        np.concatenate([a.leg, b.leg]),
    )


class CategoryState:
    """Distances of one category, updated exactly as facilities are added.

    Parameters
    ----------
    net : StreetNetwork
    sources : Snap
        The category's snapped facilities.
    origins : Snap
        The snapped origins.
    limit : float
        Search limit (m), as in :func:`gcgeo.coverage.search_limit`.

    Attributes
    ----------
    nodes : NodeDistances
    points : PointDistances
        Of every origin; ``points.source`` indexes ``sources`` (new facilities take the
        next indices in the order they are added). Their arrays belong to the state and
        are updated in place: copy them to keep a "before".
    sources : Snap
    """

    def __init__(self, net: StreetNetwork, sources: Snap, origins: Snap, limit: float) -> None:
        from scipy.spatial import cKDTree

        self.net, self.origins, self.limit = net, origins, float(limit)
        self.sources = sources
        self.nodes: NodeDistances = node_distances(net, sources, limit=self.limit)
        self.points: PointDistances = point_distances(net, self.nodes, origins, sources)
        self._tree = cKDTree(net.xy)
        self._pos = np.full(net.n_nodes, -1, dtype=np.int64)  # global -> local, scratch
        # node -> origins on a street ending there (CSR: _by_node[_start[n]:_start[n + 1]])
        ok = np.flatnonzero(origins.ok)
        ends = np.concatenate([net.edge_u[origins.edge[ok]], net.edge_v[origins.edge[ok]]])
        order = np.argsort(ends, kind="stable")
        self._by_node = np.concatenate([ok, ok])[order]
        self._start = np.searchsorted(ends[order], np.arange(net.n_nodes + 1))

    def _local_graph(
        self, local: np.ndarray, u: int, v: int, snap: Snap, length: float
    ) -> tuple[Any, np.ndarray]:
        """The street graph induced on the sorted nodes ``local``, plus one virtual row
        (index ``len(local)``) for the new facility, built from the CSR arrays directly."""
        import scipy.sparse as sp

        g = self.net.graph
        self._pos[local] = np.arange(len(local))
        lo, hi = g.indptr[local], g.indptr[local + 1]
        counts = hi - lo
        take = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        cols = self._pos[g.indices[take]]
        keep = cols >= 0
        row_of = np.repeat(np.arange(len(local)), counts)[keep]
        at = self._pos[[u, v]]
        self._pos[local] = -1
        t, leg = float(snap.offset[0]), float(snap.leg[0])
        indptr = np.concatenate(
            [np.searchsorted(row_of, np.arange(len(local) + 1)), [keep.sum() + 2]]
        )
        indices = np.concatenate([cols[keep], at])  # two distinct ends: nothing is summed
        data = np.concatenate([g.data[take][keep], [leg + t, leg + (length - t)]])
        n = len(local) + 1
        return sp.csr_matrix((data, indices, indptr), shape=(n, n)), at

    def add_facility(self, snap: Snap) -> np.ndarray:
        """Add one snapped facility; return the indices of the origins whose distance changed.

        Raises
        ------
        ValueError
            ``snap`` is not exactly one point.
        """
        from scipy.sparse.csgraph import dijkstra

        if len(snap) != 1:
            raise ValueError(f"add_facility takes one snapped facility, got {len(snap)}.")
        k = len(self.sources)
        self.sources = _concat(self.sources, snap)
        if not snap.ok[0]:  # beyond the snap distance: it reaches nothing
            return np.zeros(0, dtype=np.int64)
        net, e = self.net, int(snap.edge[0])
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        # every node a walk of <= limit reaches lies within limit of the facility's point,
        # hence within limit + length of u
        local = np.sort(self._tree.query_ball_point(net.xy[u], self.limit + length))
        graph, at = self._local_graph(local, u, v, snap, length)
        d = dijkstra(graph, directed=True, indices=len(local), limit=self.limit)[: len(local)]
        nearer_local = d < self.nodes.dist[local]
        nodes = local[nearer_local]
        self.nodes.dist[nodes] = d[nearer_local]  # the state's own arrays, updated in place
        self.nodes.source[nodes] = k
        # origins on a street with an end that got nearer, or on the new facility's street
        o = self.origins
        hits = [self._by_node[self._start[n] : self._start[n + 1]] for n in (u, v)]
        if len(nodes):
            lo, hi = self._start[nodes], self._start[nodes + 1]
            counts = hi - lo
            pos = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            hits.append(self._by_node[pos])
        idx = np.unique(np.concatenate(hits))
        if not len(idx):
            return idx
        part = point_distances(net, self.nodes, o.take(idx), self.sources)
        old = self.points
        changed = part.distance < old.distance[idx]
        sel = idx[changed]
        old.distance[sel] = part.distance[changed]
        old.source[sel] = part.source[changed]
        old.origin_leg[sel] = part.origin_leg[changed]
        old.source_leg[sel] = part.source_leg[changed]
        return sel
