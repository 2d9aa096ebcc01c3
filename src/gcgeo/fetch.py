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

A hostile or broken endpoint cannot hang or flood a fetch:

* ``timeout`` is a deadline for the *whole* download. The transfer runs in a
  worker thread while the calling thread waits at most ``timeout`` seconds; at
  the deadline the socket is shut down and :class:`~gcgeo.FetchError` raised. (A
  per-read socket timeout alone does not bound a server that sends one byte
  every few seconds, and urllib3 fills a whole chunk before ``iter_content``
  yields it, so checking the clock between chunks alone does not either.) Each
  read is also given a socket timeout no longer than the time left.
* The answer may hold at most ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`,
  2 GiB). Bytes are counted as ``iter_content`` yields them, i.e. *after*
  urllib3 decoded any gzip/deflate content-encoding, so a compression bomb is
  stopped once its decompressed size passes the limit.
* The temporary ``.fetch-<host>-<pid>-*`` folder is removed on every error, on
  Ctrl-C and on SIGTERM (which, for the duration of a fetch in the main thread,
  raises inside the download so cleanup runs, then is re-delivered to the
  previous handler). A folder left by a killed process (its pid is gone, or it
  is untouched for an hour) is removed by the next fetch into that cache.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from . import __version__
from ._errors import FetchError, InputError, OSMFileError, OutputExistsError
from .catalogue import Catalogue, load_catalogue
from .osm import POI_KEYS, RESIDENTIAL_BUILDINGS

__all__ = [
    "ATTRIBUTION",
    "DEFAULT_BUFFER_M",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT_S",
    "OFFLINE_HINT",
    "FetchResult",
    "buffer_polygon",
    "default_endpoint",
    "fetch_osm",
    "overpass_filters",
    "overpass_query",
]

ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
DEFAULT_BUFFER_M = 1000.0
DEFAULT_TIMEOUT_S = 180.0
#: Largest answer :func:`fetch_osm` accepts, in bytes after decompression (2 GiB).
DEFAULT_MAX_BYTES = 2 << 30
#: How to proceed without a working Overpass connection (ends every network error).
OFFLINE_HINT = (
    "download a Shandong extract instead (Geofabrik's China extract "
    "https://download.geofabrik.de/asia/china.html, or an openstreetmap.org Export of the area) "
    "and pass it with --osm FILE"
)
_CHUNK = 1 << 16
_SIMPLIFY_M = 100.0
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]+$")
#: Temporary download folders in the cache root: ``.fetch-<host>-<pid>-<random>``.
_TMP_PREFIX = ".fetch-"
_TMP_RE = re.compile(r"^\.fetch-([A-Za-z0-9]*)-(\d+)-")
#: A temporary folder whose owner cannot be checked is stale once untouched this long.
_STALE_S = 3600.0
#: How often the waiting thread wakes up (signals are handled between waits).
_POLL_S = 0.2
#: How long to wait for the worker thread to let go after the download was cancelled.
_JOIN_S = 2.0


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
    fwd = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform
    back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform
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


def _validate_download(tmp: Path, url: str) -> dict[str, int]:
    """Check that ``tmp`` holds an Overpass OSM XML answer with streets; return counts."""
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
    return {"highway_ways": len(data.ways), "poi_nodes": len(data.pois)}


def _format_bytes(n: int) -> str:
    """``2147483648`` → ``'2 GiB'``, ``1536`` → ``'1.5 KiB'``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _too_big(url: str, max_bytes: int, what: str) -> FetchError:
    return FetchError(
        f"The answer from the Overpass endpoint {url} {what} the limit of "
        f"{_format_bytes(max_bytes)} ({max_bytes} bytes, counted after decompression); fetch "
        f"a smaller area, raise the limit with fetch_osm(..., max_bytes=N), or {OFFLINE_HINT}."
    )


def _deadline_error(url: str, timeout: float, received: int) -> FetchError:
    return FetchError(
        f"The download from the Overpass endpoint {url} did not finish within {timeout:g} s "
        f"(--timeout limits the whole download; {received} bytes were saved); raise --timeout, "
        f"use a smaller area, or {OFFLINE_HINT}."
    )


def _socket_of(resp: Any) -> socket.socket | None:
    """The socket under a streamed ``requests`` response, if it can be found."""
    raw = getattr(resp, "raw", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)  # urllib3 2
    if not isinstance(sock, socket.socket):
        # http.client's file object: BufferedReader(SocketIO(sock))
        fp = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _is_read_timeout(exc: BaseException) -> bool:
    """Whether a ``requests`` exception was caused by a socket read timing out."""
    import requests
    import urllib3

    timeouts = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError)
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain and len(chain) < 20:
        chain.append(e)
        e = e.__cause__ or e.__context__
    # requests turns urllib3's ReadTimeoutError during iter_content into a ConnectionError
    return any(isinstance(x, timeouts) for e in chain for x in (e, *e.args))


class _Transfer:
    """One HTTP download, run in a worker thread; the caller's thread keeps the deadline.

    ``run`` posts the query, streams the answer into ``dest`` and stores any
    exception in ``error``; ``cancel`` (from the waiting thread) makes it stop
    and shuts its socket down so a blocked read returns at once.
    """

    def __init__(
        self, url: str, query: str, timeout: float, deadline: float, dest: Path, max_bytes: int
    ) -> None:
        self.url, self.query, self.timeout, self.deadline = url, query, timeout, deadline
        self.dest, self.max_bytes = dest, max_bytes
        self.received = 0
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.cancelled = threading.Event()
        self.answered = False  # the status line and headers have arrived
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            sock = self._sock
        _shutdown(sock)

    def _attach(self, resp: Any) -> None:
        with self._lock:
            self._sock = _socket_of(resp)
            self.answered = True
        if self.cancelled.is_set():
            _shutdown(self._sock)

    def _read_timeout(self) -> None:
        """Give the next socket read no more than the time left (raise if none is)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _deadline_error(self.url, self.timeout, self.received)
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.settimeout(left)

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()

    def _run(self) -> None:
        import requests

        url = self.url
        headers = {"User-Agent": f"gcgeo/{__version__} (15-minute life circle study)"}
        try:
            # nothing has elapsed yet: connecting and each read before the answer starts get
            # the whole timeout, and the waiting thread cuts everything off at the deadline
            resp_cm = requests.post(
                url, data={"data": self.query}, timeout=self.timeout, headers=headers, stream=True
            )
        except requests.exceptions.Timeout as exc:
            raise FetchError(
                f"No answer from the Overpass endpoint {url} within {self.timeout:g} s; raise "
                f"--timeout, or {OFFLINE_HINT}."
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise FetchError(
                f"Could not reach the Overpass endpoint {url} (no internet connection?: "
                f"{type(exc).__name__}); {OFFLINE_HINT}."
            ) from exc
        with resp_cm as resp:
            self._attach(resp)
            if self.cancelled.is_set():
                return
            if resp.status_code != 200:
                reason = resp.reason or ""
                hint = (
                    "the server is busy: wait a minute and retry"
                    if resp.status_code in (429, 504)
                    else "check --endpoint"
                )
                status = f"HTTP {resp.status_code} {reason}".rstrip()
                raise FetchError(
                    f"The Overpass endpoint {url} answered {status}; {hint}, or {OFFLINE_HINT}."
                )
            encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
            length = resp.headers.get("Content-Length", "")
            if encoding in ("", "identity") and length.isdigit() and int(length) > self.max_bytes:
                raise _too_big(url, self.max_bytes, f"announces {int(length)} bytes, more than")
            try:
                self._stream(resp)
            except requests.exceptions.RequestException as exc:
                if self.cancelled.is_set():
                    return
                if _is_read_timeout(exc) or time.monotonic() >= self.deadline:
                    raise _deadline_error(url, self.timeout, self.received) from exc
                raise FetchError(
                    f"The answer from the Overpass endpoint {url} could not be read to the end "
                    f"({type(exc).__name__} after {self.received} bytes); retry, or {OFFLINE_HINT}."
                ) from exc

    def _stream(self, resp: Any) -> None:
        # iter_content yields *decoded* bytes (urllib3 undoes gzip/deflate in bounded steps),
        # so the count below is the decompressed size the limit is about
        with open(self.dest, "wb") as f:
            self._read_timeout()
            for chunk in resp.iter_content(_CHUNK):
                if self.cancelled.is_set():
                    return
                if chunk:
                    if self.received + len(chunk) > self.max_bytes:
                        raise _too_big(self.url, self.max_bytes, "exceeds")
                    f.write(chunk)
                    self.received += len(chunk)
                self._read_timeout()


def _shutdown(sock: socket.socket | None) -> None:
    """Shut ``sock`` down so a read blocked on it in another thread returns."""
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            # the plain-socket method: on an SSLSocket it leaves the TLS object alone
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _download(url: str, query: str, timeout: float, dest: Path, max_bytes: int) -> None:
    """POST ``query`` to ``url`` and stream the answer into ``dest``.

    Returns within ``timeout`` seconds (plus a moment for the worker thread to
    let go) whatever the server does, having written at most ``max_bytes``.
    """
    deadline = time.monotonic() + timeout
    job = _Transfer(url, query, timeout, deadline, dest, max_bytes)
    worker = threading.Thread(target=job.run, name="gcgeo-fetch", daemon=True)
    worker.start()
    try:
        while not job.done.wait(_POLL_S):
            if time.monotonic() >= deadline:
                break
    finally:
        if not job.done.is_set():  # deadline, Ctrl-C or SIGTERM: stop the transfer
            job.cancel()
            # a worker still waiting for the status line cannot be woken (and has not opened
            # dest yet): it is a daemon thread and ends on its read timeout or when the server
            # closes; once answered, the shut-down socket makes it end at once
            worker.join(_JOIN_S if job.answered else _POLL_S)
    if not job.done.is_set() or job.cancelled.is_set():
        raise _deadline_error(url, timeout, job.received)
    if job.error is not None:
        raise job.error


class _Terminated(BaseException):
    """SIGTERM arrived during a fetch (a BaseException so ``except Exception`` passes it)."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While active, SIGTERM raises :class:`_Terminated` so ``finally`` blocks clean up.

    Only in the main thread (the only one Python delivers signals to) and only when
    SIGTERM is not ignored. On the way out the previous handler is restored and a
    caught SIGTERM is re-delivered to it: by default the process then ends as
    killed by SIGTERM; if that handler returns, ``SystemExit(143)`` is raised.
    """
    term = getattr(signal, "SIGTERM", None)
    if term is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(term)
    if previous is signal.SIG_IGN or previous is None:  # ignored, or set outside Python
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise _Terminated

    signal.signal(term, handler)
    try:
        yield
    except _Terminated:
        signal.signal(term, previous)
        signal.raise_signal(term)
        raise SystemExit(128 + int(term)) from None
    finally:
        signal.signal(term, previous)


def _host_tag() -> str:
    """This host's name as it appears in temporary folder names (letters and digits)."""
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32]


def _tmp_prefix() -> str:
    return f"{_TMP_PREFIX}{_host_tag()}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # maybe another thread of this process is fetching
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, owned by someone else
        return True
    return True


def _is_stale(folder: Path, now: float) -> bool:
    """Whether ``folder`` is a temporary download folder nobody is using any more.

    One made on this host (by name) by a process that is gone is stale; for any
    other (another host, an unparsable name, Windows) only an hour without change
    makes it so.
    """
    m = _TMP_RE.match(folder.name)
    if m and m.group(1) == _host_tag() and os.name == "posix" and not _pid_alive(int(m.group(2))):
        return True
    try:
        newest = max([folder.stat().st_mtime] + [p.stat().st_mtime for p in folder.iterdir()])
    except OSError:
        return False
    return now - newest > _STALE_S


def _remove_stale_tmpdirs(root: Path) -> list[Path]:
    """Remove ``.fetch-*`` folders in ``root`` left by killed fetches; return them."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for d in root.glob(f"{_TMP_PREFIX}*"):
            if d.is_dir() and not d.is_symlink() and _is_stale(d, now):
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
    return removed


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
    _remove_stale_tmpdirs(root)
    ok = False
    with _sigterm_unwinds():
        tmpdir = Path(tempfile.mkdtemp(prefix=_tmp_prefix(), dir=root))
        try:
            tmp_osm = tmpdir / f"{name}.osm"
            _download(url, query, timeout, tmp_osm, max_bytes)
            counts = _validate_download(tmp_osm, url)
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
