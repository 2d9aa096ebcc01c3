"""``gcgeo demo``: the whole pipeline offline on a synthetic street network of 钢城区's core."""

from __future__ import annotations

import json

import click

from .. import settings
from .common import echo_json, handle_errors
from .options import cache_argument, cache_options, json_option
from .progress import steps

__all__ = ["demo"]


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=str(settings.DEMO_DIR),
    show_default=True,
    help="Output folder. An earlier demo there is replaced without asking.",
)
@click.option("--seed", type=int, default=None, help="Generator seed (default 370117).")
@click.option(
    "--overwrite",
    is_flag=True,
    default=False,
    help="Also replace files in --out that an earlier demo did not write.",
)
@click.option(
    "--dem",
    is_flag=True,
    default=False,
    help="Also write a synthetic DEM (hills in the south, the old town on a slope) and "
    "compare the elderly's coverage with slopes and on flat streets (needs rasterio).",
)
@cache_options[0]
@cache_options[1]
@json_option
@handle_errors
def demo(
    out_dir: str,
    seed: int | None,
    overwrite: bool,
    dem: bool,
    cache_dir: str | None,
    no_cache: bool,
    as_json: bool,
) -> None:
    """Run gcgeo offline on a synthetic street network of 钢城区's urban core.

    Generates a seeded, made-up street pattern (main-road grid, residential blocks,
    gated compounds, cul-de-sacs, facilities named "示例 Demo …") around the
    estimated government seat and 钢城站, writes it as OSM XML and runs the same
    coverage as `gcgeo coverage`. Every output says "synthetic demo network — not
    real streets". The demo folder is gcgeo's own output: re-running the demo
    replaces it; files there that a demo did not write need --overwrite. With --dem it
    also writes gangcheng_demo_dem.tif (synthetic terrain), slopes_elderly.csv (the
    elderly persona's coverage with slopes vs flat, per category and area) and
    slopes_map.html/png.
    """
    from ..demo import DEMO_LABEL
    from ..demo_run import run_demo

    with steps(1, enabled=not as_json) as step:
        step("generating the demo network and running coverage")
        files = run_demo(
            out_dir, seed, cache_argument(cache_dir, no_cache), overwrite=overwrite, dem=dem
        )
    if as_json:
        echo_json({"label": DEMO_LABEL, "outputs": {k: str(v) for k, v in files.items()}})
        return
    run = json.loads(files["run"].read_text(encoding="utf-8"))
    click.echo(f"gcgeo demo — {DEMO_LABEL}")
    d = run["demo"]
    click.echo(
        f"  {d['nodes']} nodes, {d['ways']} ways, {d['gated_compounds']} gated compounds, "
        f"{d['dead_ends']} cul-de-sacs, {sum(d['facilities'].values())} facilities"
    )
    for r in run["summary"]:
        click.echo(
            f"  {r['name_zh']} {r['name_en']}: {r['share']:.1%} within {r['threshold_m']:g} m"
        )
    if dem:
        click.echo(f"  slopes (elderly, synthetic DEM): see {files['slopes']}")
    click.echo("Wrote " + ", ".join(str(p) for p in files.values()))
