"""Coordinate systems: the default metric CRS and WGS-84 ⇄ GCJ-02 ⇄ BD-09 on arrays and frames.

Chinese web maps publish coordinates in two obfuscated datums:

* **GCJ-02** ("Mars coordinates", 国测局坐标) used by Amap/高德, Tencent and Google China;
* **BD-09** (百度坐标) used by Baidu, an extra rotation/scale on top of GCJ-02.

Both differ from WGS-84 (GPS, OpenStreetMap) by several hundred metres in Shandong,
so every coordinate taken from a Chinese map must be converted before it is overlaid
on OSM streets. The forward GCJ-02 formula is the widely published one; its inverse has
no closed form and is solved here by fixed-point iteration to better than 1e-7 degrees.

All conversions are vectorised: they accept scalars or array-likes and return
``numpy`` arrays (plain floats for scalar input). Points outside
China (the usual rectangle 72.004–137.8347 °E, 0.8293–55.8271 °N) are returned unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from . import settings
from ._errors import InputError

__all__ = [
    "DEFAULT_CRS",
    "SUPPORTED_GEOGRAPHIC",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "clear_transformers",
    "convert_geometry_frame",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "project_geometries",
    "reproject",
    "to_wgs84",
    "transform_coords",
    "transformer",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Metric CRS for all distance work: CGCS2000 / 3-degree Gauss-Krüger CM 117°E.
#: EPSG lists northing first for it, so always build transformers with ``always_xy=True``.
DEFAULT_CRS = settings.DEFAULT_CRS

#: Geographic coordinate systems understood by :func:`to_wgs84`.
SUPPORTED_GEOGRAPHIC = ("wgs84", "gcj02", "bd09")

FloatArray = NDArray[np.float64]
#: ``(lon, lat)``: arrays for array input, floats for scalar input.
CoordPair = tuple[FloatArray | float, FloatArray | float]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's constant: pi * 3000 / 180.
_X_PI = np.pi * 3000.0 / 180.0

_GCJ_TOL_DEG = 1e-9
_GCJ_MAX_ITER = 50


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    try:
        lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    except ValueError as exc:
        raise InputError(
            f"lon (shape {lon_a.shape}) and lat (shape {lat_a.shape}) do not match; "
            "pass arrays of the same length."
        ) from exc
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def _ret(lon: FloatArray, lat: FloatArray) -> CoordPair:
    """Return plain floats for scalar (0-d) input, arrays otherwise."""
    if lon.ndim == 0:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Boolean mask of points outside the rectangle where the Chinese datums apply.

    Parameters
    ----------
    lon, lat : array-like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
        True where the point is outside China (or not a finite number).
    """
    lon_a, lat_a = _arrays(lon, lat)
    inside = (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)
    return ~inside


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS-84 position (lon, lat)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert WGS-84 longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat : array-like
        WGS-84 degrees (scalars or arrays of the same shape).

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside China unchanged.
    """
    lon_a, lat_a = _arrays(lon, lat)
    m = ~out_of_china(lon_a, lat_a)
    dlon, dlat = _gcj_delta(lon_a[m], lat_a[m])
    lon_a[m] += dlon
    lat_a[m] += dlat
    return _ret(lon_a, lat_a)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert GCJ-02 longitude/latitude to WGS-84 (iterative, exact to < 1e-7 degrees).

    Solves ``wgs + delta(wgs) = gcj`` by fixed-point iteration ``wgs <- gcj - delta(wgs)``,
    which converges because the GCJ-02 offset varies slowly with position (each step
    shrinks the error about a thousandfold). The one-step approximation
    ``gcj - delta(gcj)`` used by many libraries is off by up to a few metres.

    Parameters
    ----------
    lon, lat : array-like
        GCJ-02 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside China unchanged.
    """
    lon_a, lat_a = _arrays(lon, lat)
    m = ~out_of_china(lon_a, lat_a)
    g_lon, g_lat = lon_a[m], lat_a[m]
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_GCJ_MAX_ITER):
        dlon, dlat = _gcj_delta(w_lon, w_lat)
        n_lon, n_lat = g_lon - dlon, g_lat - dlat
        step = max(
            float(np.max(np.abs(n_lon - w_lon), initial=0.0)),
            float(np.max(np.abs(n_lat - w_lat), initial=0.0)),
        )
        w_lon, w_lat = n_lon, n_lat
        if step < _GCJ_TOL_DEG:
            break
    lon_a[m] = w_lon
    lat_a[m] = w_lat
    return _ret(lon_a, lat_a)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert GCJ-02 longitude/latitude to Baidu BD-09.

    Parameters
    ----------
    lon, lat : array-like
        GCJ-02 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside China unchanged.
    """
    lon_a, lat_a = _arrays(lon, lat)
    m = ~out_of_china(lon_a, lat_a)
    x, y = lon_a[m], lat_a[m]
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    lon_a[m] = z * np.cos(theta) + 0.0065
    lat_a[m] = z * np.sin(theta) + 0.006
    return _ret(lon_a, lat_a)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert Baidu BD-09 longitude/latitude to GCJ-02.

    Parameters
    ----------
    lon, lat : array-like
        BD-09 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 ``(lon, lat)``; points outside China unchanged.
    """
    lon_a, lat_a = _arrays(lon, lat)
    m = ~out_of_china(lon_a, lat_a)
    x, y = lon_a[m] - 0.0065, lat_a[m] - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    lon_a[m] = z * np.cos(theta)
    lat_a[m] = z * np.sin(theta)
    return _ret(lon_a, lat_a)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert WGS-84 longitude/latitude to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array-like
        WGS-84 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 ``(lon, lat)``; points outside China unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    """Convert BD-09 longitude/latitude to WGS-84 (via GCJ-02, iterative inverse).

    Parameters
    ----------
    lon, lat : array-like
        BD-09 degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``; points outside China unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: ArrayLike, lat: ArrayLike) -> CoordPair:
    return _ret(*_arrays(lon, lat))


_Converter = Callable[[ArrayLike, ArrayLike], CoordPair]

_CONVERTERS: dict[tuple[str, str], _Converter] = {
    ("wgs84", "wgs84"): _identity,
    ("gcj02", "gcj02"): _identity,
    ("bd09", "bd09"): _identity,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def transformer(src: Any, dst: Any) -> pyproj.Transformer:
    """The ``always_xy`` transformer from ``src`` to ``dst``, built once a process.

    Parameters
    ----------
    src, dst : str or pyproj.CRS
        Anything :meth:`pyproj.CRS.from_user_input` reads.

    Returns
    -------
    pyproj.Transformer
        Shared: building one between WGS-84 and CGCS2000 costs ~40 ms every time (PROJ
        looks the datum change up in its database), and a run projects with the same
        pair several times. pyproj's transformers are thread-safe (since pyproj 3.1).
    """
    return _transformer(_crs_key(src), _crs_key(dst))


def clear_transformers() -> None:
    """Forget the transformers :func:`transformer` built (e.g. after changing PROJ's data)."""
    _transformer.cache_clear()


def _crs_key(crs: Any) -> Any:
    """A CRS object by the text it was made from: equal texts are the same CRS."""
    return crs.srs if isinstance(crs, pyproj.CRS) else crs


@functools.lru_cache(maxsize=16)
def _transformer(src: Any, dst: Any) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def project_geometries(geoms: Any, src: Any, dst: Any) -> np.ndarray:
    """Geometries from ``src`` to ``dst`` through :func:`transformer` (2-D).

    The same coordinates as ``GeoSeries.to_crs``, which builds a new transformer
    on every call.
    """
    geoms = np.asarray(geoms, dtype=object)
    if _crs_key(src) == _crs_key(dst):
        return geoms.copy()
    tr = transformer(src, dst)

    def move(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(geoms, move)


def reproject(frame: Any, crs: Any) -> Any:
    """``frame.to_crs(crs)`` through :func:`transformer`: the same coordinates, without
    building a new transformer on every call.

    Parameters
    ----------
    frame : GeoDataFrame or GeoSeries
        With a CRS.
    crs : str or pyproj.CRS

    Returns
    -------
    GeoDataFrame or GeoSeries
        A new one in ``crs`` (its other columns shared with ``frame`` until written).

    Raises
    ------
    ValueError
        ``frame`` has no CRS (as ``to_crs``).
    """
    if frame.crs is None:
        raise ValueError(
            "Cannot transform naive geometries.  Please set a crs on the object first."
        )
    geo = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    moved = gpd.GeoSeries(
        project_geometries(geo.values, frame.crs, crs), index=geo.index, crs=crs, name=geo.name
    )
    if isinstance(frame, gpd.GeoSeries):
        return moved
    out = frame.copy(deep=False)
    out[frame.geometry.name] = moved
    return out.set_geometry(frame.geometry.name, crs=crs)


_ALIASES = {"wgs-84": "wgs84", "epsg:4326": "wgs84", "gcj-02": "gcj02", "bd-09": "bd09"}


def _norm(crs: str, what: str = "crs") -> str:
    key = str(crs).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in SUPPORTED_GEOGRAPHIC:
        raise InputError(
            f"Unknown {what} {crs!r}; use one of {', '.join(SUPPORTED_GEOGRAPHIC)} "
            "(wgs84 for GPS/OSM, gcj02 for Amap/Tencent, bd09 for Baidu)."
        )
    return key


def transform_coords(lon: ArrayLike, lat: ArrayLike, from_crs: str, to_crs: str) -> CoordPair:
    """Convert coordinates between any two of ``wgs84``, ``gcj02`` and ``bd09``.

    Parameters
    ----------
    lon, lat : array-like
        Degrees in ``from_crs``.
    from_crs, to_crs : str
        One of :data:`SUPPORTED_GEOGRAPHIC` (case-insensitive).

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in ``to_crs``.

    Raises
    ------
    InputError
        If either name is not a supported geographic system.
    """
    src = _norm(from_crs, "source coordinate system")
    dst = _norm(to_crs, "target coordinate system")
    return _CONVERTERS[(src, dst)](lon, lat)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> CoordPair:
    """Convert coordinates given in ``crs`` to WGS-84.

    Parameters
    ----------
    lon, lat : array-like
        Degrees in ``crs``.
    crs : str
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (case-insensitive).

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 ``(lon, lat)``.

    Raises
    ------
    InputError
        If ``crs`` is not one of :data:`SUPPORTED_GEOGRAPHIC`.
    """
    return transform_coords(lon, lat, crs, "wgs84")


def convert_geometry_frame(
    gdf: gpd.GeoDataFrame, from_crs: str, to_crs: str = "wgs84"
) -> gpd.GeoDataFrame:
    """Convert every coordinate of every geometry between WGS-84, GCJ-02 and BD-09.

    Works for any geometry type (points, lines, polygons with holes, multi-parts,
    collections); empty and missing geometries pass through.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Frame whose coordinates are longitude/latitude in ``from_crs``. Its CRS label
        should be EPSG:4326 or unset (GCJ-02/BD-09 data is usually labelled 4326).
    from_crs, to_crs : str
        One of :data:`SUPPORTED_GEOGRAPHIC`.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, same index and columns, labelled EPSG:4326.

    Raises
    ------
    InputError
        If a name is unknown or ``gdf`` is in a projected CRS.
    """
    src = _norm(from_crs, "source coordinate system")
    dst = _norm(to_crs, "target coordinate system")
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise InputError(
            f"The frame is in projected CRS {gdf.crs.to_string()}, but {src} coordinates are "
            "longitude/latitude; reproject it to EPSG:4326 before converting."
        )
    conv = _CONVERTERS[(src, dst)]

    def _xy(coords: FloatArray) -> FloatArray:
        lon, lat = conv(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    out = gdf.copy()
    name = gdf.geometry.name
    geoms = shapely.transform(np.asarray(gdf.geometry.values, dtype=object), _xy)
    out[name] = gpd.GeoSeries(geoms, index=gdf.index, crs=settings.WGS84)
    return out.set_geometry(name).set_crs(settings.WGS84, allow_override=True)
