"""What every command shares besides its options: error handling, output checks, reading the
study inputs named by the options (see :mod:`gcgeo.cli.options`)."""

from __future__ import annotations

import functools
import json
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._errors import GcgeoError, InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from .options import OriginArgs, StudyArgs

__all__ = [
    "human_bytes",
    "read_areas",
    "check_outputs",
    "input_paths",
    "check_layers_dir",
    "coverage_with_areas",
    "make_origins",
    "read_boundary",
    "read_origin_inputs",
    "read_origin_layer",
    "echo_json",
    "handle_errors",
    "open_study_from_args",
]


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

        from .._errors import GcgeoWarning
        from .._io import describe_os_error

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if issubclass(category, GcgeoWarning):
                if "tqdm" in sys.modules:  # a bar may be on screen: write above it
                    from tqdm import tqdm

                    tqdm.write(f"Warning: {message}", file=sys.stderr)
                else:  # no bar was ever drawn (tqdm is imported only to draw one)
                    click.echo(f"Warning: {message}", err=True)
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


def input_paths(inputs: Iterable[str | None]) -> list[Path]:
    """The existing files among ``inputs`` (the files inside a given folder too)."""
    found: list[Path] = []
    for v in inputs:
        if not v:
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


def check_outputs(targets: list[Path], overwrite: bool, inputs: Iterable[str | None]) -> None:
    """Before any work: outputs may be written (``--overwrite``, folders, names) and none of
    them is one of the command's ``inputs``."""
    from .._io import check_not_inputs, check_writable

    check_not_inputs(targets, input_paths(inputs))
    check_writable(targets, overwrite)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def open_study_from_args(
    study: StudyArgs, catalogue: Any = None, boundary: Any = None, categories: Any = None
) -> Any:
    """Build a :class:`gcgeo.study.Study` from :func:`~gcgeo.cli.options.study_options`
    (``catalogue``: an already loaded one, else ``--catalogue``).

    With ``boundary`` (the ``--boundary`` frame) only the boundary grown by
    :func:`gcgeo.study.clip_buffer_m` (the largest search limit of ``categories``, default
    all, plus twice ``--max-snap``) is read, cut in libosmium before Python sees it.
    """
    from ..catalogue import Catalogue, load_catalogue
    from ..study import clip_buffer_m, open_study

    if study.walk_function and not study.dem:
        raise InputError("--walk-function needs --dem (an elevation raster of the area).")
    if study.dem:
        from ..terrain import dem_paths

        dem_paths(study.dem)  # each file exists, before the OSM file is read
    if catalogue is None:
        catalogue = study.catalogue_path
    buffer = 0.0
    if boundary is not None:
        if not isinstance(catalogue, Catalogue):
            catalogue = load_catalogue(catalogue)
        buffer = clip_buffer_m(
            catalogue, categories, study.speed, study.max_distance, study.max_snap
        )
        if study.dem:  # downhill walks go farther than flat ones in the same time
            from .. import settings
            from ..terrain import speed_factor

            function = study.walk_function or settings.WALK_FUNCTION
            buffer *= float(speed_factor(-settings.TOBLER_OFFSET, function))
    built = open_study(
        study.osm_path,
        catalogue=catalogue,
        facilities_csv=study.facilities_csv,
        csv_crs=study.facilities_crs.lower(),
        csv_lon_col=study.facilities_lon_col,
        csv_lat_col=study.facilities_lat_col,
        osm_facilities=not study.no_osm_facilities,
        include_private=not study.no_private,
        crs=study.metric_crs,
        cache=study.cache,
        include_trunk=not study.no_trunk,
        clip=boundary,
        clip_buffer=buffer,
    )
    if study.dem:
        import time

        from .. import settings
        from ..terrain import apply_dem

        t0 = time.perf_counter()
        function = study.walk_function or settings.WALK_FUNCTION
        built.network, built.meta["dem"] = apply_dem(built.network, study.dem, function)
        built.meta.setdefault("timings_s", {})["dem"] = round(time.perf_counter() - t0, 4)
    return built


def read_boundary(path: str | None) -> gpd.GeoDataFrame | None:
    """Read a boundary polygon file (any format GDAL reads, with a CRS)."""
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise InputError(f"Boundary file {path!r} does not exist; check --boundary.")
    try:
        import geopandas as gpd

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


def read_origin_layer(
    path: str, crs: str = "wgs84", lon_col: str | None = None, lat_col: str | None = None
) -> gpd.GeoDataFrame:
    """Read a planner's origin layer: a vector file (points or polygons with a CRS), or a CSV
    or XLSX table of points (see :func:`gcgeo.tables.read_table`; ``crs`` is
    ``--origins-crs``, ``lon_col``/``lat_col`` are ``--lon-col``/``--lat-col``)."""
    from ..tables import read_table

    return read_table(path, what="Origins", lon_col=lon_col, lat_col=lat_col, crs=crs)


def read_origin_inputs(origins: OriginArgs) -> tuple[Any, Any]:
    """The boundary and the planner's origin layer named by ``--boundary``/``--origins``."""
    boundary = read_boundary(origins.boundary)
    layer = (
        read_origin_layer(
            origins.origins_path, origins.origins_crs, origins.lon_col, origins.lat_col
        )
        if origins.origins_path
        else None
    )
    if layer is None and origins.population:
        raise InputError("--population needs --origins (a layer with a population column).")
    return boundary, layer


def make_origins(
    args: OriginArgs, net: Any, boundary: Any, layer: Any, max_snap: float
) -> gpd.GeoDataFrame:
    """Origins from the planner's layer, or the grid under ``--origin-rule``."""
    from ..coverage import grid_origins, origins_from_layer

    if layer is not None:
        origins = origins_from_layer(layer, net.crs, args.population)
    else:
        origins = grid_origins(net, args.cell, boundary, args.origin_rule, max_snap)
    if len(origins) == 0:
        raise InputError(
            "No origin falls inside the study area under the chosen rule; check --boundary "
            "against the OSM extent or use --origin-rule all."
        )
    return origins


def coverage_with_areas(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    catalogue: Any,
    categories: list[Any],
    boundary: Any,
    layer: Any,
    layers_dir: str | None,
    step: Any,
) -> tuple[Any, Any, Any, Any, Any]:
    """The shared body of ``coverage`` and ``report``: study → origins → coverage → areas.

    Returns ``(study, result, summary, origins_with_areas, by_area)``; the two tables
    carry the origin rule used.

    Raises
    ------
    InputError
        The OSM file's streets barely overlap ``--boundary``
        (:func:`gcgeo.fetch.check_extent_overlap`), or no origin lies in any of the
        district's areas (the report would hold zero origins).
    """
    import numpy as np

    from .._errors import EmptyNetworkError
    from ..by_area import AREA_COLUMNS, assign_areas, coverage_by_area
    from ..coverage import compute_coverage

    step("reading OSM and building the walk network")
    try:
        study = open_study_from_args(study_args, catalogue, boundary, categories)
    except EmptyNetworkError:
        if boundary is None:
            raise
        # nothing walkable near --boundary: say where the extract's streets are instead
        from ..osm import read_osm

        ways = read_osm(study_args.osm_path, areas=False).ways
        if ways:
            lon = np.concatenate([w.lon for w in ways])
            lat = np.concatenate([w.lat for w in ways])
            _check_osm_covers_boundary(study_args.osm_path, lon, lat, boundary)
        raise
    net = study.network
    if boundary is not None:
        lon, lat = net.node_table["lon"].to_numpy(), net.node_table["lat"].to_numpy()
        _check_osm_covers_boundary(study_args.osm_path, lon, lat, boundary)
    step("laying out origins")
    origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
    step(f"distances for {len(categories)} categories")
    result = compute_coverage(
        net,
        study.facilities,
        categories,
        origins,
        study_args.speed,
        study_args.max_snap,
        study_args.max_distance,
    )
    rule = result.meta["origin_rule"]
    summary = result.summary.assign(origin_rule=rule)
    located = result.origins.join(assign_areas(result.origins, layers_dir))
    if not located[list(AREA_COLUMNS.values())].notna().to_numpy().any():
        lon, lat = net.node_table["lon"], net.node_table["lat"]
        where = "--layers" if layers_dir else "the district"
        raise InputError(
            f"None of the {len(located)} origins lies in a zone, wing or renewal area of "
            f"{where}, so the district report would hold zero origins (the streets of "
            f"{study_args.osm_path!r} are at lon {lon.min():.4f}–{lon.max():.4f}, lat "
            f"{lat.min():.4f}–{lat.max():.4f}); pass an --osm extract of the district, or "
            "--layers with your own areas."
        )
    by_area = coverage_by_area(located, categories, layers_dir).assign(origin_rule=rule)
    return study, result, summary, located, by_area


def _check_osm_covers_boundary(osm_path: str, lon: Any, lat: Any, boundary: Any) -> None:
    """Stop when the streets of ``--osm`` (at ``lon``/``lat``) barely overlap ``--boundary``."""
    import shapely

    from .. import settings
    from ..fetch import check_extent_overlap

    area = shapely.union_all(boundary.to_crs(settings.WGS84).geometry.values)
    check_extent_overlap(
        lon,
        lat,
        area,
        f"The OSM file {osm_path!r}",
        "pass an --osm extract that covers the --boundary area, or the --boundary of the "
        "area the extract covers",
    )


def check_layers_dir(layers_dir: str | None) -> None:
    """Fail before any work when ``--layers`` names a folder that does not exist."""
    if layers_dir is not None and not Path(layers_dir).is_dir():
        raise InputError(f"Layers folder {layers_dir!r} does not exist; check --layers.")


def human_bytes(n: int) -> str:
    """A byte count for people: ``1.5 MB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def read_areas(path: str | None) -> gpd.GeoDataFrame | None:
    """A planner's area polygons (``code``, ``name_zh``, ``name_en``), or None."""
    if path is None:
        return None
    gdf = read_boundary(path)
    missing = [c for c in ("code", "name_zh", "name_en") if c not in gdf.columns]
    if missing:
        raise InputError(
            f"Area file {path!r} lacks column(s) {', '.join(missing)}; it needs code, name_zh, "
            "name_en."
        )
    return gdf
