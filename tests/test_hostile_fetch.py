"""``gcgeo fetch`` against hostile Overpass answers, served by a local HTTP server.

The server (:mod:`overpass_server`) listens on 127.0.0.1 only; every test is
bounded in time (the server's own answers stop after at most ``SERVE_S``
seconds). What the download itself does about slow, endless, oversized or
interrupted answers is tested in ``test_download.py``; here is what
:func:`~gcgeo.fetch.fetch_osm` and the command add around it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from overpass_server import LocalOverpass, clear_proxies, drip_body

# private aliases: the tests below are unchanged since these moved to overpass_server.py
from overpass_server import cache_with_keepsake as _cache_with_keepsake
from overpass_server import tree as _tree
from test_fetch import AREA, overpass_xml

import gcgeo.fetch as fetch_mod
from gcgeo.cli import main
from gcgeo.fetch import fetch_osm


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests must talk to 127.0.0.1 directly, whatever the environment says."""
    clear_proxies(monkeypatch)


@pytest.fixture
def overpass() -> Iterator[LocalOverpass]:
    srv = LocalOverpass()
    yield srv
    srv.close()


# --- the command and the saved answer ------------------------------------------------


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


def test_local_server_answer_is_saved(overpass: LocalOverpass, tmp_path: Path) -> None:
    res = fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10)
    assert res.osm_path.read_bytes() == overpass_xml()
    assert [p.name for p in tmp_path.iterdir()] == ["osm"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "1000"])
def test_max_bytes_must_be_a_positive_int(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        fetch_osm(AREA, "tiny", cache_dir=tmp_path, max_bytes=bad)


# --- cleanup after the download ------------------------------------------------------


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
