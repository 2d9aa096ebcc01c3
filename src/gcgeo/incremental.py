"""One category's walking distances kept up to date as facilities are added or removed
(issue 13).

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

:meth:`CategoryState.remove_facility` searches again only the nodes the removed facility
was nearest to, starting from the nodes around them and from the other facilities on their
streets.

A full :func:`~gcgeo.engine.node_distances` over all facilities is the test oracle
(``tests/test_incremental.py``). :meth:`CategoryState.add_link` adds a straight walking
link: the state moves to the network with the link, and one search from the link end that
got nearer updates every node that gains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely

from . import settings
from ._arrays import ranges
from .contract import morton_order
from .engine import NodeDistances, PointDistances, node_distances, point_distances, to_point
from .network import StreetNetwork
from .scenario import DEFAULT_LINK_SNAP_M, EdgeMap, add_links_mapped
from .snap import Snap, snap_points

__all__ = ["CategoryState"]


def _points_or_nan(xy: np.ndarray | None, n: int) -> np.ndarray:
    if xy is None:
        return np.full((n, 2), np.nan)
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) != n:
        raise ValueError(f"{len(xy)} points given for {n} snapped ones.")
    return xy


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

    def __init__(
        self,
        net: StreetNetwork,
        sources: Snap,
        origins: Snap,
        limit: float,
        *,
        sources_xy: np.ndarray | None = None,
        origins_xy: np.ndarray | None = None,
        max_snap: float = settings.MAX_SNAP_M,
    ) -> None:
        self.net, self.origins, self.limit = net, origins, float(limit)
        self.sources = sources
        self.max_snap = float(max_snap)
        #: projected points of the facilities and origins (NaN where not given): with them,
        #: a link passing nearer than a point's street takes the point, as a fresh snap would
        self.sources_xy = _points_or_nan(sources_xy, len(sources))
        self.origins_xy = _points_or_nan(origins_xy, len(origins))
        self.nodes: NodeDistances = node_distances(net, sources, limit=self.limit)
        self.points: PointDistances = point_distances(net, self.nodes, origins, sources)
        self._index()

    def copy(self) -> CategoryState:
        """An independent state with the same distances: the distance arrays are copied,
        the network and its look-ups (never changed in place) are shared."""
        new = CategoryState.__new__(CategoryState)
        new.__dict__.update(self.__dict__)
        new._pos = np.full(self.net.n_nodes, -1, dtype=np.int64)
        new.nodes = NodeDistances(self.nodes.dist.copy(), self.nodes.source.copy(), self.limit)
        p = self.points
        new.points = PointDistances(
            p.distance.copy(), p.source.copy(), p.origin_leg.copy(), p.source_leg.copy()
        )
        return new

    def _index(self) -> None:
        """The look-ups of the current network: a KD-tree of its nodes, and which origins
        lie on a street ending at each node."""
        from scipy.spatial import cKDTree

        net, origins = self.net, self.origins
        # local searches run on a copy of the graph numbered along a Z-order curve, so the
        # nodes of a neighbourhood sit together in memory (OSM ids are scattered in space)
        self._perm = morton_order(net.xy[:, 0], net.xy[:, 1])  # Z-order position -> node
        self._rank = np.empty(net.n_nodes, dtype=np.int64)
        self._rank[self._perm] = np.arange(net.n_nodes)
        # (the search graph: reversed on slopes, so distances are walks to the facilities)
        self._graph = net.search_graph[self._perm][:, self._perm].tocsr()
        self._graph.sort_indices()
        self._tree = cKDTree(net.xy[self._perm])
        self._pos = np.full(net.n_nodes, -1, dtype=np.int64)  # Z position -> local, scratch
        # node -> origins on a street ending there (CSR: _by_node[_start[n]:_start[n + 1]])
        ok = np.flatnonzero(origins.ok)
        ends = np.concatenate([net.edge_u[origins.edge[ok]], net.edge_v[origins.edge[ok]]])
        order = np.argsort(ends, kind="stable")
        self._by_node = np.concatenate([ok, ok])[order]
        self._start = np.searchsorted(ends[order], np.arange(net.n_nodes + 1))

    def _local_graph(
        self, local: np.ndarray, row_cols: np.ndarray, row_w: np.ndarray, row_len: np.ndarray
    ) -> Any:
        """The street graph induced on ``local`` (sorted Z-order positions), plus virtual
        rows ``len(local) + r`` (no entry points into them): row ``r`` holds ``row_len[r]``
        entries of ``row_cols``/``row_w`` (node ids, distinct within a row).
        Built from the CSR arrays directly."""
        g = self._graph
        m = len(local)
        self._pos[local] = np.arange(m)
        take, counts = ranges(g.indptr[local], g.indptr[local + 1])
        cols = self._pos[g.indices[take]]
        keep = cols >= 0
        row_of = np.repeat(np.arange(m), counts)[keep]
        virtual_cols = self._pos[self._rank[row_cols]]
        self._pos[local] = -1
        indptr = np.concatenate(
            [np.searchsorted(row_of, np.arange(m + 1)), keep.sum() + np.cumsum(row_len)]
        )
        indices = np.concatenate([cols[keep], virtual_cols])
        data = np.concatenate([g.data[take][keep], row_w])
        n = m + len(row_len)
        return sp.csr_matrix((data, indices, indptr), shape=(n, n))

    def add_facility(self, snap: Snap, xy: np.ndarray | None = None) -> np.ndarray:
        """Add one snapped facility; return the indices of the origins whose distance changed.

        ``xy`` (its projected point) lets :meth:`apply_link` move it onto a link that
        passes nearer than its street, as snapping on the new network would.

        Raises
        ------
        ValueError
            ``snap`` is not exactly one point.
        """
        if len(snap) != 1:
            raise ValueError(f"add_facility takes one snapped facility, got {len(snap)}.")
        k = len(self.sources)
        self.sources = _concat(self.sources, snap)
        point = np.full((1, 2), np.nan) if xy is None else np.asarray(xy, float).reshape(1, 2)
        self.sources_xy = np.vstack([self.sources_xy, point])
        return self._place(k, snap)

    def _place(self, k: int, snap: Snap) -> np.ndarray:
        """Facility ``k`` (already in ``sources``) now stands at ``snap``: search from it."""
        from scipy.sparse.csgraph import dijkstra

        if not snap.ok[0]:  # beyond the snap distance: it reaches nothing
            return np.zeros(0, dtype=np.int64)
        net, e = self.net, int(snap.edge[0])
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        # every node a walk of <= limit reaches lies within limit of the facility's point
        # (limit times the fastest downhill pace on slopes), hence that plus length of u
        reach = self.limit * (1.0 if net.costs is None else net.costs.max_speedup)
        local_z = np.sort(self._tree.query_ball_point(net.xy[u], reach + length))
        leg = float(snap.leg[0])
        cu, cv = to_point(net, snap.edge[:1], snap.offset[:1])
        graph = self._local_graph(
            local_z, np.array([u, v]), np.array([leg + cu[0], leg + cv[0]]), np.array([2])
        )  # a segment has two distinct ends: nothing is summed
        local = self._perm[local_z]
        d = dijkstra(graph, directed=True, indices=len(local), limit=self.limit)[: len(local)]
        nearer_local = d < self.nodes.dist[local]
        nodes = local[nearer_local]
        self.nodes.dist[nodes] = d[nearer_local]  # the state's own arrays, updated in place
        self.nodes.source[nodes] = k
        # origins on a street with an end that got nearer, or on the new facility's street
        o = self.origins
        hits = [self._by_node[self._start[n] : self._start[n + 1]] for n in (u, v)]
        if len(nodes):
            hits.append(self._by_node[ranges(self._start[nodes], self._start[nodes + 1])[0]])
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

    def remove_facility(self, index: int) -> np.ndarray:
        """Remove facility ``index`` (of ``sources``); return the origins whose distance changed.

        Only the nodes it was nearest to are searched again, from the nodes around them
        (whose distances cannot change: their walks do not start at the removed facility)
        and from the other facilities on streets touching them. Its index stays taken (the
        facility becomes unsnapped), so other indices keep their meaning.
        """
        from scipy.sparse.csgraph import dijkstra

        if not 0 <= index < len(self.sources):
            raise ValueError(f"no facility {index}; there are {len(self.sources)}.")
        net, dist, source = self.net, self.nodes.dist, self.nodes.source
        edge = self.sources.edge.copy()
        edge[index] = -1
        self.sources = Snap(edge, self.sources.offset, self.sources.leg)
        hit = np.flatnonzero(self.points.source == index)
        area = np.flatnonzero(source == index)
        if len(area):
            inside = np.zeros(net.n_nodes, dtype=bool)
            inside[area] = True
            g = net.graph
            nb = g.indices[ranges(g.indptr[area], g.indptr[area + 1])[0]]
            rim = np.unique(nb[~inside[nb] & np.isfinite(dist[nb])])
            # other facilities on a street with an end in the area start there too
            others = np.flatnonzero(
                (edge >= 0) & (inside[net.edge_u[np.maximum(edge, 0)]]
                               | inside[net.edge_v[np.maximum(edge, 0)]])
            )  # fmt: skip
            e = edge[others]
            ends = np.column_stack([net.edge_u[e], net.edge_v[e]])
            leg = self.sources.leg[others]
            local = np.unique(np.concatenate([area, rim, ends.ravel()]))
            row_cols = np.concatenate([rim, ends.ravel()])
            to_ends = np.column_stack(to_point(net, e, self.sources.offset[others]))
            row_w = np.concatenate([dist[rim], (leg[:, None] + to_ends).ravel()])
            row_len = np.concatenate([np.ones(len(rim), dtype=np.int64),
                                      np.full(len(others), 2, dtype=np.int64)])  # fmt: skip
            if not len(row_len):  # nothing left to walk from: the area is out of reach
                dist[area], source[area] = np.inf, -1
                return self._remeasure(hit)
            local_z = np.sort(self._rank[local])
            graph = self._local_graph(local_z, row_cols, row_w, row_len)
            m = len(local)
            d, _, src = dijkstra(
                graph, directed=True, indices=m + np.arange(len(row_len)), min_only=True,
                limit=self.limit, return_predecessors=True,
            )  # fmt: skip
            row_source = np.concatenate([source[rim], others])
            at = np.searchsorted(local_z, self._rank[area])
            new_src = src[at]
            reached = np.isfinite(d[at]) & (new_src >= m)
            dist[area] = np.where(reached, d[at], np.inf)
            source[area] = np.where(reached, row_source[np.clip(new_src - m, 0, None)], -1)
        return self._remeasure(hit)

    def add_link(self, line: np.ndarray, max_snap: float = DEFAULT_LINK_SNAP_M) -> np.ndarray:
        """Add a straight walking link; return the origins whose distance changed.

        The link's two ends (``line``, shape (2, 2), in ``net.crs``) snap to the street
        as in a scenario's ``connect`` link (:func:`gcgeo.scenario.add_links_mapped`): the
        state moves to the new network, and facilities and origins keep their street
        points. A shortest walk uses the new link at most once, so with the walking
        distances ``d`` before, the ends' new distances are ``d'(a) = min(d(a), d(b) + ℓ)``
        and ``d'(b) = min(d(b), d(a) + ℓ)``; one search from the end that got nearer,
        bounded by the limit, finds every node that gains.

        Raises
        ------
        gcgeo.ScenarioError
            An end lies farther than ``max_snap`` from the street, or the link has no length.
        """
        new, emap = add_links_mapped(self.net, [np.asarray(line, dtype=float)], straight=[True],
                                     max_snap=max_snap)  # fmt: skip
        return self.apply_link(new, emap)

    def apply_link(self, new: StreetNetwork, emap: EdgeMap) -> np.ndarray:
        """Move to ``new``, the current network with one link added (by
        :func:`gcgeo.scenario.add_links_mapped`, whose ``emap`` it returned); return the
        origins whose distance changed. Several states (one per category) can share one
        new network this way."""
        from scipy.sparse.csgraph import dijkstra

        old = self.net
        if int(emap.parent.max(initial=-1)) >= len(old.edges) or (emap.parent < 0).sum() != 1:
            raise ValueError("apply_link takes the current network with exactly one link added.")
        n0, n1 = old.n_nodes, new.n_nodes
        old_sources = self.sources
        self.sources = emap.remap(self.sources)
        self.origins = emap.remap(self.origins)
        # the split points are new nodes: their distance is that of their street point before
        after_split = np.flatnonzero(emap.start > 0)
        split_nodes = new.edge_u[after_split]
        dist = np.concatenate([self.nodes.dist, np.full(n1 - n0, np.inf)])
        source = np.concatenate([self.nodes.source, np.full(n1 - n0, -1, dtype=np.int64)])
        if len(after_split):
            at = Snap(emap.parent[after_split], emap.start[after_split], np.zeros(len(after_split)))
            there = point_distances(old, self.nodes, at, old_sources)
            dist[split_nodes] = there.distance
            source[split_nodes] = there.source
        self.net = new
        self.nodes = NodeDistances(dist, source, self.limit)
        link = np.flatnonzero(emap.parent < 0)[0]
        # origins the link passes nearer than their street move onto it, as a fresh snap would
        moved_o, o_snap = self._nearer_on_link(link, self.origins_xy, self.origins)
        if len(moved_o):
            edge, offset, leg = (a.copy() for a in (self.origins.edge, self.origins.offset,
                                                    self.origins.leg))  # fmt: skip
            edge[moved_o], offset[moved_o], leg[moved_o] = o_snap.edge, o_snap.offset, o_snap.leg
            self.origins = Snap(edge, offset, leg)
        a, b = int(new.edge_u[link]), int(new.edge_v[link])
        if new.costs is None:
            ell = float(new.edge_length[link])
            walk = {(a, b): ell, (b, a): ell}
        else:  # slopes: each way over the link at its own cost
            walk = {(a, b): float(new.costs.fwd[link]), (b, a): float(new.costs.bwd[link])}
        starts = []
        for x, y in ((a, b), (b, a)):
            via = dist[y] + walk[(x, y)]
            if via < dist[x] and via <= self.limit:
                starts.append((x, via, source[y]))
        self._index()
        if starts:
            g = new.search_graph
            k = len(starts)
            cols = np.array([x for x, _, _ in starts])
            w = np.array([c for _, c, _ in starts])
            aug = sp.csr_matrix(
                (
                    np.concatenate([g.data, w]),
                    np.concatenate([g.indices, cols]).astype(g.indices.dtype),
                    np.concatenate([g.indptr, g.indptr[-1] + np.arange(1, k + 1)]),
                ),
                shape=(n1 + k, n1 + k),
            )
            d, _, src = dijkstra(
                aug, directed=True, indices=n1 + np.arange(k), min_only=True,
                limit=self.limit, return_predecessors=True,
            )  # fmt: skip
            d, src = d[:n1], src[:n1]
            gain = np.flatnonzero(d < dist)
            row_source = np.array([s for _, _, s in starts])
            dist[gain] = d[gain]
            source[gain] = row_source[src[gain] - n1]
        else:
            gain = np.zeros(0, dtype=np.int64)
        # origins on a street touching a node that gained, or on a piece of a split street
        pieces = np.flatnonzero(np.isin(emap.parent, emap.parent[after_split]))
        hits = [
            self._by_node[ranges(self._start[gain], self._start[gain + 1])[0]],
            np.flatnonzero(np.isin(self.origins.edge, pieces)),
            moved_o,
        ]
        changed = [self._remeasure(np.unique(np.concatenate(hits)))]
        # facilities the link passes nearer than their street: moved onto it (same index)
        moved_f, f_snap = self._nearer_on_link(link, self.sources_xy, self.sources)
        for j, i in enumerate(moved_f.tolist()):
            changed.append(self.remove_facility(i))
            edge, offset, leg = (a.copy() for a in (self.sources.edge, self.sources.offset,
                                                    self.sources.leg))  # fmt: skip
            edge[i], offset[i], leg[i] = f_snap.edge[j], f_snap.offset[j], f_snap.leg[j]
            self.sources = Snap(edge, offset, leg)
            changed.append(self._place(i, f_snap.take(np.array([j]))))
        return np.unique(np.concatenate(changed))

    def _nearer_on_link(self, link: int, xy: np.ndarray, snap: Snap) -> tuple[np.ndarray, Snap]:
        """Points (with known ``xy``) that snap onto segment ``link`` of the current
        network: nearer to it than to their street, or newly within the snap distance."""
        known = np.flatnonzero(np.isfinite(xy).all(axis=1))
        empty = np.zeros(0, dtype=np.int64)
        if not len(known):
            return empty, snap.take(empty)
        geom = self.net.edges.geometry.values[link]
        near = known[shapely.distance(shapely.points(xy[known]), geom) <= self.max_snap]
        if not len(near):
            return empty, snap.take(empty)
        fresh = snap_points(self.net, xy[near], self.max_snap)
        take = np.flatnonzero(fresh.edge == link)
        return near[take], fresh.take(take)

    def _remeasure(self, idx: np.ndarray) -> np.ndarray:
        """Measure origins ``idx`` again; return those whose distance changed."""
        if not len(idx):
            return idx
        part = point_distances(self.net, self.nodes, self.origins.take(idx), self.sources)
        old = self.points
        changed = part.distance != old.distance[idx]
        old.distance[idx] = part.distance
        old.source[idx] = part.source
        old.origin_leg[idx] = part.origin_leg
        old.source_leg[idx] = part.source_leg
        return idx[changed]
