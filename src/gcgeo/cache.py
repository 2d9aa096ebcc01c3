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

The stored format itself (file names, encoding, the checks on reading) is
:mod:`gcgeo.cache_format`; this module computes keys, stores and loads entries,
and lists and clears the cache folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from . import __version__
from ._errors import GcgeoWarning, InputError
from .cache_format import (
    DATA_FILES,
    FORMAT_VERSION,
    LEGACY_FORMATS,
    MANIFEST_FILE,
    BadEntry,
    Unstorable,
    encode_frames,
    read_entry,
    read_json,
    write_frames,
)
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

_CHUNK = 1 << 20


class CacheWarning(GcgeoWarning):
    """A cache entry was unusable (and is rebuilt) or could not be written."""


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
    include_trunk: bool = True,
    clip_buffer_m: float | None = None,
) -> dict[str, Any]:
    """Every setting that changes a built network or its OSM facilities (``clip`` as
    read, i.e. already buffered, hashed as WKB; ``clip_buffer_m`` the buffer, metres)."""
    if clip is None:
        clip_id = None
    elif isinstance(clip, shapely.Geometry):
        clip_id = hashlib.sha256(shapely.to_wkb(clip, hex=False)).hexdigest()[:16]
    else:
        clip_id = ",".join(f"{float(v):.9f}" for v in clip)
    out = {
        "include_private": bool(include_private),
        "include_trunk": bool(include_trunk),
        "crs": crs or "auto",
        "clip": clip_id,
        "catalogue": catalogue_hash(catalogue)[:16],
        "gcgeo": __version__,
        "format": FORMAT_VERSION,
    }
    if clip_id is not None and clip_buffer_m is not None:
        out["clip_buffer_m"] = round(float(clip_buffer_m), 3)
    return out


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
        arrays, tables = encode_frames(network, facilities)
        digest = file_sha256(osm_path)
        key = cache_key(digest, settings)
        final = _entry_dir(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            write_frames(tmp, arrays, tables)
            files = {
                name: {"sha256": file_sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                for name in DATA_FILES
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
            (tmp / MANIFEST_FILE).write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
            _remove(final)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, Unstorable) as exc:
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
    for fmt, why in LEGACY_FORMATS.items():
        old = _entry_dir(root, cache_key(digest, {**settings, "format": fmt}))
        if old != entry and os.path.lexists(old):
            _drop(old, f"format {fmt} from an older gcgeo, {why}")
    if not os.path.lexists(entry):
        return None
    try:
        net, fac, manifest = read_entry(entry, key, digest, settings)
    except BadEntry as exc:
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
            m = read_json(entry / MANIFEST_FILE) or {}
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
            m = read_json(f.with_suffix(".json")) or {}
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
