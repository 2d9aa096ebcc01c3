"""Short links that would connect dead ends (断头路), ranked by coverage gained.

1. :func:`propose_links` — from each dead end (:func:`gcgeo.deadends.find_dead_ends`),
   a straight link to the nearest point on another street within ``max_link``
   metres, where that point is far by street (more than ``detour_ratio`` × the
   gap, else the link is pointless) and the link crosses no motorway, railway
   or waterway (:func:`gcgeo.deadends.read_barriers`) and no other street.
2. :func:`prepare_base` — the base distances every link evaluation shares.
3. :func:`rank_links` — the coverage each link would add, evaluated exactly
   without rebuilding the graph per link.

How :func:`rank_links` stays exact without rebuilding: with ``d`` the base
distance from every node to the nearest facility of a category, a link from
dead end ``a`` to point ``p`` (length ``ℓ``) can only help through one end.
If ``d(p) + ℓ < d(a)`` the new distance of any node is
``min(d(x), d(p) + ℓ + D(a, x))``; if ``d(a) + ℓ < d(p)`` it is
``min(d(x), d(a) + ℓ + D(p, x))`` (``D`` = base street distance; a shortest
path uses the new link at most once, and splitting a segment at ``p`` does
not change any base distance). ``D(a, ·)`` or ``D(p, ·)`` comes from one
bounded Dijkstra per link (batched, limit = the threshold) on
the contracted graph (:meth:`gcgeo.contract.Contraction.augmented`) with the
target points as virtual rows,
shared by every category; only origins not yet covered are re-evaluated.
:func:`full_link_gain` does the same by rebuilding the graph (for checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from . import settings
from ._errors import InputError
from .catalogue import Category
from .columns import POPULATION
from .coverage import project_points
from .crs import transformer
from .engine import (
    NodeDistances,
    from_point,
    node_distances_many,
    point_distances,
    point_starts,
    snap_category,
    walk_along,
)
from .network import StreetNetwork
from .scenario import NODE_TOLERANCE_M, add_links
from .snap import DEFAULT_MAX_SNAP_M, Snap, snap_points

__all__ = [
    "DEFAULT_DETOUR_RATIO",
    "DEFAULT_MAX_LINK_M",
    "LinkBase",
    "full_link_gain",
    "prepare_base",
    "propose_links",
    "rank_links",
]

DEFAULT_MAX_LINK_M = 150.0
#: A link is proposed only if the street route is longer than this × the gap.
DEFAULT_DETOUR_RATIO = 2.0
_MIN_GAP_M = 1.0
_DENSE_CELLS = 4_000_000  # float cells per dense Dijkstra chunk (~32 MB)


def _chunk_rows(n: int) -> int:
    return int(max(1, min(512, _DENSE_CELLS // max(n, 1))))


def propose_links(
    net: StreetNetwork,
    dead_ends: gpd.GeoDataFrame,
    max_link: float = DEFAULT_MAX_LINK_M,
    barriers: gpd.GeoDataFrame | None = None,
    detour_ratio: float = DEFAULT_DETOUR_RATIO,
    detour_limit: float = 2000.0,
) -> gpd.GeoDataFrame:
    """One candidate link per dead end: the nearest worthwhile, crossable street point.

    Parameters
    ----------
    net : StreetNetwork
    dead_ends : GeoDataFrame
        From :func:`find_dead_ends` (column ``node``).
    max_link : float
        Longest link (m).
    barriers : GeoDataFrame, optional
        Lines a link may not cross (from :func:`read_barriers`; any CRS).
    detour_ratio : float
        The street route from the dead end to the target must be longer than
        this × the straight gap (so links to the dead end's own street or its
        immediate neighbours are not proposed).
    detour_limit : float
        Street distances before the link are searched up to this (m); farther
        ones are reported as ``nan``.

    Returns
    -------
    GeoDataFrame
        ``node``, ``osmid``, ``lon``, ``lat``, ``target_edge``,
        ``target_offset``, ``target_node`` (-1 when mid-segment), ``target_x``,
        ``target_y``, ``target_lon``, ``target_lat``, ``link_m``, ``detour_m``
        (street distance before, ``nan`` if beyond ``detour_limit``)
        and ``saved_m``; projected LineStrings.
    """
    if not (np.isfinite(max_link) and max_link > 0):
        raise InputError(f"maximum link length {max_link!r} must be a positive number of metres.")
    dead = dead_ends["node"].to_numpy(np.int64)
    empty = _empty_links(net.crs)
    if len(dead) == 0:
        return empty
    xy = net.xy
    eu, ev, elen = net.edge_u, net.edge_v, net.edge_length
    di, ei = net.edge_tree.query(shapely.points(xy[dead]), predicate="dwithin", distance=max_link)
    a, b = xy[eu[ei]], xy[ev[ei]]
    p = xy[dead[di]]
    ab = b - a
    len2 = (ab**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(np.where(len2 > 0, ((p - a) * ab).sum(axis=1) / len2, 0.0), 0.0, 1.0)
    foot = a + ab * t[:, None]
    gap = np.hypot(*(p - foot).T)
    off = t * elen[ei]
    # street distance dead end -> foot, bounded, in chunks of dead ends
    limit = max(detour_ratio * max_link, detour_limit)
    dnet = np.full(len(di), np.inf)
    con = net.level.contraction  # the detour is geometry: metres, slopes or not
    kdead = con.knode[dead]
    if (kdead < 0).any():
        bad_node = int(dead[np.flatnonzero(kdead < 0)[0]])
        raise InputError(
            f"node {bad_node} is not a dead end (it has two neighbours); "
            "pass the dead ends gcgeo.deadends finds."
        )
    rows = _chunk_rows(con.n_kept)
    for start in range(0, len(dead), rows):
        dist = dijkstra(con.graph, directed=False, indices=kdead[start : start + rows], limit=limit)
        sel = np.flatnonzero((di >= start) & (di < start + rows))
        r = di[sel] - start
        via_u = con.values_at(dist, r, eu[ei[sel]]) + off[sel]
        via_v = con.values_at(dist, r, ev[ei[sel]]) + (elen[ei[sel]] - off[sel])
        dnet[sel] = np.minimum(via_u, via_v)
    ok = (gap >= _MIN_GAP_M) & (gap <= max_link) & (dnet > detour_ratio * gap)
    cand = np.flatnonzero(ok)
    lines = shapely.linestrings(np.stack([p[cand], foot[cand]], axis=1)) if len(cand) else []
    bad = np.zeros(len(cand), dtype=bool)
    if len(cand):
        li, _ = net.edge_tree.query(lines, predicate="crosses")
        bad[li] = True
        if barriers is not None and len(barriers):
            btree = shapely.STRtree(barriers.to_crs(net.crs).geometry.values)
            li, _ = btree.query(lines, predicate="intersects")
            bad[li] = True
    cand = cand[~bad]
    if len(cand) == 0:
        return empty
    order = np.lexsort((ei[cand], gap[cand], di[cand]))
    cand = cand[order]
    first = np.ones(len(cand), dtype=bool)
    first[1:] = di[cand][1:] != di[cand][:-1]
    pick = cand[first]
    node = dead[di[pick]]
    e, o = ei[pick], off[pick]
    tnode = np.where(
        o <= NODE_TOLERANCE_M, eu[e], np.where(elen[e] - o <= NODE_TOLERANCE_M, ev[e], -1)
    )
    # two dead ends facing each other propose the same link twice: keep one
    pair = pd.DataFrame({"lo": np.minimum(node, tnode), "hi": np.maximum(node, tnode)})
    dup = (tnode >= 0) & pair.duplicated().to_numpy()
    keep = ~dup
    pick, node, e, o, tnode = pick[keep], node[keep], e[keep], o[keep], tnode[keep]
    # a target within the node tolerance is that node: the link ends exactly there
    at_u, at_v = tnode == eu[e], tnode == ev[e]
    o = np.where(at_u, 0.0, np.where(at_v, elen[e], o))
    f = np.where((tnode >= 0)[:, None], xy[np.maximum(tnode, 0)], foot[pick])
    gap_p = np.hypot(*(xy[node] - f).T)
    inv = transformer(net.crs, settings.WGS84)
    tlon, tlat = inv.transform(f[:, 0], f[:, 1])
    detour = np.where(np.isfinite(dnet[pick]), dnet[pick], np.nan)
    nodes = net.nodes
    return gpd.GeoDataFrame(
        {
            "node": node,
            "osmid": nodes["osmid"].to_numpy()[node],
            "lon": nodes["lon"].to_numpy()[node],
            "lat": nodes["lat"].to_numpy()[node],
            "target_edge": e,
            "target_offset": o,
            "target_node": tnode,
            "target_x": f[:, 0],
            "target_y": f[:, 1],
            "target_lon": np.asarray(tlon),
            "target_lat": np.asarray(tlat),
            "link_m": gap_p,
            "detour_m": detour,
            "saved_m": detour - gap_p,
        },
        geometry=shapely.linestrings(np.stack([xy[node], f], axis=1)),
        crs=net.crs,
    ).reset_index(drop=True)


def _empty_links(crs: str) -> gpd.GeoDataFrame:
    cols = {
        "node": "int64",
        "osmid": "int64",
        "lon": float,
        "lat": float,
        "target_edge": "int64",
        "target_offset": float,
        "target_node": "int64",
        "target_x": float,
        "target_y": float,
        "target_lon": float,
        "target_lat": float,
        "link_m": float,
        "detour_m": float,
        "saved_m": float,
    }
    return gpd.GeoDataFrame(
        {k: pd.Series([], dtype=v) for k, v in cols.items()},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


@dataclass(frozen=True)
class LinkBase:
    """Base-network distances shared by every link evaluation.

    Attributes
    ----------
    categories : list of Category
    fsnap : list of Snap
        Facilities of each category snapped to the base network.
    nd : list of NodeDistances
        Node distances per category, bounded by the category threshold.
    osnap : Snap
        Origins snapped to the base network.
    odist : list of ndarray
        Base origin distances per category (``inf`` beyond the threshold).
    weights : ndarray
        Origin weights (``population`` or 1).
    """

    categories: list[Category]
    fsnap: list[Snap]
    nd: list[NodeDistances]
    osnap: Snap
    odist: list[np.ndarray]
    weights: np.ndarray


def prepare_base(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Category],
    origins: gpd.GeoDataFrame,
    max_snap: float = DEFAULT_MAX_SNAP_M,
) -> LinkBase:
    """Snap facilities and origins and run one bounded Dijkstra per category."""
    osnap = snap_points(net, project_points(origins, net.crs), max_snap)
    w = (
        origins[POPULATION].to_numpy(float)
        if POPULATION in origins.columns
        else np.ones(len(origins))
    )
    fsnaps = [snap_category(net, facilities, cat.id, max_snap) for cat in categories]
    nds = node_distances_many(
        net, [(fs, cat.max_distance_m) for fs, cat in zip(fsnaps, categories, strict=True)]
    )
    odists = [
        point_distances(net, nd, osnap, fs).distance for fs, nd in zip(fsnaps, nds, strict=True)
    ]
    return LinkBase(list(categories), fsnaps, nds, osnap, odists, w)


def rank_links(
    net: StreetNetwork,
    base: LinkBase,
    links: gpd.GeoDataFrame,
    category: str | None = None,
) -> gpd.GeoDataFrame:
    """Coverage each candidate link would add, evaluated exactly and incrementally.

    Parameters
    ----------
    net : StreetNetwork
        The base network (not modified).
    base : LinkBase
        From :func:`prepare_base`.
    links : GeoDataFrame
        From :func:`propose_links` (``node``, ``target_edge``,
        ``target_offset``, ``link_m``).
    category : str, optional
        Rank by this category's gain; default the sum over all categories.

    Returns
    -------
    GeoDataFrame
        ``links`` plus ``gained_<category>`` per category (weighted origins
        newly within the threshold), ``gained`` (sum or the chosen category),
        and ``rank`` (1 = best; ties broken by ``saved_m``), sorted by rank.
    """
    cats = base.categories
    if category is not None and category not in [c.id for c in cats]:
        raise InputError(
            f"rank category {category!r} is not among the categories evaluated "
            f"({', '.join(c.id for c in cats)}); pass one of them."
        )
    gains = _link_gains(net, base, links)
    out = links.copy()
    for j, c in enumerate(cats):
        out[f"gained_{c.id}"] = gains[:, j]
    out["gained"] = (
        gains[:, [c.id for c in cats].index(category)] if category else gains.sum(axis=1)
    )
    saved = out["saved_m"].to_numpy(float) if "saved_m" in out.columns else np.zeros(len(out))
    saved = np.where(np.isnan(saved), np.inf, saved)  # beyond the search: the most saved
    order = np.lexsort((-saved, -out["gained"].to_numpy(float)))
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def _link_gains(net: StreetNetwork, base: LinkBase, links: gpd.GeoDataFrame) -> np.ndarray:
    k = len(links)
    cats = base.categories
    gains = np.zeros((k, len(cats)))
    if k == 0:
        return gains
    a = links["node"].to_numpy(np.int64)
    te = links["target_edge"].to_numpy(np.int64)
    ts = links["target_offset"].to_numpy(float)
    ell = links["link_m"].to_numpy(float)
    eu, ev = net.edge_u, net.edge_v
    tsnap = Snap(te, ts, np.zeros(k))
    thr = np.array([c.max_distance_m for c in cats])
    # the walks a -> p and p -> a over each link (on slopes, sampled as the link would be)
    a_to_p, p_to_a = _link_walks(net, a, te, ts, ell)
    # improvement through a (A) or through p (B), per link and category; inf = none
    A = np.full((k, len(cats)), np.inf)
    B = np.full((k, len(cats)), np.inf)
    for j in range(len(cats)):
        d = base.nd[j].dist
        dp = point_distances(net, base.nd[j], tsnap, base.fsnap[j]).distance  # d0(p)
        va = dp + a_to_p
        vb = d[a] + p_to_a
        A[:, j] = np.where((va < d[a]) & (va <= thr[j]), va, np.inf)
        B[:, j] = np.where((vb < dp) & (vb <= thr[j]), vb, np.inf)
    # origins that may gain, per category: snapped and not yet covered
    ok = base.osnap.ok
    unc = []
    for j in range(len(cats)):
        idx = np.flatnonzero(ok & ~(base.odist[j] <= thr[j]))
        e = base.osnap.edge[idx]
        ot = base.osnap.offset[idx]
        o_to_u, o_to_v = from_point(net, e, ot)
        unc.append((idx, eu[e], ev[e], ot, o_to_u, o_to_v, base.osnap.leg[idx], e))
    # the target points p as virtual rows of the contracted graph (every target is on an edge)
    con = net.contraction
    nk = con.n_kept
    starts = point_starts(net, te, ts)
    aug = con.augmented(starts)
    kdead = con.knode[a]
    rows = _chunk_rows(nk + k)
    for through, imp in (("a", A), ("p", B)):
        need = np.flatnonzero(np.isfinite(imp).any(axis=1))
        for start in range(0, len(need), rows):
            lk = need[start : start + rows]
            src = kdead[lk] if through == "a" else nk + lk
            lim = float(np.nanmax(np.where(np.isfinite(imp[lk]), thr - imp[lk], -np.inf)))
            dist = dijkstra(aug, directed=True, indices=src, limit=max(lim, 0.0))
            st = starts.take(lk) if through == "p" else None
            for j in range(len(cats)):
                base_j = imp[lk, j]
                live = np.flatnonzero(np.isfinite(base_j))
                idx, ou, ov, ot, o_to_u, o_to_v, oleg, oe = unc[j]
                if not len(live) or not len(idx):
                    continue
                d = base.nd[j].dist
                add = base_j[live, None]
                r = live[:, None]
                du = np.minimum(d[ou][None, :], add + con.values_at(dist, r, ou[None, :], st))
                dv = np.minimum(d[ov][None, :], add + con.values_at(dist, r, ov[None, :], st))
                best = np.minimum(du + o_to_u[None, :], dv + o_to_v[None, :])
                if through == "p":  # origins on the split segment walk straight to p
                    same = oe[None, :] == te[lk[live]][:, None]
                    along = walk_along(net, same, oe[None, :], ot[None, :], ts[lk[live]][:, None])
                    direct = along + add
                    best = np.where(same, np.minimum(best, direct), best)
                reach = (best + oleg) <= thr[j]
                gains[lk[live], j] = reach.astype(float) @ base.weights[idx]
    return gains


def _link_walks(
    net: StreetNetwork, a: np.ndarray, te: np.ndarray, ts: np.ndarray, ell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The walks ``a → p`` and ``p → a`` over straight links from nodes ``a`` to the points
    ``ts`` along segments ``te``: their length when level; on slopes, sampled from the DEM
    exactly as :func:`gcgeo.scenario.add_links_mapped` samples a new link."""
    if net.costs is None:
        return ell, ell
    from .terrain import edge_costs, piece_samples, sample_dem

    k = len(a)
    frac = (ts / net.edge_length[te])[:, None]
    p = net.xy[net.edge_u[te]] + (net.xy[net.edge_v[te]] - net.xy[net.edge_u[te]]) * frac
    xy = np.vstack([net.xy[a], p])
    u, v = np.arange(k), k + np.arange(k)
    length = np.hypot(*(xy[u] - xy[v]).T)
    pieces, ptr, pts = piece_samples(xy, u, v, length, net.costs.step)
    z = sample_dem(net.costs.files, pts[:, 0], pts[:, 1], net.crs)
    c = edge_costs(length, pieces, ptr, z, net.costs.function)
    return c.fwd, c.bwd


def full_link_gain(
    net: StreetNetwork, base: LinkBase, link: pd.Series | dict[str, Any]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Reference evaluation of one link: rebuild the graph, fresh Dijkstra per category.

    Slow (one network build per link); for checks and benchmarks. Facilities
    and origins keep their base snap positions (re-snapped onto the new
    network at the same street points, with the same access legs).

    Returns
    -------
    gains : ndarray
        Weighted origins newly within each category's threshold.
    distances : list of ndarray
        New origin distances per category (``inf`` beyond the threshold).
    """
    a = int(link["node"])
    e, s = int(link["target_edge"]), float(link["target_offset"])
    ab = net.xy[net.edge_v[e]] - net.xy[net.edge_u[e]]
    p = net.xy[net.edge_u[e]] + ab * (s / net.edge_length[e])
    new = add_links(net, [np.vstack([net.xy[a], p])], straight=[True], max_snap=1.0)

    def resnap(sn: Snap) -> Snap:
        ok = np.flatnonzero(sn.ok)
        eu, ev = net.edge_u[sn.edge[ok]], net.edge_v[sn.edge[ok]]
        frac = (sn.offset[ok] / net.edge_length[sn.edge[ok]])[:, None]
        feet = net.xy[eu] + (net.xy[ev] - net.xy[eu]) * frac
        ns = snap_points(new, feet, 1.0)
        edge = np.full(len(sn), -1, dtype=np.int64)
        offset = np.zeros(len(sn))
        edge[ok], offset[ok] = ns.edge, ns.offset
        return Snap(edge, offset, np.where(edge >= 0, sn.leg, np.inf))

    osnap = resnap(base.osnap)
    fss = [resnap(f) for f in base.fsnap]
    jobs = [(fs, cat.max_distance_m) for fs, cat in zip(fss, base.categories, strict=True)]
    gains, dists = [], []
    for j, (cat, nd) in enumerate(
        zip(base.categories, node_distances_many(new, jobs), strict=True)
    ):
        d = point_distances(new, nd, osnap, fss[j]).distance
        before = base.odist[j] <= cat.max_distance_m
        after = d <= cat.max_distance_m
        gains.append(float(base.weights[after & ~before].sum()))
        dists.append(d)
    return np.array(gains), dists
