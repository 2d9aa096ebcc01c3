"""Benchmark: map build time and HTML size on a synthetic 50,176-node street grid.

Run with ``PYTHONPATH=src python benchmarks/bench_maps.py``. Nothing is written to disk.
Targets: whole map < 10 s, HTML < 15 MB.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse import csgraph

from gcgeo import maps

N = 224  # 224 x 224 = 50,176 nodes, ~100k segments
STEP = 80.0  # metres between nodes: an 18 km x 18 km area, about the size of 钢城区
JITTER = 4.0  # node positions moved by up to 4 m so streets are not perfectly straight
X0, Y0 = 565000.0, 3985000.0  # EPSG:4548 near 117.8 E, 36.0 N


def grid(n: int = N) -> tuple[gpd.GeoDataFrame, int]:
    rng = np.random.default_rng(42)
    xs, ys = np.meshgrid(X0 + np.arange(n) * STEP, Y0 + np.arange(n) * STEP)
    xy = np.column_stack([xs.ravel(), ys.ravel()]) + rng.uniform(-JITTER, JITTER, (n * n, 2))
    idx = np.arange(n * n).reshape(n, n)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    way = np.concatenate([np.repeat(np.arange(n), n - 1), 10_000 + np.tile(np.arange(n), n - 1)])
    length = np.hypot(*(xy[u] - xy[v]).T)
    highway = np.where(way % 10 == 0, "secondary", "residential")
    edges = gpd.GeoDataFrame(
        {"u": u, "v": v, "length": length, "highway": highway, "name": "路", "way_id": way},
        geometry=shapely.linestrings(np.stack([xy[u], xy[v]], axis=1)),
        crs="EPSG:4548",
    )
    return edges, n * n


def main() -> None:
    t0 = time.perf_counter()
    edges, n_nodes = grid()
    g = sp.csr_matrix((edges["length"], (edges["u"], edges["v"])), shape=(n_nodes, n_nodes))
    rng = np.random.default_rng(1)
    sources = rng.choice(n_nodes, 60, replace=False)
    d = csgraph.dijkstra(g, directed=False, indices=sources, min_only=True)
    d[d > 1500] = np.inf  # far streets unreachable
    edge_min = np.minimum(d[edges["u"]], d[edges["v"]]) / 1.1 / 60
    edges["walk_min"] = edge_min
    one = csgraph.dijkstra(g, directed=False, indices=int(sources[0]), limit=1200)
    t_data = time.perf_counter() - t0
    print(f"synthetic grid: {n_nodes:,} nodes, {len(edges):,} segments ({t_data:.1f} s to build)")

    t = time.perf_counter()
    iso = maps.isochrone_polygons(edges, one, minutes=(5, 10, 15))
    t_iso = time.perf_counter() - t

    # 100 m grid origins over the same area (~32k cells), completeness drawn as merged cells
    cx, cy = np.meshgrid(X0 + np.arange(0, N * STEP, 100.0), Y0 + np.arange(0, N * STEP, 100.0))
    origins = gpd.GeoDataFrame(
        {"lc_completeness": rng.integers(0, 11, cx.size) / 10},
        geometry=shapely.points(cx.ravel(), cy.ravel()),
        crs="EPSG:4548",
    )

    t = time.perf_counter()
    m = maps.new_map(edges, offline=True)
    maps.basemap_streets(edges, m)
    maps.streets_by_minutes(edges, "walk_min", m)
    maps.isochrone_layer(iso, m)
    maps.completeness_layer(origins, m, cell_size=100)
    t_layers = time.perf_counter() - t
    t = time.perf_counter()
    page = maps.to_html(m)
    t_html = time.perf_counter() - t
    size = len(page.encode("utf-8"))
    total = t_layers + t_html
    print(f"isochrones (5/10/15 min from one point): {t_iso:.2f} s")
    print(
        f"layers (basemap + streets by minutes + isochrones + {len(origins):,} completeness "
        f"cells): {t_layers:.2f} s"
    )
    print(f"render HTML: {t_html:.2f} s")
    print(f"map build total: {total:.2f} s (target < 10 s) -> {'OK' if total < 10 else 'SLOW'}")
    print(f"HTML size: {size / 1e6:.2f} MB (target < 15 MB) -> {'OK' if size < 15e6 else 'BIG'}")


if __name__ == "__main__":
    main()
