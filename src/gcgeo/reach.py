"""Walking distance from each of a table of points to the nearest facility of one category
(what ``gcgeo reach`` writes): one row per point, with the facility, both access legs and a
note saying why a point reaches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._validate import check_points_near_network
from .coverage import search_limit
from .engine import node_distances, point_distances
from .snap import snap_points

__all__ = ["ReachResult", "reach_points"]


@dataclass
class ReachResult:
    """The table (one row per point) and a summary of it."""

    table: pd.DataFrame
    summary: dict[str, Any]


def reach_points(
    study: Any,
    points: Any,
    category: Any,
    max_snap: float,
    speed_mps: float,
    max_distance: float | None = None,
    points_name: str = "the points",
) -> ReachResult:
    """Distances from ``points`` to the nearest facility of ``category`` over ``study``.

    Parameters
    ----------
    study : gcgeo.study.Study
    points : GeoDataFrame
        Points with an ``id`` column (any CRS).
    category : gcgeo.catalogue.Category
    max_snap : float
        Farthest a point or facility may lie from its street, metres.
    speed_mps : float
        Walking speed for ``walk_min``.
    max_distance : float, optional
        Search limit in metres (default: :func:`gcgeo.coverage.search_limit`).
    points_name : str
        How messages name the points (e.g. the CSV's path).

    Returns
    -------
    ReachResult
        ``table`` columns: id, category, distance_m, walk_min, facility_id, facility_name,
        snap_origin_m, snap_facility_m, reachable, threshold_m, within_threshold, note.
    """
    net = study.network
    check_points_near_network(points, net, points_name, max_snap)
    fac = study.facilities[study.facilities["category"] == category.id].reset_index(drop=True)
    fxy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
    fsnap = snap_points(net, fxy, max_snap)
    pxy = shapely.get_coordinates(points.to_crs(net.crs).geometry.values).reshape(-1, 2)
    psnap = snap_points(net, pxy, max_snap)
    limit = search_limit(category.max_distance_m, speed_mps, max_distance)
    nd = node_distances(net, fsnap, limit=limit)
    res = point_distances(net, nd, psnap, fsnap)
    found = res.source >= 0
    src = np.maximum(res.source, 0)
    note = np.where(
        ~psnap.ok,
        f"point farther than {max_snap:g} m from any street",
        np.where(
            found,
            "",
            "no facility of this category in the data"
            if len(fac) == 0
            else f"no facility within the {limit:g} m search limit (--max-distance)",
        ),
    )
    out = pd.DataFrame(
        {
            "id": points["id"].to_numpy(),
            "category": category.id,
            "distance_m": np.where(found, res.distance, np.nan),
            "walk_min": np.where(found, res.distance / speed_mps / 60, np.nan),
            "facility_id": np.where(
                found, fac["facility_id"].to_numpy(object)[src] if len(fac) else None, None
            ),
            "facility_name": np.where(
                found, fac["name"].to_numpy(object)[src] if len(fac) else None, None
            ),
            "snap_origin_m": np.where(psnap.ok, psnap.leg, np.nan),
            "snap_facility_m": res.source_leg,
            "reachable": found,
            "threshold_m": category.max_distance_m,
            "within_threshold": found & (res.distance <= category.max_distance_m),
            "note": note,
        }
    )
    n_far = int((~psnap.ok).sum())
    summary = {
        "category": category.id,
        "points": len(out),
        "reachable": int(found.sum()),
        "within_threshold": int(out["within_threshold"].sum()),
        "points_beyond_snap": n_far,
        "facilities": len(fac),
        "facilities_beyond_snap": int((~fsnap.ok).sum()),
        "network": {k: net.report[k] for k in ("nodes", "edges", "crs", "private_ways_kept")},
    }
    return ReachResult(out, summary)
