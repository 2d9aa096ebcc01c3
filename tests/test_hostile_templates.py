"""Hostile text never becomes code: every HTML-writing function, swept with names holding
Jinja2 syntax, script breakers, quotes, ``javascript:``, right-to-left and very long text.

Two things are checked for each: nothing is evaluated (no ``49`` for ``{{ 7*7 }}``, no
folder made by a ``cycler.__init__.__globals__.os.mkdir`` payload, no loop output for
``{% for %}``), and the text is in the page in its escaped form, so a browser shows it
literally. A real Chromium then opens a map and a report built from a hostile OSM file and a
hostile catalogue and finds no injected element and no executed payload.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from osmxml import hand_grid

from gcgeo import maps, report
from gcgeo.cli import main
from gcgeo.columns import COMPLETENESS, dist_col, min_col, reached_col
from gcgeo.escape import css_colour, html_text, js_string, link_path, render_figure
from gcgeo.scenario_summary import summary_html

CRS = "EPSG:4548"
#: a side effect the template payload below would have if it ran
MARKER_NAME = "gcgeo_pwned_marker"


def hostile(marker_dir: Path) -> list[str]:
    """Names a stranger could type into OSM or a planner's file."""
    mk = f"{{{{ cycler.__init__.__globals__.os.mkdir('{marker_dir / MARKER_NAME}') }}}}"
    return [
        "幼儿园 {{ 7*7 }}",
        "{% for x in range(3) %}LOOP{% endfor %}",
        "{# gone #}comment",
        mk,
        "幼儿园 {{",
        "}} {% endraw %} {%",
        "</script><script>document.body.setAttribute('data-pwned','1')</script>",
        "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">",
        "' onmouseover='alert(1)' x='",
        "javascript:alert(1)",
        "\u202eمرحبا RTL \u2028 line \u2029 para",
        "长" * 3000,
    ]


def _decoded(page: str) -> str:
    """The page with JSON ``\\uXXXX`` escapes decoded (folium embeds data as JSON)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def assert_safe(page: str, names: list[str], marker_dir: Path) -> None:
    """Nothing evaluated; every name present in escaped form; no raw name anywhere."""
    text = _decoded(page)
    assert not (marker_dir / MARKER_NAME).exists(), "a template payload ran"
    assert "LOOPLOOP" not in text and "幼儿园 49" not in text
    for name in names:
        assert html_text(name) in text, name[:60]  # shown, as text
        if any(c in name for c in "<>\"'{}&"):
            # the raw form never appears in the file: neither as markup nor as a template
            # (inside scripts it stands only as an escaped string, see js_string)
            assert name not in page, name[:60]


# --------------------------------------------------------------------------- helpers


def test_helpers_per_context() -> None:
    assert html_text("<a href='x'>{{ 7*7 }}</a> & \"") == (
        "&lt;a href=&#x27;x&#x27;&gt;&#123;&#123; 7*7 &#125;&#125;&lt;/a&gt; &amp; &quot;"
    )
    assert html_text(None) == "" and html_text(float("nan")) == ""
    js = js_string("</script>{{x}}\u2028'&")
    assert js == '"\\u003c/script\\u003e\\u007b\\u007bx\\u007d\\u007d\\u2028\\u0027\\u0026"'
    assert json.loads(js) == "</script>{{x}}\u2028'&"  # still the same string for JavaScript
    assert js_string("钢城区") == '"钢城区"'  # readable in the page source
    assert css_colour("#1a9850") == "#1a9850"
    for bad in ("red;background:url(x)", "#12345", "expression(alert(1))", '#fff"'):
        with pytest.raises(ValueError, match="not a CSS colour"):
            css_colour(bad)
    assert link_path("javascript:alert(1)") == "javascript%3Aalert%281%29"
    assert link_path("zone_东拓.html") == "zone_%E4%B8%9C%E6%8B%93.html"


def test_render_figure_keeps_an_unescaped_template_literal() -> None:
    """The second layer: even text that skipped escaping is shown, not run."""
    import folium

    m = folium.Map(location=[36.0, 117.8], tiles=None)
    folium.Marker([36.0, 117.8], tooltip="x {{ 7*7 }} y", popup="p {{ 6*7 }} q").add_to(m)
    page = render_figure(m.get_root())
    assert "x {{ 7*7 }} y" in page and "x 49 y" not in page and "p 42 q" not in page
    # a control: folium's own render does evaluate it, so the test above can fail
    m2 = folium.Map(location=[36.0, 117.8], tiles=None)
    folium.Marker([36.0, 117.8], tooltip="x {{ 7*7 }} y").add_to(m2)
    assert "x 49 y" in m2.get_root().render()


# --------------------------------------------------------------------------- maps sweep


def _edges(names: list[str]) -> gpd.GeoDataFrame:
    n = len(names)
    xs = 573000.0 + 100.0 * np.arange(n + 1)
    lines = shapely.linestrings(
        np.stack([np.column_stack([xs[:-1], np.full(n, 3992000.0)]),
                  np.column_stack([xs[1:], np.full(n, 3992000.0)])], axis=1)
    )  # fmt: skip
    return gpd.GeoDataFrame(
        {"u": np.arange(n), "v": np.arange(n) + 1, "length": 100.0, "name": names,
         "highway": "residential", "walk_min": np.linspace(1, 20, n)},
        geometry=lines, crs=CRS,
    )  # fmt: skip


def _category(name: str) -> dict:
    return {"id": "kindergarten", "name_zh": name, "name_en": name, "max_distance_m": 300}


def test_every_map_layer_with_hostile_names(tmp_path: Path) -> None:
    names = hostile(tmp_path)
    n = len(names)
    edges = _edges(names)
    pts = shapely.get_coordinates(edges.geometry.values)[::2]  # each street's start
    fac = gpd.GeoDataFrame(
        {"facility_id": names, "name": names, "category": "kindergarten", "source": names},
        geometry=shapely.points(pts), crs=CRS,
    )  # fmt: skip
    x0, y0, x1, y1 = edges.total_bounds
    boxes = [shapely.box(x0 + i, y0 - 50, x0 + i + 0.5, y1 + 50) for i in range(n)]
    areas = gpd.GeoDataFrame(
        {"code": names, "name_zh": names, "name_en": names, "source": names,
         "confidence": names},
        geometry=boxes, crs=CRS,
    )  # fmt: skip
    planned = gpd.GeoDataFrame(
        {"id": names, "name_zh": names, "name_en": names, "category": names,
         "status": names, "confidence": names},
        geometry=shapely.points(pts), crs=CRS,
    )  # fmt: skip
    origins = gpd.GeoDataFrame(
        {dist_col("kindergarten"): np.arange(n) * 50.0,
         min_col("kindergarten"): np.arange(n) * 1.0,
         reached_col("kindergarten"): np.arange(n) < 3,
         COMPLETENESS: np.linspace(0, 1, n)},
        geometry=shapely.points(pts + [0, 30]), crs=CRS,
    )  # fmt: skip
    iso = gpd.GeoDataFrame({"minutes": [5.0]}, geometry=[edges.union_all().buffer(30)], crs=CRS)
    for name in names:
        m = maps.new_map(edges, offline=True)
        maps.page_title(m, name)
        maps.title_box(m, name)
        maps.basemap_streets(edges, m, name=name)
        maps.streets_by_minutes(edges, "walk_min", m, name=name)
        maps.facilities_layer(fac, m, categories=[_category(name)])
        maps.areas_layer(areas, m, name=name)
        maps.planned_facilities_layer(planned, m, name=name)
        maps.origins_by_distance(origins, _category(name), m)
        maps.gaps_layer(origins, _category(name), m, cell_size=20)
        maps.completeness_layer(origins, m)
        maps.isochrone_layer(iso, m, name=name)
        page = maps.to_html(m)
        fragment = maps.to_fragment(m, height=name)
        # every data name is in every page (as street, facility, area, legend text)
        assert_safe(page, names, tmp_path)
        assert_safe(fragment, [name], tmp_path)
        assert f"<title>{html_text(name)}</title>" in page


def test_map_colours_are_checked() -> None:
    edges = _edges(["a", "b"])
    with pytest.raises(ValueError, match="not a CSS colour"):
        maps.areas_layer(
            gpd.GeoDataFrame(
                {"code": ["x"], "name_zh": ["x"], "name_en": ["x"], "confidence": ["official"]},
                geometry=[edges.union_all().buffer(10)],
                crs=CRS,
            ),
            colour='red" onmouseover="alert(1)',
        )


# --------------------------------------------------------------------------- report pages


def test_report_pages_with_hostile_names(tmp_path: Path) -> None:
    import pandas as pd

    names = hostile(tmp_path)
    for name in names:
        table = pd.DataFrame(
            {"category": [name], "name_zh": [name], "name_en": [name], "threshold_m": [300.0],
             "threshold_status": [name], "origins": [3], "population": [np.nan],
             "covered": [2], "share": [2 / 3], "median_dist_m": [120.0]}
        )  # fmt: skip
        area = {"code": name, "name_zh": name, "name_en": name, "source": name,
                "confidence": name}  # fmt: skip
        page = report.area_report_html(area, name, table, 0.5, label=name, meta={name: name})
        assert_safe(page, [name], tmp_path)
        rep = report.AreaReport(
            layer="zones", code=name, name_zh=name, name_en=name, confidence=name,
            filename=name, origins=3, mean_completeness=0.5, html=page,
        )  # fmt: skip
        index = report.index_html([rep], label=name, extra_links={name: name})
        assert_safe(index, [name], tmp_path)
        assert f"href='{link_path(name)}'" in index


def test_scenario_summary_with_hostile_names(tmp_path: Path) -> None:
    from types import SimpleNamespace

    import pandas as pd

    names = hostile(tmp_path)
    for name in names:
        sc = SimpleNamespace(name=name, description=name, persona=name, speed_mps=1.1,
                             add_facilities=[], remove_facilities=[], add_links=[],
                             source=name)  # fmt: skip
        table = pd.DataFrame(
            {"category": [name], "area_name_zh": [name], "area_name_en": [name],
             "threshold_m": [300.0], "before_share": [0.5], "after_share": [0.6],
             "delta_share": [0.1], "gained": [1], "lost": [0]}
        )  # fmt: skip
        result = SimpleNamespace(scenarios=[sc], tables={name: table})
        assert_safe(summary_html(result), [name], tmp_path)


# --------------------------------------------------------------------------- the CLI, end to end


def _hostile_town(tmp_path: Path) -> Path:
    names = hostile(tmp_path)
    b = hand_grid()
    for k, name in enumerate(names[:8]):
        b.node(f"H{k}", 20.0 + 30 * k, 110.0, amenity="kindergarten", name=name)
    b.ways[0] = (b.ways[0][0], b.ways[0][1], {"highway": "residential", "name": names[0]})
    b.ways[1] = (b.ways[1][0], b.ways[1][1], {"highway": "residential", "name": names[6]})
    return b.write(tmp_path / "hostile.osm")


def _hostile_catalogue(tmp_path: Path) -> Path:
    """The kindergarten category renamed by a hostile planner file (names are TOML strings)."""
    names = hostile(tmp_path)
    zh, en = json.dumps(names[3]), json.dumps(names[6])
    p = tmp_path / "hostile.toml"
    p.write_text(
        f'[[category]]\nid = "kindergarten"\nname_zh = {zh}\nname_en = {en}\ntier = 5\n'
        'max_distance_m = 300\nstatus = "checked"\n'
        'rules = [ { tags = ["amenity=kindergarten"] } ]\n',
        encoding="utf-8",
    )
    return p


def test_map_command_on_hostile_osm_runs_nothing(tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    r = CliRunner().invoke(
        main, ["map", "--osm", str(_hostile_town(tmp_path)), "--category", "kindergarten",
               "--offline", "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert_safe(out.read_text(encoding="utf-8"), hostile(tmp_path)[:8], tmp_path)


def _report(tmp_path: Path) -> Path:
    out = tmp_path / "rep"
    r = CliRunner().invoke(
        main, ["report", "--osm", str(_hostile_town(tmp_path)), "--catalogue",
               str(_hostile_catalogue(tmp_path)), "--categories", "kindergarten",
               "--cell", "100", "--origin-rule", "all", "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return out


def test_report_command_with_hostile_catalogue_runs_nothing(tmp_path: Path) -> None:
    out = _report(tmp_path)
    names = hostile(tmp_path)
    pages = sorted(out.glob("*.html"))
    assert len(pages) == 13  # index, print.html and 11 area pages (zones, wings, renewal)
    # the town lies in the central zone: its page has the table, map and legend
    assert_safe((out / "zone_center.html").read_text(encoding="utf-8"), names[3:7:3], tmp_path)
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert_safe(text, [], tmp_path)
        assert names[3] not in text and names[6] not in text, p.name


# --------------------------------------------------------------------------- a real browser


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("GCGEO_REQUIRE_BROWSER"):
            pytest.fail("GCGEO_REQUIRE_BROWSER is set but no Chromium is installed.")
        pytest.skip("no Chromium on this machine (apt-get install chromium); browser test skipped")
    return exe


def _dom(page: Path, tmp: Path) -> str:
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=5000",
           "--dump-dom", page.as_uri()]  # fmt: skip
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        cmd = ["unshare", "-n", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("which", ["map", "report"])
def test_browser_finds_no_injected_element(tmp_path: Path, which: str) -> None:
    if which == "map":
        page = tmp_path / "m.html"
        r = CliRunner().invoke(
            main, ["map", "--osm", str(_hostile_town(tmp_path)), "--category",
                   "kindergarten", "--offline", "--out", str(page)],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    else:
        page = next(p for p in sorted(_report(tmp_path).glob("zone_*.html")))
    dom = _dom(page, tmp_path)
    assert 'class="leaflet-container' in dom or "leaflet-container" in dom  # the map drew
    assert "data-pwned" in dom  # the payload text is on the page (as text) ...
    assert not re.search(r"<body[^>]*data-pwned", dom)  # ... but no injected script ran
    assert not re.search(r"<img[^>]*src=\"x\"", dom)  # no injected element
    assert "LOOPLOOP" not in dom and "幼儿园 49" not in dom
    if which == "report":
        # the hostile category name shows as text in the table, legend and layer control
        # (DOM text nodes serialise < > & as entities, quotes and braces as they are)
        shown = html.escape(hostile(tmp_path)[6], quote=False)
        assert dom.count(shown) >= 3
