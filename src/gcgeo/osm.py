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

The streamed pass is :mod:`gcgeo.osm_stream` and the checks on its arrays are
:mod:`gcgeo.osm_checks`; this module defines what is kept (:class:`OSMData`),
reads a file (:func:`read_osm`, :func:`check_path`) and cuts it to a clip area
(:func:`clip_polygon` buffers a boundary into one). A clip is applied where it is
cheap: a large extract is cut in libosmium (:func:`gcgeo.osm_cut.cut_extract`)
before anything reaches Python, so a province file costs about what the district does.
It is the public entry point: import from here, not from the other two.

``osmnx.graph_from_xml`` is used in the tests as an independent second parser.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._errors import OSMFileError, OutputError
from .osm_checks import (
    MAX_SEGMENT_M,
    cut_at_gaps,
    dedupe_poi_nodes,
    fill_negative_ids,
    find_duplicates,
    long_segments,
    raise_on_conflict,
    usable_nodes,
)
from .osm_cut import CutUnsupported, cut_extract
from .osm_input import OSM_SUFFIXES, check_path, clip_geometry, clip_polygon
from .osm_stream import (
    POI_KEYS,
    RESIDENTIAL_BUILDINGS,
    WAY_TAGS,
    RawOSM,
    first_pass,
    negative_nodes,
    sanitised_xml,
)

__all__ = [
    "MAX_SEGMENT_M",
    "OSM_SUFFIXES",
    "POI_KEYS",
    "RESIDENTIAL_BUILDINGS",
    "WAY_TAGS",
    "OSMData",
    "Way",
    "check_path",
    "clip_polygon",
    "read_osm",
]

#: File endings gcgeo reads.

#: below this estimated node count the nodes are collected in Python (see _small_file)
_SMALL_FILE_NODES = 10_000


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
        ``highway`` ways, one entry per unbroken piece (a way cut at a gap, or
        by the clip area unless ``whole_ways``, appears once per piece, with
        the same id).
    pois : list of tuple
        Candidate facilities: (osm_type 'n'/'w'/'r', id, lon, lat, tags).
    residential : list of shapely geometry
        Residential land use and residential buildings (WGS-84 polygons).
    clipped : bool
    clip : dict or None
        How the clip was applied: ``bounds`` of the clip polygon, ``method``
        (``libosmium``: the file was cut before Python saw it; ``python``: read
        whole, then clipped), ``file_nodes`` (node records in the file, when
        cut in libosmium), ``nodes_inside``, ``cut_nodes``, ``cut_ways``,
        ``cut_relations`` (the cut), ``nodes_read`` / ``ways_read`` (way nodes
        and highway ways Python read) and ``nodes_kept`` / ``ways_kept``.
    issues : dict
        What was wrong with the file and how it was handled (all counts over
        what was read: the whole file, or the libosmium cut when clipped):

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
    clip: dict[str, Any] | None = None

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
            "clip": dict(self.clip) if self.clip is not None else None,
            "issues": issues,
        }


def read_osm(
    path: str | os.PathLike,
    clip: BaseGeometry | tuple[float, float, float, float] | None = None,
    poi_keys: Iterable[str] = POI_KEYS,
    areas: bool = True,
    whole_ways: bool = False,
) -> OSMData:
    """Read the parts of an OSM file that gcgeo uses.

    Parameters
    ----------
    path : path-like
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file.
    clip : shapely geometry or (min_lon, min_lat, max_lon, max_lat), optional
        WGS-84 area to keep (see :func:`clip_polygon` to buffer a boundary).
        A large file is cut in libosmium first (only objects touching the
        area reach Python); small files, and files the cut cannot handle
        (negative node ids, unreadable XML coordinates), are read whole and
        clipped after, with the same result. Facilities are kept when their
        point lies inside, residential areas when they intersect it.
    poi_keys : iterable of str
        Tag keys that make a tagged node or area a facility candidate.
    areas : bool
        Assemble areas (closed ways and multipolygon relations) for facilities
        mapped as polygons and for residential land use. Costs a second pass.
    whole_ways : bool
        With ``clip``: keep every ``highway`` way with a node inside the area
        whole, so a street crossing the edge is not cut mid-way (what
        :func:`gcgeo.study.open_study` uses). Default: keep only the segments
        with both ends inside.

    Returns
    -------
    OSMData
        With :attr:`OSMData.issues` counting missing and invalid nodes, gaps,
        negative ids, harmless duplicates and long segments, and
        :attr:`OSMData.clip` how the clip was applied.

    Raises
    ------
    OSMFileError
        Missing, empty, truncated or non-OSM file; a node id given twice with
        different coordinates; highway ways none of whose segments has two
        usable nodes.
    """
    p = check_path(path)
    clip_geom = clip_geometry(clip)
    keys = frozenset(poi_keys)
    if clip_geom is None:
        return _read(p, str(p), keys, areas)
    data = None
    cut: dict[str, Any] = {}
    if not _small_file(p):
        data, cut = _read_cut(p, keys, areas, clip_geom)
    if data is None:
        data = _read(p, str(p), keys, areas)
    return _clip(data, clip_geom, whole_ways, {"method": "libosmium" if cut else "python", **cut})


def _read_cut(
    p: Path, keys: frozenset[str], areas: bool, clip_geom: BaseGeometry
) -> tuple[OSMData | None, dict[str, Any]]:
    """Cut ``p`` to ``clip_geom`` in libosmium and read the cut; ``None`` when it cannot."""
    import osmium

    with tempfile.TemporaryDirectory(prefix="gcgeo-clip-") as tmp:
        out = Path(tmp) / "cut.opl"
        try:
            stats = cut_extract(str(p), clip_geom, out)
        except OSError as exc:  # numpy's side of the cut: the temporary folder is full
            raise _temp_space_error(p, tmp, exc) from exc
        except (CutUnsupported, RuntimeError, osmium.InvalidLocationError) as exc:
            if "No space left" in str(exc):  # libosmium writing the cut's text
                raise _temp_space_error(p, tmp, exc) from exc
            return None, {}  # read whole: that path names what is wrong with the file
        data = _read(out, str(p), keys, areas, positive_only=True)
    return data, stats if data is not None else {}


def _temp_space_error(p: Path, tmp: str, exc: BaseException) -> OutputError:
    return OutputError(
        f"Cutting {str(p)!r} to the study area needs about 4 times the file's size in the "
        f"temporary folder {str(Path(tmp).parent)!r}, which ran out ({exc}); free space there "
        "or set TMPDIR to a folder with room."
    )


def _read(
    p: Path, name: str, keys: frozenset[str], areas: bool, positive_only: bool = False
) -> OSMData | None:
    """Read ``p`` whole (``name`` is the file named in messages and summaries).

    With ``positive_only`` (a libosmium cut) a file whose ways reference
    negative node ids gives ``None``: the cut cannot hold them.
    """
    import osmium

    source: Any = str(p)
    unparsable = 0
    small = _small_file(p)
    try:
        try:
            raw = first_pass(source, keys, areas, small)
        except osmium.InvalidLocationError as exc:
            # libosmium's XML parser stops at lat="nan", "inf", "abc" ...; rewrite
            # those values as out of range (treated as missing below) and read again
            if name.lower().endswith(".pbf"):
                raise _bad_coordinate_error(name, exc) from exc
            source, unparsable = sanitised_xml(p)
            try:
                raw = first_pass(source, keys, areas, small)
            except osmium.InvalidLocationError as exc2:
                raise _bad_coordinate_error(name, exc2) from exc2
        if positive_only and len(raw.triples) and _refs(raw).min() < 0:
            return None
        data = _assemble(raw, source, name)
    except RuntimeError as exc:
        if "No space left" in str(exc):  # libosmium's node index or way-node file
            raise OutputError(
                f"Reading {name!r} needs temporary space (about 3 times the file's size) in "
                f"{tempfile.gettempdir()!r}, which ran out ({exc}); free space there or set "
                "TMPDIR to a folder with room."
            ) from exc
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
    return data


def _bad_coordinate_error(name: str, exc: BaseException) -> OSMFileError:
    return OSMFileError(
        f"OSM file {name!r} has a node coordinate gcgeo cannot read ({exc}); fix the node's "
        "lat/lon or export the extract again."
    )


def _small_file(p: Path) -> bool:
    """Whether to collect node ids in Python rather than through a node file.

    Only a speed choice (both give the same result): the file-backed index
    costs a fixed ~50 ms (libosmium maps 16 MB up front), Python ~4 µs a node.
    """
    name = p.name.lower()
    per_node = 10 if name.endswith(".pbf") else 15 if name.endswith((".bz2", ".gz")) else 120
    return p.stat().st_size / per_node < _SMALL_FILE_NODES


def _refs(raw: RawOSM) -> np.ndarray:
    """The way-node ids of ``raw`` (a view of its triples)."""
    return np.frombuffer(raw.triples, dtype=np.int64)[0::3]


def _assemble(raw: RawOSM, source: Any, name: str) -> OSMData:
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
    raise_on_conflict(name, raw.conflicts, used)
    if len(refs) and refs.min() < 0:
        neg = raw.negatives if raw.negatives is not None else negative_nodes(source)
        if raw.negatives is None:  # not yet checked for duplicates
            d, c = find_duplicates(*neg)
            raise_on_conflict(name, c, used)
            dup_ids.append(d)
        issues["negative_id_nodes"] = fill_negative_ids(neg, refs, xi, yi)
    issues["duplicate_node_ids"] = int(len(np.unique(np.concatenate(dup_ids)))) if dup_ids else 0
    good = usable_nodes(issues, refs, xi, yi, raw.bad_poi_ids)
    # pieces: maximal runs of usable nodes inside one way
    pa, plen, pway = cut_at_gaps(issues, good, np.asarray(raw.way_len, dtype=np.int64), name)

    lon = xi / 1e7  # exactly libosmium's Location.lon (int / 1e7 in double)
    lat = yi / 1e7
    # compacted arrays of the kept pieces (pieces tile them, in file order)
    inside = np.zeros(len(refs) + 1, dtype=np.int64)
    np.add.at(inside, pa, 1)
    np.add.at(inside, pa + plen, -1)
    in_piece = np.cumsum(inside[:-1]) > 0
    clon, clat = lon[in_piece], lat[in_piece]
    cstart = np.cumsum(plen) - plen
    long_segments(issues, clon, clat, cstart, np.asarray(raw.way_ids, dtype=np.int64)[pway])

    ways = [
        Way(raw.way_ids[w], raw.way_tags[w], refs[a : a + m], lon[a : a + m], lat[a : a + m])
        for a, m, w in zip(pa.tolist(), plen.tolist(), pway.tolist(), strict=True)
    ]
    return OSMData(
        path=name,
        ways=ways,
        pois=dedupe_poi_nodes(raw.pois, name),
        residential=raw.residential,
        issues=issues,
    )


def _clip(
    data: OSMData, clip_geom: BaseGeometry, whole_ways: bool, info: dict[str, Any]
) -> OSMData:
    """Keep what lies in ``clip_geom``: whole ways with a node inside (``whole_ways``) or
    the segments with both ends inside; facilities inside; residential areas meeting it."""
    ways: list[Way] = []
    if data.ways:
        lens = np.array([len(w.refs) for w in data.ways])
        inside = shapely.contains_xy(
            clip_geom,
            np.concatenate([w.lon for w in data.ways]),
            np.concatenate([w.lat for w in data.ways]),
        )
        starts = np.cumsum(lens) - lens
        if whole_ways:
            ids = np.array([w.id for w in data.ways], dtype=np.int64)
            hit = np.isin(ids, ids[np.logical_or.reduceat(inside, starts)])
            ways = [w for w, k in zip(data.ways, hit.tolist(), strict=True) if k]
        else:
            for w, a, m in zip(data.ways, starts.tolist(), lens.tolist(), strict=True):
                ways += _inside_runs(w, inside[a : a + m])
    if data.pois:
        xy = np.array([(p[2], p[3]) for p in data.pois])
        keep = shapely.contains_xy(clip_geom, xy[:, 0], xy[:, 1])
        pois = [p for p, k in zip(data.pois, keep, strict=True) if k]
    else:
        pois = []
    res = [g for g in data.residential if clip_geom.intersects(g)]
    clip = {
        "bounds": [round(v, 7) for v in clip_geom.bounds],
        **info,
        "nodes_read": int(sum(len(w.refs) for w in data.ways)),
        "ways_read": len({w.id for w in data.ways}),
        "nodes_kept": int(sum(len(w.refs) for w in ways)),
        "ways_kept": len({w.id for w in ways}),
    }
    return OSMData(
        path=data.path,
        ways=ways,
        pois=pois,
        residential=res,
        clipped=True,
        issues=data.issues,
        clip=clip,
    )


def _inside_runs(w: Way, inside: np.ndarray) -> list[Way]:
    """The pieces of ``w`` made of runs of at least two consecutive nodes inside."""
    if inside.all():
        return [w]
    idx = np.flatnonzero(inside)
    if len(idx) < 2:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    return [
        Way(w.id, w.tags, w.refs[run], w.lon[run], w.lat[run])
        for run in np.split(idx, breaks)
        if len(run) >= 2
    ]
