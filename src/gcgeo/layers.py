"""District layers of 钢城区: find, read, override and load them (validated).

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
including detection of GCJ-02/BD-09 coordinates mislabelled as WGS-84); the checks
themselves live in :mod:`gcgeo.layer_checks`.

Related modules: :mod:`gcgeo.register` (the renewal register), :mod:`gcgeo.by_area`
(which zone, wing and renewal area a point lies in, coverage by area, using the one
point-in-area rule :func:`gcgeo.coverage.point_in_area`) and :mod:`gcgeo.layer_plot`
(the picture). ``load_register``, ``assign_areas``, ``coverage_by_area`` and
``plot_layers`` stay importable from here for older callers; new code imports them
from those modules.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import LayerError
from .crs import DEFAULT_CRS, project_geometries
from .layer_checks import (
    AREA_LAYERS,
    CONFIDENCE_LEVELS,
    FACILITY_CATEGORIES,
    LAYER_NAMES,
    LAYER_SPECS,
    REGISTER_COLUMNS,
    REGISTER_FILE,
    check_layer,
    check_layer_name,
    validate_register,
)

__all__ = [
    "AREA_LAYERS",
    "CONFIDENCE_LEVELS",
    "FACILITY_CATEGORIES",
    "LAYERS_ENV",
    "LAYER_NAMES",
    "REGISTER_COLUMNS",
    "REGISTER_FILE",
    "check_layers_dir",
    "layer_path",
    "layer_summary",
    "load_layer",
    "read_layer_file",
    "shipped_boundary",
    "shipped_layers_dir",
    "validate_layer",
    "validate_register",
]

LAYERS_ENV = "GCGEO_LAYERS_DIR"

#: Names that moved to modules which themselves import this one, served on first use so
#: that older ``from gcgeo.layers import ...`` lines keep working (not in ``__all__``).
_MOVED = {
    "assign_areas": "by_area",
    "coverage_by_area": "by_area",
    "load_register": "register",
    "plot_layers": "layer_plot",
}


def __getattr__(name: str) -> Any:
    """``from gcgeo.layers import assign_areas`` (and the other moved names) keeps working."""
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __package__), name)


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
    check_layer_name(name)
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


def _file_key(path: Path) -> tuple[Any, ...] | None:
    """What identifies a file's current content for the caches below (None: unreadable)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


#: Layers read and checked in this process, by layer name and file (_file_key): a
#: run reads the same zones for origins, tables and maps, and each read costs ~30 ms.
_LOADED: dict[tuple[Any, ...], tuple[gpd.GeoDataFrame, list[str]]] = {}
_BOUNDARY: dict[tuple[Any, ...] | None, BaseGeometry | None] = {}
_CACHE_MAX = 64


def shipped_boundary() -> BaseGeometry | None:
    """The shipped district outline in EPSG:4548 (what layers must fit).

    Returns
    -------
    shapely geometry or None
        None when the shipped boundary file cannot be read or is not WGS-84.
    """
    path = shipped_layers_dir() / "boundary.geojson"
    key = _file_key(path)
    if key is not None and key in _BOUNDARY:
        return _BOUNDARY[key]
    try:
        gdf = read_layer_file(path)
    except LayerError:
        return None
    if gdf.crs is None or not gdf.crs.equals(settings.WGS84):
        out = None
    else:
        out = shapely.union_all(
            project_geometries(gdf.geometry.values, settings.WGS84, DEFAULT_CRS)
        )
    if key is not None:
        _BOUNDARY.clear()  # one shipped boundary at a time
        _BOUNDARY[key] = out
    return out


# --------------------------------------------------------------------------- loading
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
    _, problems, repairs = check_layer(gdf, name, shipped_boundary)
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
    key = (name, _file_key(path), _file_key(shipped_layers_dir() / "boundary.geojson"))
    if key[1] is not None and key in _LOADED:  # the same file, unchanged: read once a run
        out, repairs = _LOADED[key]
        out = out.copy()
        out.attrs["source_path"] = str(path)
    else:
        gdf = read_layer_file(path)
        out, problems, repairs = check_layer(gdf, name, shipped_boundary)
        if problems:
            raise LayerError(
                f"Layer {name!r} in {str(path)!r} is invalid: {' | '.join(problems)} "
                f"(run `gcgeo layers check {path.parent}` to list these one per line)."
            )
        out.attrs["source_path"] = str(path)
        if key[1] is not None:
            if len(_LOADED) >= _CACHE_MAX:
                _LOADED.clear()
            _LOADED[key] = (out.copy(), list(repairs))
    for msg in repairs:
        warnings.warn(f"{path}: {msg}", UserWarning, stacklevel=2)
    return out


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
        _, probs, reps = check_layer(gdf, name, shipped_boundary)
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
        spec = LAYER_SPECS[name]
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
