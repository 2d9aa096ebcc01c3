"""The 城市体检 community-service indicators as one table: indicator × area.

:func:`checkup_table` measures every indicator of :mod:`gcgeo.indicators` over the origins
(walking distances from :func:`gcgeo.coverage.compute_coverage`) for the district, each
zone, wing and renewal area and any planner layer. An origin is covered by an indicator
when it reaches each of the indicator's categories within the indicator's radius (or each
category's own threshold); the value is the covered share of the indicator's basis:

* ``area`` — residential land area (:func:`gcgeo.population.residential_area`): what
  published checkups report (e.g. 中学服务半径覆盖率 = covered / total residential km²);
* ``population`` — residents (a planner's layer, a raster or an estimate: the table says
  which in ``population_source`` and ``estimate``);
* ``origins`` — origin cells, each counting once.

:func:`write_xlsx` and :func:`checkup_html` make the print versions (Chinese headers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import settings
from ._errors import InputError
from .catalogue import Catalogue
from .columns import reached_col
from .indicators import Indicator
from .walker import walker_categories

__all__ = [
    "AREA_LAYER_NAMES",
    "HEADERS_ZH",
    "checkup_html",
    "checkup_table",
    "display_rows",
    "measure_reach",
    "sections",
    "shortfall_table",
    "write_xlsx",
]

#: ``area_layer`` of the shipped layers (the district's own names).
AREA_LAYER_NAMES = {"zones": "zone", "wings": "wing", "renewal_areas": "renewal_area"}
#: Sheet titles of the XLSX, by ``area_layer``.
SHEETS = {"district": "全区", "zone": "五区", "wing": "一体两翼", "renewal_area": "更新片区"}
#: Column → Chinese header (XLSX and HTML).
HEADERS_ZH = {
    "indicator_id": "指标编号",
    "name_zh": "指标名称",
    "area_layer": "区域层级",
    "area_code": "区域代码",
    "area_name_zh": "区域名称",
    "basis": "口径",
    "value": "数值",
    "target": "目标值",
    "pass": "是否达标",
    "radius_m": "服务半径(米)",
    "covered": "覆盖量",
    "total": "总量",
    "status": "状态",
    "source": "来源",
    "population_source": "人口来源",
    "estimate": "是否估算",
}
_BASIS_ZH = {"area": "居住用地面积", "population": "人口", "origins": "网格数"}


def _memberships(
    origins: gpd.GeoDataFrame, layers: Sequence[tuple[str, gpd.GeoDataFrame]]
) -> list[tuple[str, str, str, np.ndarray]]:
    """(area_layer, code, name_zh, mask over origins): the district, then every area."""
    from .coverage import point_in_area

    out = [("district", "all", "全区", np.ones(len(origins), dtype=bool))]
    for name, areas in layers:
        for col in ("code", "name_zh"):
            if col not in areas.columns:
                raise InputError(f"area layer {name!r} lacks a {col!r} column.")
        where = point_in_area(origins, areas)
        codes = areas["code"].astype(str).to_numpy()
        names = areas["name_zh"].astype(str).to_numpy()
        for i in range(len(areas)):
            out.append((name, codes[i], names[i], where == i))
    return out


def checkup_table(
    net: Any,
    facilities: gpd.GeoDataFrame,
    catalogue: Catalogue,
    indicators: Sequence[Indicator],
    origins: gpd.GeoDataFrame,
    residential_m2: np.ndarray,
    population: np.ndarray | None = None,
    population_source: str = "none",
    layers: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
    basis: str | None = None,
    speed_mps: float = settings.WALK_SPEED_MPS,
    max_snap: float = settings.MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
    reach: dict[tuple[str, float | None], np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per indicator × area (see the module docstring).

    Parameters
    ----------
    residential_m2 : ndarray
        Residential land per origin (m²), the ``area`` basis.
    population : ndarray, optional
        Residents per origin, the ``population`` basis (its rows are left out without it).
    population_source : str
        One of :data:`gcgeo.population.SOURCES`.
    layers : sequence of (area_layer, GeoDataFrame)
        Area polygons with ``code`` and ``name_zh``, in report order.
    basis : str, optional
        Use this basis for every indicator instead of each one's own.
    reach : dict, optional
        From :func:`measure_reach` (computed here when not given).
    """
    from .population import SOURCES

    if reach is None:
        reach = measure_reach(net, facilities, catalogue, indicators, origins, speed_mps,
                              max_snap, limit, threshold_basis)  # fmt: skip
    cat_thr = {
        c.id: c.max_distance_m
        for c in walker_categories(catalogue.select(None), speed_mps, threshold_basis)
    }
    weights = {
        "area": np.asarray(residential_m2, dtype=float),
        "origins": np.ones(len(origins)),
    }
    if population is not None:
        weights["population"] = np.asarray(population, dtype=float)
    areas = _memberships(origins, layers)
    rows = []
    for ind in indicators:
        b = basis or ind.basis
        if b not in weights:
            raise InputError(
                f"indicator {ind.id} is measured on population, but no population was given; "
                "pass --origins with --population, --population-raster or --population-total, "
                "or --basis area."
            )
        covered = np.logical_and.reduce([reach[(c, ind.radius_m)] for c in ind.categories])
        w = weights[b]
        radius = ind.radius_m
        for layer, code, name, mask in areas:
            tot = float(w[mask].sum())
            cov = float(w[mask & covered].sum())
            value = cov / tot if tot > 0 else np.nan
            rows.append(
                {
                    "indicator_id": ind.id,
                    "name_zh": ind.name_zh,
                    "name_en": ind.name_en,
                    "level": ind.level,
                    "area_layer": layer,
                    "area_code": code,
                    "area_name_zh": name,
                    "basis": b,
                    "value": value,
                    "covered": cov,
                    "total": tot,
                    "target": ind.target if ind.target is not None else np.nan,
                    "pass": (
                        None
                        if ind.target is None or not np.isfinite(value)
                        else bool(value >= ind.target)
                    ),
                    "radius_m": radius if radius is not None else np.nan,
                    "radius_note": (
                        "each category's threshold: "
                        + ", ".join(f"{c} {cat_thr[c]:g} m" for c in ind.categories)
                        if radius is None
                        else ""
                    ),
                    "origins": int(mask.sum()),
                    "status": ind.status,
                    "source": ind.source,
                    "population_source": population_source if b == "population" else "",
                    "estimate": bool(b == "population" and SOURCES.get(population_source, False)),
                }
            )
    return pd.DataFrame(rows)


def measure_reach(
    net: Any,
    facilities: gpd.GeoDataFrame,
    catalogue: Catalogue,
    indicators: Sequence[Indicator],
    origins: gpd.GeoDataFrame,
    speed_mps: float = settings.WALK_SPEED_MPS,
    max_snap: float = settings.MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> dict[tuple[str, float | None], np.ndarray]:
    """Which origins reach each (category, radius) the indicators use: one
    :func:`gcgeo.coverage.compute_coverage` run per distinct radius (``None``: each
    category's own threshold)."""
    from .coverage import compute_coverage

    need: dict[float | None, set[str]] = {}
    for ind in indicators:
        for c in ind.categories:
            need.setdefault(ind.radius_m, set()).add(c)
    reach: dict[tuple[str, float | None], np.ndarray] = {}
    for radius, ids in need.items():
        cats = walker_categories(catalogue.select(sorted(ids)), speed_mps, threshold_basis)
        if radius is not None:
            cats = [dataclasses.replace(c, max_distance_m=radius) for c in cats]
        res = compute_coverage(
            net, facilities, cats, origins, speed_mps, max_snap, limit, "distance"
        )
        for c in cats:
            reach[(c.id, radius)] = res.origins[reached_col(c.id)].to_numpy(bool)
    return reach


def shortfall_table(
    catalogue: Catalogue,
    indicators: Sequence[Indicator],
    origins: gpd.GeoDataFrame,
    population: np.ndarray,
    population_source: str,
    reach: dict[tuple[str, float | None], np.ndarray],
    tiers: dict[int, Any],
    layers: Sequence[tuple[str, gpd.GeoDataFrame]] = (),
) -> pd.DataFrame:
    """Per single-category indicator and area: residents beyond the radius and how many
    facilities of a standard size they would need (``ceil(residents / residents per
    facility of the category's tier)``), for ``gcgeo suggest --count``."""
    from .population import SOURCES

    pop = np.asarray(population, dtype=float)
    rows = []
    for ind in indicators:
        if len(ind.categories) != 1:
            continue
        cid = ind.categories[0]
        cat = catalogue.categories[cid]
        size = tiers.get(int(cat.tier))
        uncovered = ~reach[(cid, ind.radius_m)]
        for layer, code, name, mask in _memberships(origins, layers):
            beyond = float(pop[mask & uncovered].sum())
            per = size.residents_per_facility if size is not None else np.nan
            rows.append(
                {
                    "indicator_id": ind.id,
                    "category": cid,
                    "area_layer": layer,
                    "area_code": code,
                    "area_name_zh": name,
                    "population": float(pop[mask].sum()),
                    "population_beyond": beyond,
                    "radius_m": ind.radius_m if ind.radius_m is not None else np.nan,
                    "tier_min": int(cat.tier),
                    "residents_per_facility": per,
                    "facilities_needed": int(np.ceil(beyond / per)) if np.isfinite(per) else None,
                    "status": "to_confirm" if size is None else size.status,
                    "source": "" if size is None else size.source,
                    "population_source": population_source,
                    "estimate": bool(SOURCES.get(population_source, False)),
                }
            )
    return pd.DataFrame(rows)


def _sheet_rows(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    out = {}
    for layer, part in table.groupby("area_layer", sort=False):
        out[SHEETS.get(str(layer), str(layer))[:31]] = part
    return out


def write_xlsx(table: pd.DataFrame, path: Any, note: str = "") -> None:
    """The table as a workbook: one sheet per area level, Chinese headers, shares as
    percentages, frozen header, landscape A4 fitted to the page width."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from ._io import atomic_write, spreadsheet_safe

    cols = [c for c in HEADERS_ZH if c in table.columns]
    wb = Workbook()
    wb.remove(wb.active)
    for title, part in _sheet_rows(table).items():
        ws = wb.create_sheet(title)
        ws.append([HEADERS_ZH[c] for c in cols])
        for c in ws[1]:
            c.font = Font(bold=True)
            c.alignment = Alignment(wrap_text=True, vertical="top")
        safe = spreadsheet_safe(part[cols])
        for rec in safe.itertuples(index=False):
            vals = []
            for c, v in zip(cols, rec, strict=True):
                if c == "basis":
                    v = _BASIS_ZH.get(v, v)
                elif c == "pass":
                    v = "" if v is None or v != v else ("是" if v else "否")
                elif c == "estimate":
                    v = "估算 estimate" if v else ""
                elif isinstance(v, float) and not np.isfinite(v):
                    v = None
                vals.append(v)
            ws.append(vals)
        for j, c in enumerate(cols, start=1):
            letter = get_column_letter(j)
            if c in ("value", "target"):
                for cell in ws[letter][1:]:
                    cell.number_format = "0.0%"
            width = {"name_zh": 28, "source": 60, "area_name_zh": 14}.get(c, 12)
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        if note:
            ws.oddFooter.center.text = note[:200]
    atomic_write(path, lambda tmp: wb.save(tmp))


#: The columns the pages (HTML, Word) show.
SHOWN = ["name_zh", "area_name_zh", "basis", "value", "target", "pass", "radius_m", "status"]


def display_rows(part: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Chinese headers and text cells of :data:`SHOWN` for people (shares as percentages)."""
    rows = []
    for _, r in part.iterrows():
        cells = []
        for c in SHOWN:
            v = r[c]
            if c in ("value", "target"):
                text = "" if not np.isfinite(v) else f"{100 * v:.1f}%"
            elif c == "radius_m":
                text = r["radius_note"] if not np.isfinite(v) else f"{v:g}"
            elif c == "basis":
                text = _BASIS_ZH.get(v, v)
            elif c == "pass":
                text = "" if v is None or v != v else ("是" if v else "否")
            else:
                text = str(v)
            cells.append(text)
        rows.append(cells)
    return [HEADERS_ZH[c] for c in SHOWN], rows


def sections(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The table split by area level, titled as the XLSX sheets are."""
    return _sheet_rows(table)


def checkup_html(table: pd.DataFrame, title: str, note: str = "") -> str:
    """A page of the table, one section per area level (every value escaped)."""
    from .escape import html_text

    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{html_text(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px}td.n{text-align:right}"
        ".note{color:#8a6d3b;background:#fcf8e3;padding:6px}</style></head><body>",
        f"<h1>{html_text(title)}</h1>",
    ]
    if note:
        parts.append(f"<p class='note'>{html_text(note)}</p>")
    numeric = {i for i, c in enumerate(SHOWN) if c in ("value", "target", "radius_m")}
    for sheet, part in _sheet_rows(table).items():
        headers, rows = display_rows(part)
        parts.append(f"<h2>{html_text(sheet)}</h2><table><tr>")
        parts += [f"<th>{html_text(h)}</th>" for h in headers]
        parts.append("</tr>")
        for cells in rows:
            tds = [
                f"<td{' class=n' if i in numeric else ''}>{html_text(t)}</td>"
                for i, t in enumerate(cells)
            ]
            parts.append("<tr>" + "".join(tds) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
