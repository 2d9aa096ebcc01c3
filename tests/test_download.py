"""The download itself (:mod:`gcgeo.download`) against hostile Overpass answers.

A total deadline, a size limit counted after decompression, and cleanup of the
temporary folder on every exit path (errors, signals, a killed process), all
through :func:`gcgeo.fetch.fetch_osm` and a local HTTP server
(:mod:`overpass_server`: 127.0.0.1 only, every answer stops after at most
``SERVE_S`` seconds).
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from overpass_server import (
    OSM_HEAD,
    Behaviour,
    Handler,
    LocalOverpass,
    announces,
    breaks_off,
    clear_proxies,
    drip_body,
    drip_headers,
    encoded,
    endless,
    ok,
    posix_only,
    silent,
)

# private aliases: the tests below moved verbatim from test_hostile_fetch.py, which had these
from overpass_server import cache_with_keepsake as _cache_with_keepsake
from overpass_server import leftovers as _leftovers
from overpass_server import one_sentence as _one_sentence
from overpass_server import tree as _tree
from test_fetch import AREA, overpass_xml

import gcgeo.fetch as fetch_mod
from gcgeo._errors import FetchError
from gcgeo.download import format_bytes, tmp_prefix
from gcgeo.fetch import DEFAULT_MAX_BYTES, fetch_osm


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests must talk to 127.0.0.1 directly, whatever the environment says."""
    clear_proxies(monkeypatch)


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
    with pytest.raises(FetchError, match="within 2 s") as info:
        fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=2)
    # the fetch gave up while the server was still dripping (it would go on for SERVE_S)
    assert overpass.started.is_set() and not overpass.exhausted.is_set()
    msg = str(info.value)
    _one_sentence(msg)
    assert overpass.endpoint in msg and "--timeout" in msg and "--osm FILE" in msg
    assert _tree(root) == before


def test_answer_breaking_off_is_a_clean_error(overpass: LocalOverpass, tmp_path: Path) -> None:
    overpass.behaviour = breaks_off
    root = _cache_with_keepsake(tmp_path)
    with pytest.raises(FetchError, match="could not be read to the end") as info:
        fetch_osm(AREA, "tiny", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    _one_sentence(str(info.value))
    assert [p.name for p in _tree(root)] == ["keep.txt"]


# --- size limit ----------------------------------------------------------------------


def test_default_limit_is_generous() -> None:
    assert DEFAULT_MAX_BYTES == 2 * 1024**3
    assert format_bytes(DEFAULT_MAX_BYTES) == "2 GiB"


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
    prefix = tmp_prefix()  # .fetch-<host>-<this pid>-
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
