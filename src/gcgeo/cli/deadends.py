"""``gcgeo deadends``: dead ends (断头路) and candidate links ranked by coverage gained."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import shapely

from .. import settings
from .._io import atomic_write_text, output_set, write_csv
from ..catalogue import load_catalogue
from .common import (
    check_outputs,
    echo_json,
    handle_errors,
    make_origins,
    open_study_from_args,
    read_origin_inputs,
)
from .options import (
    Measure,
    OriginArgs,
    StudyArgs,
    categories_option,
    category_option,
    origin_options,
    study_options,
)
from .progress import steps

__all__ = ["deadends"]


@click.command("deadends")
@study_options
@origin_options
@category_option(required=False, help="Rank by this category (default: sum over all).")
@categories_option
@click.option(
    "--max-link",
    type=Measure("metres", high=5000, example="150"),
    default=150.0,
    show_default=True,
    help="Longest candidate link (m).",
)
@click.option(
    "--edge-margin",
    type=Measure("metres", low_open=False, high=10_000, example="50"),
    default=50.0,
    show_default=True,
    help="Ignore degree-1 nodes this close (m) to the extract's edge (0: keep all).",
)
@click.option(
    "--detour-ratio",
    type=Measure("× the gap", low=1, low_open=False, high=1000, example="2"),
    default=2.0,
    show_default=True,
    help="Propose a link only if the street route is longer than this × the gap.",
)
@handle_errors
def deadends(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    category: str | None,
    categories: str | None,
    max_link: float,
    edge_margin: float,
    detour_ratio: float,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Dead ends (断头路) and candidate links ranked by coverage gained.

    Writes OUT/deadends.csv (rank, node osmid, lon, lat, link_m, gained
    origins per category) and OUT/deadends.geojson (links, WGS-84). The
    extract's edge is the --boundary outline if given, else the network's hull.
    """
    from ..deadends import find_dead_ends, prepare_base, propose_links, rank_links, read_barriers

    cat = load_catalogue(study_args.catalogue_path)
    categories = cat.select(categories)
    if category:
        chosen = cat.select([category])[0]
        if chosen.id not in [c.id for c in categories]:
            categories = [*categories, chosen]
    out_dir = Path(out_dir)
    targets = [out_dir / "deadends.csv", out_dir / "deadends.geojson"]
    check_outputs(targets, overwrite, [*study_args.inputs, *origin_args.inputs])
    boundary, layer = read_origin_inputs(origin_args)
    with steps(5, enabled=not as_json) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_args(study_args, cat, boundary)
        net = study.network
        origins = make_origins(origin_args, net, boundary, layer, study_args.max_snap)
        step("finding dead ends and barriers")
        dead = find_dead_ends(net, edge_margin, boundary)
        # links join network nodes, so only barriers across the network's hull matter
        lonlat = net.nodes[["lon", "lat"]].to_numpy(dtype=float)
        hull = shapely.convex_hull(shapely.multipoints(lonlat)).buffer(1e-4)  # about 10 m
        barriers = read_barriers(study_args.osm_path, clip=hull)
        step("proposing links")
        links = propose_links(net, dead, max_link, barriers, detour_ratio)
        step(f"ranking {len(links)} links over {len(categories)} categories")
        base = prepare_base(net, study.facilities, categories, origins, study_args.max_snap)
        ranked = rank_links(net, base, links, category)
        step("writing outputs")
        cols = [
            "rank",
            "osmid",
            "lon",
            "lat",
            "target_lon",
            "target_lat",
            "link_m",
            "detour_m",
            "saved_m",
            "gained",
            *[f"gained_{c.id}" for c in categories],
        ]
        table = ranked[cols].copy()
        for c in ("link_m", "detour_m", "saved_m"):
            table[c] = table[c].round(2)
        gj = gpd.GeoDataFrame(table, geometry=ranked.geometry.values, crs=net.crs).to_crs(
            settings.WGS84
        )
        with output_set(out_dir) as stage:
            write_csv(table, stage / targets[0].name)
            atomic_write_text(stage / targets[1].name, gj.to_json(ensure_ascii=False, drop_id=True))
    summary = {
        "dead_ends": len(dead),
        "excluded_at_edge": dead.attrs["excluded_at_edge"],
        "barriers": len(barriers),
        "candidate_links": len(links),
        "ranked_by": category or "sum of categories",
        "top": table.head(5).to_dict(orient="records"),
        "outputs": [str(t) for t in targets],
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"{len(dead)} dead ends ({summary['excluded_at_edge']} at the extract's edge ignored), "
        f"{len(links)} candidate links; wrote {', '.join(str(t) for t in targets)}"
    )
