"""Maps of walking reachability: folium layers, offline HTML, report fragments, static PNGs.

Every layer function works like geopandas ``explore()``: it takes an optional existing
:class:`folium.Map` ``m`` (a new one is made around the data when it is ``None``), reprojects
the data to EPSG:4326 (shifted to GCJ-02 when the map uses AMap tiles), adds one or more
:class:`folium.FeatureGroup` layers plus a bilingual legend entry, and returns the map.
Nothing here writes files: :func:`to_html` / :func:`to_fragment` return strings and
:func:`static_map` returns a matplotlib :class:`~matplotlib.figure.Figure`.

Text from OSM and CSV files (street, facility and area names) and from catalogues is
untrusted: it reaches a page only through :mod:`gcgeo.escape` (HTML text, JavaScript strings,
CSS colours), and pages are rendered with :func:`gcgeo.escape.render_figure`, so a name such as
``{{ 7*7 }}`` or ``</script>`` shows literally and never runs. Layer names, legend titles and
legend labels given to the functions here are plain text; they are escaped here.
"""

from __future__ import annotations

import base64
import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from numpy.typing import ArrayLike, NDArray

from .._errors import DependencyError, InputError
from ..columns import COMPLETENESS, POPULATION, dist_col, min_col, reached_col
from ..crs import wgs84_to_gcj02
from ..escape import css_colour, html_text, js_string, render_figure
from ..isochrones import _check_frame, isochrone_polygons, reached_streets

__all__ = [
    "BAND_COLOURS",
    "BAND_LABELS",
    "OSM_ATTRIBUTION",
    "TILES",
    "areas_layer",
    "basemap_streets",
    "cjk_font",
    "completeness_layer",
    "facilities_layer",
    "gaps_layer",
    "isochrone_layer",
    "isochrone_polygons",
    "make_offline",
    "minute_band",
    "new_map",
    "origins_by_distance",
    "planned_facilities_layer",
    "reached_streets",
    "scenario_delta_map",
    "static_map",
    "streets_by_minutes",
    "to_fragment",
    "page_title",
    "title_box",
    "to_html",
]

WGS84 = "EPSG:4326"
DEFAULT_CRS = "EPSG:4548"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Walking-time bands: upper limits in minutes (inclusive) of bands 0-2, then "> 15", then
#: "unreachable" (NaN or inf).
BAND_LIMITS = (5.0, 10.0, 15.0)
BAND_LABELS = (
    "0–5 分钟 min",
    "5–10 分钟 min",
    "10–15 分钟 min",
    "> 15 分钟 min",
    "不可达 unreachable",
)
BAND_COLOURS = ("#1a9850", "#91cf60", "#fdae61", "#d73027", "#8c8c8c")

_COMPLETENESS_LABELS = (
    "100 % 全部可达 all reached",
    "75–99 %",
    "50–74 %",
    "25–49 %",
    "0–24 %",
    "无数据 no data",
)
_COMPLETENESS_COLOURS = ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c", "#bdbdbd")

_CATEGORY_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)

_CONFIDENCE_LABELS = {
    "draft": "草案 draft",
    "estimate": "估计 estimate",
    "estimated": "估计 estimate",
    "official": "官方 official",
    "verified": "已核实 verified",
}
_UNCERTAIN = {"draft", "estimate", "estimated"}

_MAJOR_HIGHWAYS = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
}

TileName = Literal["osm", "tianditu", "amap", "none"]
#: Tile choices accepted by :func:`new_map` (and the CLI ``--tiles`` option).
TILES: tuple[str, ...] = ("osm", "tianditu", "amap", "none")

_TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)

_GCJ_ATTR = "_gcgeo_gcj02"
_OFFLINE_ATTR = "_gcgeo_offline"


# --------------------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class _Category:
    id: str
    name_zh: str
    name_en: str
    max_distance_m: float | None


def _category(cat: Any) -> _Category:
    """Read ``id``/``name_zh``/``name_en``/``max_distance_m`` from a str, mapping or object."""
    if isinstance(cat, str):
        return _Category(cat, cat, cat, None)
    get = cat.get if isinstance(cat, Mapping) else lambda k, d=None: getattr(cat, k, d)
    cid = get("id")
    if not cid:
        raise InputError(
            f"Category {cat!r} has no 'id'; pass a category id string or an object with "
            "id, name_zh, name_en and max_distance_m."
        )
    dist = get("max_distance_m")
    return _Category(
        str(cid),
        str(get("name_zh") or cid),
        str(get("name_en") or cid),
        float(dist) if dist is not None else None,
    )


def _numeric(gdf: gpd.GeoDataFrame, column: str, what: str) -> NDArray[np.float64]:
    try:
        return pd.to_numeric(gdf[column], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"Column {column!r} of {what} must be numeric ({exc}); pass a column of minutes or metres."
        ) from exc


def minute_band(minutes: ArrayLike) -> NDArray[np.int64]:
    """Classify walking minutes into the bands of :data:`BAND_LABELS`.

    Parameters
    ----------
    minutes : array_like
        Walking times in minutes; NaN and inf mean unreachable.

    Returns
    -------
    ndarray of int
        0 for <= 5, 1 for (5, 10], 2 for (10, 15], 3 for > 15, 4 for unreachable.
    """
    t = np.asarray(minutes, dtype=float)
    band = np.digitize(t, BAND_LIMITS, right=True).astype(np.int64)
    band[~np.isfinite(t)] = 4
    return band


_esc = html_text


def _feature_group(name: str, show: bool = True) -> folium.FeatureGroup:
    """A layer whose (plain-text) name is escaped: Leaflet shows layer names as HTML."""
    return folium.FeatureGroup(name=html_text(name), show=show)


def _round_coords(geoms: NDArray[Any], decimals: int = 6) -> NDArray[Any]:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _gcj_shift(geoms: NDArray[Any]) -> NDArray[Any]:
    def shift(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

    return shapely.transform(geoms, shift)


def _to_map_geoms(geoms: gpd.GeoSeries, m: folium.Map, decimals: int = 6) -> NDArray[Any]:
    """Reproject to EPSG:4326, shift to GCJ-02 for AMap maps, and round the coordinates."""
    g = geoms.to_crs(WGS84).values
    arr = np.asarray(g, dtype=object)
    if getattr(m, _GCJ_ATTR, False):
        arr = _gcj_shift(arr)
    return _round_coords(arr, decimals)


def _feature_collection(geoms: Sequence[Any], props: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": dict(p), "geometry": shapely.geometry.mapping(g)}
            for g, p in zip(geoms, props, strict=True)
            if g is not None and not g.is_empty
        ],
    }


def _bounds_4326(obj: Any) -> tuple[float, float, float, float]:
    if isinstance(obj, gpd.GeoDataFrame | gpd.GeoSeries):
        if obj.crs is None:
            raise InputError("The data given to new_map has no CRS; set one with .set_crs().")
        if obj.empty:
            raise InputError(
                "The data given to new_map is empty; pass a non-empty frame or bounds."
            )
        b = obj.to_crs(WGS84).total_bounds
        bounds = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    else:
        try:
            bounds = tuple(float(v) for v in obj)  # type: ignore[assignment]
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"new_map bounds {obj!r} are not numbers; pass (min_lon, min_lat, max_lon, max_lat) "
                "or a GeoDataFrame."
            ) from exc
        if len(bounds) != 4:
            raise InputError(
                f"new_map bounds {obj!r} need 4 numbers; pass (min_lon, min_lat, max_lon, max_lat)."
            )
    x0, y0, x1, y1 = bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(
            f"new_map bounds {bounds!r} are not WGS-84 degrees; pass (min_lon, min_lat, max_lon, "
            "max_lat) in EPSG:4326."
        )
    return bounds


# --------------------------------------------------------------------------- map elements


class _Legend(MacroElement):
    """Bilingual legend drawn inside the map container as a Leaflet control."""

    _template = Template(
        """
{% macro html(this, kwargs) %}
<div id="{{ this.get_name() }}" class="gcgeo-legend" style="display:none;background:rgba(255,255,255,0.92);padding:6px 8px;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,0.35);font:12px/1.45 'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;color:#222;max-height:320px;overflow:auto;">
{{ this.body() }}
</div>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
    var el = document.getElementById({{ this.get_name()|tojson }});
    if (!el || !el.textContent.trim()) { return; }
    var ctl = L.control({position: "bottomright"});
    ctl.onAdd = function () {
        el.style.display = "block";
        L.DomEvent.disableClickPropagation(el);
        L.DomEvent.disableScrollPropagation(el);
        return el;
    };
    ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GcgeoLegend"
        self.sections: dict[str, list[tuple[str, str, str]]] = {}

    def set_section(self, title: str, items: list[tuple[str, str, str]]) -> None:
        """Add or replace a section; items are (kind, colour, label), title and labels plain
        text (escaped when the legend is drawn)."""
        self.sections[title] = items

    def body(self) -> str:
        parts = []
        for title, items in self.sections.items():
            parts.append(f'<div style="font-weight:bold;margin-top:4px;">{html_text(title)}</div>')
            for kind, colour, label in items:
                parts.append(
                    '<div style="white-space:nowrap;">'
                    f"{_swatch_html(kind, colour)}<span>{html_text(label)}</span></div>"
                )
        return "\n".join(parts)


def _swatch_html(kind: str, colour: str) -> str:
    base = "display:inline-block;vertical-align:middle;margin-right:6px;"
    colour = css_colour(colour)
    if kind == "line":
        return f'<i style="{base}width:22px;height:0;border-top:4px solid {colour};"></i>'
    if kind == "dashed":
        return f'<i style="{base}width:22px;height:0;border-top:3px dashed {colour};"></i>'
    if kind == "circle":
        return (
            f'<i style="{base}width:11px;height:11px;border-radius:50%;background:{colour};'
            'border:1px solid #fff;box-shadow:0 0 1px #333;"></i>'
        )
    if kind == "outline":
        return f'<i style="{base}width:16px;height:11px;border:2px solid {colour};"></i>'
    return f'<i style="{base}width:16px;height:12px;background:{colour};opacity:0.8;"></i>'


class _Attribution(MacroElement):
    """Adds a text to the map's attribution control (e.g. the OSM credit for vector data)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
if ({{ this._parent.get_name() }}.attributionControl) {
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.js_text }});
}
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GcgeoAttribution"
        self.text = text
        # kept readable (Chinese not \\u-escaped) so the credit is visible in the HTML source
        self.js_text = js_string(text)


def _legend(m: folium.Map) -> _Legend:
    for child in m._children.values():
        if isinstance(child, _Legend):
            return child
    legend = _Legend()
    m.add_child(legend)
    return legend


def _add_osm_attribution(m: folium.Map) -> None:
    if not any(
        isinstance(c, _Attribution) and c.text == OSM_ATTRIBUTION for c in m._children.values()
    ):
        m.add_child(_Attribution(OSM_ATTRIBUTION))


def _finish(m: folium.Map) -> folium.Map:
    """Keep exactly one LayerControl, as the last child (it must follow every layer)."""
    root = m.get_root()
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
            # and its output from any earlier render, or the page would get two controls
            for part in (root.header, root.html, root.script):
                part._children.pop(child.get_name(), None)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def _map_for(m: folium.Map | None, gdf: gpd.GeoDataFrame) -> folium.Map:
    return new_map(gdf) if m is None else m


def _geojson(
    data: dict[str, Any],
    style: Mapping[str, Any],
    *,
    name: str | None = None,
    tooltip: folium.GeoJsonTooltip | str | None = None,
    popup: folium.GeoJsonPopup | None = None,
    marker: folium.CircleMarker | None = None,
    interactive: bool = True,
) -> folium.GeoJson:
    # a fixed style object (Leaflet accepts one) avoids folium's per-feature style map
    return folium.GeoJson(
        data,
        name=name,
        tooltip=tooltip,
        popup=popup,
        marker=marker,
        style=dict(style),
        interactive=interactive,
    )


# --------------------------------------------------------------------------- the base map


def new_map(
    bounds_or_gdf: Any,
    tiles: TileName | str | None = None,
    tianditu_key: str | None = None,
    offline: bool = False,
    height: str = "100%",
) -> folium.Map:
    """Make an empty map fitted to some data, with scale bar and the chosen tiles.

    Parameters
    ----------
    bounds_or_gdf : GeoDataFrame, GeoSeries or sequence of 4 floats
        Data to frame (any CRS), or ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326.
    tiles : {"osm", "tianditu", "amap", "none"}, optional
        Background tiles. Default ``"osm"``, or ``"none"`` when ``offline`` is true (vector
        layers still draw, on a grey background; add :func:`basemap_streets` for context).
        ``"amap"`` tiles use GCJ-02, so every overlay added later is shifted to GCJ-02.
    tianditu_key : str, optional
        API key for Tianditu (天地图) tiles; required with ``tiles="tianditu"``.
    offline : bool
        Inline Leaflet and jQuery (see :func:`make_offline`) so the HTML needs no internet.
    height : str
        CSS height of the map element.

    Returns
    -------
    folium.Map
    """
    if tiles is None:
        tiles = "none" if offline else "osm"
    if tiles not in TILES:
        raise InputError(f"Unknown tiles {tiles!r}; choose --tiles from {', '.join(TILES)}.")
    if tiles == "tianditu" and not tianditu_key:
        raise InputError(
            "Tianditu tiles need an API key; pass --tianditu-key KEY or choose --tiles osm/none."
        )
    if tiles == "tianditu" and not re.fullmatch(r"[0-9A-Za-z_-]{1,128}", str(tianditu_key)):
        raise InputError(
            "--tianditu-key must be the letters and digits of a Tianditu API key; "
            "copy it again from the Tianditu console."
        )
    if offline and tiles != "none":
        raise InputError(
            f"An offline map draws no tiles (they would be fetched from the internet), but "
            f"tiles {tiles!r} were asked for; drop --tiles or drop --offline."
        )
    x0, y0, x1, y1 = _bounds_4326(bounds_or_gdf)
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=True,
        height=height,
    )
    setattr(m, _GCJ_ATTR, tiles == "amap")
    if tiles == "osm":
        folium.TileLayer(
            "OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTRIBUTION, max_zoom=19
        ).add_to(m)
    elif tiles == "tianditu":
        for layer, label in (("vec", "天地图 Tianditu"), ("cva", "天地图注记 Tianditu labels")):
            folium.TileLayer(
                _TIANDITU_URL.format(layer=layer, key=tianditu_key, s="{s}"),
                name=label,
                attr="© 天地图 Tianditu",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == "cva",
            ).add_to(m)
    elif tiles == "amap":
        folium.TileLayer(
            _AMAP_URL, name="高德 AMap", attr="© 高德地图 AutoNavi", subdomains="1234", max_zoom=18
        ).add_to(m)
    sw, ne = [y0, x0], [y1, x1]
    if tiles == "amap":
        lon, lat = wgs84_to_gcj02(np.array([x0, x1]), np.array([y0, y1]))
        sw, ne = [float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]
    m.fit_bounds([sw, ne])
    _legend(m)
    if offline:
        make_offline(m)
    return _finish(m)


# --------------------------------------------------------------------------- street layers


def streets_by_minutes(
    edges: gpd.GeoDataFrame,
    column: str,
    m: folium.Map | None = None,
    name: str = "街道步行时间 Street walking time",
    simplify_m: float = 2.0,
    weight: float = 3.0,
) -> folium.Map:
    """Colour streets by walking minutes: 0–5, 5–10, 10–15, > 15 and unreachable.

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
    _check_frame(edges, "The streets frame", [column])
    minutes = _numeric(edges, column, "the streets frame")
    m = _map_for(m, edges)
    band = minute_band(minutes)
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
    geoms = _to_map_geoms(gpd.GeoSeries(merged, crs=edges.crs), m)
    group_band = np.array([u[0] for u in uniques], dtype=np.int64)
    fg = _feature_group(name)
    for b in range(len(BAND_LABELS)):
        sel = np.flatnonzero(group_band == b)
        if not len(sel):
            continue
        props = [{"name": _esc(names.iloc[i]) or "—", "band": BAND_LABELS[b]} for i in sel]
        style = {"color": BAND_COLOURS[b], "weight": weight, "opacity": 0.9}
        if b == 4:
            style.update(dashArray="4 4", weight=max(1.0, weight - 1), opacity=0.7)
        _geojson(
            _feature_collection(geoms[sel], props),
            style,
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "band"], aliases=["街道 street", "步行 walk"], sticky=True
            ),
        ).add_to(fg)
    fg.add_to(m)
    _legend(m).set_section(
        "街道步行时间 Street walking time",
        [("line", c, lab) for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)],
    )
    _add_osm_attribution(m)
    return _finish(m)


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
    _check_frame(edges, "The streets frame")
    m = _map_for(m, edges)
    major = (
        edges["highway"].isin(_MAJOR_HIGHWAYS).to_numpy()
        if "highway" in edges.columns
        else np.zeros(len(edges), dtype=bool)
    )
    fg = _feature_group(name)
    for is_major, colour, weight in ((False, "#c8c8c8", 1.5), (True, "#a8a8a8", 3.0)):
        sel = edges.geometry.values[major == is_major]
        if not len(sel):
            continue
        merged = shapely.line_merge(shapely.multilinestrings(sel))
        if simplify_m > 0 and edges.crs.is_projected:
            merged = shapely.simplify(merged, simplify_m, preserve_topology=False)
        geoms = _to_map_geoms(gpd.GeoSeries([merged], crs=edges.crs), m)
        _geojson(
            _feature_collection(geoms, [{}]),
            {"color": colour, "weight": weight, "opacity": 1.0},
            interactive=False,
        ).add_to(fg)
    fg.add_to(m)
    _add_osm_attribution(m)
    return _finish(m)


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
    proj, xy = _origin_xy(origins)
    pop = (
        pd.to_numeric(proj[POPULATION], errors="coerce").fillna(0).to_numpy()
        if POPULATION in proj.columns
        else None
    )
    fg = _feature_group(name, show=show)
    for k, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        sel = np.flatnonzero(classes == k)
        if not len(sel):
            continue
        style = {"color": colour, "fillColor": colour, "weight": 0.5, "fillOpacity": 0.6}
        if cell_size:
            h = float(cell_size) / 2
            boxes = shapely.box(xy[sel, 0] - h, xy[sel, 1] - h, xy[sel, 0] + h, xy[sel, 1] + h)
            merged = shapely.coverage_union_all(boxes)
            geoms = _to_map_geoms(gpd.GeoSeries([merged], crs=proj.crs), m)
            tip = f"{label}: {len(sel)} 格 cells"
            if pop is not None:
                tip += f", {pop[sel].sum():,.0f} 人 people"
            _geojson(_feature_collection(geoms, [{}]), style, tooltip=_esc(tip)).add_to(fg)
        else:
            geoms = _to_map_geoms(gpd.GeoSeries(proj.geometry.values[sel], crs=proj.crs), m)
            props = [{"tip": _esc(tips[i])} for i in sel]
            _geojson(
                _feature_collection(geoms, props),
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
    cat = _category(category)
    mcol, dcol = min_col(cat.id), dist_col(cat.id)
    _check_frame(origins, "The origins frame", [mcol])
    minutes = _numeric(origins, mcol, "the origins frame")
    dist = _numeric(origins, dcol, "the origins frame") if dcol in origins.columns else None
    m = _map_for(m, origins)
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
    _legend(m).set_section(title, items)
    _add_osm_attribution(m)
    return _finish(m)


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
    _check_frame(origins, "The origins frame", [COMPLETENESS])
    share = _numeric(origins, COMPLETENESS, "the origins frame")
    m = _map_for(m, origins)
    cls = np.full(len(share), 5, dtype=np.int64)
    ok = np.isfinite(share)
    s = np.clip(share[ok], 0.0, 1.0)
    cls[ok] = np.select([s >= 1.0, s >= 0.75, s >= 0.5, s >= 0.25], [0, 1, 2, 3], default=4)
    tips = [
        f"{v * 100:.0f} % 完整度 completeness" if np.isfinite(v) else _COMPLETENESS_LABELS[5]
        for v in share
    ]
    title = "生活圈完整度 Life-circle completeness"
    _add_classed_origins(
        m, origins, cls, _COMPLETENESS_LABELS, _COMPLETENESS_COLOURS, tips, title, cell_size, show
    )
    _legend(m).set_section(
        title,
        [
            ("box", c, lab)
            for c, lab in zip(_COMPLETENESS_COLOURS, _COMPLETENESS_LABELS, strict=True)
        ],
    )
    _add_osm_attribution(m)
    return _finish(m)


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
    cat = _category(category)
    rcol = reached_col(cat.id)
    _check_frame(origins, "The origins frame", [rcol])
    reached = origins[rcol].fillna(False).astype(bool).to_numpy()
    m = _map_for(m, origins)
    gap = ~reached
    cls = np.where(gap, 0, 1).astype(np.int64)  # class 1 is never drawn (no colour given)
    title = f"{cat.name_zh} 服务盲区 {cat.name_en} gaps"
    label = "不可达 out of reach"
    if cat.max_distance_m is not None:
        label += f" (> {cat.max_distance_m:,.0f} m)"
    tips = [label] * len(origins)
    _add_classed_origins(m, origins, cls, [label], ["#b2182b"], tips, title, cell_size, show)
    _legend(m).set_section(title, [("box", "#b2182b", label)])
    _add_osm_attribution(m)
    return _finish(m)


# --------------------------------------------------------------------------- facilities, areas


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
    _check_frame(facilities, "The facilities frame", ["name", "category"])
    m = _map_for(m, facilities)
    if categories is None:
        categories = sorted(facilities["category"].dropna().astype(str).unique())
    cats = [_category(c) for c in categories]
    geoms = _to_map_geoms(facilities.geometry, m)
    cat_values = facilities["category"].astype(str).to_numpy()
    fid = facilities["facility_id"] if "facility_id" in facilities.columns else None
    src = facilities["source"] if "source" in facilities.columns else None
    items = []
    for k, cat in enumerate(cats):
        colour = _CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)]
        label = f"{cat.name_zh} {cat.name_en}"
        sel = np.flatnonzero(cat_values == cat.id)
        items.append(("circle", colour, f"{label} ({len(sel)})"))
        if not len(sel):
            continue
        props = [
            {
                "name": _esc(facilities["name"].iloc[i]) or "（无名称 unnamed）",
                "category": _esc(label),
                "source": _esc(src.iloc[i]) if src is not None else "",
                "id": _esc(fid.iloc[i]) if fid is not None else "",
            }
            for i in sel
        ]
        fg = _feature_group(f"设施 Facilities: {label}")
        _geojson(
            _feature_collection(geoms[sel], props),
            {"color": "#ffffff", "weight": 1.5, "fillColor": colour, "fillOpacity": 0.95},
            marker=folium.CircleMarker(radius=radius, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["name", "category"], labels=False),
            popup=folium.GeoJsonPopup(
                fields=["name", "category", "source", "id"],
                aliases=["名称 name", "类别 category", "来源 source", "编号 id"],
            ),
        ).add_to(fg)
        fg.add_to(m)
    _legend(m).set_section("设施 Facilities", items)
    if src is not None and src.astype(str).str.lower().str.contains("osm").any():
        _add_osm_attribution(m)
    return _finish(m)


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
    _check_frame(gdf, "The areas frame", ["code", "name_zh", "name_en", "confidence"])
    m = _map_for(m, gdf)
    geoms = _to_map_geoms(gdf.geometry, m)
    conf = gdf["confidence"].fillna("").astype(str).str.strip().str.lower().to_numpy()
    fg = _feature_group(name)
    for uncertain in (False, True):
        sel = np.flatnonzero(np.isin(conf, list(_UNCERTAIN)) == uncertain)
        if not len(sel):
            continue
        props = []
        for i in sel:
            zh, en, code = (_esc(gdf[c].iloc[i]) for c in ("name_zh", "name_en", "code"))
            conf_label = _CONFIDENCE_LABELS.get(conf[i], _esc(gdf["confidence"].iloc[i]))
            src = _esc(gdf["source"].iloc[i]) if "source" in gdf.columns else ""
            tip = f"<b>{zh}</b> {en} ({code})<br>可信度 confidence: {conf_label}"
            if src:
                tip += f"<br>来源 source: {src}"
            props.append({"tip": tip})
        style = {"color": colour, "weight": 2.5, "fillColor": colour, "fillOpacity": 0.05}
        if uncertain:
            style["dashArray"] = "6 6"
        _geojson(
            _feature_collection(geoms[sel], props),
            style,
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
        ).add_to(fg)
    if label:
        pts = _to_map_geoms(gpd.GeoSeries(gdf.geometry.representative_point(), crs=gdf.crs), m)
        for i, pt in enumerate(pts):
            zh, en = _esc(gdf["name_zh"].iloc[i]), _esc(gdf["name_en"].iloc[i])
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
    _legend(m).set_section(
        name,
        [("outline", colour, "边界 boundary"), ("dashed", colour, "草案/估计 draft/estimate")],
    )
    src_all = gdf["source"].astype(str).str.lower() if "source" in gdf.columns else pd.Series([])
    if src_all.str.contains("osm").any():
        _add_osm_attribution(m)
    return _finish(m)


class _TitleBox(MacroElement):
    """A text box in the top-left corner of the map (e.g. a title or a data note)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var ctl = L.control({position: "topleft"});
    ctl.onAdd = function () {
        var el = L.DomUtil.create("div", "gcgeo-title");
        el.style.cssText = "background:rgba(255,255,255,0.92);padding:4px 8px;border-radius:4px;"
            + "box-shadow:0 0 4px rgba(0,0,0,0.35);font:bold 13px 'WenQuanYi Micro Hei',"
            + "'Microsoft YaHei',sans-serif;color:#b2182b;";
        el.textContent = {{ this.js_text }};
        return el;
    };
    ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GcgeoTitle"
        self.text = text
        # set as textContent, so no HTML is interpreted; kept readable in the source
        self.js_text = js_string(text)


def page_title(m: folium.Map, text: str) -> folium.Map:
    """Set the ``<title>`` of the page a map is saved as (plain text, escaped here).

    Parameters
    ----------
    m : folium.Map
    text : str

    Returns
    -------
    folium.Map
    """
    m.get_root().title = html_text(text)
    return m


def title_box(m: folium.Map, text: str) -> folium.Map:
    """Show a line of text (title or data note) in the map's top-left corner.

    The text is set as plain text (never parsed as HTML), so untrusted names are safe.

    Parameters
    ----------
    m : folium.Map
    text : str

    Returns
    -------
    folium.Map
    """
    m.add_child(_TitleBox(str(text)))
    return _finish(m)


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
    fg = _feature_group("起点 Origins")
    geoms = _to_map_geoms(base.geometry, m)
    _geojson(
        _feature_collection(geoms, [{}] * len(geoms)),
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
            fg = _feature_group(name)
            for kind in ("gained", "lost"):
                part = sub[sub["change"] == kind]
                if not len(part):
                    continue
                counts[kind] += len(part)
                props = [
                    {
                        "change": kind,
                        "tip": (
                            f"{_DELTA_LABELS[kind]} · {_esc(cat)}: "
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
                _geojson(
                    _feature_collection(_to_map_geoms(part.geometry, m), props),
                    {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.9},
                    marker=folium.CircleMarker(radius=radius, fill=True),
                    tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
                ).add_to(fg)
            fg.add_to(m)
    _legend(m).set_section(
        "情景变化 Scenario change",
        [
            ("circle", _DELTA_COLOURS["gained"], f"{_DELTA_LABELS['gained']} ({counts['gained']})"),
            ("circle", _DELTA_COLOURS["lost"], f"{_DELTA_LABELS['lost']} ({counts['lost']})"),
            ("circle", "#bdbdbd", "未变 unchanged / 其他起点 other origins"),
        ],
    )
    _add_osm_attribution(m)
    return _finish(m)


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
    _check_frame(gdf, "The planned facilities frame", ["name_zh", "name_en"])
    located = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    located = located[located.geom_type == "Point"]
    if m is None:
        if located.empty:
            raise InputError(
                "No planned facility has a location; pass a map m or a layer with points."
            )
        m = new_map(located)
    fg = _feature_group(name)
    if len(located):
        props = []
        for i in range(len(located)):
            r = located.iloc[i]
            conf = str(r.get("confidence") or "").lower()
            props.append(
                {
                    "tip": f"<b>{_esc(r['name_zh'])}</b> {_esc(r['name_en'])}<br>"
                    f"类别 category: {_esc(r.get('category')) or '—'} · "
                    f"状态 status: {_esc(r.get('status')) or '—'}<br>"
                    f"位置 location: {_CONFIDENCE_LABELS.get(conf, _esc(r.get('confidence')))}"
                }
            )
        _geojson(
            _feature_collection(_to_map_geoms(located.geometry, m), props),
            {"color": colour, "weight": 3, "fillColor": "#ffffff", "fillOpacity": 0.2},
            marker=folium.CircleMarker(radius=11, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(fg)
    fg.add_to(m)
    _legend(m).set_section(
        name, [("circle", colour, f"规划（位置为估计） planned, estimated site ({len(located)})")]
    )
    return _finish(m)


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
    _check_frame(polys, "The isochrone frame", ["minutes"])
    m = _map_for(m, polys)
    order = polys.sort_values("minutes", ascending=False)
    g = order.geometry
    if simplify_m > 0 and polys.crs.is_projected:
        g = g.simplify(simplify_m)
    geoms = _to_map_geoms(g, m)
    fg = _feature_group(name)
    items = []
    for geom, t in zip(geoms, order["minutes"].to_numpy(dtype=float), strict=True):
        colour = BAND_COLOURS[min(int(minute_band([t])[0]), 3)]
        label = f"≤ {t:g} 分钟 min 步行范围 walking area"
        _geojson(
            _feature_collection([geom], [{}]),
            {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.25},
            tooltip=_esc(label),
        ).add_to(fg)
        items.append(("box", colour, label))
    fg.add_to(m)
    _legend(m).set_section(name, items[::-1])
    _add_osm_attribution(m)
    return _finish(m)


# --------------------------------------------------------------------------- offline, HTML


def _xstatic_dir(module: str, package: str) -> Path:
    try:
        mod = import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"Offline maps need the {package} package; install it with `pip install {package}`."
        ) from exc
    return Path(mod.BASE_DIR)


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _guard_script(js: str, global_name: str) -> str:
    """A <script> that defines a library only once per page (two fragments, one page)."""
    if "</script" in js.lower():  # pragma: no cover - true for the pinned packages
        raise DependencyError("An inlined script contains '</script'; reinstall xstatic packages.")
    return f"<script>if (typeof window.{global_name} === 'undefined') {{\n{js}\n}}</script>"


@functools.lru_cache(maxsize=1)
def _offline_assets() -> str:
    """Leaflet CSS/JS and jQuery from the installed XStatic packages, inlined."""
    leaflet = _xstatic_dir("xstatic.pkg.leaflet", "XStatic-Leaflet")
    jquery = _xstatic_dir("xstatic.pkg.jquery", "XStatic-jQuery")
    images = leaflet / "images"
    css = (leaflet / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(
        r"url\((['\"]?)images/([\w.-]+\.png)\1\)",
        lambda mt: f"url({_data_uri(images / mt.group(2))})",
        css,
    )
    jq = next((p for p in (jquery / "jquery.min.js", jquery / "jquery.js") if p.exists()), None)
    if jq is None:  # pragma: no cover - layout of the pinned package
        raise DependencyError("XStatic-jQuery has no jquery.min.js; reinstall XStatic-jQuery.")
    icons = (
        "L.Icon.Default.imagePath = '';\n"
        "L.Icon.Default.mergeOptions({"
        f"iconUrl: '{_data_uri(images / 'marker-icon.png')}', "
        f"iconRetinaUrl: '{_data_uri(images / 'marker-icon-2x.png')}', "
        f"shadowUrl: '{_data_uri(images / 'marker-shadow.png')}'}});"
    )
    return "\n".join(
        [
            f"<style>\n{css}\n</style>",
            _guard_script((leaflet / "leaflet.js").read_text(encoding="utf-8"), "L"),
            _guard_script(jq.read_text(encoding="utf-8"), "jQuery"),
            f"<script>{icons}</script>",
        ]
    )


def make_offline(m: folium.Map) -> folium.Map:
    """Make a map's HTML self-contained: no CDN scripts or stylesheets.

    Drops folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers),
    inlines Leaflet 1.9 CSS/JS and jQuery from the installed XStatic packages, turns
    Leaflet's CSS images and default marker icons into data URIs. Tile layers are left as
    they are (use ``tiles="none"`` for a map that makes no requests at all). Plugins that
    need their own scripts will not work offline.

    Parameters
    ----------
    m : folium.Map
        The map, changed in place.

    Returns
    -------
    folium.Map
        The same map.
    """
    stack: list[Element] = [m]
    while stack:
        el = stack.pop()
        if hasattr(el, "default_js"):
            el.default_js = []
            el.default_css = []
        stack.extend(el._children.values())
    header = m.get_root().header
    for key, child in list(header._children.items()):
        if isinstance(child, folium.JavascriptLink | folium.CssLink):
            del header._children[key]
    header.add_child(Element(_offline_assets()), name="gcgeo_offline_assets")
    setattr(m, _OFFLINE_ATTR, True)
    return m


def to_html(m: folium.Map) -> str:
    """The map as a standalone HTML document (a string; the caller writes it).

    Parameters
    ----------
    m : folium.Map

    Returns
    -------
    str
    """
    return render_figure(m.get_root())


_GLOBAL_CSS = re.compile(
    r"<style>\s*html,\s*body\s*\{[^}]*\}\s*</style>|<style>\s*#map\s*\{[^}]*\}\s*</style>"
)
_META = re.compile(r"<meta\b[^>]*>\s*")


def to_fragment(m: folium.Map, height: str = "600px") -> str:
    """The map as an HTML fragment to paste into a larger report page.

    The fragment is one ``<div>`` holding the map's own styles, scripts and elements. All
    element ids are unique per map, page-wide rules (``html, body {...}``, ``#map``) and
    ``<meta>`` tags are left out, and inlined libraries load once per page.

    Parameters
    ----------
    m : folium.Map
    height : str
        CSS height of the fragment's container.

    Returns
    -------
    str
    """
    root = m.get_root()
    render_figure(root)  # fills root.header / root.html / root.script
    header = _META.sub("", _GLOBAL_CSS.sub("", root.header.render()))
    body = root.html.render()
    script = root.script.render()
    fid = f"gcgeo-map-{uuid.uuid4().hex}"
    return (
        f'<div id="{fid}" class="gcgeo-map" style="position:relative;width:100%;'
        f'height:{html_text(height)};">\n{header}\n{body}\n<script>\n{script}\n</script>\n</div>\n'
    )


# --------------------------------------------------------------------------- static PNG maps

_CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_CJK_FILES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "notosanssc", "sourcehansans")


def cjk_font() -> FontProperties:
    """Font properties of an installed Chinese font (WenQuanYi Micro Hei preferred).

    Returns
    -------
    matplotlib.font_manager.FontProperties

    Raises
    ------
    DependencyError
        When no CJK font is installed.
    """
    from matplotlib import font_manager

    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in by_name:
            return FontProperties(fname=by_name[family])
    # installed after matplotlib built its font cache
    for key in _CJK_FILES:
        for path in sorted(font_manager.findSystemFonts()):
            if key in Path(path).name.lower().replace("-", "").replace("_", "") or (
                key in Path(path).name.lower()
            ):
                return FontProperties(fname=path)
    raise DependencyError(
        "No Chinese (CJK) font is installed for static maps; install one with "
        "`apt-get install fonts-wqy-microhei`."
    )


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    nice = [
        10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000,
    ]  # fmt: skip
    return float(max([n for n in nice if n <= target] or [nice[0]]))


def _line_collection_segments(geoms: Iterable[Any]) -> list[NDArray[np.float64]]:
    parts = shapely.get_parts(np.asarray(list(geoms), dtype=object))
    parts = parts[~shapely.is_empty(parts)]
    if not len(parts):
        return []
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(np.diff(idx)) + 1
    return np.split(coords, cuts)


def static_map(
    *,
    edges: gpd.GeoDataFrame | None = None,
    column: str | None = None,
    areas: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    isochrones: gpd.GeoDataFrame | None = None,
    categories: Sequence[Any] | None = None,
    title: str | None = None,
    crs: str | None = None,
    figsize: tuple[float, float] = (8.0, 8.0),
    dpi: int = 150,
) -> Figure:
    """A static map for reports: streets, areas, facilities, isochrones, legend, scale bar.

    Drawn in a projected CRS (that of ``edges``, else EPSG:4548) with a north arrow, a
    metric scale bar, a bilingual legend and Chinese labels in a CJK font.

    Parameters
    ----------
    edges : GeoDataFrame, optional
        Street segments, drawn grey, or coloured by walking minutes when ``column`` is given.
    column : str, optional
        Numeric column of ``edges`` with walking minutes (NaN/inf unreachable).
    areas : GeoDataFrame, optional
        Areas with ``name_zh`` / ``name_en`` (outlined and labelled, draft dashed).
    facilities : GeoDataFrame, optional
        Facility points (with ``category``).
    isochrones : GeoDataFrame, optional
        Polygons with ``minutes``.
    categories : sequence, optional
        Facility category ids or metadata in legend order (same colours as
        :func:`facilities_layer` given the same list); default: those present, sorted.
    title : str, optional
        Title above the map.
    crs : str, optional
        Projected CRS to draw in.
    figsize : tuple of float
        Figure size in inches.
    dpi : int
        Figure resolution.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig(path_or_buffer)``.
    """
    from matplotlib import patheffects, transforms
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    layers = [x for x in (edges, areas, facilities, isochrones) if x is not None]
    if not layers:
        raise InputError("static_map got no data; pass edges, areas, facilities or isochrones.")
    for frame, what in ((edges, "streets"), (areas, "areas"), (facilities, "facilities")):
        if frame is not None:
            _check_frame(frame, f"The {what} frame")
    if isochrones is not None:
        _check_frame(isochrones, "The isochrone frame", ["minutes"])
    if column is not None and edges is None:
        raise InputError(f"static_map got column {column!r} but no edges; pass edges too.")
    if crs is None:
        crs = str(edges.crs) if edges is not None and edges.crs.is_projected else DEFAULT_CRS
    font = cjk_font()
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]

    fig = Figure(figsize=figsize, dpi=dpi)
    ax = fig.add_axes((0.03, 0.09, 0.66, 0.82 if title else 0.88))
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles: list[Any] = []

    if isochrones is not None:
        iso = isochrones.to_crs(crs).sort_values("minutes", ascending=False)
        for geom, t in zip(iso.geometry, iso["minutes"].to_numpy(dtype=float), strict=True):
            colour = BAND_COLOURS[min(int(minute_band([t])[0]), 3)]
            gpd.GeoSeries([geom], crs=crs).plot(
                ax=ax, color=colour, alpha=0.3, edgecolor=colour, linewidth=0.8
            )
            handles.append(Patch(color=colour, alpha=0.4, label=f"≤ {t:g} 分钟 min 等时圈"))
    if edges is not None:
        e = edges.to_crs(crs)
        if column is None:
            segs = _line_collection_segments(e.geometry.values)
            ax.add_collection(LineCollection(segs, colors="#9e9e9e", linewidths=0.6))
            handles.append(Line2D([], [], color="#9e9e9e", lw=1.5, label="街道 streets"))
        else:
            _check_frame(edges, "The streets frame", [column])
            band = minute_band(_numeric(edges, column, "the streets frame"))
            for b in (4, 3, 2, 1, 0):
                sel = e.geometry.values[band == b]
                if not len(sel):
                    continue
                ax.add_collection(
                    LineCollection(
                        _line_collection_segments(sel),
                        colors=BAND_COLOURS[b],
                        linewidths=0.6 if b == 4 else 1.2,
                        linestyles="dashed" if b == 4 else "solid",
                    )
                )
            handles.extend(
                Line2D([], [], color=c, lw=2, label=lab)
                for c, lab in zip(BAND_COLOURS, BAND_LABELS, strict=True)
            )
    if areas is not None:
        a = areas.to_crs(crs)
        conf = (
            a["confidence"].fillna("").astype(str).str.lower().to_numpy()
            if "confidence" in a.columns
            else np.array([""] * len(a))
        )
        for uncertain in (False, True):
            sel = np.isin(conf, list(_UNCERTAIN)) == uncertain
            if sel.any():
                segs = _line_collection_segments(a.geometry.boundary.values[sel])
                ax.add_collection(
                    LineCollection(
                        segs,
                        colors="#5e3c99",
                        linewidths=1.6,
                        linestyles="dashed" if uncertain else "solid",
                    )
                )
        handles.append(Line2D([], [], color="#5e3c99", lw=1.6, label="片区 areas"))
        if (np.isin(conf, list(_UNCERTAIN))).any():
            handles.append(
                Line2D([], [], color="#5e3c99", lw=1.6, ls="--", label="草案/估计 draft/estimate")
            )
        if "name_zh" in a.columns:
            for pt, zh, en in zip(
                a.geometry.representative_point(),
                a["name_zh"].fillna(""),
                a["name_en"].fillna("") if "name_en" in a.columns else [""] * len(a),
                strict=True,
            ):
                ax.text(
                    pt.x,
                    pt.y,
                    f"{zh}\n{en}".strip(),
                    ha="center",
                    va="center",
                    fontproperties=font,
                    fontsize=10,
                    color="#3f2a6b",
                    path_effects=halo,
                )
    if facilities is not None:
        f = facilities.to_crs(crs)
        values = (
            f["category"].astype(str).to_numpy()
            if "category" in f.columns
            else np.array([""] * len(f), dtype=object)
        )
        if categories is None:
            categories = sorted(set(values) - {"nan", "None"})
        for k, cat in enumerate(_category(c) for c in categories):
            xy = shapely.get_coordinates(f.geometry.values[values == cat.id])
            colour = _CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)]
            ax.scatter(
                xy[:, 0], xy[:, 1], s=26, c=colour, edgecolors="white", linewidths=0.7, zorder=5
            )
            label = f"{cat.name_zh} {cat.name_en}" if cat.name_zh != cat.name_en else cat.id
            handles.append(
                Line2D([], [], marker="o", ls="", color=colour, mec="white", label=label)
            )

    x0, y0, x1, y1 = gpd.GeoSeries(
        [shapely.box(*lay.to_crs(crs).total_bounds) for lay in layers], crs=crs
    ).total_bounds
    pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)

    # scale bar under the map: x in metres of the projected CRS, y in axes fractions
    span = (x1 - x0) + 2 * pad
    bar = _nice_length(span)
    below = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    bx = x0 - pad
    for k, face in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (bx + k * bar / 2, -0.035),
                bar / 2,
                0.012,
                transform=below,
                facecolor=face,
                edgecolor="black",
                clip_on=False,
            )
        )
    bar_label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    for x, text in ((bx, "0"), (bx + bar, bar_label)):
        ax.text(x, -0.065, text, transform=below, ha="center", va="center", fontsize=8)

    # north arrow beside the map, under the legend; the projected grid's north is up
    ax.annotate(
        "北 N",
        xy=(1.08, 0.16),
        xytext=(1.08, 0.04),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontproperties=font,
        fontsize=11,
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 10, "headlength": 10},
        annotation_clip=False,
    )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            prop=font,
            fontsize=8,
            framealpha=0.9,
        )
        for text in ax.get_legend().get_texts():
            text.set_fontproperties(font)
            text.set_fontsize(8)
    if title:
        fig.suptitle(title, fontproperties=font, fontsize=14, y=0.97)
    credits = []
    if edges is not None or facilities is not None:
        credits.append(OSM_ATTRIBUTION)
    credits.append(f"CRS {crs}")
    fig.text(0.98, 0.005, " · ".join(credits), ha="right", va="bottom", fontsize=7, color="#555")
    return fig
