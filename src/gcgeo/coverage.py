"""Origins, coverage shares, life-circle completeness, and the point-in-area rule.

Origins are where people start walking: a regular grid over the study area
(kept only where people live, by a rule every output states) or a planner's
layer of residential places with an optional population column.

:func:`point_in_area` is the only rule deciding which area (zone, wing, renewal
area, or a scenario's ``--areas`` polygon) a point belongs to; the by-area tables of
:mod:`gcgeo.by_area` and the scenario delta tables of :mod:`gcgeo.scenario.compare`
both use it, so the same origin is counted in the same area everywhere.

A walker's speed (``--speed`` or a scenario's persona) and what thresholds mean for it are
defined once, in :mod:`gcgeo.walker`: ``gcgeo coverage --speed 0.8`` and a scenario with the
elderly persona give the same baseline. Shares, medians and completeness are weighted as :mod:`gcgeo.weights` says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import settings
from ._arrays import ranges
from ._errors import InputError
from .catalogue import Category
from .columns import COMPLETENESS, POPULATION, dist_col, min_col, reached_col, tier_col
from .crs import DEFAULT_CRS, reproject
from .engine import (
    DEFAULT_SPEED_MPS,
    NodeDistances,
    node_distances,
    node_distances_many,
    point_distances,
)
from .network import StreetNetwork, area_in_crs
from .snap import DEFAULT_MAX_SNAP_M, Snap, snap_points
from .walker import threshold_for, walker_categories
from .weights import median_columns, origin_weights

__all__ = [
    "AREA_CRS",
    "AREA_RULE",
    "DEFAULT_CELL_M",
    "search_limit",
    "ORIGIN_RULES",
    "CoverageResult",
    "compute_coverage",
    "edge_minutes",
    "street_minutes",
    "grid_origins",
    "origins_from_layer",
    "point_in_area",
    "project_points",
]

DEFAULT_CELL_M = settings.CELL_M
ORIGIN_RULES = {
    "residential": "grid cells touching residential land use or residential buildings in the OSM data",
    "street": "grid cells whose centre lies within the snap distance of a walkable street",
    "all": "every grid cell in the study area",
    "layer": "the planner's origin layer",
}


def search_limit(threshold_m: float, speed_mps: float, limit: float | None = None) -> float:
    """How far a search goes: ``limit`` if given, else twice the category's
    threshold but at least a 15-minute walk at ``speed_mps``.

    Farther facilities are reported as "not within the search limit"; the
    limit is written into every output.
    """
    if limit is not None:
        return float(limit)
    return max(2.0 * threshold_m, 15 * 60 * speed_mps)


def project_points(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Representative point coordinates of ``gdf`` in ``crs``, shape (n, 2)."""
    if gdf.crs is None:
        raise InputError("A point layer has no CRS; save it with one (e.g. EPSG:4326).")
    g = reproject(gdf.geometry, crs)
    pts = g.representative_point() if not (g.geom_type == "Point").all() else g
    return shapely.get_coordinates(pts.values).reshape(-1, 2)


#: The one metric CRS every point-in-area test is evaluated in (CGCS2000 / 3-degree
#: Gauss-Kruger CM 117E, the zone 钢城区 lies in), whatever CRS the inputs come in.
AREA_CRS = DEFAULT_CRS
#: :func:`point_in_area` in one sentence (for documentation and outputs).
AREA_RULE = (
    f"a point belongs to an area when it lies inside the area's polygon or on its boundary, "
    f"tested in {AREA_CRS}; a point on a border shared by several areas of one layer (or "
    "inside overlapping areas) belongs to the first of them in the layer's row order"
)


def point_in_area(points: gpd.GeoDataFrame | gpd.GeoSeries, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Which area of a layer each point belongs to: the only point-in-area rule of gcgeo.

    The rule (:data:`AREA_RULE`):

    1. Points and area polygons are both projected to :data:`AREA_CRS` (EPSG:4548) and
       tested there, so the answer does not depend on the CRS either comes in.
       A geometry that is not a point is represented by its
       :meth:`~shapely.Geometry.representative_point` in that CRS.
    2. A point belongs to an area when it lies inside the polygon **or on its boundary**
       (shapely ``intersects``, i.e. the polygon *covers* the point).
    3. Ties (a point on a border two areas share, or inside two overlapping areas) go to
       the **first area in the layer's row order**, so each point belongs to at most one
       area of a layer and the per-area counts add up to the points inside the layer.
    4. Points with no geometry, and points outside every area, belong to none (``-1``).

    Parameters
    ----------
    points : geopandas.GeoDataFrame or GeoSeries
        Points in any CRS (e.g. EPSG:4548 origins).
    areas : geopandas.GeoDataFrame
        The area layer (polygons, any CRS), in the order ties are broken by.

    Returns
    -------
    numpy.ndarray of int64
        One entry per point: the row position (0-based) in ``areas`` of the area the
        point belongs to, or ``-1``.

    Raises
    ------
    InputError
        ``points`` is not a GeoDataFrame/GeoSeries, either input has no CRS, or a point
        cannot be expressed in :data:`AREA_CRS` (non-finite coordinates).
    """
    if not isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        raise InputError(
            "Assigning areas needs a GeoDataFrame of points; build one with geopandas."
        )
    if points.crs is None:
        raise InputError(
            "The points have no CRS; set it (e.g. gdf.set_crs(4326) for WGS-84 or "
            f"gdf.set_crs('{DEFAULT_CRS}') for projected metres) before assigning areas."
        )
    if not isinstance(areas, gpd.GeoDataFrame | gpd.GeoSeries) or areas.crs is None:
        raise InputError("area layer has no CRS; save it with one (e.g. EPSG:4326).")
    geo = reproject(points.geometry, AREA_CRS)
    if not (geo.geom_type.dropna() == "Point").all():
        geo = geo.representative_point()
    pts = np.asarray(geo.values, dtype=object)
    if not np.isfinite(shapely.get_coordinates(pts)).all():
        raise InputError(
            f"Some points have coordinates that cannot be expressed in {AREA_CRS} (NaN or "
            "infinite after projection); drop them or fix their CRS before assigning areas."
        )
    polys = np.asarray(reproject(areas.geometry, AREA_CRS).values, dtype=object)
    out = np.full(len(pts), len(polys), dtype=np.int64)
    pi, ai = shapely.STRtree(polys).query(pts, predicate="intersects")
    np.minimum.at(out, pi, ai.astype(np.int64))  # ties: the first area in the layer's order
    out[out == len(polys)] = -1
    return out


def _study_area(net: StreetNetwork, boundary: Any) -> BaseGeometry:
    if boundary is None:
        return shapely.box(*net.bounds)
    return area_in_crs(boundary, net.crs, "boundary")


def grid_origins(
    net: StreetNetwork,
    cell: float = DEFAULT_CELL_M,
    boundary: Any = None,
    rule: str = "auto",
    max_snap: float = DEFAULT_MAX_SNAP_M,
) -> gpd.GeoDataFrame:
    """A regular grid of origin points over the study area, where people live.

    Parameters
    ----------
    net : StreetNetwork
    cell : float
        Cell size (m).
    boundary : GeoDataFrame, GeoSeries or WGS-84 geometry, optional
        Study area; defaults to the network's extent.
    rule : {"auto", "residential", "street", "all"}
        Which cells to keep. ``auto`` uses residential land use/buildings when
        the OSM file has them, else cells within ``max_snap`` of a street.

    Returns
    -------
    GeoDataFrame
        Cell centres in ``net.crs`` with ``cell_id``; ``attrs["origin_rule"]``
        names the rule used.
    """
    if not (np.isfinite(cell) and cell > 0):
        raise InputError(f"cell size {cell!r} must be a positive number of metres.")
    if rule not in ("auto", "residential", "street", "all"):
        raise InputError(f"origin rule {rule!r} must be auto, residential, street or all.")
    area = _study_area(net, boundary)
    minx, miny, maxx, maxy = area.bounds
    n_cells = ((maxx - minx) / cell) * ((maxy - miny) / cell)
    if n_cells > 5e6:
        raise InputError(
            f"cell size {cell:g} m gives {n_cells:,.0f} cells over the study area; "
            "use a larger --cell or a smaller --boundary."
        )
    xs = np.arange(minx + cell / 2, maxx, cell)
    ys = np.arange(miny + cell / 2, maxy, cell)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(area)
    inside = shapely.contains_xy(area, gx, gy)
    gx, gy = gx[inside], gy[inside]
    has_res = net.residential is not None and len(net.residential) > 0
    if rule == "auto":
        rule = "residential" if has_res else "street"
    if rule == "residential":
        if not has_res:
            raise InputError(
                "origin rule 'residential' needs residential land use or buildings in the OSM "
                "file; use --origin-rule street."
            )
        keep = _cells_meeting(net.residential.values, gx, gy, xs, ys, inside, cell)
    elif rule == "street":
        pts = shapely.points(gx, gy)
        hit = np.unique(net.edge_tree.query(pts, predicate="dwithin", distance=max_snap)[0])
        keep = np.zeros(len(gx), dtype=bool)
        keep[hit] = True
    else:
        keep = np.ones(len(gx), dtype=bool)
    out = gpd.GeoDataFrame(
        {"cell_id": np.arange(keep.sum()), "x": gx[keep], "y": gy[keep]},
        geometry=shapely.points(gx[keep], gy[keep]),  # only the cells kept
        crs=net.crs,
    )
    out.attrs["origin_rule"] = rule
    out.attrs["cell_m"] = float(cell)
    return out


#: Slack (in cells) around each bounding box in :func:`_cells_meeting`: far more than
#: the rounding of a square's sides (~1e-16 of a coordinate), far less than a cell.
_SLACK = 1e-6


def _cells_meeting(
    geoms: np.ndarray,
    gx: np.ndarray,
    gy: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    inside: np.ndarray,
    cell: float,
) -> np.ndarray:
    """Which of the grid cells kept by ``inside`` (centres ``xs`` × ``ys``, row-major; the
    kept ones' centres ``gx``, ``gy``) have a square that intersects one of ``geoms``, as
    an array over the kept cells.

    Only the cells whose square meets a geometry's bounding box are drawn and tested,
    one or two per building where drawing every cell of a district costs ~70 ms; when
    the boxes together hold more cells than the grid, every cell is tested instead.
    Both give the same answer: a square can only meet a geometry whose bounding box
    it meets.
    """
    nx, ny = len(xs), len(ys)
    pos = np.cumsum(inside) - 1  # full grid index -> position among the kept cells
    b = shapely.bounds(geoms)
    ok = np.isfinite(b).all(axis=1)
    x0, y0 = xs[0] - cell / 2 if nx else 0.0, ys[0] - cell / 2 if ny else 0.0
    # square i spans [x0 + i * cell, x0 + (i + 1) * cell] up to rounding (its sides are
    # drawn from the centres); _SLACK of a cell more on each side covers that
    i0 = np.clip(np.ceil((b[ok, 0] - x0) / cell - 1 - _SLACK), 0, nx).astype(np.int64)
    i1 = np.clip(np.floor((b[ok, 2] - x0) / cell + _SLACK) + 1, 0, nx).astype(np.int64)
    j0 = np.clip(np.ceil((b[ok, 1] - y0) / cell - 1 - _SLACK), 0, ny).astype(np.int64)
    j1 = np.clip(np.floor((b[ok, 3] - y0) / cell + _SLACK) + 1, 0, ny).astype(np.int64)
    wide = i1 - i0
    n_pairs = int((wide * (j1 - j0)).sum())
    if n_pairs > len(gx):  # large areas: test every cell once
        boxes = shapely.box(gx - cell / 2, gy - cell / 2, gx + cell / 2, gy + cell / 2)
        hit = np.unique(shapely.STRtree(geoms).query(boxes, predicate="intersects")[0])
        keep = np.zeros(len(gx), dtype=bool)
        keep[hit] = True
        return keep
    # every (geometry, cell) pair of the slack boxes, then the exact test on each
    k, counts = ranges(np.zeros(len(wide), dtype=np.int64), wide * (j1 - j0))
    g = np.repeat(np.arange(len(wide)), counts)
    full = (j0[g] + k // wide[g]) * nx + (i0[g] + k % wide[g])
    on = inside[full]
    g, cand = np.flatnonzero(ok)[g[on]], pos[full[on]]
    cx, cy = gx[cand], gy[cand]
    meets = shapely.intersects(
        shapely.box(cx - cell / 2, cy - cell / 2, cx + cell / 2, cy + cell / 2), geoms[g]
    )
    keep = np.zeros(len(gx), dtype=bool)
    keep[cand[meets]] = True
    return keep


def origins_from_layer(
    layer: gpd.GeoDataFrame, crs: str, population: str | None = None
) -> gpd.GeoDataFrame:
    """Origins from a planner's layer of residential places (points or polygons).

    Polygons are represented by an interior point. ``population`` names a
    numeric column used as weight; it is copied to ``population``.
    """
    xy = project_points(layer, crs)
    out = gpd.GeoDataFrame(
        layer.drop(columns=layer.geometry.name).copy(),
        geometry=shapely.points(xy),
        crs=crs,
        index=layer.index,
    )
    if population is not None:
        if population not in layer.columns:
            raise InputError(
                f"population column {population!r} is not in the origin layer "
                f"(columns: {', '.join(map(str, layer.columns))})."
            )
        pop = pd.to_numeric(layer[population], errors="coerce")
        if pop.isna().any() or (pop < 0).any():
            raise InputError(
                f"population column {population!r} has missing or negative values; fix them."
            )
        out[POPULATION] = pop.to_numpy(float)
    out.attrs["origin_rule"] = "layer"
    return out


@dataclass
class CoverageResult:
    """Origins with per-category distances, plus a per-category summary.

    Attributes
    ----------
    origins : GeoDataFrame
        Input origins plus, per category, ``dist_<c>_m``, ``walk_<c>_min``,
        ``reach_<c>``, ``near_<c>`` (nearest facility id), and ``lc_completeness``
        and ``lc5_reached``/``lc10_reached``/``lc15_reached``.
    summary : DataFrame
        One row per category.
    facilities : GeoDataFrame
        Facilities used, projected, with ``snapped`` and ``snap_m``.
    meta : dict
    """

    origins: gpd.GeoDataFrame
    summary: pd.DataFrame
    facilities: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)


def _searches(
    net: StreetNetwork,
    jobs: list[tuple[Snap, float]],
    timings: dict[str, float],
    report: dict[str, int],
) -> Iterator[NodeDistances]:
    """Each job's node distances, searched on two cores a few jobs at a time (so at most
    ~256 MB of node distances are held at once); adds its time to ``timings["search"]``
    and the processes used to ``report``."""
    chunk = max(2, 2**28 // (16 * max(net.n_nodes, 1)))
    for a in range(0, len(jobs), chunk):
        t = time.perf_counter()
        done = node_distances_many(net, jobs[a : a + chunk], report=report)
        timings["search"] += time.perf_counter() - t
        yield from done


def compute_coverage(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Category],
    origins: gpd.GeoDataFrame,
    speed_mps: float = DEFAULT_SPEED_MPS,
    max_snap: float = DEFAULT_MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> CoverageResult:
    """Walking distance from every origin to the nearest facility of each category.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        Columns ``facility_id``, ``name``, ``category``; any CRS.
    categories : sequence of Category
    origins : GeoDataFrame
        Points (any CRS); an optional ``population`` column weights shares, medians and
        completeness (:mod:`gcgeo.weights`).
    speed_mps : float
        Walking speed for the minutes columns (and the thresholds with ``time``).
    max_snap : float
        Maximum access leg (m) for origins and facilities.
    limit : float, optional
        Search limit (m); farther facilities count as not found. Default per
        category: :func:`search_limit` (twice the threshold, at least a
        15-minute walk).
    threshold_basis : {"distance", "time"}
        What the thresholds mean at ``speed_mps`` (:func:`gcgeo.walker.threshold_for`).

    Returns
    -------
    CoverageResult
        The summary has ``basis`` (``population`` or ``origins``), ``covered`` (origins),
        ``covered_population`` (NaN without a population column), ``share`` and the
        median columns of :func:`gcgeo.weights.median_columns`.
    """
    if not (speed_mps > 0):
        raise InputError(
            f"walking speed {speed_mps!r} must be positive (m/s), e.g. {settings.WALK_SPEED_MPS}."
        )
    categories = walker_categories(categories, speed_mps, threshold_basis)
    weights, basis = origin_weights(origins)
    t_snap = time.perf_counter()
    out = reproject(origins, net.crs) if origins.crs != net.crs else origins.copy()
    oxy = project_points(out, net.crs)
    osnap = snap_points(net, oxy, max_snap)
    fac = reproject(facilities, net.crs).reset_index(drop=True)
    fxy = shapely.get_coordinates(fac.geometry.values).reshape(-1, 2)
    fsnap = snap_points(net, fxy, max_snap)
    fac = fac.assign(snapped=fsnap.ok, snap_m=np.where(fsnap.ok, fsnap.leg, np.nan))
    t_search = time.perf_counter()
    timings = {"snap": t_search - t_snap, "search": 0.0}
    rows = []
    fac_cat = fac["category"].to_numpy()
    sels = [np.flatnonzero(fac_cat == cat.id) for cat in categories]
    jobs = [
        (fsnap.take(sel), search_limit(cat.max_distance_m, speed_mps, limit))
        for cat, sel in zip(categories, sels, strict=True)
    ]
    timings["search"] = time.perf_counter() - t_search
    used: dict[str, int] = {}
    searches = _searches(net, jobs, timings, used)
    for cat, sel, (sub_snap, cat_limit), nd in zip(categories, sels, jobs, searches, strict=True):
        t_cat = time.perf_counter()
        pdist = point_distances(net, nd, osnap, sub_snap)
        timings["search"] += time.perf_counter() - t_cat
        d = pdist.distance
        reached = d <= cat.max_distance_m
        out[dist_col(cat.id)] = np.where(np.isfinite(d), np.round(d, 2), np.nan)
        out[min_col(cat.id)] = np.where(np.isfinite(d), np.round(d / speed_mps / 60, 2), np.nan)
        out[reached_col(cat.id)] = reached
        ids = fac["facility_id"].to_numpy(object)[sel]
        near = np.full(len(out), None, dtype=object)
        found = pdist.source >= 0
        near[found] = ids[pdist.source[found]]
        out[f"near_{cat.id}"] = near
        covered_w = float(weights[reached].sum())
        total_w = float(weights.sum())
        rows.append(
            {
                "category": cat.id,
                "name_zh": cat.name_zh,
                "name_en": cat.name_en,
                "tier_min": cat.tier,
                "threshold_m": cat.max_distance_m,
                "threshold_status": cat.status,
                "search_limit_m": round(cat_limit, 1),
                "facilities": len(sel),
                "facilities_unsnapped": int((~sub_snap.ok).sum()),
                "origins": len(out),
                "basis": basis,
                "population": total_w if basis == POPULATION else np.nan,
                "covered": int(reached.sum()),
                "covered_population": covered_w if basis == POPULATION else np.nan,
                "share": round(covered_w / total_w, 4) if total_w > 0 else np.nan,
                "weighted_by": basis,
                **median_columns(d, weights, cat_limit),
            }
        )
    lc = [c for c in categories if c.in_life_circle]
    if lc:
        reached_mat = np.column_stack([out[reached_col(c.id)].to_numpy(bool) for c in lc])
        out[COMPLETENESS] = np.round(reached_mat.mean(axis=1), 4)
        for tier in (5, 10, 15):
            cols = [i for i, c in enumerate(lc) if c.tier <= tier]
            out[tier_col(tier)] = reached_mat[:, cols].sum(axis=1) if cols else 0
    else:
        out[COMPLETENESS] = np.nan
    out["snap_origin_m"] = np.where(osnap.ok, np.round(osnap.leg, 2), np.nan)
    rule = origins.attrs.get("origin_rule", "layer")
    meta = {
        #: snap: origins and facilities onto the streets; search: every category's
        #: multi-source search and origin distances (s)
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
        #: processes the categories' searches ran on (gcgeo.parallel)
        "search_processes": used.get("processes", 1),
        "origin_rule": rule,
        "origin_rule_text": ORIGIN_RULES.get(rule, rule),
        "origins": len(out),
        "origins_unsnapped": int((~osnap.ok).sum()),
        "speed_mps": speed_mps,
        "threshold_basis": threshold_basis,
        #: what the d_* columns hold: with slopes, walking time × the flat speed
        "distance_unit": (
            "flat-equivalent metres (walking time × flat speed; slopes from a DEM)"
            if net.costs is not None
            else "metres"
        ),
        "walk_function": None if net.costs is None else net.costs.function,
        "basis": basis,
        "max_snap_m": max_snap,
        "search_limit_m": "per category (see summary)" if limit is None else limit,
        "crs": net.crs,
        "life_circle_categories": [c.id for c in lc],
    }
    out.attrs.update(meta)
    summary = pd.DataFrame(rows)
    summary.attrs.update(meta)
    return CoverageResult(out, summary, fac, meta)


def edge_minutes(
    net: StreetNetwork, node_dist: np.ndarray, speed: float, limit: float | None = None
) -> np.ndarray:
    """Walking minutes of a segment: from its nearer end (inf when neither is reached).

    The network is one connected piece, so when the search reached anything and
    its ``limit`` is at least a 15-minute walk, a segment beyond it is simply
    farther than 15 minutes: it gets a value just above 15, not "unreachable".
    """
    d = np.minimum(node_dist[net.edge_u], node_dist[net.edge_v])
    minutes = d / speed / 60.0
    if limit is not None and np.isfinite(node_dist).any():
        limit_min = limit / speed / 60.0
        if limit_min >= 15.0 - 1e-6:  # search_limit() gives exactly a 15-minute walk
            minutes[~np.isfinite(minutes)] = np.nextafter(max(limit_min, 15.0), np.inf)
    return minutes


def street_minutes(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    category: Any,
    speed_mps: float = settings.WALK_SPEED_MPS,
    max_snap: float = settings.MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> np.ndarray:
    """Walking minutes from each street segment to the nearest facility of a category.

    A segment takes the time of its nearer end (see :func:`edge_minutes`). The minutes
    are read at the speed :func:`gcgeo.walker.threshold_for` gives (the standard's pace
    for ``distance``, ``speed_mps`` for ``time``), the rule of the thresholds.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        Facilities with ``category`` (any CRS).
    category : Category
        Needs ``id``, ``max_distance_m`` and ``tier``.
    speed_mps, max_snap, limit : float
        As in :func:`gcgeo.coverage.compute_coverage`.
    threshold_basis : {"distance", "time"}
        As in :func:`gcgeo.coverage.compute_coverage`.

    Returns
    -------
    ndarray of float
        One value per row of ``net.edges``.
    """
    fac = facilities[facilities["category"] == category.id]
    fxy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
    fsnap = snap_points(net, fxy, max_snap)
    threshold_m, band_speed = threshold_for(category, speed_mps, threshold_basis)
    cat_limit = search_limit(threshold_m, band_speed, limit)
    nd = node_distances(net, fsnap, limit=cat_limit)
    return edge_minutes(net, nd.dist, band_speed, cat_limit)
