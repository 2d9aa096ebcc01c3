"""gcgeo.fetch / ``gcgeo fetch``: the HTTP layer is mocked, nothing touches the network."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import requests
import shapely
from click.testing import CliRunner
from conftest import tiny_osm_xml

from gcgeo._errors import FetchError, InputError, OutputExistsError
from gcgeo.cli import main
from gcgeo.fetch import (
    ATTRIBUTION,
    buffer_polygon,
    fetch_osm,
    overpass_filters,
    overpass_query,
)
from gcgeo.osm import read_osm

# a 0.004° square around the tiny test grid (117.81–117.813 E, 36.05–36.053 N)
AREA = shapely.box(117.8095, 36.0495, 117.8135, 36.0535)


def overpass_xml() -> bytes:
    """The tiny grid as Overpass returns it: its generator, a note and a meta line."""
    body = tiny_osm_xml().replace(
        '<osm version="0.6" generator="test">',
        '<osm version="0.6" generator="Overpass API 0.7.62.1 084b4234">\n'
        "<note>The data included in this document is from www.openstreetmap.org. "
        "The data is made available under ODbL.</note>\n"
        '<meta osm_base="2026-11-20T10:00:00Z"/>',
    )
    return body.encode("utf-8")


def _response(body: bytes, status: int = 200, reason: str = "OK", ctype: str = "") -> Any:
    r = requests.models.Response()
    r.status_code = status
    r.reason = reason
    r.raw = io.BytesIO(body)
    r.headers["Content-Type"] = ctype or "application/osm3s+xml"
    r.url = "https://overpass.example/api/interpreter"
    return r


class FakeHTTP:
    """Stands in for ``requests.Session.request`` and records each call.

    ``answer``: an exception to raise, a response, or a function making a fresh one.
    """

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def __call__(self, session: Any, method: str, url: str, **kw: Any) -> Any:
        self.calls.append({"method": method, "url": url, **kw})
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer() if callable(self.answer) else self.answer


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch):
    def install(answer: Any) -> FakeHTTP:
        fake = FakeHTTP(answer)

        def request(self: requests.Session, method: str, url: str, **kw: Any) -> Any:
            return fake(self, method, url, **kw)

        monkeypatch.setattr(requests.Session, "request", request)
        return fake

    return install


@pytest.fixture
def boundary_file(tmp_path: Path) -> Path:
    p = tmp_path / "area.geojson"
    p.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(AREA),
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return p


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


# --- query building ----------------------------------------------------------------


def test_buffer_polygon_area_matches_formula() -> None:
    # a ~1 km square buffered by 500 m: a + perimeter*r + pi r^2
    sq = shapely.box(
        117.80, 36.05, 117.80 + 1000 / (111_320 * math.cos(math.radians(36.05))), 36.059
    )
    buf = buffer_polygon(sq, 500)
    import pyproj

    geod = pyproj.Geod(ellps="WGS84")
    a0 = abs(geod.geometry_area_perimeter(sq)[0])
    p0 = abs(geod.geometry_area_perimeter(sq)[1])
    got = abs(geod.geometry_area_perimeter(buf)[0])
    # simplification may shave up to a tenth of the buffer off the rounded corners
    assert a0 + p0 * 450 + math.pi * 450**2 < got <= (a0 + p0 * 500 + math.pi * 500**2) * 1.001
    assert buf.contains(sq)


def test_buffer_polygon_rejects_projected_and_points() -> None:
    with pytest.raises(InputError, match="EPSG:4326"):
        buffer_polygon(shapely.box(500000, 4000000, 501000, 4001000))
    with pytest.raises(InputError, match="not a polygon"):
        buffer_polygon(shapely.Point(117.8, 36.05))


def test_overpass_filters_cover_catalogue_without_all_buildings() -> None:
    f = overpass_filters()
    assert '["amenity"]' in f and '["shop"]' in f and '["leisure"]' in f
    assert '["highway"="bus_stop"]' in f
    assert '["landuse"="residential"]' in f
    assert '["building"]' not in f
    (bld,) = [x for x in f if x.startswith('["building"~')]
    for v in ("school", "hospital", "residential", "apartments"):
        assert f"|{v}|" in bld.replace("(", "|").replace(")", "|")


def test_overpass_query_shape() -> None:
    q = overpass_query(buffer_polygon(AREA, 100), timeout=60)
    assert q.startswith("[out:xml][timeout:60];")
    assert 'way["highway"](poly:"' in q
    assert "(._; >;);" in q and q.rstrip().endswith("out body;")
    # poly strings are "lat lon" pairs
    first = q.split('poly:"', 1)[1].split('"', 1)[0].split()
    lat, lon = float(first[0]), float(first[1])
    assert 36.0 < lat < 36.1 and 117.7 < lon < 117.9


# --- library ---------------------------------------------------------------------


def test_fetch_writes_osm_and_metadata(http, tmp_path: Path) -> None:
    fake = http(_response(overpass_xml()))
    res = fetch_osm(
        AREA, "tiny", cache_dir=tmp_path, endpoint="https://overpass.example/api", timeout=30
    )
    assert res.osm_path == tmp_path / "osm" / "tiny.osm"
    assert res.osm_path.read_bytes() == overpass_xml()
    (call,) = fake.calls
    assert call["method"].upper() == "POST"
    assert call["url"] == "https://overpass.example/api/interpreter"
    assert call["timeout"] == 30
    assert call["data"]["data"].startswith("[out:xml]")
    meta = json.loads(res.meta_path.read_text(encoding="utf-8"))
    assert meta["attribution"] == ATTRIBUTION == "© OpenStreetMap contributors, ODbL 1.0"
    assert meta["endpoint"] == "https://overpass.example/api/interpreter"
    assert meta["query"] == call["data"]["data"]
    assert meta["fetched_utc"].endswith("+00:00")
    assert meta["counts"] == {"highway_ways": 8, "poi_nodes": 1}
    assert meta["buffer_m"] == 1000.0
    lon0, lat0, lon1, lat1 = meta["bbox"]
    assert lon0 < 117.8095 and lon1 > 117.8135 and lat0 < 36.0495 and lat1 > 36.0535
    # the cached file goes through the ordinary reader
    assert len(read_osm(res.osm_path).ways) == 8
    assert sorted(p.name for p in _files(tmp_path / "osm")) == ["tiny.json", "tiny.osm"]
    assert [p.name for p in tmp_path.iterdir()] == ["osm"]  # no temp folder left behind


def test_fetch_refuses_to_overwrite_before_downloading(http, tmp_path: Path) -> None:
    fake = http(lambda: _response(overpass_xml()))
    fetch_osm(AREA, "tiny", cache_dir=tmp_path)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        fetch_osm(AREA, "tiny", cache_dir=tmp_path)
    assert len(fake.calls) == 1
    fetch_osm(AREA, "tiny", cache_dir=tmp_path, overwrite=True)
    assert len(fake.calls) == 2


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (requests.exceptions.ConnectionError("Name or service not known"), "Could not reach"),
        (requests.exceptions.ReadTimeout("read timed out"), "within 5 s"),
        (
            _response(b"<html><body>504 Gateway Timeout</body></html>", 504, "Gateway Timeout"),
            "HTTP 504",
        ),
        (_response(b"<!DOCTYPE html><html><p>Oops</p></html>", ctype="text/html"), "HTML page"),
        (
            _response(
                b'<?xml version="1.0"?><osm version="0.6"><remark> runtime error: Query timed out '
                b'in "query" at line 3 after 181 seconds. </remark></osm>'
            ),
            "stopped the query",
        ),
        (_response(overpass_xml()[:1500]), "incomplete"),
        (
            _response(b'<?xml version="1.0"?>\n<osm version="0.6" generator="x">\n</osm>\n'),
            "no streets",
        ),
    ],
    ids=["offline", "timeout", "http504", "html", "remark", "truncated", "empty"],
)
def test_fetch_failures_leave_no_trace(http, tmp_path: Path, answer: Any, match: str) -> None:
    http(answer)
    root = tmp_path / "cache"
    root.mkdir()
    (root / "keep.txt").write_text("x")
    before = _files(root)
    with pytest.raises(FetchError, match=match) as info:
        fetch_osm(AREA, "tiny", cache_dir=root, timeout=5)
    assert _files(root) == before
    msg = str(info.value)
    assert "\n" not in msg
    if match in ("Could not reach", "within 5 s", "HTTP 504"):
        assert "--osm FILE" in msg and "Geofabrik" in msg


def test_fetch_refuses_answer_over_max_bytes(http, tmp_path: Path) -> None:
    http(lambda: _response(overpass_xml()))
    root = tmp_path / "cache"
    with pytest.raises(FetchError, match=r"exceeds the limit of 1 KiB \(1024 bytes") as info:
        fetch_osm(AREA, "tiny", cache_dir=root, max_bytes=1024)
    assert "max_bytes" in str(info.value) and "\n" not in str(info.value)
    assert not root.exists()
    # the same answer fits a limit of its own size
    res = fetch_osm(AREA, "tiny", cache_dir=root, max_bytes=len(overpass_xml()))
    assert res.osm_path.read_bytes() == overpass_xml()


def test_fetch_offline_does_not_create_cache_root(http, tmp_path: Path) -> None:
    http(requests.exceptions.ConnectionError("offline"))
    with pytest.raises(FetchError):
        fetch_osm(AREA, "tiny", cache_dir=tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_fetch_rejects_bad_name_and_endpoint(http, tmp_path: Path) -> None:
    fake = http(_response(overpass_xml()))
    with pytest.raises(InputError, match="--name"):
        fetch_osm(AREA, "../evil", cache_dir=tmp_path)
    with pytest.raises(InputError, match="http"):
        fetch_osm(AREA, "ok", cache_dir=tmp_path, endpoint="overpass.example")
    assert fake.calls == []


# --- CLI -------------------------------------------------------------------------


def test_cli_fetch_then_coverage_on_cached_file(http, tmp_path: Path, boundary_file: Path) -> None:
    http(_response(overpass_xml()))
    cache = tmp_path / "cache"
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["fetch", "--boundary", str(boundary_file), "--cache", str(cache), "--buffer", "200"],
    )
    assert r.exit_code == 0, r.output
    osm = cache / "osm" / "area.osm"
    assert osm.is_file() and (cache / "osm" / "area.json").is_file()
    assert "8 street ways" in r.output and "ODbL" in r.output
    meta = json.loads((cache / "osm" / "area.json").read_text(encoding="utf-8"))
    assert meta["area_source"] == f"file:{boundary_file}"
    assert meta["buffer_m"] == 200.0
    out = tmp_path / "out"
    r = runner.invoke(
        main,
        ["coverage", "--osm", str(osm), "--out", str(out), "--cache", str(cache)],
    )
    assert r.exit_code == 0, r.output
    csv = (out / "coverage.csv").read_text(encoding="utf-8-sig")
    assert "category" in csv.splitlines()[0].split(",")
    assert "kindergarten" in csv
    assert (out / "origins.gpkg").is_file()
    # the cached network entry sits beside the fetched file
    r = runner.invoke(main, ["cache", "list", "--cache", str(cache)])
    assert "network" in r.output and "osm" in r.output


def test_cli_fetch_offline_one_line_exit_2(http, tmp_path: Path, boundary_file: Path) -> None:
    http(requests.exceptions.ConnectionError("[Errno -3] Temporary failure in name resolution"))
    cache = tmp_path / "cache"
    cache.mkdir()
    r = CliRunner().invoke(main, ["fetch", "--boundary", str(boundary_file), "--cache", str(cache)])
    assert r.exit_code == 2  # FetchError.exit_code
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:")
    assert "--osm FILE" in lines[0] and "Geofabrik" in lines[0]
    assert _files(cache) == []


def test_cli_fetch_html_answer_is_clean_error(http, tmp_path: Path, boundary_file: Path) -> None:
    http(_response(b"<html><head><title>Error</title></head></html>", ctype="text/html"))
    r = CliRunner().invoke(
        main, ["fetch", "--boundary", str(boundary_file), "--cache", str(tmp_path / "c")]
    )
    assert r.exit_code == 2  # FetchError.exit_code
    assert "Traceback" not in r.output
    assert "HTML page" in r.stderr


def test_cli_fetch_existing_needs_overwrite(http, tmp_path: Path, boundary_file: Path) -> None:
    fake = http(lambda: _response(overpass_xml()))
    args = ["fetch", "--boundary", str(boundary_file), "--cache", str(tmp_path), "--name", "x"]
    runner = CliRunner()
    assert runner.invoke(main, args).exit_code == 0
    r = runner.invoke(main, args)
    assert r.exit_code == 2 and "--overwrite" in r.stderr
    assert len(fake.calls) == 1
    assert runner.invoke(main, [*args, "--overwrite"]).exit_code == 0


def test_cli_fetch_argument_errors(http, tmp_path: Path, boundary_file: Path) -> None:
    fake = http(_response(overpass_xml()))
    runner = CliRunner()
    r = runner.invoke(
        main,
        ["fetch", "--boundary", str(boundary_file), "--place", "钢城区", "--cache", str(tmp_path)],
    )
    assert r.exit_code == 2 and "not both" in r.stderr
    r = runner.invoke(main, ["fetch", "--boundary", str(tmp_path / "missing.geojson")])
    assert r.exit_code == 2 and "does not exist" in r.stderr
    assert fake.calls == []


def test_cli_fetch_default_boundary_needs_layers_or_option(
    http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "gcgeo.layers", None)  # as on a build without layers
    http(_response(overpass_xml()))
    r = CliRunner().invoke(main, ["fetch", "--cache", str(tmp_path)])
    assert r.exit_code == 2
    assert "--boundary FILE" in r.stderr and "--place" in r.stderr


def test_cli_fetch_place_offline(http, tmp_path: Path) -> None:
    http(requests.exceptions.ConnectionError("offline"))
    r = CliRunner().invoke(main, ["fetch", "--place", "钢城区, 济南市", "--cache", str(tmp_path)])
    assert r.exit_code == 2  # FetchError.exit_code
    assert "Nominatim" in r.stderr and "--boundary FILE" in r.stderr
    assert _files(tmp_path) == []


def test_cli_fetch_name_and_max_mb(http, tmp_path: Path, boundary_file: Path) -> None:
    """--name names the cached file; --max-mb caps the answer (after decompression)."""
    http(lambda: _response(overpass_xml()))
    r = CliRunner().invoke(
        main,
        ["fetch", "--boundary", str(boundary_file), "--cache", str(tmp_path), "--name", "mine",
         "--json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert Path(json.loads(r.stdout)["osm"]).name == "mine.osm"
    small = len(overpass_xml()) / 2 / 2**20  # half the answer, in MiB
    r = CliRunner().invoke(
        main,
        ["fetch", "--boundary", str(boundary_file), "--cache", str(tmp_path), "--name", "capped",
         "--max-mb", f"{small:.9f}"],
    )  # fmt: skip
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "counted after decompression" in r.stderr
    assert not (tmp_path / "osm" / "capped.osm").exists()
