"""``gcgeo reach`` and ``gcgeo coverage``: thin commands over the engine."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import click
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._cli_common import (
    check_layers_dir,
    check_outputs,
    coverage_with_areas,
    echo_json,
    handle_errors,
    layers_option,
    open_study_from_options,
    origin_options,
    read_origin_inputs,
    study_options,
)
from ._errors import GcgeoWarning, InputError
from ._io import atomic_write_text, output_set, write_csv, write_gpkg
from ._progress import steps
from .catalogue import load_catalogue
from .coverage import (
    search_limit,
)
from .engine import node_distances, point_distances
from .facilities import read_points_csv
from .snap import snap_points

__all__ = ["coverage", "reach"]


def _check_points_extent(points: gpd.GeoDataFrame, net: Any, path: str, max_snap: float) -> None:
    """Fail clearly when no point lies near the network (e.g. lon/lat swapped); warn when
    most do not (they are reported, row by row, as beyond the snap distance)."""
    xy = shapely.get_coordinates(points.to_crs(net.crs).geometry.values)
    minx, miny, maxx, maxy = net.bounds
    pad = max_snap
    inside = (
        (xy[:, 0] >= minx - pad)
        & (xy[:, 0] <= maxx + pad)
        & (xy[:, 1] >= miny - pad)
        & (xy[:, 1] <= maxy + pad)
    )
    if len(xy) and inside.any() and inside.mean() < 0.5:
        warnings.warn(
            f"{int((~inside).sum())} of {len(xy)} points in {path!r} lie outside the street "
            "network's extent; their rows say so (note column).",
            GcgeoWarning,
            stacklevel=2,
        )
    if len(xy) and not inside.any():
        lon_lat = points.geometry.iloc[0]
        nodes = net.nodes
        hint = ""
        swapped = gpd.GeoSeries(
            shapely.points(points.geometry.y.to_numpy(), points.geometry.x.to_numpy()),
            crs="EPSG:4326",
        )
        if np.abs(points.geometry.y.to_numpy()).max() <= 180:
            sxy = shapely.get_coordinates(swapped.to_crs(net.crs).values)
            if ((sxy[:, 0] >= minx - pad) & (sxy[:, 0] <= maxx + pad)).mean() >= 0.5 and (
                (sxy[:, 1] >= miny - pad) & (sxy[:, 1] <= maxy + pad)
            ).mean() >= 0.5:
                hint = " they fit if lon and lat are swapped: swap the two columns"
        raise InputError(
            f"No point in {path!r} lies near the street network "
            f"(network lon {nodes['lon'].min():.4f}–{nodes['lon'].max():.4f}, lat "
            f"{nodes['lat'].min():.4f}–{nodes['lat'].max():.4f}; first point "
            f"{lon_lat.x:.4f}, {lon_lat.y:.4f});"
            + (hint or " check that the points lie inside the OSM extract, and --points-crs")
            + "."
        )


@click.command()
@study_options
@click.option(
    "--points",
    "points_csv",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="CSV with id, lon, lat.",
)
@click.option(
    "--points-crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"], case_sensitive=False),
    default="wgs84",
    show_default=True,
    help="Coordinates of --points.",
)
@click.option("--category", required=True, help="Category id, e.g. kindergarten.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=str), default=None, help="Output CSV."
)
@handle_errors
def reach(**kw: Any) -> None:
    """Walking distance from each point to the nearest facility of a category.

    One output row per input point: id, category, distance_m (access leg +
    street + access leg), walk_min, facility_id, facility_name,
    snap_origin_m, snap_facility_m, reachable.
    """
    cat = load_catalogue(kw["catalogue_path"])
    category = cat.select([kw["category"]])[0]
    if kw["out"]:
        check_outputs([Path(kw["out"])], kw)
    points = read_points_csv(kw["points_csv"], kw["points_crs"].lower())
    with steps(4, enabled=not kw["as_json"]) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_options({**kw, "catalogue_path": cat})
        net = study.network
        step("snapping points and facilities")
        _check_points_extent(points, net, kw["points_csv"], kw["max_snap"])
        fac = study.facilities[study.facilities["category"] == category.id].reset_index(drop=True)
        fxy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
        fsnap = snap_points(net, fxy, kw["max_snap"])
        pxy = shapely.get_coordinates(points.to_crs(net.crs).geometry.values).reshape(-1, 2)
        psnap = snap_points(net, pxy, kw["max_snap"])
        step("multi-source Dijkstra")
        limit = search_limit(category.max_distance_m, kw["speed"], kw["max_distance"])
        nd = node_distances(net, fsnap, limit=limit)
        res = point_distances(net, nd, psnap, fsnap)
    found = res.source >= 0
    src = np.maximum(res.source, 0)
    note = np.where(
        ~psnap.ok,
        f"point farther than {kw['max_snap']:g} m from any street",
        np.where(
            found,
            "",
            "no facility of this category in the data"
            if len(fac) == 0
            else f"no facility within the {limit:g} m search limit (--max-distance)",
        ),
    )
    out = pd.DataFrame(
        {
            "id": points["id"].to_numpy(),
            "category": category.id,
            "distance_m": np.where(found, np.round(res.distance, 2), np.nan),
            "walk_min": np.where(found, np.round(res.distance / kw["speed"] / 60, 2), np.nan),
            "facility_id": np.where(
                found, fac["facility_id"].to_numpy(object)[src] if len(fac) else None, None
            ),
            "facility_name": np.where(
                found, fac["name"].to_numpy(object)[src] if len(fac) else None, None
            ),
            "snap_origin_m": np.where(psnap.ok, np.round(psnap.leg, 2), np.nan),
            "snap_facility_m": np.round(res.source_leg, 2),
            "reachable": found,
            "threshold_m": category.max_distance_m,
            "within_threshold": found & (res.distance <= category.max_distance_m),
            "note": note,
        }
    )
    n_far = int((~psnap.ok).sum())
    if kw["out"]:
        write_csv(out, kw["out"])
    summary = {
        "category": category.id,
        "points": len(out),
        "reachable": int(found.sum()),
        "within_threshold": int(out["within_threshold"].sum()),
        "points_beyond_snap": n_far,
        "facilities": len(fac),
        "facilities_beyond_snap": int((~fsnap.ok).sum()),
        "network": {k: net.report[k] for k in ("nodes", "edges", "crs", "private_ways_kept")},
        "out": kw["out"],
    }
    if kw["as_json"]:
        echo_json(summary)
    elif not kw["out"]:
        click.echo(out.to_csv(index=False), nl=False)
    else:
        click.echo(
            f"{category.name_zh} {category.name_en}: {summary['reachable']}/{len(out)} points "
            f"reach a facility, {summary['within_threshold']} within "
            f"{category.max_distance_m:g} m; wrote {kw['out']}"
        )
    if n_far and not kw["as_json"]:
        click.echo(
            f"Note: {n_far} point(s) lie farther than {kw['max_snap']:g} m from any street "
            "and are reported unreachable.",
            err=True,
        )


@click.command()
@study_options
@origin_options
@click.option(
    "--categories",
    default=None,
    help="Comma-separated category ids (default: all life-circle ones).",
)
@layers_option
@handle_errors
def coverage(**kw: Any) -> None:
    """Coverage of every category over a grid (or origin layer): shares and completeness.

    Writes OUT/coverage.csv (one row per category), OUT/coverage_by_area.csv
    (per zone, wing and renewal area: covered share per category and mean
    completeness), OUT/origins.gpkg (one distance column per category,
    completeness, zone/wing/renewal area) and OUT/run.json.
    """
    from .layers import AREA_LAYERS, load_layer

    cat = load_catalogue(kw["catalogue_path"])
    categories = cat.select(kw["categories"])
    out_dir = Path(kw["out_dir"])
    names = ("coverage.csv", "coverage_by_area.csv", "origins.gpkg", "run.json")
    targets = [out_dir / n for n in names]
    check_outputs(targets, kw)
    check_layers_dir(kw["layers_dir"])
    for name in AREA_LAYERS:  # fail on broken replacement layers before any work
        load_layer(name, kw["layers_dir"])
    boundary, layer = read_origin_inputs(kw)
    with steps(4, enabled=not kw["as_json"]) as step:
        study, result, summary, origins_out, by_area = coverage_with_areas(
            kw, cat, categories, boundary, layer, step
        )
        step("writing outputs")
        run = {"meta": result.meta, "study": study.meta, "outputs": [str(t) for t in targets]}
        with output_set(out_dir) as stage:
            write_csv(summary, stage / names[0])
            write_csv(by_area, stage / names[1])
            write_gpkg(origins_out, stage / names[2], layer="origins")
            atomic_write_text(
                stage / names[3], json.dumps(run, ensure_ascii=False, indent=2, default=str)
            )
    if kw["as_json"]:
        echo_json({"summary": summary.to_dict(orient="records"), **run})
        return
    click.echo(f"Origins: {len(result.origins)} ({result.meta['origin_rule_text']})")
    for r in summary.itertuples():
        click.echo(
            f"  {r.name_zh} {r.name_en}: {r.share:.1%} within {r.threshold_m:g} m ({r.facilities} facilities)"
        )
    click.echo(f"Wrote {', '.join(str(t) for t in targets)}")
