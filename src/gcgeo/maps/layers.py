"""Reachability layers: streets by walking time, street basemap, origins, isochrones.

Every function works like geopandas ``explore()``: it takes an optional map ``m`` (a new one
framing the data is made when it is ``None``), adds a :class:`folium.FeatureGroup` and a
legend section, and returns the map. Street names are untrusted and escaped with
:func:`gcgeo.escape.html_text`. folium is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .._errors import InputError
from ..columns import COMPLETENESS, POPULATION, dist_col, min_col, reached_col
from ..crs import DEFAULT_CRS
from ..escape import html_text
from ..isochrones import check_frame
from .base import (
    BAND_COLOURS,
    BAND_LABELS,
    COMPLETENESS_COLOURS,
    COMPLETENESS_LABELS,
    GRADE_COLOURS,
    GRADE_LABELS,
    MAJOR_HIGHWAYS,
    add_osm_attribution,
    category_meta,
    feature_collection,
    feature_group,
    finish,
    geojson_layer,
    grade_band,
    legend_of,
    map_for,
    minute_band,
    numeric_column,
    to_map_geoms,
)

if TYPE_CHECKING:
    import folium

__all__ = [
    "start_marker",
    "basemap_streets",
    "completeness_layer",
    "gaps_layer",
    "isochrone_layer",
    "origins_by_distance",
    "streets_by_grade",
    "streets_by_minutes",
]


# --------------------------------------------------------------------------- street layers


def streets_by_minutes(
    edges: gpd.GeoDataFrame,
    column: str,
    m: folium.Map | None = None,
    name: str = "街道步行时间 Street walking time",
    simplify_m: float = 2.0,
    weight: float = 3.0,
    show: bool = True,
) -> folium.Map:
    """Colour streets by walking minutes: 0–5, 5–10, 10–15, > 15 and unreachable
    (``show=False``: the layer starts switched off in the layer control).

    Segments of the same band and the same OSM way are merged into one (Multi)LineString,
    simplified by ``simplify_m`` metres and rounded to 6 decimals to keep the HTML small.

    Parameters
    ----------
    edges : GeoDataFrame
        Street segments in a projected CRS with ``column`` and optionally ``way_id``/``name``.
    column : str
        Numeric column of walking minutes; NaN or inf means unreachable.
    m : folium.Map, optional
        Map to add to; a new one framing ``edges`` is made when ``None``.
    name : str
        Layer name in the layer control.
    simplify_m : float
        Simplification tolerance in metres (0 to keep every vertex).
    weight : float
        Line width in pixels.

    Returns
    -------
    folium.Map
    """
    check_frame(edges, "The streets frame", [column])
    minutes = numeric_column(edges, column, "the streets frame")
    return _classed_streets(
        edges, minute_band(minutes), BAND_LABELS, BAND_COLOURS, m, name,
        "街道步行时间 Street walking time", "步行 walk", simplify_m, weight, show, dashed=4,
    )  # fmt: skip


def streets_by_grade(
    edges: gpd.GeoDataFrame,
    column: str = "grade_pct",
    m: folium.Map | None = None,
    name: str = "街道坡度 Street grade",
    simplify_m: float = 2.0,
    weight: float = 3.0,
    show: bool = False,
) -> folium.Map:
    """Colour streets by grade (%, the steepest piece of each segment): < 3, 3–6, 6–10 and
    ≥ 10 % (:data:`gcgeo.maps.base.GRADE_LABELS`); off in the layer control by default.

    Parameters are those of :func:`streets_by_minutes`; ``column`` holds grades in percent
    (``gcgeo map --dem`` adds ``grade_pct``).
    """
    check_frame(edges, "The streets frame", [column])
    grade = numeric_column(edges, column, "the streets frame")
    return _classed_streets(
        edges, grade_band(grade), GRADE_LABELS, GRADE_COLOURS, m, name,
        "街道坡度 Street grade", "坡度 grade", simplify_m, weight, show,
    )  # fmt: skip


def _classed_streets(
    edges: gpd.GeoDataFrame,
    band: NDArray[np.int64],
    labels: Sequence[str],
    colours: Sequence[str],
    m: folium.Map | None,
    name: str,
    legend: str,
    alias: str,
    simplify_m: float,
    weight: float,
    show: bool,
    dashed: int | None = None,
) -> folium.Map:
    """Streets drawn in one colour per class ``band`` (class ``dashed`` dashed); segments of
    the same class and OSM way merged, simplified and rounded (see streets_by_minutes)."""
    import folium

    m = map_for(m, edges)
    way = (
        edges["way_id"].to_numpy()
        if "way_id" in edges.columns
        else np.zeros(len(edges), dtype=np.int64)
    )
    keys = pd.DataFrame({"band": band, "way": way})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys), use_na_sentinel=False)
    order = np.argsort(codes, kind="stable")
    merged = shapely.line_merge(
        shapely.multilinestrings(edges.geometry.values[order], indices=codes[order])
    )
    if simplify_m > 0 and edges.crs.is_projected:
        merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
    names = (
        edges["name"].groupby(codes).first().reindex(range(len(uniques)))
        if "name" in edges.columns
        else pd.Series([None] * len(uniques))
    )
    geoms = to_map_geoms(gpd.GeoSeries(merged, crs=edges.crs), m)
    group_band = np.array([u[0] for u in uniques], dtype=np.int64)
    fg = feature_group(name, show=show)
    for b in range(len(labels)):
        sel = np.flatnonzero(group_band == b)
        if not len(sel):
            continue
        props = [{"name": html_text(names.iloc[i]) or "—", "band": labels[b]} for i in sel]
        style = {"color": colours[b], "weight": weight, "opacity": 0.9}
        if b == dashed:
            style.update(dashArray="4 4", weight=max(1.0, weight - 1), opacity=0.7)
        geojson_layer(
            feature_collection(geoms[sel], props),
            style,
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "band"], aliases=["街道 street", alias], sticky=True
            ),
        ).add_to(fg)
    fg.add_to(m)
    legend_of(m).set_section(
        legend, [("line", c, lab) for c, lab in zip(colours, labels, strict=True)]
    )
    add_osm_attribution(m)
    return finish(m)


def basemap_streets(
    edges: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    name: str = "街道底图 Street basemap",
    simplify_m: float = 2.0,
) -> folium.Map:
    """Draw the whole street network in light grey, so the map reads without tiles.

    Segments are merged per road class (major roads drawn wider), simplified and rounded;
    the layer is not interactive.

    Parameters
    ----------
    edges : GeoDataFrame
        Street segments (any CRS; projected for a metric ``simplify_m``), optional ``highway``.
    m : folium.Map, optional
        Map to add to; a new one framing ``edges`` is made when ``None``.
    name : str
        Layer name in the layer control.
    simplify_m : float
        Simplification tolerance in metres.

    Returns
    -------
    folium.Map
    """
    check_frame(edges, "The streets frame")
    m = map_for(m, edges)
    major = (
        edges["highway"].isin(MAJOR_HIGHWAYS).to_numpy()
        if "highway" in edges.columns
        else np.zeros(len(edges), dtype=bool)
    )
    fg = feature_group(name)
    for is_major, colour, weight in ((False, "#c8c8c8", 1.5), (True, "#a8a8a8", 3.0)):
        sel = edges.geometry.values[major == is_major]
        if not len(sel):
            continue
        merged = shapely.line_merge(shapely.multilinestrings(sel))
        if simplify_m > 0 and edges.crs.is_projected:
            merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
        geoms = to_map_geoms(gpd.GeoSeries([merged], crs=edges.crs), m)
        geojson_layer(
            feature_collection(geoms, [{}]),
            {"color": colour, "weight": weight, "opacity": 1.0},
            interactive=False,
        ).add_to(fg)
    fg.add_to(m)
    add_osm_attribution(m)
    return finish(m)


# --------------------------------------------------------------------------- origin layers


def _origin_xy(origins: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, NDArray[np.float64]]:
    proj = origins if origins.crs.is_projected else origins.to_crs(DEFAULT_CRS)
    if not proj.geom_type.eq("Point").all():
        raise InputError("Origins must be Point geometries (cell centres); pass grid origins.")
    return proj, shapely.get_coordinates(proj.geometry.values)


def _add_classed_origins(
    m: folium.Map,
    origins: gpd.GeoDataFrame,
    classes: NDArray[np.int64],
    labels: Sequence[str],
    colours: Sequence[str],
    tips: Sequence[str],
    name: str,
    cell_size: float | None,
    show: bool = True,
) -> folium.FeatureGroup:
    """Draw origins coloured by class: merged square cells, or one circle per point."""
    import folium

    proj, xy = _origin_xy(origins)
    pop = (
        pd.to_numeric(proj[POPULATION], errors="coerce").fillna(0).to_numpy()
        if POPULATION in proj.columns
        else None
    )
    fg = feature_group(name, show=show)
    for k, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        sel = np.flatnonzero(classes == k)
        if not len(sel):
            continue
        style = {"color": colour, "fillColor": colour, "weight": 0.5, "fillOpacity": 0.6}
        if cell_size:
            h = float(cell_size) / 2
            boxes = shapely.box(xy[sel, 0] - h, xy[sel, 1] - h, xy[sel, 0] + h, xy[sel, 1] + h)
            merged = shapely.coverage_union_all(boxes)
            geoms = to_map_geoms(gpd.GeoSeries([merged], crs=proj.crs), m)
            tip = f"{label}: {len(sel)} 格 cells"
            if pop is not None:
                tip += f", {pop[sel].sum():,.0f} 人 people"
            geojson_layer(feature_collection(geoms, [{}]), style, tooltip=html_text(tip)).add_to(fg)
        else:
            geoms = to_map_geoms(gpd.GeoSeries(proj.geometry.values[sel], crs=proj.crs), m)
            props = [{"tip": html_text(tips[i])} for i in sel]
            geojson_layer(
                feature_collection(geoms, props),
                {**style, "weight": 1, "fillOpacity": 0.8},
                tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
                marker=folium.CircleMarker(radius=4, fill=True),
            ).add_to(fg)
    fg.add_to(m)
    return fg


def origins_by_distance(
    origins: gpd.GeoDataFrame,
    category: Any,
    m: folium.Map | None = None,
    cell_size: float | None = None,
    show: bool = True,
) -> folium.Map:
    """Colour origins (grid cells) by walking time to the nearest facility of a category.

    Uses the same 5-minute bands as :func:`streets_by_minutes`; tooltips give the distance
    in metres and the minutes.

    Parameters
    ----------
    origins : GeoDataFrame
        Origin points with ``walk_{id}_min`` (and ``dist_{id}_m`` for the tooltip).
    category : str, mapping or object
        Category id, or metadata with ``id``, ``name_zh``, ``name_en``, ``max_distance_m``.
    m : folium.Map, optional
        Map to add to; a new one framing ``origins`` is made when ``None``.
    cell_size : float, optional
        Grid cell size in metres: draw (merged) square cells instead of circles.
    show : bool
        Whether the layer is switched on initially.

    Returns
    -------
    folium.Map
    """
    cat = category_meta(category)
    mcol, dcol = min_col(cat.id), dist_col(cat.id)
    check_frame(origins, "The origins frame", [mcol])
    minutes = numeric_column(origins, mcol, "the origins frame")
    dist = numeric_column(origins, dcol, "the origins frame") if dcol in origins.columns else None
    m = map_for(m, origins)
    band = minute_band(minutes)
    tips = []
    for i, t in enumerate(minutes):
        if not np.isfinite(t):
            tips.append(f"{BAND_LABELS[4]}")
        elif dist is not None and np.isfinite(dist[i]):
            tips.append(f"{dist[i]:,.0f} m · {t:.1f} 分钟 min")
        else:
            tips.append(f"{t:.1f} 分钟 min")
    title = f"{cat.name_zh} {cat.name_en} 步行时间 walking time"
    _add_classed_origins(m, origins, band, BAND_LABELS, BAND_COLOURS, tips, title, cell_size, show)
    items = [("box", c, lab) for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)]
    if cat.max_distance_m is not None:
        items.append(("box", "transparent", f"标准 threshold: {cat.max_distance_m:,.0f} m"))
    legend_of(m).set_section(title, items)
    add_osm_attribution(m)
    return finish(m)


def completeness_layer(
    origins: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    cell_size: float | None = None,
    show: bool = True,
) -> folium.Map:
    """Colour origins by life-circle completeness (share of categories reached, 0–1).

    Parameters
    ----------
    origins : GeoDataFrame
        Origin points with the ``lc_completeness`` column.
    m : folium.Map, optional
        Map to add to; a new one framing ``origins`` is made when ``None``.
    cell_size : float, optional
        Grid cell size in metres: draw square cells instead of circles.
    show : bool
        Whether the layer is switched on initially.

    Returns
    -------
    folium.Map
    """
    check_frame(origins, "The origins frame", [COMPLETENESS])
    share = numeric_column(origins, COMPLETENESS, "the origins frame")
    m = map_for(m, origins)
    cls = np.full(len(share), 5, dtype=np.int64)
    ok = np.isfinite(share)
    s = np.clip(share[ok], 0.0, 1.0)
    cls[ok] = np.select([s >= 1.0, s >= 0.75, s >= 0.5, s >= 0.25], [0, 1, 2, 3], default=4)
    tips = [
        f"{v * 100:.0f} % 完整度 completeness" if np.isfinite(v) else COMPLETENESS_LABELS[5]
        for v in share
    ]
    title = "生活圈完整度 Life-circle completeness"
    _add_classed_origins(
        m, origins, cls, COMPLETENESS_LABELS, COMPLETENESS_COLOURS, tips, title, cell_size, show
    )
    legend_of(m).set_section(
        title,
        [("box", c, lab) for c, lab in zip(COMPLETENESS_COLOURS, COMPLETENESS_LABELS, strict=True)],
    )
    add_osm_attribution(m)
    return finish(m)


def gaps_layer(
    origins: gpd.GeoDataFrame,
    category: Any,
    m: folium.Map | None = None,
    cell_size: float | None = None,
    show: bool = True,
) -> folium.Map:
    """Mark origins from which no facility of a category is within reach (service gaps).

    Parameters
    ----------
    origins : GeoDataFrame
        Origin points with the boolean ``reach_{id}`` column (optional ``population``).
    category : str, mapping or object
        Category id, or metadata with ``id``, ``name_zh``, ``name_en``, ``max_distance_m``.
    m : folium.Map, optional
        Map to add to; a new one framing ``origins`` is made when ``None``.
    cell_size : float, optional
        Grid cell size in metres: draw square cells instead of circles.
    show : bool
        Whether the layer is switched on initially.

    Returns
    -------
    folium.Map
    """
    cat = category_meta(category)
    rcol = reached_col(cat.id)
    check_frame(origins, "The origins frame", [rcol])
    reached = origins[rcol].fillna(False).astype(bool).to_numpy()
    m = map_for(m, origins)
    gap = ~reached
    cls = np.where(gap, 0, 1).astype(np.int64)  # class 1 is never drawn (no colour given)
    title = f"{cat.name_zh} 服务盲区 {cat.name_en} gaps"
    label = "不可达 out of reach"
    if cat.max_distance_m is not None:
        label += f" (> {cat.max_distance_m:,.0f} m)"
    tips = [label] * len(origins)
    _add_classed_origins(m, origins, cls, [label], ["#b2182b"], tips, title, cell_size, show)
    legend_of(m).set_section(title, [("box", "#b2182b", label)])
    add_osm_attribution(m)
    return finish(m)


# --------------------------------------------------------------------------- isochrones


def isochrone_layer(
    polys: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    name: str = "步行等时圈 Walking isochrones",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Draw isochrone polygons (from :func:`isochrone_polygons`), largest underneath.

    Parameters
    ----------
    polys : GeoDataFrame
        Polygons with a ``minutes`` column.
    m : folium.Map, optional
        Map to add to; a new one framing ``polys`` is made when ``None``.
    name : str
        Layer name in the layer control.
    simplify_m : float
        Simplification tolerance in metres (for projected input).

    Returns
    -------
    folium.Map
    """
    check_frame(polys, "The isochrone frame", ["minutes"])
    m = map_for(m, polys)
    order = polys.sort_values("minutes", ascending=False)
    g = order.geometry
    if simplify_m > 0 and polys.crs.is_projected:
        g = g.simplify(simplify_m)
    geoms = to_map_geoms(g, m)
    fg = feature_group(name)
    items = []
    for geom, t in zip(geoms, order["minutes"].to_numpy(dtype=float), strict=True):
        colour = BAND_COLOURS[min(int(minute_band([t])[0]), 3)]
        label = f"≤ {t:g} 分钟 min 步行范围 walking area"
        geojson_layer(
            feature_collection([geom], [{}]),
            {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.25},
            tooltip=html_text(label),
        ).add_to(fg)
        items.append(("box", colour, label))
    fg.add_to(m)
    legend_of(m).set_section(name, items[::-1])
    add_osm_attribution(m)
    return finish(m)


def start_marker(lon: float, lat: float, m: folium.Map, label: str = "起点 Start") -> folium.Map:
    """Mark where a walk starts (an isochrone's origin): a black-ringed white dot, labelled."""
    import folium

    fg = feature_group(label)
    folium.CircleMarker(
        (float(lat), float(lon)), radius=8, color="#000000", weight=3, fill=True,
        fill_color="#ffffff", fill_opacity=1.0, tooltip=html_text(label),
    ).add_to(fg)  # fmt: skip
    fg.add_to(m)
    legend_of(m).set_section(label, [("circle", "#ffffff", label)])
    return m
