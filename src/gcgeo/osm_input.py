"""What gcgeo accepts as OSM input: a readable OSM file path, and a clip area (a boundary
polygon, a geometry or a box) buffered in a metric CRS before the extract is cut."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._errors import OSMFileError

__all__ = ["OSM_SUFFIXES", "check_path", "clip_geometry", "clip_polygon"]

#: File endings read as OSM (XML, compressed XML, PBF).
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf", ".xml")


def check_path(path: str | os.PathLike) -> Path:
    """Check that ``path`` names a non-empty OSM extract file (without reading it).

    Parameters
    ----------
    path : path-like
        An ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf`` file (see
        :data:`OSM_SUFFIXES`).

    Returns
    -------
    Path

    Raises
    ------
    OSMFileError
        The path does not exist, is a folder, has another ending or is empty;
        the message names the fix.
    """
    p = Path(path)
    if not p.exists():
        raise OSMFileError(
            f"OSM file {str(p)!r} does not exist; check the path given to --osm "
            "(an .osm, .osm.bz2, .osm.gz or .osm.pbf extract)."
        )
    if p.is_dir():
        raise OSMFileError(f"OSM path {str(p)!r} is a folder; pass the extract file itself.")
    name = p.name.lower()
    if not name.endswith(OSM_SUFFIXES):
        raise OSMFileError(
            f"File {str(p)!r} does not look like an OSM extract (expected .osm, .osm.bz2, "
            ".osm.gz or .osm.pbf); export one from openstreetmap.org or Geofabrik."
        )
    if p.stat().st_size == 0:
        raise OSMFileError(f"OSM file {str(p)!r} is empty; download or export it again.")
    return p


def clip_geometry(
    clip: BaseGeometry | tuple[float, float, float, float] | None,
) -> BaseGeometry | None:
    if clip is None:
        return None
    if isinstance(clip, BaseGeometry):
        geom = clip
    else:
        try:
            minx, miny, maxx, maxy = (float(v) for v in clip)
        except (TypeError, ValueError) as exc:
            raise OSMFileError(
                f"clip {clip!r} is neither a polygon nor a (min_lon, min_lat, max_lon, max_lat) box; "
                "pass a WGS-84 polygon or a bbox tuple."
            ) from exc
        if not (minx < maxx and miny < maxy):
            raise OSMFileError(
                f"clip box {clip!r} is empty; give it as (min_lon, min_lat, max_lon, max_lat)."
            )
        geom = shapely.box(minx, miny, maxx, maxy)
    if geom.is_empty:
        raise OSMFileError("clip polygon is empty; pass a non-empty WGS-84 polygon.")
    shapely.prepare(geom)
    return geom


def clip_polygon(
    boundary: Any,
    buffer_m: float,
) -> BaseGeometry:
    """The WGS-84 area to read for ``boundary``: the boundary grown by ``buffer_m``.

    The buffer is computed in a metric CRS (:func:`gcgeo.network.choose_crs`
    at the boundary's centre), so facilities and streets just outside still
    count for residents near the edge.

    Parameters
    ----------
    boundary : GeoDataFrame, GeoSeries, shapely geometry or (min_lon, min_lat, max_lon, max_lat)
        Frames in any CRS (unioned); a bare geometry or box is WGS-84.
    buffer_m : float
        Metres added all round (``0``: the boundary itself).

    Returns
    -------
    shapely geometry
        A WGS-84 polygon.

    Raises
    ------
    OSMFileError
        An empty boundary, a malformed box, or a negative or non-finite buffer.
    """
    import geopandas as gpd

    from . import settings
    from .network import choose_crs

    if not np.isfinite(buffer_m) or buffer_m < 0:
        raise OSMFileError(f"clip buffer {buffer_m!r} m is not a finite number >= 0.")
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise OSMFileError("The boundary has no CRS; save it with one (e.g. EPSG:4326).")
        geom = shapely.union_all(boundary.to_crs(settings.WGS84).geometry.values)
    else:
        geom = clip_geometry(boundary)
    if geom is None or geom.is_empty:
        raise OSMFileError("The boundary is empty; pass a non-empty polygon.")
    if buffer_m == 0:
        return geom
    c = geom.centroid
    crs = choose_crs(np.array([c.x]), np.array([c.y]))
    metric = gpd.GeoSeries([geom], crs=settings.WGS84).to_crs(crs).buffer(buffer_m)
    return metric.to_crs(settings.WGS84).iloc[0]
