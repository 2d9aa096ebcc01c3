"""Tests for gcgeo.maps.html: offline pages, report fragments, and pages in Chromium.

The Chromium tests (marked ``browser``) open the offline HTML with no network
(``unshare -n`` where allowed); without Chromium they skip with a reason, or fail when
``GCGEO_REQUIRE_BROWSER`` is set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gcgeo import maps

from .mapdata import ARTIFACTS, CRS, KINDERGARTEN, full_map, origins_frame

REMOTE_TAG = re.compile(
    r"<script[^>]*\bsrc\s*=\s*[\"']?https?://|<link[^>]*\bhref\s*=\s*[\"']?https?://|"
    r"@import\s+url\(\s*[\"']?https?://",
    re.IGNORECASE,
)


def test_offline_html_has_no_remote_scripts_or_styles(edges, facilities, areas) -> None:
    online = maps.to_html(full_map(edges, facilities, areas))
    assert REMOTE_TAG.search(online)  # folium's CDN links: the regex does catch them
    page = maps.to_html(full_map(edges, facilities, areas, offline=True))
    assert not REMOTE_TAG.search(page)
    assert not re.search(r"url\(\s*[\"']?(?!data:)[^)]*\.png", page)  # CSS images inlined
    assert "data:image/png;base64," in page
    assert "L.Icon.Default.mergeOptions" in page
    assert re.search(r"\.leaflet-container", page)  # leaflet.css inlined
    # making an already-rendered map offline drops the CDN links it had collected
    m = full_map(edges, facilities, areas)
    maps.to_html(m)
    assert not REMOTE_TAG.search(maps.to_html(maps.make_offline(m)))


GLOBAL_CSS = re.compile(r"(^|[}\s,>])(html|body|\*|#map)\s*[{,]", re.MULTILINE)


def _style_blocks(text: str) -> list[str]:
    return re.findall(r"<style[^>]*>(.*?)</style>", text, re.DOTALL)


def test_two_fragments_have_distinct_ids_and_no_global_css(edges, facilities, areas) -> None:
    a = maps.to_fragment(full_map(edges, facilities, areas, offline=True), height="400px")
    b = maps.to_fragment(maps.basemap_streets(edges, maps.new_map(edges, offline=True)))
    page = f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{a}{b}</body></html>"
    markup = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", a + b, flags=re.DOTALL)
    ids = re.findall(r"""<[^>]*\bid\s*=\s*["']?([\w-]+)""", markup)
    assert len(ids) >= 6 and len(ids) == len(set(ids))
    for frag in (a, b):
        assert frag.lstrip().startswith('<div id="gcgeo-map-')
        assert frag.count('class="folium-map"') == 1
        assert "<html" not in frag and "<meta" not in frag and "<body" not in frag
        for css in _style_blocks(frag):
            assert not GLOBAL_CSS.search(css), css[:200]
    assert "height:400px" in a
    assert page.count("leaflet-container") >= 1  # leaflet.css present (inlined)


# --------------------------------------------------------------------------- Chromium


def _chromium() -> str:
    exe = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if exe is None:
        if os.environ.get("GCGEO_REQUIRE_BROWSER"):
            pytest.fail(
                "GCGEO_REQUIRE_BROWSER is set but Chromium is missing (apt-get install chromium).",
                pytrace=False,
            )
        pytest.skip("no Chromium on this machine (apt-get install chromium); browser test skipped")
    return exe


def _run_chromium(url: str, tmp: Path, *extra: str) -> tuple[str, str, list[str]]:
    """Run headless Chromium; return (stdout, stderr, URLs the page itself requested)."""
    net_log = tmp / "net.json"
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=5000",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={net_log}",
        *extra,
        url,
    ]
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n", *cmd]  # no network at all
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr, _page_requests(net_log)


def _page_requests(net_log: Path) -> list[str]:
    """URLs requested by the page (browser-internal update/time checks have no initiator)."""
    data = json.loads(net_log.read_text(encoding="utf-8"))
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in data["events"]
        if e["type"] == start
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
    ]


def _console_errors(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line
        and ("Uncaught" in line or "is not defined" in line or "Error" in line)
        and "source: file://" in line
    ]


@pytest.mark.browser
def test_chromium_net_log_detector_sees_outside_requests(tmp_path: Path) -> None:
    # control: a page that does ask an outside host must be caught by the same checks
    page = tmp_path / "control.html"
    page.write_text(
        '<html><body><img src="http://example.invalid/x.png"><script>nope();</script></body></html>'
    )
    _, stderr, urls = _run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert "http://example.invalid/x.png" in urls
    assert any("nope is not defined" in line for line in _console_errors(stderr))


@pytest.mark.browser
def test_offline_map_renders_in_chromium_without_network(
    tmp_path, edges, facilities, areas
) -> None:
    m = full_map(edges, facilities, areas, offline=True)
    o = origins_frame()
    maps.gaps_layer(o.to_crs(CRS), KINDERGARTEN, m)
    page = tmp_path / "map.html"
    page.write_text(maps.to_html(m), encoding="utf-8")
    dom, stderr, urls = _run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert "leaflet-container" in dom
    paths = re.findall(r'<path[^>]*class="[^"]*leaflet-interactive', dom)
    assert len(paths) >= 10  # coloured streets, facility circles, areas
    # the legend moved into the map's bottom-right control corner and is shown
    assert re.search(
        r'leaflet-right"><div id="gcgeo_legend_\w+" class="gcgeo-legend leaflet-control" '
        r'style="display: block;',
        dom,
    )
    assert "不可达 unreachable" in dom
    assert "leaflet-control-layers" in dom and "leaflet-control-scale" in dom
    assert "© OpenStreetMap contributors" in dom
    assert '<img src="x"' not in dom  # the evil name never becomes an element
    assert _console_errors(stderr) == []
    outside = [u for u in urls if not u.startswith(("file://", "data:"))]
    assert outside == []
    # a screenshot for people to look at (gitignored)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "offline_map.png"
    _run_chromium(page.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1000,800")
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
def test_two_fragments_render_in_one_page(tmp_path, edges, facilities, areas) -> None:
    a = maps.to_fragment(full_map(edges, facilities, areas, offline=True), height="400px")
    b = maps.to_fragment(maps.basemap_streets(edges, maps.new_map(edges, offline=True)), "400px")
    page = tmp_path / "report.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><h1>报告</h1>{a}"
        f"<p>…</p>{b}</body></html>",
        encoding="utf-8",
    )
    dom, stderr, urls = _run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert len(re.findall(r'class="folium-map leaflet-container', dom)) == 2
    assert _console_errors(stderr) == []
    assert [u for u in urls if not u.startswith(("file://", "data:"))] == []


def test_library_writes_no_files(tmp_path, monkeypatch, edges, facilities, areas) -> None:
    monkeypatch.chdir(tmp_path)
    m = full_map(edges, facilities, areas, offline=True)
    maps.to_html(m), maps.to_fragment(m)
    maps.static_map(edges=edges)
    assert list(tmp_path.iterdir()) == []


def test_legend_folds_and_never_covers_much_of_the_map() -> None:
    """The legend is a <details> the reader can fold; it is at most 40 % of the map's height
    and starts folded on maps shorter than 600 px (the report pages' maps)."""
    import folium

    from gcgeo.maps._elements import Legend

    m = folium.Map()
    legend = Legend()
    legend.set_section("街道 Streets", [("line", "#1a9850", "0–5 分钟 min")])
    m.add_child(legend)
    page = m.get_root().render()
    assert "<details open><summary" in page and "图例 Legend</summary>" in page
    assert "Math.round(h * 0.4)" in page and "if (h < 600)" in page
