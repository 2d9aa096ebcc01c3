"""A local stand-in for an Overpass endpoint, for the hostile-answer tests.

Shared by ``test_hostile_fetch.py`` and ``test_download.py``. The server listens
on 127.0.0.1 only; every behaviour stops after at most :data:`SERVE_S` seconds.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_fetch import overpass_xml

__all__ = [
    "OSM_HEAD",
    "SERVE_S",
    "Behaviour",
    "Handler",
    "LocalOverpass",
    "announces",
    "breaks_off",
    "cache_with_keepsake",
    "clear_proxies",
    "drip_body",
    "drip_headers",
    "encoded",
    "endless",
    "leftovers",
    "ok",
    "one_sentence",
    "posix_only",
    "silent",
    "tree",
]

#: Longest any test server keeps answering, in seconds.
SERVE_S = 60.0

#: The OSM XML an Overpass answer starts with (so only the hostile part differs).
OSM_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="Overpass API">\n'

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


Behaviour = Callable[["Handler", "LocalOverpass"], None]


class Handler(http.server.BaseHTTPRequestHandler):
    """Reads the POSTed query, then lets the server's current behaviour answer."""

    protocol_version = "HTTP/1.0"  # bodies end when the connection closes
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        srv: LocalOverpass = self.server.owner
        srv.requests += 1
        with contextlib.suppress(OSError):  # the client hung up
            srv.behaviour(self, srv)


class LocalOverpass:
    """A throw-away Overpass stand-in; ``behaviour`` decides each answer."""

    def __init__(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.behaviour: Behaviour = ok
        self.requests = 0
        self.started = threading.Event()  # the answer has begun
        self.stop = threading.Event()
        #: a slow behaviour ran its whole course (the client never hung up on it)
        self.exhausted = threading.Event()
        self.seen: dict[str, Any] = {}
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/api"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def ok(h: Handler, srv: LocalOverpass) -> None:
    body = overpass_xml()
    h.send_response(200)
    h.send_header("Content-Type", "application/osm3s+xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def _drip(h: Handler, srv: LocalOverpass, byte: bytes, interval: float) -> None:
    """Mark the answer started, then send ``byte`` every ``interval`` seconds until the test
    stops the server or :data:`SERVE_S` runs out (then ``srv.exhausted`` is set)."""
    srv.started.set()
    t0 = time.monotonic()
    while not srv.stop.is_set() and time.monotonic() - t0 < SERVE_S:
        h.wfile.write(byte)
        h.wfile.flush()
        srv.stop.wait(interval)
    if not srv.stop.is_set():
        srv.exhausted.set()


def drip_body(interval: float) -> Behaviour:
    """A plausible answer start, then one byte every ``interval`` seconds."""

    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/osm3s+xml")
        h.end_headers()
        h.wfile.write(OSM_HEAD)
        h.wfile.flush()
        _drip(h, srv, b" ", interval)

    return behaviour


def drip_headers(interval: float) -> Behaviour:
    """The status line, then a header line one byte every ``interval`` seconds."""

    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        _drip(h, srv, b"a", interval)

    return behaviour


def silent(h: Handler, srv: LocalOverpass) -> None:
    """Accept the query and never answer."""
    srv.started.set()
    if not srv.stop.wait(SERVE_S):
        srv.exhausted.set()


def encoded(body: bytes, encoding: str) -> Behaviour:
    """``body`` sent with a Content-Encoding (already compressed accordingly)."""

    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/osm3s+xml")
        h.send_header("Content-Encoding", encoding)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return behaviour


def endless(h: Handler, srv: LocalOverpass) -> None:
    """An answer without Content-Length that never ends (until the client stops reading)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/osm3s+xml")
    h.end_headers()
    h.wfile.write(OSM_HEAD)
    block = b"<node/>" * 9000
    t0 = time.monotonic()
    while not srv.stop.is_set() and time.monotonic() - t0 < SERVE_S:
        h.wfile.write(block)
        srv.seen["sent"] = srv.seen.get("sent", 0) + len(block)


def announces(length: int) -> Behaviour:
    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/osm3s+xml")
        h.send_header("Content-Length", str(length))
        h.end_headers()
        h.wfile.write(OSM_HEAD)
        h.wfile.flush()
        srv.stop.wait(SERVE_S)

    return behaviour


def breaks_off(h: Handler, srv: LocalOverpass) -> None:
    """Promises more bytes than it sends, then closes."""
    body = overpass_xml()
    h.send_response(200)
    h.send_header("Content-Type", "application/osm3s+xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[:700])


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests must talk to 127.0.0.1 directly, whatever the environment says."""
    for var in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def tree(root: Path) -> list[Path]:
    """Everything under ``root`` (nothing if it does not exist), sorted."""
    return sorted(root.rglob("*")) if root.exists() else []


def leftovers(root: Path) -> list[Path]:
    """Temporary fetch folders (``.fetch-*``) in ``root``."""
    return sorted(root.glob(".fetch-*"))


def cache_with_keepsake(tmp_path: Path) -> Path:
    """A cache folder holding one unrelated file, which every fetch must leave alone."""
    root = tmp_path / "cache"
    root.mkdir()
    (root / "keep.txt").write_text("x")
    return root


def one_sentence(msg: str) -> None:
    """Assert that ``msg`` is one line ending in a full stop."""
    assert "\n" not in msg and msg.endswith(".")
