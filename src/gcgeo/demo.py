"""A synthetic demo street network in the urban core of 钢城区, written as OSM XML.

The demo runs offline through the real reader (:func:`gcgeo.osm.read_osm`), so
every stage of gcgeo is exercised on it. It is **not real**: street pattern,
names and facilities are generated from a seed. Every way and facility carries
``gcgeo:synthetic=yes`` and a name starting with ``示例 Demo``; the file header
says so too.

Layout (seeded, deterministic): a slightly irregular grid of main roads
(primary / secondary / tertiary) aligned from the government seat (117.8145 E,
36.0581 N, an estimate) east-north-east towards the estimated 钢城站 (117.8756 E,
36.0742 N); each grid block is one of

* ``open``   residential block with two internal residential streets, service
  lanes between them, a footway to the main road and sometimes a cul-de-sac;
* ``gated``  gated compound (封闭小区): every internal way ``access=private``,
  reached through two entrances with ``barrier=gate`` nodes;
* ``school`` a school ground (``amenity=school`` area) beside one internal street;
* ``park``   a park (``leisure=park`` area) crossed by two footways.

Open and gated blocks carry ``landuse=residential`` polygons (the origins).
All coordinates come from a local metric frame (EPSG:4548) on a lattice whose
points are shared by every way through them, so junctions are exact and the
number of dead ends is exactly the number of cul-de-sacs built.
"""

from __future__ import annotations

import bz2
import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from .demo_town import GOV_SEAT, STATION_ESTIMATE, TownBuilder, build_town

__all__ = [
    "GOV_SEAT",
    "STATION_ESTIMATE",
    "DEMO_LABEL",
    "DEMO_SEED",
    "DemoInfo",
    "demo_osm_text",
    "is_synthetic_osm",
    "write_demo_osm",
]

#: Shown on every demo output.
DEMO_LABEL = "synthetic demo network — not real streets"
#: Default seed of ``gcgeo demo``.
DEMO_SEED = 370117


@dataclass
class DemoInfo:
    """What :func:`write_demo_osm` built (for tests, reports and run.json)."""

    path: Path | None
    seed: int
    nodes: int
    ways: int
    dead_ends: int
    gated_compounds: int
    gated_ways: int
    blocks: dict[str, int]
    facilities: dict[str, int]
    bounds: tuple[float, float, float, float]
    label: str = DEMO_LABEL
    notes: list[str] = field(default_factory=list)


def _xml(b: TownBuilder) -> tuple[str, tuple[float, float, float, float]]:
    xy = np.array(b.node_xy)
    lon, lat = b.inv.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)
    bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- gcgeo demo: {DEMO_LABEL}. Street pattern, names and facilities are generated "
        f"(seed {b.seed}) inside the urban core of 钢城区 around estimated positions of the "
        "government seat and 钢城站; they are not OpenStreetMap data. -->",
        f'<osm version="0.6" generator="gcgeo demo ({DEMO_LABEL})">',
        f'  <bounds minlat="{bounds[1]:.7f}" minlon="{bounds[0]:.7f}" '
        f'maxlat="{bounds[3]:.7f}" maxlon="{bounds[2]:.7f}"/>',
    ]
    for k in range(len(xy)):
        nid = k + 1
        head = f'  <node id="{nid}" version="1" lat="{lat[k]:.7f}" lon="{lon[k]:.7f}"'
        tags = b.node_tags.get(nid)
        if not tags:
            out.append(head + "/>")
            continue
        out.append(head + ">")
        out.extend(f"    <tag k={quoteattr(t)} v={quoteattr(v)}/>" for t, v in tags)
        out.append("  </node>")
    for wid, (refs, tags) in enumerate(b.ways, start=1):
        out.append(f'  <way id="{wid}" version="1">')
        out.extend(f'    <nd ref="{r}"/>' for r in refs)
        out.extend(f"    <tag k={quoteattr(t)} v={quoteattr(v)}/>" for t, v in tags)
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(out) + "\n", bounds


def demo_osm_text(seed: int = DEMO_SEED) -> tuple[str, DemoInfo]:
    """The demo network as OSM XML text, and what it contains.

    Parameters
    ----------
    seed : int
        Same seed, same bytes.
    """
    b = build_town(int(seed))
    text, bounds = _xml(b)
    info = DemoInfo(
        path=None,
        seed=int(seed),
        nodes=len(b.node_xy),
        ways=len(b.ways),
        dead_ends=b.dead_ends,
        gated_compounds=b.gated,
        gated_ways=b.gated_ways,
        blocks=dict(sorted(b.blocks.items())),
        facilities=dict(sorted(b.facilities.items())),
        bounds=bounds,
        notes=[
            "Positions of the government seat and 钢城站 are estimates (±300 m / ±1 km).",
            "Every way and facility is tagged gcgeo:synthetic=yes and named '示例 Demo …'.",
            "Planned facilities with a known (estimated) location from "
            "layers/planned_facilities.geojson are added (tagged gcgeo:planned=<id>).",
        ],
    )
    return text, info


def write_demo_osm(path: str | os.PathLike, seed: int = DEMO_SEED) -> DemoInfo:
    """Write the synthetic demo network to ``path`` as OSM XML (atomically).

    Parameters
    ----------
    path : path-like
        Target ``.osm`` file (replaced if it exists: callers check first).
    seed : int
        Same seed, same bytes.

    Returns
    -------
    DemoInfo
        Counts (nodes, ways, dead ends, gated compounds, facilities by kind) and bounds.
    """
    from ._io import atomic_write_text

    text, info = demo_osm_text(seed)
    atomic_write_text(path, text, encoding="utf-8")
    info.path = Path(path)
    return info


def is_synthetic_osm(path: str | os.PathLike) -> bool:
    """Whether an OSM file is gcgeo's synthetic demo network.

    Looks in the first 64 KB of the (decompressed) XML for the ``gcgeo:synthetic`` tag
    or the demo label that :mod:`gcgeo.demo` writes into the header. PBF files and
    unreadable files count as not synthetic.

    Parameters
    ----------
    path : path-like
        The OSM file.

    Returns
    -------
    bool
    """
    p = Path(path)
    name = p.name.lower()
    opener: Any = bz2.open if name.endswith(".bz2") else gzip.open if name.endswith(".gz") else open
    if name.endswith(".pbf"):
        return False
    try:
        with opener(p, "rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="ignore")
    except OSError:
        return False
    return "gcgeo:synthetic" in head or DEMO_LABEL in head
