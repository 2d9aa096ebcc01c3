"""The reachability engine: distances to the nearest facility, array-based.

For one category, every facility becomes a virtual source node joined to the
two ends of the street segment it snaps to, with weights ``access leg +
partial segment``. One multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra``
with ``min_only=True``) then gives, for every street node, the walking
distance to the nearest facility and which facility that is. An origin
snapped to a segment takes the better of its two ends, or a facility on the
same segment directly, plus its own access leg. There is no Python loop over
facilities or origins and no networkx on this path.

With slopes (a network with :attr:`~gcgeo.network.StreetNetwork.costs`, see
:mod:`gcgeo.terrain`) every distance is the walk *from* the node or origin *to* the
facility, in flat-equivalent metres: the search runs on the reversed graph and each
partial segment costs its own direction's share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from . import settings
from .contract import Starts, search
from .network import StreetNetwork
from .parallel import fork_map, note_processes, processes
from .snap import DEFAULT_MAX_SNAP_M, Snap, snap_points

__all__ = [
    "DEFAULT_SPEED_MPS",
    "NodeDistances",
    "PointDistances",
    "augmented_graph",
    "from_point",
    "node_distances",
    "node_distances_many",
    "search_processes",
    "point_distances",
    "point_starts",
    "snap_category",
    "to_point",
    "walk_along",
]

#: Default walking speed (m/s); Chinese studies use 1.0–1.2, the elderly 0.8.
DEFAULT_SPEED_MPS = settings.WALK_SPEED_MPS


@dataclass(frozen=True)
class NodeDistances:
    """Walking distance from every street node to the nearest source.

    Attributes
    ----------
    dist : ndarray of float, shape (n_nodes,)
        Metres, access leg of the source included; ``inf`` beyond ``limit``.
    source : ndarray of int, shape (n_nodes,)
        Index (into the sources given) of the nearest one; ``-1`` if none.
    limit : float
    """

    dist: np.ndarray
    source: np.ndarray
    limit: float


@dataclass(frozen=True)
class PointDistances:
    """Walking distance from points (origins) to the nearest source (facility).

    Attributes
    ----------
    distance : ndarray
        Whole walk in metres: origin access leg + street distance + facility
        access leg; ``inf`` when unsnapped or nothing within the limit.
    source : ndarray of int
        Index of the nearest source, ``-1`` if none.
    origin_leg, source_leg : ndarray
        The two straight access legs (m) of that walk (``nan`` when none).
    """

    distance: np.ndarray
    source: np.ndarray
    origin_leg: np.ndarray
    source_leg: np.ndarray

    @property
    def street(self) -> np.ndarray:
        """Distance along streets only (m)."""
        return self.distance - self.origin_leg - self.source_leg


def augmented_graph(
    net: StreetNetwork, points: Snap, *, legs: bool = True
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The street graph plus one virtual source row per snapped point.

    Each snapped point becomes a node ``n + i`` (``n = net.n_nodes``) with two
    directed entries, to the ``u`` and ``v`` ends of its segment, weighted
    ``leg + offset`` and ``leg + (length - offset)``. No entry points *into*
    a virtual node, so with ``directed=True`` a walk can start at one but
    never pass through one. The base rows are ``net.graph`` as is (one entry
    per node pair, the minimum length: nothing is summed), and the two
    entries of a virtual row are distinct (a segment has two different ends),
    so building from ``(data, indices, indptr)`` adds nothing up.

    Parameters
    ----------
    net : StreetNetwork
    points : Snap
        Snapped points; unsnapped ones get no row.
    legs : bool
        Add each point's access leg to its two weights (facilities as
        sources); ``False`` leaves the legs for the caller to add.

    Returns
    -------
    graph : csr_matrix, shape (n + k, n + k)
        ``k`` = number of snapped points.
    rows : ndarray of int, shape (k,)
        Position in ``points`` of virtual row ``n + i``.
    """
    base = net.search_graph
    n = net.n_nodes
    ok = np.flatnonzero(points.ok)
    k = len(ok)
    e = points.edge[ok]
    t = points.offset[ok]
    cols = np.column_stack([net.edge_u[e], net.edge_v[e]]).ravel()
    w = np.column_stack(to_point(net, e, t))
    if legs:
        w = points.leg[ok][:, None] + w
    indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, k + 1)])
    indices = np.concatenate([base.indices, cols]).astype(base.indices.dtype, copy=False)
    data = np.concatenate([base.data, w.ravel()])
    aug = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))
    return aug, ok


def to_point(
    net: StreetNetwork, edge: np.ndarray, offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The walks from segment ``edge``'s ``u`` and ``v`` ends to the point at ``offset``."""
    return _walks(net, edge, offset)[:2]


def from_point(
    net: StreetNetwork, edge: np.ndarray, offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The walks from the point at ``offset`` on ``edge`` to the segment's ``u`` and ``v``."""
    return _walks(net, edge, offset)[2:]


def _walks(net: StreetNetwork, edge: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, ...]:
    """``u → point, v → point, point → u, point → v`` (each the partial length when level)."""
    if net.costs is None:
        rest = net.edge_length[edge] - offset
        return offset, rest, offset, rest
    from_u, back_u = net.costs.along(edge, offset)
    return from_u, net.costs.bwd[edge] - back_u, back_u, net.costs.fwd[edge] - from_u


def point_starts(net: StreetNetwork, edge: np.ndarray, offset: np.ndarray) -> Starts:
    """Points on segments as start rows of ``net.contraction`` (with slopes, reached by
    the walks from their segment's ends, :func:`to_point`)."""
    length = net.edge_length[edge]
    if net.costs is None:
        return net.contraction.starts(edge, offset, length)
    cu, cv = to_point(net, edge, offset)
    return net.contraction.starts(edge, offset, length, cost_u=cu, cost_v=cv)


def walk_along(
    net: StreetNetwork, same: np.ndarray, edge: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """The walk along a shared segment from offset ``start`` to ``end``, for the pairs where
    ``same`` is true (``edge``, ``start``, ``end`` broadcast to ``same.shape``; other
    entries are not meaningful)."""
    if net.costs is None:
        return np.abs(end - start)
    out = np.full(same.shape, np.inf)
    i, j = np.nonzero(same)
    pick = [np.broadcast_to(a, same.shape)[i, j] for a in (edge, start, end)]
    out[i, j] = net.costs.between(*pick)
    return out


def snap_category(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    category_id: str,
    max_snap: float = DEFAULT_MAX_SNAP_M,
) -> Snap:
    """Snap the facilities of one category to the network.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        Point facilities with a ``category`` column (any CRS).
    category_id : str
        Keep the rows whose ``category`` equals this.
    max_snap : float
        Maximum access leg (m).

    Returns
    -------
    Snap
        One entry per kept row, in the frame's order.
    """
    fac = facilities[facilities["category"] == category_id]
    xy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
    return snap_points(net, xy, max_snap)


def node_distances(
    net: StreetNetwork, sources: Snap, limit: float = np.inf, *, contracted: bool = True
) -> NodeDistances:
    """Multi-source Dijkstra from snapped sources to every street node.

    Parameters
    ----------
    net : StreetNetwork
    sources : Snap
        Snapped facilities (unsnapped ones are ignored).
    limit : float
        Stop searching beyond this walking distance (m).
    contracted : bool
        Search the contracted graph (:mod:`gcgeo.contract`, the default) and
        expand to every node; ``False`` searches the full segment graph (the
        reference the contracted search is tested against).

    Returns
    -------
    NodeDistances
    """
    n = net.n_nodes
    if not sources.ok.any():
        return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), limit)
    ok = np.flatnonzero(sources.ok)
    if contracted:
        e = sources.edge[ok]
        cu, cv = (None, None) if net.costs is None else to_point(net, e, sources.offset[ok])
        dist, pos = search(
            net.contraction,
            e,
            sources.offset[ok],
            sources.leg[ok],
            net.edge_length[e],
            limit=limit,
            cost_u=cu,
            cost_v=cv,
        )
        source = np.where(pos >= 0, ok[np.maximum(pos, 0)], -1).astype(np.int64)
        return NodeDistances(dist, source, limit)
    aug, ok = augmented_graph(net, sources)
    virtual = n + np.arange(len(ok))
    dist, _pred, src = dijkstra(
        aug,
        directed=True,
        indices=virtual,
        min_only=True,
        limit=limit,
        return_predecessors=True,
    )
    dist = dist[:n]
    src = src[:n]
    source = np.where(src >= n, ok[np.clip(src - n, 0, len(ok) - 1)], -1).astype(np.int64)
    return NodeDistances(dist, source, limit)


def search_processes(net: StreetNetwork, n_jobs: int) -> int:
    """How many processes :func:`node_distances_many` uses for ``n_jobs`` searches on
    ``net`` now: 1 below ``settings.SEARCH_FORK_MIN_NODES`` street nodes, otherwise
    :func:`gcgeo.parallel.processes`."""
    if net.n_nodes < settings.SEARCH_FORK_MIN_NODES:
        return 1
    return processes(n_jobs)


def node_distances_many(
    net: StreetNetwork,
    jobs: Sequence[tuple[Snap, float]],
    *,
    contracted: bool = True,
    report: dict[str, int] | None = None,
) -> list[NodeDistances]:
    """:func:`node_distances` for several source sets (one per category), on several cores.

    The searches are independent, so they are shared between this process and forked
    workers (:func:`gcgeo.parallel.fork_map`, ``settings.SEARCH_PROCESSES``) when the
    network has at least ``settings.SEARCH_FORK_MIN_NODES`` nodes; the results are the
    same, bit for bit, as calling :func:`node_distances` for each job.

    Parameters
    ----------
    net : StreetNetwork
    jobs : sequence of (Snap, float)
        Each category's snapped sources and search limit (m).
    contracted : bool
        As for :func:`node_distances`.
    report : dict, optional
        Receives ``processes``: how many processes the searches really ran on.

    Returns
    -------
    list of NodeDistances
        In the order of ``jobs``.
    """
    if search_processes(net, len(jobs)) == 1:
        note_processes(report, 1)
        return [node_distances(net, s, limit=lim, contracted=contracted) for s, lim in jobs]
    # built once here and inherited by the workers, not once in each of them
    net.contraction if contracted else net.search_graph  # noqa: B018

    def one(job: tuple[Snap, float]) -> tuple[np.ndarray, np.ndarray]:
        nd = node_distances(net, job[0], limit=job[1], contracted=contracted)
        return nd.dist, nd.source

    n = net.n_nodes
    weights = [min(float(lim), 1e9) for _s, lim in jobs]  # a farther limit reaches more nodes
    out = fork_map(one, list(jobs), [(np.float64, n), (np.int64, n)], weights, report)
    return [NodeDistances(d, src, lim) for (d, src), (_s, lim) in zip(out, jobs, strict=True)]


def _same_edge(
    e: np.ndarray, t: np.ndarray, sources: Snap, s_ok: np.ndarray, net: StreetNetwork | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point on edge ``e`` at offset ``t``: the nearest source on the same edge.

    Returns (point positions, distance along the edge + source leg, source
    index); equal distances go to the lowest source index. With a directed ``net``
    the distance is the walk from the point to the source.
    """
    se = sources.edge[s_ok]
    order = np.argsort(se, kind="stable")
    se, s_sorted = se[order], s_ok[order]
    lo = np.searchsorted(se, e, side="left")
    cnt = np.searchsorted(se, e, side="right") - lo
    has = np.flatnonzero(cnt)
    if not len(has):
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0), empty
    c = cnt[has]
    o = np.repeat(has, c)
    within = np.arange(len(o)) - np.repeat(np.cumsum(c) - c, c)
    s = s_sorted[np.repeat(lo[has], c) + within]
    if net is not None and net.costs is not None:
        d = net.costs.between(e[o], t[o], sources.offset[s]) + sources.leg[s]
    else:
        d = np.abs(t[o] - sources.offset[s]) + sources.leg[s]
    pick = np.lexsort((s, d, o))
    o, d, s = o[pick], d[pick], s[pick]
    first = np.ones(len(o), dtype=bool)
    first[1:] = o[1:] != o[:-1]
    return o[first], d[first], s[first]


def point_distances(
    net: StreetNetwork, nd: NodeDistances, origins: Snap, sources: Snap
) -> PointDistances:
    """Walking distance from snapped origins to the nearest source.

    Parameters
    ----------
    net : StreetNetwork
    nd : NodeDistances
        From :func:`node_distances` with the same ``sources``.
    origins, sources : Snap

    Returns
    -------
    PointDistances
    """
    m = len(origins)
    distance = np.full(m, np.inf)
    source = np.full(m, -1, dtype=np.int64)
    ok = np.flatnonzero(origins.ok)
    if len(ok):
        e = origins.edge[ok]
        t = origins.offset[ok]
        u = net.edge_u[e]
        v = net.edge_v[e]
        to_u, to_v = from_point(net, e, t)
        via_u = nd.dist[u] + to_u
        via_v = nd.dist[v] + to_v
        use_u = via_u <= via_v
        best = np.where(use_u, via_u, via_v)
        best_src = np.where(use_u, nd.source[u], nd.source[v])
        # a facility on the very same segment: walk straight along it
        s_ok = np.flatnonzero(sources.ok)
        if len(s_ok):
            o, d, s = _same_edge(e, t, sources, s_ok, net)
            if len(o):
                better = d < best[o]
                best[o[better]] = d[better]
                best_src[o[better]] = s[better]
        best = np.where(best <= nd.limit, best, np.inf)
        best_src = np.where(np.isfinite(best), best_src, -1)
        distance[ok] = best + origins.leg[ok]
        source[ok] = best_src
    found = source >= 0
    origin_leg = np.where(found, origins.leg, np.nan)
    source_leg = np.full(m, np.nan)
    source_leg[found] = sources.leg[source[found]]
    distance = np.where(found, distance, np.inf)
    return PointDistances(distance, source, origin_leg, source_leg)
