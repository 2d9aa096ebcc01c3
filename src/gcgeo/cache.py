"""On-disk cache of built street networks and fetched OSM files.

Layout under the cache folder (``--cache DIR``, else ``$GCGEO_CACHE_DIR``, else
the platform's user cache folder, e.g. ``~/.cache/gcgeo``)::

    osm/<name>.osm, osm/<name>.json      files written by ``gcgeo fetch``
    networks/<key>/manifest.json         what the entry is, with checksums
    networks/<key>/arrays.npz            numeric arrays (no pickle)
    networks/<key>/tables.pkl            string columns, facilities, residential WKB
    networks/files.json                  (path, size, mtime) -> sha256, a fast pre-check

An entry's key is the SHA-256 of the OSM file's *content* together with every
setting that changes the result (private ways, CRS, clip, catalogue content,
gcgeo version), so a renamed copy of a file hits and any change misses. Each
entry is written to a temporary folder and renamed into place; on reading, the
checksums in the manifest are verified before anything is unpickled, and a
truncated or corrupt entry is dropped with a warning and rebuilt by the caller.

The pickle holds only plain lists/arrays written by gcgeo itself; the cache
folder is the user's own, like any other cache of pickled data.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import pickle
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from . import __version__
from ._errors import InputError
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
FORMAT_VERSION = 1
_CHUNK = 1 << 20
_NODE_COLS = ("osmid", "x", "y", "lon", "lat")
_EDGE_NUM_COLS = ("u", "v", "length", "way_id", "private")
_EDGE_STR_COLS = ("highway", "name", "access", "foot", "sidewalk")
_FAC_COLS = ("facility_id", "name", "category", "source")


class CacheWarning(UserWarning):
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
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _index_path(root: Path) -> Path:
    return root / "networks" / "files.json"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, default=str)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _content_hash(root: Path, osm_path: Path) -> str:
    """Content hash of ``osm_path``, reusing a stored one when size and mtime match."""
    st = osm_path.stat()
    key = str(osm_path.resolve())
    index = _read_json(_index_path(root)) or {}
    rec = index.get(key)
    if (
        isinstance(rec, dict)
        and rec.get("size") == st.st_size
        and rec.get("mtime_ns") == st.st_mtime_ns
        and isinstance(rec.get("sha256"), str)
    ):
        return rec["sha256"]
    digest = file_sha256(osm_path)
    index[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    with contextlib.suppress(OSError):
        _write_json_atomic(_index_path(root), index)
    return digest


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


def _to_frame_parts(net: StreetNetwork, facilities: gpd.GeoDataFrame) -> tuple[dict, dict]:
    arrays: dict[str, np.ndarray] = {}
    for c in _NODE_COLS:
        arrays[f"nodes_{c}"] = net.nodes[c].to_numpy()
    for c in _EDGE_NUM_COLS:
        arrays[f"edges_{c}"] = net.edges[c].to_numpy()
    fxy = shapely.get_coordinates(facilities.geometry.values).reshape(-1, 2)
    arrays["fac_lon"] = fxy[:, 0].astype(float)
    arrays["fac_lat"] = fxy[:, 1].astype(float)
    tables: dict[str, Any] = {
        "edges": {c: net.edges[c].to_numpy(dtype=object).tolist() for c in _EDGE_STR_COLS},
        "facilities": {c: facilities[c].to_numpy(dtype=object).tolist() for c in _FAC_COLS},
        "residential_wkb": (
            None if net.residential is None else [shapely.to_wkb(g) for g in net.residential.values]
        ),
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

    Writing is best effort: a failure (disk full, read-only folder) only warns.
    """
    root = Path(root)
    osm_path = Path(osm_path)
    try:
        digest = _content_hash(root, osm_path)
        key = cache_key(digest, settings)
        final = _entry_dir(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
        try:
            arrays, tables = _to_frame_parts(network, facilities)
            np.savez(tmp / "arrays.npz", **arrays)
            with open(tmp / "tables.pkl", "wb") as f:
                pickle.dump(tables, f, protocol=pickle.HIGHEST_PROTOCOL)
            files = {
                name: {"sha256": file_sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                for name in ("arrays.npz", "tables.pkl")
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
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        warnings.warn(
            f"Could not write the network cache in {str(root)!r} ({exc}); continuing without it.",
            CacheWarning,
            stacklevel=2,
        )
        return None
    return final


def _drop(entry: Path, why: str) -> None:
    warnings.warn(
        f"Network cache entry {entry.name} is unusable ({why}); rebuilding it from the OSM file.",
        CacheWarning,
        stacklevel=3,
    )
    shutil.rmtree(entry, ignore_errors=True)


def load_study_entry(
    root: str | os.PathLike, osm_path: str | os.PathLike, settings: dict[str, Any]
) -> CacheEntry | None:
    """Load the entry for this file and settings, or ``None`` on a miss.

    A corrupt or truncated entry (checksum mismatch, unreadable file) is removed
    with a :class:`CacheWarning` and reported as a miss.
    """
    root = Path(root)
    try:
        digest = _content_hash(root, Path(osm_path))
    except OSError:
        return None
    entry = _entry_dir(root, cache_key(digest, settings))
    if not entry.is_dir():
        return None
    manifest = _read_json(entry / "manifest.json")
    if manifest is None or not isinstance(manifest.get("files"), dict):
        _drop(entry, "manifest missing or unreadable")
        return None
    if manifest.get("osm_sha256") != digest or manifest.get("settings") != settings:
        _drop(entry, "manifest does not match the file or settings")
        return None
    for name, rec in manifest["files"].items():
        p = entry / name
        try:
            ok = p.stat().st_size == rec["bytes"] and file_sha256(p) == rec["sha256"]
        except (OSError, KeyError, TypeError):
            ok = False
        if not ok:
            _drop(entry, f"{name} fails its checksum")
            return None
    try:
        with np.load(entry / "arrays.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        with open(entry / "tables.pkl", "rb") as f:
            tables = pickle.load(f)
        net, fac = _rebuild(arrays, tables, manifest)
    except Exception as exc:  # any decoding failure means a bad entry, never fatal
        _drop(entry, f"{type(exc).__name__}: {exc}")
        return None
    return CacheEntry(net, fac, dict(manifest.get("osm_summary") or {}), manifest)


def _rebuild(
    arrays: dict[str, np.ndarray], tables: dict[str, Any], manifest: dict[str, Any]
) -> tuple[StreetNetwork, gpd.GeoDataFrame]:
    crs = manifest["crs"]
    x, y = arrays["nodes_x"], arrays["nodes_y"]
    nodes = gpd.GeoDataFrame(
        {c: arrays[f"nodes_{c}"] for c in _NODE_COLS}, geometry=shapely.points(x, y), crs=crs
    )
    u, v = arrays["edges_u"], arrays["edges_v"]
    coords = np.stack([np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])], axis=1)
    cols: dict[str, Any] = {
        "u": u,
        "v": v,
        "length": arrays["edges_length"],
        "way_id": arrays["edges_way_id"],
    }
    for c in _EDGE_STR_COLS:
        cols[c] = np.array(tables["edges"][c], dtype=object)
    cols["private"] = arrays["edges_private"]
    edges = gpd.GeoDataFrame(cols, geometry=shapely.linestrings(coords), crs=crs)
    res = tables.get("residential_wkb")
    residential = None if res is None else gpd.GeoSeries(shapely.from_wkb(res), crs=crs)
    net = StreetNetwork(
        nodes=nodes, edges=edges, crs=crs, report=dict(manifest["report"]), residential=residential
    )
    fac = gpd.GeoDataFrame(
        {c: tables["facilities"][c] for c in _FAC_COLS},
        geometry=shapely.points(arrays["fac_lon"], arrays["fac_lat"]),
        crs="EPSG:4326",
    )
    return net, fac


def _dir_bytes(p: Path) -> int:
    if p.is_file():
        return p.stat().st_size
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


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
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            m = _read_json(entry / "manifest.json") or {}
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
    """Delete built networks (and fetched OSM files if ``include_osm``); return the count removed."""
    root = Path(root)
    n = 0
    net_dir = root / "networks"
    if net_dir.is_dir():
        for entry in net_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
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
