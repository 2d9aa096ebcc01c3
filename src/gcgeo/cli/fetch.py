"""``gcgeo fetch``: download streets and facilities from OpenStreetMap (Overpass)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import settings
from .._errors import FetchError, InputError
from ..cache import resolve_cache_dir
from .common import echo_json, handle_errors, human_bytes
from .options import (
    Measure,
    boundary_option,
    cache_dir_option,
    catalogue_option,
    json_option,
    overwrite_option,
)

__all__ = ["fetch"]


# --- fetch ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "-", text).strip("-")
    return s or "area"


def _default_boundary() -> Any:
    """The district boundary layer, when the layers module is part of this build."""
    try:
        from ..layers import load_layer  # type: ignore[import-not-found]
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
        geom = shapely.union_all(layer.to_crs(settings.WGS84).geometry.values)
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
        from ..fetch import OFFLINE_HINT

        raise FetchError(
            f"Could not look up the place {place!r} with Nominatim ({type(exc).__name__}); "
            f"pass --boundary FILE instead, or {OFFLINE_HINT}."
        ) from exc
    return _to_wgs84_polygon(gdf, f"The place {place!r}")


@click.command()
@boundary_option
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
    type=Measure("seconds", high=86_400, example="180"),
    default=settings.FETCH_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait for the download (also the server-side query limit).",
)
@click.option(
    "--buffer",
    "buffer_m",
    type=Measure("metres", low_open=False, high=50_000, example="1000"),
    default=settings.FETCH_BUFFER_M,
    show_default=True,
    help="Metres added around the area so walks crossing the edge are not cut.",
)
@click.option(
    "--max-mb",
    type=Measure("MB", high=1_000_000, example="4096"),
    default=settings.FETCH_MAX_BYTES / 2**20,
    show_default=True,
    help="Largest answer accepted, in MiB after decompression; the download stops there.",
)
@cache_dir_option
@catalogue_option
@overwrite_option
@json_option
@handle_errors
def fetch(
    boundary: str | None,
    place: str | None,
    name: str | None,
    endpoint: str | None,
    timeout: float,
    buffer_m: float,
    max_mb: float,
    catalogue_path: str | None,
    cache_dir: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Download streets and facilities from OpenStreetMap (Overpass) into the cache.

    Writes CACHE/osm/NAME.osm (OSM XML, © OpenStreetMap contributors, ODbL 1.0)
    and NAME.json (date, query, endpoint, area). Use the file like any extract:
    gcgeo coverage --osm CACHE/osm/NAME.osm --out DIR. Without internet, download
    a Shandong extract (Geofabrik China / openstreetmap.org export) and pass --osm.

    The boundary must be WGS-84; an Amap (GCJ-02) outline is about 500 m off, which
    the default 1 km buffer still covers.
    """
    from ..catalogue import load_catalogue
    from ..fetch import fetch_osm

    if boundary and place:
        raise InputError("Pass either --boundary or --place, not both.")
    cat = load_catalogue(catalogue_path)
    if boundary:
        from .common import read_boundary

        poly = _to_wgs84_polygon(read_boundary(boundary), f"Boundary {boundary!r}")
        area_name, source = Path(boundary).stem, f"file:{boundary}"
    elif place:
        poly = _place_polygon(place)
        area_name, source = _slug(place), f"nominatim:{place}"
    else:
        poly = _to_wgs84_polygon(_default_boundary(), "The district boundary layer")
        area_name, source = "gangcheng", "layer:boundary"
    name = name or area_name
    root = resolve_cache_dir(cache_dir or True)
    res = fetch_osm(
        poly,
        name,
        cache_dir=root,
        endpoint=endpoint,
        timeout=timeout,
        buffer_m=buffer_m,
        catalogue=cat,
        overwrite=overwrite,
        source=source,
        max_bytes=int(max_mb * 2**20),
    )
    if as_json:
        echo_json({"osm": str(res.osm_path), "meta": str(res.meta_path), **res.meta})
        return
    c = res.meta["counts"]
    click.echo(
        f"Wrote {res.osm_path} ({human_bytes(res.meta['bytes'])}, {c['highway_ways']} street ways, "
        f"{c['poi_nodes']} facility candidates; {res.meta['attribution']})"
    )
    click.echo(f"Next: gcgeo coverage --osm {res.osm_path} --out DIR")
