"""Per-area HTML reports: one page per zone and renewal area, plus an index page.

Each report has a bilingual title (Chinese first), says honestly where the area's
outline comes from (a drafted outline gets a visible "草案 draft — not official" note),
tables the coverage of the origins inside the area by category, gives their mean
life-circle completeness and embeds a map clipped to the area. Nothing here writes
files: :func:`build_reports` returns ``{file name: HTML text}`` and the CLI writes them.

Every text that comes from OSM, CSV or layer files (area, street and facility names,
sources, codes) is passed through :func:`gcgeo.escape.html_text` (links: :func:`~gcgeo.escape.link_path`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import maps
from ._errors import InputError
from ._io import safe_filename
from .columns import COMPLETENESS, POPULATION, dist_col, reached_col
from .coverage import street_minutes
from .escape import html_text, link_path

__all__ = [
    "REPORT_LAYERS",
    "AreaReport",
    "area_report_html",
    "area_table",
    "build_reports",
    "index_html",
    "report_filenames",
]

#: Area layers that get one report each: (layer name, column of the origins, file prefix).
REPORT_LAYERS: tuple[tuple[str, str, str], ...] = (
    ("zones", "zone", "zone"),
    ("renewal_areas", "renewal_area", "renewal"),
)
_LAYER_TITLES = {"zones": "五区 Strategy zone", "renewal_areas": "更新片区 Renewal area"}
_STATUS = {"checked": "已核实 checked", "to_confirm": "待确认 to confirm"}
_CONFIDENCE = {
    "official": "官方 official",
    "estimate": "估计 estimate — not official",
    "estimated": "估计 estimate — not official",
    "draft": "草案 draft — not official",
}
_MARGIN_M = 300.0
_TITLE = "15分钟生活圈步行可达报告 15-minute life-circle walking report"
_CSS = (
    "body{font-family:'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
    "margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
    "text-align:right}th{background:#eee}td.l,th.l{text-align:left}"
    ".note{padding:6px 10px;border-left:5px solid #b35806;background:#fff3e0}"
    ".synthetic{padding:6px 10px;border-left:5px solid #b2182b;background:#fde0dd;font-weight:bold}"
    "footer{margin-top:1.5em;font-size:85%;color:#555}"
)


_e = html_text


def area_table(origins: gpd.GeoDataFrame, categories: Sequence[Any]) -> pd.DataFrame:
    """Coverage by category of a set of origins (e.g. those inside one area).

    Parameters
    ----------
    origins : GeoDataFrame
        Origins with ``reach_<c>`` and ``dist_<c>_m`` per category and optionally
        ``population`` (weights the share).
    categories : sequence of Category
        Need ``id``, ``name_zh``, ``name_en``, ``max_distance_m`` and ``status``.

    Returns
    -------
    DataFrame
        One row per category: ``category``, ``name_zh``, ``name_en``, ``threshold_m``,
        ``threshold_status``, ``origins``, ``population`` (NaN without weights),
        ``covered`` (origins), ``share`` (covered share, population-weighted when given;
        NaN for no origins), ``median_dist_m`` (over origins that reach any facility).
    """
    missing = [
        c
        for cat in categories
        for c in (reached_col(cat.id), dist_col(cat.id))
        if c not in origins.columns
    ]
    if missing:
        raise InputError(
            f"The origins lack column(s) {', '.join(missing)}; compute coverage for those "
            "categories first (gcgeo.coverage.compute_coverage)."
        )
    n = len(origins)
    weighted = POPULATION in origins.columns
    w = origins[POPULATION].to_numpy(float) if weighted else np.ones(n)
    rows = []
    for cat in categories:
        reached = origins[reached_col(cat.id)].fillna(False).to_numpy(bool)
        d = origins[dist_col(cat.id)].to_numpy(float)
        tot = float(w.sum())
        rows.append(
            {
                "category": cat.id,
                "name_zh": cat.name_zh,
                "name_en": cat.name_en,
                "threshold_m": cat.max_distance_m,
                "threshold_status": cat.status,
                "origins": n,
                "population": tot if weighted else np.nan,
                "covered": int(reached.sum()),
                "share": round(float(w[reached].sum()) / tot, 4) if tot > 0 else np.nan,
                "median_dist_m": float(np.median(d[np.isfinite(d)]))
                if np.isfinite(d).any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class AreaReport:
    """One area's report: where it goes and what it says."""

    layer: str
    code: str
    name_zh: str
    name_en: str
    confidence: str
    filename: str
    origins: int
    mean_completeness: float
    html: str


def _confidence_note(confidence: str, source: str) -> str:
    conf = (confidence or "").strip().lower()
    label = _CONFIDENCE.get(conf, _e(confidence) or "未说明 not stated")
    src = f" 来源 Source: {_e(source)}" if source else ""
    if conf == "official":
        return f"<p>边界 Outline: {label}.{src}</p>"
    return (
        f"<p class='note'><b>{label}</b> — 边界为草拟或估计，并非官方范围 "
        f"the outline is drafted or estimated, not the official extent.{src}</p>"
    )


def _table_html(table: pd.DataFrame) -> str:
    weighted = table["population"].notna().any()
    head = (
        "<tr><th class='l'>类别 Category</th><th>标准 Threshold (m)</th>"
        "<th class='l'>标准状态 Threshold status</th><th>起点 Origins</th>"
        + ("<th>人口 Population</th>" if weighted else "")
        + "<th>可达起点 Covered origins</th><th>覆盖率 Covered share</th>"
        "<th>中位距离 Median distance (m)</th></tr>"
    )
    rows = []
    for r in table.itertuples():
        share = "—" if pd.isna(r.share) else f"{r.share:.1%}"
        med = "—" if pd.isna(r.median_dist_m) else f"{r.median_dist_m:,.0f}"
        status = _STATUS.get(str(r.threshold_status), _e(r.threshold_status))
        rows.append(
            f"<tr data-category='{_e(r.category)}'><td class='l'>{_e(r.name_zh)} {_e(r.name_en)}</td>"
            f"<td>{r.threshold_m:,.0f}</td><td class='l'>{status}</td><td>{r.origins}</td>"
            + (f"<td>{r.population:,.0f}</td>" if weighted else "")
            + f"<td>{r.covered}</td>"
            f"<td class='share' data-share='{'' if pd.isna(r.share) else f'{r.share:.4f}'}'>"
            f"{share}</td><td>{med}</td></tr>"
        )
    return f"<table class='coverage'>{head}{''.join(rows)}</table>"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='zh'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def area_report_html(
    area: Mapping[str, Any],
    layer: str,
    table: pd.DataFrame,
    mean_completeness: float,
    map_html: str | None = None,
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """The HTML page of one area's report.

    Parameters
    ----------
    area : mapping
        The area's ``code``, ``name_zh``, ``name_en``, ``source``, ``confidence``.
    layer : str
        ``"zones"`` or ``"renewal_areas"`` (anything else is shown as is).
    table : DataFrame
        :func:`area_table` of the origins inside the area (no rows' origins = none inside).
    mean_completeness : float
        Mean life-circle completeness of those origins (NaN when there are none).
    map_html : str, optional
        A map fragment (:func:`gcgeo.maps.to_fragment`), inserted as is.
    label : str, optional
        Data note put into the title and beside it, e.g. the synthetic-demo label.
    meta : mapping, optional
        Run facts shown under the table (origin rule, walking speed).

    Returns
    -------
    str
    """
    zh, en = _e(area.get("name_zh")), _e(area.get("name_en"))
    kind = _LAYER_TITLES.get(layer, _e(layer))
    suffix = f" — {_e(label)}" if label else ""
    title = f"{zh} {en} · {_TITLE}{suffix}"
    parts = [f"<h1>{zh} {en}<br><small>{_TITLE}{suffix}</small></h1>"]
    if label:
        parts.append(f"<p class='synthetic'>示例数据 {_e(label)}</p>")
    parts.append(f"<p>{kind}: {zh} {en} (<code>{_e(area.get('code'))}</code>)</p>")
    parts.append(_confidence_note(str(area.get("confidence") or ""), str(area.get("source") or "")))
    n = int(table["origins"].iloc[0]) if len(table) else 0
    if n == 0:
        parts.append(
            "<p class='empty'><b>本片区内没有起点 No origins lie inside this area</b>, so no "
            "coverage is reported for it. 检查 Check the study extent (--osm, --boundary) "
            "or the origin layer (--origins).</p>"
        )
    else:
        parts.append("<h2>分类覆盖 Coverage by category</h2>")
        parts.append(_table_html(table))
        comp = "—" if not np.isfinite(mean_completeness) else f"{mean_completeness:.1%}"
        parts.append(
            f"<p>平均生活圈完整度 Mean life-circle completeness: <b class='completeness'>{comp}</b> "
            "(share of life-circle categories within their threshold, averaged over origins).</p>"
        )
    if meta:
        facts = "; ".join(f"{_e(k)}: {_e(v)}" for k, v in meta.items())
        parts.append(f"<p><small>{facts}</small></p>")
    if map_html:
        parts.append("<h2>地图 Map</h2>")
        parts.append(map_html)
    parts.append(
        "<footer>街道与设施数据 Street and facility data: © OpenStreetMap contributors "
        "(ODbL 1.0). 由 gcgeo 生成 Made with gcgeo."
        + (f" <b>{_e(label)}</b>" if label else "")
        + "</footer>"
    )
    return _page(title, "\n".join(parts))


def index_html(
    reports: Sequence[AreaReport],
    label: str | None = None,
    extra_links: Mapping[str, str] | None = None,
) -> str:
    """The index page linking every area report.

    Parameters
    ----------
    reports : sequence of AreaReport
    label : str, optional
        Data note put into the title, e.g. the synthetic-demo label.
    extra_links : mapping, optional
        ``{file name: description}`` of other outputs to link (e.g. the CSV tables).

    Returns
    -------
    str
    """
    suffix = f" — {_e(label)}" if label else ""
    parts = [f"<h1>钢城区 Gangcheng District<br><small>{_TITLE}{suffix}</small></h1>"]
    if label:
        parts.append(f"<p class='synthetic'>示例数据 {_e(label)}</p>")
    for layer, _, _ in REPORT_LAYERS:
        sub = [r for r in reports if r.layer == layer]
        if not sub:
            continue
        parts.append(f"<h2>{_LAYER_TITLES[layer]}</h2><table>")
        parts.append(
            "<tr><th class='l'>片区 Area</th><th class='l'>边界 Outline</th>"
            "<th>起点 Origins</th><th>平均完整度 Mean completeness</th></tr>"
        )
        for r in sub:
            conf = _CONFIDENCE.get(r.confidence.strip().lower(), _e(r.confidence))
            comp = "—" if not np.isfinite(r.mean_completeness) else f"{r.mean_completeness:.1%}"
            parts.append(
                f"<tr><td class='l'><a href='{link_path(r.filename)}'>{_e(r.name_zh)} "
                f"{_e(r.name_en)}</a></td><td class='l'>{conf}</td><td>{r.origins}</td>"
                f"<td>{comp}</td></tr>"
            )
        parts.append("</table>")
    if extra_links:
        parts.append("<h2>表格 Tables</h2><ul>")
        parts += [
            f"<li><a href='{link_path(f)}'>{_e(f)}</a> — {_e(d)}</li>"
            for f, d in extra_links.items()
        ]
        parts.append("</ul>")
    parts.append(
        "<footer>© OpenStreetMap contributors (ODbL 1.0). 由 gcgeo 生成 Made with gcgeo."
        + (f" <b>{_e(label)}</b>" if label else "")
        + "</footer>"
    )
    return _page(f"钢城区 Gangcheng District · {_TITLE}{suffix}", "\n".join(parts))


def report_filenames(
    layers_dir: str | os.PathLike | None = None,
) -> dict[tuple[str, str], str]:
    """File name of each area's report, ``{(layer, code): "zone_<code>.html"}``.

    Codes are reduced to ``[A-Za-z0-9_-]`` (other characters become ``_``) and made
    unique with a numeric suffix, so a layer's codes can never name a path elsewhere.

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder overriding the shipped district layers.

    Returns
    -------
    dict
    """
    from .layers import load_layer

    taken: set[str] = {"index.html"}
    return {
        (layer, str(code)): _filename(prefix, str(code), taken)
        for layer, _, prefix in REPORT_LAYERS
        for code in load_layer(layer, layers_dir)["code"]
    }


def _filename(prefix: str, code: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", code).strip("_") or "area"
    stem = safe_filename(stem)  # an area code of 300 characters gives a short, distinct name
    name, k = f"{prefix}_{stem}.html", 2
    while name in taken:
        name, k = f"{prefix}_{stem}_{k}.html", k + 1
    taken.add(name)
    return name


def _area_map(
    area: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Any],
    map_category: Any,
    *,
    offline: bool,
    tiles: str | None,
    tianditu_key: str | None,
    cell_size: float | None,
    margin_m: float,
    title_label: str | None,
) -> str:
    crs = edges.crs
    poly = shapely.union_all(area.to_crs(crs).geometry.values)
    window = poly.buffer(margin_m)
    near = edges.iloc[np.sort(shapely.STRtree(edges.geometry.values).query(window, "intersects"))]
    frame = gpd.GeoSeries([window], crs=crs)
    m = maps.new_map(frame, tiles=tiles, tianditu_key=tianditu_key, offline=offline)
    if len(near):
        maps.basemap_streets(near, m)
        maps.streets_by_minutes(
            near,
            "walk_min",
            m,
            name=f"{map_category.name_zh} 步行时间 {map_category.name_en} walking time",
        )
    if len(origins) and COMPLETENESS in origins.columns:
        maps.completeness_layer(origins, m, cell_size=cell_size)
    fac = facilities.to_crs(crs)
    fac = fac[shapely.contains_xy(window, *shapely.get_coordinates(fac.geometry.values).T)]
    if len(fac):
        maps.facilities_layer(fac, m, categories=list(categories))
    maps.areas_layer(area, m, name=_LAYER_TITLES.get(str(area.attrs.get("layer")), "片区 Area"))
    if title_label:
        maps.title_box(m, title_label)
    return maps.to_fragment(m, height="560px")


def build_reports(
    net: Any,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Any],
    *,
    map_category: Any | None = None,
    layers_dir: str | os.PathLike | None = None,
    speed_mps: float = 1.1,
    max_snap: float = 300.0,
    limit: float | None = None,
    offline: bool = True,
    tiles: str | None = None,
    tianditu_key: str | None = None,
    cell_size: float | None = None,
    margin_m: float = _MARGIN_M,
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
    extra_links: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """HTML reports per zone and renewal area plus ``index.html``.

    Parameters
    ----------
    net : StreetNetwork
    origins : GeoDataFrame
        ``CoverageResult.origins``, with ``zone`` and ``renewal_area`` columns from
        :func:`gcgeo.layers.assign_areas` (added here when missing).
    facilities : GeoDataFrame
        Facilities (``facility_id``, ``name``, ``category``, ``source``).
    categories : sequence of Category
        The categories covered, in table order.
    map_category : Category, optional
        Category whose walking minutes colour the streets (default: kindergarten when
        among ``categories``, else the first).
    layers_dir : path-like, optional
        A planner's folder overriding the shipped district layers.
    speed_mps, max_snap, limit : float
        As for the coverage run.
    offline : bool
        Inline Leaflet/jQuery so the pages work with no internet (no tiles by default).
    tiles, tianditu_key : str, optional
        Background tiles, as in :func:`gcgeo.maps.new_map`.
    cell_size : float, optional
        Grid cell size (m) to draw origins as cells; points when None.
    margin_m : float
        Streets and facilities up to this far outside an area are drawn too.
    label : str, optional
        Data note for every title (e.g. the synthetic-demo label).
    meta : mapping, optional
        Run facts shown in every report.
    extra_links : mapping, optional
        Other outputs linked from the index.

    Returns
    -------
    dict of str to str
        ``{"index.html": ..., "zone_<code>.html": ..., "renewal_<code>.html": ...}``.
    """
    from .layers import assign_areas, load_layer

    if not categories:
        raise InputError("No categories given; pass at least one category id.")
    if map_category is None:
        ids = [c.id for c in categories]
        map_category = (
            categories[ids.index("kindergarten")] if "kindergarten" in ids else categories[0]
        )
    if any(col not in origins.columns for _, col, _ in REPORT_LAYERS):
        origins = origins.join(assign_areas(origins, layers_dir))
    edges = net.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
    edges["walk_min"] = street_minutes(net, facilities, map_category, speed_mps, max_snap, limit)
    pages: dict[str, str] = {}
    reports: list[AreaReport] = []
    fnames = report_filenames(layers_dir)
    for layer, col, _ in REPORT_LAYERS:
        areas = load_layer(layer, layers_dir)
        member = origins[col].to_numpy(object)
        for k in range(len(areas)):
            a = areas.iloc[k]
            code = str(a["code"])
            inside = origins[member == code]
            table = area_table(inside, categories)
            comp = (
                float(np.nanmean(inside[COMPLETENESS].to_numpy(float)))
                if len(inside) and COMPLETENESS in inside and inside[COMPLETENESS].notna().any()
                else float("nan")
            )
            one = areas.iloc[[k]].copy()
            one.attrs["layer"] = layer
            fragment = _area_map(
                one,
                edges,
                inside,
                facilities,
                categories,
                map_category,
                offline=offline,
                tiles=tiles,
                tianditu_key=tianditu_key,
                cell_size=cell_size,
                margin_m=margin_m,
                title_label=label,
            )
            fname = fnames[(layer, code)]
            page = area_report_html(a.to_dict(), layer, table, comp, fragment, label, meta)
            pages[fname] = page
            reports.append(
                AreaReport(
                    layer,
                    code,
                    str(a["name_zh"]),
                    str(a["name_en"]),
                    str(a.get("confidence") or ""),
                    fname,
                    len(inside),
                    comp,
                    page,
                )
            )
    pages["index.html"] = index_html(reports, label, extra_links)
    return pages
