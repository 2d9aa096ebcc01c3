"""Reading OpenStreetMap files (never the internet).

One streamed pass with pyosmium (libosmium) reads ``.osm``, ``.osm.bz2``,
``.osm.gz`` and ``.osm.pbf`` alike. Only what gcgeo needs is kept in Python:
ways tagged ``highway`` (as node-id sequences with coordinates), tagged nodes
and areas that may be facilities, and residential land-use / building areas.
Everything else (untagged nodes, buildings, rivers ...) is filtered in C++ or
dropped as it streams past, so a province extract can be cut to one district
without holding it all.

Files are written by strangers, so the way arrays are checked (with numpy, on
the arrays the pass builds) before anything is kept:

* a way node that is missing from the file, or whose latitude/longitude is
  outside ±90°/±180°, NaN, infinite or unreadable text, is a *gap*: the way is
  split there and never joined across it (no phantom straight segments);
  unreadable text stops libosmium's XML parser, so such a file is read again
  with those values rewritten as out of range (only then is it held in memory);
* node ids may be negative (JOSM's unsaved objects); libosmium's location
  index only holds positive ids, so those nodes are looked up in an extra pass
  that runs only when a way references one;
* a node id given twice with different coordinates, on a node gcgeo uses, is
  an :class:`OSMFileError` naming the id (libosmium keeps one copy silently
  and gcgeo cannot tell which is right); other duplicates are only counted.
  The node index is libosmium's file-backed ``sparse_file_array``, whose
  (id, x, y) records numpy reads back to find them;
* way nodes listed after their way (an unsorted file) are an
  :class:`OSMFileError` naming the fix (``osmium sort``);
* segments longer than :data:`MAX_SEGMENT_M` are counted with their way ids.

Everything found is counted in :attr:`OSMData.issues`, which
:meth:`OSMData.summary` carries into ``run.json``.

``osmnx.graph_from_xml`` is used in the tests as an independent second parser.
"""

from __future__ import annotations

import bz2
import gzip
import math
import os
import re
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._errors import OSMFileError

__all__ = [
    "MAX_SEGMENT_M",
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

#: Longest plausible straight segment (m) between two consecutive nodes of one
#: way. OSM maps curves with many nodes, so even long rural roads and bridges
#: rarely exceed 1–2 km per segment (the Jinan extract's longest is 1.3 km);
#: phantom segments from broken files are hundreds or thousands of km. Longer
#: segments are kept but counted in ``OSMData.issues`` with their way ids.
MAX_SEGMENT_M = 5000.0
#: how many way ids of long segments ``OSMData.issues`` lists
_LONG_SEGMENT_IDS_SHOWN = 20

# libosmium stores coordinates as int32 in 1e-7 degrees; int32 max = undefined
_UNDEFINED = 2_147_483_647
_X_MAX = 1_800_000_000  # 180 degrees
_Y_MAX = 900_000_000  # 90 degrees
_EARTH_RADIUS_M = 6_371_008.8


def _no_issues() -> dict[str, Any]:
    """What :attr:`OSMData.issues` holds for a clean file."""
    return {
        "missing_node_refs": 0,
        "invalid_coordinate_refs": 0,
        "invalid_coordinate_nodes": 0,
        "unparsable_coordinate_nodes": 0,
        "ways_cut_at_gaps": 0,
        "ways_without_segment": 0,
        "negative_id_nodes": 0,
        "duplicate_node_ids": 0,
        "long_segments": 0,
        "long_segment_way_ids": [],
        "max_segment_m": 0.0,
        "max_segment_limit_m": MAX_SEGMENT_M,
    }


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
    """What gcgeo keeps of an OSM file (all coordinates WGS-84).

    Attributes
    ----------
    path : str
    ways : list of Way
        ``highway`` ways, one entry per unbroken piece (a way cut at a gap or
        by the clip area appears once per piece, with the same id).
    pois : list of tuple
        Candidate facilities: (osm_type 'n'/'w'/'r', id, lon, lat, tags).
    residential : list of shapely geometry
        Residential land use and residential buildings (WGS-84 polygons).
    clipped : bool
    issues : dict
        What was wrong with the file and how it was handled (all counts over
        the whole file, before any clip):

        ``missing_node_refs``
            way-node references to nodes absent from the file;
        ``invalid_coordinate_refs``
            way-node references to nodes whose lat/lon is outside ±90/±180,
            NaN, infinite or unreadable;
        ``invalid_coordinate_nodes``
            distinct such nodes, including tagged facility nodes (skipped);
        ``unparsable_coordinate_nodes``
            nodes of an XML file whose lat/lon text could not be read at all
            (NaN, inf, letters ...), treated as invalid;
        ``ways_cut_at_gaps``
            highway ways with at least one missing or invalid node: split
            there, never joined across the gap;
        ``ways_without_segment``
            highway ways left without two consecutive usable nodes (dropped);
        ``negative_id_nodes``
            distinct negative-id nodes (JOSM's unsaved objects) read;
        ``duplicate_node_ids``
            node ids given more than once with identical coordinates (kept
            once; different coordinates raise :class:`OSMFileError`);
        ``long_segments``, ``long_segment_way_ids``, ``max_segment_m``, ``max_segment_limit_m``
            segments longer than :data:`MAX_SEGMENT_M` (kept), the first
            way ids carrying them, the longest segment and the limit.
    """

    path: str
    ways: list[Way] = field(default_factory=list)
    pois: list[tuple[str, int, float, float, dict[str, str]]] = field(default_factory=list)
    residential: list[BaseGeometry] = field(default_factory=list)
    clipped: bool = False
    issues: dict[str, Any] = field(default_factory=_no_issues)

    def summary(self) -> dict[str, Any]:
        """Counts for reports (``issues`` included, see :class:`OSMData`)."""
        issues = dict(self.issues)
        issues["long_segment_way_ids"] = list(issues.get("long_segment_way_ids", []))
        return {
            "file": self.path,
            "highway_ways": len(self.ways),
            "poi_candidates": len(self.pois),
            "residential_areas": len(self.residential),
            "clipped": self.clipped,
            "issues": issues,
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
        With :attr:`OSMData.issues` counting missing and invalid nodes, gaps,
        negative ids, harmless duplicates and long segments.

    Raises
    ------
    OSMFileError
        Missing, empty, truncated or non-OSM file; a node id given twice with
        different coordinates; highway ways none of whose segments has two
        usable nodes.
    """
    import osmium

    p = _check_path(path)
    clip_geom = _clip_geometry(clip)
    keys = frozenset(poi_keys)
    name = str(p)
    source: Any = name
    unparsable = 0
    small = _small_file(p)
    try:
        try:
            raw = _first_pass(source, keys, areas, small)
        except osmium.InvalidLocationError as exc:
            # libosmium's XML parser stops at lat="nan", "inf", "abc" ...; rewrite
            # those values as out of range (treated as missing below) and read again
            if name.lower().endswith(".pbf"):
                raise _bad_coordinate_error(name, exc) from exc
            source, unparsable = _sanitised_xml(p)
            try:
                raw = _first_pass(source, keys, areas, small)
            except osmium.InvalidLocationError as exc2:
                raise _bad_coordinate_error(name, exc2) from exc2
        data = _assemble(raw, source, name, clip_geom)
    except RuntimeError as exc:
        if "twice in input" in str(exc):
            raise OSMFileError(
                f"OSM file {name!r} holds the same object id twice ({exc}); remove the "
                "duplicate or export the extract again."
            ) from exc
        raise OSMFileError(
            f"Could not read OSM file {name!r} ({exc}); the file is truncated or not OSM data: "
            "download or export it again."
        ) from exc
    data.issues["unparsable_coordinate_nodes"] = unparsable
    if clip_geom is not None:
        data = _clip(data, clip_geom)
    return data


def _bad_coordinate_error(name: str, exc: BaseException) -> OSMFileError:
    return OSMFileError(
        f"OSM file {name!r} has a node coordinate gcgeo cannot read ({exc}); fix the node's "
        "lat/lon or export the extract again."
    )


@dataclass
class _Raw:
    """What the first pass collects, before any check."""

    way_ids: list[int]
    way_tags: list[dict[str, str]]
    way_len: list[int]
    #: (ref, x, y) per way node, x/y in libosmium's 1e-7 degree integers
    triples: array
    pois: list[tuple[str, int, float, float, dict[str, str]]]
    residential: list[BaseGeometry]
    bad_poi_ids: list[int]
    #: ids given more than once (positive ids; negative ones when collected)
    dup_ids: np.ndarray | None = None
    #: (k, 5) rows id, x1, y1, x2, y2 of duplicated ids whose copies differ
    conflicts: np.ndarray | None = None
    #: (id, x, y) of negative-id nodes, when the small-file collector ran
    negatives: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    #: way-node references left without location although the node is in the
    #: file, i.e. it came after the way (an unsorted file)
    late_refs: int = 0


def _small_file(p: Path) -> bool:
    """Whether to collect node ids in Python rather than through a node file.

    Only a speed choice (both give the same result): the file-backed index
    costs a fixed ~50 ms (libosmium maps 16 MB up front), Python ~4 µs a node.
    """
    name = p.name.lower()
    per_node = 10 if name.endswith(".pbf") else 15 if name.endswith((".bz2", ".gz")) else 120
    return p.stat().st_size / per_node < _SMALL_FILE_NODES


#: below this estimated node count the nodes are collected in Python (see _small_file)
_SMALL_FILE_NODES = 10_000


def _first_pass(source: Any, keys: frozenset[str], areas: bool, small: bool) -> _Raw:
    """Stream the file once (twice with areas): way node triples, facilities, areas.

    Node locations come from libosmium's index as raw integers, so a missing
    node (undefined location) or one out of range never raises here; they are
    sorted out on the arrays afterwards. The index is libosmium's
    ``sparse_file_array`` in a temporary folder: a flat file of (id, x, y)
    records that numpy reads afterwards to find duplicate ids (libosmium
    itself keeps one copy silently). Small files collect the same records in
    Python instead (see :func:`_small_file`).
    """
    import osmium

    with tempfile.TemporaryDirectory(prefix="gcgeo-osm-") as tmp:
        table = osmium.index.create_map(
            "flex_mem" if small else f"sparse_file_array,{Path(tmp) / 'nodes.idx'}"
        )
        fp = osmium.FileProcessor(source).with_locations(table)
        if areas:
            fp = fp.with_areas()
        collector = _NodeCollector(negative_only=False) if small else None
        if collector is not None:
            fp = fp.with_filter(collector)
        fp = fp.with_filter(osmium.filter.EmptyTagFilter())
        raw = _stream(fp, keys, areas)
        if collector is not None:
            nid, x, y = collector.arrays()
            raw.dup_ids, raw.conflicts = _find_duplicates(nid, x, y)
            raw.late_refs = _late_refs(raw.triples, nid, x)
            neg = nid < 0
            raw.negatives = (nid[neg], x[neg], y[neg])
        else:
            n = table.used_memory() // _NODE_RECORD.itemsize  # exact: 16 bytes per record
            if n:
                rec = np.memmap(Path(tmp) / "nodes.idx", dtype=_NODE_RECORD, mode="r", shape=(n,))
                nid = rec["id"].astype(np.int64)
                raw.dup_ids, raw.conflicts = _find_duplicates(nid, rec["x"], rec["y"])
                raw.late_refs = _late_refs(raw.triples, nid, rec["x"])
                del rec
        del fp, table
    return raw


def _late_refs(triples: array, nid: np.ndarray, x: np.ndarray) -> int:
    """Way-node references without location whose node (with a location) is in the file."""
    tri = np.frombuffer(triples, dtype=np.int64).reshape(-1, 3)
    miss = (tri[:, 1] == _UNDEFINED) & (tri[:, 0] >= 0)
    if not miss.any():
        return 0
    located = nid[(x != _UNDEFINED) & (nid >= 0)]
    return int(np.isin(tri[miss, 0], located).sum())


#: a record of libosmium's sparse_file_array: uint64 id, int32 x, int32 y
_NODE_RECORD = np.dtype([("id", "<u8"), ("x", "<i4"), ("y", "<i4")])


def _stream(fp: Any, keys: frozenset[str], areas: bool) -> _Raw:
    """The Python side of the first pass: one iteration over ``fp``."""
    import osmium

    wkb = osmium.geom.WKBFactory() if areas else None
    raw = _Raw([], [], [], array("q"), [], [], [])
    triples = raw.triples
    for obj in fp:
        tags = obj.tags
        if obj.is_way():
            if tags.get("highway") is None:
                continue
            nodes = obj.nodes
            triples.extend([v for n in nodes for v in (n.ref, n.location.x, n.location.y)])
            raw.way_ids.append(obj.id)
            raw.way_len.append(len(nodes))
            raw.way_tags.append({k: tags.get(k) for k in WAY_TAGS if k in tags})
        elif obj.is_node():
            if not (
                keys.intersection(k for k, _ in tags) or tags.get("highway") in _POI_NODE_HIGHWAY
            ):
                continue
            loc = obj.location
            if not loc.valid():
                raw.bad_poi_ids.append(obj.id)
                continue
            raw.pois.append(("n", obj.id, loc.lon, loc.lat, dict(tags)))
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
                raw.residential.append(geom)
            if is_poi:
                pt = geom.representative_point()
                otype = "w" if obj.from_way() else "r"
                raw.pois.append((otype, obj.orig_id(), pt.x, pt.y, dict(tags)))
    return raw


def _assemble(raw: _Raw, source: Any, name: str, clip_geom: BaseGeometry | None) -> OSMData:
    """Check the way arrays, cut ways at gaps and build :class:`OSMData`."""
    issues = _no_issues()
    if raw.late_refs:
        raise OSMFileError(
            f"OSM file {name!r} lists {raw.late_refs} way nodes after the ways that use them "
            "(it is not sorted nodes, then ways, then relations); sort it, e.g. "
            "`osmium sort FILE -o sorted.osm.pbf`, and read the sorted file."
        )
    tri = np.frombuffer(raw.triples, dtype=np.int64).reshape(-1, 3)
    refs = np.ascontiguousarray(tri[:, 0])
    xi = tri[:, 1].copy()
    yi = tri[:, 2].copy()
    poi_ids = np.array([q[1] for q in raw.pois if q[0] == "n"], dtype=np.int64)
    used = np.union1d(refs, poi_ids)
    dup_ids = [raw.dup_ids] if raw.dup_ids is not None else []
    _raise_on_conflict(name, raw.conflicts, used)
    if len(refs) and refs.min() < 0:
        neg = raw.negatives if raw.negatives is not None else _negative_nodes(source)
        if raw.negatives is None:  # not yet checked for duplicates
            d, c = _find_duplicates(*neg)
            _raise_on_conflict(name, c, used)
            dup_ids.append(d)
        issues["negative_id_nodes"] = _fill_negative_ids(neg, refs, xi, yi)
    issues["duplicate_node_ids"] = int(len(np.unique(np.concatenate(dup_ids)))) if dup_ids else 0
    missing = (xi == _UNDEFINED) | (yi == _UNDEFINED)
    invalid = ~missing & ((np.abs(xi) > _X_MAX) | (np.abs(yi) > _Y_MAX))
    good = ~(missing | invalid)
    issues["missing_node_refs"] = int(missing.sum())
    issues["invalid_coordinate_refs"] = int(invalid.sum())
    bad_ids = np.union1d(refs[invalid], np.asarray(raw.bad_poi_ids, dtype=np.int64))
    issues["invalid_coordinate_nodes"] = int(len(bad_ids))

    # pieces: maximal runs of usable nodes inside one way
    lens = np.asarray(raw.way_len, dtype=np.int64)
    n_ways = len(lens)
    way_of = np.repeat(np.arange(n_ways), lens)
    first = np.zeros(len(refs), dtype=bool)
    first[(np.cumsum(lens) - lens)[lens > 0]] = True
    prev_good = np.zeros(len(refs), dtype=bool)
    prev_good[1:] = good[:-1]
    starts = np.flatnonzero(good & (first | ~prev_good))
    run_len = _run_lengths(good, starts)
    keep = run_len >= 2
    pa, plen = starts[keep], run_len[keep]
    pway = way_of[pa]
    issues["ways_cut_at_gaps"] = int(len(np.unique(way_of[~good])))
    issues["ways_without_segment"] = int((np.bincount(pway, minlength=n_ways) == 0).sum())
    if n_ways and len(pa) == 0 and (~good).any():
        raise _unusable_error(name, issues)

    lon = xi / 1e7  # exactly libosmium's Location.lon (int / 1e7 in double)
    lat = yi / 1e7
    # compacted arrays of the kept pieces (pieces tile them, in file order)
    inside = np.zeros(len(refs) + 1, dtype=np.int64)
    np.add.at(inside, pa, 1)
    np.add.at(inside, pa + plen, -1)
    in_piece = np.cumsum(inside[:-1]) > 0
    clon, clat = lon[in_piece], lat[in_piece]
    cstart = np.cumsum(plen) - plen
    _long_segments(issues, clon, clat, cstart, np.asarray(raw.way_ids, dtype=np.int64)[pway])

    if clip_geom is not None and len(pa):
        # cheap box test per piece before the exact clip
        b = clip_geom.bounds
        hit = (
            (np.maximum.reduceat(clon, cstart) >= b[0])
            & (np.minimum.reduceat(clon, cstart) <= b[2])
            & (np.maximum.reduceat(clat, cstart) >= b[1])
            & (np.minimum.reduceat(clat, cstart) <= b[3])
        )
        pa, plen, pway = pa[hit], plen[hit], pway[hit]
    ways = [
        Way(raw.way_ids[w], raw.way_tags[w], refs[a : a + m], lon[a : a + m], lat[a : a + m])
        for a, m, w in zip(pa.tolist(), plen.tolist(), pway.tolist(), strict=True)
    ]
    return OSMData(
        path=name,
        ways=ways,
        pois=_dedupe_poi_nodes(raw.pois, name),
        residential=raw.residential,
        clipped=clip_geom is not None,
        issues=issues,
    )


def _run_lengths(good: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Length of the run of ``True`` in ``good`` beginning at each of ``starts``.

    ``starts`` must be every position where a run begins (including runs that
    continue a previous one across a way boundary, which is why they are given).
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    # the run from starts[i] ends at the first False after it, or at starts[i+1]
    stops = np.append(np.flatnonzero(~good), len(good))
    end = np.minimum(stops[np.searchsorted(stops, starts)], np.append(starts[1:], len(good)))
    return end - starts


def _long_segments(
    issues: dict[str, Any],
    lon: np.ndarray,
    lat: np.ndarray,
    piece_start: np.ndarray,
    piece_way: np.ndarray,
) -> None:
    """Count great-circle segments longer than :data:`MAX_SEGMENT_M` into ``issues``."""
    if len(lon) < 2:
        return
    same_piece = np.ones(len(lon) - 1, dtype=bool)
    same_piece[(piece_start - 1)[piece_start > 0]] = False
    la1, la2 = np.radians(lat[:-1]), np.radians(lat[1:])
    dlon = np.radians(lon[1:] - lon[:-1])
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin(dlon / 2) ** 2
    seg = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    seg[~same_piece] = 0.0
    long = seg > MAX_SEGMENT_M
    issues["max_segment_m"] = round(float(seg.max()), 1)
    if long.any():
        piece_of_seg = np.searchsorted(piece_start, np.flatnonzero(long), side="right") - 1
        issues["long_segments"] = int(long.sum())
        ids = np.unique(piece_way[piece_of_seg])
        issues["long_segment_way_ids"] = [int(i) for i in ids[:_LONG_SEGMENT_IDS_SHOWN]]


def _unusable_error(name: str, issues: dict[str, Any]) -> OSMFileError:
    missing, invalid = issues["missing_node_refs"], issues["invalid_coordinate_refs"]
    if invalid:
        return OSMFileError(
            f"OSM file {name!r} has no street segment with two usable nodes: "
            f"{issues['invalid_coordinate_nodes']} nodes have latitude/longitude outside "
            f"±90/±180 or unreadable (are lat and lon swapped?) and {missing} node references "
            "are missing; fix the coordinates or export the extract again."
        )
    return OSMFileError(
        f"OSM file {name!r} has no street segment with two usable nodes: {missing} node "
        "references of its highway ways are missing from the file; export the extract again "
        "with the ways' nodes included."
    )


class _NodeCollector:
    """pyosmium handler keeping (id, x, y) of nodes (negative ids only if asked).

    Installed as a filter it lets everything pass.
    """

    def __init__(self, negative_only: bool) -> None:
        self.negative_only = negative_only
        self.values = array("q")

    def node(self, n: Any) -> None:
        nid = n.id
        if nid < 0 or not self.negative_only:
            loc = n.location
            self.values.extend((nid, loc.x, loc.y))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = np.frombuffer(self.values, dtype=np.int64).reshape(-1, 3)
        return a[:, 0], a[:, 1], a[:, 2]


def _find_duplicates(
    nid: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ids given more than once, and those whose copies differ.

    Returns
    -------
    dup_ids : ndarray of int64
        Every id that occurs more than once.
    conflicts : ndarray, shape (k, 5)
        ``id, x1, y1, x2, y2`` for each duplicated id with two different
        locations (the first differing pair in id order).
    """
    if len(nid) < 2:
        return np.zeros(0, np.int64), np.zeros((0, 5), np.int64)
    if not (nid[1:] >= nid[:-1]).all():
        order = np.argsort(nid, kind="stable")
        nid, x, y = nid[order], x[order], y[order]
    same = nid[1:] == nid[:-1]
    if not same.any():
        return np.zeros(0, np.int64), np.zeros((0, 5), np.int64)
    dup_ids = np.unique(nid[1:][same])
    j = np.flatnonzero(same & ((x[1:] != x[:-1]) | (y[1:] != y[:-1])))
    ids = nid[j]
    first = np.ones(len(j), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    j = j[first]
    rows = np.column_stack([nid[j], x[j], y[j], x[j + 1], y[j + 1]]).astype(np.int64)
    return dup_ids.astype(np.int64), rows


def _raise_on_conflict(name: str, conflicts: np.ndarray | None, used: np.ndarray) -> None:
    """OSMFileError for a node gcgeo uses (street or facility) given with two locations.

    Such a file cannot be read safely: libosmium keeps one copy without saying
    which, and the wrong one makes a street hundreds of km long. Conflicting
    copies of nodes gcgeo does not use are only counted.
    """
    if conflicts is None or len(conflicts) == 0:
        return
    bad = conflicts[np.isin(conflicts[:, 0], used)]
    if len(bad) == 0:
        return
    nid, x1, y1, x2, y2 = (int(v) for v in bad[0])
    others = f" (and {len(bad) - 1} more node ids)" if len(bad) > 1 else ""
    raise OSMFileError(
        f"OSM file {name!r} gives node {nid} twice with different coordinates "
        f"({_fmt_loc(x1, y1)} and {_fmt_loc(x2, y2)}){others}; keep one of the copies "
        "(or export the extract again) before using the file."
    )


def _fmt_loc(x: int, y: int) -> str:
    if x == _UNDEFINED or y == _UNDEFINED:
        return "no location"
    return f"lat {y / 1e7:.7f}, lon {x / 1e7:.7f}"


def _negative_nodes(source: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, x, y) of every negative-id node (JOSM's unsaved objects).

    libosmium's location index holds positive ids only and pyosmium's id
    filters reject negative ids, so this pass hands every node to Python; it
    runs only when a way references a negative id (JOSM files, which are small).
    """
    import osmium

    col = _NodeCollector(negative_only=True)
    osmium.apply(osmium.io.Reader(source, osmium.osm.NODE), col)
    return col.arrays()


def _fill_negative_ids(
    neg: tuple[np.ndarray, np.ndarray, np.ndarray],
    refs: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
) -> int:
    """Put the locations of negative-id way nodes into ``xi``/``yi`` (in place).

    Returns the number of distinct negative-id nodes in the file.
    """
    nid, x, y = neg
    uid, first = np.unique(nid, return_index=True)
    at_neg = np.flatnonzero(refs < 0)
    if len(uid) == 0:
        return 0
    pos = np.minimum(np.searchsorted(uid, refs[at_neg]), len(uid) - 1)
    found = uid[pos] == refs[at_neg]
    xi[at_neg[found]] = x[first[pos[found]]]
    yi[at_neg[found]] = y[first[pos[found]]]
    return int(len(uid))


def _dedupe_poi_nodes(
    pois: list[tuple[str, int, float, float, dict[str, str]]], name: str
) -> list[tuple[str, int, float, float, dict[str, str]]]:
    """Keep one entry per tagged node id; raise if two copies differ in location."""
    idx = [i for i, q in enumerate(pois) if q[0] == "n"]
    if not idx:
        return pois
    nid = np.array([pois[i][1] for i in idx], dtype=np.int64)
    if len(np.unique(nid)) == len(nid):
        return pois
    x = np.array([round(pois[i][2] * 1e7) for i in idx], dtype=np.int64)
    y = np.array([round(pois[i][3] * 1e7) for i in idx], dtype=np.int64)
    _raise_on_conflict(name, _find_duplicates(nid, x, y)[1], nid)
    _, first = np.unique(nid, return_index=True)
    drop = set(np.delete(np.asarray(idx), first).tolist())
    return [q for i, q in enumerate(pois) if i not in drop]


_NODE_TAG = re.compile(rb"""<(?:node|nd)(?:\s+[^\s=<>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_COORD_ATTR = re.compile(rb"""(\s(lat|lon)\s*=\s*)("[^"]*"|'[^']*')""")
_PLAIN_NUMBER = re.compile(rb"-?[0-9]{1,3}(?:\.[0-9]*)?")
_OUT_OF_RANGE = b'"200"'  # readable by libosmium, invalid as lat and as lon


def _sanitised_xml(p: Path) -> tuple[Any, int]:
    """The XML file with unreadable node lat/lon values rewritten as out of range.

    Only used after libosmium refused a coordinate, so the common path never
    pays for it; reads the (decompressed) file into memory.

    Returns
    -------
    (osmium.io.FileBuffer, int)
        The buffer and the number of node elements that had a value rewritten.
    """
    import osmium

    name = p.name.lower()
    try:
        if name.endswith(".bz2"):
            text = bz2.decompress(p.read_bytes())
        elif name.endswith(".gz"):
            text = gzip.decompress(p.read_bytes())
        else:
            text = p.read_bytes()
    except (OSError, EOFError, ValueError) as exc:
        raise OSMFileError(
            f"Could not read OSM file {str(p)!r} ({exc}); the file is truncated or not OSM data: "
            "download or export it again."
        ) from exc
    bad = 0

    def fix_value(m: re.Match[bytes]) -> bytes:
        nonlocal bad
        value = m.group(3)[1:-1]
        try:
            v = float(value)
        except ValueError:
            v = math.nan
        if _PLAIN_NUMBER.fullmatch(value) and abs(v) < 200:
            return m.group(0)  # libosmium reads it (out of range is caught later)
        if math.isfinite(v) and abs(v) <= (90.0 if m.group(2) == b"lat" else 180.0):
            return m.group(1) + f'"{v:.7f}"'.encode()  # "+36.5", " 36.5", "3.6e1"
        bad += 1
        return m.group(1) + _OUT_OF_RANGE

    counted = 0

    def fix_tag(m: re.Match[bytes]) -> bytes:
        nonlocal counted
        before = bad
        out = _COORD_ATTR.sub(fix_value, m.group(0))
        counted += bad > before
        return out

    text = _NODE_TAG.sub(fix_tag, text)
    return osmium.io.FileBuffer(text, "osm"), counted


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
    return OSMData(
        path=data.path, ways=ways, pois=pois, residential=res, clipped=True, issues=data.issues
    )
