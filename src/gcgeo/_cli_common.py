"""Options and helpers shared by every CLI command (rasterio-style)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from ._errors import GcgeoError

__all__ = ["echo_json", "handle_errors", "osm_option", "overwrite_option", "json_option"]

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


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a :class:`GcgeoError` into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GcgeoError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (non-ASCII kept readable)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
