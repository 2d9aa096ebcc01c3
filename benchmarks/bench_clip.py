"""Clip a province-sized extract to one district: time and peak memory, side by side in one run.

(a) ``gcgeo coverage --osm PROVINCE --boundary DISTRICT`` (the cut happens in libosmium);
(b) ``osmium extract -p DISTRICT`` (Debian ``osmium-tool``) + ``gcgeo coverage`` on the cut
    file, the fastest way a planner could do it by hand; skipped with a note when
    ``osmium`` is not installed;
(c) optionally (``--unclipped``) ``gcgeo coverage`` on the whole province without a boundary,
    the old behaviour;
(a0) optionally (``--baseline-src DIR``) (a) with another gcgeo checkout's ``src/`` (say a
    ``git worktree`` of an earlier commit), to compare two versions of the cut in one run.

Each run is a fresh process measured from outside (wall time, peak resident memory of the
process tree). Make the input with ``benchmarks/gen_province.py --out DIR`` first (``--scatter`` for node ids
spread over the grid as in a real province).

    python benchmarks/bench_clip.py --data /tmp/prov
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(r.returncode, time.perf_counter() - t, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.stderr.write(r.stderr[-1500:])"
)


def measured(cmd: list[str], src: Path | None = None) -> tuple[float, float]:
    """(seconds, peak MB) of ``cmd`` run in its own process tree (gcgeo from ``src`` if given)."""
    env = dict(os.environ, PYTHONPATH=str(src)) if src else None
    p = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env
    )
    rc, secs, kb = p.stdout.split()
    if int(rc) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed:\n{p.stderr}")
    return float(secs), int(kb) / 1024


def gcgeo(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gcgeo.cli import main; main()", *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder from gen_province.py")
    ap.add_argument("--unclipped", action="store_true", help="also run (c), slow")
    ap.add_argument(
        "--baseline-src",
        type=Path,
        help="the src/ folder of another gcgeo checkout (a git worktree): also run (a) with it",
    )
    args = ap.parse_args()
    pbf, district = args.data / "province.osm.pbf", args.data / "district.geojson"
    common = ["--categories", "kindergarten,primary_school,bus_stop", "--no-cache"]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        rows["a: gcgeo --boundary (libosmium cut)"] = measured(
            gcgeo(
                "coverage",
                "--osm",
                str(pbf),
                "--boundary",
                str(district),
                *common,
                "--out",
                str(t / "a"),
            )  # fmt: skip
        )
        if args.baseline_src:
            rows["a0: (a) with --baseline-src"] = measured(
                gcgeo("coverage", "--osm", str(pbf), "--boundary", str(district), *common,
                      "--out", str(t / "a0")),
                args.baseline_src,
            )  # fmt: skip
        if shutil.which("osmium"):
            cut = t / "cut.osm.pbf"
            s1, m1 = measured(["osmium", "extract", "-s", "smart", "-p", str(district),
                               str(pbf), "-o", str(cut)])  # fmt: skip
            s2, m2 = measured(
                gcgeo(
                    "coverage",
                    "--osm",
                    str(cut),
                    "--boundary",
                    str(district),
                    *common,
                    "--out",
                    str(t / "b"),
                )  # fmt: skip
            )
            rows["b1: osmium extract"] = (s1, m1)
            rows["b2: gcgeo on the cut file"] = (s2, m2)
            rows["b: osmium extract + gcgeo"] = (s1 + s2, max(m1, m2))
        else:
            print("note: osmium-tool is not installed (apt-get install osmium-tool); (b) skipped")
        if args.unclipped:
            rows["c: gcgeo, whole province"] = measured(
                gcgeo("coverage", "--osm", str(pbf), *common, "--out", str(t / "c"))
            )
        run = json.loads((t / "a" / "run.json").read_text(encoding="utf-8"))
    size = pbf.stat().st_size / 1e6
    print(f"province {size:.0f} MB; clip: {json.dumps(run['study']['osm'].get('clip'))}")
    print(f"{'run':40} {'seconds':>8} {'peak MB':>8}")
    for name, (secs, mb) in rows.items():
        print(f"{name:40} {secs:8.1f} {mb:8.0f}")
    a = rows["a: gcgeo --boundary (libosmium cut)"]
    if "b: osmium extract + gcgeo" in rows:
        b = rows["b: osmium extract + gcgeo"]
        print(f"ratio a/b: time {a[0] / b[0]:.2f}x, memory {a[1] / b[1]:.2f}x")
    if "c: gcgeo, whole province" in rows:
        c = rows["c: gcgeo, whole province"]
        print(f"ratio c/a: time {c[0] / a[0]:.1f}x, memory {c[1] / a[1]:.1f}x")


if __name__ == "__main__":
    main()
