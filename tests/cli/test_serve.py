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

import pytest

from gcgeo._errors import InputError

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


def test_the_exported_session_runs_through_gcgeo_scenario(tmp_path: Path) -> None:
    """Edits on the page → scenario.toml → the `gcgeo scenario` command: its delta.csv has the
    page's shares, district-wide and per zone (to the 4 decimals it writes)."""
    import numpy as np
    import pandas as pd

    from gcgeo import settings
    from gcgeo.cli.options import OriginArgs, StudyArgs
    from gcgeo.cli.serve import build_data
    from gcgeo.demo import write_demo_osm
    from gcgeo.serve import Session

    osm = tmp_path / "demo.osm"
    write_demo_osm(osm)
    study = StudyArgs(str(osm), None, None, "wgs84", False, False, None, settings.MAX_SNAP_M,
                      settings.WALK_SPEED_MPS, None, None, True)  # fmt: skip
    data = build_data(study, OriginArgs(None, settings.CELL_M, "auto", None, None), None,
                      settings.THRESHOLD_BASIS, tmp_path)  # fmt: skip
    s = Session(data)
    net = data.net
    rng = np.random.default_rng(6)
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    for node in rng.integers(0, net.n_nodes, 5):
        s.add_facility("clinic", float(lon[node]), float(lat[node]), "社区卫生站")
    a = int(rng.integers(net.n_nodes))
    gap = np.hypot(*(net.xy - net.xy[a]).T)
    b = int(np.flatnonzero((gap > 100) & (gap < 200))[0])  # a street node 100-200 m away
    s.add_link((float(lon[a]), float(lat[a])), (float(lon[b]), float(lat[b])))
    toml = tmp_path / "session.toml"
    toml.write_text(s.scenario_toml(), encoding="utf-8")
    zones = Path(__file__).resolve().parents[2] / "layers" / "zones.geojson"
    r = run("scenario", str(toml), "--osm", str(osm), "--categories", "clinic", "--areas",
            str(zones), "--no-cache", "--out", str(tmp_path / "out"))  # fmt: skip
    assert r.exit_code == 0, r.output
    delta = pd.read_csv(tmp_path / "out" / "delta.csv", dtype={"area_code": str})
    delta = delta.set_index("area_code")
    shares = s.shares("clinic")
    # origins basis: a share is covered / origins, so the covered counts must match exactly
    # (delta.csv rounds shares to 3 decimals for people)
    pairs = [("all", shares["district"])] + list(shares["zones"].items())
    checked = 0
    for code, row in pairs:
        n = int(delta.at[code, "origins"])
        if n == 0:
            assert row["share_after"] is None
            continue
        assert int(delta.at[code, "after_covered"]) == round(row["share_after"] * n), code
        assert int(delta.at[code, "before_covered"]) == round(row["share_before"] * n), code
        checked += 1
    assert checked >= 4
    assert shares["district"]["share_after"] > shares["district"]["share_before"]


def test_serve_with_a_dem_times_walks_and_says_so(tmp_path: Path) -> None:
    """build_data with --dem: the network carries the slopes, thresholds are the tiers'
    minutes at the walker's speed (bus stop: 10 min at 1.1 m/s = 660 m flat-equivalent) and
    the page's banner says slopes are counted."""
    pytest.importorskip("rasterio")
    from gcgeo import settings
    from gcgeo.cli.options import OriginArgs, StudyArgs
    from gcgeo.cli.serve import build_data
    from gcgeo.demo import DEMO_LABEL, write_demo_osm
    from gcgeo.demo_dem import write_demo_dem

    osm = tmp_path / "demo.osm"
    info = write_demo_osm(osm)
    dem = write_demo_dem(tmp_path / "dem.tif", info.bounds)
    study = StudyArgs(str(osm), None, None, "wgs84", False, False, None, settings.MAX_SNAP_M,
                      settings.WALK_SPEED_MPS, None, None, True, dem=(dem,),
                      walk_function="tobler_elderly")  # fmt: skip
    data = build_data(study, OriginArgs(None, settings.CELL_M, "auto", None, None), None,
                      None, tmp_path)  # fmt: skip
    assert data.net.costs is not None and data.net.costs.function == "tobler_elderly"
    assert data.category("bus_stop", "adult", None).max_distance_m == pytest.approx(660.0)
    assert "坡度计入" in data.label and DEMO_LABEL not in data.label
    with pytest.raises(InputError, match="cannot be used with --dem"):
        build_data(study, OriginArgs(None, settings.CELL_M, "auto", None, None), None,
                   "distance", tmp_path)  # fmt: skip
