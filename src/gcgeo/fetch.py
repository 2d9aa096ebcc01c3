"""Downloading OpenStreetMap data for a polygon from an Overpass API endpoint.

The answer is saved as a plain ``.osm`` XML file in the cache, so everything
downstream goes through :func:`gcgeo.osm.read_osm` exactly as for a file a user
exported by hand: ``gcgeo coverage --osm <cache>/osm/<name>.osm``.

One Overpass query asks for every ``highway`` way, the facility candidates the
catalogue can classify (by the tag keys and key=value pairs of its rules, plus
the keys that make a feature a candidate for name rules), residential land use
and residential buildings, then recurses down to their nodes and members::

    [out:xml][timeout:180];
    ( way["highway"](poly:"…"); nwr["amenity"](poly:"…"); … );
    (._; >;);
    out body;

The HTTP request is a plain ``requests.post`` to ``<endpoint>/interpreter``
(osmnx's own downloader parses JSON and patches DNS resolution globally, which
a library should not do); the endpoint defaults to ``osmnx.settings.overpass_url``.
The download streams into a temporary file beside the target, is checked (XML,
OSM root, no Overpass error remark, at least one street) and only then renamed
into place, so a failed fetch leaves the cache untouched.

A hostile or broken endpoint cannot hang or flood a fetch: ``timeout`` is a
deadline for the *whole* download, the answer may hold at most ``max_bytes``
(counted after decompression), and the temporary ``.fetch-*`` folder is removed
on every error, on Ctrl-C and on SIGTERM, or by the next fetch if the process
was killed. How is described in :mod:`gcgeo.download`, which does the transfer.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from . import __version__, settings
from ._errors import FetchError, InputError, OSMFileError, OutputExistsError
from .catalogue import Catalogue, load_catalogue
from .crs import transformer
from .download import OFFLINE_HINT, download, remove_stale_tmpdirs, sigterm_unwinds, tmp_prefix
from .osm import POI_KEYS, RESIDENTIAL_BUILDINGS

__all__ = [
    "ATTRIBUTION",
    "DEFAULT_BUFFER_M",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_S",
    "OFFLINE_HINT",
    "FetchResult",
    "buffer_polygon",
    "check_extent_overlap",
    "default_endpoint",
    "fetch_osm",
    "overpass_filters",
    "overpass_query",
]


ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
DEFAULT_BUFFER_M = settings.FETCH_BUFFER_M
DEFAULT_TIMEOUT_S = settings.FETCH_TIMEOUT_S
#: Largest answer :func:`fetch_osm` accepts, in bytes after decompression (2 GiB).
DEFAULT_MAX_BYTES = settings.FETCH_MAX_BYTES
_SIMPLIFY_M = 100.0
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_osm` wrote."""

    osm_path: Path
    meta_path: Path
    meta: dict[str, Any]


def default_endpoint() -> str:
    """The Overpass endpoint osmnx is configured with (``osmnx.settings.overpass_url``)."""
    try:
        import osmnx as ox

        return str(ox.settings.overpass_url)
    except Exception:  # pragma: no cover - osmnx is a dependency
        return "https://overpass-api.de/api"


def _interpreter_url(endpoint: str) -> str:
    url = endpoint.strip().rstrip("/")
    if not re.match(r"^https?://", url):
        raise InputError(
            f"Endpoint {endpoint!r} is not an http(s) URL; pass e.g. "
            "--endpoint https://overpass-api.de/api."
        )
    return url if url.endswith("/interpreter") else url + "/interpreter"


def _metric_crs(geom: BaseGeometry) -> pyproj.CRS:
    from .network import choose_crs

    c = geom.centroid
    return pyproj.CRS.from_user_input(choose_crs([c.x], [c.y]))


def buffer_polygon(polygon: BaseGeometry, metres: float = DEFAULT_BUFFER_M) -> BaseGeometry:
    """Buffer a WGS-84 polygon by ``metres`` (in a local metric CRS), lightly simplified.

    The buffer keeps streets just outside the boundary so walks that leave and
    re-enter it are not cut, and facilities just across it still count.
    """
    if polygon.is_empty or polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(
            f"The fetch area is a {polygon.geom_type}, not a polygon; pass a polygon boundary."
        )
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(
            "The fetch boundary is not in longitude/latitude (WGS-84); reproject it to EPSG:4326."
        )
    crs = _metric_crs(polygon)
    fwd = transformer(settings.WGS84, crs).transform
    back = transformer(crs, settings.WGS84).transform
    g = shapely.transform(shapely.make_valid(polygon), lambda x, y: fwd(x, y), interleaved=False)
    metres = max(float(metres), 0.0)
    # simplifying by up to a tenth of the buffer keeps the area covered, shortens the query
    g = g.buffer(metres).simplify(min(_SIMPLIFY_M, max(1.0, metres / 10)))
    return shapely.transform(g, lambda x, y: back(x, y), interleaved=False)


def overpass_filters(catalogue: Catalogue | None = None) -> list[str]:
    """Overpass tag filters for facility candidates and residential areas.

    Keys that make a feature a candidate for the catalogue's name-only rules are
    fetched whole (``["amenity"]``); ``key=value`` pairs from the rules are added
    unless their key is already fetched whole. ``building`` is never fetched whole
    (every building of a district would be), only the values rules or
    residential origins use.
    """
    cat = catalogue or load_catalogue()
    whole = sorted(k for k in POI_KEYS if k != "building")
    pairs: set[tuple[str, str]] = {("highway", "bus_stop"), ("landuse", "residential")}
    for c in cat:
        for r in c.rules:
            for k, v in r.tags:
                if v == "*":
                    if k != "building":
                        whole.append(k)
                    continue
                pairs.add((k, v))
    whole = sorted(set(whole))
    out = [f'["{k}"]' for k in whole]
    by_key: dict[str, set[str]] = {}
    for k, v in sorted(pairs):
        if k not in whole:
            by_key.setdefault(k, set()).add(v)
    by_key.setdefault("building", set()).update(RESIDENTIAL_BUILDINGS)
    for k, vals in sorted(by_key.items()):
        if len(vals) == 1:
            out.append(f'["{k}"="{next(iter(vals))}"]')
        else:
            alt = "|".join(re.escape(v) for v in sorted(vals))
            out.append(f'["{k}"~"^({alt})$"]')
    return out


def _poly_strings(polygon: BaseGeometry) -> list[str]:
    geoms = getattr(polygon, "geoms", [polygon])
    out = []
    for g in geoms:
        xy = shapely.get_coordinates(g.exterior)
        out.append(" ".join(f"{lat:.6f} {lon:.6f}" for lon, lat in xy))
    return out


def overpass_query(
    polygon: BaseGeometry,
    catalogue: Catalogue | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> str:
    """The Overpass QL query (XML output) for streets and facilities in ``polygon``.

    Parameters
    ----------
    polygon : Polygon or MultiPolygon
        WGS-84 area, already buffered (see :func:`buffer_polygon`).
    catalogue : Catalogue, optional
        Whose rules decide the facility tags (default: the shipped one).
    timeout : float
        Server-side time limit in seconds.
    """
    filters = overpass_filters(catalogue)
    stmts = []
    for poly in _poly_strings(polygon):
        area = f'(poly:"{poly}")'
        stmts.append(f'  way["highway"]{area};')
        stmts.extend(f"  nwr{f}{area};" for f in filters)
    body = "\n".join(stmts)
    return f"[out:xml][timeout:{int(timeout)}];\n(\n{body}\n);\n(._; >;);\nout body;\n"


def _check_name(name: str) -> str:
    if not name or not _NAME_RE.match(name):
        raise InputError(
            f"Cache name {name!r} must be letters, digits, '-', '_' or Chinese characters; "
            "pass --name e.g. gangcheng."
        )
    return name


def _bounds_text(geom: BaseGeometry) -> str:
    minx, miny, maxx, maxy = geom.bounds
    return f"lon {minx:.4f}–{maxx:.4f}, lat {miny:.4f}–{maxy:.4f}"


def check_extent_overlap(
    lon: Any,
    lat: Any,
    boundary: BaseGeometry,
    what: str,
    fix: str,
    min_share: float | None = None,
) -> float:
    """Stop when the streets at ``lon``/``lat`` barely overlap the study area ``boundary``.

    Parameters
    ----------
    lon, lat : array-like
        WGS-84 coordinates of the street nodes.
    boundary : Polygon or MultiPolygon
        The WGS-84 study area.
    what : str
        The streets' source for the message (e.g. ``"The OSM file 'x.osm'"``).
    fix : str
        What to do instead, ending the message.
    min_share : float, optional
        Least share of the boundary's area the streets' convex hull must cover (default
        :data:`gcgeo.settings.MIN_EXTENT_OVERLAP`).

    Returns
    -------
    float
        The covered share (0–1).

    Raises
    ------
    InputError
        Less than ``min_share`` is covered: one sentence naming both extents and ``fix``.
    """
    limit = settings.MIN_EXTENT_OVERLAP if min_share is None else float(min_share)
    area = shapely.make_valid(boundary)
    if area.is_empty or area.area == 0:
        return 1.0
    hull = shapely.multipoints(shapely.points(lon, lat)).convex_hull
    crs = _metric_crs(area)
    fwd = transformer(settings.WGS84, crs).transform
    m_area = shapely.transform(area, lambda x, y: fwd(x, y), interleaved=False)
    m_hull = shapely.transform(hull, lambda x, y: fwd(x, y), interleaved=False)
    share = float(m_hull.intersection(m_area).area / m_area.area)
    if share < limit:
        raise InputError(
            f"{what} has streets at {_bounds_text(hull)}, which cover only {share:.0%} of the "
            f"study area at {_bounds_text(area)} (at least {limit:.0%} needed); {fix}."
        )
    return share


def _validate_download(tmp: Path, url: str) -> tuple[dict[str, int], Any, Any]:
    """Check that ``tmp`` holds an Overpass OSM XML answer with streets; return counts and
    the street nodes' longitudes and latitudes."""
    from .osm import read_osm

    with open(tmp, "rb") as f:
        head = f.read(4096)
    text = head.decode("utf-8", "replace").lstrip("\ufeff \r\n\t")
    low = text.lower()
    if "<osm" not in low:
        what = "an HTML page" if ("<html" in low or "<!doctype html" in low) else "something else"
        raise FetchError(
            f"The Overpass endpoint {url} answered with {what}, not OSM XML (it may be "
            f"overloaded or not an Overpass API); retry later, pass another --endpoint, or {OFFLINE_HINT}."
        )
    size = tmp.stat().st_size
    with open(tmp, "rb") as f:
        f.seek(max(0, size - 8192))
        tail = f.read().decode("utf-8", "replace")
    remark = re.search(r"<remark>(.*?)</remark>", head.decode("utf-8", "replace") + tail, re.S)
    if remark and re.search(r"error|timed out|out of memory", remark.group(1), re.I):
        raise FetchError(
            f"The Overpass endpoint {url} stopped the query ({remark.group(1).strip()}); "
            f"raise --timeout, use a smaller area, or {OFFLINE_HINT}."
        )
    if "</osm>" not in tail:
        raise FetchError(
            f"The download from {url} is incomplete (no closing </osm>); retry, or {OFFLINE_HINT}."
        )
    try:
        data = read_osm(tmp, areas=False)
    except OSMFileError as exc:
        raise FetchError(
            f"The answer from {url} is not readable OSM XML ({exc}); retry, or {OFFLINE_HINT}."
        ) from exc
    if not data.ways:
        raise FetchError(
            f"The Overpass answer from {url} holds no streets for this area; check the "
            "boundary (is it in WGS-84 longitude/latitude?) or pass --osm FILE."
        )
    import numpy as np

    lon = np.concatenate([w.lon for w in data.ways])
    lat = np.concatenate([w.lat for w in data.ways])
    return {"highway_ways": len(data.ways), "poi_nodes": len(data.pois)}, lon, lat


def fetch_osm(
    polygon: BaseGeometry,
    name: str,
    cache_dir: str | os.PathLike | None = None,
    endpoint: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    buffer_m: float = DEFAULT_BUFFER_M,
    catalogue: Catalogue | None = None,
    overwrite: bool = False,
    source: str = "",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FetchResult:
    """Download streets and facilities for ``polygon`` into ``<cache>/osm/<name>.osm``.

    Parameters
    ----------
    polygon : Polygon or MultiPolygon
        WGS-84 study area (e.g. the district boundary); buffered by ``buffer_m``.
    name : str
        File stem in the cache (``gangcheng`` → ``osm/gangcheng.osm``).
    cache_dir : path-like, optional
        Cache folder (default :func:`gcgeo.cache.default_cache_dir`).
    endpoint : str, optional
        Overpass API base URL (default ``osmnx.settings.overpass_url``).
    timeout : float
        Seconds for the whole download (connecting, waiting and transfer), also
        the server-side query limit.
    buffer_m : float
        Metres added around ``polygon``.
    catalogue : Catalogue, optional
        Decides which facility tags are fetched.
    overwrite : bool
        Replace an existing cached file of that name.
    source : str
        Where the polygon came from, recorded in the metadata.
    max_bytes : int
        Largest answer accepted, in bytes after decompression (default
        :data:`DEFAULT_MAX_BYTES`, 2 GiB).

    Returns
    -------
    FetchResult
        Paths of the ``.osm`` file and its ``.json`` metadata (UTC date, query,
        endpoint, area, attribution, counts, SHA-256).

    Raises
    ------
    FetchError
        No connection, timeout, HTTP error, an answer larger than ``max_bytes``,
        or one that is not OSM XML with streets; nothing is written then.
    InputError
        The answer's streets cover less than :data:`gcgeo.settings.MIN_EXTENT_OVERLAP` of
        ``polygon`` (an endpoint or boundary for another place); nothing is written then.
    OutputExistsError
        The cached file exists and ``overwrite`` is false.
    """
    from .cache import default_cache_dir, file_sha256

    _check_name(name)
    if not (timeout > 0):
        raise InputError(f"--timeout {timeout!r} must be a positive number of seconds.")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise InputError(f"max_bytes={max_bytes!r} must be a positive whole number of bytes.")
    url = _interpreter_url(endpoint or default_endpoint())
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    osm_dir = root / "osm"
    osm_path = osm_dir / f"{name}.osm"
    meta_path = osm_dir / f"{name}.json"
    if not overwrite:
        for p in (osm_path, meta_path):
            if p.exists():
                raise OutputExistsError(
                    f"Cached OSM file {str(p)!r} already exists; pass --overwrite to download "
                    "it again or --name to keep both."
                )
    area = buffer_polygon(polygon, buffer_m)
    query = overpass_query(area, catalogue, timeout)
    # download into a private temporary folder *outside* osm/ so a failure leaves no trace
    created_root = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_tmpdirs(root)
    ok = False
    with sigterm_unwinds():
        tmpdir = Path(tempfile.mkdtemp(prefix=tmp_prefix(), dir=root))
        try:
            tmp_osm = tmpdir / f"{name}.osm"
            download(url, query, timeout, tmp_osm, max_bytes)
            counts, lon, lat = _validate_download(tmp_osm, url)
            check_extent_overlap(
                lon,
                lat,
                polygon,
                f"The Overpass answer from {url}",
                "check that the boundary is the area you mean (in WGS-84 longitude/latitude), "
                "pass another --endpoint, or pass --osm FILE with an extract of the area",
            )
            meta = {
                "name": name,
                "fetched_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "source": "overpass",
                "endpoint": url,
                "area_source": source,
                "buffer_m": float(buffer_m),
                "bbox": [round(v, 6) for v in area.bounds],
                "polygon_wkt": shapely.to_wkt(area, rounding_precision=6),
                "query": query,
                "attribution": ATTRIBUTION,
                "licence": "ODbL 1.0 (https://www.openstreetmap.org/copyright)",
                "bytes": tmp_osm.stat().st_size,
                "sha256": file_sha256(tmp_osm),
                "counts": counts,
                "gcgeo": __version__,
            }
            tmp_meta = tmpdir / f"{name}.json"
            tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
            osm_dir.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_osm, osm_path)
            os.replace(tmp_meta, meta_path)
            ok = True
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
            if not ok and created_root and not any(root.iterdir()):
                root.rmdir()
    return FetchResult(osm_path, meta_path, meta)
