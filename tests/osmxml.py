"""Write small OSM XML files from exact projected (EPSG:4548) coordinates.

Node lon/lat are the inverse projection of round metre coordinates, so
distances in the built network are the round numbers a test states (OSM
files store 7 decimals, about 1 cm, hence tolerances of a few cm).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pyproj

X0 = 573000.0  # near 钢城区, inside the EPSG:4548 zone (CM 117°E)
Y0 = 3992000.0
_TO_WGS = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)
_TO_XY = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS-84 of a point given in metres relative to (X0, Y0)."""
    lon, lat = _TO_WGS.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


class OSMBuilder:
    """Collect nodes and ways (coordinates in metres relative to X0, Y0) and write XML."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[int, float, float, dict[str, str]]] = {}
        self.ways: list[tuple[int, list[str], dict[str, str]]] = []
        self._next = 1

    def node(self, key: str, x: float, y: float, **tags: str) -> str:
        self.nodes[key] = (self._next, x, y, tags)
        self._next += 1
        return key

    def way(self, keys: list[str], **tags: str) -> int:
        wid = 1000 + len(self.ways)
        self.ways.append((wid, keys, tags))
        return wid

    def osmid(self, key: str) -> int:
        return self.nodes[key][0]

    def xml(self) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<osm version="0.6" generator="gcgeo-tests">',
        ]
        for nid, x, y, tags in self.nodes.values():
            lon, lat = lonlat(x, y)
            if tags:
                out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">')
                out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
                out.append("  </node>")
            else:
                out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        for wid, keys, tags in self.ways:
            out.append(f'  <way id="{wid}" version="1">')
            out += [f'    <nd ref="{self.nodes[k][0]}"/>' for k in keys]
            out += [
                f"    <tag k={quoteattr(k.replace('__', ':'))} v={quoteattr(v)}/>"
                for k, v in tags.items()
            ]
            out.append("  </way>")
        out.append("</osm>")
        return "\n".join(out) + "\n"

    def write(self, path: Path) -> Path:
        path.write_text(self.xml(), encoding="utf-8")
        return path


def hand_grid() -> OSMBuilder:
    """The hand-checked test town (coordinates in metres from X0, Y0).

    Streets: a 4 x 3 grid of nodes N{i}{j} at (100 i, 100 j), i = 0..3, j = 0..2;
    each row a residential way, each column a footway; a second way (a mapped
    sidewalk) repeats the segment N00-N10. Extras:
    - motorway N30 -> M (600, 0): dropped;
    - footway with foot=no N02 -> Q (-100, 200): dropped;
    - gated compound: service access=private N32 -> G (300, 300): kept by default;
    - a separate street D1 (1000, 1000) -> D2 (1100, 1000): small component, dropped.
    Facilities:
    - K  kindergarten at (150, 20): snaps to N10-N20, 50 m from N10, leg 20;
    - K2 kindergarten at (300, 310): snaps to G (end of the private way), leg 10;
    - S  primary school polygon-free node at (0, 250) named 示范小学.
    """
    b = OSMBuilder()
    for j in range(3):
        for i in range(4):
            b.node(f"N{i}{j}", 100.0 * i, 100.0 * j)
    for j in range(3):
        b.way([f"N{i}{j}" for i in range(4)], highway="residential", name=f"Row {j} Road")
    for i in range(4):
        b.way([f"N{i}{j}" for j in range(3)], highway="footway")
    b.way(["N00", "N10"], highway="footway", footway="sidewalk")
    b.node("M", 600.0, 0.0)
    b.way(["N30", "M"], highway="motorway")
    b.node("Q", -100.0, 200.0)
    b.way(["N02", "Q"], highway="footway", foot="no")
    b.node("G", 300.0, 300.0)
    b.way(["N32", "G"], highway="service", access="private")
    b.node("D1", 1000.0, 1000.0)
    b.node("D2", 1100.0, 1000.0)
    b.way(["D1", "D2"], highway="residential")
    b.node("K", 150.0, 20.0, amenity="kindergarten", name="阳光幼儿园")
    b.node("K2", 300.0, 310.0, amenity="kindergarten", name="小区幼儿园")
    b.node("S", 0.0, 250.0, amenity="school", name="示范小学")
    return b
