"""One facility added to (or removed from) a category: gcgeo.incremental.CategoryState vs a full
recomputation.

On a jittered grid (``bench_engine.make_grid``) with one category of ``--facilities``
facilities and ``--origins`` origins, each of ``--adds`` new facilities is added at a random
street point; we time (a) ``CategoryState.add_facility`` (search from the new facility only,
bounded by the limit, re-measuring only the origins it can change) and (b) the full
recomputation of that category (``node_distances`` over all facilities + ``point_distances``
of every origin), both measured in this run. Then each of the original facilities in turn
(``--adds`` of them) is removed the same way. Results must agree (checked every time).

    PYTHONPATH=src python benchmarks/bench_incremental.py [--nodes 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import make_grid, random_points  # noqa: E402

from gcgeo.engine import node_distances, point_distances  # noqa: E402
from gcgeo.incremental import CategoryState  # noqa: E402
from gcgeo.snap import snap_points  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--facilities", type=int, default=50)
    ap.add_argument("--origins", type=int, default=20_000)
    ap.add_argument("--adds", type=int, default=20)
    ap.add_argument("--limit", type=float, default=1000.0, help="search limit, metres")
    args = ap.parse_args()
    rng = np.random.default_rng(13)
    net = make_grid(args.nodes)
    origins = snap_points(net, random_points(net, args.origins, rng), 100.0)
    start = snap_points(net, random_points(net, args.facilities, rng), 100.0)
    state = CategoryState(net, start, origins, args.limit)
    inc, full = [], []
    for xy in random_points(net, args.adds, rng):
        one = snap_points(net, xy[None, :], 100.0)
        t = time.perf_counter()
        state.add_facility(one)
        inc.append(time.perf_counter() - t)
        t = time.perf_counter()
        nd = node_distances(net, state.sources, limit=args.limit)
        pd_ = point_distances(net, nd, origins, state.sources)
        full.append(time.perf_counter() - t)
        assert np.allclose(pd_.distance, state.points.distance, rtol=0, atol=1e-9, equal_nan=True)
    rem, full_rem = [], []
    for i in range(min(args.adds, args.facilities)):
        t = time.perf_counter()
        state.remove_facility(i)
        rem.append(time.perf_counter() - t)
        t = time.perf_counter()
        nd = node_distances(net, state.sources, limit=args.limit)
        pd_ = point_distances(net, nd, origins, state.sources)
        full_rem.append(time.perf_counter() - t)
        assert np.allclose(pd_.distance, state.points.distance, rtol=0, atol=1e-9, equal_nan=True)
    a, b = statistics.median(inc), statistics.median(full)
    c, f = statistics.median(rem), statistics.median(full_rem)
    print(f"grid {net.n_nodes:,} nodes, {args.facilities} facilities, {args.origins:,} origins, "
          f"limit {args.limit:g} m, {args.adds} additions (median)")  # fmt: skip
    print(f"add_facility (incremental)  {a * 1000:8.2f} ms")
    print(f"full recomputation          {b * 1000:8.2f} ms")
    print(f"ratio full / incremental    {b / a:8.1f}x")
    print(f"remove_facility (incremental) {c * 1000:6.2f} ms")
    print(f"full recomputation          {f * 1000:8.2f} ms")
    print(f"ratio full / incremental    {f / c:8.1f}x")


if __name__ == "__main__":
    main()
