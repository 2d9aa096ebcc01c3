"""``gcgeo suggest``: K sites for a category by greedy maximal covering."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from .. import settings
from .._errors import InputError
from .._io import atomic_write_text, output_set, write_csv
from ..catalogue import load_catalogue
from .common import (
    check_outputs,
    echo_json,
    handle_errors,
    make_origins,
    open_study_from_args,
    read_areas,
    read_boundary,
    read_origin_inputs,
)
from .options import (
    OriginArgs,
    StudyArgs,
    areas_option,
    category_option,
    crs_option,
    origin_options,
    study_options,
)
from .progress import steps

__all__ = ["suggest"]


def _read_candidates(
    path: str, crs: str, lon_col: str | None, lat_col: str | None
) -> gpd.GeoDataFrame:
    """Candidate sites with an ``id`` and coordinates (any table :func:`read_table` reads)."""
    from ..tables import as_points, read_table

    cands = as_points(
        read_table(path, what="Candidates", lon_col=lon_col, lat_col=lat_col, crs=crs)
    )
    if "id" not in cands.columns:
        found = ", ".join(map(str, cands.columns.drop(cands.geometry.name)))
        raise InputError(
            f"Candidates file {path!r} has no 'id' column (found: {found}); add an id column "
            "naming each site."
        )
    return cands.assign(id=cands["id"].astype(str))


def _resolve_within(value: str | None, areas_path: str | None) -> gpd.GeoDataFrame | None:
    if value is None:
        return None
    if Path(value).is_file():
        return read_boundary(value)
    if areas_path is None:
        raise InputError(
            f"--within {value!r} is neither a file nor usable as an area code without --areas; "
            "pass a polygon file or --areas FILE with a code column."
        )
    areas = read_areas(areas_path)
    hit = areas[areas["code"].astype(str) == value]
    if hit.empty:
        codes = ", ".join(map(str, areas["code"].head(8)))
        raise InputError(f"--within code {value!r} is not in {areas_path!r} (codes: {codes}).")
    return hit


@click.command("suggest")
@study_options
@origin_options
@category_option()
@click.option("--count", "k", type=click.IntRange(min=1), required=True, help="Sites to suggest.")
@click.option("--within", default=None, help="Polygon file, or an area code of --areas.")
@areas_option
@click.option(
    "--candidates",
    "candidates_csv",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Candidate sites (id and coordinates: CSV, XLSX, GeoJSON, GPKG) instead of every "
    "street node.",
)
@crs_option("--candidates-crs", "--candidates")
@click.option("--repeats", type=click.IntRange(min=0), default=200, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@handle_errors
def suggest(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    category: str,
    k: int,
    within: str | None,
    areas: str | None,
    candidates_csv: str | None,
    candidates_crs: str,
    repeats: int,
    seed: int,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Suggest K sites for a category by greedy maximal covering.

    Writes OUT/suggestions.csv (pick, site, marginal gain, coverage after each
    pick; the random K-site baseline in the last columns) and
    OUT/suggestions.geojson (WGS-84 points).
    """
    from ..suggest import suggest_sites

    cat = load_catalogue(study_args.catalogue_path)
    category = cat.select([category])[0]
    out_dir = Path(out_dir)
    targets = [out_dir / "suggestions.csv", out_dir / "suggestions.geojson"]
    check_outputs(
        targets, overwrite, [*study_args.inputs, *origin_args.inputs, areas, candidates_csv]
    )
    boundary, layer = read_origin_inputs(origin_args)
    within = _resolve_within(within, areas)
    cands = (
        _read_candidates(candidates_csv, candidates_crs, origin_args.lon_col, origin_args.lat_col)
        if candidates_csv
        else None
    )
    with steps(3, enabled=not as_json) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_args(study_args, cat, boundary)
        net = study.network
        origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
        step("coverage matrix and greedy picks")
        res = suggest_sites(
            net,
            study.facilities,
            category,
            origins,
            k,
            cands,
            within,
            repeats,
            seed,
            study_args.max_snap,
        )
        step("writing outputs")
        table = pd.DataFrame(res.picks.drop(columns=res.picks.geometry.name))
        for key in ("base_share", "random_mean_share", "random_max_share", "repeats"):
            table[key] = res.meta[key]
        gj = gpd.GeoDataFrame(table, geometry=res.picks.geometry.values, crs=net.crs).to_crs(
            settings.WGS84
        )
        with output_set(out_dir) as stage:
            write_csv(table, stage / targets[0].name)
            atomic_write_text(stage / targets[1].name, gj.to_json(ensure_ascii=False, drop_id=True))
    if as_json:
        echo_json({**res.meta, "outputs": [str(t) for t in targets]})
        return
    m = res.meta
    click.echo(
        f"{category.name_zh} {category.name_en}: {m['base_share']:.1%} covered now; "
        f"{m['picked']} greedy site(s) -> {m['greedy_share']:.1%} "
        f"(random {m['k']} sites: mean {m['random_mean_share']:.1%}, best "
        f"{m['random_max_share']:.1%} of {m['repeats']}); wrote "
        + ", ".join(str(t) for t in targets)
    )
