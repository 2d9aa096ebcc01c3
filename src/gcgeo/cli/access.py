"""``gcgeo access``: capacity-aware accessibility (2SFCA family) over walking distances."""

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
    category_option,
    layers_option,
    origin_options,
    population_total_option,
    study_options,
)

__all__ = ["access"]


@click.command()
@study_options
@origin_options
@layers_option
@category_option()
@click.option(
    "--method",
    type=click.Choice(["2sfca", "e2sfca", "gaussian"]),
    default="2sfca",
    show_default=True,
    help="2sfca: all within the catchment count fully; e2sfca: three distance bands "
    "(1, 0.68, 0.22); gaussian: exp(-d²/2σ²), σ = catchment/2.",
)
@click.option(
    "--capacity",
    type=Measure("places", low=0, low_open=False, high=1e7, example="120"),
    default=1.0,
    show_default=True,
    help="Places per facility (seats, beds); 1 counts facilities.",
)
@click.option(
    "--capacity-col",
    default=None,
    help="Column of --facilities holding each facility's places (others get --capacity).",
)
@click.option(
    "--catchment",
    type=Measure("metres", high=10_000, example="300"),
    default=None,
    help="Catchment (m); default: the category's threshold.",
)
@population_total_option
@click.option("--od", "write_od", is_flag=True, default=False, help="Also write OUT/od.csv.")
@handle_errors
def access(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    layers_dir: str | None,
    category: str,
    method: str,
    capacity: float,
    capacity_col: str | None,
    catchment: float | None,
    population_total: float | None,
    write_od: bool,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Supply per resident within reach (2SFCA, E2SFCA or Gaussian) for one category.

    Writes OUT/access.csv (one row per origin: id, access_<category>, population, nearest
    walk), OUT/access_by_area.csv (population-weighted mean per zone, wing and renewal area),
    OUT/run.json and, with --od, OUT/od.csv (origin_id, facility_id, distance_m for every
    pair within the catchment) to check the scores with other tools.
    """
    import numpy as np
    import pandas as pd
    import shapely

    from .._io import atomic_write_text, output_set, write_csv
    from ..by_area import AREA_COLUMNS, assign_areas
    from ..catalogue import load_catalogue
    from ..coverage import project_points
    from ..fca import fca_scores, od_pairs
    from ..layers import load_layer
    from ..population import estimate_total
    from ..snap import snap_points
    from .common import make_origins, open_study_from_args, read_origin_inputs

    cat = load_catalogue(study_args.catalogue_path)
    chosen = cat.select([category])[0]
    d0 = float(catchment or chosen.max_distance_m)
    out = Path(out_dir)
    names = ["access.csv", "access_by_area.csv", "run.json"] + (["od.csv"] if write_od else [])
    targets = [out / n for n in names]
    check_outputs(targets, overwrite, [*study_args.inputs, *origin_args.inputs, layers_dir])
    check_layers_dir(layers_dir)
    boundary, layer = read_origin_inputs(origin_args)
    if layer is not None and not origin_args.population:
        raise InputError("--origins needs --population (the column of residents) for access.")
    if layer is None and population_total is None:
        raise InputError(
            "access needs a population: --origins FILE --population COL, or grid origins with "
            "--population-total N."
        )
    study = open_study_from_args(study_args, cat, boundary, [chosen])
    net = study.network
    origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
    if layer is not None:
        population, source = origins["population"].to_numpy(float), "layer"
    else:
        population, source = estimate_total(origins, study_args.osm_path, net.residential,
                                            float(population_total))  # fmt: skip
    fac = study.facilities[study.facilities["category"] == category].reset_index(drop=True)
    fxy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
    fsnap = snap_points(net, fxy, study_args.max_snap)
    osnap = snap_points(net, project_points(origins, net.crs), study_args.max_snap)
    places = np.full(len(fac), float(capacity))
    if capacity_col:
        places = _capacities(study_args.facilities_csv, capacity_col, fac, places)
    pairs = od_pairs(net, osnap, fsnap, d0)
    score, ratio = fca_scores(pairs, population, places, d0, method)
    nearest = np.full(len(origins), np.nan)
    if len(pairs.origin):
        best = pd.Series(pairs.distance).groupby(pairs.origin).min()
        nearest[best.index.to_numpy()] = best.to_numpy()
    ids = origins["cell_id"] if "cell_id" in origins.columns else pd.Series(origins.index)
    table = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            f"access_{category}": score,
            "population": population,
            "nearest_m": nearest,
            "population_source": source,
            "estimate": source.startswith("estimate"),
        }
    )
    where = assign_areas(origins, layers_dir)
    rows = []
    for layer_name, col in AREA_COLUMNS.items():
        areas = load_layer(layer_name, layers_dir)
        member = where[col].to_numpy(object)
        for _, a in areas.iterrows():
            m = member == str(a["code"])
            pop = float(population[m].sum())
            rows.append(
                {
                    "area_layer": layer_name,
                    "code": a["code"],
                    "name_zh": a["name_zh"],
                    "population": pop,
                    f"mean_access_{category}": float((score[m] * population[m]).sum() / pop)
                    if pop > 0
                    else np.nan,
                    "within_catchment_share": float(population[m & (nearest <= d0)].sum() / pop)
                    if pop > 0
                    else np.nan,
                }
            )
    by_area = pd.DataFrame(rows)
    run = {
        "category": category,
        "method": method,
        "catchment_m": d0,
        "capacity_per_facility": capacity,
        "capacity_column": capacity_col,
        "places": float(places.sum()),
        "facilities": len(fac),
        "facilities_unsnapped": int((~fsnap.ok).sum()),
        "origins": len(origins),
        "population_source": source,
        "population_estimate": source.startswith("estimate"),
        "pairs_within_catchment": len(pairs.origin),
        "outputs": [str(t) for t in targets],
    }
    with output_set(out) as stage:
        write_csv(table, stage / names[0], exact=True)
        write_csv(by_area, stage / names[1])
        atomic_write_text(stage / names[2], json.dumps(run, ensure_ascii=False, indent=2))
        if write_od:
            fid = fac["facility_id"].astype(str).to_numpy()
            od = pd.DataFrame(
                {
                    "origin_id": ids.to_numpy()[pairs.origin],
                    "facility_id": fid[pairs.facility],
                    "distance_m": pairs.distance,
                }
            )
            write_csv(od, stage / names[3], exact=True)
    if as_json:
        echo_json(run)
        return
    click.echo(
        f"{chosen.name_zh} {chosen.name_en}: {method} within {d0:g} m, {len(fac)} facilities × "
        f"{capacity:g} places; mean score {np.average(score, weights=np.maximum(population, 1e-12)):.4g}"
    )
    click.echo(f"Wrote {', '.join(str(t) for t in targets)}")


def _capacities(path: str | None, column: str, fac: Any, default: Any) -> Any:
    """Places per facility from a column of the --facilities table (matched by its ids, as
    gcgeo names the table's rows); facilities not in the table keep ``default``."""
    import numpy as np
    import pandas as pd

    from ..facilities import read_table

    if path is None:
        raise InputError("--capacity-col needs --facilities (the table holding that column).")
    table = read_table(path, "Facilities")
    if column not in table.columns:
        raise InputError(
            f"--capacity-col {column!r} is not a column of {path!r} (columns: "
            f"{', '.join(map(str, table.columns))})."
        )
    values = pd.to_numeric(table[column], errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise InputError(f"--capacity-col {column!r} has missing or negative values; fix them.")
    ids = (
        table["id"].astype(str)
        if "id" in table.columns
        else pd.Series([f"csv{i + 1}" for i in range(len(table))])
    )
    by_id = pd.Series(values.astype(float).to_numpy(), index=ids.to_numpy())
    got = fac["facility_id"].astype(str).map(by_id).to_numpy(float)
    return np.where(np.isnan(got), default, got)
