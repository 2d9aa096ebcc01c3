"""Reading OpenStreetMap files (never the internet).

One streamed pass with pyosmium (libosmium) reads ``.osm``, ``.osm.bz2``,
``.osm.gz`` and ``.osm.pbf`` alike. Only what gcgeo needs is kept in Python:
ways tagged ``highway`` (as node-id sequences with coordinates), tagged nodes
and areas that may be facilities, and residential land-use / building areas.
Everything else (untagged nodes, buildings, rivers ...) is filtered in C++ or
dropped as it streams past, so a province extract can be cut to one district
without holding it all.

``osmnx.graph_from_xml`` is used in the tests as an independent second parser.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._errors import OSMFileError

__all__ = [
    "OSM_SUFFIXES",
    "POI_KEYS",
    "OSMData",
    "Way",
    "read_osm",
]

#: File endings gcgeo reads.
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")

#: Tag keys that make a node or area a candidate facility.
POI_KEYS = frozenset(
    {
        "amenity",
        "shop",
        "leisure",
        "healthcare",
        "social_facility",
        "public_transport",
        "railway",
        "office",
        "club",
        "sport",
        "tourism",
        "building",
    }
)
_POI_NODE_HIGHWAY = frozenset({"bus_stop"})
_RESIDENTIAL_BUILDINGS = frozenset(
    {"residential", "apartments", "house", "dormitory", "detached", "terrace", "semidetached_house"}
)
#: Way tags carried into the network.
WAY_TAGS = ("highway", "name", "access", "foot", "sidewalk", "service", "area", "bridge", "tunnel")


@dataclass(frozen=True, slots=True)
class Way:
    """A ``highway`` way: its id, kept tags and its node ids and coordinates."""

    id: int
    tags: dict[str, str]
    refs: np.ndarray  # int64 OSM node ids
    lon: np.ndarray
    lat: np.ndarray


@dataclass
class OSMData:
    """What gcgeo keeps of an OSM file (all coordinates WGS-84)."""

    path: str
    ways: list[Way] = field(default_factory=list)
    #: candidate facilities: (osm_type 'n'/'w'/'r', id, lon, lat, tags)
    pois: list[tuple[str, int, float, float, dict[str, str]]] = field(default_factory=list)
    #: residential land use and residential buildings (WGS-84 polygons)
    residential: list[BaseGeometry] = field(default_factory=list)
    clipped: bool = False

    def summary(self) -> dict[str, Any]:
        """Counts for reports."""
        return {
            "file": self.path,
            "highway_ways": len(self.ways),
            "poi_candidates": len(self.pois),
            "residential_areas": len(self.residential),
            "clipped": self.clipped,
        }


def _check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise OSMFileError(
            f"OSM file {str(p)!r} does not exist; check the path given to --osm "
            "(an .osm, .osm.bz2, .osm.gz or .osm.pbf extract)."
        )
    if p.is_dir():
        raise OSMFileError(f"OSM path {str(p)!r} is a folder; pass the extract file itself.")
    name = p.name.lower()
    if not name.endswith(OSM_SUFFIXES):
        raise OSMFileError(
            f"File {str(p)!r} does not look like an OSM extract (expected .osm, .osm.bz2, "
            ".osm.gz or .osm.pbf); export one from openstreetmap.org or Geofabrik."
        )
    if p.stat().st_size == 0:
        raise OSMFileError(f"OSM file {str(p)!r} is empty; download or export it again.")
    return p


def _clip_geometry(
    clip: BaseGeometry | tuple[float, float, float, float] | None,
) -> BaseGeometry | None:
    if clip is None:
        return None
    if isinstance(clip, BaseGeometry):
        geom = clip
    else:
        try:
            minx, miny, maxx, maxy = (float(v) for v in clip)
        except (TypeError, ValueError) as exc:
            raise OSMFileError(
                f"clip {clip!r} is neither a polygon nor a (min_lon, min_lat, max_lon, max_lat) box; "
                "pass a WGS-84 polygon or a bbox tuple."
            ) from exc
        if not (minx < maxx and miny < maxy):
            raise OSMFileError(
                f"clip box {clip!r} is empty; give it as (min_lon, min_lat, max_lon, max_lat)."
            )
        geom = shapely.box(minx, miny, maxx, maxy)
    if geom.is_empty:
        raise OSMFileError("clip polygon is empty; pass a non-empty WGS-84 polygon.")
    shapely.prepare(geom)
    return geom


def _area_geometry(area: Any, factory: Any) -> BaseGeometry | None:
    try:
        return shapely.from_wkb(factory.create_multipolygon(area))
    except Exception:  # broken multipolygons are common in OSM; skip them
        return None


def read_osm(
    path: str | os.PathLike,
    clip: BaseGeometry | tuple[float, float, float, float] | None = None,
    poi_keys: Iterable[str] = POI_KEYS,
    areas: bool = True,
) -> OSMData:
    """Read the parts of an OSM file that gcgeo uses.

    Parameters
    ----------
    path : path-like
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    clip : shapely geometry or (min_lon, min_lat, max_lon, max_lat), optional
        WGS-84 area to keep. Way segments are kept when both ends lie inside;
        facilities and residential areas when their representative point does.
    poi_keys : iterable of str
        Tag keys that make a tagged node or area a facility candidate.
    areas : bool
        Assemble areas (closed ways and multipolygon relations) for facilities
        mapped as polygons and for residential land use. Costs a second pass.

    Returns
    -------
    OSMData

    Raises
    ------
    OSMFileError
        Missing, empty, truncated or non-OSM file.
    """
    import osmium

    p = _check_path(path)
    clip_geom = _clip_geometry(clip)
    keys = frozenset(poi_keys)
    data = OSMData(path=str(p), clipped=clip_geom is not None)
    fp = osmium.FileProcessor(str(p)).with_locations()
    if areas:
        fp = fp.with_areas()
    fp = fp.with_filter(osmium.filter.EmptyTagFilter())
    wkb = osmium.geom.WKBFactory() if areas else None
    bbox = clip_geom.bounds if clip_geom is not None else None
    try:
        for obj in fp:
            tags = obj.tags
            if obj.is_way():
                hw = tags.get("highway")
                if hw is None:
                    continue
                nodes = obj.nodes
                try:
                    refs = np.fromiter((n.ref for n in nodes), dtype=np.int64, count=len(nodes))
                    lon = np.fromiter((n.lon for n in nodes), dtype=float, count=len(nodes))
                    lat = np.fromiter((n.lat for n in nodes), dtype=float, count=len(nodes))
                except osmium.InvalidLocationError:
                    # nodes missing from a clipped extract: keep the located ones
                    located = [n for n in nodes if n.location.valid()]
                    refs = np.array([n.ref for n in located], dtype=np.int64)
                    lon = np.array([n.lon for n in located], dtype=float)
                    lat = np.array([n.lat for n in located], dtype=float)
                if len(refs) < 2:
                    continue
                if bbox is not None and not (
                    (lon.max() >= bbox[0])
                    & (lon.min() <= bbox[2])
                    & (lat.max() >= bbox[1])
                    & (lat.min() <= bbox[3])
                ):
                    continue
                kept = {k: tags.get(k) for k in WAY_TAGS if k in tags}
                data.ways.append(Way(obj.id, kept, refs, lon, lat))
            elif obj.is_node():
                if not (
                    keys.intersection(k for k, _ in tags)
                    or tags.get("highway") in _POI_NODE_HIGHWAY
                ):
                    continue
                loc = obj.location
                if not loc.valid():
                    continue
                data.pois.append(("n", obj.id, loc.lon, loc.lat, dict(tags)))
            elif obj.is_area():
                is_res = tags.get("landuse") == "residential" or (
                    tags.get("building") in _RESIDENTIAL_BUILDINGS
                )
                is_poi = any(k in tags for k in keys if k != "building")
                if not (is_res or is_poi):
                    continue
                geom = _area_geometry(obj, wkb)
                if geom is None or geom.is_empty:
                    continue
                if is_res:
                    data.residential.append(geom)
                if is_poi:
                    pt = geom.representative_point()
                    otype = "w" if obj.from_way() else "r"
                    data.pois.append((otype, obj.orig_id(), pt.x, pt.y, dict(tags)))
    except RuntimeError as exc:
        raise OSMFileError(
            f"Could not read OSM file {str(p)!r} ({exc}); the file is truncated or not OSM data: "
            "download or export it again."
        ) from exc
    if clip_geom is not None:
        data = _clip(data, clip_geom)
    return data


def _clip(data: OSMData, clip_geom: BaseGeometry) -> OSMData:
    """Keep segments with both ends inside ``clip_geom`` (splitting ways at gaps)."""
    ways: list[Way] = []
    for w in data.ways:
        inside = shapely.contains_xy(clip_geom, w.lon, w.lat)
        if inside.all():
            ways.append(w)
            continue
        # split into runs of consecutive inside nodes
        idx = np.flatnonzero(inside)
        if len(idx) < 2:
            continue
        breaks = np.flatnonzero(np.diff(idx) > 1) + 1
        for run in np.split(idx, breaks):
            if len(run) >= 2:
                ways.append(Way(w.id, w.tags, w.refs[run], w.lon[run], w.lat[run]))
    if data.pois:
        xy = np.array([(p[2], p[3]) for p in data.pois])
        keep = shapely.contains_xy(clip_geom, xy[:, 0], xy[:, 1])
        pois = [p for p, k in zip(data.pois, keep, strict=True) if k]
    else:
        pois = []
    res = [g for g in data.residential if clip_geom.intersects(g)]
    return OSMData(path=data.path, ways=ways, pois=pois, residential=res, clipped=True)
