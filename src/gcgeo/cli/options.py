"""Every option shared by several commands, defined once (rasterio ``rio/options.py`` style).

Who uses what:

| option | commands |
|---|---|
| ``study_options`` (--osm, --catalogue, --facilities, --facilities-crs, --facilities-lon-col, --facilities-lat-col, --no-osm-facilities, --no-private, --no-trunk, --crs, --max-snap, --speed, --max-distance, --cache, --no-cache, --json, --overwrite) | reach, coverage, map, isochrone, scenario, deadends, suggest, report |
| ``origin_options`` (--boundary, --cell, --origin-rule, --origins, --population, --origins-crs, --lon-col, --lat-col, --out) | coverage, scenario, deadends, suggest, report |
| ``layers_option`` (--layers) | coverage, map, report, layers list/plot |
| ``tiles_option``, ``tianditu_key_option``, ``offline_option`` | map, isochrone |
| ``cache_dir_option`` (--cache) | cache list/clear, fetch, and inside study_options |
| ``json_option``, ``overwrite_option`` | every command that prints a summary or writes |

Importing this module imports click and :mod:`gcgeo.settings` only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import click

from .. import settings

__all__ = [
    "areas_option",
    "boundary_option",
    "catalogue_option",
    "cell_option",
    "categories_option",
    "category_option",
    "CRS_TYPE",
    "CRSParam",
    "crs_option",
    "lat_col_option",
    "lon_col_option",
    "origin_table_options",
    "Measure",
    "OriginArgs",
    "StudyArgs",
    "out_dir_option",
    "cache_argument",
    "cache_dir_option",
    "cache_options",
    "json_option",
    "layers_option",
    "offline_option",
    "ONLINE_NOTE",
    "optional_osm_option",
    "origin_options",
    "origin_rule_option",
    "origin_source_options",
    "osm_option",
    "overwrite_option",
    "population_total_option",
    "served_study_options",
    "study_options",
    "tianditu_key_option",
    "tiles_option",
]


class Measure(click.ParamType):
    """A finite number with a unit, inside a range; NaN, inf and text are refused with the
    unit and an example in the message (click's ``FloatRange`` lets NaN and inf through)."""

    name = "number"

    def __init__(
        self,
        unit: str,
        low: float = 0.0,
        high: float | None = None,
        low_open: bool = True,
        example: str = "",
    ) -> None:
        self.unit, self.low, self.high, self.low_open = unit, low, high, low_open
        self.example = example

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        import math

        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                number = math.nan
        opt = param.opts[0] if param is not None and param.opts else "the value"
        hint = f" (e.g. {opt} {self.example})" if self.example else ""
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of {self.unit}{hint}.", param, ctx)
        too_low = number <= self.low if self.low_open else number < self.low
        if too_low or (self.high is not None and number > self.high):
            bound = f"{'above' if self.low_open else 'at least'} {self.low:g}"
            if self.high is not None:
                bound += f" and at most {self.high:g}"
            self.fail(f"{number:g} {self.unit} is out of range: give {bound}{hint}.", param, ctx)
        return number


osm_option = click.option(
    "--osm",
    "osm_path",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="OSM extract: .osm, .osm.bz2, .osm.gz or .osm.pbf.",
)
overwrite_option = click.option(
    "--overwrite", is_flag=True, default=False, help="Replace existing output files."
)
json_option = click.option(
    "--json", "as_json", is_flag=True, default=False, help="Print a machine-readable summary."
)


cache_dir_option = click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Cache folder (default: $GCGEO_CACHE_DIR or the user cache folder).",
)
cache_options = [
    cache_dir_option,
    click.option(
        "--no-cache",
        is_flag=True,
        default=False,
        help="Build the network from the OSM file without reading or writing the cache.",
    ),
]


def cache_argument(cache_dir: str | None, no_cache: bool) -> str | bool:
    """The ``cache`` argument of :func:`gcgeo.study.open_study` from ``--cache``/``--no-cache``."""
    return False if no_cache else (cache_dir or True)


@dataclass(frozen=True)
class StudyArgs:
    """What :func:`study_options` collects: the inputs and settings of one study."""

    osm_path: str  # None only under served_study_options, until the demo is written
    catalogue_path: str | None
    facilities_csv: str | None
    facilities_crs: str
    no_osm_facilities: bool
    no_private: bool
    metric_crs: str | None
    max_snap: float
    speed: float
    max_distance: float | None
    cache_dir: str | None
    no_cache: bool
    no_trunk: bool = False
    facilities_lon_col: str | None = None
    facilities_lat_col: str | None = None
    dem: tuple[str, ...] = ()
    walk_function: str | None = None

    @property
    def cache(self) -> str | bool:
        """The ``cache`` argument of :func:`gcgeo.study.open_study`."""
        return cache_argument(self.cache_dir, self.no_cache)

    @property
    def inputs(self) -> list[str | None]:
        """Every file this study reads (an output must not be one of them)."""
        return [self.osm_path, self.catalogue_path, self.facilities_csv, *self.dem]


@dataclass(frozen=True)
class OriginArgs:
    """What :func:`origin_options` collects: where the origins (homes) come from."""

    boundary: str | None
    cell: float
    origin_rule: str
    origins_path: str | None
    population: str | None
    origins_crs: str = "wgs84"
    lon_col: str | None = None
    lat_col: str | None = None

    @property
    def inputs(self) -> list[str | None]:
        return [self.boundary, self.origins_path]


def _collect(func: Callable[..., Any], name: str, cls: type, opts: list[Any]) -> Any:
    """Apply ``opts`` and hand the command one ``cls`` object as parameter ``name``."""
    keys = [f.name for f in fields(cls)]

    @functools.wraps(func)
    def wrapper(*args: Any, **kw: Any) -> Any:
        kw[name] = cls(**{k: kw.pop(k) for k in keys})
        return func(*args, **kw)

    for opt in reversed(opts):
        wrapper = opt(wrapper)
    return wrapper


catalogue_option = click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Facility catalogue TOML (default: the shipped one).",
)
boundary_option = click.option(
    "--boundary",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Study-area polygon file (GeoJSON/GPKG with a CRS).",
)
#: ``--categories A,B``: which categories a multi-category command evaluates.
categories_option = click.option(
    "--categories",
    default=None,
    help="Comma-separated category ids (default: all life-circle ones).",
)
#: ``--areas FILE``: a planner's zones or renewal areas (polygons with code, name_zh, name_en).
areas_option = click.option(
    "--areas",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Zones or renewal areas (polygons with code, name_zh, name_en).",
)


def category_option(required: bool = True, help: str = "Category id, e.g. kindergarten.") -> Any:
    """``--category ID``: the one category a command is about (optional where it only ranks)."""
    return click.option("--category", required=required, default=None, help=help)


def study_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that builds a study from an OSM file; the command
    gets them as one :class:`StudyArgs` named ``study_args``, plus ``as_json`` and ``overwrite``."""
    func = _collect(func, "study_args", StudyArgs, [osm_option, *_study_settings()])
    return overwrite_option(json_option(func))


def served_study_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The same as :func:`study_options` for a command that writes nothing (``gcgeo serve``):
    ``--osm`` may be left out (``osm_path`` is then None) and there is no --json/--overwrite."""
    return _collect(func, "study_args", StudyArgs, [optional_osm_option, *_study_settings()])


#: ``--osm FILE`` where a command has a default network (``gcgeo serve``: the demo).
optional_osm_option = click.option(
    "--osm",
    "osm_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="OSM extract (default: the synthetic demo network, labelled as such).",
)


def _study_settings() -> list[Any]:
    """Every study option but ``--osm``."""
    return [
        catalogue_option,
        click.option(
            "--facilities",
            "facilities_csv",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Extra facilities (CSV, XLSX or a vector file) with name, category and "
            "coordinates.",
        ),
        click.option(
            "--facilities-crs",
            type=CRS_TYPE,
            default="wgs84",
            show_default=True,
            help="Coordinates of --facilities (Amap: gcj02, Baidu: bd09, or an EPSG code).",
        ),
        click.option(
            "--facilities-lon-col",
            default=None,
            help="Longitude/x column of --facilities (default: lon, lng, longitude, 经度, x "
            "or an Amap location column).",
        ),
        click.option(
            "--facilities-lat-col",
            default=None,
            help="Latitude/y column of --facilities (default: lat, latitude, 纬度, y).",
        ),
        click.option(
            "--no-osm-facilities",
            is_flag=True,
            default=False,
            help="Use only the --facilities CSV, not the OSM file's facilities.",
        ),
        click.option(
            "--no-private",
            is_flag=True,
            default=False,
            help="Drop access=private ways of gated compounds (kept by default).",
        ),
        click.option(
            "--no-trunk",
            is_flag=True,
            default=False,
            help="Drop at-grade trunk roads without mapped sidewalks (kept by default: "
            "Chinese arterials are walkable).",
        ),
        click.option(
            "--crs",
            "metric_crs",
            default=None,
            help="Projected CRS for metres (default EPSG:4548 in its zone, else UTM).",
        ),
        click.option(
            "--max-snap",
            type=Measure("metres", high=5000, example="300"),
            default=settings.MAX_SNAP_M,
            show_default=True,
            help="Maximum distance (m) from a point to the street it is attached to.",
        ),
        click.option(
            "--speed",
            type=Measure("m/s", high=5, example="1.1"),
            default=settings.WALK_SPEED_MPS,
            show_default=True,
            help=f"Walking speed in m/s (elderly: {settings.ELDERLY_SPEED_MPS:g}).",
        ),
        click.option(
            "--max-distance",
            type=Measure("metres", high=100_000, example="2000"),
            default=None,
            help="Search limit in m (default: twice the category's threshold, at least a "
            "15-minute walk); farther facilities count as not found.",
        ),
        *dem_options,
        *cache_options,
    ]


#: ``--dem FILE`` (repeatable) and ``--walk-function``: slopes (:mod:`gcgeo.terrain`).
dem_options = [
    click.option(
        "--dem",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=str),
        help="Elevation raster (GeoTIFF, SRTM or ASTER GDEM tile, any CRS); repeat for "
        "several tiles. Walks are then timed uphill and downhill and thresholds are minutes.",
    ),
    click.option(
        "--walk-function",
        type=click.Choice(list(settings.WALK_FUNCTIONS)),
        default=None,
        help=f"How a grade slows walking, with --dem (default {settings.WALK_FUNCTION}; "
        "tobler_elderly slows more on slopes; flat ignores them).",
    ),
]


#: ``--population-total N``: residents spread over the grid origins (an estimate).
population_total_option = click.option(
    "--population-total",
    type=Measure("residents", high=1e9, example="308994"),
    default=None,
    help="Spread this many residents over the grid origins by residential floor area (OSM "
    "buildings x levels) or, without buildings, land area: an estimate, labelled so.",
)
#: ``--cell M``: the grid cell size of the origins.
cell_option = click.option(
    "--cell",
    type=Measure("metres", low=1, low_open=False, high=10_000, example="50"),
    default=settings.CELL_M,
    show_default=True,
    help="Grid cell size (m) of the origins.",
)
#: ``--origin-rule``: which grid cells count as places people live.
origin_rule_option = click.option(
    "--origin-rule",
    type=click.Choice(["auto", "residential", "street", "all"]),
    default="auto",
    show_default=True,
    help="Which grid cells count as places people live.",
)


def origin_options(func: Any) -> Any:
    """Where origins come from (grid or a planner's layer) as one :class:`OriginArgs` named
    ``origin_args``, plus the output folder ``out_dir``."""
    return out_dir_option(origin_source_options(func))


def origin_source_options(func: Any) -> Any:
    """:func:`origin_options` without ``--out`` (a command that writes nothing)."""
    opts = [
        boundary_option,
        cell_option,
        origin_rule_option,
        click.option(
            "--origins",
            "origins_path",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Planner's layer of residential places instead of the grid.",
        ),
        click.option("--population", default=None, help="Population column of --origins."),
        *origin_table_options,
    ]
    return _collect(func, "origin_args", OriginArgs, opts)


#: ``--out DIR``: the output folder of a command writing a set of files.
out_dir_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    required=True,
    help="Output folder.",
)


#: ``--layers DIR``: a planner's replacement district layers (check with :func:`check_layers_dir`).
layers_option = click.option(
    "--layers",
    "layers_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder of replacement district layers (overrides the shipped ones file by file).",
)


tiles_option = click.option(
    "--tiles",
    type=click.Choice(list(settings.TILES)),
    default=None,
    help="Background tiles (default none offline, osm with --online). amap shifts overlays "
    "to GCJ-02.",
)
tianditu_key_option = click.option(
    "--tianditu-key", default=None, help="API key for --tiles tianditu (天地图)."
)
offline_option = click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Offline (default): Leaflet and jQuery inlined and no tiles, so the HTML works with "
    "no internet. --online: CDN scripts and OSM tiles (the page says it needs internet).",
)
#: The note an ``--online`` map shows in its own page.
ONLINE_NOTE = "此地图需联网加载 needs internet to load its scripts and tiles"


# --------------------------------------------------------------------------- planners' tables


class CRSParam(click.ParamType):
    """A declared coordinate system: wgs84, gcj02, bd09 or an EPSG code (checked with pyproj,
    imported only when a code is given)."""

    name = "crs"
    _GEOGRAPHIC = {"wgs84": "wgs84", "wgs-84": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02",
                   "bd09": "bd09", "bd-09": "bd09"}  # fmt: skip

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        key = str(value).strip()
        if key.lower() in self._GEOGRAPHIC:
            return self._GEOGRAPHIC[key.lower()]
        import pyproj

        try:
            pyproj.CRS.from_user_input(key)
        except pyproj.exceptions.CRSError:
            self.fail(
                f"{value!r} is not a coordinate system; use wgs84, gcj02 (Amap), bd09 (Baidu) "
                f"or an EPSG code such as {settings.DEFAULT_CRS}.",
                param,
                ctx,
            )
        return key


#: The one instance every ``--*-crs`` option of a planner's table uses.
CRS_TYPE = CRSParam()


def crs_option(flag: str, table: str) -> Any:
    """``--points-crs`` and the like: the coordinate system of the table given as ``table``."""
    return click.option(
        flag,
        type=CRS_TYPE,
        default="wgs84",
        show_default=True,
        help=f"Coordinates of {table}: wgs84, gcj02 (Amap), bd09 (Baidu) or an EPSG code such "
        f"as {settings.DEFAULT_CRS} (metres); vector files use their own CRS.",
    )


#: ``--lon-col``/``--lat-col``: the coordinate columns of the planner's tables of a command
#: (--origins, --points, --candidates) when their headers are not a usual name.
lon_col_option = click.option(
    "--lon-col",
    default=None,
    help="Longitude/x column of --origins, --points, --candidates (default: lon, lng, "
    "longitude, 经度, x or an Amap location column).",
)
lat_col_option = click.option(
    "--lat-col",
    default=None,
    help="Latitude/y column of --origins, --points, --candidates (default: lat, latitude, "
    "纬度, y).",
)
#: The options of ``origin_options`` that say how to read ``--origins``.
origin_table_options = [crs_option("--origins-crs", "--origins"), lon_col_option, lat_col_option]


#: ``--threshold-basis``: what category thresholds mean at ``--speed`` or a persona's speed
#: (:func:`gcgeo.walker.threshold_for`).
threshold_basis_option = click.option(
    "--threshold-basis",
    type=click.Choice(list(settings.THRESHOLD_BASES)),
    default=None,
    help="distance: thresholds are the standard's metres at any speed; time: the tier's "
    f"minutes at the walking speed (default: {settings.THRESHOLD_BASIS}, time with --dem).",
)
