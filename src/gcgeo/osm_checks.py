"""Sanity checks on the way-node arrays of one OSM file (numpy only, no libosmium).

:func:`gcgeo.osm.read_osm` runs these on the arrays its streamed pass builds
(:mod:`gcgeo.osm_stream`), before anything is kept:

* missing nodes and coordinates outside ±90°/±180° are *gaps*
  (:func:`usable_nodes`); ways are cut there and never joined across them
  (:func:`cut_at_gaps`);
* node ids given twice are found in the node records (:func:`find_duplicates`);
  copies with different coordinates of a node gcgeo uses are an
  :class:`~gcgeo.OSMFileError` (:func:`raise_on_conflict`,
  :func:`dedupe_poi_nodes`);
* negative-id way nodes (JOSM) get their locations from a separate lookup
  (:func:`fill_negative_ids`);
* way nodes listed after their way are counted (:func:`late_refs`);
* segments longer than :data:`MAX_SEGMENT_M` are counted (:func:`long_segments`).

Every function records what it finds in the ``issues`` dict of
:attr:`gcgeo.osm.OSMData.issues` or raises :class:`~gcgeo.OSMFileError`.
Coordinates are libosmium's int32 in 1e-7 degrees, with int32 max meaning
"no location".
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from . import settings
from ._errors import OSMFileError

__all__ = [
    "MAX_SEGMENT_M",
    "cut_at_gaps",
    "dedupe_poi_nodes",
    "fill_negative_ids",
    "find_duplicates",
    "late_refs",
    "long_segments",
    "raise_on_conflict",
    "usable_nodes",
]

#: Longest plausible straight segment (m) between two consecutive nodes of one
#: way. OSM maps curves with many nodes, so even long rural roads and bridges
#: rarely exceed 1–2 km per segment (the Jinan extract's longest is 1.3 km);
#: phantom segments from broken files are hundreds or thousands of km. Longer
#: segments are kept but counted in ``OSMData.issues`` with their way ids.
MAX_SEGMENT_M = settings.MAX_SEGMENT_M
#: how many way ids of long segments ``OSMData.issues`` lists
_LONG_SEGMENT_IDS_SHOWN = 20

# libosmium stores coordinates as int32 in 1e-7 degrees; int32 max = undefined
_UNDEFINED = 2_147_483_647
_X_MAX = 1_800_000_000  # 180 degrees
_Y_MAX = 900_000_000  # 90 degrees
_EARTH_RADIUS_M = 6_371_008.8


def late_refs(triples: array, nid: np.ndarray, x: np.ndarray) -> int:
    """Way-node references without location whose node (with a location) is in the file.

    Parameters
    ----------
    triples : array of int64
        ``(ref, x, y)`` per way node, as the streamed pass collects them.
    nid, x : ndarray
        Ids and x coordinates of every node record in the file.

    Returns
    -------
    int
        How many references came before their node (an unsorted file).
    """
    tri = np.frombuffer(triples, dtype=np.int64).reshape(-1, 3)
    miss = (tri[:, 1] == _UNDEFINED) & (tri[:, 0] >= 0)
    if not miss.any():
        return 0
    located = nid[(x != _UNDEFINED) & (nid >= 0)]
    return int(np.isin(tri[miss, 0], located).sum())


def usable_nodes(
    issues: dict[str, Any],
    refs: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
    bad_poi_ids: list[int],
) -> np.ndarray:
    """Which way nodes have a location in range; count the others into ``issues``.

    Parameters
    ----------
    issues : dict
        Receives ``missing_node_refs``, ``invalid_coordinate_refs`` and
        ``invalid_coordinate_nodes`` (together with ``bad_poi_ids``).
    refs, xi, yi : ndarray of int64
        Node id and libosmium coordinates of each way node.
    bad_poi_ids : list of int
        Tagged facility nodes skipped for an invalid location.

    Returns
    -------
    ndarray of bool
        ``True`` where the way node is usable.
    """
    missing = (xi == _UNDEFINED) | (yi == _UNDEFINED)
    invalid = ~missing & ((np.abs(xi) > _X_MAX) | (np.abs(yi) > _Y_MAX))
    good = ~(missing | invalid)
    issues["missing_node_refs"] = int(missing.sum())
    issues["invalid_coordinate_refs"] = int(invalid.sum())
    bad_ids = np.union1d(refs[invalid], np.asarray(bad_poi_ids, dtype=np.int64))
    issues["invalid_coordinate_nodes"] = int(len(bad_ids))
    return good


def cut_at_gaps(
    issues: dict[str, Any], good: np.ndarray, lens: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of ways: maximal runs of at least two usable nodes inside one way.

    Parameters
    ----------
    issues : dict
        Receives ``ways_cut_at_gaps`` and ``ways_without_segment``.
    good : ndarray of bool
        From :func:`usable_nodes`, one entry per way node (ways in file order).
    lens : ndarray of int64
        Node count of each way.
    name : str
        The file, as named in messages.

    Returns
    -------
    start, length, way : ndarray of int64
        First way-node position, node count and way index of each piece.

    Raises
    ------
    OSMFileError
        Some way nodes are unusable and no way is left with a segment.
    """
    n_ways = len(lens)
    way_of = np.repeat(np.arange(n_ways), lens)
    first = np.zeros(len(good), dtype=bool)
    first[(np.cumsum(lens) - lens)[lens > 0]] = True
    prev_good = np.zeros(len(good), dtype=bool)
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
    return pa, plen, pway


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


def long_segments(
    issues: dict[str, Any],
    lon: np.ndarray,
    lat: np.ndarray,
    piece_start: np.ndarray,
    piece_way: np.ndarray,
) -> None:
    """Count great-circle segments longer than :data:`MAX_SEGMENT_M` into ``issues``.

    Parameters
    ----------
    issues : dict
        Receives ``max_segment_m`` and, if any are too long, ``long_segments``
        and ``long_segment_way_ids``.
    lon, lat : ndarray of float
        Coordinates of the kept pieces, concatenated.
    piece_start : ndarray of int64
        Where each piece begins in ``lon``/``lat``.
    piece_way : ndarray of int64
        OSM way id of each piece.
    """
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


def find_duplicates(nid: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids given more than once, and those whose copies differ.

    Parameters
    ----------
    nid, x, y : ndarray
        Id and libosmium coordinates of node records, in any order.

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


def raise_on_conflict(name: str, conflicts: np.ndarray | None, used: np.ndarray) -> None:
    """OSMFileError for a node gcgeo uses (street or facility) given with two locations.

    Such a file cannot be read safely: libosmium keeps one copy without saying
    which, and the wrong one makes a street hundreds of km long. Conflicting
    copies of nodes gcgeo does not use are only counted.

    Parameters
    ----------
    name : str
        The file, as named in messages.
    conflicts : ndarray, shape (k, 5), optional
        From :func:`find_duplicates`.
    used : ndarray of int64
        Ids of the nodes gcgeo uses.

    Raises
    ------
    OSMFileError
        One of ``used`` is among ``conflicts``.
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


def fill_negative_ids(
    neg: tuple[np.ndarray, np.ndarray, np.ndarray],
    refs: np.ndarray,
    xi: np.ndarray,
    yi: np.ndarray,
) -> int:
    """Put the locations of negative-id way nodes into ``xi``/``yi`` (in place).

    Parameters
    ----------
    neg : (ndarray, ndarray, ndarray)
        ``(id, x, y)`` of every negative-id node in the file.
    refs, xi, yi : ndarray of int64
        Node id and coordinates of each way node; ``xi``/``yi`` are filled in.

    Returns
    -------
    int
        The number of distinct negative-id nodes in the file.
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


def dedupe_poi_nodes(
    pois: list[tuple[str, int, float, float, dict[str, str]]], name: str
) -> list[tuple[str, int, float, float, dict[str, str]]]:
    """Keep one entry per tagged node id; raise if two copies differ in location.

    Parameters
    ----------
    pois : list of tuple
        Facility candidates ``(osm_type, id, lon, lat, tags)``.
    name : str
        The file, as named in messages.

    Returns
    -------
    list of tuple
        ``pois`` itself if no node id repeats, else a copy without the repeats.

    Raises
    ------
    OSMFileError
        A node id is given twice with different coordinates.
    """
    idx = [i for i, q in enumerate(pois) if q[0] == "n"]
    if not idx:
        return pois
    nid = np.array([pois[i][1] for i in idx], dtype=np.int64)
    if len(np.unique(nid)) == len(nid):
        return pois
    x = np.array([round(pois[i][2] * 1e7) for i in idx], dtype=np.int64)
    y = np.array([round(pois[i][3] * 1e7) for i in idx], dtype=np.int64)
    raise_on_conflict(name, find_duplicates(nid, x, y)[1], nid)
    _, first = np.unique(nid, return_index=True)
    drop = set(np.delete(np.asarray(idx), first).tolist())
    return [q for i, q in enumerate(pois) if i not in drop]
