"""Fetch, coverage and report check that the streets are where the study area is.

The Overpass server is the local stand-in of :mod:`overpass_server` (127.0.0.1 only);
its answer is the tiny test grid moved to Beijing, asked for with 钢城区's boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner
from overpass_server import Handler, LocalOverpass, clear_proxies, one_sentence, tree
from test_fetch import AREA, overpass_xml

from gcgeo import settings
from gcgeo._errors import InputError
from gcgeo.cli import main
from gcgeo.fetch import check_extent_overlap, fetch_osm
from gcgeo.layers import load_layer


def beijing_xml() -> bytes:
    """The tiny grid (117.81 E, 36.05 N) moved to Beijing (116.31 E, 40.05 N)."""
    text = overpass_xml().decode("utf-8")
    return text.replace('lon="117.8', 'lon="116.3').replace('lat="36.0', 'lat="40.0').encode()


def beijing_answer(h: Handler, srv: LocalOverpass) -> None:
    body = beijing_xml()
    h.send_response(200)
    h.send_header("Content-Type", "application/osm3s+xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxies(monkeypatch)


@pytest.fixture
def overpass() -> Iterator[LocalOverpass]:
    srv = LocalOverpass()
    srv.behaviour = beijing_answer
    yield srv
    srv.close()


@pytest.fixture
def gangcheng(tmp_path: Path) -> Path:
    """钢城区's shipped boundary as a GeoJSON file."""
    p = tmp_path / "gangcheng.geojson"
    load_layer("boundary").to_file(p, driver="GeoJSON")
    return p


@pytest.fixture
def beijing_osm_file(tmp_path: Path) -> Path:
    p = tmp_path / "beijing.osm"
    p.write_bytes(beijing_xml())
    return p


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    msg = lines[0].removeprefix("Error: ")
    one_sentence(msg)
    return msg


def _names_both_extents(msg: str) -> None:
    assert "lon 116.3100" in msg and "lat 40.0500" in msg  # the streets, in Beijing
    assert "lon 117.6834–117.9696, lat 35.9906–36.2890" in msg  # 钢城区


def test_fetch_osm_refuses_answer_for_another_place(
    overpass: LocalOverpass, tmp_path: Path
) -> None:
    boundary = shapely.union_all(load_layer("boundary").to_crs(settings.WGS84).geometry.values)
    root = tmp_path / "cache"
    with pytest.raises(InputError) as exc:
        fetch_osm(boundary, "gangcheng", cache_dir=root, endpoint=overpass.endpoint, timeout=10)
    msg = str(exc.value)
    one_sentence(msg)
    _names_both_extents(msg)
    assert "cover only 0% of the study area" in msg and "--osm FILE" in msg
    assert not (root / "osm").exists()  # nothing saved


def test_cli_fetch_for_another_place_exits_2(
    overpass: LocalOverpass, tmp_path: Path, gangcheng: Path
) -> None:
    cache = tmp_path / "cache"
    args = ["fetch", "--boundary", str(gangcheng), "--cache", str(cache)]
    r = CliRunner().invoke(main, [*args, "--endpoint", overpass.endpoint, "--timeout", "10"])
    assert r.exit_code == 2, r.output
    msg = _error_line(r.stderr)
    _names_both_extents(msg)
    assert "--osm FILE" in msg
    assert not (cache / "osm").exists()


def test_fetch_keeps_an_answer_that_covers_the_area(
    overpass: LocalOverpass, tmp_path: Path
) -> None:
    overpass.behaviour = lambda h, srv: _send(h, overpass_xml())
    res = fetch_osm(AREA, "tiny", cache_dir=tmp_path, endpoint=overpass.endpoint, timeout=10)
    assert res.osm_path.is_file()


def _send(h: Handler, body: bytes) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/osm3s+xml")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def test_overlap_threshold_is_the_setting() -> None:
    # the tiny grid's hull is 0.003° square; a 0.003° x 0.03° boundary is 10 % covered
    lon = [117.81, 117.813, 117.813, 117.81]
    lat = [36.05, 36.05, 36.053, 36.053]
    tall = shapely.box(117.81, 36.05, 117.813, 36.08)
    with pytest.raises(InputError, match=r"cover only 10% .* \(at least 20% needed\); do this\."):
        check_extent_overlap(lon, lat, tall, "The file", "do this")
    assert check_extent_overlap(lon, lat, tall, "The file", "do this", min_share=0.05) == (
        pytest.approx(0.1, abs=0.01)
    )
    assert settings.MIN_EXTENT_OVERLAP == 0.2


@pytest.mark.parametrize("command", ["coverage", "report"])
def test_given_osm_elsewhere_than_boundary_exits_2(
    command: str, tmp_path: Path, gangcheng: Path, beijing_osm_file: Path
) -> None:
    out = tmp_path / "out"
    args = [command, "--osm", str(beijing_osm_file), "--boundary", str(gangcheng)]
    r = CliRunner().invoke(main, [*args, "--out", str(out), "--no-cache"])
    assert r.exit_code == 2, r.output
    msg = _error_line(r.stderr)
    _names_both_extents(msg)
    assert "pass an --osm extract that covers the --boundary area" in msg
    assert tree(out) == []


@pytest.mark.parametrize("command", ["coverage", "report"])
def test_zero_origins_in_the_district_exits_2(
    command: str, tmp_path: Path, beijing_osm_file: Path
) -> None:
    out = tmp_path / "out"
    args = [command, "--osm", str(beijing_osm_file), "--origin-rule", "all"]
    r = CliRunner().invoke(main, [*args, "--out", str(out), "--no-cache"])
    assert r.exit_code == 2, r.output
    msg = _error_line(r.stderr)
    assert "zero origins" in msg and "lon 116.3100" in msg and "--layers" in msg
    assert tree(out) == []
