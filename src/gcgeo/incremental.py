"""One category's walking distances kept up to date as facilities are added (issue 13).

:class:`CategoryState` holds the node distances and nearest facility of one category
(:func:`gcgeo.engine.node_distances`) and the origins' distances
(:func:`gcgeo.engine.point_distances`). :meth:`CategoryState.add_facility` updates them
exactly without a full recomputation:

* one search from the new facility alone, bounded by the category's search limit (the old
  distances are kept where they are smaller, so the result is the multi-source minimum);
* only the origins whose street has an end that got nearer, or that share the new
  facility's street, are measured again; the method returns the origins that changed.

A full :func:`~gcgeo.engine.node_distances` over all facilities is the test oracle
(``tests/test_incremental.py``). Removing facilities and adding links are not covered yet.
"""

from __future__ import annotations

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
        next indices in the order they are added).
    sources : Snap
    """

    def __init__(self, net: StreetNetwork, sources: Snap, origins: Snap, limit: float) -> None:
        self.net, self.origins, self.limit = net, origins, float(limit)
        self.sources = sources
        self.nodes: NodeDistances = node_distances(net, sources, limit=self.limit)
        self.points: PointDistances = point_distances(net, self.nodes, origins, sources)

    def add_facility(self, snap: Snap) -> np.ndarray:
        """Add one snapped facility; return the indices of the origins whose distance changed.

        Raises
        ------
        ValueError
            ``snap`` is not exactly one point.
        """
        if len(snap) != 1:
            raise ValueError(f"add_facility takes one snapped facility, got {len(snap)}.")
        k = len(self.sources)
        self.sources = _concat(self.sources, snap)
        if not snap.ok[0]:  # beyond the snap distance: it reaches nothing
            return np.zeros(0, dtype=np.int64)
        new = node_distances(self.net, snap, limit=self.limit)
        nearer = new.dist < self.nodes.dist
        dist = np.where(nearer, new.dist, self.nodes.dist)
        source = np.where(nearer, k, self.nodes.source)
        self.nodes = NodeDistances(dist, source, self.limit)
        # origins on a street with an end that got nearer, or on the new facility's street
        o = self.origins
        ok = o.ok
        e = np.where(ok, o.edge, 0)
        touched = ok & (
            nearer[self.net.edge_u[e]] | nearer[self.net.edge_v[e]] | (o.edge == snap.edge[0])
        )
        idx = np.flatnonzero(touched)
        if not len(idx):
            return idx
        part = point_distances(self.net, self.nodes, o.take(idx), self.sources)
        old = self.points
        changed = part.distance < old.distance[idx]
        if changed.any():
            sel, rows = idx[changed], np.flatnonzero(changed)
            self.points = PointDistances(
                _put(old.distance, sel, part.distance[rows]),
                _put(old.source, sel, part.source[rows]),
                _put(old.origin_leg, sel, part.origin_leg[rows]),
                _put(old.source_leg, sel, part.source_leg[rows]),
            )
        return idx[changed]


def _put(a: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = a.copy()
    out[idx] = values
    return out
