"""Dead ends (断头路): degree-1 nodes of the walk network, and the barriers links may not cross.

1. :func:`find_dead_ends` — degree-1 nodes of the walk network, leaving out
   those near the extract's edge (a street cut by the clip is not a dead end).
2. :func:`read_barriers` — motorways, railways and waterways a new link may
   not cross.

Proposing and ranking the short links that would connect dead ends lives in
:mod:`gcgeo.links` (:func:`propose_links`, :func:`prepare_base`,
:func:`rank_links`, :func:`full_link_gain`); those names are re-exported here.
"""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import OSMFileError
from .links import (
    DEFAULT_DETOUR_RATIO,
    DEFAULT_MAX_LINK_M,
    LinkBase,
    full_link_gain,
    prepare_base,
    propose_links,
    rank_links,
)
from .network import StreetNetwork, area_in_crs

__all__ = [
    "BARRIER_TAGS",
    "DEFAULT_DETOUR_RATIO",
    "DEFAULT_EDGE_MARGIN_M",
    "DEFAULT_MAX_LINK_M",
    "LinkBase",
    "find_dead_ends",
    "full_link_gain",
    "prepare_base",
    "propose_links",
    "rank_links",
    "read_barriers",
]

#: Degree-1 nodes this close to the extract's edge are cut streets, not dead ends.
DEFAULT_EDGE_MARGIN_M = 50.0
#: Line features a new footpath may not cross (unless on a bridge or in a tunnel).
BARRIER_TAGS: dict[str, frozenset[str]] = {
    "highway": frozenset({"motorway", "motorway_link"}),
    "railway": frozenset({"rail", "light_rail", "narrow_gauge", "subway", "monorail"}),
    "waterway": frozenset({"river", "canal", "stream", "drain"}),
}


def read_barriers(path: str | os.PathLike, clip: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Motorways, railways and waterways of an OSM file, as WGS-84 lines.

    Ways on a bridge or in a tunnel are left out (people cross under or over).

    Parameters
    ----------
    path : path-like
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``.
    clip : shapely geometry, optional
        WGS-84 area; only lines touching it are kept.

    Returns
    -------
    GeoDataFrame
        ``kind`` (highway/railway/waterway), ``value``, ``osm_id``; EPSG:4326.
    """
    import osmium

    from .osm import check_path

    p = check_path(path)
    rows: list[tuple[str, str, int]] = []
    geoms: list[BaseGeometry] = []
    wanted = [(k, v) for k, vals in BARRIER_TAGS.items() for v in sorted(vals)]
    fp = (  # libosmium keeps only barrier ways (with locations): Python sees no other object
        osmium.FileProcessor(str(p), osmium.osm.WAY | osmium.osm.NODE)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.TagFilter(*wanted))
    )
    try:
        for obj in fp:
            tags = obj.tags
            hit = next(
                ((k, tags.get(k)) for k, vals in BARRIER_TAGS.items() if tags.get(k) in vals),
                None,
            )
            if hit is None or tags.get("bridge", "no") != "no" or tags.get("tunnel", "no") != "no":
                continue
            try:
                coords = [(n.lon, n.lat) for n in obj.nodes]
            except osmium.InvalidLocationError:
                coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if len(coords) < 2:
                continue
            rows.append((hit[0], str(hit[1]), obj.id))
            geoms.append(shapely.linestrings(coords))
    except RuntimeError as exc:
        raise OSMFileError(
            f"Could not read OSM file {str(p)!r} ({exc}); the file is truncated or not OSM data."
        ) from exc
    gdf = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["kind", "value", "osm_id"]), geometry=geoms, crs=settings.WGS84
    )
    if clip is not None and len(gdf):
        gdf = gdf[gdf.intersects(clip)].reset_index(drop=True)
    return gdf


def _edge_area(net: StreetNetwork, boundary: Any) -> BaseGeometry:
    if boundary is None:
        return shapely.convex_hull(shapely.multipoints(net.xy))
    return area_in_crs(boundary, net.crs, "boundary")


def find_dead_ends(
    net: StreetNetwork,
    edge_margin: float | None = DEFAULT_EDGE_MARGIN_M,
    boundary: Any = None,
) -> gpd.GeoDataFrame:
    """Degree-1 nodes of the walk network that are real dead ends.

    Parameters
    ----------
    net : StreetNetwork
    edge_margin : float or None
        Leave out degree-1 nodes within this distance (m) of the extract's
        edge: the ``boundary`` outline if given, else the convex hull of the
        network's nodes. ``None`` or ``0`` keeps every degree-1 node.
    boundary : GeoDataFrame, GeoSeries or WGS-84 geometry, optional
        The polygon the data was clipped to (e.g. the district boundary).

    Returns
    -------
    GeoDataFrame
        ``node`` (network index), ``osmid``, ``x``, ``y``, ``lon``, ``lat``,
        ``edge_dist_m`` (distance to the extract's edge); projected points.
        ``attrs["excluded_at_edge"]`` counts the degree-1 nodes left out.
    """
    degree = np.diff(net.graph.indptr)
    idx = np.flatnonzero(degree == 1)
    area = _edge_area(net, boundary)
    edge_dist = shapely.distance(shapely.boundary(area), shapely.points(net.xy[idx]))
    keep = np.ones(len(idx), dtype=bool)
    if edge_margin:
        keep = edge_dist > edge_margin
    n = net.nodes.iloc[idx[keep]]
    out = gpd.GeoDataFrame(
        {
            "node": idx[keep],
            "osmid": n["osmid"].to_numpy(),
            "x": n["x"].to_numpy(),
            "y": n["y"].to_numpy(),
            "lon": n["lon"].to_numpy(),
            "lat": n["lat"].to_numpy(),
            "edge_dist_m": np.round(edge_dist[keep], 2),
        },
        geometry=shapely.points(net.xy[idx[keep]]),
        crs=net.crs,
    )
    out.attrs["excluded_at_edge"] = int((~keep).sum())
    out.attrs["edge_margin_m"] = edge_margin or 0.0
    return out
