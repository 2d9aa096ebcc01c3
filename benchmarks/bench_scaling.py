"""How the engine scales from 25k to 800k street nodes, before and after contraction.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_scaling.py           # 25k … 800k nodes (~3 min)
    PYTHONPATH=src python benchmarks/bench_scaling.py --quick   # 25k and 50k (< 30 s)

Each network is :func:`bench_engine.make_shape_grid`: a jittered street grid with shape
nodes on its block edges until 62 % of the nodes have two neighbours (Helsinki's walkable
network), numbered at random as OSM ids are. Facilities are spread at a fixed density
(one per 0.5 km² per category, 5 categories) with the 1000 m search limit most categories
get in ``gcgeo coverage``, so the work per node stays comparable across sizes.

*before* is the full segment graph in input order (``node_distances(..., contracted=False)``);
*after* is the contracted graph with Morton-numbered junctions (the default), also timed with
the junctions left in input order to show what the numbering gains. Time per node
is the 5 searches' wall time (best of 3) divided by the number of street nodes; peak memory
is what :mod:`tracemalloc` sees during one search: the numpy arrays gcgeo and scipy make
(scipy's C++ heap inside the Dijkstra is not seen).
Ratios are between the two columns of the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import machine_info, make_shape_grid, random_points  # noqa: E402

from gcgeo.contract import contract  # noqa: E402
from gcgeo.engine import node_distances  # noqa: E402
from gcgeo.snap import snap_points  # noqa: E402

LIMIT_M = 1000.0
CATEGORIES = 5
KM2_PER_FACILITY = 0.5


def searches(net, facs, contracted: bool) -> float:
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for f in facs:
            node_distances(net, f, limit=LIMIT_M, contracted=contracted)
        best = min(best, time.perf_counter() - t0)
    return best


def peak_mb(net, fac, contracted: bool) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    node_distances(net, fac, limit=LIMIT_M, contracted=contracted)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="25k and 50k nodes only")
    args = ap.parse_args(argv)
    totals = (
        [25_000, 50_000] if args.quick else [25_000, 50_000, 100_000, 200_000, 400_000, 800_000]
    )
    rng = np.random.default_rng(5)
    rows = []
    for total in totals:
        net = make_shape_grid(int(total * 0.38))
        n = net.n_nodes
        x0, y0, x1, y1 = net.bounds
        k = max(1, int((x1 - x0) * (y1 - y0) / 1e6 / KM2_PER_FACILITY))
        facs = [snap_points(net, random_points(net, k, rng)) for _ in range(CATEGORIES)]
        t0 = time.perf_counter()
        con = contract(net.graph, net.edge_u, net.edge_v, net.xy)
        t_con = time.perf_counter() - t0
        net.__dict__["contraction"] = con
        node_distances(net, facs[0], limit=LIMIT_M)  # warm
        before = searches(net, facs, contracted=False)
        after = searches(net, facs, contracted=True)
        net.__dict__["contraction"] = contract(net.graph, net.edge_u, net.edge_v, None)
        unordered = searches(net, facs, contracted=True)
        net.__dict__["contraction"] = con
        mb_before = peak_mb(net, facs[0], contracted=False)
        mb_after = peak_mb(net, facs[0], contracted=True)
        row = (n, k, t_con, before, after, unordered, mb_before, mb_after)
        rows.append(row)
        print(
            f"  {n:,} nodes: contraction {t_con:.2f} s, before {before:.3f} s, after {after:.3f} s",
            file=sys.stderr,
            flush=True,
        )
    print(machine_info())
    print(
        f"{CATEGORIES} searches per network (limit {LIMIT_M:g} m, one facility per "
        f"{KM2_PER_FACILITY:g} km² per category); best of 3."
    )
    print()
    print(
        "| street nodes | facilities per category | contraction build | before: ns per node | "
        "after: ns per node | speed-up | after, junctions in input order: ns per node | "
        "Morton gain | before: peak MB per search | after: peak MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, k, t_con, before, after, unordered, mb_b, mb_a in rows:
        per_b = before / CATEGORIES / n * 1e9
        per_a = after / CATEGORIES / n * 1e9
        per_u = unordered / CATEGORIES / n * 1e9
        print(
            f"| {n:,} | {k:,} | {t_con * 1000:.0f} ms | {per_b:.0f} | {per_a:.0f} | "
            f"{before / after:.2f}× | {per_u:.0f} | {unordered / after:.2f}× | {mb_b:.0f} | "
            f"{mb_a:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
