"""How fast the live page answers: server time per added facility, bytes per update, and
click-to-redrawn-map time in a real Chromium.

Run from the repository root (needs the serve extra and Chromium for the browser rows)::

    PYTHONPATH=src python benchmarks/bench_serve.py           # demo + ~100k-node grid
    PYTHONPATH=src python benchmarks/bench_serve.py --quick   # demo only

Server rows read the server's own time (its ``Server-Timing`` header) for
``POST /api/facilities`` (JSON parsing, the incremental update, the shares of every area,
the changed segments' bands, JSON encoding):
median and 95th percentile of ``--adds`` additions at random street points, each measured
in this run against recomputing the category from scratch. The browser row clicks the map
``--clicks`` times in headless Chromium (system Chromium through Playwright) and reads the
page's own click-to-redrawn time (request, answer, decoding, canvas redraw).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import machine_info, make_shape_grid  # noqa: E402


def demo_data(workdir: Path):
    """What ``gcgeo serve`` serves with no options (the demo)."""
    from gcgeo import settings
    from gcgeo.cli.options import OriginArgs, StudyArgs
    from gcgeo.cli.serve import build_data

    study = StudyArgs(
        osm_path=None,
        catalogue_path=None,
        facilities_csv=None,
        facilities_crs="wgs84",
        no_osm_facilities=False,
        no_private=False,
        metric_crs=None,
        max_snap=settings.MAX_SNAP_M,
        speed=settings.WALK_SPEED_MPS,
        max_distance=None,
        cache_dir=None,
        no_cache=True,
    )
    origins = OriginArgs(None, settings.CELL_M, "auto", None, None)
    return build_data(study, origins, None, settings.THRESHOLD_BASIS, workdir)


def grid_data(junctions: int):
    """ServeData on a shape grid placed over the district (synthetic)."""
    import geopandas as gpd
    import shapely

    from gcgeo.catalogue import load_catalogue
    from gcgeo.coverage import grid_origins
    from gcgeo.serve import ServeData

    net = make_shape_grid(junctions, shuffle=True)
    rng = np.random.default_rng(1)
    cats = load_catalogue().select(None)
    k = 150
    pick = rng.integers(0, net.n_nodes, k * 3)
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i}" for i in range(len(pick))],
            "name": "",
            "category": np.repeat(["kindergarten", "clinic", "park"], k),
        },
        geometry=shapely.points(net.xy[pick] + 20.0),
        crs=net.crs,
    )
    origins = grid_origins(net, 100.0, None, "all")
    return ServeData.prepare(net, fac, cats, origins, label="synthetic grid")


def _post(url: str, body: dict, sid: str) -> tuple[dict, float, int]:
    import json
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Gcgeo-Session", sid)
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read()
        dur = float(r.headers["server-timing"].split("dur=")[1]) / 1000
    return json.loads(raw), dur, len(raw)


def server_rows(name: str, data, adds: int, rng: np.random.Generator) -> list[tuple]:
    import json
    import urllib.request

    from gcgeo.coverage import compute_coverage
    from gcgeo.serve.app import make_app

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from serve.serverutil import Server

    net = data.net
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    times, sizes = [], []
    with Server(make_app(data)) as url:
        with urllib.request.urlopen(url + "api/state?category=kindergarten") as r:
            first = json.loads(r.read())
        sid, known = first["session"], first["bands_version"]
        for node in rng.integers(0, net.n_nodes, adds):
            body = {"category": "kindergarten", "lon": float(lon[node]), "lat": float(lat[node])}
            doc, dur, size = _post(url + f"api/facilities?known={known}", body, sid)
            times.append(dur)  # the server's own time (its Server-Timing header)
            sizes.append(size)
            known = doc["bands_version"]
        with urllib.request.urlopen(url + "api/network") as r:
            net_bytes = len(r.read())
    fac = data.facilities
    cats = [data.categories["kindergarten"]]
    t0 = time.perf_counter()
    compute_coverage(net, fac, cats, data.origins)
    full = time.perf_counter() - t0
    p95 = float(np.percentile(times, 95))
    med = statistics.median(times)
    return [
        (
            f"{name}: server time per added facility ({net.n_nodes:,} nodes, "
            f"{len(net.edges):,} segments, {len(data.origins):,} origins)",
            f"median {med * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms",
            f"{full / med:.0f}× faster than `compute_coverage` for the category "
            f"({full * 1000:.0f} ms)",
        ),
        (
            f"{name}: bytes per update / network sent once",
            f"{statistics.median(sizes) / 1024:.0f} KB / {net_bytes / 1024:.0f} KB",
            "only the segments whose band changed (after the first answer)",
        ),
    ]


def browser_row(name: str, data, clicks: int, screenshot: Path | None = None) -> tuple | None:
    from gcgeo.pdf import find_chromium
    from gcgeo.serve.app import make_app

    exe = find_chromium()
    if exe is None:
        return (f"{name}: click to redrawn map in Chromium", "not measured", "no Chromium")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from playwright.sync_api import sync_playwright
    from serve.serverutil import Server

    net = data.net
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    rng = np.random.default_rng(9)
    ms = []
    with Server(make_app(data)) as url, sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])  # fmt: skip
        page = b.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        box = page.locator("#map").bounding_box()
        done = 0
        for node in rng.integers(0, net.n_nodes, clicks * 5):
            pt = page.evaluate(
                f"(() => {{ const p = window.gcgeo.map.latLngToContainerPoint([{lat[node]}, {lon[node]}]);"
                " return [p.x, p.y]; })()"
            )
            if not (0 < pt[0] < box["width"] and 0 < pt[1] < box["height"]):
                continue
            before = int(page.evaluate("Number(document.body.dataset.updates || 0)"))
            page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])
            try:  # a click on a marker opens its popup instead of adding: skip it
                page.wait_for_function(
                    f"Number(document.body.dataset.updates || 0) > {before}", timeout=15_000
                )
            except Exception:
                page.keyboard.press("Escape")
                continue
            ms.append(page.evaluate("window.gcgeo.lastMs"))
            done += 1
            if done == clicks:
                break
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        b.close()
    return (
        f"{name}: click to redrawn map in Chromium ({len(ms)} clicks)",
        f"median {statistics.median(ms):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms",
        "request + update + decode + canvas redraw of every segment",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the demo only")
    ap.add_argument("--adds", type=int, default=50)
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument(
        "--screenshot", type=Path, default=None, help="save the demo page after the clicks (PNG)"
    )
    args = ap.parse_args(argv)
    rng = np.random.default_rng(3)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        demo = demo_data(Path(tmp))
        rows += server_rows("demo", demo, args.adds, rng)
        rows.append(browser_row("demo", demo, args.clicks, args.screenshot))
        if not args.quick:
            grid = grid_data(38_000)
            rows += server_rows("grid", grid, args.adds, rng)
            rows.append(browser_row("grid", grid, max(5, args.clicks // 2)))
    print(machine_info())
    print()
    print("| what | result | note |")
    print("|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
