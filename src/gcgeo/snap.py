"""Snapping points to the nearest point on the nearest street segment.

Vectorised with a shapely 2 STRtree (nearest query with a distance cap) and
numpy projection onto the straight segments. A point farther than the maximum
snap distance is reported unsnapped (``edge == -1``), never silently attached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from ._errors import InputError
from .network import StreetNetwork

__all__ = ["DEFAULT_MAX_SNAP_M", "Snap", "snap_points"]

#: Default maximum distance from a point to the street it is attached to.
DEFAULT_MAX_SNAP_M = 300.0


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
    pts = shapely.points(xy[finite])
    src_idx = np.flatnonzero(finite)
    qi, ti = net.edge_tree.query_nearest(pts, max_distance=max_snap, all_matches=False)
    # with all_matches=False each point yields at most one edge (ties: the first found)
    first = np.ones(len(qi), dtype=bool)
    first[1:] = qi[1:] != qi[:-1]
    qi, ti = qi[first], ti[first]
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
