"""Capacity-aware accessibility: two-step floating catchment (2SFCA) scores on network walks.

:func:`od_pairs` lists every (origin, facility) pair within a catchment with the whole walk
between them (access legs included), from one bounded search per facility on the
contracted street graph (:mod:`gcgeo.contract`), in chunks so memory stays bounded.
:func:`fca_scores` then computes, with ``P_i`` the population of origin ``i``, ``S_j`` the
capacity of facility ``j``, ``d_ij`` the walk and ``w`` a distance weight (zero beyond the
catchment ``d0``):

    R_j = S_j / Σ_i w(d_ij) P_i          (supply per resident reaching facility j)
    A_i = Σ_j w(d_ij) R_j                (what origin i can reach, shared out)

* ``2sfca`` — ``w = 1`` within ``d0`` (Luo & Wang 2003);
* ``e2sfca`` — three distance bands of the catchment with weights 1, 0.68, 0.22 (Luo & Qi
  2009), ``w(d) = 1`` for ``d ≤ d0/3``, 0.68 for ``d ≤ 2 d0/3``, 0.22 for ``d ≤ d0``;
* ``gaussian`` — ``w(d) = exp(-d² / (2 σ²))`` with ``σ = d0 / 2``, within ``d0``.

These are the formulas of PySAL ``access`` (``two_stage_fca`` with ``weight_fn``), which the
tests run on the cost table :func:`od_pairs` exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import dijkstra

from ._errors import InputError
from .engine import from_point, point_starts, walk_along
from .network import StreetNetwork
from .snap import Snap

__all__ = ["E2SFCA_WEIGHTS", "METHODS", "ODPairs", "distance_weight", "fca_scores", "od_pairs"]

METHODS = ("2sfca", "e2sfca", "gaussian")
#: (share of the catchment, weight) bands of ``e2sfca``.
E2SFCA_WEIGHTS = ((1 / 3, 1.0), (2 / 3, 0.68), (1.0, 0.22))
_CELLS = 4_000_000  # floats per dense chunk (~32 MB)


@dataclass(frozen=True)
class ODPairs:
    """Origin → facility walks within a catchment (long format)."""

    origin: np.ndarray  # positions in the origins given
    facility: np.ndarray  # positions in the facilities given
    distance: np.ndarray  # whole walk, m


def od_pairs(net: StreetNetwork, origins: Snap, facilities: Snap, max_m: float) -> ODPairs:
    """Every (origin, facility) pair whose whole walk is at most ``max_m``."""
    if not (np.isfinite(max_m) and max_m > 0):
        raise InputError(f"catchment {max_m!r} must be a positive number of metres.")
    con = net.contraction
    o_ok = np.flatnonzero(origins.ok)
    f_ok = np.flatnonzero(facilities.ok)
    empty = np.zeros(0, dtype=np.int64)
    if not len(o_ok) or not len(f_ok):
        return ODPairs(empty, empty, np.zeros(0))
    oe, ot, oleg = origins.edge[o_ok], origins.offset[o_ok], origins.leg[o_ok]
    ou, ov = net.edge_u[oe], net.edge_v[oe]
    o_to_u, o_to_v = from_point(net, oe, ot)  # the origins' walks to their segment's ends
    fe, ft, fleg = facilities.edge[f_ok], facilities.offset[f_ok], facilities.leg[f_ok]
    starts = point_starts(net, fe, ft)  # slopes: rows are walks to each facility
    aug = con.augmented(starts)
    k = con.n_kept
    chunk = int(max(1, min(256, _CELLS // max(k + len(f_ok), len(o_ok), 1))))
    out_o, out_f, out_d = [], [], []
    for a in range(0, len(f_ok), chunk):
        rows = np.arange(a, min(a + chunk, len(f_ok)))
        dist = dijkstra(aug, directed=True, indices=k + rows, limit=max_m)
        st = starts.take(rows)
        r = (rows - a)[:, None]
        d = np.minimum(
            con.values_at(dist, r, ou[None, :], st) + o_to_u[None, :],
            con.values_at(dist, r, ov[None, :], st) + o_to_v[None, :],
        )
        same = fe[rows][:, None] == oe[None, :]
        direct = walk_along(net, same, oe[None, :], ot[None, :], ft[rows][:, None])
        d = np.where(same, np.minimum(d, direct), d)
        d = d + fleg[rows][:, None] + oleg[None, :]
        fi, oi = np.nonzero(d <= max_m)
        out_o.append(o_ok[oi])
        out_f.append(f_ok[rows[fi]])
        out_d.append(d[fi, oi])
    o = np.concatenate(out_o)
    f = np.concatenate(out_f)
    dd = np.concatenate(out_d)
    order = np.lexsort((f, o))
    return ODPairs(o[order], f[order], dd[order])


def distance_weight(method: str, d: np.ndarray, catchment_m: float) -> np.ndarray:
    """The weight of each walk ``d`` under ``method`` (0 beyond the catchment)."""
    d = np.asarray(d, dtype=float)
    if method == "2sfca":
        w = np.ones_like(d)
    elif method == "e2sfca":
        w = np.zeros_like(d)
        for share, weight in reversed(E2SFCA_WEIGHTS):
            w = np.where(d <= share * catchment_m, weight, w)
    elif method == "gaussian":
        sigma = catchment_m / 2
        w = np.exp(-d * d / (2 * sigma * sigma))
    else:
        raise InputError(f"method {method!r} must be one of {', '.join(METHODS)}.")
    return np.where(d <= catchment_m, w, 0.0)


def fca_scores(
    pairs: ODPairs,
    population: np.ndarray,
    capacity: np.ndarray,
    catchment_m: float,
    method: str = "2sfca",
) -> tuple[np.ndarray, np.ndarray]:
    """Scores per origin ``A_i`` and supply-to-demand ratio per facility ``R_j``.

    A facility no resident reaches has ``R_j = 0`` (nobody to serve); an origin reaching no
    facility scores 0.
    """
    population = np.asarray(population, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    w = distance_weight(method, pairs.distance, catchment_m)
    demand = np.bincount(pairs.facility, weights=w * population[pairs.origin],
                         minlength=len(capacity))  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, capacity / np.where(demand > 0, demand, 1.0), 0.0)
    score = np.bincount(pairs.origin, weights=w * ratio[pairs.facility], minlength=len(population))
    return score, ratio
