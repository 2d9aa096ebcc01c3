"""Does node order matter to the search? (issue 13, item 2) — measured, nothing changed in gcgeo.

On jittered grids (``bench_engine.make_grid``) of ``--sizes`` nodes, the same multi-source
search (``--sources`` random facilities, no limit) runs on the graph numbered three ways, in
one run: row-major (the grid's own order, the best case), randomly renumbered (as OSM ids
give nodes no spatial order) and reverse Cuthill–McKee of the random numbering
(``scipy.sparse.csgraph.reverse_cuthill_mckee``, a locality-preserving order computed once).
Prints the median of ``--repeat`` runs and the ratios; the distances are checked equal.

    PYTHONPATH=src python benchmarks/bench_order.py [--sizes 100000,800000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra, reverse_cuthill_mckee

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import make_grid  # noqa: E402


def search_time(graph: sp.csr_matrix, sources: np.ndarray, repeat: int) -> tuple[float, np.ndarray]:
    times, dist = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        dist = dijkstra(graph, directed=False, indices=sources, min_only=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), dist


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,800000")
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(2)
    print(f"{'nodes':>9} {'row-major':>10} {'random':>10} {'RCM':>10} {'random/row':>11} "
          f"{'random/RCM':>11} {'RCM build':>10}")  # fmt: skip
    for n in (int(x) for x in args.sizes.split(",")):
        g = make_grid(n).graph.tocsr()
        m = g.shape[0]
        src = rng.choice(m, args.sources, replace=False)
        t_row, d_row = search_time(g, src, args.repeat)
        perm = rng.permutation(m)  # new id of old node i is inv[i]
        inv = np.empty(m, dtype=np.int64)
        inv[perm] = np.arange(m)
        g_rand = g[perm][:, perm].tocsr()
        t_rand, d_rand = search_time(g_rand, inv[src], args.repeat)
        t = time.perf_counter()
        order = reverse_cuthill_mckee(g_rand, symmetric_mode=True)
        g_rcm = g_rand[order][:, order].tocsr()
        t_build = time.perf_counter() - t
        inv2 = np.empty(m, dtype=np.int64)
        inv2[order] = np.arange(m)
        t_rcm, d_rcm = search_time(g_rcm, inv2[inv[src]], args.repeat)
        assert np.allclose(d_rand[inv], d_row) and np.allclose(d_rcm[inv2[inv]], d_row)
        print(f"{m:>9,} {t_row:>9.3f}s {t_rand:>9.3f}s {t_rcm:>9.3f}s {t_rand / t_row:>10.2f}x "
              f"{t_rand / t_rcm:>10.2f}x {t_build:>9.3f}s")  # fmt: skip


if __name__ == "__main__":
    main()
