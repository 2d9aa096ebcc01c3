"""Tests for gcgeo.layer_plot and ``gcgeo layers plot``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gcgeo.cli import main
from gcgeo.layer_plot import plot_layers


def test_cli_plot_writes_png_no_clobber(tmp_path: Path) -> None:
    out = tmp_path / "layers.png"
    res = CliRunner().invoke(main, ["layers", "plot", str(out), "--dpi", "50"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = CliRunner().invoke(main, ["layers", "plot", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.stderr


def test_plot_layers_returns_figure() -> None:
    fig = plot_layers()
    assert len(fig.axes) == 2
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "Central optimisation" in texts
