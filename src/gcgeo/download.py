"""Streaming one Overpass answer into a file, within a deadline and a size limit.

:func:`download` POSTs a query and streams the answer into a file;
:func:`gcgeo.fetch.fetch_osm` checks the file and renames it into the cache.
The names of temporary download folders, their removal when abandoned and the
SIGTERM handling that lets cleanup run are here too.

A hostile or broken endpoint cannot hang or flood a fetch:

* ``timeout`` is a deadline for the *whole* download. The transfer runs in a
  worker thread while the calling thread waits at most ``timeout`` seconds; at
  the deadline the socket is shut down and :class:`~gcgeo.FetchError` raised. (A
  per-read socket timeout alone does not bound a server that sends one byte
  every few seconds, and urllib3 fills a whole chunk before ``iter_content``
  yields it, so checking the clock between chunks alone does not either.) Each
  read is also given a socket timeout no longer than the time left.
* The answer may hold at most ``max_bytes`` (default
  :data:`gcgeo.fetch.DEFAULT_MAX_BYTES`, 2 GiB). Bytes are counted as ``iter_content`` yields them, i.e. *after*
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
import os
import re
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import __version__
from ._errors import FetchError

__all__ = [
    "OFFLINE_HINT",
    "download",
    "format_bytes",
    "remove_stale_tmpdirs",
    "sigterm_unwinds",
    "tmp_prefix",
]

#: How to proceed without a working Overpass connection (ends every network error).
OFFLINE_HINT = (
    "download a Shandong extract instead (Geofabrik's China extract "
    "https://download.geofabrik.de/asia/china.html, or an openstreetmap.org Export of the area) "
    "and pass it with --osm FILE"
)

_CHUNK = 1 << 16
#: Temporary download folders in the cache root: ``.fetch-<host>-<pid>-<random>``.
_TMP_PREFIX = ".fetch-"
_TMP_RE = re.compile(r"^\.fetch-([A-Za-z0-9]*)-(\d+)-")
#: A temporary folder whose owner cannot be checked is stale once untouched this long.
_STALE_S = 3600.0
#: How often the waiting thread wakes up (signals are handled between waits).
_POLL_S = 0.2
#: How long to wait for the worker thread to let go after the download was cancelled.
_JOIN_S = 2.0


def format_bytes(n: int) -> str:
    """A byte count for messages: ``2147483648`` → ``'2 GiB'``, ``1536`` → ``'1.5 KiB'``.

    Parameters
    ----------
    n : int
        Number of bytes.

    Returns
    -------
    str
        Three significant digits and the largest binary unit not above ``n``.
    """
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _too_big(url: str, max_bytes: int, what: str) -> FetchError:
    return FetchError(
        f"The answer from the Overpass endpoint {url} {what} the limit of "
        f"{format_bytes(max_bytes)} ({max_bytes} bytes, counted after decompression); fetch "
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


def download(url: str, query: str, timeout: float, dest: Path, max_bytes: int) -> None:
    """POST ``query`` to ``url`` and stream the answer into ``dest``.

    Returns within ``timeout`` seconds (plus a moment for the worker thread to
    let go) whatever the server does, having written at most ``max_bytes``.

    Parameters
    ----------
    url : str
        The Overpass ``.../interpreter`` URL.
    query : str
        Overpass QL, sent as the ``data`` form field.
    timeout : float
        Seconds for the whole download: connecting, waiting and transfer.
    dest : Path
        File to write (created or truncated once the answer starts).
    max_bytes : int
        Largest answer accepted, counted after decompression.

    Raises
    ------
    FetchError
        No connection, an HTTP error, the deadline passed, the answer is larger
        than ``max_bytes`` or breaks off; one sentence ending in
        :data:`OFFLINE_HINT`. ``dest`` may hold a partial answer then.
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
def sigterm_unwinds() -> Iterator[None]:
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


def tmp_prefix() -> str:
    """Name prefix of this process's temporary download folders: ``.fetch-<host>-<pid>-``."""
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


def remove_stale_tmpdirs(root: Path) -> list[Path]:
    """Remove ``.fetch-*`` folders in ``root`` left by killed fetches; return them.

    A folder counts as left behind when it was made on this host by a process
    that is gone, or (other hosts, other names, Windows) when it has been
    untouched for an hour; folders of running fetches are kept.

    Parameters
    ----------
    root : Path
        The cache folder.

    Returns
    -------
    list of Path
        The folders removed.
    """
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for d in root.glob(f"{_TMP_PREFIX}*"):
            if d.is_dir() and not d.is_symlink() and _is_stale(d, now):
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
    return removed
