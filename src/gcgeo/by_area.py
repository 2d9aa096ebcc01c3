"""Which zone, wing and renewal area each point lies in, and coverage per area.

The district's area layers (:data:`gcgeo.layers.AREA_LAYERS`: zones, wings, renewal
areas) break every coverage result down; :func:`assign_areas` labels points with them and
:func:`coverage_by_area` turns reached-flags into one row of shares per area. Both use
the one point-in-area rule, :func:`gcgeo.coverage.point_in_area`, which the scenario
delta tables use too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ._errors import InputError
from .columns import COMPLETENESS, POPULATION, reached_col
from .coverage import point_in_area
from .layers import AREA_LAYERS, load_layer
from .weights import origin_weights, weighted_mean

__all__ = ["AREA_COLUMNS", "assign_areas", "coverage_by_area"]

#: The column :func:`assign_areas` writes for each area layer.
AREA_COLUMNS = dict(zip(AREA_LAYERS, ("zone", "wing", "renewal_area"), strict=True))


def assign_areas(
    points_gdf: gpd.GeoDataFrame, layers_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Which zone, wing and renewal area each point lies in.

    Membership follows the one rule of :func:`gcgeo.coverage.point_in_area`: inside or on
    the boundary, tested in EPSG:4548, a point on a shared border (or in overlapping
    areas) going to the first area in the layer's order.

    Parameters
    ----------
    points_gdf : geopandas.GeoDataFrame
        Points (any CRS, e.g. EPSG:4548 origins); other geometries use an interior point.
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points_gdf`` with columns ``zone``, ``wing``, ``renewal_area``
        (:data:`AREA_COLUMNS`) holding the area's ``code`` (NaN when the point is in none).

    Raises
    ------
    InputError
        ``points_gdf`` is not a GeoDataFrame or has no CRS.
    """
    if not isinstance(points_gdf, gpd.GeoDataFrame):
        raise InputError("assign_areas needs a GeoDataFrame of points; build one with geopandas.")
    out = pd.DataFrame(index=points_gdf.index)
    for layer, col in AREA_COLUMNS.items():
        areas = load_layer(layer, layers_dir)
        codes = areas["code"].astype(str).to_numpy(object)
        pos = point_in_area(points_gdf, areas)
        value = np.full(len(pos), np.nan, dtype=object)
        value[pos >= 0] = codes[pos[pos >= 0]]
        out[col] = value
    return out


def coverage_by_area(
    origins_gdf: gpd.GeoDataFrame,
    categories: Iterable[Any],
    layers_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Coverage shares per zone, wing and renewal area.

    Parameters
    ----------
    origins_gdf : geopandas.GeoDataFrame
        Origins with a boolean ``reach_<category>`` column per category
        (:func:`gcgeo.columns.reached_col`), optionally ``population`` (weights the
        shares) and ``lc_completeness``.
    categories : iterable of str or objects with an ``id``
        The categories to report.
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.

    Returns
    -------
    pandas.DataFrame
        One row per area (layer order zones, wings, renewal areas): ``area_layer``,
        ``code``, ``name_zh``, ``name_en``, ``origins``, ``population`` (when given),
        ``weighted_by`` and ``basis`` (``population`` or ``origins``, :mod:`gcgeo.weights`),
        per category ``covered_<category>`` (origins), ``covered_population_<category>``
        (when population is given) and ``share_<category>`` (covered share, NaN for an
        area with no origins), and ``mean_completeness`` (weighted like the shares).
    """
    cats = [c if isinstance(c, str) else c.id for c in categories]
    if not cats:
        raise InputError("No categories given; pass at least one category id.")
    missing = [reached_col(c) for c in cats if reached_col(c) not in origins_gdf.columns]
    if missing:
        raise InputError(
            f"The origins lack column(s) {', '.join(missing)}; compute coverage for those "
            "categories first (gcgeo.coverage.compute_coverage)."
        )
    w, weighted_by = origin_weights(origins_gdf)
    reached = {c: origins_gdf[reached_col(c)].fillna(False).to_numpy(bool) for c in cats}
    comp = (
        pd.to_numeric(origins_gdf[COMPLETENESS], errors="coerce").to_numpy(float)
        if COMPLETENESS in origins_gdf.columns
        else np.full(len(origins_gdf), np.nan)
    )
    where = assign_areas(origins_gdf, layers_dir)
    rows = []
    for layer, col in AREA_COLUMNS.items():
        areas = load_layer(layer, layers_dir)
        member = where[col].to_numpy(object)
        for _, a in areas.iterrows():
            m = member == str(a["code"])
            tot = float(w[m].sum())
            row: dict[str, Any] = {
                "area_layer": layer,
                "code": a["code"],
                "name_zh": a["name_zh"],
                "name_en": a["name_en"],
                "origins": int(m.sum()),
            }
            if weighted_by == POPULATION:
                row[POPULATION] = tot
            row["weighted_by"] = weighted_by
            row["basis"] = weighted_by
            for c in cats:
                row[f"covered_{c}"] = int((m & reached[c]).sum())
                if weighted_by == POPULATION:
                    row[f"covered_population_{c}"] = float(w[m & reached[c]].sum())
                row[f"share_{c}"] = float(w[m & reached[c]].sum()) / tot if tot > 0 else np.nan
            row["mean_completeness"] = weighted_mean(comp[m], w[m])
            rows.append(row)
    return pd.DataFrame(rows)
