"""``gcgeo cache``: inspect or clear the cache of built networks and fetched OSM files."""

from __future__ import annotations

import click

from ..cache import clear_cache, list_cache, resolve_cache_dir
from .common import echo_json, handle_errors, human_bytes
from .options import cache_dir_option, json_option

__all__ = ["cache_clear", "cache_group", "cache_list"]


@click.group("cache")
def cache_group() -> None:
    """Inspect or clear the cache of built networks and fetched OSM files."""


@cache_group.command("list")
@cache_dir_option
@json_option
@handle_errors
def cache_list(cache_dir: str | None, as_json: bool) -> None:
    """List cached networks (file, content hash, settings, size, date) and fetched OSM files."""
    root = resolve_cache_dir(cache_dir or True)
    assert root is not None
    entries = list_cache(root)
    if as_json:
        echo_json({"cache_dir": str(root), "entries": entries})
        return
    click.echo(f"Cache folder: {root}")
    if not entries:
        click.echo("  (empty)")
        return
    for e in entries:
        s = e["settings"]
        if e["kind"] == "network":
            what = (
                f"private={'yes' if s.get('include_private') else 'no'} crs={s.get('crs')} "
                f"clip={s.get('clip') or '-'} catalogue={s.get('catalogue')} gcgeo={s.get('gcgeo')}"
            )
        else:
            what = ", ".join(f"{k}={v}" for k, v in s.items()) or "-"
        click.echo(
            f"  {e['kind']:<7} {e['hash']:<12} {human_bytes(e['bytes']):>9}  {e['date']}  "
            f"{e['file']}  [{what}]"
        )


@cache_group.command("clear")
@cache_dir_option
@click.option(
    "--include-osm",
    is_flag=True,
    default=False,
    help="Also delete OSM files downloaded by `gcgeo fetch`.",
)
@click.option("--yes", "-y", is_flag=True, default=False, help="Do not ask for confirmation.")
@handle_errors
def cache_clear(cache_dir: str | None, include_osm: bool, yes: bool) -> None:
    """Delete cached networks (they are rebuilt from the OSM file on the next run)."""
    root = resolve_cache_dir(cache_dir or True)
    assert root is not None
    what = "cached networks" + (" and fetched OSM files" if include_osm else "")
    if not yes:
        click.confirm(f"Delete all {what} in {root}?", abort=True)
    n = clear_cache(root, include_osm=include_osm)
    click.echo(f"Removed {n} entr{'y' if n == 1 else 'ies'} from {root}.")
