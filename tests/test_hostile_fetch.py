"""``gcgeo fetch`` against hostile Overpass answers, served by a local HTTP server.

The server listens on 127.0.0.1 only; every test is bounded in time (the
server's own answers stop after at most :data:`SERVE_S` seconds).
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_fetch import AREA, overpass_xml

import gcgeo.fetch as fetch_mod
from gcgeo._errors import FetchError
from gcgeo.cli import main
from gcgeo.fetch import DEFAULT_MAX_BYTES, fetch_osm

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


def drip_body(interval: float) -> Behaviour:
    """A plausible answer start, then one byte every ``interval`` seconds."""

    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/osm3s+xml")
        h.end_headers()
        h.wfile.write(OSM_HEAD)
        h.wfile.flush()
        srv.started.set()
        t0 = time.monotonic()
        while not srv.stop.is_set() and time.monotonic() - t0 < SERVE_S:
            h.wfile.write(b" ")
            h.wfile.flush()
            srv.stop.wait(interval)

    return behaviour


def drip_headers(interval: float) -> Behaviour:
    """The status line, then a header line one byte every ``interval`` seconds."""

    def behaviour(h: Handler, srv: LocalOverpass) -> None:
        h.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
        h.wfile.flush()
        srv.started.set()
        t0 = time.monotonic()
        while not srv.stop.is_set() and time.monotonic() - t0 < SERVE_S:
            h.wfile.write(b"a")
            h.wfile.flush()
            srv.stop.wait(interval)

    return behaviour


def silent(h: Handler, srv: LocalOverpass) -> None:
    """Accept the query and never answer."""
    srv.started.set()
    srv.stop.wait(SERVE_S)


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


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests must talk to 127.0.0.1 directly, whatever the environment says."""
    for var in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def overpass() -> Iterator[LocalOverpass]:
    srv = LocalOverpass()
    yield srv
    srv.close()


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Sizes of the files in each temporary fetch folder just before it is removed."""
    sizes: dict[str, int] = {}
    real = shutil.rmtree

    def spy(path: Any, *args: Any, **kw: Any) -> None:
        p = Path(path)
        if p.name.startswith(".fetch-") and p.is_dir():
            sizes.update({f.name: f.stat().st_size for f in p.iterdir()})
        real(path, *args, **kw)

    monkeypatch.setattr(fetch_mod.shutil, "rmtree", spy)
    return sizes


def _tree(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


def _leftovers(root: Path) -> list[Path]:
    return sorted(root.glob(".fetch-*"))


def _cache_with_keepsake(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    root.mkdir()
    (root / "keep.txt").write_text("x")
    return root


def _one_sentence(msg: str) -> None:
    assert "\n" not in msg and msg.endswith(".")


# --- total deadline ------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [drip_body(0.5), drip_body(2.0), drip_headers(0.5), silent],
    ids=["body-drip-0.5s", "body-drip-2s", "header-drip", "silent"],
)
def test_timeout_is_a_total_deadline(
    overpass: LocalOverpass, tmp_path: Path, behaviour: Behaviour
) -> None:
    overpass.behaviour = behaviour
    root = _cache_with_keepsake(tmp_path)
    before = _tree(root)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="within 2 s") as info:
        fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=2)
    elapsed = time.monotonic() - t0
    assert elapsed < 20  # the drip alone would run for SERVE_S = 60 s
    assert overpass.started.is_set()
    msg = str(info.value)
    _one_sentence(msg)
    assert overpass.endpoint in msg and "--timeout" in msg and "--osm FILE" in msg
    assert _tree(root) == before


def test_cli_slow_drip_exits_2_with_one_line(overpass: LocalOverpass, tmp_path: Path) -> None:
    overpass.behaviour = drip_body(0.5)
    boundary = tmp_path / "area.geojson"
    boundary.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[117.8095, 36.0495], '
        "[117.8135, 36.0495], [117.8135, 36.0535], [117.8095, 36.0535], [117.8095, 36.0495]]]}}]}",
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    args = ["fetch", "--boundary", str(boundary), "--cache", str(cache)]
    t0 = time.monotonic()
    r = CliRunner().invoke(main, [*args, "--endpoint", overpass.endpoint, "--timeout", "2"])
    assert time.monotonic() - t0 < 20
    assert r.exit_code == 2, r.output  # FetchError.exit_code (1 before _errors.py changes)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and "within 2 s" in lines[0]
    assert _tree(cache) == []


def test_answer_breaking_off_is_a_clean_error(overpass: LocalOverpass, tmp_path: Path) -> None:
    overpass.behaviour = breaks_off
    root = _cache_with_keepsake(tmp_path)
    with pytest.raises(FetchError, match="could not be read to the end") as info:
        fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    _one_sentence(str(info.value))
    assert [p.name for p in _tree(root)] == ["keep.txt"]


def test_local_server_answer_is_saved(overpass: LocalOverpass, tmp_path: Path) -> None:
    res = fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10)
    assert res.osm_path.read_bytes() == overpass_xml()
    assert [p.name for p in tmp_path.iterdir()] == ["osm"]


# --- size limit ----------------------------------------------------------------------


def test_default_limit_is_generous() -> None:
    assert DEFAULT_MAX_BYTES == 2 * 1024**3
    assert fetch_mod._format_bytes(DEFAULT_MAX_BYTES) == "2 GiB"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_is_refused_at_the_decompressed_limit(
    overpass: LocalOverpass, tmp_path: Path, written: dict[str, int], encoding: str
) -> None:
    zeros = OSM_HEAD + b"\0" * (50 << 20)  # 50 MiB once decompressed
    bomb = gzip.compress(zeros, 9) if encoding == "gzip" else zlib.compress(zeros, 9)
    assert len(bomb) < (1 << 20)  # ...from well under 1 MiB on the wire
    overpass.behaviour = encoded(bomb, encoding)
    root = _cache_with_keepsake(tmp_path)
    cap = 4 << 20
    with pytest.raises(FetchError, match=r"limit of 4 MiB \(4194304 bytes") as info:
        fetch_osm(
            AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=30, max_bytes=cap
        )
    msg = str(info.value)
    _one_sentence(msg)
    assert "max_bytes" in msg and "decompression" in msg and overpass.endpoint in msg
    assert 0 < written["tiny.osm"] <= cap
    assert [p.name for p in _tree(root)] == ["keep.txt"]


def test_gzip_answer_within_limit_is_saved_decoded(overpass: LocalOverpass, tmp_path: Path) -> None:
    overpass.behaviour = encoded(gzip.compress(overpass_xml()), "gzip")
    res = fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10)
    assert res.osm_path.read_bytes() == overpass_xml()
    assert res.meta["bytes"] == len(overpass_xml())


def test_endless_answer_is_cut_at_the_limit(
    overpass: LocalOverpass, tmp_path: Path, written: dict[str, int]
) -> None:
    overpass.behaviour = endless
    root = _cache_with_keepsake(tmp_path)
    with pytest.raises(FetchError, match=r"exceeds the limit of 1 MiB"):
        fetch_osm(
            AREA,
            "tiny",
            cache_dir=root,
            endpoint=overpass.endpoint,
            timeout=30,
            max_bytes=1 << 20,
        )
    assert written["tiny.osm"] <= 1 << 20
    assert [p.name for p in _tree(root)] == ["keep.txt"]


def test_announced_oversize_is_refused_before_reading(
    overpass: LocalOverpass, tmp_path: Path, written: dict[str, int]
) -> None:
    overpass.behaviour = announces(10**12)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="announces 1000000000000 bytes, more than the limit"):
        fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=30)
    assert time.monotonic() - t0 < 20  # did not wait for the body (the server stalls)
    assert written == {}  # refused before the temporary file was opened


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1000"])
def test_max_bytes_must_be_a_positive_int(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        fetch_osm(AREA, "tiny", cache_dir=tmp_path, max_bytes=bad)


# --- cleanup on every exit path ------------------------------------------------------


def test_sigterm_handler_only_during_the_download(overpass: LocalOverpass, tmp_path: Path) -> None:
    def ok_recording(h: Handler, srv: LocalOverpass) -> None:
        srv.seen["handler"] = signal.getsignal(signal.SIGTERM)
        ok(h, srv)

    overpass.behaviour = ok_recording
    before = signal.getsignal(signal.SIGTERM)
    fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10)
    assert signal.getsignal(signal.SIGTERM) is before
    assert overpass.seen["handler"] is not before


def test_fetch_in_a_worker_thread_leaves_signals_alone(
    overpass: LocalOverpass, tmp_path: Path
) -> None:
    before = signal.getsignal(signal.SIGTERM)
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["res"] = fetch_osm(
                AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10
            )
        except BaseException as exc:  # pragma: no cover - reported below
            out["exc"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    assert not t.is_alive() and "exc" not in out
    assert out["res"].osm_path.is_file()
    assert signal.getsignal(signal.SIGTERM) is before


def test_interrupt_after_download_leaves_no_trace(
    overpass: LocalOverpass, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(tmp: Path, url: str) -> dict[str, int]:
        assert tmp.is_file()
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch_mod, "_validate_download", interrupted)
    root = _cache_with_keepsake(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    assert [p.name for p in _tree(root)] == ["keep.txt"]


#: Runs one fetch in a child process, with default SIGTERM / SIGINT behaviour.
CHILD = """
import signal, sys
import shapely
from gcgeo.fetch import fetch_osm
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.default_int_handler)
area = shapely.box(117.8095, 36.0495, 117.8135, 36.0535)
fetch_osm(area, "tiny", cache_dir=sys.argv[1], endpoint=sys.argv[2], timeout=120)
"""


def _child_mid_download(overpass: LocalOverpass, root: Path) -> subprocess.Popen[bytes]:
    """Start a child fetching from the dripping server; return once its download runs."""
    overpass.behaviour = drip_body(0.2)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), overpass.endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if not overpass.started.wait(60):
        proc.kill()
        _, err = proc.communicate(timeout=30)
        pytest.fail(f"the child never started downloading: {err.decode(errors='replace')}")
    deadline = time.monotonic() + 10
    while not _leftovers(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_leftovers(root)) == 1, "the child's temporary folder should exist mid-download"
    return proc


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_download_cleans_up(overpass: LocalOverpass, tmp_path: Path, sig: int) -> None:
    root = _cache_with_keepsake(tmp_path)
    proc = _child_mid_download(overpass, root)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    if sig == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM, err  # still "killed by SIGTERM"
    else:
        assert proc.returncode != 0
        assert b"KeyboardInterrupt" in err or proc.returncode == -signal.SIGINT
    assert [p.name for p in _tree(root)] == ["keep.txt"]


@posix_only
def test_sigkill_leftover_is_removed_by_the_next_fetch(
    overpass: LocalOverpass, tmp_path: Path
) -> None:
    root = _cache_with_keepsake(tmp_path)
    proc = _child_mid_download(overpass, root)
    (left,) = _leftovers(root)
    proc.kill()  # SIGKILL: no cleanup can run
    proc.communicate(timeout=30)  # ...and reap it, or its pid would still look alive
    assert proc.returncode == -signal.SIGKILL
    assert left.is_dir()  # what a killed fetch leaves behind
    overpass.behaviour = ok
    res = fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    assert res.osm_path.read_bytes() == overpass_xml()
    assert not left.exists() and _leftovers(root) == []


def test_only_abandoned_temporary_folders_are_removed(
    overpass: LocalOverpass, tmp_path: Path
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    prefix = fetch_mod._tmp_prefix()  # .fetch-<host>-<this pid>-
    live = root / f"{prefix}live"  # a fetch running in another thread of this process
    other_host = root / ".fetch-someotherhost-1-fresh"
    old_unknown = root / ".fetch-oldformat"
    for d in (live, other_host, old_unknown):
        d.mkdir()
        (d / "tiny.osm").write_bytes(b"<osm")
    hours_ago = time.time() - 2 * 3600
    for p in (old_unknown / "tiny.osm", old_unknown):
        os.utime(p, (hours_ago, hours_ago))
    (root / ".fetch-not-a-folder").write_text("x")
    fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    assert live.is_dir() and other_host.is_dir()  # maybe in use: kept
    assert not old_unknown.exists()  # untouched for over an hour: removed
    assert (root / ".fetch-not-a-folder").is_file()
