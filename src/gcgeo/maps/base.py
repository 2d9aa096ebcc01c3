"""The base map and what every layer shares: tiles, colours, legend, title, helpers.

:func:`new_map` makes an empty folium map framed on some data with the chosen tiles;
:func:`page_title` and :func:`title_box` label it. The private helpers here are used by the
layer functions of :mod:`gcgeo.maps.layers` and :mod:`gcgeo.maps.features`: category
metadata, numeric columns, reprojection (and the GCJ-02 shift for AMap tiles), GeoJSON
building, the bilingual legend (one per map), the OSM credit and the single layer control.

folium and branca are imported inside the functions that need them (as geopandas
``explore()`` does), so importing this module does not import them.
"""

from __future__ import annotations

import re
import textwrap
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from .. import settings
from .._errors import InputError
from ..crs import wgs84_to_gcj02
from ..escape import html_text
from ..layer_checks import FACILITY_CATEGORIES
from .html import make_offline

if TYPE_CHECKING:
    import folium

    from ._elements import Legend

__all__ = [
    "add_osm_attribution",
    "BAND_COLOURS",
    "BAND_LABELS",
    "BAND_LIMITS",
    "CATEGORY_COLOURS",
    "PALETTE_ORDER",
    "category_colour",
    "draft_note",
    "category_meta",
    "COMPLETENESS_COLOURS",
    "COMPLETENESS_LABELS",
    "CONFIDENCE_LABELS",
    "feature_collection",
    "feature_group",
    "finish",
    "geojson_layer",
    "legend_of",
    "MAJOR_HIGHWAYS",
    "map_for",
    "minute_band",
    "new_map",
    "numeric_column",
    "OSM_ATTRIBUTION",
    "page_title",
    "TileName",
    "TILES",
    "title_box",
    "to_map_geoms",
    "UNCERTAIN",
]

WGS84 = settings.WGS84
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

#: Street grade classes (steepest piece of a segment, %; ``gcgeo map --dem``).
GRADE_EDGES_PCT = (3.0, 6.0, 10.0)
GRADE_LABELS = ("< 3 %", "3–6 %", "6–10 %", "≥ 10 %")
GRADE_COLOURS = ("#d9f0d3", "#fee08b", "#f46d43", "#7f0000")


def grade_band(grade_pct: ArrayLike) -> NDArray[np.int64]:
    """Class index of :data:`GRADE_LABELS` per street (NaN counts as level)."""
    g = np.nan_to_num(np.abs(np.asarray(grade_pct, dtype=float)), nan=0.0)
    return np.searchsorted(np.asarray(GRADE_EDGES_PCT), g, side="right").astype(np.int64)


COMPLETENESS_LABELS = (
    "100 % 全部可达 all reached",
    "75–99 %",
    "50–74 %",
    "25–49 %",
    "0–24 %",
    "无数据 no data",
)
COMPLETENESS_COLOURS = ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c", "#bdbdbd")

#: One colour per category of the shipped catalogue, in its order (:data:`PALETTE_ORDER`),
#: the same in HTML, PNG and QGIS styles. Picked by greedy max-min CIE dE*ab from an sRGB
#: grid: every pair differs by dE >= 14 for normal vision and under simulated deuteranopia,
#: protanopia and tritanopia (Machado et al. 2009), and every colour by dE >= 14 from the
#: street bands, "unreachable", white and the area outlines (``tests/maps/test_palette.py``).
CATEGORY_COLOURS = (
    "#b631fc",
    "#fa61f3",
    "#e7d420",
    "#90609c",
    "#70e9a0",
    "#1c35b7",
    "#8f0f1b",
    "#ce96cd",
    "#ee7802",
    "#69306e",
    "#851e39",
    "#5078c6",
    "#e68676",
    "#f9bff8",
    "#2ba8fa",
    "#b72765",
)
#: the shipped catalogue's category ids, which take CATEGORY_COLOURS in this order
PALETTE_ORDER = FACILITY_CATEGORIES


def category_colour(category_id: str) -> str:
    """The category's colour: fixed for the shipped categories, stable for any other id."""
    if category_id in PALETTE_ORDER:
        return CATEGORY_COLOURS[PALETTE_ORDER.index(category_id)]
    return CATEGORY_COLOURS[zlib.crc32(category_id.encode("utf-8")) % len(CATEGORY_COLOURS)]


CONFIDENCE_LABELS = {
    "draft": "草案 draft",
    "estimate": "估计 estimate",
    "estimated": "估计 estimate",
    "official": "官方 official",
    "verified": "已核实 verified",
}
UNCERTAIN = {"draft", "estimate", "estimated"}


def draft_note(*frames: Any) -> str:
    """A footer line when any area of ``frames`` is a draft or an estimate ('' otherwise).

    Names the frames' ``source`` values, so a printed map never passes an estimate off as
    an official boundary.
    """
    conf: list[str] = []
    sources: list[str] = []
    for f in frames:
        if f is None or not len(f):
            continue
        if "confidence" in f.columns:
            conf += [str(c).strip().lower() for c in f["confidence"].dropna()]
        if "source" in f.columns:
            sources += [str(x) for x in f["source"].dropna().unique()]
    if not UNCERTAIN.intersection(conf):
        return ""
    short = [textwrap.shorten(x.split(";")[0].split("(")[0], 60, placeholder="…") for x in sources]
    named = "; ".join(dict.fromkeys(short[:3])) or "unknown"
    return f"区界为草案/估计，非官方 Area boundaries are drafts or estimates, not official (source: {named})"


MAJOR_HIGHWAYS = {
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


# --------------------------------------------------------------------------- small helpers


@dataclass(frozen=True)
class _Category:
    id: str
    name_zh: str
    name_en: str
    max_distance_m: float | None


def category_meta(cat: Any) -> _Category:
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


def numeric_column(gdf: gpd.GeoDataFrame, column: str, what: str) -> NDArray[np.float64]:
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


def feature_group(name: str, show: bool = True) -> folium.FeatureGroup:
    """A layer whose (plain-text) name is escaped: Leaflet shows layer names as HTML."""
    import folium

    return folium.FeatureGroup(name=html_text(name), show=show)


def _round_coords(geoms: NDArray[Any], decimals: int = 6) -> NDArray[Any]:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _gcj_shift(geoms: NDArray[Any]) -> NDArray[Any]:
    def shift(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)])

    return shapely.transform(geoms, shift)


def to_map_geoms(geoms: gpd.GeoSeries, m: folium.Map, decimals: int = 6) -> NDArray[Any]:
    """Reproject to EPSG:4326, shift to GCJ-02 for AMap maps, and round the coordinates."""
    g = geoms.to_crs(WGS84).values
    arr = np.asarray(g, dtype=object)
    if getattr(m, _GCJ_ATTR, False):
        arr = _gcj_shift(arr)
    return _round_coords(arr, decimals)


def feature_collection(geoms: Sequence[Any], props: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
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


def legend_of(m: folium.Map) -> Legend:
    """The map's one legend (added on first use); layers add their sections to it."""
    from ._elements import Legend

    for child in m._children.values():
        if isinstance(child, Legend):
            return child
    legend = Legend()
    m.add_child(legend)
    return legend


def add_osm_attribution(m: folium.Map) -> None:
    """Credit OpenStreetMap in the attribution control, once per map."""
    from ._elements import Attribution

    if not any(
        isinstance(c, Attribution) and c.text == OSM_ATTRIBUTION for c in m._children.values()
    ):
        m.add_child(Attribution(OSM_ATTRIBUTION))


def finish(m: folium.Map) -> folium.Map:
    """Keep exactly one LayerControl, as the last child (it must follow every layer)."""
    import folium

    root = m.get_root()
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
            # and its output from any earlier render, or the page would get two controls
            for part in (root.header, root.html, root.script):
                part._children.pop(child.get_name(), None)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def map_for(m: folium.Map | None, gdf: gpd.GeoDataFrame) -> folium.Map:
    return new_map(gdf) if m is None else m


def geojson_layer(
    data: dict[str, Any],
    style: Mapping[str, Any],
    *,
    name: str | None = None,
    tooltip: folium.GeoJsonTooltip | str | None = None,
    popup: folium.GeoJsonPopup | None = None,
    marker: folium.CircleMarker | None = None,
    interactive: bool = True,
) -> folium.GeoJson:
    import folium

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
    import folium

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
    from ._elements import MetricScale

    x0, y0, x1, y1 = _bounds_4326(bounds_or_gdf)
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=False,  # its scale bar shows feet too; MetricScale below does not
        height=height,
    )
    m.add_child(MetricScale())
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
    legend_of(m)
    if offline:
        make_offline(m)
    return finish(m)


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
    from ._elements import TitleBox

    m.add_child(TitleBox(str(text)))
    return finish(m)
