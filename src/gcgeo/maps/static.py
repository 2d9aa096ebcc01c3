"""Static PNG maps for reports (matplotlib), with Chinese labels in a CJK font.

:func:`static_map` draws streets, areas, facilities and isochrones in a projected CRS with a
bilingual legend, a metric scale bar and a north arrow, and returns a matplotlib
:class:`~matplotlib.figure.Figure` (the caller saves it). :func:`cjk_font` finds an installed
Chinese font. matplotlib is imported only inside these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

__all__ = ["cjk_font", "static_map"]

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
    fit_to_content(fig)
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
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
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
