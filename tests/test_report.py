"""``gcgeo report`` and gcgeo.report on the hand-built town (tests/osmxml.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from osmxml import X0, Y0, hand_grid

from gcgeo.catalogue import load_catalogue
from gcgeo.cli import main
from gcgeo.demo import DEMO_LABEL, is_synthetic_osm
from gcgeo.report import area_table

EVIL = "<img src=x onerror=alert(1)>"

# Hand-placed origins (metres from X0, Y0), each a few metres off exactly one street, so the
# snap is unambiguous. Kindergartens: K (150, 20) -> row y=0 at x=150, leg 20; K2 (300, 310)
# -> end G (300, 300) of the private way N32-G (100 m), leg 10. School S (0, 250) -> N02
# (0, 200), leg 50 (its footway to Q is foot=no).
#   A (50, 5)    pop 100: K  5 + 100 + 20 = 125            S  5 + 50 + 200 + 50 = 305
#   B (305, 150) pop  50: K2 5 + 50 + 100 + 10 = 165       S  5 + 50 + 300 + 50 = 405
#   C (3, 150)   pop 200: K  3 + 150 + 150 + 20 = 323 > 300  S  3 + 50 + 50 = 103
#   D (150, 197) pop 150: K2 3 + 150 + 100 + 10 = 263      S  3 + 150 + 50 = 203
ORIGINS = {"A": (50, 5, 100), "B": (305, 150, 50), "C": (3, 150, 200), "D": (150, 197, 150)}
KG_SHARE = (100 + 50 + 150) / 500  # A, B, D within 300 m
# Medians and completeness are weighted by population like the shares (issue item 4; these
# were the unweighted (165 + 263) / 2, (203 + 305) / 2 and 3.5 / 4 before). Kindergarten:
# 125 (100), 165 (50), 263 (150), 323 (200): the cumulative 100, 150, 300 passes half of 500
# at D's 263. School: 103 (200), 203 (150), ...: 200, 350 passes 250 at D's 203.
KG_MEDIAN = 263
SCHOOL_MEDIAN = 203
MEAN_COMPLETENESS = (100 * 1 + 50 * 1 + 200 * 0.5 + 150 * 1) / 500


def _unescape_js(page: str) -> str:
    """The page with the \\uXXXX escapes of folium's embedded JSON decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


@pytest.fixture
def origin_layer(tmp_path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"name": list(ORIGINS), "pop": [p for _, _, p in ORIGINS.values()]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y, _ in ORIGINS.values()],
        crs="EPSG:4548",
    ).to_crs("EPSG:4326")
    p = tmp_path / "homes.geojson"
    gdf.to_file(p, driver="GeoJSON")
    return p


def _shares(page: str) -> dict[str, float]:
    rows = re.findall(r"<tr data-category='([a-z_]+)'>.*?data-share='([0-9.]*)'", page)
    return {c: float(v) for c, v in rows}


def test_report_zone_table_matches_hand_values(town: Path, origin_layer: Path, tmp_path: Path):
    out = tmp_path / "rep"
    r = run("report", "--osm", str(town), "--origins", str(origin_layer), "--population", "pop",
            "--categories", "kindergarten,primary_school", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig").set_index("category")
    assert cov.loc["kindergarten", "share"] == pytest.approx(KG_SHARE, abs=1e-4)
    assert cov.loc["primary_school", "share"] == 1.0
    page = (out / "zone_center.html").read_text(encoding="utf-8")
    assert _shares(page) == pytest.approx(
        {"kindergarten": cov.loc["kindergarten", "share"], "primary_school": 1.0}, abs=1e-4
    )
    assert "60.0%" in page and "100.0%" in page and "500" in page  # share, population
    assert f"<td>{KG_MEDIAN:,.0f}</td>" in page and f"<td>{SCHOOL_MEDIAN:,.0f}</td>" in page
    assert f"{MEAN_COMPLETENESS:.1%}" in page
    # bilingual title (Chinese first), honest draft note, threshold status, attribution
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title.startswith("中优 Central optimisation")
    assert "草案 draft — not official" in page and "已核实 checked" in page
    assert "© OpenStreetMap contributors" in page and DEMO_LABEL not in page
    by_area = pd.read_csv(out / "coverage_by_area.csv", encoding="utf-8-sig").set_index("code")
    assert by_area.loc["center", "share_kindergarten"] == pytest.approx(KG_SHARE, abs=1e-4)
    # an area with no origins gets a page saying so; the index links every page
    east = (out / "zone_east.html").read_text(encoding="utf-8")
    assert "No origins lie inside this area" in east and "<table class='coverage'>" not in east
    index = (out / "index.html").read_text(encoding="utf-8")
    # the district summary: whole study, then every zone and wing (hand values: all five
    # origins lie in 中优 centre, so the district and the centre share 60 %, others none)
    matrix = index.split("<h3>分类 × 分区覆盖率", 1)[1].split("</table>", 1)[0]
    kg = re.search(r"<tr><td class='l'>幼儿园[^<]*</td>(.*?)</tr>", matrix).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", kg)
    assert cells[:2] == [f"{KG_SHARE:.1%}", f"{KG_SHARE:.1%}"] and set(cells[2:5]) == {"—"}
    assert "class='worst'" in kg  # the centre is also the lowest area with origins
    worst = index.split("Worst-served areas", 1)[1].split("</ol>", 1)[0]
    assert "zone_center.html" in worst and f"{MEAN_COMPLETENESS:.1%}" in worst
    pages = sorted(p.name for p in out.glob("*.html") if p.name not in ("index.html", "print.html"))
    assert len(pages) == 11  # 5 zones, 3 wings (一体两翼), 3 renewal areas
    assert {"zone_center.html", "wing_old_town.html", "renewal_songjiazhuang.html"} <= set(pages)
    assert sorted(set(re.findall(r"href='((?:zone|wing|renewal)_[^']+)'", index))) == pages
    # every page has its print map, and print.html holds them all, one section per area
    assert sorted(p.name for p in (out / "maps").glob("*.png")) == [
        n.removesuffix(".html") + ".png" for n in pages
    ]
    printed = (out / "print.html").read_text(encoding="utf-8")
    assert printed.count("<section class='area'>") == 11 and "@media print" in printed


def test_area_table_library_hand_values(town: Path, origin_layer: Path) -> None:
    from gcgeo.coverage import compute_coverage, origins_from_layer
    from gcgeo.study import open_study

    s = open_study(town, cache=False)
    cats = load_catalogue().select("kindergarten,primary_school")
    o = origins_from_layer(gpd.read_file(origin_layer), s.network.crs, "pop")
    res = compute_coverage(s.network, s.facilities, cats, o)
    t = area_table(res.origins, cats).set_index("category")
    assert t.loc["kindergarten", "share"] == pytest.approx(KG_SHARE, abs=1e-4)
    assert t.loc["kindergarten", "covered"] == 3 and t.loc["kindergarten", "population"] == 500
    assert t.loc["kindergarten", "median_dist_m"] == pytest.approx(KG_MEDIAN, abs=0.1)
    empty = area_table(res.origins.iloc[:0], cats)
    assert empty["share"].isna().all() and (empty["origins"] == 0).all()


def test_report_escapes_names_and_offline(tmp_path: Path) -> None:
    b = hand_grid()
    b.node("EV", 250.0, 120.0, amenity="kindergarten", name=EVIL)
    osm = b.write(tmp_path / "evil.osm")
    out = tmp_path / "rep"
    r = run("report", "--osm", str(osm), "--categories", "kindergarten", "--cell", "100",
            "--origin-rule", "all", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    page = _unescape_js((out / "zone_center.html").read_text(encoding="utf-8"))
    assert html.escape(EVIL) in page  # the facility is on the map, its name escaped
    for p in out.glob("*.html"):
        text = p.read_text(encoding="utf-8")
        assert EVIL not in _unescape_js(text), p.name
        for tag in re.findall(r"<img\b[^>]*>", _unescape_js(text)):  # only the print maps
            assert re.fullmatch(r"<img src='maps/[A-Za-z0-9_-]+\.png' alt='[^'<>]*'>", tag), tag
        # offline (the default): no scripts or stylesheets from the web
        assert not re.search(r"<script[^>]+src=['\"]?https?:", text), p.name
        assert not re.search(r"<link[^>]+href=['\"]?https?:", text), p.name
        assert "tile.openstreetmap.org" not in text
    # --online uses the CDN and OSM tiles
    r = run("report", "--osm", str(osm), "--categories", "kindergarten", "--online",
            "--out", str(tmp_path / "online"))  # fmt: skip
    assert r.exit_code == 0, r.output
    online = (tmp_path / "online" / "zone_center.html").read_text(encoding="utf-8")
    assert re.search(r"<script[^>]+src=['\"]https://", online)
    assert "openstreetmap.org" in online


def test_report_overwrite_and_bad_inputs(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    args = ["report", "--osm", str(town), "--categories", "kindergarten", "--out", str(out)]
    assert run(*args).exit_code == 0
    before = (out / "zone_center.html").read_bytes()
    r = run(*args)
    assert r.exit_code == 2 and "--overwrite" in r.stderr and "Error:" in r.stderr
    assert (out / "zone_center.html").read_bytes() == before
    assert run(*args, "--overwrite").exit_code == 0
    # a file only one report would write blocks the run too, before any work
    other = tmp_path / "rep2"
    other.mkdir()
    (other / "renewal_songjiazhuang.html").write_text("mine", encoding="utf-8")
    r = run("report", "--osm", str(town), "--out", str(other))
    assert r.exit_code == 2 and "renewal_songjiazhuang.html" in r.stderr
    assert (other / "renewal_songjiazhuang.html").read_text(encoding="utf-8") == "mine"
    assert not (other / "index.html").exists()
    r = run("report", "--osm", str(town), "--categories", "nope", "--out", str(tmp_path / "x"))
    assert r.exit_code == 2 and "'nope'" in r.stderr
    r = run("report", "--osm", str(town), "--layers", str(tmp_path / "none"),
            "--out", str(tmp_path / "x"))  # fmt: skip
    assert r.exit_code == 2 and "--layers" in r.stderr
    assert not (tmp_path / "x").exists()


def test_synthetic_demo_osm_is_labelled(tmp_path: Path) -> None:
    from gcgeo.demo import write_demo_osm

    demo = tmp_path / "demo.osm"
    write_demo_osm(demo)
    assert is_synthetic_osm(demo) and not is_synthetic_osm(hand_grid().write(tmp_path / "t.osm"))
    out = tmp_path / "rep"
    r = run("report", "--osm", str(demo), "--categories", "kindergarten,bus_stop",
            "--json", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["synthetic"] is True and data["offline"] is True
    for p in out.iterdir():
        if p.is_dir():  # maps/: the print maps carry the label in their footer (pixels)
            assert sorted(x.suffix for x in p.iterdir()) == [".png"] * 11
            continue
        text = p.read_text(encoding="utf-8-sig")
        assert DEMO_LABEL in text, p.name
        if p.suffix == ".html":
            assert DEMO_LABEL in re.search(r"<title>(.*?)</title>", text).group(1), p.name
    # the demo covers the centre zone: its report has origins and a table
    assert "<table class='coverage'>" in (out / "zone_center.html").read_text(encoding="utf-8")


def test_report_map_category_colours_the_streets(town: Path, tmp_path: Path) -> None:
    """--map-category chooses which category's walking minutes colour the report maps."""
    out = tmp_path / "rep"
    r = run("report", "--osm", str(town), "--categories", "kindergarten,primary_school",
            "--map-category", "primary_school", "--no-cache", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    page = _unescape_js((out / "zone_center.html").read_text(encoding="utf-8"))
    assert "小学 步行时间 Primary school walking time" in page
    assert "幼儿园/托儿所 步行时间" not in page
