"""The cut of a large OSM extract to a clip polygon, with memory bounded by the cut, not the ids.

libosmium reads the file twice and writes OPL text (one object per line) into the cut's
temporary folder: the node read fills libosmium's file-backed ``sparse_file_array`` index of
(id, x, y) records and writes the tagged nodes' text; the second read writes the ways and
relations (in one read the index would also look up every way node: 6.5 s instead of 2.6 s
on the 98 MB benchmark province). numpy then decides, in chunks of :data:`CHUNK_BYTES`:

1. the nodes inside the polygon (bounding box on the index records, then shapely);
2. the relations, parsed into (relation, member type, member id) arrays;
3. the ways touching an inside node (forward references), keeping every node of such a way
   (back references: a way crossing the edge keeps all its nodes); member ways of any
   relation are set aside with their nodes in case their relation is kept;
4. the relations listing a kept way or an inside node, and the relations those list (one
   level), with all their member ways and nodes, so a multipolygon crossing the edge stays
   whole (libosmium's ``IdTracker`` leaves out some such members, depending on file order);
5. the kept nodes: tagged ones copied from libosmium's text, untagged ones written from the
   index records.

The kept lines go byte for byte into ``cut.opl`` (nodes, ways, relations, each in id order),
which gcgeo reads like any other file. No OSM object becomes a Python object: every step is a
vectorised operation on a chunk's bytes or on id arrays, and the sets are sorted id arrays
(8 bytes an id) rather than libosmium's dense id sets, whose 4 MB blocks per 2²⁵ ids cost
more than a gigabyte for a district whose ids are spread over all of OSM's history.

:class:`CutUnsupported` is raised for what the cut cannot represent (negative ids, an OPL
layout other than expected); the caller then reads the file whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["CHUNK_BYTES", "CutUnsupported", "cut_extract", "sections"]

#: bytes of OPL text (or index records) handled at once; bounds the cut's working memory
CHUNK_BYTES = 1 << 23
#: a record of libosmium's sparse_file_array: uint64 id, int32 x, int32 y
_NODE_RECORD = np.dtype([("id", "<u8"), ("x", "<i4"), ("y", "<i4")])
_NL, _SPACE, _MINUS, _AT, _COMMA = (ord(c) for c in "\n -@,")
#: size of the low-bits table of _isin, and the fewest values for which it pays
_PREFILTER_BITS = 1 << 24
_PREFILTER_MIN = 1 << 16
#: libosmium's x/y of an undefined location
_UNDEFINED = 2**31 - 1
_TYPE_CODE = {ord("n"): 0, ord("w"): 1, ord("r"): 2}
#: member letters and commas become spaces
_BLANK_LIST = bytes.maketrans(b"nwr,", b"    ")


class CutUnsupported(RuntimeError):
    """The file holds something the cut cannot represent; read it whole instead."""


def cut_extract(source: str, clip_geom: BaseGeometry, out: Path) -> dict[str, int]:
    """Write the part of ``source`` that touches ``clip_geom`` to ``out`` (OPL).

    Parameters
    ----------
    source : str
        An OSM file libosmium reads, sorted (nodes, then ways, then relations).
    clip_geom : shapely geometry
        WGS-84 polygon (already buffered).
    out : Path
        The cut file to write (``.opl``); its folder holds the node index and the OPL text
        of the ways and relations while this runs (about 8 bytes per byte of PBF).

    Returns
    -------
    dict
        ``file_nodes`` (nodes read), ``nodes_inside`` (inside the polygon), ``cut_nodes``,
        ``cut_ways``, ``cut_relations`` (written).

    Raises
    ------
    CutUnsupported
        Negative ids or an unexpected OPL layout; read the file whole instead.
    RuntimeError, osmium.InvalidLocationError
        libosmium could not read the file (truncated, not OSM, unreadable XML coordinates).
    """
    import osmium

    tmp = out.parent
    idx, nodes_opl, opl = tmp / "cut-nodes.idx", tmp / "cut-nodes.opl", tmp / "cut-rest.opl"
    table = osmium.index.create_map(f"sparse_file_array,{idx}")
    handler = osmium.NodeLocationsForWays(table)
    handler.ignore_errors()
    # every node into the index, the text of tagged ones only; then the ways and relations
    # (a separate read: in one read the index would also look up every way node)
    _to_opl(source, osmium.osm.NODE, nodes_opl, handler, osmium.filter.EmptyTagFilter())
    n_records = table.used_memory() // _NODE_RECORD.itemsize
    del handler, table
    _to_opl(source, osmium.osm.WAY | osmium.osm.RELATION, opl)
    way_offset, rel_offset = sections(opl)

    inside = _ids_inside(idx, n_records, clip_geom)
    rel_ids, member_type, member_id, rel_lines = _relations(opl, rel_offset)
    member_ways = np.unique(member_id[member_type == 1])
    ways = _scan_ways(opl, way_offset, rel_offset, inside, member_ways)

    rel_member_of = np.repeat(np.arange(len(rel_ids)), np.diff(rel_lines.member_start))
    hit = (member_type == 1) & _isin(member_id, ways.kept_ids)
    hit |= (member_type == 0) & _isin(member_id, inside)
    rel_keep = np.zeros(len(rel_ids), dtype=bool)
    rel_keep[rel_member_of[hit]] = True
    # one level down: the relations a kept relation lists (a site's multipolygons)
    nested = member_id[rel_keep[rel_member_of] & (member_type == 2)]
    rel_keep |= _isin(rel_ids, np.unique(nested))
    kept_members = rel_keep[rel_member_of]
    extra_ways = np.setdiff1d(member_id[kept_members & (member_type == 1)], ways.kept_ids)
    extra = _isin(ways.member_ids, extra_ways)
    keep_nodes = np.unique(
        np.concatenate(
            [
                inside,
                ways.kept_refs,
                ways.member_refs[np.repeat(extra, ways.member_counts)],
                member_id[kept_members & (member_type == 0)],
            ]
        )
    )

    with open(out, "wb") as f:
        node_text, cut_nodes = _node_lines(
            idx, n_records, keep_nodes, nodes_opl, nodes_opl.stat().st_size
        )
        f.write(node_text)
        f.write(ways.sorted_text(extra))
        if rel_keep.any():
            f.write(rel_lines.select(opl, rel_offset, rel_keep))
    for p in (idx, nodes_opl, opl):
        p.unlink(missing_ok=True)
    return {
        "file_nodes": int(n_records),
        "nodes_inside": int(len(inside)),
        "cut_nodes": int(cut_nodes),
        "cut_ways": int(len(ways.kept_ids) + extra.sum()),
        "cut_relations": int(rel_keep.sum()),
    }


def _to_opl(source: str, types: Any, path: Path, *handlers: Any) -> None:
    """libosmium writes the objects of ``types`` passing ``handlers`` as OPL without metadata."""
    import osmium

    writer = osmium.SimpleWriter(osmium.io.File(str(path), "opl,add_metadata=false"))
    try:
        osmium.apply(osmium.io.Reader(source, types), *handlers, writer)
    finally:
        writer.close()


def _chunks(f: BinaryIO, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Pieces of whole lines of ``f`` between byte offsets ``start`` and ``end``."""
    f.seek(start)
    offset, rest = start, b""
    while True:
        size = CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - offset)
        block = f.read(size) if size > 0 else b""
        offset += len(block)
        if not block:
            if rest:
                raise CutUnsupported("OPL text does not end with a newline")
            return
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest = block
            continue
        yield block[:cut]
        rest = block[cut:]


def sections(path: Path) -> tuple[int, int]:
    """Byte offsets where the way lines and the relation lines of a sorted OPL file start."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        way_start = size
        for block_start, letters, starts in _line_letters(f, range(0, size, CHUNK_BYTES)):
            later = np.flatnonzero(letters != ord("n"))
            if len(later):
                way_start = block_start + int(starts[later[0]])
                break
        rel_start = way_start
        first = way_start // CHUNK_BYTES * CHUNK_BYTES
        backwards = range((size - 1) // CHUNK_BYTES * CHUNK_BYTES, first - 1, -CHUNK_BYTES)
        for block_start, letters, starts in _line_letters(f, backwards):
            earlier = np.flatnonzero(letters != ord("r"))
            if len(earlier):
                line = int(starts[earlier[-1]])
                f.seek(block_start + line)
                rel_start = block_start + line + len(f.readline())
                break
    return way_start, max(rel_start, way_start)


def _line_letters(
    f: BinaryIO, block_starts: Iterable[int]
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For each block: its offset, the first letter of every line starting in it, and where."""
    for start in block_starts:
        f.seek(max(start - 1, 0))
        block = np.frombuffer(f.read(CHUNK_BYTES + (start > 0)), dtype=np.uint8)
        if start > 0:  # the byte before the block tells whether its first byte starts a line
            starts = np.flatnonzero(block[:-1] == _NL)
        else:
            starts = np.concatenate([[-1], np.flatnonzero(block[:-1] == _NL)])
        starts = starts[starts + 1 < len(block)]
        yield start, block[starts + 1], starts + (0 if start > 0 else 1)


def _ranges_mask(n: int, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Bytes inside the non-overlapping ranges ``[begin, end)`` of an ``n``-byte buffer."""
    toggle = np.zeros(n + 1, dtype=np.uint8)
    toggle[begin] ^= 1
    toggle[end] ^= 1
    return np.bitwise_xor.accumulate(toggle[:-1]).view(bool)


def _reorder(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, order: np.ndarray) -> bytes:
    """The lines of ``buf`` in ``order``, byte for byte."""
    lengths = (ends - starts)[order]
    pos = np.repeat(starts[order] - np.cumsum(lengths) + lengths, lengths)
    return buf[pos + np.arange(len(pos))].tobytes()


def _lines(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, newline included) of every line of a chunk."""
    ends = np.flatnonzero(buf == _NL) + 1
    starts = np.concatenate([np.zeros(min(len(ends), 1), dtype=ends.dtype), ends[:-1]])
    return starts, ends


def _select(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray) -> bytes:
    """The lines of ``buf`` where ``keep``, byte for byte."""
    if not keep.any():
        return b""
    return buf[np.repeat(keep, ends - starts)].tobytes()


def _isin(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Membership of ``values`` in a sorted, unique id array.

    Many values against few ids (every way node against a district's nodes): a 2**24-bit
    table of the ids' low bits rules most values out before the binary search.
    """
    if len(sorted_ids) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    if len(values) > 16 * len(sorted_ids) and len(values) > _PREFILTER_MIN:
        table = np.zeros(_PREFILTER_BITS, dtype=bool)
        table[sorted_ids & (_PREFILTER_BITS - 1)] = True
        maybe = np.flatnonzero(table[values & (_PREFILTER_BITS - 1)])
        out[maybe] = _isin(values[maybe], sorted_ids)
        return out
    pos = np.searchsorted(sorted_ids, values)
    pos[pos == len(sorted_ids)] = 0
    return sorted_ids[pos] == values


def _numbers(
    buf: np.ndarray, starts: np.ndarray, field: str, letters: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse lines ``<letter><id> T<tags> <field><list>`` into (values, member letters).

    The object id becomes a negative marker; the ``T`` field, the list's letter, roles
    (``@…``), member letters and commas are blanked, and numpy reads the numbers left.
    With ``letters`` the member type letters are returned too, one per non-negative value.
    """
    text = buf.copy()
    spaces = np.flatnonzero(text == _SPACE)
    if len(spaces) != 2 * len(starts):
        raise CutUnsupported("unexpected OPL layout")
    first, second = spaces[0::2], spaces[1::2]
    if not ((text[first + 1] == ord("T")).all() and (text[second + 1] == ord(field)).all()):
        raise CutUnsupported("unexpected OPL layout")
    text[_ranges_mask(len(text), first, second + 2)] = _SPACE  # " T…<field>" of every line
    if field == "M":  # roles: from "@" to the next "," or newline
        at = np.flatnonzero(text == _AT)
        stops = np.flatnonzero((text == _COMMA) | (text == _NL))
        if len(at):
            text[_ranges_mask(len(text), at, stops[np.searchsorted(stops, at)])] = _SPACE
    text[starts] = _MINUS
    kinds = text[(text >= ord("a")) & (text <= ord("z"))] if letters else None
    raw = text.tobytes()
    if raw.count(b"-") != len(starts):
        raise CutUnsupported("negative ids")
    raw = raw.translate(_BLANK_LIST)
    if raw.translate(None, delete=b"0123456789 -\n"):
        raise CutUnsupported("unexpected characters in OPL id lists")
    return np.fromstring(raw, dtype=np.int64, sep=" "), kinds


class _RelationLines:
    """Byte ranges of the relation lines and where each relation's members start."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray, member_start: np.ndarray) -> None:
        self.starts, self.ends, self.member_start = starts, ends, member_start

    def select(self, path: Path, offset: int, keep: np.ndarray) -> bytes:
        return _select(_read_from(path, offset), self.starts, self.ends, keep)


def _read_from(path: Path, offset: int) -> np.ndarray:
    """The bytes of ``path`` from ``offset`` to its end."""
    with open(path, "rb") as f:
        f.seek(offset)
        return np.frombuffer(f.read(), dtype=np.uint8)


def _relations(
    path: Path, offset: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, _RelationLines]:
    """Relation ids, and per member its type (0 node, 1 way, 2 relation) and id.

    The relation lines start at ``offset``; relations are few, so they are read at once.
    """
    buf = _read_from(path, offset)
    starts, ends = _lines(buf)
    if len(starts) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, _RelationLines(empty, empty, np.zeros(1, dtype=np.int64))
    values, letters = _numbers(buf, starts, "M", letters=True)
    marks = np.flatnonzero(values < 0)
    if len(marks) != len(starts):
        raise CutUnsupported("relation lines do not parse")
    rel_ids = -values[marks]
    members = values >= 0
    member_id = values[members]
    codes = np.full(256, -1, dtype=np.int64)
    for letter, code in _TYPE_CODE.items():
        codes[letter] = code
    member_type = codes[letters]
    if len(member_type) != len(member_id) or (member_type < 0).any():
        raise CutUnsupported("relation members do not parse")
    counts = np.diff(np.append(marks, len(values))) - 1
    member_start = np.concatenate([[0], np.cumsum(counts)])
    return rel_ids, member_type, member_id, _RelationLines(starts, ends, member_start)


class _WayScan:
    """What the way scan keeps: the kept ways' lines and nodes, and relation members'."""

    def __init__(self) -> None:
        self.kept_text_parts: list[bytes] = []
        self.kept_id_parts: list[np.ndarray] = []
        self.kept_ref_parts: list[np.ndarray] = []
        self.member_id_parts: list[np.ndarray] = []
        self.member_count_parts: list[np.ndarray] = []
        self.member_ref_parts: list[np.ndarray] = []
        self.member_text_parts: list[bytes] = []

    def finish(self) -> None:
        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

        self.kept_ids = cat(self.kept_id_parts)
        self.kept_refs = cat(self.kept_ref_parts)
        self.member_ids = cat(self.member_id_parts)
        self.member_counts = cat(self.member_count_parts)
        self.member_refs = cat(self.member_ref_parts)
        self._member_lines = b"".join(self.member_text_parts)

    def sorted_text(self, extra: np.ndarray) -> bytes:
        """The kept way lines and the set-aside ones where ``extra``, in id order."""
        kept = b"".join(self.kept_text_parts)
        aside = np.frombuffer(self._member_lines, dtype=np.uint8)
        a_starts, a_ends = _lines(aside)
        buf = np.frombuffer(kept + _select(aside, a_starts, a_ends, extra), dtype=np.uint8)
        starts, ends = _lines(buf)
        ids = np.concatenate([self.kept_ids, self.member_ids[extra]])
        return _reorder(buf, starts, ends, np.argsort(ids, kind="stable"))


def _scan_ways(
    path: Path, start: int, end: int, inside: np.ndarray, member_ways: np.ndarray
) -> _WayScan:
    """Ways touching ``inside`` (kept), and the other member ways of relations (set aside).

    The way lines are the bytes ``start`` to ``end`` of ``path``.
    """
    scan = _WayScan()
    with open(path, "rb") as f:
        for chunk in _chunks(f, start, end):
            buf = np.frombuffer(chunk, dtype=np.uint8)
            starts, ends = _lines(buf)
            values, _ = _numbers(buf, starts, "N")
            marks = np.flatnonzero(values < 0)
            if len(marks) != len(starts):
                raise CutUnsupported("way lines do not parse")
            way_ids = -values[marks]
            counts = np.diff(np.append(marks, len(values))) - 1
            is_ref = np.ones(len(values), dtype=bool)
            is_ref[marks] = False
            refs = values[is_ref]
            owner = np.repeat(np.arange(len(way_ids)), counts)
            touched = np.zeros(len(way_ids), dtype=bool)
            touched[owner[_isin(refs, inside)]] = True
            if touched.any():
                scan.kept_text_parts.append(_select(buf, starts, ends, touched))
                scan.kept_id_parts.append(way_ids[touched])
                scan.kept_ref_parts.append(refs[touched[owner]])
            aside = ~touched & _isin(way_ids, member_ways)
            if aside.any():
                scan.member_id_parts.append(way_ids[aside])
                scan.member_count_parts.append(counts[aside])
                scan.member_ref_parts.append(refs[aside[owner]])
                scan.member_text_parts.append(_select(buf, starts, ends, aside))
    scan.finish()
    return scan


def _node_lines(idx: Path, n: int, keep: np.ndarray, opl: Path, end: int) -> tuple[bytes, int]:
    """OPL lines of the nodes in ``keep``, in id order, and how many there are.

    Tagged nodes are copied from libosmium's text byte for byte; untagged ones are written
    from the index records (id and location are all they have).
    """
    ids, xs, ys = [], [], []
    for part in _records(idx, n):
        nid = part["id"].astype(np.int64)
        sel = _isin(nid, keep)
        ids.append(nid[sel])
        xs.append(part["x"][sel])
        ys.append(part["y"][sel])
    nid = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    x = np.concatenate(xs) if xs else np.zeros(0, dtype=np.int32)
    y = np.concatenate(ys) if ys else np.zeros(0, dtype=np.int32)
    with open(opl, "rb") as f:  # the tagged nodes' lines: the first ``end`` bytes
        tagged = np.frombuffer(f.read(end), dtype=np.uint8)
    t_starts, t_ends = _lines(tagged)
    t_ids = _line_ids(tagged, t_starts)
    t_keep = _isin(t_ids, nid)
    plain = ~_isin(nid, np.unique(t_ids))
    valid = (x[plain] != _UNDEFINED) & (y[plain] != _UNDEFINED)
    lon = np.where(valid, np.char.mod("%.7f", x[plain] / 1e7), "")
    lat = np.where(valid, np.char.mod("%.7f", y[plain] / 1e7), "")
    text = "".join(
        np.char.add(
            np.char.add(np.char.add(np.char.add("n", nid[plain].astype(str)), " x"), lon),
            np.char.add(np.char.add(" y", lat), "\n"),
        ).tolist()
    ).encode()
    buf = np.frombuffer(_select(tagged, t_starts, t_ends, t_keep) + text, dtype=np.uint8)
    starts, ends = _lines(buf)
    order = np.argsort(np.concatenate([t_ids[t_keep], nid[plain]]), kind="stable")
    return (_reorder(buf, starts, ends, order) if len(order) else b""), len(order)


def _line_ids(buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The id after the type letter at the start of every line (``n123 …`` gives 123)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    text = buf.copy()
    spaces = np.flatnonzero(text == _SPACE)
    first = spaces[np.searchsorted(spaces, starts)]
    ends = np.append(starts[1:], len(text)) - 1  # the newlines
    text[_ranges_mask(len(text), first, ends)] = _SPACE
    text[starts] = _SPACE
    raw = text.tobytes()
    if raw.translate(None, delete=b"0123456789 \n"):
        raise CutUnsupported("negative or unreadable node ids")
    ids = np.fromstring(raw, dtype=np.int64, sep=" ")
    if len(ids) != len(starts) or (ids < 0).any():
        raise CutUnsupported("negative or unreadable node ids")
    return ids


def _records(idx: Path, n: int) -> Iterator[np.ndarray]:
    """The ``n`` (id, x, y) records of libosmium's node index, :data:`CHUNK_BYTES` at a time."""
    step = CHUNK_BYTES // _NODE_RECORD.itemsize
    for start in range(0, n, step):
        yield np.fromfile(
            idx,
            dtype=_NODE_RECORD,
            count=min(step, n - start),
            offset=start * _NODE_RECORD.itemsize,
        )


def _ids_inside(idx: Path, n: int, clip_geom: BaseGeometry) -> np.ndarray:
    """Sorted positive ids of the index records inside ``clip_geom`` (bbox first, in chunks)."""
    minx, miny, maxx, maxy = clip_geom.bounds
    lo_x, hi_x = math.floor(minx * 1e7), math.ceil(maxx * 1e7)
    lo_y, hi_y = math.floor(miny * 1e7), math.ceil(maxy * 1e7)
    found = []
    for part in _records(idx, n):
        x, y = part["x"], part["y"]
        sel = np.flatnonzero((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y))
        if len(sel):
            keep = shapely.contains_xy(clip_geom, x[sel] / 1e7, y[sel] / 1e7)
            found.append(part["id"][sel[keep]].astype(np.int64))
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
