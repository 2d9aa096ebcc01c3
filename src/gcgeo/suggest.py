"""Where to build: greedy maximal covering of uncovered origins for one category.

Candidate sites are network nodes (optionally only those inside a zone or
renewal area) or a planner's points (parcels). Which origins each candidate
would serve is computed array-based, from the origins' side: one bounded
multi-row Dijkstra (``limit`` = the category threshold) from the origins'
snapped positions, chunked, gives a sparse candidate × origin matrix. The
greedy then picks, K times, the candidate adding the most not-yet-covered
(population-weighted) origins, and the result is compared with random K-site
draws (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import InputError
from .catalogue import Category
from .columns import POPULATION
from .coverage import project_points
from .engine import (
    from_point,
    node_distances,
    point_distances,
    point_starts,
    snap_category,
    walk_along,
)
from .network import StreetNetwork, area_in_crs
from .snap import DEFAULT_MAX_SNAP_M, Snap, snap_points

__all__ = [
    "SuggestResult",
    "coverage_matrix",
    "greedy_cover",
    "suggest_sites",
]

_DENSE_CELLS = 4_000_000


@dataclass
class SuggestResult:
    """Greedy site picks with their marginal gains, and the random baseline.

    Attributes
    ----------
    picks : GeoDataFrame
        One row per pick: ``pick`` (1..K), ``candidate`` (row of
        ``candidates``), ``osmid`` (node candidates) or candidate ``id``,
        ``lon``, ``lat``, ``marginal_gain`` (weighted), ``marginal_origins``,
        ``covered_after`` (weighted), ``share_after``; projected points.
    candidates : GeoDataFrame
        The candidate sites considered (projected).
    coverage : scipy.sparse.csr_matrix
        Boolean candidate × origin matrix: the candidate's site is within the
        threshold of the origin.
    base_covered : ndarray of bool
        Origins already covered by existing facilities.
    meta : dict
        ``category``, ``threshold_m``, ``k``, ``total_weight``, ``base_share``,
        ``greedy_share``, ``random_mean_share``, ``random_std_share``,
        ``random_max_share``, ``repeats``, ``seed``, ``candidates``.
    """

    picks: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    coverage: sp.csr_matrix
    base_covered: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def coverage_matrix(
    net: StreetNetwork,
    origins: Snap,
    candidates: Snap | np.ndarray,
    threshold: float,
) -> sp.csr_matrix:
    """Which origins each candidate site serves within ``threshold`` metres.

    Parameters
    ----------
    net : StreetNetwork
    origins : Snap
        Snapped origins (unsnapped ones are served by nothing).
    candidates : Snap or ndarray of int
        Snapped candidate points, or network node indices.
    threshold : float
        Walking distance (m), both access legs included.

    Returns
    -------
    csr_matrix of bool, shape (n_candidates, n_origins)
    """
    m = len(origins)
    is_nodes = not isinstance(candidates, Snap)
    nc = len(candidates)
    ok = np.flatnonzero(origins.ok)
    if len(ok) == 0 or nc == 0:
        return sp.csr_matrix((nc, m), dtype=bool)
    # the searches start at the origins: on slopes they run on the reversed network, whose
    # walks *to* a point are this network's walks *from* it
    wnet = net.reversed
    con = wnet.contraction
    oe, oleg = origins.edge[ok], origins.leg[ok]
    k = len(ok)
    ot = origins.offset[ok]
    # origins as virtual rows of the contracted graph; their legs are added per chunk below
    starts = point_starts(wnet, oe, ot)
    aug = con.augmented(starts)
    nk = con.n_kept
    if not is_nodes:
        c_ok = np.flatnonzero(candidates.ok)
        ce, cf, cleg = candidates.edge[c_ok], candidates.offset[c_ok], candidates.leg[c_ok]
        cu, cv = net.edge_u[ce], net.edge_v[ce]
        # the walks on from the candidate's segment ends to the candidate
        c_from_u, c_from_v = from_point(wnet, ce, cf)
    else:
        cand_nodes = np.asarray(candidates, dtype=np.int64)
    rows_i: list[np.ndarray] = []
    rows_c: list[np.ndarray] = []
    chunk = int(max(1, min(512, _DENSE_CELLS // (nk + k))))
    for start in range(0, k, chunk):
        sl = np.arange(start, min(start + chunk, k))
        dist = dijkstra(aug, directed=True, indices=nk + sl, limit=threshold)
        r = (sl - start)[:, None]
        legs = oleg[sl][:, None]
        # rows of ``dist`` are chunk positions; ``starts`` is indexed by origin position
        st = starts.take(sl)
        if is_nodes:
            d = con.values_at(dist, r, cand_nodes[None, :], st) + legs
            oi, ci = np.nonzero(d <= threshold)
        else:
            d = np.minimum(
                con.values_at(dist, r, cu[None, :], st) + c_from_u,
                con.values_at(dist, r, cv[None, :], st) + c_from_v,
            )
            d = d + cleg + legs
            same = oe[sl][:, None] == ce[None, :]
            # along the shared segment, from the origin to the candidate
            along = walk_along(net, same, ce[None, :], ot[sl][:, None], cf[None, :])
            direct = along + cleg + legs
            d = np.where(same, np.minimum(d, direct), d)
            oi, ci = np.nonzero(d <= threshold)
            ci = c_ok[ci]
        rows_i.append(ok[start + oi])
        rows_c.append(ci)
    oi = np.concatenate(rows_i)
    ci = np.concatenate(rows_c)
    return sp.csr_matrix((np.ones(len(oi), dtype=bool), (ci, oi)), shape=(nc, m))


def greedy_cover(
    matrix: sp.csr_matrix, weights: np.ndarray, covered: np.ndarray, k: int
) -> tuple[list[int], list[float], list[int]]:
    """Greedy maximal covering: K picks, each adding the most uncovered weight.

    Ties go to the lowest candidate row. Stops early when nothing more can be gained.

    Returns
    -------
    picks, gains, counts : lists
        Candidate rows, their marginal weighted gain and marginal origin count.
    """
    mat = matrix.astype(float).tocsr()
    open_w = np.where(covered, 0.0, weights)
    picks: list[int] = []
    gains: list[float] = []
    counts: list[int] = []
    for _ in range(k):
        gain = mat @ open_w
        if picks:
            gain[picks] = -1.0
        best = int(np.argmax(gain)) if len(gain) else -1
        if best < 0 or gain[best] <= 0:
            break
        served = mat.indices[mat.indptr[best] : mat.indptr[best + 1]]
        counts.append(int((open_w[served] > 0).sum()))
        picks.append(best)
        gains.append(float(gain[best]))
        open_w[served] = 0.0
    return picks, gains, counts


def _within_polygon(net: StreetNetwork, within: Any) -> BaseGeometry:
    return area_in_crs(within, net.crs, "'within' area")


def suggest_sites(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    category: Category,
    origins: gpd.GeoDataFrame,
    k: int,
    candidates: gpd.GeoDataFrame | None = None,
    within: Any = None,
    repeats: int = 200,
    seed: int = 0,
    max_snap: float = DEFAULT_MAX_SNAP_M,
) -> SuggestResult:
    """Suggest K new sites for ``category`` by greedy maximal covering.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        Existing facilities (``category`` column; any CRS); the origins they
        already cover count as covered.
    category : Category
        Its ``max_distance_m`` is the coverage threshold.
    origins : GeoDataFrame
        Origin points; a ``population`` column weights them.
    k : int
        Number of sites.
    candidates : GeoDataFrame, optional
        Candidate points (e.g. parcels; polygons use an interior point).
        Default: every network node.
    within : GeoDataFrame, GeoSeries or WGS-84 polygon, optional
        Keep only candidates inside (a zone or renewal area).
    repeats, seed : int
        Random K-site draws for the baseline.
    max_snap : float
        Maximum access leg (m) for origins, facilities and candidate points.

    Returns
    -------
    SuggestResult
    """
    if not (isinstance(k, int | np.integer) and k >= 1):
        raise InputError(f"site count {k!r} must be a whole number of at least 1.")
    thr = float(category.max_distance_m)
    osnap = snap_points(net, project_points(origins, net.crs), max_snap)
    weights = (
        origins[POPULATION].to_numpy(float)
        if POPULATION in origins.columns
        else np.ones(len(origins))
    )
    fsnap = snap_category(net, facilities, category.id, max_snap)
    nd = node_distances(net, fsnap, limit=thr)
    base_covered = point_distances(net, nd, osnap, fsnap).distance <= thr
    if candidates is None:
        xy = net.xy
        cand = gpd.GeoDataFrame(
            {"candidate": np.arange(net.n_nodes), "osmid": net.nodes["osmid"].to_numpy()},
            geometry=shapely.points(xy),
            crs=net.crs,
        )
    else:
        cxy = project_points(candidates, net.crs)
        cand = gpd.GeoDataFrame(
            candidates.drop(columns=candidates.geometry.name).reset_index(drop=True),
            geometry=shapely.points(cxy),
            crs=net.crs,
        )
        cand.insert(0, "candidate", np.arange(len(cand)))
    if within is not None:
        poly = _within_polygon(net, within)
        inside = shapely.contains_xy(poly, *shapely.get_coordinates(cand.geometry.values).T)
        cand = cand[inside].reset_index(drop=True)
    if len(cand) == 0:
        raise InputError(
            "No candidate site lies inside the given area; check --within against the OSM extent."
        )
    if candidates is None:
        matrix = coverage_matrix(net, osnap, cand["candidate"].to_numpy(np.int64), thr)
    else:
        csnap = snap_points(net, shapely.get_coordinates(cand.geometry.values), max_snap)
        matrix = coverage_matrix(net, osnap, csnap, thr)
    picks, gains, counts = greedy_cover(matrix, weights, base_covered, int(k))
    total = float(weights.sum())
    base_w = float(weights[base_covered].sum())
    cum = base_w + np.cumsum(gains) if gains else np.array([])
    lonlat = cand.geometry.to_crs(settings.WGS84)
    chosen = cand.iloc[picks].reset_index(drop=True)
    out = gpd.GeoDataFrame(
        {
            "pick": np.arange(1, len(picks) + 1),
            **{c: chosen[c].to_numpy() for c in chosen.columns if c != chosen.geometry.name},
            "lon": lonlat.x.to_numpy()[picks],
            "lat": lonlat.y.to_numpy()[picks],
            "marginal_gain": np.round(gains, 4),
            "marginal_origins": counts,
            "covered_after": np.round(cum, 4),
            "share_after": np.round(cum / total, 4) if total > 0 else np.nan,
        },
        geometry=chosen.geometry.values,
        crs=net.crs,
    )
    rng = np.random.default_rng(seed)
    kk = min(int(k), matrix.shape[0])
    rand = np.empty(repeats)
    for r in range(repeats):
        idx = rng.choice(matrix.shape[0], size=kk, replace=False)
        cov = base_covered | (np.asarray(matrix[idx].sum(axis=0)).ravel() > 0)
        rand[r] = float(weights[cov].sum())
    greedy_w = float(cum[-1]) if len(cum) else base_w
    meta = {
        "category": category.id,
        "threshold_m": thr,
        "k": int(k),
        "picked": len(picks),
        "candidates": len(cand),
        "origins": len(origins),
        "weighted_by": POPULATION if POPULATION in origins.columns else "origins",
        "total_weight": total,
        "base_share": round(base_w / total, 4) if total else np.nan,
        "greedy_share": round(greedy_w / total, 4) if total else np.nan,
        "random_mean_share": round(float(rand.mean()) / total, 4) if total and repeats else np.nan,
        "random_std_share": round(float(rand.std()) / total, 4) if total and repeats else np.nan,
        "random_max_share": round(float(rand.max()) / total, 4) if total and repeats else np.nan,
        "repeats": int(repeats),
        "seed": int(seed),
    }
    out.attrs.update(meta)
    return SuggestResult(out, cand, matrix, base_covered, meta)
