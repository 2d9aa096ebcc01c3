"""The stored form of one network-cache entry: its files and their encoding.

An entry folder holds exactly three regular files::

    manifest.json    what the entry is (key, file hash, settings, format) and each
                     data file's size and SHA-256
    arrays.npz       numeric arrays: the network's columns, the contracted search
                     graph (:meth:`gcgeo.contract.Contraction.core`), text columns as
                     codes, geometry as WKB bytes
    tables.json      each text column's distinct values (with dtype and missing
                     values), CRSs

Nothing is ever unpickled. ``arrays.npz`` holds only numeric arrays and is read
with ``allow_pickle=False``; geometries (facilities, residential areas) are WKB
packed into one ``uint8`` buffer plus an ``int64`` offsets array; strings are
strict JSON, and every code must point into its column's values. The stored
contraction is checked (every index in range, every length finite) before a
search may use it. Every file is read with a data-only reader (:func:`read_regular`:
no symlinks, FIFOs or devices, a size limit) and checked against a fixed schema;
:func:`read_entry` raises :class:`BadEntry` naming the first check that fails.

:mod:`gcgeo.cache` decides where entries live, writes them atomically and
removes the ones that fail; this module only encodes, writes and decodes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .contract import CORE_FIELDS, Contraction
from .network import StreetNetwork

__all__ = [
    "ARRAYS_FILE",
    "DATA_FILES",
    "ENTRY_FILES",
    "FORMAT_VERSION",
    "LEGACY_FORMATS",
    "MANIFEST_FILE",
    "TABLES_FILE",
    "BadEntry",
    "Unstorable",
    "encode_frames",
    "read_entry",
    "read_json",
    "read_regular",
    "write_frames",
]

#: Bumped whenever the stored layout changes; older entries then miss.
#: 1: pickle-based (``tables.pkl``), never read again. 2: npz + JSON, no pickle.
#: 3: adds the contracted search graph; text columns as codes into a list of values.
FORMAT_VERSION = 3
#: Formats whose entries are removed on sight, without reading them, and why.
LEGACY_FORMATS = {
    1: "stored with pickle; it is never loaded",
    2: "stored without the contracted search graph",
}
_MAX_JSON_BYTES = 64 << 20
#: The entry's manifest.
MANIFEST_FILE = "manifest.json"
#: The entry's numeric arrays.
ARRAYS_FILE = "arrays.npz"
#: The entry's text columns and CRSs.
TABLES_FILE = "tables.json"
#: The files the manifest vouches for.
DATA_FILES = (ARRAYS_FILE, TABLES_FILE)
#: Every file an entry folder holds, and nothing else.
ENTRY_FILES = frozenset({MANIFEST_FILE, *DATA_FILES})
_NODE_COLS = ("osmid", "x", "y", "lon", "lat")
_EDGE_NUM_COLS = ("u", "v", "length", "way_id", "private")
_EDGE_STR_COLS = ("highway", "name", "access", "foot", "sidewalk")
_FAC_COLS = ("facility_id", "name", "category", "source")
#: ``str(dtype)`` of the text columns the cache can restore exactly.
_STRING_DTYPES = frozenset({"object", "str", "string"})
_NUMERIC_KINDS = "biuf"
#: Prefix of the contraction's arrays (:data:`gcgeo.contract.CORE_FIELDS`) in the npz.
_CON = "con_"


class BadEntry(ValueError):
    """A stored entry fails a check; the message says which."""


class Unstorable(ValueError):
    """A network or facilities frame holds something the cache format cannot store."""


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """Bytes of ``path`` if it is a regular file (no symlink, FIFO or device).

    Parameters
    ----------
    path : Path
        The file to read.
    limit : int, optional
        Refuse files larger than this many bytes.

    Returns
    -------
    bytes

    Raises
    ------
    OSError
        Missing, unreadable, not a regular file, or larger than ``limit``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    if path.is_symlink():
        raise OSError(f"{path.name} is a symbolic link")
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if limit is not None and st.st_size > limit:
            raise OSError(f"{path.name} is larger than {limit} bytes")
        return f.read() if limit is None else f.read(limit + 1)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a regular file, or ``None`` if it is absent or not one."""
    try:
        data = json.loads(read_regular(path, _MAX_JSON_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in {TABLES_FILE}")


# --- encoding ------------------------------------------------------------------------


def _crs_text(crs: Any) -> str | None:
    """The text a CRS was made from (``pyproj.CRS.srs``), which rebuilds it exactly."""
    return None if crs is None else str(crs.srs)


def _frame_crs(frame: Any, crs: str) -> pyproj.CRS:
    """A frame's own CRS, or the network's for a frame whose geometry is not built yet."""
    own = getattr(frame, "crs", None) if isinstance(frame, gpd.GeoDataFrame) else None
    return own if own is not None else pyproj.CRS.from_user_input(crs)


def _numeric(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.dtype.kind not in _NUMERIC_KINDS:
        raise Unstorable(f"column {name} has dtype {arr.dtype}, not a plain numeric array")
    return arr


def _pack_wkb(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as one ``uint8`` WKB buffer and ``int64`` offsets (a missing one is empty)."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    lengths = np.fromiter((0 if b is None else len(b) for b in wkb), np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(b for b in wkb if b is not None), dtype=np.uint8)
    return buf, offsets


def _encode_strings(name: str, series: pd.Series) -> tuple[np.ndarray, dict[str, Any]]:
    """A text column as ``int32`` codes into a JSON list of its distinct values (missing:
    ``-1``) and a record: the values, which missing ones were NaN or NA, the dtype."""
    dtype = str(series.dtype)
    if dtype not in _STRING_DTYPES:
        raise Unstorable(f"column {name} has dtype {dtype}, not a text column")
    values = series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    categories = [str(x) for x in uniques if isinstance(x, str)]
    if len(categories) != len(uniques):
        bad = next(x for x in uniques if not isinstance(x, str))
        raise Unstorable(f"column {name} holds a {type(bad).__name__}")
    nan: list[int] = []
    na: list[int] = []
    for i in np.flatnonzero(codes < 0).tolist():
        x = values[i]
        if x is None:
            pass
        elif x is pd.NA:
            na.append(i)
        elif isinstance(x, float) and math.isnan(x):
            nan.append(i)
        else:
            raise Unstorable(f"column {name} holds a {type(x).__name__} at row {i}")
    record = {"dtype": dtype, "categories": categories, "nan": nan, "na": na}
    return codes.astype(np.int32), record


def encode_frames(
    net: StreetNetwork, facilities: gpd.GeoDataFrame
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split a network and facilities into npz arrays and a JSON-able table document.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        Text columns ``facility_id``, ``name``, ``category``, ``source`` and any geometry.

    Returns
    -------
    arrays : dict of str to ndarray
        Plain numeric 1-D arrays (for :func:`write_frames`).
    tables : dict
        Text columns and CRSs, JSON-able without NaN.

    Raises
    ------
    Unstorable
        A column holds something this format cannot restore exactly.
    """
    arrays: dict[str, np.ndarray] = {}
    nodes, edges = net.node_table, net.edge_table  # the columns: no geometry is needed
    for c in _NODE_COLS:
        arrays[f"nodes_{c}"] = _numeric(f"nodes.{c}", nodes[c].to_numpy())
    for c in _EDGE_NUM_COLS:
        arrays[f"edges_{c}"] = _numeric(f"edges.{c}", edges[c].to_numpy())
    text: dict[str, dict[str, Any]] = {"edges": {}, "facilities": {}}
    for part, prefix, frame, cols in (
        ("edges", "edges", edges, _EDGE_STR_COLS),
        ("facilities", "fac", facilities, _FAC_COLS),
    ):
        for c in cols:
            arrays[f"{prefix}_{c}_codes"], text[part][c] = _encode_strings(f"{part}.{c}", frame[c])
    # the level graph's contraction: a search needs it, and building it costs ~0.1 s
    # per 100k nodes that a cache hit then saves (with a DEM the costs come on top later)
    for f, a in net.level.contraction.core().items():
        arrays[_CON + f] = a
    arrays["fac_wkb"], arrays["fac_wkb_offsets"] = _pack_wkb(facilities.geometry.array)
    residential = None
    if net.residential is not None:
        arrays["res_wkb"], arrays["res_wkb_offsets"] = _pack_wkb(net.residential.array)
        residential = {"crs": _crs_text(net.residential.crs)}
    tables: dict[str, Any] = {
        "nodes": {"crs": _crs_text(_frame_crs(nodes, net.crs))},
        "edges": {"crs": _crs_text(_frame_crs(edges, net.crs)), "columns": text["edges"]},
        "facilities": {"crs": _crs_text(facilities.crs), "columns": text["facilities"]},
        "residential": residential,
    }
    return arrays, tables


def write_frames(folder: Path, arrays: dict[str, np.ndarray], tables: dict[str, Any]) -> None:
    """Write the two data files of an entry into ``folder``.

    Parameters
    ----------
    folder : Path
        The (temporary) entry folder.
    arrays, tables
        From :func:`encode_frames`.
    """
    np.savez(folder / ARRAYS_FILE, **arrays)  # all numeric: checked by encode_frames
    (folder / TABLES_FILE).write_text(
        json.dumps(tables, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )


# --- decoding ------------------------------------------------------------------------


def _check_manifest(
    manifest: dict[str, Any] | None, key: str, digest: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """The manifest if it describes this key, file, settings and format; else ``BadEntry``."""
    if manifest is None:
        raise BadEntry("manifest missing or unreadable")
    fmt = manifest.get("format")
    if fmt != FORMAT_VERSION:
        raise BadEntry(f"manifest format {fmt!r}, expected {FORMAT_VERSION}")
    if (
        manifest.get("key") != key
        or manifest.get("osm_sha256") != digest
        or manifest.get("settings") != settings
    ):
        raise BadEntry("manifest does not match the file or settings")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(DATA_FILES):
        names = sorted(files) if isinstance(files, dict) else files
        raise BadEntry(f"manifest lists files {names!r}, expected {sorted(DATA_FILES)}")
    for name in DATA_FILES:
        rec = files[name]
        if not (
            isinstance(rec, dict)
            and type(rec.get("bytes")) is int
            and isinstance(rec.get("sha256"), str)
        ):
            raise BadEntry(f"manifest record of {name} is malformed")
    if not isinstance(manifest.get("crs"), str):
        raise BadEntry("manifest crs is not a string")
    for field in ("report", "osm_summary"):
        if not isinstance(manifest.get(field), dict):
            raise BadEntry(f"manifest {field} is not an object")
    return manifest


def _read_checked(entry: Path, name: str, rec: dict[str, Any]) -> bytes:
    """A data file's bytes, verified against its manifest record (size and SHA-256)."""
    try:
        data = read_regular(entry / name, rec["bytes"])
    except OSError as exc:
        raise BadEntry(f"{name} fails its checksum ({exc})") from None
    if len(data) != rec["bytes"] or hashlib.sha256(data).hexdigest() != rec["sha256"]:
        raise BadEntry(f"{name} fails its checksum")
    return data


def _load_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` archive; object arrays (pickles) are refused by numpy."""
    if not data.startswith(b"PK\x03\x04"):
        raise BadEntry(f"{ARRAYS_FILE} is not an .npz archive")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise BadEntry(f"{ARRAYS_FILE} is not an .npz archive")
        arrays = {k: z[k] for k in z.files}
    for k, a in arrays.items():
        if a.ndim != 1 or a.dtype.kind not in _NUMERIC_KINDS or a.dtype.hasobject:
            raise BadEntry(f"{ARRAYS_FILE}: {k} is not a 1-D numeric array")
    return arrays


def _load_tables(data: bytes) -> dict[str, Any]:
    """The table document: strict JSON (no NaN/Infinity), an object at the top."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise BadEntry(f"{TABLES_FILE} is nested too deeply") from None
    except ValueError as exc:
        raise BadEntry(f"{TABLES_FILE} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise BadEntry(f"{TABLES_FILE} is not a JSON object")
    return doc


def _get(doc: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(doc, dict) or key not in doc or not isinstance(doc[key], kind):
        raise BadEntry(f"{where}.{key} is missing or malformed")
    return doc[key]


def _same_crs(text: str | None, crs: Any) -> bool:
    """Whether a stored CRS text names the network's CRS (unreadable text: no)."""
    if text is None or not isinstance(crs, str):
        return False
    try:
        return pyproj.CRS.from_user_input(text) == pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return False


def _crs_field(doc: Any, where: str) -> str | None:
    if not isinstance(doc, dict) or "crs" not in doc or not isinstance(doc["crs"], str | None):
        raise BadEntry(f"{where}.crs is missing or malformed")
    return doc["crs"]


def _decode_strings(rec: Any, codes: np.ndarray, n: int, where: str) -> pd.Series:
    """A text column from its codes and JSON record, with its dtype and each missing
    value's kind."""
    if not isinstance(rec, dict) or set(rec) != {"dtype", "categories", "nan", "na"}:
        raise BadEntry(f"{where} is malformed")
    dtype, categories, nan, na = rec["dtype"], rec["categories"], rec["nan"], rec["na"]
    if dtype not in _STRING_DTYPES:
        raise BadEntry(f"{where} has dtype {dtype!r}")
    if not isinstance(categories, list) or not all(isinstance(v, str) for v in categories):
        raise BadEntry(f"{where} holds values that are not text")
    if codes.dtype.kind not in "iu" or codes.size != n:
        raise BadEntry(f"{where} does not hold {n} codes")
    if n and (codes.min() < -1 or codes.max() >= len(categories)):
        raise BadEntry(f"{where} has codes outside its {len(categories)} values")
    lookup = np.empty(len(categories) + 1, dtype=object)
    lookup[:-1] = categories
    lookup[-1] = None  # code -1
    arr = lookup[codes]
    for idx, fill in ((nan, np.nan), (na, pd.NA)):
        if not isinstance(idx, list) or not all(type(i) is int and 0 <= i < n for i in idx):
            raise BadEntry(f"{where} has malformed missing-value positions")
        pos = np.asarray(idx, dtype=np.int64)
        if np.any(codes[pos] != -1):
            raise BadEntry(f"{where} has malformed missing-value positions")
        arr[pos] = fill
    out = pd.Series(arr, dtype=pd.api.types.pandas_dtype(dtype))
    if str(out.dtype) != dtype:
        raise BadEntry(f"{where} restores as dtype {out.dtype}, not {dtype}")
    return out


def _unpack_wkb(buf: np.ndarray, offsets: np.ndarray, where: str) -> np.ndarray:
    """Geometries from a WKB buffer and offsets (an empty slice is a missing geometry)."""
    if buf.dtype != np.uint8 or offsets.dtype.kind not in "iu" or offsets.size < 1:
        raise BadEntry(f"{where}: WKB buffer or offsets have the wrong dtype")
    if offsets[0] != 0 or offsets[-1] != buf.size or np.any(np.diff(offsets) < 0):
        raise BadEntry(f"{where}: WKB offsets do not partition the buffer")
    raw = buf.tobytes()
    items = np.empty(offsets.size - 1, dtype=object)
    items[:] = [
        raw[a:b] if b > a else None for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())
    ]
    return shapely.from_wkb(items)


def _rebuild(
    arrays: dict[str, np.ndarray], tables: dict[str, Any], manifest: dict[str, Any]
) -> tuple[StreetNetwork, gpd.GeoDataFrame]:
    """Network and facilities from checked-shape arrays and tables; ``BadEntry`` if off."""
    res_doc = tables.get("residential")
    if res_doc is not None and not isinstance(res_doc, dict):
        raise BadEntry(f"{TABLES_FILE}: residential is malformed")
    expected = {f"nodes_{c}" for c in _NODE_COLS} | {f"edges_{c}" for c in _EDGE_NUM_COLS}
    expected |= {"fac_wkb", "fac_wkb_offsets"} | {_CON + f for f in CORE_FIELDS}
    expected |= {f"edges_{c}_codes" for c in _EDGE_STR_COLS}
    expected |= {f"fac_{c}_codes" for c in _FAC_COLS}
    if res_doc is not None:
        expected |= {"res_wkb", "res_wkb_offsets"}
    if set(arrays) != expected:
        raise BadEntry(f"{ARRAYS_FILE} holds {sorted(arrays)}, expected {sorted(expected)}")
    n, m = arrays["nodes_x"].size, arrays["edges_u"].size
    for prefix, cols, size in (("nodes", _NODE_COLS, n), ("edges", _EDGE_NUM_COLS, m)):
        for c in cols:
            if arrays[f"{prefix}_{c}"].size != size:
                raise BadEntry(f"{ARRAYS_FILE}: {prefix}_{c} has the wrong length")
    u, v = arrays["edges_u"], arrays["edges_v"]
    for name, idx in (("edges_u", u), ("edges_v", v)):
        if idx.dtype.kind not in "iu" or (m and (idx.min() < 0 or idx.max() >= n)):
            raise BadEntry(f"{ARRAYS_FILE}: {name} does not index the nodes")

    nodes_crs = _crs_field(_get(tables, "nodes", dict, TABLES_FILE), "nodes")
    edges_doc = _get(tables, "edges", dict, TABLES_FILE)
    fac_doc = _get(tables, "facilities", dict, TABLES_FILE)
    edge_str = _get(edges_doc, "columns", dict, "edges")
    fac_str = _get(fac_doc, "columns", dict, "facilities")
    if set(edge_str) != set(_EDGE_STR_COLS) or set(fac_str) != set(_FAC_COLS):
        raise BadEntry(f"{TABLES_FILE} lists the wrong text columns")

    edges_crs = _crs_field(edges_doc, "edges")
    if not (_same_crs(nodes_crs, manifest["crs"]) and _same_crs(edges_crs, manifest["crs"])):
        raise BadEntry(f"{TABLES_FILE}: the nodes' or edges' CRS is not the network's")
    # plain frames: the network builds their geometries only if they are asked for
    nodes = pd.DataFrame({c: arrays[f"nodes_{c}"] for c in _NODE_COLS})
    cols: dict[str, Any] = {
        "u": u,
        "v": v,
        "length": arrays["edges_length"],
        "way_id": arrays["edges_way_id"],
    }
    for c in _EDGE_STR_COLS:
        cols[c] = _decode_strings(edge_str[c], arrays[f"edges_{c}_codes"], m, f"edges.{c}")
    cols["private"] = arrays["edges_private"]
    edges = pd.DataFrame(cols)
    residential = None
    if res_doc is not None:
        geoms = _unpack_wkb(arrays["res_wkb"], arrays["res_wkb_offsets"], "residential")
        residential = gpd.GeoSeries(geoms, crs=_crs_field(res_doc, "residential"))
    core = {f: arrays[_CON + f] for f in CORE_FIELDS}
    try:
        contraction = Contraction.from_core(n, m, core)
    except ValueError as exc:
        raise BadEntry(f"{ARRAYS_FILE}: {exc}") from None
    net = StreetNetwork(
        nodes=nodes,
        edges=edges,
        crs=manifest["crs"],
        report=dict(manifest["report"]),
        residential=residential,
        contraction=contraction,
    )
    fac_geoms = _unpack_wkb(arrays["fac_wkb"], arrays["fac_wkb_offsets"], "facilities")
    k = fac_geoms.size
    fac = gpd.GeoDataFrame(
        {
            c: _decode_strings(fac_str[c], arrays[f"fac_{c}_codes"], k, f"facilities.{c}")
            for c in _FAC_COLS
        },
        geometry=fac_geoms,
        crs=_crs_field(fac_doc, "facilities"),
    )
    return net, fac


def read_entry(
    entry: Path, key: str, digest: str, settings: dict[str, Any]
) -> tuple[StreetNetwork, gpd.GeoDataFrame, dict[str, Any]]:
    """Check and decode one entry folder; ``BadEntry`` (or any error) if it is unusable.

    Parameters
    ----------
    entry : Path
        The entry folder.
    key, digest : str
        The entry key and the OSM file's SHA-256 the manifest must name.
    settings : dict
        The settings the manifest must name.

    Returns
    -------
    network : StreetNetwork
    facilities : GeoDataFrame
    manifest : dict
        The checked manifest.

    Raises
    ------
    BadEntry
        A check failed; the message says which. Decoding errors of the
        libraries underneath (zip, GEOS ...) are not wrapped.
    """
    if entry.is_symlink() or not entry.is_dir():
        raise BadEntry("not a folder")
    names = set(os.listdir(entry))
    if "tables.pkl" in names:
        raise BadEntry("it holds tables.pkl, a pickle from an older gcgeo; it is never loaded")
    if names != ENTRY_FILES:
        missing, extra = sorted(ENTRY_FILES - names), sorted(names - ENTRY_FILES)
        raise BadEntry(f"files missing {missing}, unexpected {extra}")
    manifest = _check_manifest(read_json(entry / MANIFEST_FILE), key, digest, settings)
    blobs = {name: _read_checked(entry, name, manifest["files"][name]) for name in DATA_FILES}
    arrays = _load_arrays(blobs[ARRAYS_FILE])
    tables = _load_tables(blobs[TABLES_FILE])
    net, fac = _rebuild(arrays, tables, manifest)
    return net, fac, manifest
