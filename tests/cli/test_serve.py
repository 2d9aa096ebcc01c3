"""``gcgeo serve``: refusals before any work, and a real server process answering."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .cliutil import run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_non_local_host_needs_a_token() -> None:
    r = run("serve", "--host", "0.0.0.0")
    assert r.exit_code == 2
    assert "--token" in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_a_short_token_is_refused() -> None:
    r = run("serve", "--host", "0.0.0.0", "--token", "abc")
    assert r.exit_code == 2 and "at least 12 characters" in r.output


def test_a_port_in_use_is_one_sentence() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = run("serve", "--port", str(port))
    assert r.exit_code == 2
    assert f"127.0.0.1:{port}" in r.output and "--port" in r.output


def test_a_missing_osm_file_is_one_sentence(tmp_path: Path) -> None:
    r = run("serve", "--osm", str(tmp_path / "nope.osm"), "--port", str(_free_port()))
    assert r.exit_code == 2 and "nope.osm" in r.output and "Traceback" not in r.output


def test_serves_the_demo_until_interrupted(tmp_path: Path) -> None:
    port = _free_port()
    exe = Path(sys.executable).with_name("gcgeo")
    env = {**os.environ, "GCGEO_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        meta = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/meta", timeout=2) as r:
                    meta = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.3)
        assert meta is not None, proc.stderr.read().decode() if proc.poll() is not None else ""
        assert "synthetic" in meta["label"]
        assert any(c["id"] == "kindergarten" for c in meta["categories"])
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, 130), err.decode()
    assert "Traceback" not in err.decode()
    assert list(tmp_path.iterdir()) == [] or all(p.name == "cache" for p in tmp_path.iterdir())
