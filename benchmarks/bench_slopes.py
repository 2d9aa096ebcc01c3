"""What slopes cost: DEM sampling and the directed search on a ~100k-node street network.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_slopes.py           # ~100k nodes (~1 min)
    PYTHONPATH=src python benchmarks/bench_slopes.py --quick   # ~25k nodes (< 20 s)

The network is :func:`bench_engine.make_shape_grid` (a jittered street grid whose block
edges carry shape nodes until 62 % of the nodes have two neighbours, numbered at random as
OSM ids are). The DEM is a GeoTIFF written in the same run: rolling hills (±40 m, 1–2 km
wavelength) plus a 1 % tilt, 20 m pixels, like a planner's SRTM/ASTER tile.

Timed, best of 3, all in one run so the ratios compare like with like:

* **DEM** — :func:`gcgeo.terrain.apply_dem`: pieces every 20 m, bilinear sampling,
  walking costs per direction (the raster read included);
* **contraction** — building the contracted graph, level vs directed;
* **search** — one category's multi-source search (150 facilities, 1200 m limit) plus the
  walks of 20k origins, level vs directed (``tobler_elderly``);
* **networkx** — the same directed search with ``networkx.multi_source_dijkstra`` on a
  DiGraph of the full segment graph, seeded at the facilities' segment ends (the baseline,
  search only).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import make_shape_grid  # noqa: E402

from gcgeo.engine import node_distances, point_distances  # noqa: E402
from gcgeo.snap import snap_points  # noqa: E402
from gcgeo.terrain import apply_dem  # noqa: E402


def best(fn, repeat: int = 3) -> tuple[float, object]:
    out, t_best = None, np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, out


def write_hills(path: Path, bounds: tuple[float, float, float, float], crs: str) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    px = 20.0
    x0, y0 = bounds[0] - 200, bounds[3] + 200
    w = int((bounds[2] - bounds[0] + 400) / px) + 1
    h = int((bounds[3] - bounds[1] + 400) / px) + 1
    cx = x0 + (np.arange(w) + 0.5) * px
    cy = y0 - (np.arange(h) + 0.5) * px
    xx, yy = np.meshgrid(cx - x0, cy - y0)
    z = 200 + 40 * np.sin(xx / 1700.0) * np.cos(yy / 1100.0) + 0.01 * xx
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs=crs, transform=from_origin(x0, y0, px, px)) as dst:  # fmt: skip
        dst.write(z.astype("float32"), 1)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="~25k nodes instead of ~100k")
    args = ap.parse_args()
    junctions = 10_000 if args.quick else 38_000
    net = make_shape_grid(junctions)
    rng = np.random.default_rng(5)
    b = net.bounds
    with tempfile.TemporaryDirectory() as tmp:
        dem = write_hills(Path(tmp) / "hills.tif", b, net.crs)
        t_dem, (hilly, meta) = best(lambda: apply_dem(net, dem, "tobler_elderly"))
    print(f"network: {net.n_nodes:,} nodes, {len(net.edges):,} segments; "
          f"{meta['samples']:,} elevation samples, grade p90 {meta['grade_p90']:.1%}")  # fmt: skip

    def fresh(n):
        for k in ("contraction", "walk_graph", "search_graph"):
            n.__dict__.pop(k, None)
        return n.contraction

    t_con_flat, _ = best(lambda: fresh(net))
    t_con_dir, _ = best(lambda: fresh(hilly))
    fxy = np.column_stack([rng.uniform(b[0], b[2], 150), rng.uniform(b[1], b[3], 150)])
    oxy = np.column_stack([rng.uniform(b[0], b[2], 20_000), rng.uniform(b[1], b[3], 20_000)])
    fac, org = snap_points(net, fxy, 300), snap_points(net, oxy, 300)
    limit = 1200.0

    def one(n):
        nd = node_distances(n, fac, limit=limit)
        return point_distances(n, nd, org, fac)

    t_flat, _ = best(lambda: one(net))
    t_dir, res = best(lambda: one(hilly))
    # networkx: the directed full segment graph, reversed (walks to the facilities)
    import networkx as nx

    g = nx.DiGraph()
    c = hilly.costs
    g.add_weighted_edges_from(
        zip(net.edge_v.tolist(), net.edge_u.tolist(), c.fwd.tolist(), strict=True)
    )
    g.add_weighted_edges_from(
        zip(net.edge_u.tolist(), net.edge_v.tolist(), c.bwd.tolist(), strict=True)
    )
    ok = np.flatnonzero(fac.ok)
    src = np.unique(net.edge_u[fac.edge[ok]]).tolist()
    t_nx, _ = best(lambda: nx.multi_source_dijkstra_path_length(g, src, cutoff=limit), repeat=1)
    t_search_dir, _ = best(lambda: node_distances(hilly, fac, limit=limit))
    rows = [
        ("DEM sampling + costs (apply_dem)", t_dem, None),
        ("contraction, level", t_con_flat, None),
        ("contraction, directed", t_con_dir, t_con_dir / t_con_flat),
        ("1 category + 20k origins, level", t_flat, None),
        ("1 category + 20k origins, directed", t_dir, t_dir / t_flat),
        ("directed search alone (gcgeo)", t_search_dir, None),
        ("directed search, networkx", t_nx, t_nx / t_search_dir),
    ]
    print(f"{'step':<40} {'s':>8}  ratio")
    for name, t, r in rows:
        print(f"{name:<40} {t:8.3f}  {'' if r is None else f'{r:.2f}×'}")
    reached = np.isfinite(res.distance).mean()
    print(f"(origins within the {limit:g} m limit with slopes: {reached:.0%}; ratios: directed "
          "over level, networkx over gcgeo)")  # fmt: skip


if __name__ == "__main__":
    main()
