"""Options and helpers shared by every CLI command (rasterio-style)."""

from __future__ import annotations

import functools
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

import click

from ._errors import GcgeoError

__all__ = [
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


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a :class:`GcgeoError` into one line on stderr and its exit code.

    gcgeo's own warnings (e.g. a corrupt cache entry being rebuilt) are shown as
    one ``Warning: ...`` line each; other warnings pass through unchanged.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tqdm import tqdm

        from .cache import CacheWarning

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if issubclass(category, CacheWarning):
                tqdm.write(f"Warning: {message}", file=sys.stderr)  # above any progress bar
            else:
                original(message, category, *rest, **kw)

        original = warnings.showwarning
        with warnings.catch_warnings():
            warnings.simplefilter("always", CacheWarning)
            warnings.showwarning = show
            try:
                return func(*args, **kwargs)
            except GcgeoError as exc:
                click.echo(f"Error: {exc}", err=True)
                sys.exit(exc.exit_code)

    return wrapper


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
            type=click.FloatRange(min=0, min_open=True),
            default=300.0,
            show_default=True,
            help="Maximum distance (m) from a point to the street it is attached to.",
        ),
        click.option(
            "--speed",
            type=click.FloatRange(min=0, min_open=True),
            default=1.1,
            show_default=True,
            help="Walking speed in m/s (elderly: 0.8).",
        ),
        click.option(
            "--max-distance",
            type=click.FloatRange(min=0, min_open=True),
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
