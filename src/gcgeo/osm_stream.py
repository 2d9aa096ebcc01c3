"""The streamed pyosmium (libosmium) pass behind :func:`gcgeo.osm.read_osm`.

One pass over the file (two with areas) collects only what gcgeo keeps: the
node-id sequences of ``highway`` ways with their raw libosmium coordinates,
tagged nodes and areas that may be facilities (:data:`POI_KEYS`), and
residential land-use / building areas. Nothing is checked here beyond what
libosmium does; the arrays are handed to :mod:`gcgeo.osm_checks`.

Also here: the extra pass that looks up negative-id nodes
(:func:`negative_nodes`) and the in-memory rewrite of XML coordinates
libosmium's parser cannot read (:func:`sanitised_xml`). The cut of a large
extract to a clip polygon is :mod:`gcgeo.osm_cut`.
"""

from __future__ import annotations

import bz2
import gzip
import math
import re
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._arrays import ranges
from ._errors import OSMFileError
from .osm_checks import find_duplicates, late_refs

__all__ = [
    "POI_KEYS",
    "RESIDENTIAL_BUILDINGS",
    "WAY_TAGS",
    "RawOSM",
    "first_pass",
    "negative_nodes",
    "sanitised_xml",
]

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
#: ``building`` values kept as residential areas (with ``landuse=residential``).
RESIDENTIAL_BUILDINGS = frozenset(
    {"residential", "apartments", "house", "dormitory", "detached", "terrace", "semidetached_house"}
)
#: Way tags carried into the network.
WAY_TAGS = (
    "highway",
    "name",
    "access",
    "foot",
    "sidewalk",
    "service",
    "area",
    "bridge",
    "tunnel",
    "motorroad",
)

#: Ways whose WKB is parsed into coordinates at a time (bounds the bytes held).
_WKB_BLOCK = 20_000
#: a record of libosmium's sparse_file_array: uint64 id, int32 x, int32 y
_NODE_RECORD = np.dtype([("id", "<u8"), ("x", "<i4"), ("y", "<i4")])


@dataclass
class RawOSM:
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


def first_pass(source: Any, keys: frozenset[str], areas: bool, small: bool) -> RawOSM:
    """Stream the file once (twice with areas): way node triples, facilities, areas.

    Node locations come from libosmium's index as raw integers, so a missing
    node (undefined location) or one out of range never raises here; they are
    sorted out on the arrays afterwards. The index is libosmium's
    ``sparse_file_array`` in a temporary folder: a flat file of (id, x, y)
    records that numpy reads afterwards to find duplicate ids (libosmium
    itself keeps one copy silently). Small files collect the same records in
    Python instead.

    Parameters
    ----------
    source : str or osmium.io.FileBuffer
        The file name, or the buffer from :func:`sanitised_xml`.
    keys : frozenset of str
        Tag keys that make a tagged node or area a facility candidate.
    areas : bool
        Assemble areas (a second pass inside libosmium).
    small : bool
        Collect node records in Python (fast for small files) instead of
        through the file-backed index; both give the same result.

    Returns
    -------
    RawOSM
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
        raw = _stream(fp, keys, areas, Path(tmp) / "ways.opl")
        if collector is not None:
            nid, x, y = collector.arrays()
            raw.dup_ids, raw.conflicts = find_duplicates(nid, x, y)
            raw.late_refs = late_refs(raw.triples, nid, x)
            neg = nid < 0
            raw.negatives = (nid[neg], x[neg], y[neg])
        else:
            n = table.used_memory() // _NODE_RECORD.itemsize  # exact: 16 bytes per record
            if n:
                rec = np.memmap(Path(tmp) / "nodes.idx", dtype=_NODE_RECORD, mode="r", shape=(n,))
                nid = rec["id"].astype(np.int64)
                raw.dup_ids, raw.conflicts = find_duplicates(nid, rec["x"], rec["y"])
                raw.late_refs = late_refs(raw.triples, nid, rec["x"])
                del rec
        del fp, table
    return raw


def _place_areas(raw: RawOSM, pending: list[tuple[bool, int, str]]) -> None:
    """Parse the areas' WKB at once: residential geometries, and the facilities' points
    (representative points) into the slots kept for them; unusable areas are dropped."""
    if not pending:
        return
    geoms = shapely.from_wkb([h for *_, h in pending], on_invalid="ignore")
    good = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    res = np.array([r for r, _, _ in pending], dtype=bool)
    slots = np.array([s for _, s, _ in pending], dtype=np.int64)
    raw.residential.extend(geoms[res & good].tolist())
    poi = (slots >= 0) & good
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms[poi]))
    for slot, (x, y) in zip(slots[poi].tolist(), xy.tolist(), strict=True):
        otype, oid, _, _, tags = raw.pois[slot]
        raw.pois[slot] = (otype, oid, x, y, tags)
    bad = set(slots[(slots >= 0) & ~good].tolist())
    if bad:
        raw.pois = [p for i, p in enumerate(raw.pois) if i not in bad]


def _stream(fp: Any, keys: frozenset[str], areas: bool, scratch: Path) -> RawOSM:
    """The Python side of the first pass: one iteration over ``fp``.

    Way nodes are not read one by one in Python: each highway way goes to libosmium's
    OPL writer (its node ids, into ``scratch``) and WKB factory (its node coordinates),
    see :class:`_WayNodes`.
    """
    import osmium

    wkb = osmium.geom.WKBFactory() if areas else None
    raw = RawOSM([], [], [], array("q"), [], [], [])
    way_nodes = _WayNodes(scratch)
    area_keys = keys - {"building"}
    lone_ok = "landuse" not in area_keys
    pending: list[tuple[bool, int, str]] = []  # areas: residential?, slot in pois, WKB
    for obj in fp:
        tags = obj.tags
        if obj.is_way():
            if tags.get("highway") is None:
                continue
            raw.way_len.append(way_nodes.add(obj))
            raw.way_ids.append(obj.id)
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
                tags.get("building") in RESIDENTIAL_BUILDINGS
            )
            # most areas are a building with that one tag: no facility key to look for
            lone = len(tags) == 1 and ("building" in tags or ("landuse" in tags and lone_ok))
            is_poi = not lone and any(k in tags for k in area_keys)
            if not (is_res or is_poi):
                continue
            try:
                hexwkb = wkb.create_multipolygon(obj)
            except Exception:  # broken multipolygons are common in OSM; skip them
                continue
            slot = -1
            if is_poi:  # its point is filled in below, once every area is parsed
                slot = len(raw.pois)
                otype = "w" if obj.from_way() else "r"
                raw.pois.append((otype, obj.orig_id(), math.nan, math.nan, dict(tags)))
            pending.append((is_res, slot, hexwkb))
    _place_areas(raw, pending)
    raw.triples.frombytes(way_nodes.triples(raw.way_len).tobytes())
    return raw


class _WayNodes:
    """(ref, x, y) of every node of the highway ways, gathered in libosmium, not Python.

    Per way, the OPL writer stores the node ids (a line of text in ``path``) and the WKB
    factory gives the coordinates (doubles, exactly libosmium's ``x / 1e7``), parsed in
    blocks of :data:`_WKB_BLOCK` ways so memory stays at the arrays' own size. A way the
    factory refuses (a missing node, a coordinate out of range, a single node) is read
    node by node instead, so the triples are the same as reading every way that way.
    """

    def __init__(self, path: Path) -> None:
        import osmium

        self._path = path
        self._writer = osmium.SimpleWriter(str(path))
        self._wkb = osmium.geom.WKBFactory()
        self._all = osmium.geom.use_nodes.ALL
        self._error = osmium.InvalidLocationError
        self._pending: list[bytes] = []
        self._coords: list[np.ndarray] = []
        self._fast: list[bool] = []
        self._slow: dict[int, list[int]] = {}

    def add(self, way: Any) -> int:
        """Take one way; returns its number of nodes."""
        i = len(self._fast)
        self._writer.add_way(way)
        try:
            self._pending.append(bytes.fromhex(self._wkb.create_linestring(way, self._all)))
            self._fast.append(True)
        except (self._error, RuntimeError):  # undefined or invalid location, < 2 nodes
            self._fast.append(False)
            self._slow[i] = [v for n in way.nodes for v in (n.ref, n.location.x, n.location.y)]
        if len(self._pending) >= _WKB_BLOCK:
            self._flush()
        return len(way.nodes)

    def _flush(self) -> None:
        if self._pending:
            self._coords.append(shapely.get_coordinates(shapely.from_wkb(self._pending)))
            self._pending = []

    def triples(self, lengths: list[int]) -> np.ndarray:
        """The flat int64 ``ref, x, y, ref, x, y, ...`` of every way taken, in order."""
        self._writer.close()
        self._flush()
        counts = np.asarray(lengths, dtype=np.int64)
        out = np.empty((int(counts.sum()), 3), dtype=np.int64)
        if len(out) == 0:
            return out.ravel()
        # node ids: each OPL line ends with " N" and the comma-separated "n<id>" list
        # (tags come before it, with spaces and commas escaped); numpy parses the digits
        lines = self._path.read_bytes().splitlines()
        refs = b",".join(p for p in (line.rpartition(b" N")[2] for line in lines) if p)
        ids = np.fromstring(refs.replace(b"n", b"").decode("ascii"), dtype=np.int64, sep=",")
        coords = np.concatenate(self._coords) if self._coords else np.zeros((0, 2))
        ok = np.array(self._fast, dtype=bool)
        if len(lines) != len(counts) or len(ids) != len(out) or len(coords) != counts[ok].sum():
            raise OSMFileError(
                f"libosmium wrote {len(lines)} ways with {len(ids)} nodes and {len(coords)} "
                f"coordinates for {len(counts)} ways with {len(out)} nodes; please report this "
                "file to gcgeo's maintainers."
            )
        out[:, 0] = ids
        start = np.cumsum(counts) - counts
        rows, _ = ranges(start[ok], start[ok] + counts[ok])  # the fast ways' rows
        out[rows, 1] = np.round(coords[:, 0] * 1e7).astype(np.int64)
        out[rows, 2] = np.round(coords[:, 1] * 1e7).astype(np.int64)
        for i, vals in self._slow.items():  # the few refused ways
            out[start[i] : start[i] + counts[i]] = np.asarray(vals, dtype=np.int64).reshape(-1, 3)
        return out.ravel()


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


def negative_nodes(source: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id, x, y) of every negative-id node (JOSM's unsaved objects).

    libosmium's location index holds positive ids only and pyosmium's id
    filters reject negative ids, so this pass hands every node to Python; it
    runs only when a way references a negative id (JOSM files, which are small).

    Parameters
    ----------
    source : str or osmium.io.FileBuffer
        As for :func:`first_pass`.

    Returns
    -------
    (ndarray, ndarray, ndarray)
        Ids and libosmium coordinates, int64.
    """
    import osmium

    col = _NodeCollector(negative_only=True)
    osmium.apply(osmium.io.Reader(source, osmium.osm.NODE), col)
    return col.arrays()


_NODE_TAG = re.compile(rb"""<(?:node|nd)(?:\s+[^\s=<>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_COORD_ATTR = re.compile(rb"""(\s(lat|lon)\s*=\s*)("[^"]*"|'[^']*')""")
_PLAIN_NUMBER = re.compile(rb"-?[0-9]{1,3}(?:\.[0-9]*)?")
_OUT_OF_RANGE = b'"200"'  # readable by libosmium, invalid as lat and as lon


def sanitised_xml(p: Path) -> tuple[Any, int]:
    """The XML file with unreadable node lat/lon values rewritten as out of range.

    Only used after libosmium refused a coordinate, so the common path never
    pays for it; reads the (decompressed) file into memory.

    Parameters
    ----------
    p : Path
        An ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file.

    Returns
    -------
    (osmium.io.FileBuffer, int)
        The buffer and the number of node elements that had a value rewritten.

    Raises
    ------
    OSMFileError
        The file cannot be read or decompressed.
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
