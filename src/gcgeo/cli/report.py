"""``gcgeo report``: per-area HTML reports over one coverage run."""

from __future__ import annotations

from pathlib import Path

import click

from .._errors import InputError
from .._io import output_set, write_csv, write_file
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
    tianditu_key_option,
    tiles_option,
)
from .progress import steps

__all__ = ["report"]


@click.command("report")
@study_options
@origin_options
@categories_option
@click.option(
    "--map-category",
    default=None,
    help="Category whose walking minutes colour the streets (default kindergarten, else the first).",
)
@layers_option
@click.option(
    "--offline/--online",
    default=True,
    show_default=True,
    help="Offline (default): Leaflet inlined and no tiles, for intranets. --online: CDN "
    "scripts and OSM tiles.",
)
@tiles_option
@tianditu_key_option
@threshold_basis_option
@click.option(
    "--pdf",
    is_flag=True,
    default=False,
    help="Also print every report to OUT/report.pdf (A4, headless Chromium).",
)
@click.option(
    "--docx",
    is_flag=True,
    default=False,
    help="Also write OUT/report.docx (Word: the tables, print maps and notes).",
)
@handle_errors
def report(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    out_dir: str,
    categories: str | None,
    map_category: str | None,
    layers_dir: str | None,
    offline: bool,
    tiles: str | None,
    tianditu_key: str | None,
    threshold_basis: str | None,
    pdf: bool,
    docx: bool,
    as_json: bool,
    overwrite: bool,
) -> None:
    """HTML reports per zone, wing and renewal area, with tables and maps, for planning reports.

    Computes coverage once (as `gcgeo coverage`) and writes OUT/index.html (the district
    summary and links), OUT/zone_<code>.html, OUT/wing_<code>.html and
    OUT/renewal_<code>.html (bilingual title, outline source and confidence, coverage by
    category of the origins inside the area, mean completeness, an interactive map and a
    print map in OUT/maps/), OUT/print.html (everything, one area per A4 page), plus
    OUT/coverage.csv and OUT/coverage_by_area.csv; --pdf and --docx add OUT/report.pdf
    and OUT/report.docx. Pages are offline by default (no internet needed).
    """
    from ..demo import DEMO_LABEL, is_synthetic_osm
    from ..pdf import html_to_pdf, require_chromium
    from ..report import DOCX_FILE, PDF_FILE, PRINT_FILE, build_reports, report_filenames

    cat = load_catalogue(study_args.catalogue_path)
    from ..walker import resolve_basis, walker_categories

    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    categories = walker_categories(cat.select(categories), study_args.speed, threshold_basis)
    map_meta = cat.select([map_category])[0] if map_category else None
    if tiles == "tianditu" and not tianditu_key:
        raise InputError("Tianditu tiles need an API key; pass --tianditu-key KEY.")
    check_layers_dir(layers_dir)
    # file names as build_reports makes them; fails on broken layers before any work
    pages = list(report_filenames(layers_dir).values())
    out_dir = Path(out_dir)
    images = ["maps/" + p.removesuffix(".html") + ".png" for p in pages]
    names = ["coverage.csv", "coverage_by_area.csv", "index.html", *pages, PRINT_FILE, *images]
    names += [PDF_FILE] if pdf else []
    names += [DOCX_FILE] if docx else []
    chromium = require_chromium() if pdf else None  # before any work
    targets = [out_dir / n for n in names]
    check_outputs(targets, overwrite, [*study_args.inputs, *origin_args.inputs, layers_dir])
    boundary, layer = read_origin_inputs(origin_args)
    synthetic = is_synthetic_osm(study_args.osm_path)
    label = DEMO_LABEL if synthetic else None
    with steps(4, enabled=not as_json) as step:
        study, result, summary, located, by_area = coverage_with_areas(
            study_args, origin_args, cat, categories, boundary, layer, layers_dir, step
        )
        step("writing reports")
        net = study.network
        if label:
            summary = summary.assign(data_note=label)
            by_area = by_area.assign(data_note=label)
        html_pages = build_reports(
            net,
            located,
            study.facilities,
            categories,
            map_category=map_meta,
            layers_dir=layers_dir,
            speed_mps=study_args.speed,
            threshold_basis=threshold_basis,
            max_snap=study_args.max_snap,
            limit=study_args.max_distance,
            offline=offline,
            tiles=tiles,
            tianditu_key=tianditu_key,
            cell_size=origin_args.cell if layer is None else None,
            label=label,
            docx=docx,
            meta={
                "起点规则 origin rule": result.meta["origin_rule_text"],
                "步速 walking speed": f"{study_args.speed:g} m/s",
                "OSM": Path(study_args.osm_path).name,
            },
            extra_links={
                "coverage.csv": "全区分类覆盖 coverage by category, whole study",
                "coverage_by_area.csv": "分区覆盖 coverage by zone, wing and renewal area",
            },
        )
        with output_set(out_dir) as stage:
            write_csv(summary, stage / names[0])
            write_csv(by_area, stage / names[1])
            for name, content in html_pages.items():
                write_file(stage / name, content)
            if chromium is not None:
                html_to_pdf(stage / PRINT_FILE, stage / PDF_FILE, chromium)
    written = [str(targets[0]), str(targets[1]), *(str(out_dir / n) for n in html_pages)]
    written += [str(out_dir / PDF_FILE)] if pdf else []
    if as_json:
        echo_json(
            {
                "summary": summary.to_dict(orient="records"),
                "synthetic": synthetic,
                "offline": offline,
                "outputs": written,
                "bytes": {
                    n: len(t if isinstance(t, bytes) else t.encode("utf-8"))
                    for n, t in html_pages.items()
                },
            }
        )
        return
    if label:
        click.echo(f"Note: {label}")
    click.echo(f"Origins: {len(result.origins)} ({result.meta['origin_rule_text']})")
    click.echo(
        f"Wrote {len(pages)} area reports, {out_dir / 'index.html'}, {targets[0]} and {targets[1]}"
    )
