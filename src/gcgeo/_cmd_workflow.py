"""Workflow commands: ``gcgeo fetch``, ``gcgeo cache list|clear`` and ``gcgeo demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._cli_common import echo_json, handle_errors, json_option, overwrite_option
from ._errors import FetchError, InputError
from .cache import clear_cache, list_cache, resolve_cache_dir

__all__ = ["cache_group", "fetch"]

_cache_dir_option = click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Cache folder (default: $GCGEO_CACHE_DIR or the user cache folder).",
)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


@click.group("cache")
def cache_group() -> None:
    """Inspect or clear the cache of built networks and fetched OSM files."""


@cache_group.command("list")
@_cache_dir_option
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
            f"  {e['kind']:<7} {e['hash']:<12} {_human(e['bytes']):>9}  {e['date']}  "
            f"{e['file']}  [{what}]"
        )


@cache_group.command("clear")
@_cache_dir_option
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


# --- fetch ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "-", text).strip("-")
    return s or "area"


def _default_boundary() -> Any:
    """The district boundary layer, when the layers module is part of this build."""
    try:
        from .layers import load_layer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise InputError(
            "No district boundary layer is installed with this gcgeo (layers/boundary.geojson); "
            "pass --boundary FILE (a WGS-84 polygon) or --place NAME."
        ) from exc
    return load_layer("boundary")


def _to_wgs84_polygon(layer: Any, what: str) -> Any:
    import geopandas as gpd
    import shapely

    if isinstance(layer, gpd.GeoDataFrame | gpd.GeoSeries):
        if layer.crs is None:
            raise InputError(f"{what} has no CRS; save it with one (e.g. EPSG:4326).")
        geom = shapely.union_all(layer.to_crs("EPSG:4326").geometry.values)
    elif isinstance(layer, shapely.Geometry):
        geom = layer
    else:
        raise InputError(f"{what} is not a polygon layer; pass --boundary FILE.")
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"{what} holds no polygon; pass a polygon boundary (GeoJSON/GPKG).")
    return geom


def _place_polygon(place: str) -> Any:
    try:
        import osmnx as ox

        use_cache = ox.settings.use_cache
        ox.settings.use_cache = False  # osmnx would write ./cache in the working folder
        try:
            gdf = ox.geocode_to_gdf(place)
        finally:
            ox.settings.use_cache = use_cache
    except Exception as exc:  # network errors and "no result" alike
        from .fetch import OFFLINE_HINT

        raise FetchError(
            f"Could not look up the place {place!r} with Nominatim ({type(exc).__name__}); "
            f"pass --boundary FILE instead, or {OFFLINE_HINT}."
        ) from exc
    return _to_wgs84_polygon(gdf, f"The place {place!r}")


@click.command()
@click.option(
    "--boundary",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Polygon of the area (GeoJSON/GPKG with a CRS). Default: the district boundary layer.",
)
@click.option(
    "--place",
    default=None,
    help="Look the area up by name with Nominatim instead, e.g. '钢城区, 济南市'.",
)
@click.option("--name", default=None, help="File name in the cache (default from the area).")
@click.option(
    "--endpoint",
    default=None,
    help="Overpass API URL (default: osmnx.settings.overpass_url, https://overpass-api.de/api).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=180.0,
    show_default=True,
    help="Seconds to wait for the download (also the server-side query limit).",
)
@click.option(
    "--buffer",
    "buffer_m",
    type=click.FloatRange(min=0),
    default=1000.0,
    show_default=True,
    help="Metres added around the area so walks crossing the edge are not cut.",
)
@_cache_dir_option
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Facility catalogue deciding which tags are fetched.",
)
@overwrite_option
@json_option
@handle_errors
def fetch(**kw: Any) -> None:
    """Download streets and facilities from OpenStreetMap (Overpass) into the cache.

    Writes CACHE/osm/NAME.osm (OSM XML, © OpenStreetMap contributors, ODbL 1.0)
    and NAME.json (date, query, endpoint, area). Use the file like any extract:
    gcgeo coverage --osm CACHE/osm/NAME.osm --out DIR. Without internet, download
    a Shandong extract (Geofabrik China / openstreetmap.org export) and pass --osm.
    """
    from .catalogue import load_catalogue
    from .fetch import fetch_osm

    if kw["boundary"] and kw["place"]:
        raise InputError("Pass either --boundary or --place, not both.")
    cat = load_catalogue(kw["catalogue_path"])
    if kw["boundary"]:
        from ._cmd_core import read_boundary

        poly = _to_wgs84_polygon(read_boundary(kw["boundary"]), f"Boundary {kw['boundary']!r}")
        name, source = Path(kw["boundary"]).stem, f"file:{kw['boundary']}"
    elif kw["place"]:
        poly = _place_polygon(kw["place"])
        name, source = _slug(kw["place"]), f"nominatim:{kw['place']}"
    else:
        poly = _to_wgs84_polygon(_default_boundary(), "The district boundary layer")
        name, source = "gangcheng", "layer:boundary"
    name = kw["name"] or name
    root = resolve_cache_dir(kw["cache_dir"] or True)
    res = fetch_osm(
        poly,
        name,
        cache_dir=root,
        endpoint=kw["endpoint"],
        timeout=kw["timeout"],
        buffer_m=kw["buffer_m"],
        catalogue=cat,
        overwrite=kw["overwrite"],
        source=source,
    )
    if kw["as_json"]:
        echo_json({"osm": str(res.osm_path), "meta": str(res.meta_path), **res.meta})
        return
    c = res.meta["counts"]
    click.echo(
        f"Wrote {res.osm_path} ({_human(res.meta['bytes'])}, {c['highway_ways']} street ways, "
        f"{c['poi_nodes']} facility candidates; {res.meta['attribution']})"
    )
    click.echo(f"Next: gcgeo coverage --osm {res.osm_path} --out DIR")
