"""``gcgeo map`` and ``gcgeo isochrone``: thin commands over :mod:`gcgeo.maps`."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from .. import maps
from .._errors import InputError
from .._io import atomic_path, atomic_write_text, write_gpkg
from ..catalogue import load_catalogue
from ..coverage import street_minutes
from ..demo import DEMO_LABEL
from .common import (
    check_layers_dir,
    check_outputs,
    echo_json,
    handle_errors,
    open_study_from_args,
)
from .options import (
    ONLINE_NOTE,
    StudyArgs,
    category_option,
    layers_option,
    offline_option,
    study_options,
    threshold_basis_option,
    tianditu_key_option,
    tiles_option,
)
from .progress import steps

__all__ = ["map_command"]


@click.command("map")
@study_options
@category_option()
@offline_option
@tiles_option
@tianditu_key_option
@click.option(
    "--png",
    is_flag=True,
    default=False,
    help="Also write a print map (PNG, 300 dpi) beside --out (.png).",
)
@click.option(
    "--page",
    type=click.Choice(list(maps.PAGES)),
    default="A4-landscape",
    show_default=True,
    help="Paper of the --png print map.",
)
@click.option(
    "--gpkg",
    "gpkg_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Also write a GeoPackage for QGIS: layers streets_minutes and facilities, styled.",
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
@threshold_basis_option
@handle_errors
def map_command(
    study_args: StudyArgs,
    category: str,
    offline: bool,
    tiles: str | None,
    tianditu_key: str | None,
    png: bool,
    page: str,
    gpkg_path: str | None,
    layers_dir: str | None,
    no_areas: bool,
    out: str,
    threshold_basis: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Map of walking minutes to the nearest facility of one category (HTML, optional PNG).

    Streets are coloured 0–5, 5–10, 10–15, > 15 minutes and unreachable, over a grey
    street basemap, with the category's facilities, the district's zones, wings and
    renewal areas (outlined and labelled; drafts dashed), a bilingual legend and a scale bar.
    """
    from ..walker import resolve_basis

    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    cat = load_catalogue(study_args.catalogue_path)
    category = cat.select([category])[0]
    out = Path(out)
    png = out.with_suffix(".png") if png else None
    gpkg = Path(gpkg_path) if gpkg_path else None
    if gpkg is not None and gpkg.suffix.lower() != ".gpkg":
        raise InputError(f"--gpkg {gpkg_path!r} must end in .gpkg.")
    check_outputs(
        [p for p in (out, png, gpkg) if p is not None],
        overwrite,
        [*study_args.inputs, layers_dir],
    )
    if tiles == "tianditu" and not tianditu_key:
        raise InputError("Tianditu tiles need an API key; pass --tianditu-key KEY.")
    check_layers_dir(layers_dir)
    areas = {} if no_areas else maps.district_areas(layers_dir)
    with steps(4 if png else 3, enabled=not as_json) as step:
        step("reading OSM and building the walk network")
        study = open_study_from_args(study_args, cat)
        net = study.network
        step("walking distances to the nearest facility")
        fac = study.facilities[study.facilities["category"] == category.id].reset_index(drop=True)
        edges = net.edges.copy()
        edges["walk_min"] = street_minutes(
            net,
            fac,
            category,
            study_args.speed,
            study_args.max_snap,
            study_args.max_distance,
            threshold_basis,
        )
        if net.costs is not None:  # slopes: each street's steepest piece, for the map
            edges["grade_pct"] = np.round(100 * net.costs.edge_grade(), 1)
        step("drawing the map")
        meta = {
            "id": category.id,
            "name_zh": category.name_zh,
            "name_en": category.name_en,
            "max_distance_m": category.max_distance_m,
        }
        notes = [f"示例 Demo · {DEMO_LABEL}"] if study.meta.get("synthetic") else []
        if not offline:
            notes.append(ONLINE_NOTE)
        m = maps.category_map(
            edges,
            fac,
            meta,
            areas,
            tiles=tiles,
            tianditu_key=tianditu_key,
            offline=offline,
            notes=notes,
        )
        html = maps.to_html(m)
        fig = None
        if png is not None:
            step("drawing the PNG")
            limit = (
                f" (≤ {category.max_distance_m:g} m)" if category.max_distance_m is not None else ""
            )
            fig = maps.static_map(
                edges=edges,
                column="walk_min",
                facilities=fac if len(fac) else None,
                categories=[meta],
                area_layers={k: v for k, v in areas.items() if k != "wings"},
                title=f"{category.name_zh} {category.name_en} 步行时间 walking time{limit}",
                page=page,
                notes=[*notes[:1], maps.draft_note(*areas.values())],
            )
    atomic_write_text(out, html)
    if gpkg is not None:
        from ..qgis_style import category_style, minutes_style

        label = f"{category.name_zh} {category.name_en}"
        keep = ["way_id", "name", "highway", "length", "walk_min"]
        streets = edges[[*keep, *(["grade_pct"] if "grade_pct" in edges else []), "geometry"]]
        finite = np.isfinite(streets["walk_min"].to_numpy(dtype=float))
        streets = streets.assign(walk_min=streets["walk_min"].where(finite))  # NULL: unreachable
        write_gpkg(
            streets,
            gpkg,
            layer="streets_minutes",
            styles=[
                minutes_style("streets_minutes", "walk_min", "line", f"{label} 步行时间", True),
                category_style("facilities", [(category.id, label)]),
            ],
            more_layers={"facilities": fac} if len(fac) else None,
        )
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
        "html_bytes": len(html.encode("utf-8")),
        "png": str(png) if png else None,
        "gpkg": str(gpkg) if gpkg else None,
        "offline": offline,
        "areas": {k: len(v) for k, v in areas.items()},
    }
    if as_json:
        echo_json(summary)
    else:
        click.echo(
            f"{category.name_zh} {category.name_en}: wrote {out}"
            + (f" and {png}" if png else "")
            + f" ({summary['html_bytes'] / 1e6:.1f} MB)"
        )
