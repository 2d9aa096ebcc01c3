"""A command failing midway leaves no output under its final names (issue: planner's machine).

A failure is forced inside ``gcgeo demo`` (a hook that raises after others wrote) and inside
``gcgeo report`` (the third file write fails): the output folder does not appear, no staging
folder is left, and an existing earlier set stays as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from osmxml import hand_grid

from gcgeo import _io
from gcgeo.cli import main
from gcgeo.demo_run import DEMO_HOOKS, run_demo


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_demo_failing_in_a_hook_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "demo"

    def broken(ctx):
        raise RuntimeError("forced failure after the other hooks wrote")

    with pytest.raises(RuntimeError, match="forced failure"):
        run_demo(out, cache=False, hooks=[*DEMO_HOOKS[:1], broken])
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no staging folder left


def test_report_failing_midway_keeps_the_old_set(tmp_path: Path, monkeypatch) -> None:
    town = hand_grid().write(tmp_path / "town.osm")
    out = tmp_path / "rep"
    args = ["report", "--osm", str(town), "--categories", "kindergarten", "--no-cache",
            "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    before = _tree(out)
    real = _io.write_file
    calls = {"n": 0}

    def failing(path, content):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device", str(path))
        return real(path, content)

    import gcgeo.cli.report as cli_report

    monkeypatch.setattr(cli_report, "write_file", failing)
    r = CliRunner().invoke(main, [*args, "--overwrite"])
    assert r.exit_code == 2 and "disk is full" in r.output, r.output
    assert _tree(out) == before  # the complete old set, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep", "town.osm"]
