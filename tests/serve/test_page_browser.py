"""The live page in a real headless Chromium (Playwright), served by uvicorn on 127.0.0.1.

Skips, saying why, only when no Chromium exists and ``GCGEO_REQUIRE_BROWSER`` is unset.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gcgeo.layers import load_layer
from gcgeo.pdf import find_chromium
from gcgeo.serve import Session
from gcgeo.serve.app import make_app

from .serverutil import Server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    exe = find_chromium()
    if exe is None:
        if os.environ.get("GCGEO_REQUIRE_BROWSER"):
            pytest.fail(
                "GCGEO_REQUIRE_BROWSER is set but Chromium is missing (apt-get install chromium)."
            )
        pytest.skip("no Chromium on this machine (apt-get install chromium); browser test skipped")
    return exe


def _gaining_point(demo: dict, category: str) -> tuple[float, float]:
    """A street point where one more facility of ``category`` covers more origins."""
    net = demo["study"].network
    rng = np.random.default_rng(0)
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    for node in rng.permutation(net.n_nodes)[:200]:
        s = Session(demo["data"])
        s.add_facility(category, float(lon[node]), float(lat[node]))
        d = s.shares(category)["district"]
        if d["share_after"] > d["share_before"] + 0.002:  # visible at 0.1 %
            return float(lon[node]), float(lat[node])
    raise AssertionError("no street point gains coverage")


def test_click_adds_a_facility_and_undo_restores_it(demo: dict) -> None:
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    lon, lat = _gaining_point(demo, "kindergarten")
    app = make_app(demo["data"], planned=load_layer("planned_facilities"))
    with Server(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            urls: list[str] = []
            page.on("request", lambda r: urls.append(r.url))
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            page.select_option("#category", "kindergarten")
            page.wait_for_load_state("networkidle")
            cell = "#share-district td.after"
            before = page.text_content(cell)
            # click the map at the chosen street point
            box = page.locator("#map").bounding_box()
            pt = page.evaluate(
                f"(() => {{ const p = window.gcgeo.map.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
            )
            page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])
            page.wait_for_selector("body[data-updates='1']", timeout=20_000)
            after = page.text_content(cell)
            api = page.evaluate(
                "fetch('api/state?category=kindergarten').then(r => r.json())"
                ".then(d => d.shares.district.share_after)"
            )
            assert after == f"{100 * api:.1f}%"
            assert after != before
            ms = page.evaluate("window.gcgeo.lastMs")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "serve_page.png"))
            page.click("#undo")
            page.wait_for_selector("body[data-updates='2']", timeout=20_000)
            assert page.text_content(cell) == before
            assert page.text_content("#error") == ""
            # nothing left 127.0.0.1
            outside = [u for u in urls if not u.startswith(url)]
            assert not outside, outside[:5]
            print(f"click to redrawn map: {ms:.0f} ms; {len(urls)} requests, all local")
        finally:
            browser.close()
