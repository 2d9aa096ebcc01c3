"""Snapping points to the nearest point on the nearest street segment.

Vectorised with a shapely 2 STRtree (nearest query with a distance cap) and
numpy projection onto the straight segments. A point farther than the maximum
snap distance is reported unsnapped (``edge == -1``), never silently attached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import settings
from ._errors import InputError
from .network import StreetNetwork

__all__ = ["DEFAULT_MAX_SNAP_M", "Snap", "snap_points"]

#: Default maximum distance from a point to the street it is attached to.
DEFAULT_MAX_SNAP_M = settings.MAX_SNAP_M


@dataclass(frozen=True)
class Snap:
    """Where each point meets the street network.

    Attributes
    ----------
    edge : ndarray of int
        Row of ``net.edges`` the point snaps to; ``-1`` if beyond the snap distance.
    offset : ndarray of float
        Distance (m) from the edge's ``u`` end along the edge to the snapped point.
    leg : ndarray of float
        Straight access leg (m) from the point to the street; ``inf`` if unsnapped.
    """

    edge: np.ndarray
    offset: np.ndarray
    leg: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, idx: np.ndarray) -> Snap:
        """The snaps of a subset of points."""
        return Snap(self.edge[idx], self.offset[idx], self.leg[idx])


def snap_points(net: StreetNetwork, xy: np.ndarray, max_snap: float = DEFAULT_MAX_SNAP_M) -> Snap:
    """Snap projected points to the nearest street segment.

    Parameters
    ----------
    net : StreetNetwork
    xy : ndarray, shape (n, 2)
        Point coordinates in ``net.crs``.
    max_snap : float
        Points farther than this (m) from every street stay unsnapped.

    Returns
    -------
    Snap
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if not np.isfinite(max_snap) or max_snap <= 0:
        raise InputError(f"max snap distance {max_snap!r} must be a positive number of metres.")
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.zeros(n)
    leg = np.full(n, np.inf)
    if n == 0:
        return Snap(edge, offset, leg)
    finite = np.isfinite(xy).all(axis=1)
    src_idx = np.flatnonzero(finite)
    qi, ti = _nearest_edges(net, xy[finite], max_snap)
    rows = src_idx[qi]
    a = net.xy[net.edge_u[ti]]
    b = net.xy[net.edge_v[ti]]
    p = xy[rows]
    ab = b - a
    len2 = (ab**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, ((p - a) * ab).sum(axis=1) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    foot = a + ab * t[:, None]
    edge[rows] = ti
    offset[rows] = t * net.edge_length[ti]
    leg[rows] = np.hypot(*(p - foot).T)
    return Snap(edge, offset, leg)


def _seg_dist(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Distance from points ``(px, py)`` to segments ``seg[..., 0:4] = ax, ay, bx, by``."""
    ax, ay = seg[..., 0], seg[..., 1]
    dx, dy = seg[..., 2] - ax, seg[..., 3] - ay
    qx, qy = px - ax, py - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, (qx * dx + qy * dy) / len2, 0.0)
    np.clip(t, 0.0, 1.0, out=t)
    return np.hypot(qx - t * dx, qy - t * dy)


def _nearest_edges(
    net: StreetNetwork, xy: np.ndarray, max_snap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest edge within ``max_snap`` of each point: (point positions, edge rows).

    Exact, like ``edge_tree.query_nearest``, but vectorised: a KD-tree over the
    midpoints of edge pieces no longer than ``chunk`` gives candidates; the
    nearest edge has a piece whose midpoint lies within ``d + chunk / 2`` of the
    point (``d`` = best exact distance among candidates), so when the k-th
    candidate lies farther than that, the answer is certain. The few points
    without that certificate take every piece within that radius (a ball query
    on the same tree), so no segment geometry is needed. Equidistant edges: the
    lowest row wins.
    """
    n = len(xy)
    if n == 0 or net.n_edges == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    tree, piece_edge, chunk, seg = net.snap_index
    bound = max_snap + chunk / 2
    best_e = np.full(n, -1, dtype=np.int64)
    best_d = np.full(n, np.inf)
    todo = np.arange(n)
    for k in (8, 32):
        k = min(k, len(piece_edge))
        dk, ik = tree.query(xy[todo], k=k, distance_upper_bound=bound, workers=-1)
        dk = dk.reshape(len(todo), k)
        ik = ik.reshape(len(todo), k)
        valid = ik < len(piece_edge)
        big = np.iinfo(np.int64).max
        cand = np.where(valid, piece_edge[np.minimum(ik, len(piece_edge) - 1)], big)
        pts = xy[todo]
        d = _seg_dist(pts[:, :1], pts[:, 1:], seg[np.minimum(cand, len(seg) - 1)])
        d = np.where(valid, d, np.inf)
        dmin = d.min(axis=1)
        tie = d == dmin[:, None]
        e = np.where(tie, cand, big).min(axis=1)
        certain = (~valid[:, -1]) | (dk[:, -1] > dmin + chunk / 2)
        best_d[todo] = dmin
        best_e[todo] = np.where(np.isfinite(dmin), e, -1)
        todo = todo[~certain]
        if len(todo) == 0 or k == len(piece_edge):
            break
    if len(todo) and k < len(piece_edge):
        # still uncertain (many short pieces near the point): every piece whose midpoint
        # lies within d + chunk / 2, where the nearest edge must have one
        radius = np.minimum(best_d[todo] + chunk / 2, bound)
        balls = tree.query_ball_point(xy[todo], radius, workers=-1)
        cnt = np.fromiter((len(b) for b in balls), dtype=np.int64, count=len(balls))
        owner = np.repeat(np.arange(len(todo)), cnt)
        cand = piece_edge[np.concatenate(balls).astype(np.int64)] if cnt.sum() else owner
        p = xy[todo[owner]]
        d = _seg_dist(p[:, 0], p[:, 1], seg[cand])
        order = np.lexsort((cand, d, owner))  # per point: nearest, then lowest row
        owner, cand, d = owner[order], cand[order], d[order]
        first = np.ones(len(owner), dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        best_e[todo] = -1
        best_d[todo] = np.inf
        best_e[todo[owner[first]]] = cand[first]
        best_d[todo[owner[first]]] = d[first]
    hit = (best_e >= 0) & (best_d <= max_snap)
    return np.flatnonzero(hit), best_e[hit]
