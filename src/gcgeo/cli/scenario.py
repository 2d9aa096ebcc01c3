"""``gcgeo scenario``, ``gcgeo deadends`` and ``gcgeo suggest``: thin commands."""

from __future__ import annotations

from pathlib import Path

import click

from .._io import atomic_write_text, output_set, write_csv, write_gpkg
from ..catalogue import load_catalogue
from ..scenario_summary import delta_map_html, streets_change_map, summary_html
from .common import (
    check_outputs,
    echo_json,
    handle_errors,
    make_origins,
    open_study_from_args,
    read_areas,
    read_origin_inputs,
)
from .options import (
    OriginArgs,
    StudyArgs,
    areas_option,
    categories_option,
    origin_options,
    study_options,
    threshold_basis_option,
)
from .progress import steps

__all__ = ["scenario", "summary_html"]


# --------------------------------------------------------------------------- scenario


@click.command("scenario")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@study_options
@origin_options
@categories_option
@click.option(
    "--planned",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help='Planned-facility layer for planned = "<id>" (default layers/planned_facilities.geojson).',
)
@areas_option
@threshold_basis_option
@handle_errors
def scenario(
    files: tuple[str, ...],
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    categories: str | None,
    planned: str | None,
    areas: str | None,
    threshold_basis: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Compare coverage before and after one or more scenario FILES (TOML).

    Writes OUT/delta.csv (per category and area, one column group per
    scenario when several), OUT/origins_delta.gpkg (origins gaining or losing
    reach) and OUT/summary.html.
    """
    from ..scenario import apply_scenario, compare, load_scenario
    from ..walker import resolve_basis

    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    cat = load_catalogue(study_args.catalogue_path)
    categories = cat.select(categories)
    out_dir = Path(out_dir)
    targets = [out_dir / n for n in ("delta.csv", "origins_delta.gpkg", "summary.html")]
    check_outputs(
        targets, overwrite, [*study_args.inputs, *origin_args.inputs, *files, planned, areas]
    )
    scenarios = [load_scenario(f, cat, planned) for f in files]
    boundary, layer = read_origin_inputs(origin_args)
    areas = read_areas(areas)
    # build the network and check every scenario against it before any progress output
    study = open_study_from_args(study_args, cat, boundary)
    net = study.network
    for sc in scenarios:
        apply_scenario(net, study.facilities, sc)
    origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
    with steps(2, enabled=not as_json) as step:
        step(f"coverage before and after {len(scenarios)} scenario(s)")
        result = compare(
            net,
            study.facilities,
            categories,
            origins,
            scenarios,
            areas,
            study_args.max_snap,
            study_args.max_distance,
            threshold_basis,
        )
        step("writing outputs")
        streets, shown = streets_change_map(
            net, study.facilities, result, cat, study_args.max_snap, study_args.max_distance,
            threshold_basis,
        )  # fmt: skip
        page = summary_html(result, delta_map_html(result, streets, shown), cat)
        with output_set(out_dir) as stage:
            write_csv(result.delta, stage / targets[0].name)
            write_gpkg(result.changes, stage / targets[1].name, layer="origins_delta")
            atomic_write_text(stage / targets[2].name, page)
    overall = {
        name: t[t["area_code"] == "all"][
            ["category", "before_share", "after_share", "gained", "lost"]
        ]
        for name, t in result.tables.items()
    }
    if as_json:
        echo_json(
            {
                "scenarios": {k: v.to_dict(orient="records") for k, v in overall.items()},
                "outputs": [str(t) for t in targets],
            }
        )
        return
    for name, t in overall.items():
        click.echo(f"{name}:")
        for r in t.itertuples():
            click.echo(
                f"  {r.category}: {r.before_share:.1%} -> {r.after_share:.1%} "
                f"(+{r.gained} / -{r.lost} origins)"
            )
    click.echo(f"Wrote {', '.join(str(t) for t in targets)}")


# --------------------------------------------------------------------------- dead ends


# --------------------------------------------------------------------------- suggest
