"""Boundary checks shared by several inputs (osmnx ``_validate.py`` style): each raises one
:class:`~gcgeo._errors.InputError` sentence naming the input and the fix, or warns with a
:class:`~gcgeo._errors.GcgeoWarning`."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from . import settings
from ._errors import GcgeoWarning, InputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["check_points_near_network"]


def check_points_near_network(
    points: gpd.GeoDataFrame, net: Any, path: str, max_snap: float
) -> None:
    """Fail clearly when no point lies near the network (e.g. lon/lat swapped); warn when
    most do not (they are reported, row by row, as beyond the snap distance)."""
    import shapely

    xy = shapely.get_coordinates(points.to_crs(net.crs).geometry.values)
    minx, miny, maxx, maxy = net.bounds
    pad = max_snap
    inside = (
        (xy[:, 0] >= minx - pad)
        & (xy[:, 0] <= maxx + pad)
        & (xy[:, 1] >= miny - pad)
        & (xy[:, 1] <= maxy + pad)
    )
    if len(xy) and inside.any() and inside.mean() < 0.5:
        warnings.warn(
            f"{int((~inside).sum())} of {len(xy)} points in {path!r} lie outside the street "
            "network's extent; their rows say so (note column).",
            GcgeoWarning,
            stacklevel=2,
        )
    if len(xy) and not inside.any():
        lon_lat = points.geometry.iloc[0]
        nodes = net.nodes
        hint = ""
        import geopandas as gpd
        import shapely

        swapped = gpd.GeoSeries(
            shapely.points(points.geometry.y.to_numpy(), points.geometry.x.to_numpy()),
            crs=settings.WGS84,
        )
        if np.abs(points.geometry.y.to_numpy()).max() <= 180:
            sxy = shapely.get_coordinates(swapped.to_crs(net.crs).values)
            if ((sxy[:, 0] >= minx - pad) & (sxy[:, 0] <= maxx + pad)).mean() >= 0.5 and (
                (sxy[:, 1] >= miny - pad) & (sxy[:, 1] <= maxy + pad)
            ).mean() >= 0.5:
                hint = " they fit if lon and lat are swapped: swap the two columns"
        raise InputError(
            f"No point in {path!r} lies near the street network "
            f"(network lon {nodes['lon'].min():.4f}–{nodes['lon'].max():.4f}, lat "
            f"{nodes['lat'].min():.4f}–{nodes['lat'].max():.4f}; first point "
            f"{lon_lat.x:.4f}, {lon_lat.y:.4f});"
            + (hint or " check that the points lie inside the OSM extract, and --points-crs")
            + "."
        )
