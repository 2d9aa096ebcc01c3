"""``gcgeo coverage``: shares, completeness and by-area tables over a grid or origin layer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from .._io import atomic_write_text, output_set, write_csv, write_gpkg
from ..catalogue import load_catalogue
from .common import (
    check_layers_dir,
    check_outputs,
    coverage_with_areas,
    echo_json,
    handle_errors,
    read_origin_inputs,
)
from .options import (
    OriginArgs,
    StudyArgs,
    categories_option,
    layers_option,
    origin_options,
    study_options,
    threshold_basis_option,
)
from .progress import steps

__all__ = ["coverage", "run_coverage"]


@click.command()
@study_options
@origin_options
@categories_option
@layers_option
@threshold_basis_option
@handle_errors
def coverage(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    categories: str | None,
    layers_dir: str | None,
    threshold_basis: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Coverage of every category over a grid (or origin layer): shares and completeness.

    Writes OUT/coverage.csv (one row per category), OUT/coverage_by_area.csv
    (per zone, wing and renewal area: covered share per category and mean
    completeness), OUT/origins.gpkg (layer ``origins``: one distance and minutes column per
    category, completeness, zone/wing/renewal area; layer ``facilities``; QGIS styles in the
    maps' colours that QGIS applies on open) and OUT/run.json.
    """
    with steps(4, enabled=not as_json) as step:
        summary, run, result = run_coverage(
            study_args, origin_args, out_dir, categories, layers_dir, threshold_basis,
            overwrite, step,
        )  # fmt: skip
    if as_json:
        echo_json({"summary": summary.to_dict(orient="records"), **run})
        return
    click.echo(f"Origins: {len(result.origins)} ({result.meta['origin_rule_text']})")
    for r in summary.itertuples():
        click.echo(
            f"  {r.name_zh} {r.name_en}: {r.share:.1%} within {r.threshold_m:g} m "
            f"({r.facilities} facilities)"
        )
    click.echo(f"Wrote {', '.join(run['outputs'])}")


def run_coverage(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str | Path,
    categories: str | None,
    layers_dir: str | None,
    threshold_basis: str | None,
    overwrite: bool,
    step: Any = None,
    extra_files: dict[str, str] | None = None,
) -> tuple[Any, dict[str, Any], Any]:
    """The whole of ``gcgeo coverage`` but the printing: checks, study, coverage, and the
    output set in ``out_dir`` (``extra_files``, name → text, join the same atomic set, e.g.
    a batch district's manifest). Returns ``(summary, run, result)``."""
    from ..facilities import facilities_in
    from ..layers import AREA_LAYERS, load_layer
    from ..qgis_style import coverage_styles
    from ..walker import resolve_basis, walker_categories

    step = step or (lambda _msg: None)
    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    cat = load_catalogue(study_args.catalogue_path)
    chosen = walker_categories(cat.select(categories), study_args.speed, threshold_basis)
    out = Path(out_dir)
    names = ("coverage.csv", "coverage_by_area.csv", "origins.gpkg", "run.json")
    targets = [out / n for n in names]
    check_outputs(targets, overwrite, [*study_args.inputs, *origin_args.inputs, layers_dir])
    check_layers_dir(layers_dir)
    for name in AREA_LAYERS:  # fail on broken replacement layers before any work
        load_layer(name, layers_dir)
    boundary, layer = read_origin_inputs(origin_args)
    built, result, summary, origins_out, by_area = coverage_with_areas(
        study_args, origin_args, cat, chosen, boundary, layer, layers_dir, step
    )
    step("writing outputs")
    result.meta["threshold_basis"] = threshold_basis
    timings = {**built.meta.get("timings_s", {}), **result.meta.get("timings_s", {})}
    run = {
        "timings_s": timings,
        "meta": result.meta,
        "study": built.meta,
        "outputs": [str(t) for t in targets],
    }
    t_write = time.perf_counter()
    with output_set(out) as stage:
        write_csv(summary, stage / names[0])
        write_csv(by_area, stage / names[1])
        write_gpkg(
            origins_out,
            stage / names[2],
            layer="origins",
            styles=coverage_styles(origins_out, chosen),
            more_layers={"facilities": facilities_in(built.facilities, chosen)},
        )
        for fname, text in (extra_files or {}).items():
            atomic_write_text(stage / fname, text)
        # run.json carries the write time of the other outputs (itself excluded)
        timings["write"] = round(time.perf_counter() - t_write, 4)
        atomic_write_text(
            stage / names[3], json.dumps(run, ensure_ascii=False, indent=2, default=str)
        )
    return summary, run, result
