"""Feature layers: facilities, district areas, planned facilities and scenario changes.

Like :mod:`gcgeo.maps.layers`, every function takes an optional map ``m``, adds toggleable
layers and a legend section, and returns the map. Facility and area names, sources and
confidence labels come from OSM, CSV files and catalogues; they are escaped with
:func:`gcgeo.escape.html_text` (colours with :func:`gcgeo.escape.css_colour`). folium is
imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._errors import InputError
from ..escape import css_colour, html_text
from ..isochrones import check_frame
from .base import (
    CONFIDENCE_LABELS,
    UNCERTAIN,
    TileName,
    add_osm_attribution,
    category_colour,
    category_meta,
    feature_collection,
    feature_group,
    finish,
    geojson_layer,
    legend_of,
    map_for,
    new_map,
    to_map_geoms,
)

if TYPE_CHECKING:
    import folium

__all__ = [
    "areas_layer",
    "facilities_layer",
    "planned_facilities_layer",
    "scenario_delta_map",
]


def facilities_layer(
    facilities: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    categories: Sequence[Any] | None = None,
    radius: float = 6.0,
) -> folium.Map:
    """Facilities as coloured circles, one toggleable layer per category.

    Circle markers need no icon font or CDN. Names come from OSM/CSV and are escaped.

    Parameters
    ----------
    facilities : GeoDataFrame
        Points with ``facility_id``, ``name``, ``category`` and ``source``.
    m : folium.Map, optional
        Map to add to; a new one framing ``facilities`` is made when ``None``.
    categories : sequence, optional
        Category ids or metadata (``id``, ``name_zh``, ``name_en``, ``max_distance_m``) in
        legend order; default: the categories present, sorted. Others are not drawn.
    radius : float
        Circle radius in pixels.

    Returns
    -------
    folium.Map
    """
    import folium

    check_frame(facilities, "The facilities frame", ["name", "category"])
    m = map_for(m, facilities)
    if categories is None:
        categories = sorted(facilities["category"].dropna().astype(str).unique())
    cats = [category_meta(c) for c in categories]
    geoms = to_map_geoms(facilities.geometry, m)
    cat_values = facilities["category"].astype(str).to_numpy()
    fid = facilities["facility_id"] if "facility_id" in facilities.columns else None
    src = facilities["source"] if "source" in facilities.columns else None
    items = []
    for cat in cats:
        colour = category_colour(cat.id)
        label = f"{cat.name_zh} {cat.name_en}"
        sel = np.flatnonzero(cat_values == cat.id)
        items.append(("circle", colour, f"{label} ({len(sel)})"))
        if not len(sel):
            continue
        props = [
            {
                "name": html_text(facilities["name"].iloc[i]) or "（无名称 unnamed）",
                "category": html_text(label),
                "source": html_text(src.iloc[i]) if src is not None else "",
                "id": html_text(fid.iloc[i]) if fid is not None else "",
            }
            for i in sel
        ]
        fg = feature_group(f"设施 Facilities: {label}")
        geojson_layer(
            feature_collection(geoms[sel], props),
            {"color": "#ffffff", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.95},
            marker=folium.CircleMarker(radius=radius, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["name", "category"], labels=False),
            popup=folium.GeoJsonPopup(
                fields=["name", "category", "source", "id"],
                aliases=["名称 name", "类别 category", "来源 source", "编号 id"],
            ),
        ).add_to(fg)
        fg.add_to(m)
    legend_of(m).set_section("设施 Facilities", items)
    if src is not None and src.astype(str).str.lower().str.contains("osm").any():
        add_osm_attribution(m)
    return finish(m)


def areas_layer(
    gdf: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    label: bool = True,
    name: str = "片区 Areas",
    colour: str = "#5e3c99",
) -> folium.Map:
    """Outline district areas (zones, wings, renewal areas) with Chinese-first labels.

    Areas whose ``confidence`` is draft/estimate are dashed, and the tooltip says so
    (e.g. "草案 draft").

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons with ``code``, ``name_zh``, ``name_en``, ``source``, ``confidence``.
    m : folium.Map, optional
        Map to add to; a new one framing ``gdf`` is made when ``None``.
    label : bool
        Draw a text label ("中文 English") at each area's representative point.
    name : str
        Layer name (e.g. "更新片区 Renewal areas").
    colour : str
        Outline colour.

    Returns
    -------
    folium.Map
    """
    import folium

    check_frame(gdf, "The areas frame", ["code", "name_zh", "name_en", "confidence"])
    m = map_for(m, gdf)
    geoms = to_map_geoms(gdf.geometry, m)
    conf = gdf["confidence"].fillna("").astype(str).str.strip().str.lower().to_numpy()
    fg = feature_group(name)
    for uncertain in (False, True):
        sel = np.flatnonzero(np.isin(conf, list(UNCERTAIN)) == uncertain)
        if not len(sel):
            continue
        props = []
        for i in sel:
            zh, en, code = (html_text(gdf[c].iloc[i]) for c in ("name_zh", "name_en", "code"))
            conf_label = CONFIDENCE_LABELS.get(conf[i], html_text(gdf["confidence"].iloc[i]))
            src = html_text(gdf["source"].iloc[i]) if "source" in gdf.columns else ""
            tip = f"<b>{zh}</b> {en} ({code})<br>可信度 confidence: {conf_label}"
            if src:
                tip += f"<br>来源 source: {src}"
            props.append({"tip": tip})
        style = {"color": colour, "weight": 2.5, "fillColor": colour, "fillOpacity": 0.05}
        if uncertain:
            style["dashArray"] = "6 6"
        geojson_layer(
            feature_collection(geoms[sel], props),
            style,
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        ).add_to(fg)
    if label:
        pts = to_map_geoms(gpd.GeoSeries(gdf.geometry.representative_point(), crs=gdf.crs), m)
        for i, pt in enumerate(pts):
            zh, en = html_text(gdf["name_zh"].iloc[i]), html_text(gdf["name_en"].iloc[i])
            folium.Marker(
                [pt.y, pt.x],
                icon=folium.DivIcon(
                    html=(
                        f'<div style="transform:translate(-50%,-50%);white-space:nowrap;'
                        f"font:bold 13px 'WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;"
                        f'color:{css_colour(colour)};text-shadow:0 0 3px #fff,0 0 3px #fff;">{zh}'
                        f'<span style="font-weight:normal;font-size:11px;"> {en}</span></div>'
                    ),
                    icon_size=(0, 0),
                    class_name="gcgeo-area-label",
                ),
                interactive=False,
            ).add_to(fg)
    fg.add_to(m)
    legend_of(m).set_section(
        name,
        [("outline", colour, "边界 boundary"), ("dashed", colour, "草案/估计 draft/estimate")],
    )
    src_all = gdf["source"].astype(str).str.lower() if "source" in gdf.columns else pd.Series([])
    if src_all.str.contains("osm").any():
        add_osm_attribution(m)
    return finish(m)


_DELTA_COLOURS = {"gained": "#1a9850", "lost": "#d73027"}
_DELTA_LABELS = {"gained": "新增可达 gained reach", "lost": "失去可达 lost reach"}


def scenario_delta_map(
    result: Any,
    m: folium.Map | None = None,
    tiles: TileName | str | None = None,
    offline: bool = True,
    radius: float = 5.0,
) -> folium.Map:
    """Map the origins whose reach a scenario changes: green gained, red lost.

    One toggleable layer per (scenario, category) with changes; all origins are drawn
    faintly underneath for context. Tooltips give the distance before and after.

    Parameters
    ----------
    result : gcgeo.scenario.ScenarioResult
        From :func:`gcgeo.scenario.compare`.
    m : folium.Map, optional
        Map to add to; a new one framing the origins is made when ``None``.
    tiles : str, optional
        Background tiles for a new map (default ``"none"`` offline, else ``"osm"``).
    offline : bool
        Make a new map self-contained (:func:`make_offline`), e.g. for ``summary.html``.
    radius : float
        Circle radius in pixels.

    Returns
    -------
    folium.Map
    """
    import folium

    changes = getattr(result, "changes", None)
    before = getattr(result, "before", None)
    if not isinstance(changes, gpd.GeoDataFrame) or not before:
        raise InputError(
            "scenario_delta_map needs a ScenarioResult from gcgeo.scenario.compare; "
            f"got {type(result).__name__}."
        )
    base = next(iter(before.values())).origins
    if m is None:
        m = new_map(base, tiles=tiles, offline=offline)
    fg = feature_group("起点 Origins")
    geoms = to_map_geoms(base.geometry, m)
    geojson_layer(
        feature_collection(geoms, [{}] * len(geoms)),
        {"color": "#9e9e9e", "weight": 1, "fillColor": "#bdbdbd", "fillOpacity": 0.5},
        marker=folium.CircleMarker(radius=2, fill=True),
        interactive=False,
    ).add_to(fg)
    fg.add_to(m)
    many = len(result.scenarios) > 1
    counts = {"gained": 0, "lost": 0}
    for sc in result.scenarios:
        for cat in changes.loc[changes["scenario"] == sc.name, "category"].unique():
            sub = changes[(changes["scenario"] == sc.name) & (changes["category"] == cat)]
            name = f"{cat} 变化 change" + (f" · {sc.name}" if many else "")
            fg = feature_group(name)
            for kind in ("gained", "lost"):
                part = sub[sub["change"] == kind]
                if not len(part):
                    continue
                counts[kind] += len(part)
                props = [
                    {
                        "change": kind,
                        "tip": (
                            f"{_DELTA_LABELS[kind]} · {html_text(cat)}: "
                            f"{_fmt_m(b)} → {_fmt_m(a)} (≤ {t:,.0f} m)"
                        ),
                    }
                    for b, a, t in zip(
                        part["dist_before_m"],
                        part["dist_after_m"],
                        part["threshold_m"],
                        strict=True,
                    )
                ]
                colour = _DELTA_COLOURS[kind]
                geojson_layer(
                    feature_collection(to_map_geoms(part.geometry, m), props),
                    {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.9},
                    marker=folium.CircleMarker(radius=radius, fill=True),
                    tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
                ).add_to(fg)
            fg.add_to(m)
    _planned_changes(result.scenarios, m, many)
    legend_of(m).set_section(
        "情景变化 Scenario change",
        [
            ("line", _LINK_COLOUR, "新增连接 added link"),
            ("circle", _NEW_FACILITY_COLOUR, "新增设施 added facility"),
            ("circle", _DELTA_COLOURS["gained"], f"{_DELTA_LABELS['gained']} ({counts['gained']})"),
            ("circle", _DELTA_COLOURS["lost"], f"{_DELTA_LABELS['lost']} ({counts['lost']})"),
            ("circle", "#bdbdbd", "未变 unchanged / 其他起点 other origins"),
        ],
    )
    add_osm_attribution(m)
    return finish(m)


#: how a scenario's own changes are drawn on its delta map
_LINK_COLOUR = "#6a3d9a"
_NEW_FACILITY_COLOUR = "#1f1f1f"


def _planned_changes(scenarios: Any, m: folium.Map, many: bool) -> None:
    """The links and facilities each scenario adds, drawn and labelled (names escaped)."""
    import folium

    for sc in scenarios:
        fg = feature_group(
            "新增设施与连接 Added facilities and links" + (f" · {sc.name}" if many else "")
        )
        for link in sc.add_links:
            latlon = [(lat, lon) for lon, lat in link.lonlat]
            folium.PolyLine(latlon, color=_LINK_COLOUR, weight=6, opacity=0.9,
                            tooltip=html_text(f"新增连接 added link: {link.name or link.key}")
                            ).add_to(fg)  # fmt: skip
        for f in sc.add_facilities:
            folium.CircleMarker(
                (f.lat, f.lon), radius=9, color="#ffffff", weight=2, fill=True,
                fill_color=_NEW_FACILITY_COLOUR, fill_opacity=0.95,
                tooltip=html_text(f"新增设施 added facility: {f.name or f.facility_id} ({f.category})"),
            ).add_to(fg)  # fmt: skip
        fg.add_to(m)


def _fmt_m(v: Any) -> str:
    v = float(v)
    return f"{v:,.0f} m" if np.isfinite(v) else "不可达 unreachable"


def planned_facilities_layer(
    gdf: gpd.GeoDataFrame,
    m: folium.Map | None = None,
    name: str = "规划设施 Planned facilities",
    colour: str = "#6a3d9a",
) -> folium.Map:
    """Planned facilities with a known location, as hollow rings (drawn over facilities).

    Rows without a point geometry (location not published) are left out. Tooltips give
    the Chinese and English names, category, status and location confidence, all escaped.

    Parameters
    ----------
    gdf : GeoDataFrame
        The ``planned_facilities`` layer (``id``, ``name_zh``, ``name_en``, ``category``,
        ``status``, ``confidence``).
    m : folium.Map, optional
        Map to add to; a new one framing the located rows is made when ``None``.
    name : str
        Layer name.
    colour : str
        Ring colour.

    Returns
    -------
    folium.Map
    """
    import folium

    check_frame(gdf, "The planned facilities frame", ["name_zh", "name_en"])
    located = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    located = located[located.geom_type == "Point"]
    if m is None:
        if located.empty:
            raise InputError(
                "No planned facility has a location; pass a map m or a layer with points."
            )
        m = new_map(located)
    fg = feature_group(name)
    if len(located):
        props = []
        for i in range(len(located)):
            r = located.iloc[i]
            conf = str(r.get("confidence") or "").lower()
            props.append(
                {
                    "tip": f"<b>{html_text(r['name_zh'])}</b> {html_text(r['name_en'])}<br>"
                    f"类别 category: {html_text(r.get('category')) or '—'} · "
                    f"状态 status: {html_text(r.get('status')) or '—'}<br>"
                    f"位置 location: {CONFIDENCE_LABELS.get(conf, html_text(r.get('confidence')))}"
                }
            )
        geojson_layer(
            feature_collection(to_map_geoms(located.geometry, m), props),
            {"color": colour, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.2},
            marker=folium.CircleMarker(radius=11, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fg)
    fg.add_to(m)
    legend_of(m).set_section(
        name, [("circle", colour, f"规划（位置为估计） planned, estimated site ({len(located)})")]
    )
    return finish(m)
