"""Benchmark the whole ``gcgeo coverage`` command against networkx, both in the same run.

Run from the repository root (gcgeo installed, e.g. the project's venv)::

    python benchmarks/bench_end_to_end.py            # full run (~130k street nodes, ~1 min)
    python benchmarks/bench_end_to_end.py --quick    # smoke check (~15k nodes), < 60 s
    python benchmarks/bench_end_to_end.py --scatter  # node ids shuffled over the grid, as in real OSM

What is measured
----------------
1. A synthetic OSM PBF is written into a temporary folder (never the repository) with
   ``osmium.SimpleWriter``, centred near lon 117.8, lat 36.1 (coordinates laid out in
   EPSG:4548 metres and converted with pyproj): a square grid of junctions 150 m apart with
   two shape nodes on every block edge (at 1/3 and 2/3, jittered ±2 m sideways, so they are
   genuine two-neighbour nodes), ``highway=residential`` ways of 10 blocks each along every
   row and column, a closed 20 m ``building=residential`` square in a third of the blocks
   (so the default origin rule has residential places), and tagged, named facility nodes
   30-60 m off a street inside blocks for 8 catalogue categories (100-300 each; fewer in
   ``--quick``). Node and way ids are sorted but sparse, as in ``gen_province.py``. The
   categories gcgeo's own reader finds are checked against what was written before
   anything is timed.
2. ``gcgeo coverage --osm FILE --out DIR --categories … --no-cache --json --overwrite`` as a
   planner runs it: a fresh process, interpreter start-up and imports included, wall time
   with ``time.perf_counter`` around ``subprocess.run`` (median of 3; 1 in ``--quick``).
   The per-stage wall times the command prints in ``timings_s`` (read, network,
   facilities, snap, search, write) are reported too, and ``other`` is the rest of the
   wall time (start-up, imports, origins, by-area tables, JSON). Then the same command
   with ``--cache DIR``: one cold run that builds and stores the cache entry, then the
   planner's second run, which loads it (median of 3; 1 in ``--quick``).
3. networkx on the same graph: :func:`gcgeo.network.load_network` in-process (not
   timed), :func:`gcgeo.network.to_networkx` (the lean undirected ``nx.Graph``, timed and
   reported separately), then per category one
   ``nx.multi_source_dijkstra_path_length(g, sources, cutoff=limit, weight="length")``
   from the facilities' nearest street nodes (the closer end of the snapped segment),
   with the limit ``gcgeo coverage`` uses (:func:`gcgeo.coverage.search_limit` at the
   default speed). Only the 8 searches are timed (their sum; median of 3, 1 in
   ``--quick``): "networkx for the searches alone", no snapping, no origins, no outputs.

For reading the ``other`` share there are floor rows: a fresh ``gcgeo coverage --help``
(S1), a fresh interpreter importing the modules the command uses (S2), the same
importing only the libraries gcgeo stands on (L0: numpy, scipy's graph routines, pandas,
geopandas, shapely, pyproj, pyogrio, pyosmium; no gcgeo code, so no change to gcgeo can
go below it), and in-process :func:`gcgeo.coverage.grid_origins` on the same network (P1).

The headline ratio is ``gcgeo coverage end-to-end / networkx searches alone`` (the
project's issue targets ≤ 0.5). Everything is measured in this same run; there are no
timing assertions because machines are noisy. The output is Markdown for the README.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

LON0, LAT0 = 117.8, 36.1  # the grid's centre, near 钢城区 (as gen_province.py)
SPACING = 150.0  # junction spacing (m)
JITTER = 2.0  # sideways jitter of shape nodes (m)
BLOCKS_PER_WAY = 10
#: category -> the OSM tag the shipped catalogue maps to it (and to no other category)
CATEGORY_TAGS = {
    "kindergarten": ("amenity", "kindergarten"),
    "clinic": ("amenity", "clinic"),
    "elderly_care": ("amenity", "nursing_home"),
    "fresh_market": ("amenity", "marketplace"),
    "bus_stop": ("highway", "bus_stop"),
    "sports": ("leisure", "pitch"),
    "park": ("leisure", "park"),
    "culture": ("amenity", "library"),
}
CATEGORIES = list(CATEGORY_TAGS)
#: What any gcgeo command stands on (the design card's stack, the search and the reader):
#: importing them alone, before a byte is read, is the floor row L0.
STACK = ("numpy", "scipy.sparse.csgraph", "pandas", "geopandas", "shapely", "pyproj")
STACK += ("pyogrio", "osmium")
FULL_NODES = 130_000
QUICK_NODES = 15_000
#: the full-size grid's blocks; facility counts scale with the block count below it
FULL_BLOCKS = 160**2


# ---------------------------------------------------------------- helpers
def _ids(n: int, rng: np.random.Generator, start: int = 1) -> np.ndarray:
    """``n`` sorted, unique ids with random gaps averaging 2,000 (real ids are sparse)."""
    return start + np.cumsum(rng.integers(1, 4000, size=n, dtype=np.int64))


def side_for(nodes: int) -> int:
    """Junction side ``n`` whose grid has about ``nodes`` street nodes (5 n² − 4 n)."""
    return max(3, round((4 + math.sqrt(16 + 20 * nodes)) / 10))


def _fmt(t: float) -> str:
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


class Table:
    """Rows of (key, method, seconds, refs); ratios are computed against rows of this run."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, tuple[str, ...], str]] = []

    def time_of(self, key: str) -> float:
        return next(r for r in self.rows if r[0] == key)[2]

    def add(
        self, key: str, method: str, t: float, refs: tuple[str, ...] = (), share_of: str = ""
    ) -> None:
        self.rows.append((key, method, t, refs, share_of))
        print(f"  [{key}] {method}: {t:.3f} s", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        out = ["| # | what | time | ratio (this row / row named) |", "|---|---|---:|---|"]
        for key, method, t, refs, share_of in self.rows:
            parts = [f"**{t / self.time_of(r):,.2f}×** vs {r}" for r in refs]
            if share_of:
                parts.append(f"{t / self.time_of(share_of):.0%} of {share_of}")
            out.append(f"| {key} | {method} | {_fmt(t)} | {' · '.join(parts)} |")
        return "\n".join(out)


def _street_runs(ends: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Node indices along each line of the grid: junction, shape, shape, junction, ….

    ``ends`` (lines, n) are the junctions of each line, ``shape`` (lines, n − 1, 2) the two
    shape nodes of each of its block edges; returns (lines, 3 (n − 1) + 1).
    """
    lines, n = ends.shape
    seq = np.empty((lines, 3 * (n - 1) + 1), dtype=np.int64)
    seq[:, 0:-1:3] = ends[:, :-1]
    seq[:, 1::3] = shape[:, :, 0]
    seq[:, 2::3] = shape[:, :, 1]
    seq[:, -1] = ends[:, -1]
    return seq


# ------------------------------------------------------------- the input
def generate(out: Path, nodes: int, seed: int, scatter: bool) -> dict[str, Any]:
    """Write ``grid.osm.pbf`` into ``out``; returns what was written (counts, seconds)."""
    import osmium
    import pyproj

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    to_wgs = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
    x0, y0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(
        LON0, LAT0
    )
    n = side_for(nodes)
    s = SPACING
    # junctions J[i, j]: row i (y), column j (x)
    gi, gj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    jx = x0 + (gj - n / 2) * s
    jy = y0 + (gi - n / 2) * s
    thirds = np.array([1 / 3, 2 / 3])
    # shape nodes on horizontal edges (i, j)-(i, j+1): H[i, j, k]; vertical (i, j)-(i+1, j): V
    hx = jx[:, :-1, None] + thirds * s
    hy = jy[:, :-1, None] + rng.uniform(-JITTER, JITTER, (n, n - 1, 2))
    vx = jx[:-1, :, None] + rng.uniform(-JITTER, JITTER, (n - 1, n, 2))
    vy = jy[:-1, :, None] + thirds * s
    n_j, n_h = n * n, n * (n - 1) * 2
    J = np.arange(n_j).reshape(n, n)
    H = n_j + np.arange(n_h).reshape(n, n - 1, 2)
    V = n_j + n_h + np.arange(n_h).reshape(n - 1, n, 2)
    n_street = n_j + 2 * n_h
    # buildings: one 20 m square in the middle of a random third of the blocks
    n_blocks = (n - 1) ** 2
    bblk = np.sort(rng.choice(n_blocks, n_blocks // 3, replace=False))
    bcx = jx[:-1, :-1].ravel()[bblk] + s / 2
    bcy = jy[:-1, :-1].ravel()[bblk] + s / 2
    corners = np.array([(-10, -10), (10, -10), (10, 10), (-10, 10)], dtype=float)
    cx = (bcx[:, None] + corners[None, :, 0]).ravel()
    cy = (bcy[:, None] + corners[None, :, 1]).ravel()
    # facilities: in distinct random blocks, 30-60 m off one of the block's four streets,
    # far enough along it that this street is the nearest one
    scale = min(1.0, n_blocks / FULL_BLOCKS)
    counts = {
        c: max(5, round(int(k) * scale))
        for c, k in zip(CATEGORIES, rng.integers(100, 301, len(CATEGORIES)), strict=True)
    }
    n_fac = sum(counts.values())
    fblk = rng.choice(n_blocks, n_fac, replace=False)
    off = rng.uniform(30, 60, n_fac)
    along = off + rng.random(n_fac) * (s - 2 * off)
    side = rng.integers(0, 4, n_fac)  # 0 south, 1 north, 2 west, 3 east street
    lx = np.select([side == 0, side == 1, side == 2], [along, along, off], s - off)
    ly = np.select([side == 0, side == 1, side == 2], [off, s - off, along], along)
    fx = jx[:-1, :-1].ravel()[fblk] + lx
    fy = jy[:-1, :-1].ravel()[fblk] + ly
    fcat = np.repeat(np.array(CATEGORIES, dtype=object), list(counts.values()))
    xs = np.concatenate([jx.ravel(), hx.ravel(), vx.ravel(), cx, fx])
    ys = np.concatenate([jy.ravel(), hy.ravel(), vy.ravel(), cy, fy])
    lon, lat = to_wgs.transform(xs, ys)
    nid = _ids(len(xs), rng)
    if scatter:  # as in real OSM: a district's ids come from every year of editing
        nid = nid[rng.permutation(len(nid))]
    b0 = n_street
    f0 = b0 + len(cx)
    building_nodes = nid[b0:f0].reshape(-1, 4)
    fac_tags: dict[int, dict[str, str]] = {}
    for k, c in enumerate(fcat.tolist()):
        key, value = CATEGORY_TAGS[c]
        fac_tags[f0 + k] = {key: value, "name": f"bench {c} {k}"}
    # street sequences along rows (junction, shape, shape, junction, …) and columns
    m = 3 * (n - 1) + 1
    rows = _street_runs(J, H)  # row i: J[i, 0], H[i, 0, 0], H[i, 0, 1], J[i, 1], …
    cols = _street_runs(J.T, V.transpose(1, 0, 2))  # column j: J[0, j], V[0, j, 0], …
    step = 3 * BLOCKS_PER_WAY
    starts = list(range(0, m - 1, step))
    wid = _ids(2 * n * len(starts) + len(building_nodes), rng)
    pbf = out / "grid.osm.pbf"
    if pbf.exists():
        pbf.unlink()
    writer = osmium.SimpleWriter(str(pbf))
    w = 0
    try:
        for k in np.argsort(nid).tolist():  # a sorted file: nodes in id order
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=int(nid[k]),
                    location=(float(lon[k]), float(lat[k])),
                    tags=fac_tags.get(k, {}),
                )
            )
        for seqs in (rows, cols):
            for seq in seqs:
                for a in starts:
                    refs = nid[seq[a : a + step + 1]].tolist()
                    writer.add_way(
                        osmium.osm.mutable.Way(
                            id=int(wid[w]), nodes=refs, tags={"highway": "residential"}
                        )
                    )
                    w += 1
        n_street_ways = w
        for ring in building_nodes:
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=int(wid[w]),
                    nodes=[*ring.tolist(), int(ring[0])],
                    tags={"building": "residential"},
                )
            )
            w += 1
    finally:
        writer.close()
    return {
        "pbf": pbf,
        "bytes": pbf.stat().st_size,
        "side": n,
        "street_nodes": n_street,
        "nodes": len(xs),
        "street_ways": n_street_ways,
        "buildings": len(building_nodes),
        "facilities": counts,
        "scattered_ids": scatter,
        "seconds": time.perf_counter() - t0,
    }


def check_facilities(pbf: Path, expected: dict[str, int]) -> Any:
    """gcgeo's own reader must find exactly ``expected`` per category; returns the facilities."""
    from gcgeo.catalogue import load_catalogue
    from gcgeo.facilities import facilities_from_osm
    from gcgeo.osm import read_osm

    fac = facilities_from_osm(read_osm(pbf), load_catalogue())
    got = {str(k): int(v) for k, v in fac["category"].value_counts().items()}
    if got != expected:
        raise SystemExit(
            f"gcgeo reads other facility categories than were written:\n  written {expected}\n"
            f"  read    {dict(sorted(got.items()))}"
        )
    return fac


# ------------------------------------------------------------ the command
def gcgeo_command() -> list[str]:
    """The ``gcgeo`` console script next to this interpreter, else the same entry point via -c.

    (``python -m gcgeo`` does not work: the package has no ``__main__``.)
    """
    script = Path(sys.executable).with_name("gcgeo")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from gcgeo.cli import main; main()"]


def run_cli(cmd: list[str]) -> tuple[float, dict[str, Any]]:
    """Wall time of ``cmd`` in a fresh process, and the JSON it prints (``{}`` if none)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}\nfailed ({p.returncode}):\n{p.stderr[-3000:]}")
    out = p.stdout.strip()
    return t, json.loads(out[out.index("{") :]) if "{" in out else {}


def median_run(runs: list[tuple[float, dict[str, Any]]]) -> tuple[float, dict[str, Any]]:
    """The run with the median wall time (its stage times add up with its wall time)."""
    ordered = sorted(runs, key=lambda r: r[0])
    return ordered[(len(ordered) - 1) // 2]


def stages(wall: float, doc: dict[str, Any]) -> dict[str, float]:
    """``timings_s`` of one run plus ``other`` (wall time not in any stage)."""
    st = {k: float(v) for k, v in doc.get("timings_s", {}).items()}
    st["other"] = wall - sum(st.values())
    return st


STAGE_TEXT = {
    "read": "read the PBF (streets, buildings, POIs)",
    "network": "build the walk network",
    "facilities": "classify facilities",
    "cache_load": "load the cache entry",
    "snap": "snap origins and facilities",
    "search": "8 searches + origin distances",
    "write": "write CSV/GPKG outputs",
    "other": "start-up, imports, origins, by-area tables, JSON (wall − stages)",
}


# --------------------------------------------------------------- networkx
def networkx_baseline(
    pbf: Path, fac: Any, repeat: int
) -> tuple[Any, float, float, dict[str, tuple[int, float, float]]]:
    """(net, build s, summed search s, {category: (sources, limit, reached share)})."""
    import networkx as nx

    from gcgeo import settings
    from gcgeo.catalogue import load_catalogue
    from gcgeo.coverage import search_limit
    from gcgeo.network import load_network, to_networkx
    from gcgeo.snap import snap_points

    net = load_network(pbf)  # not timed
    cats = {c.id: c for c in load_catalogue().select(CATEGORIES)}
    f = fac.to_crs(net.crs)
    xy = np.column_stack([f.geometry.x.to_numpy(), f.geometry.y.to_numpy()])
    snap = snap_points(net, xy)
    if not snap.ok.all():
        raise SystemExit(f"{int((~snap.ok).sum())} facilities did not snap to a street")
    e = snap.edge
    near = np.where(snap.offset <= net.edge_length[e] / 2, net.edge_u[e], net.edge_v[e])
    fcat = f["category"].to_numpy(object)
    jobs = []
    for cid in CATEGORIES:
        c = cats[cid]
        # as gcgeo coverage at the default speed (threshold basis "distance")
        limit = search_limit(c.max_distance_m, settings.WALK_SPEED_MPS)
        jobs.append((cid, set(np.unique(near[fcat == cid]).tolist()), limit))
    t0 = time.perf_counter()
    g = to_networkx(net)
    t_build = time.perf_counter() - t0
    times, reached = [], {}
    for _ in range(repeat):
        t_sum = 0.0
        for cid, src, limit in jobs:
            a = time.perf_counter()
            d = nx.multi_source_dijkstra_path_length(g, src, cutoff=limit, weight="length")
            t_sum += time.perf_counter() - a
            reached[cid] = (len(src), limit, len(d) / net.n_nodes)
        times.append(t_sum)
    return net, t_build, statistics.median(times), reached


def git_rev() -> str:
    """The checkout's short commit id ("" outside a git checkout)."""
    try:
        return subprocess.run(
            ["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_info(rev: str = "") -> str:
    """bench_engine's machine line, with the commit measured."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_engine import machine_info as engine_machine_info

    line = engine_machine_info()
    return line[:-1] + (f"; gcgeo commit {rev}." if rev else ".")


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    from gcgeo.coverage import grid_origins

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="~15k nodes, 1 repeat (< 60 s)")
    ap.add_argument(
        "--nodes", type=int, default=None, help=f"street nodes (default {FULL_NODES:,})"
    )
    ap.add_argument(
        "--scatter", action="store_true", help="shuffle node ids over the grid, as in real OSM"
    )
    ap.add_argument("--seed", type=int, default=370117)
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the PBF and outputs into this folder (outside the repository) and keep them",
    )
    args = ap.parse_args(argv)
    quick = args.quick
    repeat = 1 if quick else 3
    nodes = args.nodes or (QUICK_NODES if quick else FULL_NODES)
    t_start = time.perf_counter()
    rev0 = git_rev()
    repo = Path(__file__).resolve().parents[1]
    if args.keep is not None and args.keep.resolve().is_relative_to(repo):
        ap.error(f"--keep {args.keep} is inside the repository; pick a folder elsewhere")
    tmp = tempfile.TemporaryDirectory(prefix="gcgeo-bench-e2e-") if args.keep is None else None
    work = Path(tmp.name) if tmp is not None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"generating ~{nodes:,} street nodes in {work} …", file=sys.stderr, flush=True)
        gen = generate(work, nodes, args.seed, args.scatter)
        pbf = gen["pbf"]
        fac = check_facilities(pbf, gen["facilities"])
        print(f"  generated in {gen['seconds']:.1f} s; facilities check ok", file=sys.stderr)

        tab = Table()
        gc = gcgeo_command()
        cat_arg = ",".join(CATEGORIES)
        base = [*gc, "coverage", "--osm", str(pbf), "--categories", cat_arg, "--json"]
        base += ["--overwrite"]

        # networkx first (in-process), so the subprocesses do not compete with it
        net, t_build, t_nx, reached = networkx_baseline(pbf, fac, repeat)
        deg = np.diff(net.graph.indptr)
        n_kept = int((deg != 2).sum())
        t0 = time.perf_counter()
        grid_origins(net)
        t_orig = time.perf_counter() - t0

        t_help = statistics.median(run_cli([*gc, "coverage", "--help"])[0] for _ in range(repeat))
        imp = [
            sys.executable,
            "-c",
            "import gcgeo.cli.coverage, gcgeo.study, gcgeo.coverage, gcgeo.by_area, "
            "gcgeo.facilities, gcgeo.layers, gcgeo.qgis_style, gcgeo.osm, gcgeo.network",
        ]
        t_imp = statistics.median(run_cli(imp)[0] for _ in range(repeat))
        libs = [sys.executable, "-c", f"import {', '.join(STACK)}"]
        t_libs = statistics.median(run_cli(libs)[0] for _ in range(repeat))
        nocache = [
            run_cli([*base, "--out", str(work / "out"), "--no-cache"]) for _ in range(repeat)
        ]
        t_nc, doc_nc = median_run(nocache)
        cache_dir = work / "cache"
        shutil.rmtree(cache_dir, ignore_errors=True)
        cached = [*base, "--out", str(work / "out_cache"), "--cache", str(cache_dir)]
        t_cold, doc_cold = run_cli(cached)
        t_hit, doc_hit = median_run([run_cli(cached) for _ in range(repeat)])
        hit = doc_hit.get("study", {}).get("cache", {}).get("hit")
        if not hit:
            raise SystemExit("the second run with --cache did not hit the cache")
        summary = {r["category"]: r for r in doc_nc.get("summary", [])}
        n_origins = doc_nc.get("meta", {}).get("origins")

        st_nc, st_cold, st_hit = (
            stages(t_nc, doc_nc),
            stages(t_cold, doc_cold),
            stages(t_hit, doc_hit),
        )
        tab.add("N1", "networkx: build the lean `nx.Graph` (`gcgeo.network.to_networkx`)", t_build)
        tab.add(
            "N2",
            "**networkx searches alone**: 8 × `multi_source_dijkstra_path_length`"
            " (cutoff = gcgeo's search limit, sources = nearest street nodes)",
            t_nx,
        )
        tab.add("N3", "networkx build + searches (N1 + N2)", t_build + t_nx)
        tab.add("S1", "start-up floor: `gcgeo coverage --help` (fresh process)", t_help, ("N2",))
        tab.add("S2", "import floor: the modules the command uses (fresh python)", t_imp, ("N2",))
        tab.add(
            "L0",
            "the stack alone: a fresh python importing " + ", ".join(STACK) + " (no gcgeo code)",
            t_libs,
            ("N2",),
        )
        tab.add(
            "E1",
            "**`gcgeo coverage` end-to-end, `--no-cache`** (fresh process, start-up included)",
            t_nc,
            ("N2", "N3"),
        )
        for k, v in st_nc.items():
            tab.add(f"E1.{k}", f"  ↳ {k}: {STAGE_TEXT.get(k, k)}", v, (), "E1")
        tab.add(
            "E1.rest",
            "  ↳ of `other`, not imports (E1.other − S2): origins, by-area, JSON, exit — estimate",
            max(st_nc["other"] - t_imp, 0.0),
            (),
            "E1",
        )
        tab.add(
            "P1",
            "  for reference, in-process: `grid_origins` (default rule) on the same network",
            t_orig,
            (),
            "E1",
        )
        tab.add(
            "E2",
            "`gcgeo coverage --cache DIR`, cold (builds and stores the entry)",
            t_cold,
            ("N2",),
        )
        tab.add(
            "E3",
            "**`gcgeo coverage --cache DIR`, second run** (cache hit)",
            t_hit,
            ("N2", "N3", "E1"),
        )
        for k, v in st_hit.items():
            tab.add(f"E3.{k}", f"  ↳ {k}: {STAGE_TEXT.get(k, k)}", v, (), "E3")

        # ------------------------------------------------------------ output
        print()
        rev1 = git_rev()
        print(machine_info(rev0 if rev1 == rev0 else f"{rev0} → {rev1}: CHANGED during the run"))
        fac_txt = ", ".join(f"{c} {k}" for c, k in gen["facilities"].items())
        print(
            f"Mode: {'quick' if quick else 'full'}; {repeat} run(s) per row (median); "
            f"command: `gcgeo coverage --osm FILE --out DIR --categories {cat_arg} "
            "--no-cache --json --overwrite`."
        )
        print(
            f"Input: {gen['side']}×{gen['side']} junctions, {SPACING:g} m apart, 2 shape nodes "
            f"per block edge; {gen['street_nodes']:,} street nodes, {gen['nodes']:,} nodes in "
            f"the file ({gen['buildings']:,} buildings, {sum(gen['facilities'].values()):,} "
            f"facilities: {fac_txt}); {gen['street_ways']:,} street ways; "
            f"{gen['bytes'] / 1e6:.2f} MB PBF; node ids {'scattered' if args.scatter else 'sorted'}"
            f"; generated in {gen['seconds']:.1f} s."
        )
        print(
            f"Network: {net.n_nodes:,} nodes, {len(net.edges):,} edges; junctions and dead ends"
            f" (≠ 2 neighbours) {n_kept:,} = {n_kept / net.n_nodes:.1%} of nodes; "
            f"{n_origins:,} origins (rule {doc_nc.get('meta', {}).get('origin_rule')})."
        )
        print()
        print(tab.markdown())
        print()
        print("Stages as `gcgeo coverage` reports them (`timings_s`; `other` = wall − stages):")
        print()
        keys = list(dict.fromkeys([*st_nc, *st_cold, *st_hit]))
        keys.remove("other")
        keys.append("other")
        print("| stage | `--no-cache` | cache cold | cache hit |")
        print("|---|---:|---:|---:|")
        for k in keys:
            cells = [
                f"{_fmt(s[k])} ({s[k] / w:.0%})" if k in s else "—"
                for s, w in ((st_nc, t_nc), (st_cold, t_cold), (st_hit, t_hit))
            ]
            print(f"| {k} | {' | '.join(cells)} |")
        print(f"| **wall** | **{_fmt(t_nc)}** | **{_fmt(t_cold)}** | **{_fmt(t_hit)}** |")
        print()
        print("networkx searches per category (sources = distinct nearest nodes):")
        print()
        print("| category | sources | cutoff | nodes reached | gcgeo share covered |")
        print("|---|---:|---:|---:|---:|")
        for cid, (k, limit, share) in reached.items():
            cov = summary.get(cid, {}).get("share")
            cov_txt = f"{cov:.1%}" if isinstance(cov, int | float) else "—"
            print(f"| {cid} | {k} | {limit:g} m | {share:.1%} | {cov_txt} |")
        print()
        r1, r3 = t_nc / t_nx, t_hit / t_nx
        print(
            f"summary: gcgeo coverage end-to-end {_fmt(t_nc)} (cache hit {_fmt(t_hit)}) vs "
            f"networkx searches alone {_fmt(t_nx)} on {net.n_nodes:,} nodes → ratio "
            f"{r1:.2f} ({r3:.2f} with the cache; target ≤ 0.5; the stack's imports alone "
            f"{t_libs / t_nx:.2f}); "
            f"total bench time {time.perf_counter() - t_start:.0f} s"
        )
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
