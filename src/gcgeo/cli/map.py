"""``gcgeo map`` and ``gcgeo isochrone``: thin commands over :mod:`gcgeo.maps`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import geopandas as gpd
import shapely

from . import maps
from ._cli_common import (
    Measure,
    check_layers_dir,
    check_outputs,
    echo_json,
    handle_errors,
    layers_option,
    open_study_from_options,
    study_options,
)
from ._errors import InputError
from ._io import atomic_path, atomic_write_text
from ._progress import steps
from .catalogue import load_catalogue
from .coverage import street_minutes
from .crs import to_wgs84
from .demo import DEMO_LABEL
from .engine import node_distances
from .snap import snap_points

__all__ = ["isochrone", "map_command"]

_tiles_option = click.option(
    "--tiles",
    type=click.Choice(list(maps.TILES)),
    default=None,
    help="Background tiles (default osm; none with --offline). amap shifts overlays to GCJ-02.",
)
_key_option = click.option(
    "--tianditu-key", default=None, help="API key for --tiles tianditu (天地图)."
)
_offline_option = click.option(
    "--offline",
    is_flag=True,
    default=False,
    help="Inline Leaflet and jQuery so the HTML works with no internet.",
)


_AREA_STYLE = {
    "zones": ("五区 Strategy zones", "#5e3c99"),
    "wings": ("一体两翼 Body and two wings", "#01665e"),
    "renewal_areas": ("更新片区 Renewal areas", "#b35806"),
}


def _district_areas(layers_dir: str | None) -> dict[str, gpd.GeoDataFrame]:
    """Zones, wings and renewal areas (shipped, or replaced from ``layers_dir``)."""
    from .layers import load_layer

    return {name: load_layer(name, layers_dir) for name in _AREA_STYLE}


@click.command("map")
@study_options
@click.option("--category", required=True, help="Category id, e.g. kindergarten.")
@_offline_option
@_tiles_option
@_key_option
@click.option(
    "--png", is_flag=True, default=False, help="Also write a static PNG beside --out (.png)."
)
@layers_option
@click.option(
    "--no-areas", is_flag=True, default=False, help="Do not draw zones, wings and renewal areas."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="Output HTML file.",
)
@handle_errors
def map_command(**kw: Any) -> None:
    """Map of walking minutes to the nearest facility of one category (HTML, optional PNG).

    Streets are coloured 0–5, 5–10, 10–15, > 15 minutes and unreachable, over a grey
    street basemap, with the category's facilities, the district's zones, wings and
    renewal areas (outlined and labelled; drafts dashed), a bilingual legend and a scale bar.
    """
    cat = load_catalogue(kw["catalogue_path"])
    category = cat.select([kw["category"]])[0]
    out = Path(kw["out"])
    png = out.with_suffix(".png") if kw["png"] else None
    check_outputs([p for p in (out, png) if p is not None], kw)
    if kw["tiles"] == "tianditu" and not kw["tianditu_key"]:
        raise InputError("Tianditu tiles need an API key; pass --tianditu-key KEY.")
    check_layers_dir(kw["layers_dir"])
    areas = {} if kw["no_areas"] else _district_areas(kw["layers_dir"])
    with steps(4 if png else 3, enabled=not kw["as_json"]) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_options({**kw, "catalogue_path": cat})
        net = study.network
        step("walking distances to the nearest facility")
        fac = study.facilities[study.facilities["category"] == category.id].reset_index(drop=True)
        edges = net.edges.copy()
        edges["walk_min"] = street_minutes(
            net, fac, category, kw["speed"], kw["max_snap"], kw["max_distance"]
        )
        step("drawing the map")
        meta = {
            "id": category.id,
            "name_zh": category.name_zh,
            "name_en": category.name_en,
            "max_distance_m": category.max_distance_m,
        }
        m = maps.new_map(
            edges, tiles=kw["tiles"], tianditu_key=kw["tianditu_key"], offline=kw["offline"]
        )
        if study.meta.get("synthetic"):
            maps.title_box(m, f"示例 Demo · {DEMO_LABEL}")
        maps.basemap_streets(edges, m)
        maps.streets_by_minutes(edges, "walk_min", m)
        for layer, (title, colour) in _AREA_STYLE.items():
            if layer in areas:
                maps.areas_layer(areas[layer], m, name=title, colour=colour)
        if len(fac):
            maps.facilities_layer(fac, m, categories=[meta])
        page = maps.to_html(m)
        fig = None
        if png is not None:
            step("drawing the PNG")
            fig = maps.static_map(
                edges=edges,
                column="walk_min",
                facilities=fac if len(fac) else None,
                categories=[meta],
                title=f"{category.name_zh} {category.name_en} 步行时间 walking time",
            )
    atomic_write_text(out, page)
    if fig is not None and png is not None:
        with atomic_path(png, suffix=".png") as tmp:
            fig.savefig(tmp, format="png")
    band = maps.minute_band(edges["walk_min"].to_numpy())
    km = edges["length"].to_numpy() / 1000
    summary = {
        "category": category.id,
        "facilities": len(fac),
        "street_km_by_band": {
            label: round(float(km[band == b].sum()), 3) for b, label in enumerate(maps.BAND_LABELS)
        },
        "html": str(out),
        "html_bytes": len(page.encode("utf-8")),
        "png": str(png) if png else None,
        "offline": kw["offline"],
        "areas": {k: len(v) for k, v in areas.items()},
    }
    if kw["as_json"]:
        echo_json(summary)
    else:
        click.echo(
            f"{category.name_zh} {category.name_en}: wrote {out}"
            + (f" and {png}" if png else "")
            + f" ({summary['html_bytes'] / 1e6:.1f} MB)"
        )


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
MAX_BANDS = 12
#: longest isochrone band, minutes
MAX_MINUTES = 120.0


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
@_offline_option
@_tiles_option
@_key_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="Output .geojson (polygons, EPSG:4326) or .html (map).",
)
@handle_errors
def isochrone(**kw: Any) -> None:
    """Walking isochrones from one point: buffered reached streets, not convex hulls."""
    out = Path(kw["out"])
    if out.suffix.lower() not in {".geojson", ".html"}:
        raise InputError(f"--out {kw['out']!r} must end in .geojson or .html.")
    lon, lat = _parse_at(kw["at"])
    mins = _parse_minutes(kw["minutes"])
    if out.suffix.lower() == ".html" and kw["tiles"] == "tianditu" and not kw["tianditu_key"]:
        raise InputError("Tianditu tiles need an API key; pass --tianditu-key KEY.")
    check_outputs([out], kw)
    lon, lat = to_wgs84(lon, lat, kw["at_crs"].lower())
    with steps(3, enabled=not kw["as_json"]) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_options(kw)
        net = study.network
        step("walking distances from the start point")
        start = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4326").to_crs(net.crs)
        snap = snap_points(net, shapely.get_coordinates(start.values), kw["max_snap"])
        if not snap.ok.all():
            raise InputError(
                f"--at {kw['at']} is farther than {kw['max_snap']:g} m from any street; "
                "move it onto the network or raise --max-snap."
            )
        nd = node_distances(net, snap, limit=max(mins) * 60 * kw["speed"])
        step("buffering reached streets")
        iso = maps.isochrone_polygons(
            net.edges, nd.dist, minutes=mins, speed_mps=kw["speed"], buffer_m=kw["buffer_m"]
        )
    if study.meta.get("synthetic"):
        iso = iso.assign(data_note=DEMO_LABEL)
    if out.suffix.lower() == ".geojson":
        wgs = iso.to_crs("EPSG:4326")
        with atomic_path(out, suffix=".geojson") as tmp:
            wgs.to_file(tmp, driver="GeoJSON")
    else:
        m = maps.new_map(
            iso if not iso.geometry.is_empty.all() else start,
            tiles=kw["tiles"],
            tianditu_key=kw["tianditu_key"],
            offline=kw["offline"],
        )
        if study.meta.get("synthetic"):
            maps.title_box(m, f"示例 Demo · {DEMO_LABEL}")
        maps.basemap_streets(net.edges, m)
        maps.isochrone_layer(iso, m)
        atomic_write_text(out, maps.to_html(m))
    summary = {
        "at": [lon, lat],
        "bands": [
            {"minutes": t, "reached_street_m": round(r, 2), "area_m2": round(a, 1)}
            for t, r, a in zip(mins, iso["reached_m"], iso.geometry.area, strict=True)
        ],
        "out": str(out),
    }
    if kw["as_json"]:
        echo_json(summary)
    else:
        parts = ", ".join(
            f"{b['minutes']:g} min: {b['area_m2'] / 1e6:.2f} km²" for b in summary["bands"]
        )
        click.echo(f"Isochrones ({parts}); wrote {out}")
