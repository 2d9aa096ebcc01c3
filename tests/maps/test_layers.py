"""Tests for gcgeo.maps.layers and gcgeo.maps.features: what each layer draws and says.

Counts and areas are worked out by hand in the comments; untrusted names must come out
escaped in popups and tooltips.
"""

from __future__ import annotations

import html
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo import maps
from gcgeo._errors import InputError
from gcgeo.columns import min_col

from .mapdata import (
    CRS,
    EVIL,
    KINDERGARTEN,
    full_map,
    geojson_layers,
    js,
    origins_frame,
    present,
)


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


def test_category_map_composes_streets_facilities_areas_and_notes(edges, facilities, areas) -> None:
    m = maps.category_map(
        edges, facilities, KINDERGARTEN, {"zones": areas}, notes=["示例 Demo · note"]
    )
    page = maps.to_html(m)
    for layer in ("街道底图 Street basemap", "街道步行时间 Street walking time",
                  "设施 Facilities: 幼儿园 Kindergarten", "五区 Strategy zones"):  # fmt: skip
        assert present(layer, page), layer
    assert present("示例 Demo · note", page)
    # offline by default: no script or stylesheet from a CDN
    assert not re.search(
        r"<script[^>]*\bsrc=[\"']?https?://|<link[^>]*\bhref=[\"']?https?://", page
    )
