"""``gcgeo layers``: list, check and draw the district layers."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from .._io import atomic_path
from .common import check_outputs, echo_json, handle_errors
from .options import json_option, layers_option, overwrite_option

__all__ = ["check_cmd", "layers", "list_cmd", "plot_cmd"]


@click.group(name="layers")
def layers() -> None:
    """District layers 区划图层: boundary, zones, wings, renewal areas, planned facilities."""


@layers.command(name="list")
@layers_option
@json_option
@handle_errors
def list_cmd(layers_dir: str | None, as_json: bool) -> None:
    """List the layers 图层列表: features, origin, confidence, sources."""
    from ..layers import layer_summary
    from ..register import load_register

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = layer_summary(layers_dir)
        register = load_register(layers_dir)
    if as_json:
        echo_json(
            {
                "layers": table.to_dict(orient="records"),
                "register_rows": len(register),
                "warnings": [str(w.message) for w in caught],
            }
        )
        return
    for _, r in table.iterrows():
        click.echo(f"{r['layer']}  {r['name_zh']} / {r['name_en']}")
        click.echo(
            f"  features {r['features']} (located {r['located']}) · {r['origin']} · "
            f"confidence: {r['confidence']} · {r['sources']} distinct source(s)"
        )
        src = str(r["main_source"])
        click.echo(f"  source: {src[:110] + '…' if len(src) > 110 else src}")
    click.echo(f"renewal_register.csv 更新台账: {len(register)} rows")
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)


@layers.command(name="check")
@click.argument("layers_dir", type=click.Path(file_okay=False, path_type=str))
@handle_errors
def check_cmd(layers_dir: str) -> None:
    """Check a planner's replacement layers in LAYERS_DIR 检查图层 (exit 2 on any problem)."""
    from ..layers import check_layers_dir

    checked, problems, repairs = check_layers_dir(layers_dir)
    for msg in repairs:
        click.echo(f"repaired: {msg}", err=True)
    if problems:
        for msg in problems:
            click.echo(msg)
        click.echo(
            f"{len(problems)} problem(s) in {len(checked)} file(s); fix them and check again.",
            err=True,
        )
        sys.exit(2)
    click.echo(f"OK ({', '.join(checked)})")


@layers.command(name="plot")
@click.argument("out", type=click.Path(dir_okay=False, path_type=str))
@layers_option
@overwrite_option
@click.option("--dpi", type=click.IntRange(50, 600), default=130, show_default=True)
@handle_errors
def plot_cmd(out: str, layers_dir: str | None, overwrite: bool, dpi: int) -> None:
    """Draw the layers to a PNG 绘制图层 (Chinese labels with a CJK font when installed)."""
    from ..layer_plot import plot_layers

    check_outputs([Path(out)], overwrite, [layers_dir])
    fig = plot_layers(layers_dir)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi)
    click.echo(f"wrote {Path(out)}")
