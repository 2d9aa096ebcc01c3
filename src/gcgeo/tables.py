"""Planners' own tables: one reader for points given as CSV, XLSX or any vector file.

A planner's origins, points, facilities and candidate sites arrive as whatever their tools
export: a GBK CSV from Excel, an Amap (高德) export with one ``location`` cell holding
``"lon,lat"``, an XLSX workbook with ``经度``/``纬度`` columns, a GeoPackage in CGCS2000
Gauss-Krüger metres. :func:`read_table` reads each of them into the same EPSG:4326
GeoDataFrame, and every failure is one :class:`~gcgeo._errors.InputError` sentence naming
the file and the fix.

Coordinates of a table are in a declared system: ``wgs84`` (GPS, OSM), ``gcj02`` (Amap,
Tencent), ``bd09`` (Baidu), or any EPSG code (projected metres allowed). A vector file
(GeoJSON, GeoPackage, Shapefile, ...) carries its own CRS, which is used instead; only
``gcj02``/``bd09`` still apply to it (shifted data is always labelled WGS-84).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import settings
from ._errors import InputError

__all__ = [
    "CSV_SUFFIXES",
    "GEOGRAPHIC_NAMES",
    "LAT_NAMES",
    "LOCATION_NAMES",
    "LON_NAMES",
    "TEXT_COLUMNS",
    "XLSX_SUFFIXES",
    "as_points",
    "coords_to_wgs84",
    "parse_crs",
    "read_frame",
    "read_table",
]

#: Header names of the longitude (or easting) column, matched case-insensitively in order.
LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "x")
#: Header names of the latitude (or northing) column.
LAT_NAMES = ("lat", "latitude", "纬度", "y")
#: Header names of one cell holding ``"lon,lat"`` (Amap exports).
LOCATION_NAMES = ("location", "坐标")
#: Columns always read as text (an id such as ``007`` keeps its zeros).
TEXT_COLUMNS = ("id", "name")
#: File name endings read as delimited text, and as Excel workbooks.
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
#: The geographic systems :mod:`gcgeo.crs` converts, as people write them in messages.
GEOGRAPHIC_NAMES = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}

_ALIASES = {"wgs-84": "wgs84", "gcj-02": "gcj02", "bd-09": "bd09"}
_DELIMITERS = (",", "\t", ";", "|")
_ENCODINGS = ("utf-8-sig", "gb18030")


# --------------------------------------------------------------------------- CRS


def parse_crs(crs: Any, what: str = "the table") -> str | Any:
    """A declared coordinate system: ``"wgs84"``/``"gcj02"``/``"bd09"``, or a pyproj CRS.

    Parameters
    ----------
    crs : str or pyproj.CRS
        ``wgs84``, ``gcj02``, ``bd09`` (case-insensitive, dashes allowed) or anything
        pyproj reads (``EPSG:4548``); the WGS-84 EPSG code gives ``"wgs84"``.
    what : str
        The input named in the message.

    Raises
    ------
    InputError
        If ``crs`` is none of these.
    """
    import pyproj

    if isinstance(crs, pyproj.CRS):
        out = crs
    else:
        key = str(crs).strip().lower()
        key = _ALIASES.get(key, key)
        if key in GEOGRAPHIC_NAMES:
            return key
        try:
            out = pyproj.CRS.from_user_input(str(crs).strip())
        except pyproj.exceptions.CRSError:
            raise InputError(
                f"Unknown coordinate system {str(crs)!r} for {what}; use wgs84, gcj02, bd09 or "
                f"an EPSG code such as {settings.DEFAULT_CRS}."
            ) from None
    return "wgs84" if out == pyproj.CRS.from_user_input(settings.WGS84) else out


def _crs_name(crs: str | Any) -> str:
    if isinstance(crs, str):
        return GEOGRAPHIC_NAMES[crs]
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.name


def coords_to_wgs84(x: Any, y: Any, crs: str | Any) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude (WGS-84) of coordinates in a system from :func:`parse_crs`.

    Non-finite results (a point outside a projected CRS) are returned as NaN for the
    caller to report.
    """
    from .crs import to_wgs84, transformer

    x, y = np.asarray(x, float), np.asarray(y, float)
    if isinstance(crs, str):
        lon, lat = to_wgs84(x, y, crs)
    else:
        t = transformer(crs, settings.WGS84)
        lon, lat = t.transform(x, y, errcheck=False)
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


# --------------------------------------------------------------------------- files → frames


def _decode(raw: bytes, where: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    err: UnicodeDecodeError | None = None
    for enc in _ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError as exc:
            err = err or exc
    line = raw.count(b"\n", 0, err.start if err else 0) + 1
    raise InputError(
        f"{where} is neither UTF-8 nor GBK/GB18030 text (undecodable byte at line {line}); "
        "re-save it as UTF-8 CSV."
    )


def _sniff(text: str) -> str:
    """The delimiter most frequent in the header line (a comma when none is)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    counts = [header.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) else ","


def _to_float(s: pd.Series) -> np.ndarray:
    """Numbers of a column, NaN where a cell is not one; text is parsed exactly (as Python's
    ``float``: pandas' fast parser may differ in the last digit)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.to_numpy(float, na_value=np.nan)
    text = s.astype("string").str.strip()
    ok = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    out = np.full(len(s), np.nan)
    out[ok] = text[ok].to_numpy(str).astype(float)
    return out


def _text_keys(columns: Any, extra: str | None) -> set[str]:
    want = {*TEXT_COLUMNS, *([extra] if extra else [])}
    return {c for c in columns if str(c).strip().lower() in want or c == extra}


def _read_csv(p: Path, where: str, text_col: str | None, dtype: Any) -> pd.DataFrame:
    text = _decode(p.read_bytes(), where)
    if not text.strip():
        raise InputError(f"{where} is empty; add a header row and one row per place.")
    sep = _sniff(text)
    opts = {"sep": sep, "keep_default_na": False, "na_values": [""], "skipinitialspace": True}
    try:
        if dtype is not str:  # numbers inferred by pandas, exactly; id/name columns as text
            head = pd.read_csv(io.StringIO(text), nrows=0, **opts).columns
            dtype = {c: str for c in _text_keys([str(c).strip() for c in head], text_col)}
            dtype = {c: str for c in head if str(c).strip() in dtype}
        df = pd.read_csv(io.StringIO(text), dtype=dtype, **opts)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = " ".join(str(exc).split())
        raise InputError(
            f"{where} could not be parsed as CSV ({reason}); save it as comma-separated text "
            "with a header row."
        ) from exc
    return df


def _read_xlsx(p: Path, where: str) -> pd.DataFrame:
    try:
        import openpyxl  # noqa: F401
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise InputError(
            f"{where} is an Excel workbook and openpyxl is not installed; pip install openpyxl "
            "or save the sheet as CSV."
        ) from None
    try:
        return pd.read_excel(p, sheet_name=0, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise several types
        reason = " ".join(str(exc).split())[:200]
        raise InputError(
            f"{where} could not be read as an XLSX workbook ({reason}); re-save it from Excel "
            "as .xlsx or CSV."
        ) from exc


def read_frame(
    path: str | os.PathLike, *, what: str, text_col: str | None = None, dtype: Any = None
) -> pd.DataFrame:
    """A planner's CSV (UTF-8, UTF-8-BOM, GBK, GB18030, UTF-16; delimiter sniffed) or XLSX
    (first sheet) as a DataFrame, header names stripped.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What it holds (``"Origins"``, ``"Register"``, ...), for messages.
    text_col : str, optional
        A further column always read as text (besides ``id`` and ``name``).
    dtype : {None, str}
        ``str`` keeps every column as text (blank cells NaN); ``None`` makes a column a
        number when every filled cell is one.

    Raises
    ------
    InputError
        Missing file, old ``.xls``, undecodable bytes, unparsable text, or no data rows.
    """
    p = Path(path)
    where = f"{what} file {str(p)!r}"
    if not p.is_file():
        raise InputError(f"{where} does not exist; check the path.")
    suffix = p.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{where} is an old Excel .xls workbook; save it as .xlsx or CSV.")
    df = _read_xlsx(p, where) if suffix in XLSX_SUFFIXES else _read_csv(p, where, text_col, dtype)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df = df.dropna(how="all").reset_index(drop=True) if suffix in XLSX_SUFFIXES else df
    if df.empty:
        raise InputError(f"{where} has a header but no rows; add one row per place.")
    keys = _text_keys(df.columns, text_col)
    if suffix in XLSX_SUFFIXES:
        for c in df.columns if dtype is str else keys:
            df[c] = df[c].where(df[c].isna(), df[c].astype(str))
        return df
    return df


# --------------------------------------------------------------------------- columns


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in reversed(columns)}
    return next((lower[n] for n in names if n in lower), None)


def _coordinate_columns(
    df: pd.DataFrame,
    where: str,
    lon_col: str | None,
    lat_col: str | None,
    options: tuple[str, str] = ("--lon-col", "--lat-col"),
) -> tuple[str, str]:
    cols = [str(c) for c in df.columns]
    found = ", ".join(cols)
    for given, opt in ((lon_col, options[0]), (lat_col, options[1])):
        if given is not None and given not in cols:
            raise InputError(
                f"{where} has no column {given!r} (found: {found}); check {opt} (the header "
                "is matched exactly)."
            )
    if lon_col is None and lat_col is None:
        loc = _find(cols, LOCATION_NAMES)
        if _find(cols, LON_NAMES) is None and _find(cols, LAT_NAMES) is None and loc:
            return loc, loc
    lon = lon_col or _find(cols, LON_NAMES)
    lat = lat_col or _find(cols, LAT_NAMES)
    missing = [n for n, c in (("longitude", lon), ("latitude", lat)) if c is None]
    if missing:
        raise InputError(
            f"{where} has no {' or '.join(missing)} column (found: {found}); name the columns "
            "lon/lng/longitude/经度/x and lat/latitude/纬度/y, or one Amap location column "
            f'"lon,lat", or give {options[0]} and {options[1]}.'
        )
    return str(lon), str(lat)


def _numbers(
    df: pd.DataFrame, lon: str, lat: str, where: str, unit: str
) -> tuple[np.ndarray, np.ndarray]:
    if lon == lat:  # one "lon,lat" cell
        cell = df[lon].astype("string").str.strip()
        parts = cell.str.replace("，", ",", regex=False).str.split(",", n=1, expand=True)
        parts = parts.reindex(columns=[0, 1])
        x, y = _to_float(parts[0]), _to_float(parts[1])
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = "" if pd.isna(df[lon].iloc[i]) else str(df[lon].iloc[i])
            raise InputError(
                f'{where} {unit} {i + 2}: {lon} {value!r} is not "lon,lat" (two numbers and a '
                "comma); fix that row."
            )
        return x, y
    out = []
    for col in (lon, lat):
        v = _to_float(df[col])
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = "" if pd.isna(df[col].iloc[i]) else str(df[col].iloc[i])
            raise InputError(
                f"{where} {unit} {i + 2}: {col} {value!r} is not a number; fix that row."
            )
        out.append(v)
    return out[0], out[1]


def _check_degrees(x: np.ndarray, y: np.ndarray, where: str, unit: str, name: str) -> None:
    bad = (np.abs(x) > 180) | (np.abs(y) > 90)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    if np.abs(x[i]) > 180 and np.abs(y[i]) > 180:
        fix = (
            "if they are projected metres, declare their coordinate system (such as "
            f"{settings.DEFAULT_CRS})"
        )
    elif np.abs(y[i]) > 90 and np.abs(x[i]) <= 90:
        fix = "are the longitude and latitude columns swapped?"
    else:
        fix = "fix that row"
    raise InputError(
        f"{where} {unit} {i + 2}: ({x[i]:g}, {y[i]:g}) is not a {name} longitude/latitude in "
        f"degrees; {fix}" + ("" if fix.endswith("?") else ".")
    )


def _to_wgs84(
    x: np.ndarray, y: np.ndarray, crs: str | Any, where: str, unit: str
) -> tuple[np.ndarray, np.ndarray]:
    name = _crs_name(crs)
    if isinstance(crs, str) or crs.is_geographic:
        _check_degrees(x, y, where, unit, name)
    elif ((np.abs(x) <= 180) & (np.abs(y) <= 90)).all():
        raise InputError(
            f"{where}: the coordinates look like degrees ({x[0]:g}, {y[0]:g} in {unit} 2), "
            f"not metres of {name}; declare wgs84, gcj02 or bd09 instead."
        )
    lon, lat = coords_to_wgs84(x, y, crs)
    bad = ~np.isfinite(lon) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where} {unit} {i + 2}: ({x[i]:g}, {y[i]:g}) lies outside {name}; check the "
            "declared coordinate system."
        )
    return lon, lat


# --------------------------------------------------------------------------- vector files


def _read_vector(p: Path, where: str, crs: str | Any) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types
        reason = " ".join(str(exc).split())[:200]
        raise InputError(
            f"{where} could not be read ({reason}); pass CSV, XLSX, GeoJSON, GeoPackage or "
            "Shapefile."
        ) from exc
    if gdf.crs is None:
        raise InputError(f"{where} has no CRS; save it with one (such as {settings.WGS84}).")
    if gdf.empty:
        raise InputError(f"{where} has no features; add one per place.")
    empty = gdf.geometry.isna().to_numpy() | gdf.geometry.is_empty.to_numpy()
    if empty.any():
        raise InputError(
            f"{where} feature {int(np.flatnonzero(empty)[0]) + 1} has no geometry; give it a "
            "location or delete it."
        )
    out = gdf.to_crs(settings.WGS84) if gdf.crs != settings.WGS84 else gdf
    if isinstance(crs, str) and crs != "wgs84":
        if not gdf.crs.is_geographic:
            raise InputError(
                f"{where} is in projected {gdf.crs.name}; {GEOGRAPHIC_NAMES[crs]} applies to "
                "longitude/latitude only, so do not declare it for this file."
            )
        from .crs import to_wgs84

        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], crs))

        out = out.set_geometry(shapely.transform(out.geometry.values, shift), crs=settings.WGS84)
    xy = shapely.get_coordinates(out.geometry.values)
    if not np.isfinite(xy).all():
        raise InputError(f"{where} has coordinates outside its CRS; check the file's CRS.")
    return gpd.GeoDataFrame(out.reset_index(drop=True), crs=settings.WGS84)


# --------------------------------------------------------------------------- the reader


def read_table(
    path: str | os.PathLike,
    *,
    what: str,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: Any = "wgs84",
    id_col: str | None = None,
    col_options: tuple[str, str] = ("--lon-col", "--lat-col"),
) -> gpd.GeoDataFrame:
    """Read a planner's table of places into an EPSG:4326 GeoDataFrame.

    Parameters
    ----------
    path : path-like
        CSV (UTF-8, UTF-8-BOM, GBK, GB18030; delimiter sniffed), XLSX, or any vector file
        geopandas reads (its own CRS is used).
    what : str
        What the file holds (``"Origins"``, ``"Points"``, ...), for messages.
    lon_col, lat_col : str, optional
        The coordinate columns, matched exactly; by default found by name,
        case-insensitively (:data:`LON_NAMES`, :data:`LAT_NAMES`, or one Amap
        ``location`` column holding ``"lon,lat"``). Give the same name twice for such a
        combined column under another header.
    crs : str or pyproj.CRS
        The coordinates' system: ``wgs84``, ``gcj02`` (Amap), ``bd09`` (Baidu) or an EPSG
        code such as ``EPSG:4548`` (projected metres allowed).
    id_col : str, optional
        A column holding each place's id: read as text and named ``id``.
    col_options : (str, str)
        The command-line options that set ``lon_col``/``lat_col``, named in messages.

    Returns
    -------
    GeoDataFrame
        The table's other columns (coordinate columns dropped; ``id`` and ``name`` as
        text, other columns numbers where every cell is one) and a ``geometry`` in
        EPSG:4326: points for tables, the file's own geometries for vector files.

    Raises
    ------
    InputError
        One sentence naming the file and the fix: missing file or columns (the headers
        found are listed), undecodable bytes, no rows, a coordinate that is not a number or
        out of range (with its row), an unknown CRS.
    """
    p = Path(path)
    where = f"{what} file {str(p)!r}"
    declared = parse_crs(crs, where)
    suffix = p.suffix.lower()
    if p.is_file() and suffix not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".xls"):
        out = _read_vector(p, where, declared)
    else:
        df = read_frame(p, what=what, text_col=id_col)
        unit = "row" if suffix in XLSX_SUFFIXES else "line"
        lon, lat = _coordinate_columns(df, where, lon_col, lat_col, col_options)
        x, y = _numbers(df, lon, lat, where, unit)
        x, y = _to_wgs84(x, y, declared, where, unit)
        out = gpd.GeoDataFrame(
            df.drop(columns=list(dict.fromkeys([lon, lat]))),
            geometry=shapely.points(x, y),
            crs=settings.WGS84,
        )
    if id_col is not None:
        if id_col not in out.columns:
            found = ", ".join(map(str, out.columns.drop(out.geometry.name)))
            raise InputError(f"{where} has no column {id_col!r} (found: {found}); check its name.")
        ids = out[id_col]
        out = out.drop(columns=[id_col]).assign(id=ids.where(ids.isna(), ids.astype(str)))
        out = out[["id", *[c for c in out.columns if c != "id"]]]
    return out


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with each non-point geometry replaced by a point inside it."""
    geoms = gdf.geometry.values
    is_point = shapely.get_type_id(geoms) == 0
    if is_point.all():
        return gdf
    return gdf.set_geometry(np.where(is_point, geoms, shapely.point_on_surface(geoms)))
