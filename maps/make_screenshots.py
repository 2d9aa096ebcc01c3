"""Regenerate the pictures under maps/ that the README shows (synthetic demo data only).

    python maps/make_screenshots.py            # needs Chromium (apt-get install chromium)

1. ``gcgeo demo`` into a temporary folder, ``gcgeo scenario examples/demo_scenario.toml`` on
   its network;
2. headless-Chromium screenshots of the demo map, one report page and the scenario summary
   (``demo_map.png``, ``demo_report.png``, ``demo_scenario.png``);
3. the print map (A4 landscape, 100 dpi here to keep the repository small; the commands
   write 300 dpi) of every category of the shipped catalogue: ``categories/<id>.png``;
4. ``gcgeo demo --dem``'s print map of the elderly's walk to the 幸福食堂 with slopes,
   scaled to 1400 px: ``demo_slopes.png``.

Everything is drawn offline from the synthetic demo network, so every picture carries the
"synthetic demo network — not real streets" label.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def gcgeo(*args: str) -> None:
    subprocess.run([sys.executable, "-c", "from gcgeo.cli import main; main()", *args], check=True)


def screenshot(html: Path, png: Path, size: tuple[int, int] = (1400, 900)) -> None:
    from gcgeo.pdf import require_chromium

    exe = require_chromium()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
             "--virtual-time-budget=8000", f"--screenshot={png}", html.as_uri()],
            check=True, capture_output=True,
        )  # fmt: skip


def category_maps(demo: Path, out: Path) -> None:
    from gcgeo import maps
    from gcgeo.catalogue import load_catalogue
    from gcgeo.coverage import street_minutes
    from gcgeo.demo import DEMO_LABEL
    from gcgeo.layers import load_layer
    from gcgeo.study import open_study

    study = open_study(demo / "gangcheng_demo.osm", cache=False)
    net = study.network
    zones, renewal = load_layer("zones"), load_layer("renewal_areas")
    out.mkdir(exist_ok=True)
    catalogue = load_catalogue()
    for cat in catalogue.select(list(catalogue.ids)):
        edges = net.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
        edges["walk_min"] = street_minutes(net, study.facilities, cat)
        fac = study.facilities[study.facilities["category"] == cat.id]
        fig = maps.static_map(
            edges=edges,
            column="walk_min",
            facilities=fac if len(fac) else None,
            categories=[cat],
            area_layers={"zones": zones, "renewal_areas": renewal},
            title=f"钢城区 {cat.name_zh} 步行时间 {cat.name_en} walking time"
            f" (≤ {cat.max_distance_m:g} m)",
            page="A4-landscape",
            dpi=100,
            notes=[f"示例 Demo · {DEMO_LABEL}", maps.draft_note(zones, renewal)],
        )
        fig.savefig(out / f"{cat.id}.png", format="png")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        gcgeo("demo", "--out", str(t / "demo"))
        gcgeo("scenario", str(ROOT / "examples" / "demo_scenario.toml"),
              "--osm", str(t / "demo" / "gangcheng_demo.osm"), "--out", str(t / "scenario"))  # fmt: skip
        screenshot(t / "demo" / "map.html", HERE / "demo_map.png")
        screenshot(t / "demo" / "reports" / "zone_center.html", HERE / "demo_report.png",
                   (1200, 2400))  # fmt: skip
        screenshot(t / "scenario" / "summary.html", HERE / "demo_scenario.png", (1200, 1800))
        category_maps(t / "demo", HERE / "categories")
        gcgeo("demo", "--dem", "--out", str(t / "demo_dem"))
        from PIL import Image

        im = Image.open(t / "demo_dem" / "slopes_map.png")
        im.resize((1400, round(im.height * 1400 / im.width)), Image.LANCZOS).save(
            HERE / "demo_slopes.png", optimize=True
        )
    print(f"wrote {HERE}/demo_map.png, demo_report.png, demo_scenario.png, categories/*.png, "
          "demo_slopes.png")  # fmt: skip


if __name__ == "__main__":
    main()
