"""Options and helpers shared by every CLI command (rasterio-style)."""

from __future__ import annotations

import functools
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import geopandas as gpd

from ._errors import GcgeoError, InputError
from .coverage import DEFAULT_CELL_M, grid_origins, origins_from_layer

__all__ = [
    "Measure",
    "check_outputs",
    "input_paths",
    "check_layers_dir",
    "layers_option",
    "coverage_with_areas",
    "make_origins",
    "origin_options",
    "read_boundary",
    "read_origin_inputs",
    "read_origin_layer",
    "cache_from_options",
    "cache_options",
    "echo_json",
    "handle_errors",
    "json_option",
    "open_study_from_options",
    "osm_option",
    "overwrite_option",
    "study_options",
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


cache_options = [
    click.option(
        "--cache",
        "cache_dir",
        type=click.Path(file_okay=False, path_type=str),
        default=None,
        help="Cache folder for built networks (default: $GCGEO_CACHE_DIR or the user cache folder).",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        default=False,
        help="Build the network from the OSM file without reading or writing the cache.",
    ),
]


def cache_from_options(kw: dict[str, Any]) -> str | bool:
    """The ``cache`` argument of :func:`gcgeo.study.open_study` from ``--cache``/``--no-cache``."""
    if kw.get("no_cache"):
        return False
    return kw.get("cache_dir") or True


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so cleanup (finally blocks) runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every failure into one line on stderr and an exit code; never a traceback.

    - a :class:`GcgeoError` (input, output, dependency, network): its sentence, exit 2;
    - an :class:`OSError` not caught deeper (a file that cannot be read or written): one
      sentence naming the path (:func:`gcgeo._io.describe_os_error`), exit 2;
    - out of memory: one sentence, exit 2;
    - Ctrl-C / SIGTERM: temporary files are removed on the way out, exit 130 / 143;
    - anything else is a gcgeo bug: one line asking for a report, exit 1 (with
      ``GCGEO_DEBUG=1`` the traceback is shown instead).

    gcgeo's own warnings (:class:`gcgeo._errors.GcgeoWarning`, e.g. a corrupt cache entry
    being rebuilt) are shown as one ``Warning: ...`` line each; others pass through unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import os
        import signal
        import threading

        from tqdm import tqdm

        from ._errors import GcgeoWarning
        from ._io import describe_os_error

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if issubclass(category, GcgeoWarning):
                tqdm.write(f"Warning: {message}", file=sys.stderr)  # above any progress bar
            else:
                original(message, category, *rest, **kw)

        def fail(message: str, code: int) -> None:
            click.echo(f"Error: {message}", err=True)
            sys.exit(code)

        original = warnings.showwarning
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
        with warnings.catch_warnings():
            warnings.simplefilter("always", GcgeoWarning)
            warnings.showwarning = show
            try:
                return func(*args, **kwargs)
            except GcgeoError as exc:
                fail(str(exc), exc.exit_code)
            except OSError as exc:
                fail(describe_os_error(exc, "read or write"), 2)
            except MemoryError:
                fail(
                    "Ran out of memory; use a smaller area (--boundary, --bbox), a larger "
                    "--cell or fewer --categories.",
                    2,
                )
            except KeyboardInterrupt:
                fail("Interrupted; no output was changed.", 130)
            except _Terminated:
                fail("Terminated; no output was changed.", 143)
            except (click.exceptions.Exit, click.ClickException, click.Abort):
                raise
            except Exception as exc:
                if os.environ.get("GCGEO_DEBUG"):
                    raise
                fail(
                    f"Internal error ({type(exc).__name__}: {str(exc)[:200]}); this is a gcgeo "
                    "bug: please report it with the command line (GCGEO_DEBUG=1 shows the "
                    "traceback).",
                    1,
                )
            finally:
                if in_main:
                    signal.signal(signal.SIGTERM, previous)

    return wrapper


_OUTPUT_KEYS = frozenset({"out", "out_dir", "png", "cache_dir"})


def input_paths(kw: dict[str, Any]) -> list[Path]:
    """Every existing file a command was given to read (files inside given folders too)."""
    found: list[Path] = []
    for key, value in kw.items():
        if key in _OUTPUT_KEYS or value is None or isinstance(value, bool):
            continue
        for v in value if isinstance(value, tuple | list) else (value,):
            if not isinstance(v, str) or not v:
                continue
            p = Path(v)
            try:
                if p.is_file():
                    found.append(p)
                elif p.is_dir():
                    found += [f for f in p.iterdir() if f.is_file()]
            except OSError:
                continue
    return found


def check_outputs(targets: list[Path], kw: dict[str, Any]) -> None:
    """Before any work: outputs may be written (``--overwrite``, folders, names) and none of
    them is an input of this command."""
    from ._io import check_not_inputs, check_writable

    check_not_inputs(targets, input_paths(kw))
    check_writable(targets, kw["overwrite"])


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def study_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that builds a study from an OSM file."""
    opts = [
        osm_option,
        click.option(
            "--catalogue",
            "catalogue_path",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Facility catalogue TOML (default: the shipped one).",
        ),
        click.option(
            "--facilities",
            "facilities_csv",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Extra facilities CSV with name, category, lon, lat.",
        ),
        click.option(
            "--facilities-crs",
            type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False),
            default="wgs84",
            show_default=True,
            help="Coordinates of --facilities (Amap: gcj02, Baidu: bd09).",
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
            "--crs",
            "metric_crs",
            default=None,
            help="Projected CRS for metres (default EPSG:4548 in its zone, else UTM).",
        ),
        click.option(
            "--max-snap",
            type=Measure("metres", high=5000, example="300"),
            default=300.0,
            show_default=True,
            help="Maximum distance (m) from a point to the street it is attached to.",
        ),
        click.option(
            "--speed",
            type=Measure("m/s", high=5, example="1.1"),
            default=1.1,
            show_default=True,
            help="Walking speed in m/s (elderly: 0.8).",
        ),
        click.option(
            "--max-distance",
            type=Measure("metres", high=100_000, example="2000"),
            default=None,
            help="Search limit in m (default: twice the category's threshold, at least a "
            "15-minute walk); farther facilities count as not found.",
        ),
        *cache_options,
        json_option,
        overwrite_option,
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def open_study_from_options(kw: dict[str, Any]) -> Any:
    """Build a :class:`gcgeo.study.Study` from :func:`study_options` values."""
    from .study import open_study

    return open_study(
        kw["osm_path"],
        catalogue=kw["catalogue_path"],
        facilities_csv=kw["facilities_csv"],
        csv_crs=kw["facilities_crs"].lower(),
        osm_facilities=not kw["no_osm_facilities"],
        include_private=not kw["no_private"],
        crs=kw["metric_crs"],
        cache=cache_from_options(kw),
    )


def read_boundary(path: str | None) -> gpd.GeoDataFrame | None:
    """Read a boundary polygon file (any format GDAL reads, with a CRS)."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Boundary file {path!r} does not exist; check --boundary.")
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(
            f"Boundary file {path!r} could not be read ({exc}); pass a GeoJSON or GeoPackage polygon."
        ) from exc
    if gdf.crs is None:
        raise InputError(f"Boundary file {path!r} has no CRS; save it with one (e.g. EPSG:4326).")
    if gdf.empty or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputError(f"Boundary file {path!r} must hold polygons; it has {set(gdf.geom_type)}.")
    return gdf


def read_origin_layer(path: str) -> gpd.GeoDataFrame:
    """Read a planner's origin layer (points or polygons with a CRS)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Origin layer {path!r} does not exist; check --origins.")
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:
        raise InputError(
            f"Origin layer {path!r} could not be read ({exc}); pass GeoJSON or GPKG."
        ) from exc
    if gdf.crs is None:
        raise InputError(f"Origin layer {path!r} has no CRS; save it with one (e.g. EPSG:4326).")
    if gdf.empty:
        raise InputError(f"Origin layer {path!r} has no features.")
    return gdf


def origin_options(func: Any) -> Any:
    opts = [
        click.option(
            "--boundary",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Study-area polygon file (GeoJSON/GPKG with a CRS).",
        ),
        click.option(
            "--cell",
            type=Measure("metres", low=1, low_open=False, high=10_000, example="50"),
            default=DEFAULT_CELL_M,
            show_default=True,
            help="Grid cell size (m) of the origins.",
        ),
        click.option(
            "--origin-rule",
            type=click.Choice(["auto", "residential", "street", "all"]),
            default="auto",
            show_default=True,
            help="Which grid cells count as places people live.",
        ),
        click.option(
            "--origins",
            "origins_path",
            type=click.Path(dir_okay=False, path_type=str),
            default=None,
            help="Planner's layer of residential places instead of the grid.",
        ),
        click.option("--population", default=None, help="Population column of --origins."),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False, path_type=str),
            required=True,
            help="Output folder.",
        ),
    ]
    for opt in reversed(opts):
        func = opt(func)
    return func


def read_origin_inputs(kw: dict[str, Any]) -> tuple[Any, Any]:
    boundary = read_boundary(kw["boundary"])
    layer = read_origin_layer(kw["origins_path"]) if kw["origins_path"] else None
    if layer is None and kw["population"]:
        raise InputError("--population needs --origins (a layer with a population column).")
    return boundary, layer


def make_origins(kw: dict[str, Any], net: Any, boundary: Any, layer: Any) -> gpd.GeoDataFrame:
    if layer is not None:
        origins = origins_from_layer(layer, net.crs, kw["population"])
    else:
        origins = grid_origins(net, kw["cell"], boundary, kw["origin_rule"], kw["max_snap"])
    if len(origins) == 0:
        raise InputError(
            "No origin falls inside the study area under the chosen rule; check --boundary "
            "against the OSM extent or use --origin-rule all."
        )
    return origins


def coverage_with_areas(
    kw: dict[str, Any], catalogue: Any, categories: list[Any], boundary: Any, layer: Any, step: Any
) -> tuple[Any, Any, Any, Any, Any]:
    """The shared body of ``coverage`` and ``report``: study → origins → coverage → areas.

    Returns ``(study, result, summary, origins_with_areas, by_area)``; the two tables
    carry the origin rule used.
    """
    from .coverage import compute_coverage
    from .layers import assign_areas, coverage_by_area

    step("reading OSM and building the walk network")
    study = open_study_from_options({**kw, "catalogue_path": catalogue})
    net = study.network
    step("laying out origins")
    origins = make_origins(kw, net, boundary, layer)
    step(f"distances for {len(categories)} categories")
    result = compute_coverage(
        net, study.facilities, categories, origins, kw["speed"], kw["max_snap"], kw["max_distance"]
    )
    rule = result.meta["origin_rule"]
    summary = result.summary.assign(origin_rule=rule)
    located = result.origins.join(assign_areas(result.origins, kw["layers_dir"]))
    by_area = coverage_by_area(located, categories, kw["layers_dir"]).assign(origin_rule=rule)
    return study, result, summary, located, by_area


def check_layers_dir(layers_dir: str | None) -> None:
    """Fail before any work when ``--layers`` names a folder that does not exist."""
    if layers_dir is not None and not Path(layers_dir).is_dir():
        raise InputError(f"Layers folder {layers_dir!r} does not exist; check --layers.")


#: ``--layers DIR``: a planner's replacement district layers (check with :func:`check_layers_dir`).
layers_option = click.option(
    "--layers",
    "layers_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Folder of replacement district layers (overrides the shipped ones file by file).",
)
