"""Benchmark: rank 1,000 candidate links on a ~50k-node synthetic grid.

Compares the incremental exact ranking (``gcgeo.deadends.rank_links``: base
Dijkstra once per category, then one bounded Dijkstra per link) with a full
recomputation per link (``full_link_gain``: rebuild the network with the link,
fresh Dijkstra per category). The full recomputation is timed on a sample of
links and extrapolated to all of them (stated in the output), and its gains
are checked against the incremental ones on that sample.

Run: ``PYTHONPATH=src python benchmarks/bench_scenario.py``
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import shapely

from gcgeo.catalogue import load_catalogue
from gcgeo.coverage import grid_origins
from gcgeo.deadends import find_dead_ends, full_link_gain, prepare_base, propose_links, rank_links
from gcgeo.network import StreetNetwork

SIDE = 224  # 224 x 224 = 50,176 nodes
SPACING = 80.0
X0, Y0 = 560000.0, 3990000.0
N_LINKS = 1000
SAMPLE = 20


def synthetic_grid(seed: int = 0) -> StreetNetwork:
    """A jittered grid with ~25 % of its segments missing (dead ends), built from arrays."""
    rng = np.random.default_rng(seed)
    i, j = np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")
    idx = (i * SIDE + j).ravel()
    x = X0 + i.ravel() * SPACING + rng.uniform(-12, 12, idx.size)
    y = Y0 + j.ravel() * SPACING + rng.uniform(-12, 12, idx.size)
    h = np.column_stack([(i[:-1] * SIDE + j[:-1]).ravel(), (i[1:] * SIDE + j[1:]).ravel()])
    v = np.column_stack(
        [(i[:, :-1] * SIDE + j[:, :-1]).ravel(), (i[:, 1:] * SIDE + j[:, 1:]).ravel()]
    )
    uv = np.vstack([h, v])
    uv = uv[rng.random(len(uv)) > 0.25]
    u, w = uv[:, 0], uv[:, 1]
    length = np.hypot(x[u] - x[w], y[u] - y[w])
    nodes = gpd.GeoDataFrame(
        {"osmid": idx + 1, "x": x, "y": y},
        geometry=shapely.points(x, y),
        crs="EPSG:4548",
    )
    ll = nodes.geometry.to_crs("EPSG:4326")
    nodes["lon"], nodes["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    edges = gpd.GeoDataFrame(
        {
            "u": u,
            "v": w,
            "length": length,
            "way_id": np.arange(len(u)),
            "highway": "residential",
            "name": None,
            "access": None,
            "foot": None,
            "sidewalk": None,
            "private": False,
        },
        geometry=shapely.linestrings(
            np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[w], y[w]])], axis=1)
        ),
        crs="EPSG:4548",
    )
    return StreetNetwork(nodes=nodes, edges=edges, crs="EPSG:4548", report={})


def main() -> None:
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    net = synthetic_grid()
    _ = net.graph, net.edge_tree
    t_build = time.perf_counter() - t0
    cats = load_catalogue().select(["kindergarten", "primary_school", "middle_school"])
    counts = {"kindergarten": 400, "primary_school": 150, "middle_school": 40}
    ext = SIDE * SPACING
    fac = []
    for c, k in counts.items():
        fx = X0 + rng.uniform(0, ext, k)
        fy = Y0 + rng.uniform(0, ext, k)
        fac.append(gpd.GeoDataFrame({"facility_id": [f"{c}{i}" for i in range(k)], "name": "", "category": c},
                                    geometry=shapely.points(fx, fy), crs="EPSG:4548"))  # fmt: skip
    facilities = gpd.GeoDataFrame(np.concatenate([f.values for f in fac]), columns=fac[0].columns)
    facilities = gpd.GeoDataFrame(facilities, geometry="geometry", crs="EPSG:4548")
    origins = grid_origins(net, 100.0, rule="all")

    t = time.perf_counter()
    dead = find_dead_ends(net)
    links = propose_links(net, dead)
    t_propose = time.perf_counter() - t
    links = links.sample(min(N_LINKS, len(links)), random_state=0).reset_index(drop=True)

    t = time.perf_counter()
    base = prepare_base(net, facilities, cats, origins)
    t_base = time.perf_counter() - t
    t = time.perf_counter()
    ranked = rank_links(net, base, links)
    t_rank = time.perf_counter() - t

    sample = links.sample(SAMPLE, random_state=1)
    t = time.perf_counter()
    fulls = [full_link_gain(net, base, lk)[0] for _, lk in sample.iterrows()]
    t_full_sample = time.perf_counter() - t
    per_link = t_full_sample / SAMPLE
    t_full_all = per_link * len(links)
    cols = [f"gained_{c.id}" for c in cats]
    inc = ranked.set_index("node").loc[sample["node"].to_numpy(), cols].to_numpy()
    agree = bool(np.array_equal(inc, np.array(fulls)))

    print(
        f"network: {net.n_nodes:,} nodes, {len(net.edges):,} edges (built from arrays in {t_build:.2f} s)"
    )
    print(f"origins: {len(origins):,}; facilities: {len(facilities)} in {len(cats)} categories")
    print(f"dead ends: {len(dead):,} (excluded at the edge: {dead.attrs['excluded_at_edge']}); "
          f"candidate links ranked: {len(links):,}")  # fmt: skip
    print(f"links gaining coverage: {int((ranked['gained'] > 0).sum())}; "
          f"incremental == full on the {SAMPLE}-link sample: {agree}")  # fmt: skip
    print()
    print("| step | time |")
    print("|---|---|")
    print(f"| find dead ends + propose links | {t_propose:.2f} s |")
    print(f"| base distances (1 Dijkstra per category, snapping) | {t_base:.2f} s |")
    print(
        f"| incremental ranking of {len(links):,} links | {t_rank:.2f} s ({t_rank / len(links) * 1000:.2f} ms/link) |"
    )
    print(
        f"| full recomputation, {SAMPLE} links measured | {t_full_sample:.2f} s ({per_link * 1000:.0f} ms/link) |"
    )
    print(
        f"| full recomputation, {len(links):,} links (extrapolated from {SAMPLE}) | {t_full_all:.0f} s |"
    )
    print(f"| speed-up (full extrapolated / incremental) | {t_full_all / t_rank:.0f}x |")


if __name__ == "__main__":
    main()
