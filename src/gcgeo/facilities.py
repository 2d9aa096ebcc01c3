"""Facilities by category, from an OSM file and/or a planner's CSV.

Output frames have one row per (facility, category): a school that serves
both primary and middle grades (九年一贯制) appears under both.
Columns: ``facility_id``, ``name``, ``category``, ``source`` and a Point.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import InputError
from .catalogue import Catalogue
from .osm import OSMData

__all__ = [
    "FACILITY_COLUMNS",
    "facilities_from_csv",
    "facilities_from_osm",
    "read_points_csv",
    "read_table",
]

FACILITY_COLUMNS = ["facility_id", "name", "category", "source", "geometry"]
_ENCODINGS = ("utf-8-sig", "gb18030")


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
    """Read a planner's CSV as UTF-8 (with or without BOM), else GBK/GB18030.

    ``id`` and ``name`` columns are read as text.

    Parameters
    ----------
    path : path-like
        The CSV file.
    what : str
        What the file holds (``"Facilities"``, ``"Points"``, ...), for messages.

    Returns
    -------
    DataFrame

    Raises
    ------
    InputError
        Missing file, unparsable CSV, or neither UTF-8 nor GBK/GB18030.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} CSV {str(p)!r} does not exist; check the path.")
    last: Exception | None = None
    for enc in _ENCODINGS:
        try:
            return pd.read_csv(p, encoding=enc, dtype={"id": str, "name": str})
        except UnicodeDecodeError as exc:
            last = exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(
                f"{what} CSV {str(p)!r} could not be parsed ({exc}); save it as comma-separated "
                "UTF-8 text with a header row."
            ) from exc
    raise InputError(
        f"{what} CSV {str(p)!r} is neither UTF-8 nor GBK/GB18030 ({last}); re-save it as UTF-8."
    )


#: Old private name, still imported by :mod:`gcgeo.cli.suggest`.
_read_csv = read_table


def _lonlat(df: pd.DataFrame, path: str, crs: str) -> tuple[np.ndarray, np.ndarray]:
    from .crs import to_wgs84

    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing:
        raise InputError(
            f"CSV {path!r} lacks column(s) {', '.join(missing)}; it needs lon and lat "
            f"(found: {', '.join(map(str, df.columns))})."
        )
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise InputError(f"CSV {path!r} line {row}: lon/lat is not a number; fix that row.")
    out_of_range = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if out_of_range.any():
        row = int(np.flatnonzero(out_of_range)[0]) + 2
        raise InputError(
            f"CSV {path!r} line {row}: lon/lat out of range (lat must be within ±90); "
            "are the lon and lat columns swapped?"
        )
    lon, lat = to_wgs84(lon, lat, crs)
    return np.asarray(lon, float), np.asarray(lat, float)


def read_points_csv(path: str | os.PathLike, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Read a points CSV with columns ``id, lon, lat`` into EPSG:4326.

    Parameters
    ----------
    path : path-like
        UTF-8 or GBK/GB18030 CSV.
    crs : {"wgs84", "gcj02", "bd09"}
        The CRS the coordinates are in (Amap → gcj02, Baidu → bd09).
    """
    df = read_table(path, "Points")
    if "id" not in df.columns:
        raise InputError(
            f"Points CSV {str(path)!r} has no 'id' column; it needs id, lon, lat "
            f"(found: {', '.join(map(str, df.columns))})."
        )
    lon, lat = _lonlat(df, str(path), crs)
    return gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]).assign(id=df["id"].astype(str)),
        geometry=shapely.points(lon, lat),
        crs=settings.WGS84,
    )


def facilities_from_csv(
    path: str | os.PathLike, catalogue: Catalogue, crs: str = "wgs84"
) -> gpd.GeoDataFrame:
    """Read a planner's facility CSV (``name, category, lon, lat``; optional ``id``).

    Raises
    ------
    InputError
        Missing columns, non-numeric or out-of-range coordinates, unknown category.
    """
    df = read_table(path, "Facilities")
    for col in ("name", "category"):
        if col not in df.columns:
            raise InputError(
                f"Facilities CSV {str(path)!r} has no {col!r} column; it needs name, category, "
                "lon, lat."
            )
    cats = df["category"].astype(str).str.strip()
    unknown = sorted(set(cats) - set(catalogue.ids))
    if unknown:
        raise InputError(
            f"Facilities CSV {str(path)!r}: unknown category {unknown[0]!r}; use one of "
            f"{', '.join(catalogue.ids)}."
        )
    lon, lat = _lonlat(df, str(path), crs)
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
    return gpd.GeoDataFrame(out, geometry=shapely.points(lon, lat), crs=settings.WGS84)
