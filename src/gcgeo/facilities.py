"""Facilities by category, from an OSM file and/or a planner's table (CSV, XLSX, GeoJSON...).

Output frames have one row per (facility, category): a school that serves
both primary and middle grades (九年一贯制) appears under both.
Columns: ``facility_id``, ``name``, ``category``, ``source`` and a Point.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from . import settings
from ._errors import InputError
from .catalogue import Catalogue
from .osm import OSMData
from .tables import as_points, read_frame
from .tables import read_table as read_table_gdf

__all__ = [
    "facilities_in",
    "FACILITY_COLUMNS",
    "facilities_from_csv",
    "facilities_from_osm",
    "read_points_csv",
    "read_table",
]

FACILITY_COLUMNS = ["facility_id", "name", "category", "source", "geometry"]


def facilities_from_osm(osm: OSMData, catalogue: Catalogue) -> gpd.GeoDataFrame:
    """Classify the OSM file's candidate facilities with the catalogue rules.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, one row per (facility, category).
    """
    rows = []
    for otype, oid, lon, lat, tags in osm.pois:
        for cid in catalogue.classify(tags):
            name = tags.get("name") or tags.get("name:zh") or tags.get("name:en") or ""
            rows.append((f"{otype}{oid}", name, cid, "osm", lon, lat))
    df = pd.DataFrame(rows, columns=["facility_id", "name", "category", "source", "lon", "lat"])
    df = df.drop_duplicates(["facility_id", "category"])
    return gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]),
        geometry=shapely.points(df["lon"].to_numpy(float), df["lat"].to_numpy(float)),
        crs=settings.WGS84,
    ).reset_index(drop=True)


def read_table(path: str | os.PathLike, what: str) -> pd.DataFrame:
    """Read a planner's CSV (UTF-8 with or without BOM, GBK/GB18030; delimiter sniffed) or
    XLSX as a DataFrame (see :func:`gcgeo.tables.read_frame`).

    ``id`` and ``name`` columns are read as text.

    Parameters
    ----------
    path : path-like
        The CSV or XLSX file.
    what : str
        What the file holds (``"Facilities"``, ``"Points"``, ...), for messages.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        Missing file, unparsable CSV, undecodable bytes, or no rows.
    """
    return read_frame(path, what=what)


def read_points_csv(
    path: str | os.PathLike,
    crs: str = "wgs84",
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a points table with an ``id`` column and coordinates into EPSG:4326.

    Parameters
    ----------
    path : path-like
        CSV (UTF-8 or GBK/GB18030), XLSX or a vector file (see :func:`gcgeo.tables.read_table`;
        polygons become a point inside them).
    crs : str
        The CRS the coordinates are in: wgs84, gcj02 (Amap), bd09 (Baidu) or an EPSG code.
    lon_col, lat_col : str, optional
        The coordinate columns (default: found by their usual names).
    """
    points = as_points(
        read_table_gdf(path, what="Points", crs=crs, lon_col=lon_col, lat_col=lat_col)
    )
    if "id" not in points.columns:
        found = ", ".join(map(str, points.columns.drop(points.geometry.name)))
        raise InputError(
            f"Points file {str(path)!r} has no 'id' column (found: {found}); add an id column "
            "naming each point."
        )
    return points.assign(id=points["id"].astype(str))


def facilities_from_csv(
    path: str | os.PathLike,
    catalogue: Catalogue,
    crs: str = "wgs84",
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a planner's facility table (``name, category`` and coordinates; optional ``id``):
    CSV, XLSX or a vector file (see :func:`gcgeo.tables.read_table`).

    Raises
    ------
    InputError
        Missing columns, non-numeric or out-of-range coordinates, unknown category.
    """
    df = as_points(
        read_table_gdf(
            path,
            what="Facilities",
            crs=crs,
            lon_col=lon_col,
            lat_col=lat_col,
            col_options=("--facilities-lon-col", "--facilities-lat-col"),
        )
    )
    for col in ("name", "category"):
        if col not in df.columns:
            raise InputError(
                f"Facilities file {str(path)!r} has no {col!r} column; it needs name, "
                "category and coordinates (lon, lat)."
            )
    cats = df["category"].astype(str).str.strip()
    unknown = sorted(set(cats) - set(catalogue.ids))
    if unknown:
        raise InputError(
            f"Facilities file {str(path)!r}: unknown category {unknown[0]!r}; use one of "
            f"{', '.join(catalogue.ids)}."
        )
    ids = (
        df["id"].astype(str)
        if "id" in df.columns
        else pd.Series([f"csv{i + 1}" for i in range(len(df))])
    )
    out = pd.DataFrame(
        {
            "facility_id": ids.to_numpy(),
            "name": df["name"].fillna("").astype(str).to_numpy(),
            "category": cats.to_numpy(),
            "source": f"csv:{Path(path).name}",
        }
    )
    return gpd.GeoDataFrame(out, geometry=df.geometry.values, crs=settings.WGS84)


def facilities_in(facilities: gpd.GeoDataFrame, categories: Iterable[Any]) -> gpd.GeoDataFrame:
    """The rows of ``facilities`` whose ``category`` is the id of one of ``categories``."""
    ids = [getattr(c, "id", c) for c in categories]
    return facilities[facilities["category"].isin(ids)].reset_index(drop=True)
