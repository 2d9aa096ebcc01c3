"""Reached streets and walking isochrones from per-node walking distances.

Pure geometry on shapely/geopandas arrays, next to the routing engine: given the walking
distance from a start to every node (for example from :mod:`gcgeo.engine`), find the street
pieces within a distance budget (:func:`reached_streets`) and buffer them into isochrone
polygons (:func:`isochrone_polygons`). Nothing here draws; :func:`gcgeo.maps.isochrone_layer`
and :func:`gcgeo.maps.static_map` draw the polygons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops
from numpy.typing import ArrayLike, NDArray

from . import settings
from ._errors import InputError
from .crs import DEFAULT_CRS

if TYPE_CHECKING:
    from .terrain import EdgeCosts

__all__ = ["isochrone_polygons", "reached_streets"]


def check_frame(gdf: Any, what: str, columns: Iterable[str] = ()) -> None:
    """Refuse a frame that is no GeoDataFrame, has no CRS or lacks ``columns``.

    Shared with :mod:`gcgeo.maps`, which checks its layers' frames the same way.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame, got {type(gdf).__name__}; convert it first."
        )
    if gdf.crs is None:
        raise InputError(f"{what} has no CRS; set one with .set_crs() before mapping it.")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{what} lacks column(s) {', '.join(missing)}; compute them first or pass the right frame."
        )


def reached_streets(
    edges: gpd.GeoDataFrame,
    node_dist: ArrayLike,
    max_distance_m: float,
    costs: EdgeCosts | None = None,
) -> gpd.GeoDataFrame:
    """The street pieces within ``max_distance_m`` of a walk, given per-node distances.

    A segment is taken whole when it can be walked end to end within the distance (from
    either end, or partly from both ends with the parts meeting); otherwise the reachable
    piece from ``u`` is ``max(0, min(L, R - d_u))`` metres long, likewise from ``v``.

    Parameters
    ----------
    edges : GeoDataFrame
        Street segments with ``u``, ``v`` (node indices), ``length`` (m) and LineStrings
        running from node ``u`` to node ``v``.
    node_dist : array_like
        Walking distance (m) to every node; inf or NaN where unreached.
    max_distance_m : float
        Walking distance budget ``R`` in metres.
    costs : EdgeCosts, optional
        Slopes (:attr:`gcgeo.network.StreetNetwork.costs` of the network ``edges`` is):
        ``node_dist`` are then walks *to* the start, ``R`` is in flat-equivalent metres,
        and a piece is reached when its own walk to ``u`` (or ``v``) fits in what is left.

    Returns
    -------
    GeoDataFrame
        One row per reached piece: ``edge`` (index label of the segment), ``reached_m``
        (piece length in metres), ``geometry``; in the CRS of ``edges``.
    """
    check_frame(edges, "The streets frame", ["u", "v", "length"])
    d = np.asarray(node_dist, dtype=float)
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    if d.ndim != 1 or (len(u) and max(u.max(), v.max()) >= len(d)):
        raise InputError(
            f"node_dist has {d.size} entries but the streets refer to node "
            f"{max(u.max(), v.max()) if len(u) else 0}; pass distances computed on the same network."
        )
    d = np.where(np.isnan(d), np.inf, d)
    length = edges["length"].to_numpy(dtype=float)
    r = float(max_distance_m)
    if costs is not None:
        if len(costs.fwd) != len(edges):
            raise InputError("costs belong to another network than the streets frame.")
        with np.errstate(invalid="ignore"):
            a, b = costs.reach_from_ends(np.arange(len(edges)), r - d[u], r - d[v])
    else:
        with np.errstate(invalid="ignore"):
            a = np.clip(r - d[u], 0.0, length)  # reached from u
            b = np.clip(r - d[v], 0.0, length)  # reached from v
    a = np.nan_to_num(a, nan=0.0)
    b = np.nan_to_num(b, nan=0.0)
    touched = (d[u] <= r) | (d[v] <= r)
    full = touched & (a + b >= length)
    part_u = ~full & (a > 0)
    part_v = ~full & (b > 0)

    geoms = edges.geometry.values
    n_coords = shapely.get_num_coordinates(geoms)
    labels = edges.index.to_numpy()
    out_geom: list[NDArray[Any]] = [np.asarray(geoms[full], dtype=object)]
    out_edge: list[NDArray[Any]] = [labels[full]]
    out_len: list[NDArray[np.float64]] = [length[full]]
    for mask, reach, from_u in ((part_u, a, True), (part_v, b, False)):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        frac = reach[idx] / length[idx]
        pieces = np.empty(len(idx), dtype=object)
        simple = n_coords[idx] == 2
        if simple.any():  # straight 2-point segments: interpolate on the arrays directly
            c = shapely.get_coordinates(geoms[idx[simple]]).reshape(-1, 2, 2)
            p0, p1 = c[:, 0, :], c[:, 1, :]
            t = frac[simple][:, None]
            seg = (
                np.stack([p0, p0 + (p1 - p0) * t], axis=1)
                if from_u
                else np.stack([p1 - (p1 - p0) * t, p1], axis=1)
            )
            pieces[simple] = shapely.linestrings(seg)
        for j in np.flatnonzero(~simple):  # bent geometries: shapely's substring
            g, f = geoms[idx[j]], float(frac[j])
            pieces[j] = (
                shapely.ops.substring(g, 0.0, f, normalized=True)
                if from_u
                else shapely.ops.substring(g, 1.0 - f, 1.0, normalized=True)
            )
        out_geom.append(pieces)
        out_edge.append(labels[idx])
        out_len.append(reach[idx])
    return gpd.GeoDataFrame(
        {"edge": np.concatenate(out_edge), "reached_m": np.concatenate(out_len)},
        geometry=np.concatenate(out_geom),
        crs=edges.crs,
    )


def isochrone_polygons(
    edges: gpd.GeoDataFrame,
    node_dist: ArrayLike,
    minutes: Sequence[float] = (5, 10, 15),
    speed_mps: float = settings.WALK_SPEED_MPS,
    buffer_m: float = 50.0,
    quad_segs: int = 8,
    costs: EdgeCosts | None = None,
) -> gpd.GeoDataFrame:
    """Walking isochrones as buffered reached streets (not convex hulls).

    For each time band the reached street pieces (see :func:`reached_streets`) are buffered
    one by one and unioned, which is much faster than buffering one multi-line.

    Parameters
    ----------
    edges : GeoDataFrame
        Street segments in a projected (metric) CRS with ``u``, ``v``, ``length``.
    node_dist : array_like
        Walking distance (m) from the start to every node; inf where unreached.
    minutes : sequence of float
        Time budgets in minutes.
    speed_mps : float
        Walking speed in metres per second.
    buffer_m : float
        Distance in metres around reached streets counted as reachable.
    quad_segs : int
        Segments per quarter circle of the buffers' round ends.
    costs : EdgeCosts, optional
        Slopes: see :func:`reached_streets` (bands are then walks *to* the start).

    Returns
    -------
    GeoDataFrame
        Columns ``minutes``, ``reached_m`` (street length reached) and polygon ``geometry``,
        one row per band in ascending order, in the CRS of ``edges``.
    """
    check_frame(edges, "The streets frame", ["u", "v", "length"])
    if not edges.crs.is_projected:
        raise InputError(
            f"The streets frame is in {edges.crs.to_string()} (degrees); project it to metres "
            f"(e.g. .to_crs('{DEFAULT_CRS}')) before making isochrones."
        )
    mins = sorted(float(t) for t in minutes)
    if not mins or mins[0] <= 0 or speed_mps <= 0 or buffer_m <= 0:
        raise InputError(
            "Isochrone minutes, speed and buffer must be positive; pass e.g. --minutes 5,10,15."
        )
    rows_geom, rows_len = [], []
    for t in mins:
        pieces = reached_streets(edges, node_dist, t * 60.0 * speed_mps, costs)
        if len(pieces):
            bufs = shapely.buffer(pieces.geometry.values, buffer_m, quad_segs=quad_segs)
            rows_geom.append(shapely.union_all(bufs))
        else:
            rows_geom.append(shapely.Polygon())
        rows_len.append(float(pieces["reached_m"].sum()))
    return gpd.GeoDataFrame(
        {"minutes": mins, "reached_m": rows_len}, geometry=rows_geom, crs=edges.crs
    )
