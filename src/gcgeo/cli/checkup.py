"""``gcgeo checkup``: the 城市体检 community-service indicators as a ready table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .._errors import InputError
from .common import check_layers_dir, check_outputs, echo_json, handle_errors
from .options import (
    Measure,
    OriginArgs,
    StudyArgs,
    layers_option,
    origin_options,
    population_total_option,
    study_options,
    threshold_basis_option,
)
from .progress import steps

__all__ = ["checkup", "run_checkup"]


@click.command()
@study_options
@origin_options
@layers_option
@threshold_basis_option
@click.option(
    "--indicators",
    "indicators_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Indicator catalogue TOML (default: the shipped gcgeo/indicators.toml).",
)
@click.option(
    "--population-raster",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Population raster (GeoTIFF, any CRS): each pixel counted in its origin cell.",
)
@click.option(
    "--population-areas",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Polygons with a --population column (街道/社区 counts), spread over the origins inside.",
)
@population_total_option
@click.option(
    "--default-levels",
    type=Measure("floors", high=200, example="6"),
    default=6.0,
    show_default=True,
    help="Floors of a residential building without building:levels (for --population-total).",
)
@click.option(
    "--areas",
    "areas_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="A planner's area layer (e.g. 街道/社区 boundaries) to report as well.",
)
@click.option("--area-field", default="code", show_default=True, help="Code column of --areas.")
@click.option("--area-name-field", default=None, help="Name column of --areas (default: the code).")
@click.option("--docx", "write_docx", is_flag=True, default=False, help="Also OUT/checkup.docx.")
@click.option(
    "--basis",
    type=click.Choice(["area", "population", "origins"]),
    default=None,
    help="Measure every indicator on this basis (default: each indicator's own).",
)
@handle_errors
def checkup(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    layers_dir: str | None,
    threshold_basis: str | None,
    indicators_path: str | None,
    population_raster: str | None,
    population_areas: str | None,
    population_total: float | None,
    default_levels: float,
    areas_path: str | None,
    area_field: str,
    area_name_field: str | None,
    basis: str | None,
    write_docx: bool,
    as_json: bool,
    overwrite: bool,
) -> None:
    """城市体检 indicators (服务半径覆盖率, 十五分钟生活圈达标率 …) per district, zone, wing,
    renewal area and planner layer.

    Writes OUT/checkup.csv (one row per indicator × area: value 0–1 on residential land
    area, population or origins, target, pass, radius, status checked/to_confirm and
    source), OUT/checkup.xlsx (one sheet per level, Chinese headers, for print),
    OUT/checkup.html, OUT/run.json and, with a population, OUT/shortfall.csv (residents
    beyond each radius and the facilities of a standard size they would need, a count for
    `gcgeo suggest --count`). Nothing in it is official: every value says whether it is
    confirmed.
    """
    import numpy as np

    table, run, targets = run_checkup(
        study_args, origin_args, out_dir, layers_dir, threshold_basis, indicators_path,
        population_raster, population_areas, population_total, default_levels, areas_path,
        area_field, area_name_field, basis, write_docx, overwrite, not as_json,
    )  # fmt: skip
    if as_json:
        echo_json({"rows": len(table), **run})
        return
    district = table[table["area_layer"] == "district"]
    for r in district.itertuples():
        value = "—" if not np.isfinite(r.value) else f"{r.value:.1%}"
        click.echo(f"  {r.name_zh}: {value} ({r.basis}, {r.status})")
    click.echo(f"Wrote {', '.join(str(t) for t in targets)}")


def _without_population(args: OriginArgs) -> OriginArgs:
    """The origin arguments with --population kept for --population-areas, not --origins."""
    import dataclasses

    return dataclasses.replace(args, population=None)


def run_checkup(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str | Path,
    layers_dir: str | None = None,
    threshold_basis: str | None = None,
    indicators_path: str | None = None,
    population_raster: str | None = None,
    population_areas: str | None = None,
    population_total: float | None = None,
    default_levels: float = 6.0,
    areas_path: str | None = None,
    area_field: str = "code",
    area_name_field: str | None = None,
    basis: str | None = None,
    write_docx: bool = False,
    overwrite: bool = False,
    show_progress: bool = False,
) -> tuple[Any, dict[str, Any], list[Path]]:
    """The whole of ``gcgeo checkup`` but the printing (also a batch district's checkup):
    returns ``(table, run, targets)``."""
    import numpy as np

    from .._io import atomic_write_text, output_set, write_csv, write_file
    from ..catalogue import load_catalogue
    from ..checkup import (
        AREA_LAYER_NAMES,
        checkup_html,
        checkup_table,
        measure_reach,
        shortfall_table,
        write_xlsx,
    )
    from ..demo import is_synthetic_osm
    from ..indicators import load_indicators, load_tier_sizes
    from ..layers import AREA_LAYERS, load_layer
    from ..population import estimate_total, from_polygons, from_raster, residential_area
    from .common import make_origins, open_study_from_args, read_boundary, read_origin_inputs

    given = [p for p in (origin_args.population, population_raster, population_total) if p]
    if population_areas and not origin_args.population:
        raise InputError("--population-areas needs --population (the column holding the counts).")
    if len(given) > 1 and not (population_areas and len(given) == 1):
        raise InputError(
            "give one population source: --origins/--population-areas with --population, "
            "--population-raster, or --population-total."
        )
    from ..walker import resolve_basis

    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    cat = load_catalogue(study_args.catalogue_path)
    indicators = load_indicators(indicators_path, cat)
    out = Path(out_dir)
    names = ("checkup.csv", "checkup.xlsx", "checkup.html", "run.json", "shortfall.csv",
             "checkup.docx")  # fmt: skip
    targets = [out / n for n in names if n != "checkup.docx" or write_docx]
    inputs = [*study_args.inputs, *origin_args.inputs, layers_dir, indicators_path,
              population_raster, population_areas, areas_path]  # fmt: skip
    check_outputs(targets, overwrite, inputs)
    check_layers_dir(layers_dir)
    layers = [(AREA_LAYER_NAMES[n], load_layer(n, layers_dir)) for n in AREA_LAYERS]
    if areas_path:
        extra = read_boundary(areas_path)
        if area_field not in extra.columns:
            raise InputError(
                f"--area-field {area_field!r} is not a column of {areas_path!r} (columns: "
                f"{', '.join(map(str, extra.columns))})."
            )
        name_col = area_name_field or area_field
        if name_col not in extra.columns:
            raise InputError(f"--area-name-field {name_col!r} is not a column of {areas_path!r}.")
        extra = extra.assign(
            code=extra[area_field].astype(str), name_zh=extra[name_col].astype(str)
        )
        layers.append((Path(areas_path).stem, extra))
    polygons = read_boundary(population_areas) if population_areas else None
    boundary, layer = read_origin_inputs(
        origin_args if polygons is None else _without_population(origin_args)
    )
    with steps(3, enabled=show_progress) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_args(study_args, cat, boundary)
        net = study.network
        step("origins, residential land and population")
        origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
        grid = layer is None
        res_m2 = residential_area(origins, net.residential) if grid else np.zeros(len(origins))
        population, source, left_out = None, "none", 0.0
        if layer is not None and origin_args.population:
            population, source = origins["population"].to_numpy(float), "layer"
        elif polygons is not None:
            population, left_out = from_polygons(origins, polygons, origin_args.population, res_m2)
            source = "polygons"
        elif population_raster:
            population, left_out = from_raster(origins, population_raster)
            source = "raster"
        elif population_total:
            population, source = estimate_total(origins, study_args.osm_path, net.residential,
                                                float(population_total), default_levels)  # fmt: skip
        if not grid:  # a planner's origin layer has no cells, so no residential land basis
            if basis == "area":
                raise InputError(
                    "--basis area needs the grid origins (residential land per cell); leave "
                    "out --origins or choose --basis population."
                )
            basis = basis or ("population" if population is not None else "origins")
        step(f"{len(indicators)} indicators")
        reach = measure_reach(net, study.facilities, cat, indicators, origins, study_args.speed,
                              study_args.max_snap, study_args.max_distance, threshold_basis)  # fmt: skip
        table = checkup_table(
            net, study.facilities, cat, indicators, origins, res_m2, population, source,
            layers, basis, study_args.speed, study_args.max_snap, study_args.max_distance,
            threshold_basis, reach,
        )  # fmt: skip
        # with no population the shortfall table is written empty (never left stale)
        shortfall = shortfall_table(cat, indicators, origins, population if population is not None
                                    else np.zeros(len(origins)), source, reach,
                                    load_tier_sizes(indicators_path), layers)  # fmt: skip
        if population is None:
            shortfall = shortfall.iloc[0:0]
        synthetic = is_synthetic_osm(study_args.osm_path)
        note = "初步结果，未经核实 draft, values to confirm"
        if synthetic:
            from ..demo import DEMO_LABEL

            table = table.assign(data_note=DEMO_LABEL)
            shortfall = shortfall.assign(data_note=DEMO_LABEL)
            note = f"{DEMO_LABEL} · {note}"
        run = {
            "label": note,
            "indicators": [i.id for i in indicators],
            "population_source": source,
            "population_estimate": source.startswith("estimate"),
            "population_total": None if population is None else float(np.sum(population)),
            "population_left_out": left_out,
            "residential_m2": float(res_m2.sum()),
            "origins": len(origins),
            "origin_rule": origins.attrs.get("origin_rule"),
            "study": study.meta,
            "shortfall": "shortfall.csv" if population is not None else "empty: needs a population",
            "outputs": [str(t) for t in targets],
        }
        with output_set(out) as stage:
            write_csv(table, stage / names[0])
            write_csv(shortfall, stage / names[4])
            write_xlsx(table, stage / names[1], note)
            title = "城市体检 社区服务指标 community-service indicators"
            atomic_write_text(stage / names[2], checkup_html(table, title, note))
            if write_docx:
                from ..docx_report import checkup_docx

                write_file(stage / names[5], checkup_docx(table, title, note))
            atomic_write_text(
                stage / names[3], json.dumps(run, ensure_ascii=False, indent=2, default=str)
            )
    return table, run, targets
