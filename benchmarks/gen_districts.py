"""Write a synthetic multi-district extract (PBF) and its district boundaries, for ``gcgeo batch``.

The street grid, buildings and facilities of :func:`gen_province.generate` around 钢城区, and
``districts.geojson``: ``--districts`` side-by-side rectangles (``code``, ``name``) inside the
district's zones, so every district also gets zone, wing and renewal-area tables. Labelled
synthetic in the file names and the boundary properties.

    python benchmarks/gen_districts.py --out /tmp/districts [--districts 3] [--km 12]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_province import generate  # noqa: E402

#: lon/lat box the rectangles share: inside both the generated grid and 钢城区's zones.
BOX = (117.765, 36.055, 117.87, 36.095)


def write(out: Path, n_districts: int = 3, km: float = 12.0, spacing: float = 150.0,
          seed: int = 7) -> dict:  # fmt: skip
    info = generate(out, km, spacing, 7, seed)
    x0, y0, x1, y1 = BOX
    step = (x1 - x0) / n_districts
    features = []
    for i in range(n_districts):
        a, b = x0 + i * step, x0 + (i + 1) * step
        ring = [[a, y0], [b, y0], [b, y1], [a, y1], [a, y0]]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": f"D{i + 1:02d}", "name": f"示例区{i + 1} (synthetic)"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path = out / "districts.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return {**info, "districts": str(path), "n_districts": n_districts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--districts", type=int, default=3)
    ap.add_argument("--km", type=float, default=12.0)
    ap.add_argument("--spacing", type=float, default=150.0)
    args = ap.parse_args()
    print(json.dumps(write(args.out, args.districts, args.km, args.spacing), indent=2))


if __name__ == "__main__":
    main()
