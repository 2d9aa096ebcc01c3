"""``gcgeo isochrone``: walking isochrones from one point, as GeoJSON or an HTML map."""

from __future__ import annotations

import math
from pathlib import Path

import click
import geopandas as gpd
import shapely

from .. import maps, settings
from .._errors import InputError
from .._io import atomic_path, atomic_write_text, write_gpkg
from ..crs import to_wgs84
from ..demo import DEMO_LABEL
from ..engine import node_distances
from ..snap import snap_points
from .common import (
    check_outputs,
    echo_json,
    handle_errors,
    open_study_from_args,
)
from .options import (
    ONLINE_NOTE,
    Measure,
    StudyArgs,
    offline_option,
    study_options,
    tianditu_key_option,
    tiles_option,
)
from .progress import steps

__all__ = ["MAX_BANDS", "MAX_MINUTES", "isochrone"]


def _parse_at(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise InputError(
            f"--at {text!r} is not LON,LAT; pass e.g. --at 117.81,36.05 (longitude first)."
        ) from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"--at {text!r} is out of range; pass longitude,latitude in degrees.")
    return lon, lat


#: most isochrone bands one command draws (each band is a buffer of the reached streets)
MAX_BANDS = settings.MAX_ISOCHRONE_BANDS


#: longest isochrone band, minutes
MAX_MINUTES = settings.MAX_ISOCHRONE_MINUTES


def _parse_minutes(text: str) -> list[float]:
    try:
        mins = sorted({float(v) for v in text.split(",") if v.strip()})
    except ValueError as exc:
        raise InputError(
            f"--minutes {text!r} is not a list of numbers; pass e.g. 5,10,15."
        ) from exc
    if not mins or not all(math.isfinite(m) for m in mins) or mins[0] <= 0:
        raise InputError(
            f"--minutes {text!r} must be positive, finite numbers of minutes; pass e.g. 5,10,15."
        )
    if mins[-1] > MAX_MINUTES:
        raise InputError(
            f"--minutes {mins[-1]:g} is longer than {MAX_MINUTES:g} minutes of walking; "
            "pass shorter bands such as 5,10,15."
        )
    if len(mins) > MAX_BANDS:
        raise InputError(
            f"--minutes gives {len(mins)} bands, more than the {MAX_BANDS} an isochrone map "
            "can show; pass at most 12, e.g. 5,10,15."
        )
    return mins


@click.command()
@study_options
@click.option("--at", "at", required=True, help="Start point LON,LAT.")
@click.option(
    "--at-crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False),
    default="wgs84",
    show_default=True,
    help="Coordinates of --at (Amap: gcj02, Baidu: bd09).",
)
@click.option("--minutes", default="5,10,15", show_default=True, help="Time bands in minutes.")
@click.option(
    "--buffer",
    "buffer_m",
    type=Measure("metres", high=1000, example="50"),
    default=50.0,
    show_default=True,
    help="Metres around reached streets counted as reachable.",
)
@offline_option
@tiles_option
@tianditu_key_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="Output .geojson (polygons, EPSG:4326), .gpkg (layers isochrones and start, with "
    "QGIS styles) or .html (map).",
)
@handle_errors
def isochrone(
    study_args: StudyArgs,
    at: str,
    at_crs: str,
    minutes: str,
    buffer_m: float,
    offline: bool,
    tiles: str | None,
    tianditu_key: str | None,
    out: str,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Walking isochrones from one point: buffered reached streets, not convex hulls.

    With --dem a band holds the streets whose walk *to* the point (uphill and downhill
    timed) fits in its minutes: the point's catchment, as coverage measures walks.
    """
    out = Path(out)
    if out.suffix.lower() not in {".geojson", ".gpkg", ".html"}:
        raise InputError(f"--out {str(out)!r} must end in .geojson, .gpkg or .html.")
    lon, lat = _parse_at(at)
    mins = _parse_minutes(minutes)
    if out.suffix.lower() == ".html" and tiles == "tianditu" and not tianditu_key:
        raise InputError("Tianditu tiles need an API key; pass --tianditu-key KEY.")
    check_outputs([out], overwrite, [*study_args.inputs])
    lon, lat = to_wgs84(lon, lat, at_crs.lower())
    with steps(3, enabled=not as_json) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_args(study_args)
        net = study.network
        step("walking distances from the start point")
        start = gpd.GeoSeries([shapely.Point(lon, lat)], crs=settings.WGS84).to_crs(net.crs)
        snap = snap_points(net, shapely.get_coordinates(start.values), study_args.max_snap)
        if not snap.ok.all():
            raise InputError(
                f"--at {at} is farther than {study_args.max_snap:g} m from any street; "
                "move it onto the network or raise --max-snap."
            )
        nd = node_distances(net, snap, limit=max(mins) * 60 * study_args.speed)
        step("buffering reached streets")
        iso = maps.isochrone_polygons(
            net.edges, nd.dist, minutes=mins, speed_mps=study_args.speed, buffer_m=buffer_m,
            costs=net.costs,
        )  # fmt: skip
    if study.meta.get("synthetic"):
        iso = iso.assign(data_note=DEMO_LABEL)
    if out.suffix.lower() == ".geojson":
        wgs = iso.to_crs(settings.WGS84)
        with atomic_path(out, suffix=".geojson") as tmp:
            wgs.to_file(tmp, driver="GeoJSON")
    elif out.suffix.lower() == ".gpkg":
        from ..qgis_style import minutes_style

        write_gpkg(
            iso,
            out,
            layer="isochrones",
            styles=[
                minutes_style("isochrones", "minutes", "polygon", "步行等时圈 isochrones", True)
            ],
            more_layers={"start": start.to_frame("geometry")},
        )
    else:
        m = maps.new_map(
            iso if not iso.geometry.is_empty.all() else start,
            tiles=tiles,
            tianditu_key=tianditu_key,
            offline=offline,
        )
        if study.meta.get("synthetic"):
            maps.title_box(m, f"示例 Demo · {DEMO_LABEL}")
        if not offline:
            maps.title_box(m, ONLINE_NOTE)
        maps.basemap_streets(net.edges, m)
        maps.isochrone_layer(iso, m)
        maps.start_marker(lon, lat, m)
        atomic_write_text(out, maps.to_html(m))
    summary = {
        "at": [lon, lat],
        "bands": [
            {"minutes": t, "reached_street_m": round(r, 2), "area_m2": round(a, 1)}
            for t, r, a in zip(mins, iso["reached_m"], iso.geometry.area, strict=True)
        ],
        "out": str(out),
    }
    if as_json:
        echo_json(summary)
    else:
        parts = ", ".join(
            f"{b['minutes']:g} min: {b['area_m2'] / 1e6:.2f} km²" for b in summary["bands"]
        )
        click.echo(f"Isochrones ({parts}); wrote {out}")
