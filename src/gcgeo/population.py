"""Who lives in each origin cell: residential land area, and population from a planner's
layer, a raster or an estimate.

Origins are the cells of :func:`gcgeo.coverage.grid_origins` (``x``, ``y`` their centres,
``attrs["cell_m"]`` their size). Every function returns one value per origin, vectorised:

* :func:`residential_area` — residential land (OSM ``landuse=residential`` and residential
  buildings, overlaps counted once) inside each cell, m²: the weight of ``area``-basis
  indicators, as published checkups compute coverage rates;
* :func:`from_polygons` — a planner's polygons with a population column (街道/社区 counts),
  each spread over the origins inside it in proportion to their residential land (equally
  where the polygon has none);
* :func:`from_raster` — a population raster (WorldPop-style GeoTIFF, any CRS), each pixel
  counted in the cell its centre falls in;
* :func:`residential_buildings` + :func:`estimate_from_buildings` — ``total`` spread by
  residential floor area (OSM building footprint × ``building:levels``, or
  :data:`DEFAULT_LEVELS` where the tag is missing): an **estimate**, and labelled so;
* :func:`estimate_from_land` — ``total`` spread by residential land area, where the file
  maps no residential buildings: an **estimate** too.

:data:`SOURCES` names what each output's ``population_source`` column may say.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import DependencyError, InputError
from .crs import transformer

__all__ = [
    "DEFAULT_LEVELS",
    "SOURCES",
    "estimate_from_buildings",
    "estimate_from_land",
    "estimate_total",
    "residential_buildings",
    "from_polygons",
    "from_raster",
    "residential_area",
]

#: ``population_source`` values and whether each is an estimate.
SOURCES = {
    "layer": False,  # a planner's origin points with a population column
    "polygons": False,  # a planner's polygons, spread over the origins inside them
    "raster": False,  # a population raster summed per cell
    "estimate": True,  # --population-total spread by residential land area
    "estimate_buildings": True,  # --population-total spread by residential floor area
    "none": False,  # no population: population-basis indicators are not computed
}


#: Floors assumed where a residential building has no ``building:levels`` (Chinese urban
#: housing is mostly 6-storey 多层; to confirm locally, ``--default-levels``).
DEFAULT_LEVELS = 6.0


def _cells(origins: gpd.GeoDataFrame) -> np.ndarray:
    cell = origins.attrs.get("cell_m")
    if cell is None:
        raise InputError(
            "the origins are not grid cells (a planner's layer); residential land area per "
            "origin needs the grid: leave out --origins or give them a population column."
        )
    x, y = origins["x"].to_numpy(float), origins["y"].to_numpy(float)
    h = float(cell) / 2
    return shapely.box(x - h, y - h, x + h, y + h)


def residential_area(origins: gpd.GeoDataFrame, residential: gpd.GeoSeries | None) -> np.ndarray:
    """Residential land inside each origin cell (m²), overlapping polygons counted once."""
    out = np.zeros(len(origins))
    if residential is None or len(residential) == 0 or len(origins) == 0:
        return out
    geoms = residential.to_crs(origins.crs).values
    parts = shapely.get_parts(shapely.union_all(shapely.make_valid(geoms)))
    parts = parts[shapely.get_type_id(parts) >= 3]  # polygons only
    if not len(parts):
        return out
    boxes = _cells(origins)
    ci, pi = shapely.STRtree(parts).query(boxes, predicate="intersects")
    area = shapely.area(shapely.intersection(boxes[ci], parts[pi]))
    np.add.at(out, ci, area)
    return out


def from_polygons(
    origins: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    column: str,
    res_area: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Each polygon's population spread over the origins whose centre lies in it.

    Returns the population per origin and the population of polygons holding no origin
    (left out, and reported).
    """
    from .coverage import point_in_area

    if column not in polygons.columns:
        raise InputError(
            f"population column {column!r} is not in the polygon layer (columns: "
            f"{', '.join(map(str, polygons.columns))})."
        )
    pop = pd.to_numeric(polygons[column], errors="coerce").to_numpy(float)
    if np.isnan(pop).any() or (pop < 0).any() or not np.isfinite(pop).all():
        raise InputError(f"population column {column!r} has missing or negative values; fix them.")
    where = point_in_area(origins, polygons)
    inside = where >= 0
    k = len(polygons)
    land = np.bincount(where[inside], weights=res_area[inside], minlength=k)
    count = np.bincount(where[inside], minlength=k)
    share = np.zeros(len(origins))
    w = where[inside]
    share[inside] = np.where(land[w] > 0, res_area[inside] / np.maximum(land[w], 1e-300),
                             1.0 / np.maximum(count[w], 1))  # fmt: skip
    out = np.where(inside, share * pop[np.maximum(where, 0)], 0.0)
    left_out = float(pop[count == 0].sum())
    return out, left_out


def from_raster(origins: gpd.GeoDataFrame, path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Each raster pixel counted in the origin cell its centre falls in.

    Returns the population per origin and the population of pixels in no origin cell.
    No-data pixels count nothing. Needs rasterio (``pip install "gcgeo[checkup]"``).
    """
    try:
        import rasterio
    except ImportError as exc:
        raise DependencyError(
            'A population raster needs rasterio; install it with `pip install "gcgeo[checkup]"`.'
        ) from exc

    cell = float(origins.attrs.get("cell_m") or 0)
    if cell <= 0:
        _cells(origins)  # the same sentence
    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True)
            transform, crs = src.transform, src.crs
    except (OSError, rasterio.errors.RasterioError) as exc:
        raise InputError(f"Cannot read the population raster {str(path)!r} ({exc}).") from exc
    if crs is None:
        raise InputError(f"The population raster {str(path)!r} has no CRS; save it with one.")
    values = np.ma.filled(band.astype(float), 0.0)
    if (values < 0).any() or not np.isfinite(values).all():
        raise InputError(f"The population raster {str(path)!r} has negative or infinite values.")
    rows, cols = np.nonzero(values)
    px, py = rasterio.transform.xy(transform, rows, cols, offset="center")
    tr = transformer(crs.to_wkt(), origins.crs)
    x, y = tr.transform(np.asarray(px, float), np.asarray(py, float))
    # which cell: the grid is regular, so the cell is found by rounding, then matched
    ox, oy = origins["x"].to_numpy(float), origins["y"].to_numpy(float)
    x0, y0 = ox.min() - cell / 2, oy.min() - cell / 2
    ix = np.floor((np.asarray(x) - x0) / cell).astype(np.int64)
    iy = np.floor((np.asarray(y) - y0) / cell).astype(np.int64)
    oix = np.round((ox - x0 - cell / 2) / cell).astype(np.int64)
    oiy = np.round((oy - y0 - cell / 2) / cell).astype(np.int64)
    width = int(max(ix.max(initial=0), oix.max(initial=0)) + 2)
    okey = oiy * width + oix
    order = np.argsort(okey)
    key = iy * width + ix
    pos = np.searchsorted(okey[order], key)
    pos = np.minimum(pos, len(order) - 1)
    hit = (ix >= 0) & (iy >= 0) & (okey[order][pos] == key)
    out = np.zeros(len(origins))
    v = values[rows, cols]
    np.add.at(out, order[pos[hit]], v[hit])
    return out, float(v[~hit].sum())


def estimate_from_land(res_area: np.ndarray, total: float) -> np.ndarray:
    """``total`` residents spread over the origins by residential land area (an estimate)."""
    if not (np.isfinite(total) and total > 0):
        raise InputError(f"--population-total {total!r} must be a positive number of residents.")
    land = float(res_area.sum())
    if land <= 0:
        raise InputError(
            "no residential land in the origin cells to spread --population-total over; give "
            "a population layer or raster instead."
        )
    return res_area * (total / land)


def residential_buildings(path: str | os.PathLike) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Residential building footprints (WGS-84) of an OSM file and their ``building:levels``
    (NaN where missing or not a number), one libosmium pass with areas assembled."""
    import osmium

    from .osm_stream import RESIDENTIAL_BUILDINGS

    wkb = osmium.geom.WKBFactory()
    geoms, levels = [], []
    fp = (
        osmium.FileProcessor(str(path))
        .with_areas()
        .with_filter(osmium.filter.KeyFilter("building"))
    )
    for obj in fp:
        if not obj.is_area() or obj.tags.get("building") not in RESIDENTIAL_BUILDINGS:
            continue
        try:
            geoms.append(wkb.create_multipolygon(obj))
        except Exception:  # broken multipolygons are common in OSM; skip them
            continue
        raw = obj.tags.get("building:levels")
        try:
            lv = float(raw) if raw is not None else np.nan
        except ValueError:
            lv = np.nan
        levels.append(lv if np.isfinite(lv) and 0 < lv <= 200 else np.nan)
    shapes = shapely.from_wkb(np.array(geoms, dtype=object)) if geoms else []
    return gpd.GeoSeries(shapes, crs=settings.WGS84), np.array(levels, dtype=float)


def estimate_from_buildings(
    origins: gpd.GeoDataFrame,
    footprints: gpd.GeoSeries,
    levels: np.ndarray,
    total: float,
    default_levels: float = DEFAULT_LEVELS,
) -> np.ndarray:
    """``total`` residents spread by residential floor area (footprint inside each cell ×
    floors): an estimate."""
    if not (np.isfinite(total) and total > 0):
        raise InputError(f"--population-total {total!r} must be a positive number of residents.")
    if not (np.isfinite(default_levels) and default_levels > 0):
        raise InputError(
            f"--default-levels {default_levels!r} must be a positive number of floors."
        )
    floors = np.where(np.isfinite(levels), levels, default_levels)
    out = np.zeros(len(origins))
    if len(footprints):
        shapes = footprints.to_crs(origins.crs).values
        boxes = _cells(origins)
        ci, bi = shapely.STRtree(shapes).query(boxes, predicate="intersects")
        area = shapely.area(shapely.intersection(boxes[ci], shapes[bi]))
        np.add.at(out, ci, area * floors[bi])
    floor_area = float(out.sum())
    if floor_area <= 0:
        raise InputError(
            "no residential building inside the origin cells to spread --population-total over."
        )
    return out * (total / floor_area)


def estimate_total(
    origins: gpd.GeoDataFrame,
    osm_path: str | os.PathLike,
    residential: gpd.GeoSeries | None,
    total: float,
    default_levels: float = DEFAULT_LEVELS,
) -> tuple[np.ndarray, str]:
    """``total`` spread by residential floor area where the file maps residential buildings
    inside the origin cells, else by residential land area; returns the population and its
    :data:`SOURCES` name (``estimate_buildings`` or ``estimate``)."""
    footprints, levels = residential_buildings(osm_path)
    if len(footprints):
        try:
            return (
                estimate_from_buildings(origins, footprints, levels, total, default_levels),
                "estimate_buildings",
            )
        except InputError:
            pass  # buildings outside the cells: fall back to the land
    return estimate_from_land(residential_area(origins, residential), total), "estimate"
