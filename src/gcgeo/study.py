"""One study = a walk network plus facilities, prepared from an OSM file.

This is the single entry every command uses to turn its inputs into the
engine's inputs, so caching and validation live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from .catalogue import Catalogue, load_catalogue
from .facilities import facilities_from_csv, facilities_from_osm
from .network import StreetNetwork, build_network
from .osm import read_osm

__all__ = ["Study", "open_study"]


@dataclass
class Study:
    """Everything the engine needs for one area."""

    network: StreetNetwork
    facilities: gpd.GeoDataFrame  # EPSG:4326, one row per (facility, category)
    catalogue: Catalogue
    meta: dict[str, Any] = field(default_factory=dict)


def open_study(
    osm_path: str | os.PathLike,
    catalogue: Catalogue | str | os.PathLike | None = None,
    facilities_csv: str | os.PathLike | None = None,
    csv_crs: str = "wgs84",
    osm_facilities: bool = True,
    include_private: bool = True,
    crs: str | None = None,
    clip: BaseGeometry | tuple[float, float, float, float] | None = None,
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
    csv_crs : {"wgs84", "gcj02", "bd09"}
        Coordinates of that CSV (Amap POIs are gcj02).
    osm_facilities : bool
        Take facilities from the OSM file too.
    include_private, crs, clip
        See :func:`gcgeo.network.build_network` and :func:`gcgeo.osm.read_osm`.
    """
    cat = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
    extra = facilities_from_csv(facilities_csv, cat, csv_crs) if facilities_csv else None
    osm = read_osm(osm_path, clip=clip)
    net = build_network(osm, crs=crs, include_private=include_private)
    parts = []
    if osm_facilities:
        parts.append(facilities_from_osm(osm, cat))
    if extra is not None:
        parts.append(extra)
    fac = (
        gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
        if parts
        else gpd.GeoDataFrame(
            {"facility_id": [], "name": [], "category": [], "source": []},
            geometry=[],
            crs="EPSG:4326",
        )
    )
    meta = {"osm": osm.summary(), "network": net.report, "catalogue": cat.source}
    return Study(net, fac, cat, meta)
