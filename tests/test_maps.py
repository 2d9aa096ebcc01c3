"""Tests for gcgeo.maps: isochrone geometry, folium HTML, offline assets, fragments, PNG.

Expected values are worked out by hand in the comments. The Chromium tests open the offline
HTML with no network (``unshare -n`` where allowed) and fail, not skip, without Chromium.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gcgeo import maps
from gcgeo._errors import DependencyError, InputError
from gcgeo.columns import COMPLETENESS, dist_col, min_col, reached_col

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
EVIL = "<img src=x onerror=alert(1)>"
CRS = "EPSG:4548"


def js(text: str) -> str:
    """How folium embeds a string inside JSON in a <script> (Jinja's htmlsafe tojson)."""
    return (
        json.dumps(text)[1:-1]
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def present(text: str, page: str) -> bool:
    """The text shows in the page: raw, as a JSON string, or HTML-escaped in either."""
    shown = html.escape(text)
    return any(t in page for t in (text, js(text), shown, js(shown)))


# --------------------------------------------------------------------------- synthetic data


def grid_edges(n: int = 6, step: float = 100.0) -> gpd.GeoDataFrame:
    """An n x n street grid near 钢城区 (117.80 E, 36.06 N) in EPSG:4548, one way per row/column."""
    x0, y0 = Transformer.from_crs(4326, CRS, always_xy=True).transform(117.80, 36.06)
    xs, ys = np.meshgrid(x0 + np.arange(n) * step, y0 + np.arange(n) * step)
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    u, v, way = [], [], []
    for r in range(n):
        for c in range(n):
            i = r * n + c
            if c < n - 1:
                u.append(i), v.append(i + 1), way.append(100 + r)
            if r < n - 1:
                u.append(i), v.append(i + n), way.append(200 + c)
    u_, v_ = np.array(u), np.array(v)
    return gpd.GeoDataFrame(
        {
            "u": u_,
            "v": v_,
            "length": step,
            "highway": np.where(np.array(way) == 100, "primary", "residential"),
            "name": [f"路{w}" for w in way],
            "way_id": way,
        },
        geometry=shapely.linestrings(np.stack([xy[u_], xy[v_]], axis=1)),
        crs=CRS,
    )


def line_edges(xs: list[float], y: float = 0.0) -> gpd.GeoDataFrame:
    """A straight street along x through nodes at ``xs`` (node i at xs[i])."""
    u = np.arange(len(xs) - 1)
    pts = np.column_stack([xs, np.full(len(xs), y)])
    return gpd.GeoDataFrame(
        {"u": u, "v": u + 1, "length": np.diff(xs)},
        geometry=shapely.linestrings(np.stack([pts[u], pts[u + 1]], axis=1)),
        crs=CRS,
    )


@pytest.fixture
def edges() -> gpd.GeoDataFrame:
    e = grid_edges()
    e["walk_min"] = np.linspace(0.0, 20.0, len(e))
    e.loc[0, "walk_min"] = np.inf
    e.loc[0, "name"] = EVIL
    return e


@pytest.fixture
def facilities(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = shapely.get_coordinates(edges.geometry.values)[[0, 7, 20]]
    return gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2", "f3"],
            "name": [EVIL, "阳光幼儿园", None],
            "category": ["kindergarten", "kindergarten", "clinic"],
            "source": ["osm", "osm", "csv"],
        },
        geometry=shapely.points(pts),
        crs=CRS,
    )


@pytest.fixture
def areas(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = edges.total_bounds
    return gpd.GeoDataFrame(
        {
            "code": ["ZY", "DT"],
            "name_zh": ["中优", "东拓"],
            "name_en": ["Central upgrade", "East expansion"],
            "source": ["plan 2021", "estimate"],
            "confidence": ["official", "draft"],
        },
        geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1)],
        crs=CRS,
    ).to_crs(4326)


def origins_frame(n: int = 3, cell: float = 100.0) -> gpd.GeoDataFrame:
    """n x n cell centres with hand-set kindergarten distances, reach and completeness."""
    x0, y0 = 560000.0, 3990000.0
    xs, ys = np.meshgrid(x0 + np.arange(n) * cell, y0 + np.arange(n) * cell)
    k = n * n
    minutes = np.array([1.0, 4.0, 6.0, 9.0, 12.0, 14.0, 20.0, np.inf, np.nan])[:k]
    return gpd.GeoDataFrame(
        {
            dist_col("kindergarten"): minutes * 66.0,
            min_col("kindergarten"): minutes,
            reached_col("kindergarten"): np.nan_to_num(minutes, nan=np.inf) <= 5,
            COMPLETENESS: np.array([1.0, 0.8, 0.5, 0.3, 0.1, np.nan, 1.0, 1.0, 0.0])[:k],
            "population": np.arange(1, k + 1) * 10.0,
        },
        geometry=shapely.points(xs.ravel(), ys.ravel()),
        crs=CRS,
    )


KINDERGARTEN = {
    "id": "kindergarten",
    "name_zh": "幼儿园",
    "name_en": "Kindergarten",
    "max_distance_m": 300,
}


def geojson_layers(m: folium.Map) -> list[folium.GeoJson]:
    out: list[folium.GeoJson] = []
    stack = list(m._children.values())
    while stack:
        el = stack.pop(0)
        if isinstance(el, folium.GeoJson):
            out.append(el)
        stack.extend(el._children.values())
    return out


def full_map(edges, facilities, areas, offline=False) -> folium.Map:
    m = maps.new_map(edges, offline=offline)
    maps.basemap_streets(edges, m)
    maps.streets_by_minutes(edges, "walk_min", m)
    maps.facilities_layer(facilities, m, categories=[KINDERGARTEN, "clinic"])
    maps.areas_layer(areas, m)
    return m


# --------------------------------------------------------------------------- bands, GCJ-02


def test_minute_band_edges() -> None:
    t = [0, 5, 5.01, 10, 12, 15, 15.5, np.nan, np.inf, -1]
    assert maps.minute_band(t).tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 4, 0]


# published pairs from the eviltransform test-suite (wgsLat, wgsLng, gcjLat, gcjLng)
GCJ_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


# --------------------------------------------------------------------------- isochrones


def test_reached_streets_straight_street_partial_from_u() -> None:
    e = line_edges([0, 100, 200, 300])
    # R = 150: segment 0-1 whole (100 m), segment 1-2 the first 50 m from node 1, 2-3 none
    got = maps.reached_streets(e, [0, 100, 200, 300], 150.0)
    assert got["edge"].tolist() == [0, 1]
    assert got["reached_m"].tolist() == [100.0, 50.0]
    assert shapely.get_coordinates(got.geometry.iloc[1]).tolist() == [[100, 0], [150, 0]]


def test_reached_streets_both_ends_and_unreached() -> None:
    # one 300 m segment B(0)–C(300), B at 100 m, C at 120 m (via some other path),
    # plus a segment between two unreached nodes (inf, NaN)
    e = gpd.GeoDataFrame(
        {"u": [0, 2], "v": [1, 3], "length": [300.0, 50.0]},
        geometry=[shapely.LineString([(0, 0), (300, 0)]), shapely.LineString([(0, 9), (50, 9)])],
        crs=CRS,
    )
    d = [100.0, 120.0, np.inf, np.nan]
    # R = 150: 50 m from B and 30 m from C, with a 220 m gap between them
    got = maps.reached_streets(e, d, 150.0)
    assert sorted(got["reached_m"].tolist()) == [30.0, 50.0]
    coords = sorted(shapely.get_coordinates(g).tolist() for g in got.geometry)
    assert coords == [[[0, 0], [50, 0]], [[270, 0], [300, 0]]]
    # R = 300: 200 m from B + 180 m from C >= 300 m, so the segment is whole
    got = maps.reached_streets(e, d, 300.0)
    assert got["edge"].tolist() == [0] and got["reached_m"].tolist() == [300.0]


def test_reached_streets_bent_geometry_uses_substring() -> None:
    # an L-shaped 200 m street (100 east, then 100 north), node u at 0 m; R = 150
    e = gpd.GeoDataFrame(
        {"u": [0], "v": [1], "length": [200.0]},
        geometry=[shapely.LineString([(0, 0), (100, 0), (100, 100)])],
        crs=CRS,
    )
    got = maps.reached_streets(e, [0.0, np.inf], 150.0)
    assert got["reached_m"].tolist() == [150.0]
    assert shapely.get_coordinates(got.geometry.iloc[0]).tolist() == [[0, 0], [100, 0], [100, 50]]


def _poly32(r: float) -> float:
    """Area of the 32-gon GEOS uses for a full round cap pair (quad_segs=8)."""
    return 0.5 * 32 * r * r * math.sin(2 * math.pi / 32)


def test_isochrone_area_straight_street() -> None:
    e = line_edges([0, 100, 200, 300])
    # 5 min at 0.5 m/s = 150 m reached; buffered by 10 m: 150 x 20 rectangle + two half caps
    iso = maps.isochrone_polygons(e, [0, 100, 200, 300], minutes=(5,), speed_mps=0.5, buffer_m=10)
    assert iso["minutes"].tolist() == [5.0]
    assert iso["reached_m"].tolist() == [150.0]
    expected = 150 * 20 + _poly32(10)  # 3000 + 312.14
    assert iso.geometry.iloc[0].area == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(3000 + math.pi * 100, rel=0.01)


def test_isochrone_area_cross_is_not_a_hull() -> None:
    # centre node 0, four 200 m arms to nodes 1..4; R = 150 m -> four 150 m arms
    ends = [(200, 0), (-200, 0), (0, 200), (0, -200)]
    e = gpd.GeoDataFrame(
        {"u": [0] * 4, "v": [1, 2, 3, 4], "length": [200.0] * 4},
        geometry=[shapely.LineString([(0, 0), p]) for p in ends],
        crs=CRS,
    )
    d = [0.0, 200.0, 200.0, 200.0, 200.0]
    iso = maps.isochrone_polygons(e, d, minutes=(5, 10), speed_mps=0.5, buffer_m=10)
    assert iso["reached_m"].tolist() == [600.0, 800.0]
    # two 300 x 20 bars crossing (6000 + 6000 - 400 overlap) + 4 half caps at the ends;
    # the caps at the centre fall inside the crossing bar
    assert iso.geometry.iloc[0].area == pytest.approx(11600 + 2 * _poly32(10), rel=1e-9)
    # 10 min = 300 m > 200 m: whole arms, 400 x 20 bars
    assert iso.geometry.iloc[1].area == pytest.approx(16000 - 400 + 2 * _poly32(10), rel=1e-9)
    # far smaller than the convex hull of the reached area (a diamond of ~ 2 * 160^2)
    assert iso.geometry.iloc[0].area < 0.5 * iso.geometry.iloc[0].convex_hull.area
    assert iso.geometry.iloc[1].contains(iso.geometry.iloc[0].buffer(-0.01))


def test_isochrone_unhappy_paths() -> None:
    e = line_edges([0, 100, 200])
    with pytest.raises(InputError, match="same network"):
        maps.reached_streets(e, [0.0, 1.0], 100)
    with pytest.raises(InputError, match="project it to metres"):
        maps.isochrone_polygons(e.set_crs(4326, allow_override=True), [0, 100, 200])
    with pytest.raises(InputError, match="positive"):
        maps.isochrone_polygons(e, [0, 100, 200], minutes=(0, 5))
    with pytest.raises(InputError, match="lacks column"):
        maps.reached_streets(e.drop(columns="length"), [0, 100, 200], 100)
    # nothing reached: an empty polygon, not an error
    iso = maps.isochrone_polygons(e, [np.inf] * 3, minutes=(5,))
    assert iso.geometry.iloc[0].is_empty and iso["reached_m"].tolist() == [0.0]


# --------------------------------------------------------------------------- folium HTML


def test_full_map_layers_legend_attribution(edges, facilities, areas) -> None:
    m = full_map(edges, facilities, areas)
    iso = maps.isochrone_polygons(edges, np.arange(36) * 50.0, minutes=(5, 10))
    maps.isochrone_layer(iso, m)
    page = maps.to_html(m)
    for layer in (
        "街道底图 Street basemap",
        "街道步行时间 Street walking time",
        "设施 Facilities: 幼儿园 Kindergarten",
        "设施 Facilities: clinic clinic",
        "片区 Areas",
        "步行等时圈 Walking isochrones",
    ):
        assert present(layer, page), layer
    # the legend is plain HTML inside the page, bilingual
    for text in BAND_TEXTS + ("幼儿园 Kindergarten (2)", "草案/估计 draft/estimate"):
        assert html.escape(text) in page, text  # legend labels are text, escaped
    assert "≤ 10 分钟 min 步行范围 walking area" in page
    assert "© OpenStreetMap contributors" in page
    assert "L.control.scale()" in page
    assert page.count("L.control.layers(") == 1
    # rendering twice (after adding another layer) still leaves one layer control
    maps.gaps_layer(origins_frame(), KINDERGARTEN, m)
    assert maps.to_html(m).count("L.control.layers(") == 1


BAND_TEXTS = tuple(maps.BAND_LABELS)


def test_streets_are_merged_per_band_and_way(edges) -> None:
    e = edges.copy()
    e["walk_min"] = np.where(e["way_id"] < 200, 3.0, 12.0)  # rows 0–5 min, columns 10–15 min
    m = maps.streets_by_minutes(e, "walk_min")
    layers = [g for g in geojson_layers(m) if g.data["features"]]
    feats = [f for g in layers for f in g.data["features"]]
    # 6 row ways + 6 column ways, each merged into one straight line of 2 vertices
    assert len(feats) == 12
    assert all(f["geometry"]["type"] == "LineString" for f in feats)
    assert all(len(f["geometry"]["coordinates"]) == 2 for f in feats)
    coords = np.array([c for f in feats for c in f["geometry"]["coordinates"]])
    assert np.all(np.round(coords, 6) == coords)  # rounded to 6 decimals
    bands = sorted({f["properties"]["band"] for f in feats})
    assert bands == sorted([maps.BAND_LABELS[0], maps.BAND_LABELS[2]])


def test_untrusted_names_are_escaped_in_popups_and_tooltips(edges, facilities, areas) -> None:
    evil_areas = areas.copy()
    evil_areas.loc[0, "name_zh"] = EVIL
    evil_areas.loc[1, "confidence"] = EVIL
    m = full_map(edges, facilities, evil_areas)
    page = maps.to_html(m)
    assert EVIL not in page
    assert "<img" not in page
    escaped = html.escape(EVIL)
    assert js(escaped) in page  # as data: facility and street name, area tooltip
    # the escaped name is what the facility tooltip and popup show
    feats = [f for g in geojson_layers(m) for f in g.data["features"]]
    props = [f["properties"] for f in feats if "id" in f["properties"]]
    assert {
        "name": escaped,
        "category": "幼儿园 Kindergarten",
        "source": "osm",
        "id": "f1",
    } in props
    assert re.search(r'let fields = \["name", "category"\]', page)  # tooltip fields
    assert re.search(r'let fields = \["name", "category", "source", "id"\]', page)  # popup
    # a missing name gets a placeholder rather than "None"
    assert any(p["name"] == "（无名称 unnamed）" for p in props)


def test_area_tooltips_show_confidence(areas) -> None:
    page = maps.to_html(maps.areas_layer(areas))
    assert js("<b>东拓</b> East expansion (DT)<br>可信度 confidence: 草案 draft") in page
    assert js("可信度 confidence: 官方 official") in page
    assert "dashArray" in page  # the draft area is dashed
    assert js(">中优<span") in page  # Chinese-first label …
    assert "Central upgrade</span>" in page or js(" Central upgrade</span>") in page


def test_origin_layers_counts_and_population() -> None:
    o = origins_frame()  # minutes 1,4 | 6,9 | 12,14 | 20 | inf, nan
    m = maps.origins_by_distance(o, KINDERGARTEN, cell_size=100)
    page = maps.to_html(m)
    # cells merged per band: 2 in 0–5 (10+20 people), 2 in 5–10 (30+40), 2 in 10–15 (50+60),
    # 1 over 15 (70), 2 unreachable (80+90)
    for label, cells, people in [
        (maps.BAND_LABELS[0], 2, 30),
        (maps.BAND_LABELS[1], 2, 70),
        (maps.BAND_LABELS[2], 2, 110),
        (maps.BAND_LABELS[3], 1, 70),
        (maps.BAND_LABELS[4], 2, 170),
    ]:
        assert present(f"{label}: {cells} 格 cells, {people} 人 people", page), label
    assert "标准 threshold: 300 m" in page
    # the 2 merged 0-5 cells are one 200 m x 100 m rectangle
    first = [g for g in geojson_layers(m)][0].data["features"][0]["geometry"]
    poly = gpd.GeoSeries([shapely.geometry.shape(first)], crs=4326).to_crs(CRS).iloc[0]
    assert poly.area == pytest.approx(20000, rel=1e-3)

    gaps = maps.to_html(maps.gaps_layer(o, KINDERGARTEN, cell_size=100))
    # reach: 1, 4 within 5 min; the other 7 cells (30+…+90 = 420 people) are gaps
    assert present("不可达 out of reach (> 300 m): 7 格 cells, 420 人 people", gaps)

    comp = maps.to_html(maps.completeness_layer(o, cell_size=100))
    # shares 1.0, 1.0, 1.0 (cells 1, 7, 8) | 0.8 | 0.5 | 0.3 | 0.1, 0.0 | NaN
    for text in (
        "100 % 全部可达 all reached: 3 格 cells",
        "75–99 %: 1 格 cells",
        "0–24 %: 2 格 cells",
        "无数据 no data: 1 格 cells",
    ):
        assert present(text, comp), text

    # points instead of cells: one circle per origin with distance and minutes in the tooltip
    pts = maps.origins_by_distance(o, "kindergarten")
    feats = [f for g in geojson_layers(pts) for f in g.data["features"]]
    assert len(feats) == 9
    assert {"tip": "264 m · 4.0 分钟 min"} in [f["properties"] for f in feats]


def test_layer_input_errors(edges) -> None:
    with pytest.raises(InputError, match="lacks column.*walk_kindergarten_min"):
        maps.origins_by_distance(
            origins_frame().drop(columns=min_col("kindergarten")), "kindergarten"
        )
    with pytest.raises(InputError, match="must be numeric"):
        maps.streets_by_minutes(edges.assign(walk_min="slow"), "walk_min")
    with pytest.raises(InputError, match="no CRS"):
        maps.basemap_streets(edges.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="must be a GeoDataFrame"):
        maps.facilities_layer(edges.drop(columns="geometry"))
    with pytest.raises(InputError, match="has no 'id'"):
        maps.gaps_layer(origins_frame(), {"name_zh": "幼儿园"})
    with pytest.raises(InputError, match="lacks column.*confidence"):
        maps.areas_layer(
            gpd.GeoDataFrame({"code": [], "name_zh": [], "name_en": []}, geometry=[], crs=4326)
        )


def test_new_map_tiles_and_errors(edges) -> None:
    with pytest.raises(InputError, match="--tianditu-key"):
        maps.new_map(edges, tiles="tianditu")
    with pytest.raises(InputError, match="--tiles"):
        maps.new_map(edges, tiles="google")
    with pytest.raises(InputError, match="WGS-84"):
        maps.new_map((560000, 3990000, 561000, 3991000))
    with pytest.raises(InputError, match="empty"):
        maps.new_map(edges.iloc[:0])
    page = maps.to_html(maps.new_map(edges, tiles="tianditu", tianditu_key="KEY123"))
    assert "tianditu.gov.cn" in page and "tk=KEY123" in page
    assert "tile.openstreetmap.org" in maps.to_html(maps.new_map(edges))
    offline = maps.to_html(maps.new_map(edges, offline=True))
    assert "tile.openstreetmap.org" not in offline  # offline default: no tiles


def test_amap_shifts_overlays_to_gcj02() -> None:
    wlat, wlon, glat, glon = GCJ_PAIRS[0]  # Shanghai, published pair
    fac = gpd.GeoDataFrame(
        {"name": ["x"], "category": ["clinic"]}, geometry=[shapely.Point(wlon, wlat)], crs=4326
    )
    m = maps.new_map(fac, tiles="amap")
    maps.facilities_layer(fac, m)
    coords = [
        list(f["geometry"]["coordinates"]) for g in geojson_layers(m) for f in g.data["features"]
    ]
    assert coords == [[round(glon, 6), round(glat, 6)]]
    assert "autonavi.com" in maps.to_html(m)
    # on an OSM map the point stays in WGS-84
    m2 = maps.facilities_layer(fac)
    coords = [
        list(f["geometry"]["coordinates"]) for g in geojson_layers(m2) for f in g.data["features"]
    ]
    assert coords == [[round(wlon, 6), round(wlat, 6)]]


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


def test_chromium_net_log_detector_sees_outside_requests(tmp_path: Path) -> None:
    # control: a page that does ask an outside host must be caught by the same checks
    page = tmp_path / "control.html"
    page.write_text(
        '<html><body><img src="http://example.invalid/x.png"><script>nope();</script></body></html>'
    )
    _, stderr, urls = _run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert "http://example.invalid/x.png" in urls
    assert any("nope is not defined" in line for line in _console_errors(stderr))


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


# --------------------------------------------------------------------------- static PNG


def test_cjk_font_has_the_district_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    font = maps.cjk_font()
    cmap = FT2Font(font.get_file()).get_charmap()
    assert all(ord(ch) in cmap for ch in "钢城区中优东拓")


def test_cjk_font_missing_names_the_package(monkeypatch) -> None:
    from matplotlib import font_manager

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(DependencyError, match="apt-get install fonts-wqy-microhei"):
        maps.cjk_font()


def test_static_map_png(edges, facilities, areas) -> None:
    iso = maps.isochrone_polygons(edges, np.arange(36) * 40.0, minutes=(5, 10))
    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        areas=areas,
        facilities=facilities,
        isochrones=iso,
        categories=[KINDERGARTEN, "clinic"],
        title="钢城区 幼儿园 步行可达",
    )
    font_file = maps.cjk_font().get_file()
    texts = [t for ax in fig.axes for t in ax.texts] + [fig._suptitle]
    labels = {t.get_text(): t for t in texts}
    assert "中优\nCentral upgrade" in labels and "东拓\nEast expansion" in labels
    assert labels["中优\nCentral upgrade"].get_fontproperties().get_file() == font_file
    assert fig._suptitle.get_text() == "钢城区 幼儿园 步行可达"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "不可达 unreachable" in legend and "草案/估计 draft/estimate" in legend
    assert "幼儿园 Kindergarten" in legend and "clinic" in legend
    # scale bar: the drawing spans ~500 m + padding, so 100 m (the largest nice length <= 1/5)
    assert "100 m" in labels and "北 N" in labels
    assert any("© OpenStreetMap contributors" in t.get_text() for t in fig.texts)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(buf.getvalue()) > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "static_map.png").write_bytes(buf.getvalue())


def test_static_map_needs_data() -> None:
    with pytest.raises(InputError, match="no data"):
        maps.static_map()
    with pytest.raises(InputError, match="no edges"):
        maps.static_map(
            areas=gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326), column="x"
        )


def test_library_writes_no_files(tmp_path, monkeypatch, edges, facilities, areas) -> None:
    monkeypatch.chdir(tmp_path)
    m = full_map(edges, facilities, areas, offline=True)
    maps.to_html(m), maps.to_fragment(m)
    maps.static_map(edges=edges)
    assert list(tmp_path.iterdir()) == []
