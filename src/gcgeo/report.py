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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import maps, settings
from ._errors import InputError
from ._io import safe_filename
from .columns import COMPLETENESS, POPULATION, dist_col, reached_col
from .coverage import search_limit, street_minutes
from .escape import html_text
from .report_pages import (
    LAYER_TITLES,
    REPORT_LAYERS,
    AreaReport,
    area_report_html,
    index_html,
    print_html,
)
from .walker import walker_categories
from .weights import median_columns, origin_weights, weighted_mean

__all__ = [
    "REPORT_LAYERS",
    "AreaReport",
    "area_report_html",
    "index_html",
    "area_table",
    "build_reports",
    "report_filename",
    "report_filenames",
    "DOCX_FILE",
    "PDF_FILE",
    "PRINT_FILE",
    "REPORT_MAP_DPI",
]

_MARGIN_M = 300.0


_e = html_text


def area_table(
    origins: gpd.GeoDataFrame,
    categories: Sequence[Any],
    speed_mps: float = settings.WALK_SPEED_MPS,
    limit: float | None = None,
) -> pd.DataFrame:
    """Coverage by category of a set of origins (e.g. those inside one area).

    Parameters
    ----------
    origins : GeoDataFrame
        Origins with ``reach_<c>`` and ``dist_<c>_m`` per category and optionally
        ``population`` (weights share, covered population and median).
    categories : sequence of Category
        Need ``id``, ``name_zh``, ``name_en``, ``max_distance_m`` and ``status``.
    speed_mps, limit : float
        As for the coverage run: they give each category's search limit
        (:func:`gcgeo.coverage.search_limit`), named when the median lies beyond it.

    Returns
    -------
    DataFrame
        One row per category: ``category``, ``name_zh``, ``name_en``, ``threshold_m``,
        ``threshold_status``, ``basis`` (``population`` or ``origins``), ``origins``,
        ``population`` (NaN without weights), ``covered`` (origins),
        ``covered_population`` (NaN without weights), ``share`` (covered share,
        population-weighted when given; NaN for no origins), ``search_limit_m`` and
        ``median_dist_m`` / ``median_beyond_limit`` / ``median_text`` (weighted, counting
        origins beyond the search limit: :func:`gcgeo.weights.median_columns`).
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
    w, basis = origin_weights(origins)
    weighted = basis == POPULATION
    rows = []
    for cat in categories:
        reached = origins[reached_col(cat.id)].fillna(False).to_numpy(bool)
        d = origins[dist_col(cat.id)].to_numpy(float)
        tot = float(w.sum())
        cat_limit = search_limit(cat.max_distance_m, speed_mps, limit)
        rows.append(
            {
                "category": cat.id,
                "name_zh": cat.name_zh,
                "name_en": cat.name_en,
                "threshold_m": cat.max_distance_m,
                "threshold_status": cat.status,
                "basis": basis,
                "origins": n,
                "population": tot if weighted else np.nan,
                "covered": int(reached.sum()),
                "covered_population": float(w[reached].sum()) if weighted else np.nan,
                "share": round(float(w[reached].sum()) / tot, 4) if tot > 0 else np.nan,
                "search_limit_m": round(cat_limit, 1),
                **median_columns(d, w, cat_limit),
            }
        )
    return pd.DataFrame(rows)


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

    taken: set[str] = {"index.html", PRINT_FILE, DOCX_FILE, PDF_FILE}
    return {
        (layer, str(code)): report_filename(prefix, str(code), taken)
        for layer, _, prefix in REPORT_LAYERS
        for code in load_layer(layer, layers_dir)["code"]
    }


def report_filename(prefix: str, code: str, taken: set[str]) -> str:
    """A file name for one area's report, unique among ``taken`` (which it extends)."""
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
    if len(origins) and COMPLETENESS in origins.columns:  # off at first: it hides the streets
        maps.completeness_layer(origins, m, cell_size=cell_size, show=False)
    fac = facilities.to_crs(crs)
    fac = fac[shapely.contains_xy(window, *shapely.get_coordinates(fac.geometry.values).T)]
    if len(fac):
        maps.facilities_layer(fac, m, categories=list(categories))
    maps.areas_layer(area, m, name=LAYER_TITLES.get(str(area.attrs.get("layer")), "片区 Area"))
    if title_label:
        maps.title_box(m, title_label)
    return maps.to_fragment(m, height="560px")


#: resolution of the reports' print maps (A4 landscape; sharp on paper, small in a page)
REPORT_MAP_DPI = 150
#: the document holding every report for printing (and ``--pdf``)
PRINT_FILE = "print.html"
#: the Word version of the reports, and the PDF printed from PRINT_FILE
DOCX_FILE = "report.docx"
PDF_FILE = "report.pdf"


def _area_print_map(
    area: gpd.GeoDataFrame,
    layer: str,
    edges: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    map_category: Any,
    label: str | None,
    margin_m: float,
    dpi: int,
) -> bytes:
    """The area's print map (PNG): streets by minutes to ``map_category``, its facilities,
    the area outlined, legend beside the map, draft and synthetic notes in the footer."""
    import io

    crs = edges.crs
    window = shapely.union_all(area.to_crs(crs).geometry.values).buffer(margin_m)
    near = edges.iloc[np.sort(shapely.STRtree(edges.geometry.values).query(window, "intersects"))]
    fac = facilities[facilities["category"] == map_category.id].to_crs(crs)
    fac = fac[shapely.contains_xy(window, *shapely.get_coordinates(fac.geometry.values).T)]
    limit = getattr(map_category, "max_distance_m", None)
    fig = maps.static_map(
        edges=near if len(near) else None,
        column="walk_min" if len(near) else None,
        facilities=fac if len(fac) else None,
        categories=[map_category],
        area_layers={layer: area},
        areas=None if len(near) or len(fac) else area,
        title=f"{area['name_zh'].iloc[0]} {area['name_en'].iloc[0]} · "
        f"{map_category.name_zh} 步行时间 {map_category.name_en} walking time"
        + (f" (≤ {limit:g} m)" if limit is not None else ""),
        page="A4-landscape",
        dpi=dpi,
        notes=[label or "", maps.draft_note(area)],
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def build_reports(
    net: Any,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Any],
    *,
    map_category: Any | None = None,
    layers_dir: str | os.PathLike | None = None,
    speed_mps: float = settings.WALK_SPEED_MPS,
    max_snap: float = settings.MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
    offline: bool = True,
    tiles: str | None = None,
    tianditu_key: str | None = None,
    cell_size: float | None = None,
    margin_m: float = _MARGIN_M,
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
    extra_links: Mapping[str, str] | None = None,
    print_maps: bool = True,
    print_dpi: int = REPORT_MAP_DPI,
    docx: bool = False,
) -> dict[str, str | bytes]:
    """HTML reports per zone, wing and renewal area, ``index.html`` (with the district
    summary), print maps and :data:`PRINT_FILE` (everything in one document for printing).

    Parameters
    ----------
    net : StreetNetwork
    origins : GeoDataFrame
        ``CoverageResult.origins``, with ``zone`` and ``renewal_area`` columns from
        :func:`gcgeo.by_area.assign_areas` (added here when missing).
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
    threshold_basis : {"distance", "time"}
        As for the coverage run (:func:`gcgeo.walker.threshold_for`): the tables' thresholds
        and the streets' minute bands.
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
    print_maps : bool
        Draw each area's print map (``maps/<page>.png``, A4 landscape at ``print_dpi``),
        shown under the interactive map and in its place when printed.
    print_dpi : int
        Their resolution.
    docx : bool
        Also make :data:`DOCX_FILE`, the same reports as a Word document
        (:func:`gcgeo.docx_report.report_docx`).

    Returns
    -------
    dict of str to str or bytes
        ``{"index.html": ..., "zone_<code>.html": ..., "wing_<code>.html": ...,
        "renewal_<code>.html": ..., "print.html": ..., "maps/zone_<code>.png": b"..."}``.
    """
    from .by_area import assign_areas
    from .layers import load_layer

    if not categories:
        raise InputError("No categories given; pass at least one category id.")
    categories = walker_categories(categories, speed_mps, threshold_basis)
    if map_category is None:
        ids = [c.id for c in categories]
        map_category = (
            categories[ids.index("kindergarten")] if "kindergarten" in ids else categories[0]
        )
    if any(col not in origins.columns for _, col, _ in REPORT_LAYERS):
        origins = origins.join(assign_areas(origins, layers_dir))
    edges = net.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
    edges["walk_min"] = street_minutes(
        net, facilities, map_category, speed_mps, max_snap, limit, threshold_basis
    )
    pages: dict[str, str | bytes] = {}
    reports: list[AreaReport] = []
    fnames = report_filenames(layers_dir)
    for layer, col, _ in REPORT_LAYERS:
        areas = load_layer(layer, layers_dir)
        member = origins[col].to_numpy(object)
        for k in range(len(areas)):
            a = areas.iloc[k]
            code = str(a["code"])
            inside = origins[member == code]
            table = area_table(inside, categories, speed_mps, limit)
            comp = (
                weighted_mean(inside[COMPLETENESS].to_numpy(float), origin_weights(inside)[0])
                if COMPLETENESS in inside
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
            image = None
            if print_maps:
                image = "maps/" + fname.removesuffix(".html") + ".png"
                pages[image] = _area_print_map(
                    one, layer, edges, facilities, map_category, label, margin_m, print_dpi
                )
            page = area_report_html(a.to_dict(), layer, table, comp, fragment, label, meta, image)
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
                    table=table,
                    image=image,
                    source=str(a.get("source") or ""),
                )
            )
    district = area_table(origins, categories, speed_mps, limit)
    pages["index.html"] = index_html(reports, label, extra_links, district)
    pages[PRINT_FILE] = print_html(district, reports, label, meta)
    if docx:
        from .docx_report import report_docx

        images = {k: v for k, v in pages.items() if isinstance(v, bytes)}
        pages[DOCX_FILE] = report_docx(district, reports, images, label, meta)
    return pages
