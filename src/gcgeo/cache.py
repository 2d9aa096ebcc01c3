"""On-disk cache of built street networks and fetched OSM files.

Layout under the cache folder (``--cache DIR``, else ``$GCGEO_CACHE_DIR``, else
the platform's user cache folder, e.g. ``~/.cache/gcgeo``)::

    osm/<name>.osm, osm/<name>.json      files written by ``gcgeo fetch``
    networks/<key>/manifest.json         what the entry is, with checksums
    networks/<key>/arrays.npz            numeric arrays and geometry as WKB bytes
    networks/<key>/tables.json           string columns (with dtype and missing values), CRSs

An entry's key is the SHA-256 of the OSM file's *content* together with every
setting that changes the result (private ways, CRS, clip, catalogue content,
gcgeo version, storage format), so a renamed copy of a file hits and any change
misses. The content is hashed on every call: there is no (size, mtime)
shortcut, so an edit that keeps both (``touch -r``) still misses.

Nothing in the cache is ever unpickled. ``arrays.npz`` holds only numeric arrays
and is read with ``allow_pickle=False``; geometries (facilities, residential
areas) are WKB packed into one ``uint8`` buffer plus an ``int64`` offsets array;
strings are JSON. Anyone who can write to the cache folder can also rewrite the
manifest's checksums, so those only catch accidental damage: what keeps a
hostile entry harmless is that every file is parsed by a data-only reader and
checked against a fixed schema. An entry that fails any check -- a pickle from
an older gcgeo (``tables.pkl``), an unexpected, missing or non-regular file, a
manifest naming other files, malformed JSON, an object array, wrong shapes -- is
removed with a :class:`CacheWarning` and rebuilt by the caller.

Each entry is written to a temporary folder and renamed into place.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import math
import os
import shutil
import stat
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import __version__
from ._errors import GcgeoWarning, InputError
from .catalogue import Catalogue
from .network import StreetNetwork

__all__ = [
    "CACHE_ENV",
    "FORMAT_VERSION",
    "CacheEntry",
    "CacheWarning",
    "cache_key",
    "catalogue_hash",
    "clear_cache",
    "default_cache_dir",
    "file_sha256",
    "list_cache",
    "load_study_entry",
    "resolve_cache_dir",
    "store_study_entry",
    "study_settings",
]

#: Environment variable naming the cache folder.
CACHE_ENV = "GCGEO_CACHE_DIR"
#: Bumped whenever the stored layout changes; older entries then miss.
#: 1: pickle-based (``tables.pkl``), never read again. 2: npz + JSON, no pickle.
FORMAT_VERSION = 2
#: Formats whose entries are removed on sight, without reading them.
_LEGACY_FORMATS = (1,)
_CHUNK = 1 << 20
_MAX_JSON_BYTES = 64 << 20
_MANIFEST = "manifest.json"
_ARRAYS = "arrays.npz"
_TABLES = "tables.json"
_DATA_FILES = (_ARRAYS, _TABLES)
_ENTRY_FILES = frozenset({_MANIFEST, *_DATA_FILES})
_NODE_COLS = ("osmid", "x", "y", "lon", "lat")
_EDGE_NUM_COLS = ("u", "v", "length", "way_id", "private")
_EDGE_STR_COLS = ("highway", "name", "access", "foot", "sidewalk")
_FAC_COLS = ("facility_id", "name", "category", "source")
#: ``str(dtype)`` of the text columns the cache can restore exactly.
_STRING_DTYPES = frozenset({"object", "str", "string"})
_NUMERIC_KINDS = "biuf"


class CacheWarning(GcgeoWarning):
    """A cache entry was unusable (and is rebuilt) or could not be written."""


class _BadEntry(ValueError):
    """A stored entry fails a check; the message says which."""


class _Unstorable(ValueError):
    """A network or facilities frame holds something the cache format cannot store."""


def default_cache_dir() -> Path:
    """``$GCGEO_CACHE_DIR`` if set, else the platform user cache folder for gcgeo."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("gcgeo"))


def resolve_cache_dir(cache: str | os.PathLike | bool | None) -> Path | None:
    """Turn a ``cache`` argument into a folder, or ``None`` when caching is off.

    ``None``/``False`` → off; ``True`` → :func:`default_cache_dir`; a path → that path.
    """
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    p = Path(cache).expanduser()
    if p.exists() and not p.is_dir():
        raise InputError(f"Cache path {str(p)!r} is a file; pass a folder to --cache.")
    return p


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, streamed in 1 MiB chunks.

    Parameters
    ----------
    path : path-like
        The file to hash.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def _read_regular(path: Path, limit: int | None = None) -> bytes:
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


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a regular file, or ``None`` if it is absent or not one."""
    try:
        data = json.loads(_read_regular(path, _MAX_JSON_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in {_TABLES}")


def catalogue_hash(catalogue: Catalogue) -> str:
    """SHA-256 of a catalogue's content (categories, rules, tiers, speed), not its path."""
    text = repr((sorted(catalogue.categories.items()), sorted(catalogue.tiers.items())))
    text += repr(catalogue.walk_speed_mps)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def study_settings(
    catalogue: Catalogue,
    include_private: bool,
    crs: str | None,
    clip: Any,
) -> dict[str, Any]:
    """Every setting that changes a built network or its OSM facilities."""
    if clip is None:
        clip_id = None
    elif isinstance(clip, shapely.Geometry):
        clip_id = hashlib.sha256(shapely.to_wkb(clip, hex=False)).hexdigest()[:16]
    else:
        clip_id = ",".join(f"{float(v):.9f}" for v in clip)
    return {
        "include_private": bool(include_private),
        "crs": crs or "auto",
        "clip": clip_id,
        "catalogue": catalogue_hash(catalogue)[:16],
        "gcgeo": __version__,
        "format": FORMAT_VERSION,
    }


def cache_key(osm_sha256: str, settings: dict[str, Any]) -> str:
    """Entry key: hash of the file content hash and the settings."""
    blob = json.dumps({"osm": osm_sha256, "settings": settings}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


@dataclass
class CacheEntry:
    """A built network and the OSM file's facilities, as stored in the cache."""

    network: StreetNetwork
    facilities: gpd.GeoDataFrame
    osm_summary: dict[str, Any]
    manifest: dict[str, Any]


def _entry_dir(root: Path, key: str) -> Path:
    return root / "networks" / key


# --- encoding ------------------------------------------------------------------------


def _crs_text(crs: Any) -> str | None:
    """The text a CRS was made from (``pyproj.CRS.srs``), which rebuilds it exactly."""
    return None if crs is None else str(crs.srs)


def _numeric(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.dtype.kind not in _NUMERIC_KINDS:
        raise _Unstorable(f"column {name} has dtype {arr.dtype}, not a plain numeric array")
    return arr


def _pack_wkb(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """Geometries as one ``uint8`` WKB buffer and ``int64`` offsets (a missing one is empty)."""
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    lengths = np.fromiter((0 if b is None else len(b) for b in wkb), np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    buf = np.frombuffer(b"".join(b for b in wkb if b is not None), dtype=np.uint8)
    return buf, offsets


def _encode_strings(name: str, series: pd.Series) -> dict[str, Any]:
    """A text column as JSON: values (missing → null), which nulls were NaN or NA, dtype."""
    dtype = str(series.dtype)
    if dtype not in _STRING_DTYPES:
        raise _Unstorable(f"column {name} has dtype {dtype}, not a text column")
    values: list[str | None] = []
    nan: list[int] = []
    na: list[int] = []
    for i, x in enumerate(series.to_numpy(dtype=object)):
        if isinstance(x, str):
            values.append(str(x))
            continue
        values.append(None)
        if x is None:
            pass
        elif x is pd.NA:
            na.append(i)
        elif isinstance(x, float) and math.isnan(x):
            nan.append(i)
        else:
            raise _Unstorable(f"column {name} holds a {type(x).__name__} at row {i}")
    return {"dtype": dtype, "values": values, "nan": nan, "na": na}


def _to_frame_parts(
    net: StreetNetwork, facilities: gpd.GeoDataFrame
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Split a network and facilities into npz arrays and a JSON-able table document."""
    arrays: dict[str, np.ndarray] = {}
    for c in _NODE_COLS:
        arrays[f"nodes_{c}"] = _numeric(f"nodes.{c}", net.nodes[c].to_numpy())
    for c in _EDGE_NUM_COLS:
        arrays[f"edges_{c}"] = _numeric(f"edges.{c}", net.edges[c].to_numpy())
    arrays["fac_wkb"], arrays["fac_wkb_offsets"] = _pack_wkb(facilities.geometry.array)
    residential = None
    if net.residential is not None:
        arrays["res_wkb"], arrays["res_wkb_offsets"] = _pack_wkb(net.residential.array)
        residential = {"crs": _crs_text(net.residential.crs)}
    tables: dict[str, Any] = {
        "nodes": {"crs": _crs_text(net.nodes.crs)},
        "edges": {
            "crs": _crs_text(net.edges.crs),
            "columns": {c: _encode_strings(f"edges.{c}", net.edges[c]) for c in _EDGE_STR_COLS},
        },
        "facilities": {
            "crs": _crs_text(facilities.crs),
            "columns": {c: _encode_strings(f"facilities.{c}", facilities[c]) for c in _FAC_COLS},
        },
        "residential": residential,
    }
    return arrays, tables


def store_study_entry(
    root: str | os.PathLike,
    osm_path: str | os.PathLike,
    settings: dict[str, Any],
    network: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    osm_summary: dict[str, Any],
) -> Path | None:
    """Store a built network and facilities; return the entry folder (None if it failed).

    Parameters
    ----------
    root : path-like
        Cache folder.
    osm_path : path-like
        The OSM file the network was built from; its content is hashed for the key.
    settings : dict
        From :func:`study_settings`.
    network : StreetNetwork
    facilities : GeoDataFrame
        The OSM file's facilities (text columns ``facility_id``, ``name``,
        ``category``, ``source`` and any geometry).
    osm_summary : dict
        Kept in the manifest (JSON).

    Returns
    -------
    Path or None
        The entry folder, or ``None`` when writing failed. Writing is best effort:
        a failure (disk full, read-only folder, a column the format cannot store
        exactly) only warns with a :class:`CacheWarning`.
    """
    root = Path(root)
    osm_path = Path(osm_path)
    try:
        arrays, tables = _to_frame_parts(network, facilities)
        digest = file_sha256(osm_path)
        key = cache_key(digest, settings)
        final = _entry_dir(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            np.savez(tmp / _ARRAYS, **arrays)  # all numeric: checked by _to_frame_parts
            (tmp / _TABLES).write_text(
                json.dumps(tables, ensure_ascii=False, allow_nan=False), encoding="utf-8"
            )
            files = {
                name: {"sha256": file_sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                for name in _DATA_FILES
            }
            manifest = {
                "key": key,
                "format": FORMAT_VERSION,
                "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "osm_file": str(osm_path.resolve()),
                "osm_sha256": digest,
                "osm_bytes": osm_path.stat().st_size,
                "settings": settings,
                "crs": network.crs,
                "report": network.report,
                "osm_summary": osm_summary,
                "files": files,
            }
            (tmp / _MANIFEST).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
            _remove(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, _Unstorable) as exc:
        warnings.warn(
            f"Could not write the network cache in {str(root)!r} ({exc}); continuing without it.",
            CacheWarning,
            stacklevel=2,
        )
        return None
    return final


# --- reading -------------------------------------------------------------------------


def _remove(path: Path) -> None:
    """Delete an entry folder, or a file or symlink in its place (never what a link targets)."""
    if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
        with contextlib.suppress(OSError):
            path.unlink()
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _drop(entry: Path, why: str) -> None:
    warnings.warn(
        f"Network cache entry {entry.name} is unusable ({why}); rebuilding it from the OSM file.",
        CacheWarning,
        stacklevel=3,
    )
    _remove(entry)


def _check_manifest(
    manifest: dict[str, Any] | None, key: str, digest: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """The manifest if it describes this key, file, settings and format; else ``_BadEntry``."""
    if manifest is None:
        raise _BadEntry("manifest missing or unreadable")
    fmt = manifest.get("format")
    if fmt != FORMAT_VERSION:
        raise _BadEntry(f"manifest format {fmt!r}, expected {FORMAT_VERSION}")
    if (
        manifest.get("key") != key
        or manifest.get("osm_sha256") != digest
        or manifest.get("settings") != settings
    ):
        raise _BadEntry("manifest does not match the file or settings")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(_DATA_FILES):
        names = sorted(files) if isinstance(files, dict) else files
        raise _BadEntry(f"manifest lists files {names!r}, expected {sorted(_DATA_FILES)}")
    for name in _DATA_FILES:
        rec = files[name]
        if not (
            isinstance(rec, dict)
            and type(rec.get("bytes")) is int
            and isinstance(rec.get("sha256"), str)
        ):
            raise _BadEntry(f"manifest record of {name} is malformed")
    if not isinstance(manifest.get("crs"), str):
        raise _BadEntry("manifest crs is not a string")
    for field in ("report", "osm_summary"):
        if not isinstance(manifest.get(field), dict):
            raise _BadEntry(f"manifest {field} is not an object")
    return manifest


def _read_checked(entry: Path, name: str, rec: dict[str, Any]) -> bytes:
    """A data file's bytes, verified against its manifest record (size and SHA-256)."""
    try:
        data = _read_regular(entry / name, rec["bytes"])
    except OSError as exc:
        raise _BadEntry(f"{name} fails its checksum ({exc})") from None
    if len(data) != rec["bytes"] or hashlib.sha256(data).hexdigest() != rec["sha256"]:
        raise _BadEntry(f"{name} fails its checksum")
    return data


def _load_arrays(data: bytes) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` archive; object arrays (pickles) are refused by numpy."""
    if not data.startswith(b"PK\x03\x04"):
        raise _BadEntry(f"{_ARRAYS} is not an .npz archive")
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise _BadEntry(f"{_ARRAYS} is not an .npz archive")
        arrays = {k: z[k] for k in z.files}
    for k, a in arrays.items():
        if a.ndim != 1 or a.dtype.kind not in _NUMERIC_KINDS or a.dtype.hasobject:
            raise _BadEntry(f"{_ARRAYS}: {k} is not a 1-D numeric array")
    return arrays


def _load_tables(data: bytes) -> dict[str, Any]:
    """The table document: strict JSON (no NaN/Infinity), an object at the top."""
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise _BadEntry(f"{_TABLES} is nested too deeply") from None
    except ValueError as exc:
        raise _BadEntry(f"{_TABLES} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _BadEntry(f"{_TABLES} is not a JSON object")
    return doc


def _get(doc: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(doc, dict) or key not in doc or not isinstance(doc[key], kind):
        raise _BadEntry(f"{where}.{key} is missing or malformed")
    return doc[key]


def _crs_field(doc: Any, where: str) -> str | None:
    if not isinstance(doc, dict) or "crs" not in doc or not isinstance(doc["crs"], str | None):
        raise _BadEntry(f"{where}.crs is missing or malformed")
    return doc["crs"]


def _decode_strings(rec: Any, n: int, where: str) -> pd.Series:
    """A text column from its JSON record, with its dtype and each missing value's kind."""
    if not isinstance(rec, dict) or set(rec) != {"dtype", "values", "nan", "na"}:
        raise _BadEntry(f"{where} is malformed")
    dtype, values, nan, na = rec["dtype"], rec["values"], rec["nan"], rec["na"]
    if dtype not in _STRING_DTYPES:
        raise _BadEntry(f"{where} has dtype {dtype!r}")
    if not isinstance(values, list) or len(values) != n:
        raise _BadEntry(f"{where} does not hold {n} values")
    if not all(v is None or isinstance(v, str) for v in values):
        raise _BadEntry(f"{where} holds values that are neither text nor null")
    arr = np.empty(n, dtype=object)
    arr[:] = values
    for idx, fill in ((nan, np.nan), (na, pd.NA)):
        if not isinstance(idx, list) or not all(
            type(i) is int and 0 <= i < n and values[i] is None for i in idx
        ):
            raise _BadEntry(f"{where} has malformed missing-value positions")
        for i in idx:
            arr[i] = fill
    out = pd.Series(arr, dtype=pd.api.types.pandas_dtype(dtype))
    if str(out.dtype) != dtype:
        raise _BadEntry(f"{where} restores as dtype {out.dtype}, not {dtype}")
    return out


def _unpack_wkb(buf: np.ndarray, offsets: np.ndarray, where: str) -> np.ndarray:
    """Geometries from a WKB buffer and offsets (an empty slice is a missing geometry)."""
    if buf.dtype != np.uint8 or offsets.dtype.kind not in "iu" or offsets.size < 1:
        raise _BadEntry(f"{where}: WKB buffer or offsets have the wrong dtype")
    if offsets[0] != 0 or offsets[-1] != buf.size or np.any(np.diff(offsets) < 0):
        raise _BadEntry(f"{where}: WKB offsets do not partition the buffer")
    raw = buf.tobytes()
    items = np.empty(offsets.size - 1, dtype=object)
    items[:] = [
        raw[a:b] if b > a else None for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())
    ]
    return shapely.from_wkb(items)


def _rebuild(
    arrays: dict[str, np.ndarray], tables: dict[str, Any], manifest: dict[str, Any]
) -> tuple[StreetNetwork, gpd.GeoDataFrame]:
    """Network and facilities from checked-shape arrays and tables; ``_BadEntry`` if off."""
    res_doc = tables.get("residential")
    if res_doc is not None and not isinstance(res_doc, dict):
        raise _BadEntry(f"{_TABLES}: residential is malformed")
    expected = {f"nodes_{c}" for c in _NODE_COLS} | {f"edges_{c}" for c in _EDGE_NUM_COLS}
    expected |= {"fac_wkb", "fac_wkb_offsets"}
    if res_doc is not None:
        expected |= {"res_wkb", "res_wkb_offsets"}
    if set(arrays) != expected:
        raise _BadEntry(f"{_ARRAYS} holds {sorted(arrays)}, expected {sorted(expected)}")
    n, m = arrays["nodes_x"].size, arrays["edges_u"].size
    for prefix, cols, size in (("nodes", _NODE_COLS, n), ("edges", _EDGE_NUM_COLS, m)):
        for c in cols:
            if arrays[f"{prefix}_{c}"].size != size:
                raise _BadEntry(f"{_ARRAYS}: {prefix}_{c} has the wrong length")
    u, v = arrays["edges_u"], arrays["edges_v"]
    for name, idx in (("edges_u", u), ("edges_v", v)):
        if idx.dtype.kind not in "iu" or (m and (idx.min() < 0 or idx.max() >= n)):
            raise _BadEntry(f"{_ARRAYS}: {name} does not index the nodes")

    nodes_crs = _crs_field(_get(tables, "nodes", dict, _TABLES), "nodes")
    edges_doc = _get(tables, "edges", dict, _TABLES)
    fac_doc = _get(tables, "facilities", dict, _TABLES)
    edge_str = _get(edges_doc, "columns", dict, "edges")
    fac_str = _get(fac_doc, "columns", dict, "facilities")
    if set(edge_str) != set(_EDGE_STR_COLS) or set(fac_str) != set(_FAC_COLS):
        raise _BadEntry(f"{_TABLES} lists the wrong text columns")

    x, y = arrays["nodes_x"], arrays["nodes_y"]
    nodes = gpd.GeoDataFrame(
        {c: arrays[f"nodes_{c}"] for c in _NODE_COLS}, geometry=shapely.points(x, y), crs=nodes_crs
    )
    coords = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    cols: dict[str, Any] = {
        "u": u,
        "v": v,
        "length": arrays["edges_length"],
        "way_id": arrays["edges_way_id"],
    }
    for c in _EDGE_STR_COLS:
        cols[c] = _decode_strings(edge_str[c], m, f"edges.{c}")
    cols["private"] = arrays["edges_private"]
    edges = gpd.GeoDataFrame(
        cols, geometry=shapely.linestrings(coords), crs=_crs_field(edges_doc, "edges")
    )
    residential = None
    if res_doc is not None:
        geoms = _unpack_wkb(arrays["res_wkb"], arrays["res_wkb_offsets"], "residential")
        residential = gpd.GeoSeries(geoms, crs=_crs_field(res_doc, "residential"))
    net = StreetNetwork(
        nodes=nodes,
        edges=edges,
        crs=manifest["crs"],
        report=dict(manifest["report"]),
        residential=residential,
    )
    fac_geoms = _unpack_wkb(arrays["fac_wkb"], arrays["fac_wkb_offsets"], "facilities")
    k = fac_geoms.size
    fac = gpd.GeoDataFrame(
        {c: _decode_strings(fac_str[c], k, f"facilities.{c}") for c in _FAC_COLS},
        geometry=fac_geoms,
        crs=_crs_field(fac_doc, "facilities"),
    )
    return net, fac


def _read_entry(
    entry: Path, key: str, digest: str, settings: dict[str, Any]
) -> tuple[StreetNetwork, gpd.GeoDataFrame, dict[str, Any]]:
    """Check and decode one entry folder; ``_BadEntry`` (or any error) if it is unusable."""
    if entry.is_symlink() or not entry.is_dir():
        raise _BadEntry("not a folder")
    names = set(os.listdir(entry))
    if "tables.pkl" in names:
        raise _BadEntry("it holds tables.pkl, a pickle from an older gcgeo; it is never loaded")
    if names != _ENTRY_FILES:
        missing, extra = sorted(_ENTRY_FILES - names), sorted(names - _ENTRY_FILES)
        raise _BadEntry(f"files missing {missing}, unexpected {extra}")
    manifest = _check_manifest(_read_json(entry / _MANIFEST), key, digest, settings)
    blobs = {name: _read_checked(entry, name, manifest["files"][name]) for name in _DATA_FILES}
    arrays = _load_arrays(blobs[_ARRAYS])
    tables = _load_tables(blobs[_TABLES])
    net, fac = _rebuild(arrays, tables, manifest)
    return net, fac, manifest


def load_study_entry(
    root: str | os.PathLike, osm_path: str | os.PathLike, settings: dict[str, Any]
) -> CacheEntry | None:
    """Load the entry for this file's content and settings, or ``None`` on a miss.

    Parameters
    ----------
    root : path-like
        Cache folder.
    osm_path : path-like
        The OSM file; its content is hashed on every call.
    settings : dict
        From :func:`study_settings`.

    Returns
    -------
    CacheEntry or None
        ``None`` on a miss. An unusable entry -- corrupt, truncated, hostile, or
        from the older pickle-based format -- is removed with a
        :class:`CacheWarning` and reported as a miss; nothing in it is executed.
    """
    root = Path(root)
    try:
        digest = file_sha256(osm_path)
    except OSError:
        return None
    key = cache_key(digest, settings)
    entry = _entry_dir(root, key)
    for fmt in _LEGACY_FORMATS:
        old = _entry_dir(root, cache_key(digest, {**settings, "format": fmt}))
        if old != entry and os.path.lexists(old):
            _drop(old, f"format {fmt} from an older gcgeo, stored with pickle; it is never loaded")
    if not os.path.lexists(entry):
        return None
    try:
        net, fac, manifest = _read_entry(entry, key, digest, settings)
    except _BadEntry as exc:
        _drop(entry, str(exc))
        return None
    except Exception as exc:  # any decoding failure means a bad entry, never fatal
        _drop(entry, f"{type(exc).__name__}: {exc}")
        return None
    return CacheEntry(net, fac, dict(manifest["osm_summary"]), manifest)


# --- listing and clearing ------------------------------------------------------------


def _dir_bytes(p: Path) -> int:
    if p.is_symlink() or not p.is_dir():
        return p.lstat().st_size
    return sum(f.lstat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def list_cache(root: str | os.PathLike) -> list[dict[str, Any]]:
    """Entries in the cache folder: built networks and fetched OSM files.

    Returns
    -------
    list of dict
        ``kind`` ("network" or "osm"), ``file``, ``hash`` (prefix), ``settings``,
        ``bytes``, ``date``, ``path``.
    """
    root = Path(root)
    out: list[dict[str, Any]] = []
    net_dir = root / "networks"
    if net_dir.is_dir():
        for entry in sorted(net_dir.iterdir()):
            if entry.is_symlink() or not entry.is_dir() or entry.name.startswith("."):
                continue
            m = _read_json(entry / _MANIFEST) or {}
            out.append(
                {
                    "kind": "network",
                    "file": m.get("osm_file", "?"),
                    "hash": str(m.get("osm_sha256", "?"))[:12],
                    "settings": m.get("settings", {}),
                    "bytes": _dir_bytes(entry),
                    "date": m.get("created_utc", "?"),
                    "path": str(entry),
                }
            )
    osm_dir = root / "osm"
    if osm_dir.is_dir():
        for f in sorted(osm_dir.glob("*.osm")):
            m = _read_json(f.with_suffix(".json")) or {}
            out.append(
                {
                    "kind": "osm",
                    "file": str(f),
                    "hash": str(m.get("sha256", "?"))[:12],
                    "settings": {k: m[k] for k in ("source", "buffer_m") if k in m},
                    "bytes": f.stat().st_size,
                    "date": m.get("fetched_utc", "?"),
                    "path": str(f),
                }
            )
    return out


def clear_cache(root: str | os.PathLike, include_osm: bool = False) -> int:
    """Delete built networks (and fetched OSM files if ``include_osm``); return the count removed.

    ``networks/files.json``, the (path, size, mtime) index of older gcgeo
    versions, is removed too.
    """
    root = Path(root)
    n = 0
    net_dir = root / "networks"
    if net_dir.is_dir():
        for entry in net_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                _remove(entry)
                n += not entry.name.startswith(".")
            elif entry.name == "files.json":
                entry.unlink(missing_ok=True)
    if include_osm and (root / "osm").is_dir():
        for f in (root / "osm").iterdir():
            if f.suffix == ".osm":
                n += 1
            if f.is_file():
                f.unlink(missing_ok=True)
    return n
