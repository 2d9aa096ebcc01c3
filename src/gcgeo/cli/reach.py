"""``gcgeo reach``: walking distance from each point of a table to the nearest facility."""

from __future__ import annotations

from pathlib import Path

import click

from .._io import rounded_for_people, write_csv
from ..catalogue import load_catalogue
from ..facilities import read_points_csv
from .common import check_outputs, echo_json, handle_errors, open_study_from_args
from .options import (
    StudyArgs,
    category_option,
    crs_option,
    lat_col_option,
    lon_col_option,
    study_options,
)
from .progress import steps

__all__ = ["reach"]


@click.command()
@study_options
@click.option(
    "--points",
    "points_csv",
    type=click.Path(dir_okay=False, path_type=str),
    required=True,
    help="Points with an id and coordinates: CSV, XLSX, GeoJSON, GPKG or SHP.",
)
@crs_option("--points-crs", "--points")
@lon_col_option
@lat_col_option
@category_option()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=str), default=None, help="Output CSV."
)
@handle_errors
def reach(
    study_args: StudyArgs,
    points_csv: str,
    points_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    category: str,
    out: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Walking distance from each point to the nearest facility of a category.

    One output row per input point: id, category, distance_m (access leg +
    street + access leg), walk_min, facility_id, facility_name,
    snap_origin_m, snap_facility_m, reachable. With --dem, walk_min is the walk from the
    point uphill and downhill as timed, distance_m its flat-equivalent metres (walk_min ×
    --speed × 60) and the threshold the category tier's minutes.
    """
    from ..reach import reach_points
    from ..walker import resolve_basis, walker_categories

    cat = load_catalogue(study_args.catalogue_path)
    # with --dem the threshold is the tier's minutes at --speed (as in gcgeo coverage)
    basis = resolve_basis(None, bool(study_args.dem))
    chosen = walker_categories(cat.select([category]), study_args.speed, basis)[0]
    if out:
        check_outputs([Path(out)], overwrite, [*study_args.inputs, points_csv])
    points = read_points_csv(points_csv, points_crs, lon_col=lon_col, lat_col=lat_col)
    with steps(2, enabled=not as_json) as step:
        step("reading OSM and building the walk network")
        built = open_study_from_args(study_args, cat)
        step("snapping points and facilities; multi-source Dijkstra")
        result = reach_points(
            built,
            points,
            chosen,
            study_args.max_snap,
            study_args.speed,
            study_args.max_distance,
            points_csv,
        )
    table, summary = result.table, {**result.summary, "out": out}
    if out:
        write_csv(table, out)
    if as_json:
        echo_json(summary)
    elif not out:
        click.echo(rounded_for_people(table).to_csv(index=False), nl=False)
    else:
        click.echo(
            f"{chosen.name_zh} {chosen.name_en}: {summary['reachable']}/{len(table)} points "
            f"reach a facility, {summary['within_threshold']} within "
            f"{chosen.max_distance_m:g} m; wrote {out}"
        )
    n_far = summary["points_beyond_snap"]
    if n_far and not as_json:
        click.echo(
            f"Note: {n_far} point(s) lie farther than {study_args.max_snap:g} m from any street "
            "and are reported unreachable.",
            err=True,
        )
