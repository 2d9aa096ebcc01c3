"""Tests for gcgeo.maps.base: bands, new_map tiles, GCJ-02 shift, legend, attribution.

Also checks that ``import gcgeo.maps`` does not import folium, branca or matplotlib.
"""

from __future__ import annotations

import html
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo import maps
from gcgeo._errors import InputError

from .mapdata import KINDERGARTEN, full_map, geojson_layers, origins_frame, present

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


# --------------------------------------------------------------------------- the base map


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
    assert "L.control.scale({metric: true, imperial: false})" in page
    assert page.count("L.control.layers(") == 1
    # rendering twice (after adding another layer) still leaves one layer control
    maps.gaps_layer(origins_frame(), KINDERGARTEN, m)
    assert maps.to_html(m).count("L.control.layers(") == 1


BAND_TEXTS = tuple(maps.BAND_LABELS)


def test_import_does_not_load_folium_or_matplotlib() -> None:
    code = (
        "import sys, gcgeo.maps; "
        "print(sorted(m for m in ('folium', 'branca', 'matplotlib') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
