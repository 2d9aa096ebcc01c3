"""Static PNG maps for reports (matplotlib), with Chinese labels in a CJK font.

:func:`static_map` draws streets, areas, facilities and isochrones in a projected CRS with a
bilingual legend, a metric scale bar and a north arrow, and returns a matplotlib
:class:`~matplotlib.figure.Figure` (the caller saves it). :func:`cjk_font` finds an installed
Chinese font. matplotlib is imported only inside these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from .._errors import InputError
from ..crs import DEFAULT_CRS
from ..fonts import cjk_font
from ..isochrones import check_frame
from .base import (
    BAND_COLOURS,
    BAND_LABELS,
    OSM_ATTRIBUTION,
    UNCERTAIN,
    category_colour,
    category_meta,
    minute_band,
    numeric_column,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PAGES", "PRINT_DPI", "cjk_font", "static_map"]

#: print pages static_map lays out: name -> (width, height) in millimetres
PAGES = {
    "A4-landscape": (297.0, 210.0),
    "A4-portrait": (210.0, 297.0),
    "A3-landscape": (420.0, 297.0),
    "A3-portrait": (297.0, 420.0),
}
#: resolution of a print page
PRINT_DPI = 300
#: a print page's footer stays below this fraction of the page height (under the scale bar)
_FOOTER_TOP = 0.085
_MM_PER_INCH = 25.4

_CJK_FILES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "notosanssc", "sourcehansans")


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
    dpi: int | None = None,
    page: str | None = None,
    notes: Sequence[str] = (),
    area_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
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
        Figure size in inches (grown to fit the legend and title; see ``page``).
    dpi : int, optional
        Figure resolution (default 150, or :data:`PRINT_DPI` with ``page``).
    page : str, optional
        A print page (:data:`PAGES`, e.g. ``"A4-landscape"``): the figure is exactly that
        size, with a title block, the map, the legend in its own column, a scale bar in
        metres, a north arrow and a footer with ``notes`` and the sources; legend and title
        shrink and wrap until every text lies inside the page.
    notes : sequence of str
        Lines for the footer (draft / synthetic labels, what the colours mean).
    area_layers : mapping of str to GeoDataFrame, optional
        ``zones`` / ``wings`` / ``renewal_areas`` drawn as outlines in their
        :data:`gcgeo.maps.compose.AREA_STYLE` colours, labelled, under the data.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig(path_or_buffer)``.
    """
    from matplotlib import patheffects, transforms
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    layers = [x for x in (edges, areas, facilities, isochrones) if x is not None]
    if not layers:
        raise InputError("static_map got no data; pass edges, areas, facilities or isochrones.")
    for frame, what in ((edges, "streets"), (areas, "areas"), (facilities, "facilities")):
        if frame is not None:
            check_frame(frame, f"The {what} frame")
    if isochrones is not None:
        check_frame(isochrones, "The isochrone frame", ["minutes"])
    if column is not None and edges is None:
        raise InputError(f"static_map got column {column!r} but no edges; pass edges too.")
    if crs is None:
        crs = str(edges.crs) if edges is not None and edges.crs.is_projected else DEFAULT_CRS
    font = cjk_font()
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]

    if page is not None:
        if page not in PAGES:
            raise InputError(f"Unknown page {page!r}; use one of {', '.join(PAGES)}.")
        figsize = (PAGES[page][0] / _MM_PER_INCH, PAGES[page][1] / _MM_PER_INCH)
    fig = Figure(figsize=figsize, dpi=dpi or (PRINT_DPI if page else 150))
    if page is None:
        ax = fig.add_axes((0.03, 0.09, 0.66, 0.82 if title else 0.88))
    else:  # title block on top, footer below, legend column right of the map
        portrait = figsize[1] > figsize[0]
        ax = fig.add_axes((0.04, 0.15, 0.62 if portrait else 0.66, 0.72))
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
            check_frame(edges, "The streets frame", [column])
            band = minute_band(numeric_column(edges, column, "the streets frame"))
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
            sel = np.isin(conf, list(UNCERTAIN)) == uncertain
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
        if (np.isin(conf, list(UNCERTAIN))).any():
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
    if area_layers:
        from .compose import AREA_STYLE

        for key, frame in area_layers.items():
            if frame is None or not len(frame):
                continue
            label, colour = AREA_STYLE.get(key, (key, "#5e3c99"))
            fr = frame.to_crs(crs)
            ax.add_collection(
                LineCollection(
                    _line_collection_segments(fr.geometry.boundary.values),
                    colors=colour,
                    linewidths=1.3,
                    linestyles="dashed" if key == "renewal_areas" else "solid",
                    zorder=3,
                )
            )
            handles.append(Line2D([], [], color=colour, lw=1.6, label=label))
            if "name_zh" in fr.columns:
                for pt, zh in zip(fr.geometry.representative_point(), fr["name_zh"], strict=True):
                    if isinstance(zh, str) and zh:
                        ax.text(pt.x, pt.y, zh, ha="center", va="center", fontproperties=font,
                                fontsize=8, color=colour, path_effects=halo, zorder=4,
                                clip_on=True)  # fmt: skip
    if facilities is not None:
        f = facilities.to_crs(crs)
        values = (
            f["category"].astype(str).to_numpy()
            if "category" in f.columns
            else np.array([""] * len(f), dtype=object)
        )
        if categories is None:
            categories = sorted(set(values) - {"nan", "None"})
        for cat in (category_meta(c) for c in categories):
            xy = shapely.get_coordinates(f.geometry.values[values == cat.id])
            colour = category_colour(cat.id)
            ax.scatter(
                xy[:, 0], xy[:, 1], s=26, c=colour, edgecolors="white", linewidths=0.7, zorder=5
            )
            label = f"{cat.name_zh} {cat.name_en}" if cat.name_zh != cat.name_en else cat.id
            handles.append(
                Line2D([], [], marker="o", ls="", color=colour, mec="white", label=label)
            )

    # the extent fits the data: streets, facilities, isochrones; areas only when alone
    data = [x for x in (edges, facilities, isochrones) if x is not None and len(x)] or layers
    x0, y0, x1, y1 = gpd.GeoSeries(
        [shapely.box(*lay.to_crs(crs).total_bounds) for lay in data], crs=crs
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
    legend = None
    if handles:
        legend = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            prop=font,
            fontsize=8,
            framealpha=0.9,
        )
        for text in legend.get_texts():
            text.set_fontproperties(font)
            text.set_fontsize(8)
    if title:
        fig.suptitle(title, fontproperties=font, fontsize=14, y=0.97)
    credits = []
    if edges is not None or facilities is not None:
        credits.append(OSM_ATTRIBUTION)
    credits.append(f"CRS {crs}")
    footer = [n for n in notes if n] + [" · ".join(credits)]
    if page is None:
        fig.text(0.98, 0.005, "\n".join(footer), ha="right", va="bottom", fontsize=7,
                 color="#555", fontproperties=font)  # fmt: skip
        for text in fig.texts:
            text.set_fontsize(7)
        fit_to_content(fig)
    else:
        foot = fig.text(0.04, 0.015, "\n".join(footer), ha="left", va="bottom",
                        fontproperties=font, color="#333")  # fmt: skip
        foot.set_fontsize(8)
        fit_to_page(fig, legend, foot, footer_top=_FOOTER_TOP)
        for spine in ax.spines.values():  # a neat line around the map frame
            spine.set_visible(True)
            spine.set_linewidth(0.6)
            spine.set_color("#444")
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_anchor("NW")  # the map hangs under the title; spare height goes below
        for artist in ax.collections:  # streets and outlines end at the frame
            artist.set_clip_on(True)
            artist.set_clip_path(ax.patch)
    return fig


def _with_canvas(fig: Any) -> None:
    """Give ``fig`` an Agg canvas (a renderer to measure text with) when it has none."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)


def fit_to_page(
    fig: Any, legend: Any, footer: Any, footer_top: float = 1.0, min_size: float = 5.0
) -> Any:
    """Shrink and wrap the title, the legend and the footer until each lies inside ``fig``
    (the footer below ``footer_top``, a fraction of the page height, clear of the map).

    The page size never changes (unlike :func:`fit_to_content`): long category names are
    wrapped onto several lines, then the font steps down to ``min_size`` points.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure.
    """
    import textwrap

    _with_canvas(fig)
    page = fig.bbox
    title = getattr(fig, "_suptitle", None)  # matplotlib keeps the suptitle apart

    def inside(artist: Any) -> bool:
        box = artist.get_window_extent(fig.canvas.get_renderer())
        top = page.y0 + (footer_top * page.height if artist is footer else page.height)
        return bool(box.x0 >= page.x0 and box.x1 <= page.x1 and box.y0 >= page.y0 and box.y1 <= top)

    originals: dict[int, str] = {}

    def wrap_all(texts: Iterable[Any], width: int) -> None:
        for t in texts:
            original = originals.setdefault(id(t), t.get_text())
            lines = [w for line in original.split("\n") for w in textwrap.wrap(line, width) or [""]]
            t.set_text("\n".join(lines))

    for artist, texts, size in (
        (title, [title] if title is not None else [], 14.0),
        (legend, legend.get_texts() if legend is not None else [], 8.0),
        (footer, [footer], 8.0),
    ):
        if artist is None:
            continue
        width = 60
        while not inside(artist) and size >= min_size:
            wrap_all(texts, width)
            for t in texts:
                t.set_fontsize(size)
            if inside(artist):
                break
            if width > 24:
                width -= 8
            else:
                size -= 0.5
    return fig


def fit_to_content(fig: Any, pad_in: float = 0.15) -> Any:
    """Widen or heighten ``fig`` until every artist (legend, title, labels) lies inside it.

    The axes keep their size in inches and move with the left/bottom edges, so a long
    category name makes the page wider instead of being cut off.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    pad_in : float
        Margin kept around the content, inches.

    Returns
    -------
    matplotlib.figure.Figure
        The same figure.
    """
    _with_canvas(fig)
    for _ in range(3):
        renderer = fig.canvas.get_renderer()
        box = fig.get_tightbbox(renderer)  # inches
        w, h = fig.get_size_inches()
        left = max(0.0, -box.x0 + pad_in)
        bottom = max(0.0, -box.y0 + pad_in)
        right = max(0.0, box.x1 - w + pad_in)
        top = max(0.0, box.y1 - h + pad_in)
        if left == bottom == right == top == 0.0:
            break
        nw, nh = w + left + right, h + bottom + top
        for ax in fig.axes:
            x0, y0, aw, ah = ax.get_position().bounds
            ax.set_position(
                ((x0 * w + left) / nw, (y0 * h + bottom) / nh, aw * w / nw, ah * h / nh)
            )
        # the title (suptitle) is kept apart from fig.texts by matplotlib
        suptitle = getattr(fig, "_suptitle", None)
        for text in [*fig.texts, *([suptitle] if suptitle is not None else [])]:
            x, y = text.get_position()
            text.set_position(((x * w + left) / nw, (y * h + bottom) / nh))
        fig.set_size_inches(nw, nh)
    return fig
