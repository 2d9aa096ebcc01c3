"""One study = a walk network plus facilities, prepared from an OSM file.

This is the single entry every command uses to turn its inputs into the
engine's inputs, so caching and validation live in one place.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from . import settings
from .catalogue import Catalogue, load_catalogue
from .demo import is_synthetic_osm
from .facilities import facilities_from_csv, facilities_from_osm
from .network import StreetNetwork, build_network
from .osm import clip_polygon, read_osm

__all__ = ["Study", "clip_buffer_m", "open_study"]


@dataclass
class Study:
    """Everything the engine needs for one area."""

    network: StreetNetwork
    facilities: gpd.GeoDataFrame  # EPSG:4326, one row per (facility, category)
    catalogue: Catalogue
    meta: dict[str, Any] = field(default_factory=dict)


def clip_buffer_m(
    catalogue: Catalogue,
    categories: list[Any] | None = None,
    speed_mps: float = settings.WALK_SPEED_MPS,
    limit: float | None = None,
    max_snap: float = settings.MAX_SNAP_M,
) -> float:
    """How far around a boundary to read so the clip is invisible to origins inside it.

    The largest search limit of the categories evaluated
    (:func:`gcgeo.coverage.search_limit`: :data:`gcgeo.settings.SEARCH_FACTOR` times the
    threshold, at least a 15-minute walk, or ``limit``) plus twice ``max_snap`` (an origin
    and a facility may each lie that far from their street).

    Parameters
    ----------
    catalogue : Catalogue
    categories : list of Category, optional
        Default: every category of ``catalogue``.
    speed_mps, limit, max_snap : float
        As for :func:`gcgeo.coverage.compute_coverage`.

    Returns
    -------
    float
        Metres.
    """
    from .coverage import search_limit

    cats = list(catalogue) if categories is None else list(categories)
    reach = max(
        (search_limit(c.max_distance_m, speed_mps, limit) for c in cats),
        default=search_limit(0.0, speed_mps, limit),
    )
    return float(reach + 2 * max_snap)


def open_study(
    osm_path: str | os.PathLike,
    catalogue: Catalogue | str | os.PathLike | None = None,
    facilities_csv: str | os.PathLike | None = None,
    csv_crs: str = "wgs84",
    osm_facilities: bool = True,
    include_private: bool = True,
    crs: str | None = None,
    clip: BaseGeometry | tuple[float, float, float, float] | None = None,
    cache: str | os.PathLike | bool | None = None,
    include_trunk: bool = True,
    clip_buffer: float = 0.0,
    csv_lon_col: str | None = None,
    csv_lat_col: str | None = None,
) -> Study:
    """Read an OSM file into a walk network and categorised facilities.

    Parameters
    ----------
    osm_path : path-like
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``.
    catalogue : Catalogue or path, optional
        Default: the shipped catalogue.
    facilities_csv : path-like, optional
        A planner's CSV (``name, category, lon, lat``) added to the OSM facilities.
    csv_crs : {"wgs84", "gcj02", "bd09"} or an EPSG code
        Coordinates of that table (Amap POIs are gcj02).
    csv_lon_col, csv_lat_col : str, optional
        Its coordinate columns when they are not a usual name (see
        :func:`gcgeo.tables.read_table`).
    osm_facilities : bool
        Take facilities from the OSM file too.
    include_private, crs, clip
        See :func:`gcgeo.network.build_network` and :func:`gcgeo.osm.read_osm`.
    cache : path-like or bool, optional
        Network cache folder (``True``: :func:`gcgeo.cache.default_cache_dir`;
        ``None``/``False``: no cache). The built network and the OSM file's
        facilities are stored keyed by the file's content hash and the settings;
        ``meta["cache"]["hit"]`` tells whether this call was served from it. A
        corrupt entry is rebuilt with a :class:`gcgeo.cache.CacheWarning`.
    clip_buffer : float
        Metres added around ``clip`` before reading (see :func:`clip_buffer_m` and
        :func:`gcgeo.osm.clip_polygon`); ways crossing the buffered edge are kept whole.
        ``meta["osm"]["clip"]`` reports the polygon's bounds, the buffer and the nodes and
        ways kept vs read.
    include_trunk : bool
        Keep at-grade trunk roads (Chinese urban arterials) without mapped sidewalks; see
        :func:`gcgeo.network.build_network`.

    Returns
    -------
    Study
    """
    from . import cache as _cache
    from .osm import check_path

    t0 = time.perf_counter()
    cat = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
    extra = (
        facilities_from_csv(facilities_csv, cat, csv_crs, lon_col=csv_lon_col, lat_col=csv_lat_col)
        if facilities_csv
        else None
    )
    root = _cache.resolve_cache_dir(cache)
    area = None if clip is None else clip_polygon(clip, clip_buffer)
    entry = None
    entry_settings = None
    if root is not None:
        check_path(osm_path)
        entry_settings = _cache.study_settings(
            cat,
            include_private,
            crs,
            area,
            include_trunk,
            clip_buffer if area is not None else None,
        )
        entry = _cache.load_study_entry(root, osm_path, entry_settings)
    timings: dict[str, float] = {}
    t_stage = time.perf_counter()
    if entry is not None:
        net, osm_fac, osm_summary = entry.network, entry.facilities, entry.osm_summary
        osm_summary["file"] = str(osm_path)
        net.report["source_file"] = str(osm_path)
        timings["cache_load"] = time.perf_counter() - t0
    else:
        osm = read_osm(osm_path, clip=area, whole_ways=True)
        timings["read"] = time.perf_counter() - t_stage
        t_stage = time.perf_counter()
        net = build_network(
            osm, crs=crs, include_private=include_private, include_trunk=include_trunk
        )
        timings["network"] = time.perf_counter() - t_stage
        t_stage = time.perf_counter()
        osm_fac = facilities_from_osm(osm, cat)
        timings["facilities"] = time.perf_counter() - t_stage
        osm_summary = osm.summary()
        if osm_summary.get("clip") is not None:
            osm_summary["clip"]["buffer_m"] = float(clip_buffer)
        if root is not None and entry_settings is not None:
            _cache.store_study_entry(root, osm_path, entry_settings, net, osm_fac, osm_summary)
    parts = []
    if osm_facilities:
        parts.append(osm_fac)
    if extra is not None:
        parts.append(extra)
    fac = (
        gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=settings.WGS84)
        if parts
        else gpd.GeoDataFrame(
            {"facility_id": [], "name": [], "category": [], "source": []},
            geometry=[],
            crs=settings.WGS84,
        )
    )
    meta = {
        "synthetic": is_synthetic_osm(osm_path),
        "osm": osm_summary,
        "network": net.report,
        "catalogue": cat.source,
        "cache": {
            "enabled": root is not None,
            "hit": entry is not None,
            "key": entry.manifest["key"] if entry is not None else None,
            "dir": str(root) if root is not None else None,
            "seconds": round(time.perf_counter() - t0, 3),
        },
        #: wall time of each stage (s): read, network, facilities (or cache_load on a hit)
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
    return Study(net, fac, cat, meta)
