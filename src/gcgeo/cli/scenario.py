"""``gcgeo scenario``, ``gcgeo deadends`` and ``gcgeo suggest``: thin commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._cli_common import (
    Measure,
    check_outputs,
    echo_json,
    handle_errors,
    make_origins,
    open_study_from_options,
    origin_options,
    read_boundary,
    read_origin_inputs,
    study_options,
)
from ._errors import InputError
from ._io import atomic_write_text, output_set, write_csv, write_gpkg
from ._progress import steps
from .catalogue import load_catalogue
from .escape import html_text

__all__ = ["deadends", "scenario", "suggest", "summary_html"]


def _read_areas(path: str | None) -> gpd.GeoDataFrame | None:
    if path is None:
        return None
    gdf = read_boundary(path)
    missing = [c for c in ("code", "name_zh", "name_en") if c not in gdf.columns]
    if missing:
        raise InputError(
            f"Area file {path!r} lacks column(s) {', '.join(missing)}; it needs code, name_zh, "
            "name_en."
        )
    return gdf


# --------------------------------------------------------------------------- scenario


def summary_html(result: Any, map_html: str | None = None) -> str:
    """A one-page, self-contained HTML summary of a scenario comparison.

    Every name is escaped. ``map_html`` (e.g. a folium delta map from
    ``gcgeo.maps``) is inserted where the ``<!-- gcgeo:map -->`` hook stands.
    """
    e = html_text
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        "<title>gcgeo scenario summary 情景对比</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:1100px}",
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
        "text-align:right}th{background:#eee}td.l{text-align:left}.up{color:#186a1e}.down{color:#b00}",
        "</style></head><body><h1>情景对比 Scenario comparison</h1>",
    ]
    for sc in result.scenarios:
        t = result.tables[sc.name]
        parts.append(
            f"<h2>{e(sc.name)}</h2><p>{e(sc.description)} Persona: {e(sc.persona)} "
            f"({sc.speed_mps:g} m/s); {len(sc.add_facilities)} facilities added, "
            f"{len(sc.remove_facilities)} removed, {len(sc.add_links)} links added. "
            f"Source: {e(sc.source)}</p>"
        )
        parts.append(
            "<table><tr><th>category</th><th>area</th><th>threshold m</th><th>before</th>"
            "<th>after</th><th>change</th><th>gained</th><th>lost</th></tr>"
        )
        for r in t.itertuples():
            cls = "up" if r.delta_share > 0 else ("down" if r.delta_share < 0 else "")
            parts.append(
                f"<tr><td class='l'>{e(str(r.category))}</td>"
                f"<td class='l'>{e(str(r.area_name_zh))} {e(str(r.area_name_en))}</td>"
                f"<td>{r.threshold_m:g}</td><td>{r.before_share:.1%}</td><td>{r.after_share:.1%}</td>"
                f"<td class='{cls}'>{r.delta_share:+.1%}</td><td>{r.gained}</td><td>{r.lost}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<!-- gcgeo:map -->")
    if map_html:
        parts.append(f"<div class='map'>{map_html}</div>")
    parts.append(
        "<p><small>Shares are of origins (or population) within each category's walking "
        "threshold, scaled to the persona's speed. © OpenStreetMap contributors.</small></p>"
        "</body></html>"
    )
    return "\n".join(parts)


def _delta_map_html(result: Any) -> str | None:
    """The delta map (:func:`gcgeo.maps.scenario_delta_map`) as an offline HTML fragment."""
    from .maps import scenario_delta_map, to_fragment

    return "<h2>地图 Map: 新增/失去可达的起点 origins gaining or losing reach</h2>" + to_fragment(
        scenario_delta_map(result, offline=True), height="560px"
    )


@click.command("scenario")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@study_options
@origin_options
@click.option(
    "--categories", default=None, help="Comma-separated category ids (default: all life-circle)."
)
@click.option(
    "--planned",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help='Planned-facility layer for planned = "<id>" (default layers/planned_facilities.geojson).',
)
@click.option(
    "--areas",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Zones or renewal areas (polygons with code, name_zh, name_en) for per-area rows.",
)
@handle_errors
def scenario(files: tuple[str, ...], **kw: Any) -> None:
    """Compare coverage before and after one or more scenario FILES (TOML).

    Writes OUT/delta.csv (per category and area, one column group per
    scenario when several), OUT/origins_delta.gpkg (origins gaining or losing
    reach) and OUT/summary.html.
    """
    from .scenario import apply_scenario, compare, load_scenario

    cat = load_catalogue(kw["catalogue_path"])
    categories = cat.select(kw["categories"])
    out_dir = Path(kw["out_dir"])
    targets = [out_dir / n for n in ("delta.csv", "origins_delta.gpkg", "summary.html")]
    check_outputs(targets, {**kw, "files": files})
    planned = kw["planned"]
    scenarios = [load_scenario(f, cat, planned) for f in files]
    boundary, layer = read_origin_inputs(kw)
    areas = _read_areas(kw["areas"])
    # build the network and check every scenario against it before any progress output
    study = open_study_from_options({**kw, "catalogue_path": cat})
    net = study.network
    for sc in scenarios:
        apply_scenario(net, study.facilities, sc)
    origins = make_origins(kw, net, boundary, layer)
    with steps(2, enabled=not kw["as_json"]) as step:
        step(f"coverage before and after {len(scenarios)} scenario(s)")
        result = compare(
            net,
            study.facilities,
            categories,
            origins,
            scenarios,
            areas,
            kw["max_snap"],
            kw["max_distance"],
        )
        step("writing outputs")
        page = summary_html(result, _delta_map_html(result))
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
    if kw["as_json"]:
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


@click.command("deadends")
@study_options
@origin_options
@click.option("--category", default=None, help="Rank by this category (default: sum over all).")
@click.option(
    "--categories", default=None, help="Categories evaluated (default: all life-circle ones)."
)
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
def deadends(**kw: Any) -> None:
    """Dead ends (断头路) and candidate links ranked by coverage gained.

    Writes OUT/deadends.csv (rank, node osmid, lon, lat, link_m, gained
    origins per category) and OUT/deadends.geojson (links, WGS-84). The
    extract's edge is the --boundary outline if given, else the network's hull.
    """
    from .deadends import find_dead_ends, prepare_base, propose_links, rank_links, read_barriers

    cat = load_catalogue(kw["catalogue_path"])
    categories = cat.select(kw["categories"])
    if kw["category"]:
        chosen = cat.select([kw["category"]])[0]
        if chosen.id not in [c.id for c in categories]:
            categories = [*categories, chosen]
    out_dir = Path(kw["out_dir"])
    targets = [out_dir / "deadends.csv", out_dir / "deadends.geojson"]
    check_outputs(targets, kw)
    boundary, layer = read_origin_inputs(kw)
    with steps(5, enabled=not kw["as_json"]) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_options({**kw, "catalogue_path": cat})
        net = study.network
        origins = make_origins(kw, net, boundary, layer)
        step("finding dead ends and barriers")
        dead = find_dead_ends(net, kw["edge_margin"], boundary)
        barriers = read_barriers(kw["osm_path"])
        step("proposing links")
        links = propose_links(net, dead, kw["max_link"], barriers, kw["detour_ratio"])
        step(f"ranking {len(links)} links over {len(categories)} categories")
        base = prepare_base(net, study.facilities, categories, origins, kw["max_snap"])
        ranked = rank_links(net, base, links, kw["category"])
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
            "EPSG:4326"
        )
        with output_set(out_dir) as stage:
            write_csv(table, stage / targets[0].name)
            atomic_write_text(stage / targets[1].name, gj.to_json(ensure_ascii=False, drop_id=True))
    summary = {
        "dead_ends": len(dead),
        "excluded_at_edge": dead.attrs["excluded_at_edge"],
        "barriers": len(barriers),
        "candidate_links": len(links),
        "ranked_by": kw["category"] or "sum of categories",
        "top": table.head(5).to_dict(orient="records"),
        "outputs": [str(t) for t in targets],
    }
    if kw["as_json"]:
        echo_json(summary)
        return
    click.echo(
        f"{len(dead)} dead ends ({summary['excluded_at_edge']} at the extract's edge ignored), "
        f"{len(links)} candidate links; wrote {', '.join(str(t) for t in targets)}"
    )


# --------------------------------------------------------------------------- suggest


def _read_candidates_csv(path: str) -> gpd.GeoDataFrame:
    """Candidate sites CSV with ``id, lon, lat`` (WGS-84)."""
    from .facilities import _read_csv

    df = _read_csv(path, "Candidates")
    missing = [c for c in ("id", "lon", "lat") if c not in df.columns]
    if missing:
        raise InputError(
            f"Candidates CSV {path!r} lacks column(s) {', '.join(missing)}; it needs id, lon, lat."
        )
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        raise InputError(
            f"Candidates CSV {path!r} line {int(np.flatnonzero(bad)[0]) + 2}: lon/lat is not a "
            "WGS-84 coordinate; fix that row."
        )
    return gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]).assign(id=df["id"].astype(str)),
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )


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
    areas = _read_areas(areas_path)
    hit = areas[areas["code"].astype(str) == value]
    if hit.empty:
        codes = ", ".join(map(str, areas["code"].head(8)))
        raise InputError(f"--within code {value!r} is not in {areas_path!r} (codes: {codes}).")
    return hit


@click.command("suggest")
@study_options
@origin_options
@click.option("--category", required=True, help="Category id, e.g. kindergarten.")
@click.option("--count", "k", type=click.IntRange(min=1), required=True, help="Sites to suggest.")
@click.option("--within", default=None, help="Polygon file, or an area code of --areas.")
@click.option(
    "--areas",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Zones/renewal areas (code, name_zh, name_en) where --within codes are looked up.",
)
@click.option(
    "--candidates",
    "candidates_csv",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Candidate sites CSV (id, lon, lat WGS-84) instead of every street node.",
)
@click.option("--repeats", type=click.IntRange(min=0), default=200, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@handle_errors
def suggest(**kw: Any) -> None:
    """Suggest K sites for a category by greedy maximal covering.

    Writes OUT/suggestions.csv (pick, site, marginal gain, coverage after each
    pick; the random K-site baseline in the last columns) and
    OUT/suggestions.geojson (WGS-84 points).
    """
    from .suggest import suggest_sites

    cat = load_catalogue(kw["catalogue_path"])
    category = cat.select([kw["category"]])[0]
    out_dir = Path(kw["out_dir"])
    targets = [out_dir / "suggestions.csv", out_dir / "suggestions.geojson"]
    check_outputs(targets, kw)
    boundary, layer = read_origin_inputs(kw)
    within = _resolve_within(kw["within"], kw["areas"])
    cands = _read_candidates_csv(kw["candidates_csv"]) if kw["candidates_csv"] else None
    with steps(3, enabled=not kw["as_json"]) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_options({**kw, "catalogue_path": cat})
        net = study.network
        origins = make_origins(kw, net, boundary, layer)
        step("coverage matrix and greedy picks")
        res = suggest_sites(
            net,
            study.facilities,
            category,
            origins,
            kw["k"],
            cands,
            within,
            kw["repeats"],
            kw["seed"],
            kw["max_snap"],
        )
        step("writing outputs")
        table = pd.DataFrame(res.picks.drop(columns=res.picks.geometry.name))
        for key in ("base_share", "random_mean_share", "random_max_share", "repeats"):
            table[key] = res.meta[key]
        gj = gpd.GeoDataFrame(table, geometry=res.picks.geometry.values, crs=net.crs).to_crs(
            "EPSG:4326"
        )
        with output_set(out_dir) as stage:
            write_csv(table, stage / targets[0].name)
            atomic_write_text(stage / targets[1].name, gj.to_json(ensure_ascii=False, drop_id=True))
    if kw["as_json"]:
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
