"""Small OSM XML files from exact EPSG:4548 coordinates, for the scenario tests.

Node lon/lat are the inverse projection of round metre coordinates, so the
distances in the built network are the round numbers a test states (OSM files
store 7 decimals, about 1 cm, hence tolerances of a few cm).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pyproj
import shapely

X0 = 573000.0  # near 钢城区, inside the EPSG:4548 zone (CM 117°E)
Y0 = 3992000.0
_TO_WGS = pyproj.Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS-84 of a point given in metres relative to (X0, Y0)."""
    lon, lat = _TO_WGS.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def points(pts: list[tuple[float, float]], **cols: list) -> gpd.GeoDataFrame:
    """A projected (EPSG:4548) point frame from metre offsets."""
    xy = np.array(pts, dtype=float) + [X0, Y0]
    return gpd.GeoDataFrame(cols, geometry=shapely.points(xy), crs="EPSG:4548")


class OSMBuilder:
    """Collect nodes and ways (coordinates in metres relative to X0, Y0) and write XML."""

    def __init__(self) -> None:
        self.nodes: dict[str, tuple[int, float, float, dict[str, str]]] = {}
        self.ways: list[tuple[int, list[str], dict[str, str]]] = []

    def node(self, key: str, x: float, y: float, **tags: str) -> str:
        self.nodes[key] = (len(self.nodes) + 1, x, y, tags)
        return key

    def way(self, keys: list[str], **tags: str) -> int:
        wid = 1000 + len(self.ways)
        self.ways.append((wid, keys, tags))
        return wid

    def osmid(self, key: str) -> int:
        return self.nodes[key][0]

    def xy(self, key: str) -> tuple[float, float]:
        return self.nodes[key][1], self.nodes[key][2]

    def xml(self) -> str:
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<osm version="0.6" generator="gcgeo-tests">',
        ]
        for nid, x, y, tags in self.nodes.values():
            lon, lat = lonlat(x, y)
            out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">')
            out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            out.append("  </node>")
        for wid, keys, tags in self.ways:
            out.append(f'  <way id="{wid}" version="1">')
            out += [f'    <nd ref="{self.nodes[k][0]}"/>' for k in keys]
            out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            out.append("  </way>")
        out.append("</osm>")
        return "\n".join(out) + "\n"

    def write(self, path: Path) -> Path:
        path.write_text(self.xml(), encoding="utf-8")
        return path


def two_blocks(railway: bool = False, kindergarten: bool = True) -> OSMBuilder:
    """The hand-checked town (metres from X0, Y0).

    West block: nodes N{i}{j} at (100 i, 100 j), i = 0, 1, j = 0..4, a full grid;
    east block the same for i = 3, 4. Row 0 runs right across through N20 (200, 0),
    the only street joining the blocks. Streets: each row of a block a
    residential way, each column a footway.

    Dead ends built in: A (150, 200) at the end of a 50 m spur from N12, and
    B (250, 200) at the end of a 50 m spur from N32: they face each other 100 m
    apart, 700 m apart by street. E (0, 450) ends a 50 m spur north of N04, on
    the extract's edge. A motorway (not walkable) runs along y = -60.

    ``railway``: a railway along x = 200 from y = 60 to y = 500 separates A and B.
    ``kindergarten``: 幼儿园 K at N42 (400, 200).
    """
    b = OSMBuilder()
    cols = (0, 1, 3, 4)
    for j in range(5):
        for i in cols:
            b.node(f"N{i}{j}", 100.0 * i, 100.0 * j)
    b.node("N20", 200.0, 0.0)
    b.way([f"N{i}0" for i in range(5)], highway="residential", name="南环路")
    for j in range(1, 5):
        b.way([f"N0{j}", f"N1{j}"], highway="residential", name=f"西{j}街")
        b.way([f"N3{j}", f"N4{j}"], highway="residential", name=f"东{j}街")
    for i in cols:
        b.way([f"N{i}{j}" for j in range(5)], highway="footway")
    b.node("A", 150.0, 200.0)
    b.node("B", 250.0, 200.0)
    b.node("E", 0.0, 450.0)
    b.way(["N12", "A"], highway="residential", name="西断头路")
    b.way(["N32", "B"], highway="residential", name="东断头路")
    b.way(["N04", "E"], highway="footway")
    b.node("M1", -100.0, -60.0)
    b.node("M2", 500.0, -60.0)
    b.way(["M1", "M2"], highway="motorway")
    if railway:
        b.node("R1", 200.0, 60.0)
        b.node("R2", 200.0, 500.0)
        b.way(["R1", "R2"], railway="rail")
    if kindergarten:
        b.node("K", 400.0, 200.0, amenity="kindergarten", name="东区幼儿园")
    return b


#: Network nodes of :func:`two_blocks` (origins are placed on them).
TOWN_NODES = [f"N{i}{j}" for i in (0, 1, 3, 4) for j in range(5)] + ["N20", "A", "B", "E"]
