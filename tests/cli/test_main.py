"""The ``gcgeo`` group: help and the command list."""

from __future__ import annotations

from cli.cliutil import run


def test_help_lists_commands() -> None:
    r = run("--help")
    assert r.exit_code == 0 and "reach" in r.output and "coverage" in r.output
