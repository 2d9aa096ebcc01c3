"""What the district layer files and the renewal register must hold, and the checks.

The schema of every file a layers folder may hold (:data:`LAYER_SPECS` for the GeoJSON
layers, :data:`REGISTER_COLUMNS` for ``renewal_register.csv``) and pure checks of frames
already read: columns and values, CRS, geometry types and validity, and the fit to a
reference district outline (detecting GCJ-02/BD-09 coordinates labelled WGS-84).

Nothing here reads a file: :mod:`gcgeo.layers` finds, reads and loads the layers and
passes the shipped outline in as ``reference``; :mod:`gcgeo.register` loads the register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import LayerError
from .crs import DEFAULT_CRS, project_geometries, transform_coords

__all__ = [
    "AREA_LAYERS",
    "CONFIDENCE_LEVELS",
    "FACILITY_CATEGORIES",
    "LAYER_NAMES",
    "LAYER_SPECS",
    "REGISTER_COLUMNS",
    "REGISTER_FILE",
    "REGISTER_STATUS",
    "REGISTER_TYPES",
    "LayerCheck",
    "LayerSpec",
    "Reference",
    "check_layer",
    "check_layer_name",
    "is_blank",
    "validate_register",
]

LAYER_NAMES = ("boundary", "zones", "wings", "renewal_areas", "planned_facilities")
#: Layers whose polygons results are broken down by (:mod:`gcgeo.by_area`).
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

_POLY = ("Polygon", "MultiPolygon")
# Polygons may stick out of the district outline by this much (drawing slack), metres.
_EDGE_TOLERANCE_M = 100.0
# Share of a polygon's area allowed outside the (buffered) outline.
_OUTSIDE_SHARE = 0.01


@dataclass(frozen=True)
class LayerSpec:
    """What one layer file must hold.

    Attributes
    ----------
    required : tuple of str
        Property columns every feature needs.
    id_col : str
        The column naming a feature in messages (must be unique).
    geom_types : tuple of str
        Allowed geometry types.
    allow_null_geometry : bool
        Whether a feature may have no geometry (a facility of unknown location).
    zh, en : str
        The layer's name in Chinese and English.
    """

    required: tuple[str, ...]
    id_col: str
    geom_types: tuple[str, ...]
    allow_null_geometry: bool = False
    zh: str = ""
    en: str = ""


LAYER_SPECS: dict[str, LayerSpec] = {
    "boundary": LayerSpec(
        ("name_zh", "name_en", "adcode", "source", "confidence"), "adcode", _POLY, False,
        "行政区界", "district boundary",
    ),
    "zones": LayerSpec(
        ("code", "name_zh", "name_en", "strategy", "source", "confidence"), "code", _POLY, False,
        "五区", "strategy zones",
    ),
    "wings": LayerSpec(
        ("code", "name_zh", "name_en", "source", "confidence"), "code", _POLY, False,
        "一体两翼", "body and two wings",
    ),
    "renewal_areas": LayerSpec(
        ("code", "name_zh", "name_en", "type", "source", "confidence"), "code", _POLY, False,
        "更新片区", "renewal areas",
    ),
    "planned_facilities": LayerSpec(
        ("id", "name_zh", "name_en", "category", "status", "location", "source", "confidence"),
        "id", ("Point",), True,
        "规划设施", "planned facilities",
    ),
}  # fmt: skip

#: A district outline in EPSG:4548 to fit layers to, None to skip the fit, or a function
#: returning either (called only when the other checks passed).
Reference = BaseGeometry | None | Callable[[], BaseGeometry | None]


class LayerCheck(NamedTuple):
    """Outcome of :func:`check_layer`.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        A copy of the layer, repairable geometries repaired.
    problems : list of str
        One sentence per problem, naming the feature and the fix.
    repairs : list of str
        One sentence per geometry repaired with ``make_valid``.
    """

    frame: gpd.GeoDataFrame
    problems: list[str]
    repairs: list[str]


def check_layer_name(name: str) -> None:
    """Raise :class:`~gcgeo.LayerError` unless ``name`` is one of :data:`LAYER_NAMES`."""
    if name not in LAYER_NAMES:
        raise LayerError(f"Unknown layer {name!r}; use one of {', '.join(LAYER_NAMES)}.")


def is_blank(v: Any) -> bool:
    """True for a missing cell: None, NaN, NA or a string of blanks."""
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return bool(pd.isna(v)) if not isinstance(v, str) else not v.strip()


# --------------------------------------------------------------------------- helpers
def _label(gdf: gpd.GeoDataFrame, spec: LayerSpec, i: int) -> str:
    if spec.id_col in gdf.columns:
        v = gdf[spec.id_col].iloc[i]
        if v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip():
            return f"feature {str(v)!r}"
    return f"feature #{i + 1}"


def _is_wgs84(crs: Any) -> bool:
    if crs is None:
        return False
    if crs.to_string().upper() in ("OGC:CRS84", settings.WGS84):
        return True
    return crs.equals(settings.WGS84)


def _shift(geoms: np.ndarray, from_crs: str) -> np.ndarray:
    def _xy(c: np.ndarray) -> np.ndarray:
        lon, lat = transform_coords(c[:, 0], c[:, 1], from_crs, "wgs84")
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, _xy)


def _to_metric(geoms: np.ndarray) -> np.ndarray:
    return project_geometries(geoms, settings.WGS84, DEFAULT_CRS)


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


def _datum_problems(
    name: str, gdf: gpd.GeoDataFrame, spec: LayerSpec, ref: BaseGeometry
) -> list[str]:
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


def _facility_problems(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> list[str]:
    problems = []
    for i in range(len(gdf)):
        label = _label(gdf, spec, i)
        row = gdf.iloc[i]
        cat = row.get("category")
        if not is_blank(cat) and cat not in FACILITY_CATEGORIES:
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


def _value_problems(out: gpd.GeoDataFrame, name: str, spec: LayerSpec) -> list[str]:
    """Required columns, blank cells, duplicate ids, confidence levels, facility rules."""
    problems: list[str] = []
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
            if is_blank(v):
                problems.append(f"{_label(out, spec, i)} has no {col}; fill it in.")
    if spec.id_col in out.columns:
        ids = out[spec.id_col].dropna().astype(str)
        for dup in sorted(set(ids[ids.duplicated()])):
            problems.append(
                f"{spec.id_col} {dup!r} is used by more than one feature; make it unique."
            )
    if "confidence" in out.columns:
        for i, v in enumerate(out["confidence"].tolist()):
            if not is_blank(v) and v not in CONFIDENCE_LEVELS:
                problems.append(
                    f"{_label(out, spec, i)} has confidence {v!r}; use one of "
                    f"{', '.join(CONFIDENCE_LEVELS)}."
                )
    if name == "planned_facilities":
        problems += _facility_problems(out, spec)
    return problems


def _crs_problems(out: gpd.GeoDataFrame, name: str) -> list[str]:
    """WGS-84 declared, and coordinates that are degrees."""
    if out.crs is None:
        return [
            f"layer {name!r} has no coordinate reference system; save it as WGS-84 (EPSG:4326)."
        ]
    if not _is_wgs84(out.crs):
        return [
            f"layer {name!r} is in {out.crs.to_string()} ({out.crs.name}), not WGS-84; "
            "reproject it to EPSG:4326 (e.g. gdf.to_crs(4326)) and save it again."
        ]
    xmin, ymin, xmax, ymax = out.total_bounds
    if np.isfinite(xmin) and (
        min(xmin, xmax) < -180
        or max(xmin, xmax) > 180
        or min(ymin, ymax) < -90
        or max(ymin, ymax) > 90
    ):
        return [
            f"layer {name!r} is labelled WGS-84 but its coordinates are not degrees "
            "(projected metres?); save it with its true coordinate system."
        ]
    return []


# --------------------------------------------------------------------------- checks
def check_layer(gdf: gpd.GeoDataFrame, name: str, reference: Reference = None) -> LayerCheck:
    """Check a layer frame against the schema of layer ``name``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    name : str
        One of :data:`LAYER_NAMES`.
    reference : shapely geometry, callable or None
        The district outline in EPSG:4548 the features must fit (a function returning it
        is called only when every other check passed); None skips the fit.

    Returns
    -------
    LayerCheck
        The repaired copy, the problems and the repairs.

    Raises
    ------
    LayerError
        If ``name`` is not a layer name.
    """
    check_layer_name(name)
    spec = LAYER_SPECS[name]
    repairs: list[str] = []
    out = gdf.copy()
    if len(out) == 0:
        return LayerCheck(out, [f"layer {name!r} has no features; add at least one."], repairs)
    problems = _value_problems(out, name, spec)
    crs_problems = _crs_problems(out, name)
    problems += crs_problems

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

    if not crs_problems and not problems:
        ref = reference() if callable(reference) else reference
        if ref is not None:
            problems += _datum_problems(name, out, spec, ref)
    return LayerCheck(out, problems, repairs)


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
        if is_blank(v):
            problems.append(f"register row {i + 2} has no id; fill it in.")
    for dup in sorted(set(ids[ids.duplicated()])):
        problems.append(f"register id {dup!r} is used by more than one row; make it unique.")
    for col, allowed in (
        ("type", REGISTER_TYPES),
        ("status", REGISTER_STATUS),
        ("confidence", CONFIDENCE_LEVELS),
    ):
        for i, v in enumerate(df[col].tolist()):
            if col == "type" and is_blank(v):
                problems.append(f"register row {i + 2} ({ids.iloc[i]}) has no type; fill it in.")
            elif not is_blank(v) and v not in allowed:
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
