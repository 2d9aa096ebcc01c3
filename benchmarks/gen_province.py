"""Write a province-sized synthetic OSM extract (PBF) and a district boundary inside it.

A grid of residential streets (one way per run of ``--way-nodes`` nodes along rows and
columns), closed building ways around the blocks and tagged facility nodes, laid over a
``--km`` × ``--km`` square in Shandong. Node and way ids are sorted but spread over the range
real OSM ids have (up to ~1.2e10), because id-indexed structures behave differently on sparse
ids than on 1, 2, 3… With ``--scatter`` the node ids are also shuffled over the grid, as in a
real province, where a district's ids come from every year of OSM's history.

Defaults give about 5.5 M nodes, 0.5 M street ways and 1 M buildings (~90 MB), the size of
the province file in the issue. The files go to ``--out`` (never into the repository):
``province.osm.pbf`` and ``district.geojson`` (a 20 km square in the middle, WGS-84).

    python benchmarks/gen_province.py --out /tmp/prov
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import osmium
import pyproj

LON0, LAT0 = 117.8, 36.1  # the grid's centre, near 钢城区


def _ids(n: int, rng: np.random.Generator, start: int = 1) -> np.ndarray:
    """``n`` sorted, unique ids with random gaps averaging 2,000 (real ids are sparse)."""
    gaps = rng.integers(1, 4000, size=n, dtype=np.int64)
    return start + np.cumsum(gaps)


def generate(
    out: Path, km: float, spacing: float, way_nodes: int, seed: int, scatter: bool = False
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    to_wgs = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(
        LON0, LAT0
    )
    n = int(km * 1000 / spacing)
    gx, gy = np.meshgrid(np.arange(n), np.arange(n))
    sx = x0 + (gx.ravel() - n / 2) * spacing
    sy = y0 + (gy.ravel() - n / 2) * spacing
    # buildings: one 20 m square in the middle of every block (4 nodes each)
    bx = (sx + spacing / 2)[: (n * n) // 3]
    by = (sy + spacing / 2)[: (n * n) // 3]
    corners = np.array([(-10, -10), (10, -10), (10, 10), (-10, 10)], dtype=float)
    cx = (bx[:, None] + corners[None, :, 0]).ravel()
    cy = (by[:, None] + corners[None, :, 1]).ravel()
    xs, ys = np.concatenate([sx, cx]), np.concatenate([sy, cy])
    lon, lat = to_wgs.transform(xs, ys)
    nid = _ids(len(xs), rng)
    if scatter:  # as in real OSM: a district's ids come from every year of editing
        nid = nid[rng.permutation(len(nid))]
    street_id = nid[: n * n].reshape(n, n)
    building_nodes = nid[n * n :].reshape(-1, 4)
    pois = rng.choice(n * n, size=min(20_000, n * n), replace=False)
    poi_kinds = np.array(["kindergarten", "school", "clinic", "marketplace", "bus_stop"])
    poi_tag = dict(zip(pois.tolist(), rng.integers(0, len(poi_kinds), len(pois)), strict=True))
    pbf = out / "province.osm.pbf"
    if pbf.exists():
        pbf.unlink()
    t0 = time.perf_counter()
    writer = osmium.SimpleWriter(str(pbf))
    try:
        for k in np.argsort(nid).tolist():  # a sorted file: nodes in id order
            tags = {}
            if k in poi_tag:
                kind = str(poi_kinds[poi_tag[k]])
                tags = {"highway": "bus_stop"} if kind == "bus_stop" else {"amenity": kind}
                tags["name"] = f"示例 {kind} {k}"
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=int(nid[k]), location=(float(lon[k]), float(lat[k])), tags=tags
                )
            )
        wid = _ids(2 * n * ((n + way_nodes - 2) // (way_nodes - 1)) + len(building_nodes), rng)
        w = 0
        for grid in (street_id, street_id.T):
            for row in grid:
                for a in range(0, n - 1, way_nodes - 1):
                    refs = row[a : a + way_nodes].tolist()
                    writer.add_way(
                        osmium.osm.mutable.Way(
                            id=int(wid[w]), nodes=refs, tags={"highway": "residential"}
                        )
                    )
                    w += 1
        n_streets = w
        for ring in building_nodes:
            refs = [*ring.tolist(), int(ring[0])]
            writer.add_way(
                osmium.osm.mutable.Way(id=int(wid[w]), nodes=refs, tags={"building": "residential"})
            )
            w += 1
    finally:
        writer.close()
    half = 10_000.0
    dx, dy = to_wgs.transform([x0 - half, x0 + half], [y0 - half, y0 + half])
    square = [[dx[0], dy[0]], [dx[1], dy[0]], [dx[1], dy[1]], [dx[0], dy[1]], [dx[0], dy[0]]]
    (out / "district.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "synthetic district"},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return {
        "pbf": str(pbf),
        "bytes": pbf.stat().st_size,
        "nodes": len(xs),
        "street_ways": n_streets,
        "buildings": len(building_nodes),
        "max_node_id": int(nid.max()),
        "scattered_ids": scatter,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--km", type=float, default=225.0, help="side of the square grid")
    ap.add_argument("--spacing", type=float, default=150.0, help="street spacing, metres")
    ap.add_argument("--way-nodes", type=int, default=7, help="nodes per street way")
    ap.add_argument("--seed", type=int, default=370117)
    ap.add_argument(
        "--scatter",
        action="store_true",
        help="give node ids in random spatial order (a district's ids spread over the whole range)",
    )
    args = ap.parse_args()
    print(
        json.dumps(
            generate(args.out, args.km, args.spacing, args.way_nodes, args.seed, args.scatter)
        )
    )


if __name__ == "__main__":
    main()
