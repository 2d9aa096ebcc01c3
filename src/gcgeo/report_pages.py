"""The HTML pages of the area reports: one page per zone or renewal area, and the index.

Every name from OSM, layers or catalogues goes through :func:`gcgeo.escape.html_text` (links:
:func:`~gcgeo.escape.link_path`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .escape import html_text, link_path

#: Area layers that get one report each: (layer name, column of the origins, file prefix).
REPORT_LAYERS: tuple[tuple[str, str, str], ...] = (
    ("zones", "zone", "zone"),
    ("wings", "wing", "wing"),
    ("renewal_areas", "renewal_area", "renewal"),
)
__all__ = [
    "LAYER_TITLES",
    "REPORT_LAYERS",
    "AreaReport",
    "area_report_html",
    "area_section",
    "district_summary_html",
    "index_html",
    "print_html",
    "people_rows",
    "worst_served",
    "REPORT_TITLE",
]

#: Titles of the area layers in reports.
LAYER_TITLES = {
    "zones": "五区 Strategy zone",
    "wings": "一体两翼 Body and wings",
    "renewal_areas": "更新片区 Renewal area",
}

_e = html_text


_STATUS = {"checked": "已核实 checked", "to_confirm": "待确认 to confirm"}


_CONFIDENCE = {
    "official": "官方 official",
    "estimate": "估计 estimate — not official",
    "estimated": "估计 estimate — not official",
    "draft": "草案 draft — not official",
}


#: the reports' title
REPORT_TITLE = "15分钟生活圈步行可达报告 15-minute life-circle walking report"
_TITLE = REPORT_TITLE


_CSS = (
    "body{font-family:'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
    "margin:1.5em auto;max-width:1100px;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
    "text-align:right}th{background:#eee}td.l,th.l{text-align:left}"
    ".note{padding:6px 10px;border-left:5px solid #b35806;background:#fff3e0}"
    ".synthetic{padding:6px 10px;border-left:5px solid #b2182b;background:#fde0dd;font-weight:bold}"
    "footer{margin-top:1.5em;font-size:85%;color:#555}"
    "figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ccc}"
    "figcaption{font-size:90%;color:#444}"
    "td.worst{background:#fde0dd}"
    # print (Chromium's print to PDF, A4): no interactive map, the print map instead,
    # one area per page, tables kept whole
    "@media print{@page{size:A4;margin:10mm}"
    "body{max-width:none;margin:0;padding:0;font-size:8.5pt;line-height:1.25}"
    "h1{font-size:13pt;margin:0 0 4px}h2{font-size:10.5pt;margin:6px 0 3px}"
    "p{margin:3px 0}.note,.synthetic{padding:2px 6px}"
    ".screen-only,.folium-map,.leaflet-container{display:none!important}"
    "section.area{break-before:page}table{break-inside:avoid;font-size:7pt;margin:4px 0}"
    "td,th{padding:1px 4px}figure{break-inside:avoid;margin:4px 0}"
    "figure img{max-height:118mm;width:auto;max-width:100%}"
    "a{color:inherit;text-decoration:none}}"
)


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
    #: the area's coverage table (:func:`gcgeo.report.area_table`)
    table: pd.DataFrame | None = None
    #: file name of its print map (PNG) relative to the reports folder
    image: str | None = None
    source: str = ""


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


def _median_text(r: Any) -> str:
    """The median as people read it (plain text): ``"> 990 m"`` beyond the search limit."""
    if bool(getattr(r, "median_beyond_limit", False)):
        return str(getattr(r, "median_text", None) or "> search limit")
    return "—" if pd.isna(r.median_dist_m) else f"{r.median_dist_m:,.0f}"


def _share(v: float) -> str:
    """A share as people read it: 0.1 %, "—" when there is none."""
    return "—" if pd.isna(v) else f"{v:.1%}"


def worst_served(reports: Sequence[AreaReport], count: int = 3) -> list[AreaReport]:
    """The ``count`` areas with origins and the lowest mean completeness, lowest first."""
    return sorted(
        (r for r in reports if r.origins and np.isfinite(r.mean_completeness)),
        key=lambda r: r.mean_completeness,
    )[:count]


def people_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headers (Chinese first) and rounded text cells of an area table, as people read it:
    metres to 1 m, shares to 0.1 %, "> N m" for medians beyond the search limit."""
    weighted = bool(table["population"].notna().any())
    has_cov_pop = weighted and "covered_population" in table.columns
    per = "按人口加权 weighted" if weighted else "按起点计 per origin"
    headers = ["类别 Category", "标准 Threshold (m)", "标准状态 Status", "起点 Origins"]
    headers += ["人口 Population"] if weighted else []
    headers += ["可达起点 Covered origins"]
    headers += ["可达人口 Covered population"] if has_cov_pop else []
    headers += [f"覆盖率 Share ({per})", "中位距离 Median (m)"]
    rows = []
    for r in table.itertuples():
        row = [f"{r.name_zh} {r.name_en}", f"{r.threshold_m:,.0f}",
               _STATUS.get(str(r.threshold_status), str(r.threshold_status)), f"{r.origins}"]  # fmt: skip
        row += [f"{r.population:,.0f}"] if weighted else []
        row += [f"{r.covered}"]
        row += [f"{r.covered_population:,.0f}"] if has_cov_pop else []
        row += [_share(r.share), _median_text(r)]
        rows.append(row)
    return headers, rows


def _table_html(table: pd.DataFrame) -> str:
    weighted = table["population"].notna().any()
    has_cov_pop = weighted and "covered_population" in table.columns
    per = "按人口加权 weighted by population" if weighted else "按起点计 per origin"
    head = (
        "<tr><th class='l'>类别 Category</th><th>标准 Threshold (m)</th>"
        "<th class='l'>标准状态 Threshold status</th><th>起点 Origins</th>"
        + ("<th>人口 Population</th>" if weighted else "")
        + "<th>可达起点 Covered origins</th>"
        + ("<th>可达人口 Covered population</th>" if has_cov_pop else "")
        + f"<th>覆盖率 Covered share ({per})</th>"
        f"<th>中位距离 Median distance (m, {per})</th></tr>"
    )
    rows = []
    for r in table.itertuples():
        share = _share(r.share)
        med = _e(_median_text(r))
        status = _STATUS.get(str(r.threshold_status), _e(r.threshold_status))
        rows.append(
            f"<tr data-category='{_e(r.category)}'><td class='l'>{_e(r.name_zh)} {_e(r.name_en)}</td>"
            f"<td>{r.threshold_m:,.0f}</td><td class='l'>{status}</td><td>{r.origins}</td>"
            + (f"<td>{r.population:,.0f}</td>" if weighted else "")
            + f"<td>{r.covered}</td>"
            + (f"<td>{r.covered_population:,.0f}</td>" if has_cov_pop else "")
            + f"<td class='share' data-share='{'' if pd.isna(r.share) else f'{r.share:.4f}'}'>"
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
    image: str | None = None,
) -> str:
    """The HTML page of one area's report.

    Parameters
    ----------
    area : mapping
        The area's ``code``, ``name_zh``, ``name_en``, ``source``, ``confidence``.
    layer : str
        ``"zones"``, ``"wings"`` or ``"renewal_areas"`` (anything else is shown as is).
    table : DataFrame
        :func:`area_table` of the origins inside the area (no rows' origins = none inside).
    mean_completeness : float
        Mean life-circle completeness of those origins, weighted like the table
        (NaN when there are none).
    map_html : str, optional
        A map fragment (:func:`gcgeo.maps.to_fragment`), inserted as is (screen only).
    label : str, optional
        Data note put into the title and beside it, e.g. the synthetic-demo label.
    meta : mapping, optional
        Run facts shown under the table (origin rule, walking speed).
    image : str, optional
        File name of the area's print map (PNG), shown as a figure; it replaces the
        interactive map when printed.

    Returns
    -------
    str
    """
    zh, en = _e(area.get("name_zh")), _e(area.get("name_en"))
    suffix = f" — {_e(label)}" if label else ""
    title = f"{zh} {en} · {_TITLE}{suffix}"
    body = area_section(area, layer, table, mean_completeness, map_html, label, meta, image)
    return _page(title, body + "\n" + _footer(label))


def area_section(
    area: Mapping[str, Any],
    layer: str,
    table: pd.DataFrame,
    mean_completeness: float,
    map_html: str | None = None,
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
    image: str | None = None,
) -> str:
    """One area's report as a ``<section class='area'>`` (see :func:`area_report_html`);
    the print version of all reports puts these one after another, one per page."""
    zh, en = _e(area.get("name_zh")), _e(area.get("name_en"))
    kind = LAYER_TITLES.get(layer, _e(layer))
    suffix = f" — {_e(label)}" if label else ""
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
        weighted = table["population"].notna().any()
        over = "weighted by population" if weighted else "averaged over origins"
        parts.append(
            f"<p>平均生活圈完整度 Mean life-circle completeness: <b class='completeness'>{comp}</b> "
            f"(share of life-circle categories within their threshold, {over}). 中位距离计入超出"
            "搜索范围的起点 Medians count origins beyond the search limit: "
            "“&gt; <i>N</i> m” means half or more lie beyond the <i>N</i> m limit.</p>"
        )
    if meta:
        facts = "; ".join(f"{_e(k)}: {_e(v)}" for k, v in meta.items())
        parts.append(f"<p><small>{facts}</small></p>")
    if map_html:
        parts.append(f"<div class='screen-only'><h2>地图 Map</h2>{map_html}</div>")
    if image:
        parts.append(
            f"<figure><img src='{link_path(image)}' alt='{zh} {en}'>"
            f"<figcaption>图 Figure: {zh} {en} — 街道按步行时间着色，图例在图外 streets "
            "coloured by walking minutes, legend beside the map</figcaption></figure>"
        )
    return "<section class='area'>\n" + "\n".join(parts) + "\n</section>"


def _footer(label: str | None) -> str:
    return (
        "<footer>街道与设施数据 Street and facility data: © OpenStreetMap contributors "
        "(ODbL 1.0). 由 gcgeo 生成 Made with gcgeo."
        + (f" <b>{_e(label)}</b>" if label else "")
        + "</footer>"
    )


def district_summary_html(
    district: pd.DataFrame,
    reports: Sequence[AreaReport],
    worst: int = 3,
) -> str:
    """The district-wide summary: the whole study's table, every category × zone and wing
    (the lowest share of each category marked), and the worst-served areas."""
    parts = ["<h2>全区汇总 District summary</h2>", _table_html(district)]
    cols = [r for r in reports if r.layer in ("zones", "wings") and r.table is not None]
    if cols:
        head = "".join(f"<th>{_e(r.name_zh)}<br><small>{_e(r.name_en)}</small></th>" for r in cols)
        rows = []
        for k, cat in enumerate(district.itertuples()):
            shares = [float(r.table["share"].iloc[k]) if r.origins else float("nan") for r in cols]
            finite = [v for v in shares if np.isfinite(v)]
            low = min(finite) if finite else None
            cells = "".join(
                f"<td class='{'worst' if low is not None and v == low else ''}'>{_share(v)}</td>"
                for v in shares
            )
            rows.append(
                f"<tr><td class='l'>{_e(cat.name_zh)} {_e(cat.name_en)}</td>"
                f"<td>{_share(cat.share)}</td>{cells}</tr>"
            )
        comp = "".join(f"<td>{_share(r.mean_completeness)}</td>" for r in cols)
        parts.append(
            "<h3>分类 × 分区覆盖率 Covered share by category and area</h3>"
            "<p>红色为该类别最低的片区 Red marks each category's lowest area.</p>"
            f"<table class='matrix'><tr><th class='l'>类别 Category</th><th>全区 District</th>"
            f"{head}</tr>{''.join(rows)}"
            f"<tr><td class='l'><b>平均完整度 Mean completeness</b></td><td></td>{comp}</tr>"
            "</table>"
        )
    ranked = worst_served(reports, worst)
    if ranked:
        items = "".join(
            f"<li><a href='{link_path(r.filename)}'>{_e(r.name_zh)} {_e(r.name_en)}</a> — "
            f"{LAYER_TITLES.get(r.layer, _e(r.layer))}, {_share(r.mean_completeness)} "
            f"({r.origins} 起点 origins)</li>"
            for r in ranked
        )
        parts.append(
            f"<h3>服务最弱的片区 Worst-served areas</h3><p>按平均生活圈完整度 By mean "
            f"life-circle completeness, lowest first:</p><ol class='worst'>{items}</ol>"
        )
    return "\n".join(parts)


def index_html(
    reports: Sequence[AreaReport],
    label: str | None = None,
    extra_links: Mapping[str, str] | None = None,
    district: pd.DataFrame | None = None,
) -> str:
    """The index page: the district summary (with ``district``, the whole study's
    :func:`gcgeo.report.area_table`) and links to every area report.

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
    if district is not None:
        parts.append(district_summary_html(district, reports))
    for layer, _, _ in REPORT_LAYERS:
        sub = [r for r in reports if r.layer == layer]
        if not sub:
            continue
        parts.append(f"<h2>{LAYER_TITLES[layer]}</h2><table>")
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


def print_html(
    district: pd.DataFrame,
    reports: Sequence[AreaReport],
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """Every report in one document for printing: the district summary, then one area per
    page (tables and print maps; no interactive maps)."""
    suffix = f" — {_e(label)}" if label else ""
    head = [f"<h1>钢城区 Gangcheng District<br><small>{_TITLE}{suffix}</small></h1>"]
    if label:
        head.append(f"<p class='synthetic'>示例数据 {_e(label)}</p>")
    head.append(district_summary_html(district, reports))
    body = ["<section class='summary'>" + "\n".join(head) + "</section>"]
    for r in reports:
        if r.table is None:
            continue
        area = {"name_zh": r.name_zh, "name_en": r.name_en, "code": r.code,
                "confidence": r.confidence, "source": r.source}  # fmt: skip
        body.append(area_section(area, r.layer, r.table, r.mean_completeness, None, label,
                                 meta, r.image))  # fmt: skip
    body.append(_footer(label))
    return _page(f"钢城区 Gangcheng District · {_TITLE}{suffix}", "\n".join(body))
