"""Shared synthetic data and page helpers for the tests of :mod:`gcgeo.maps`.

A 6 x 6 street grid near 钢城区 in EPSG:4548, hand-set origins, and helpers that look into
folium maps and rendered pages. The pytest fixtures built from these live in ``conftest.py``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from gcgeo import maps
from gcgeo.columns import COMPLETENESS, dist_col, min_col, reached_col

__all__ = [
    "ARTIFACTS",
    "CRS",
    "EVIL",
    "KINDERGARTEN",
    "full_map",
    "geojson_layers",
    "grid_edges",
    "js",
    "origins_frame",
    "present",
]

ROOT = Path(__file__).resolve().parents[2]
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
