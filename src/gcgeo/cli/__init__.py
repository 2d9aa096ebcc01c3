"""The ``gcgeo`` command line: a click group of thin commands over the library.

Commands load lazily: the group knows each command's module and one-line help from the table
below, so ``gcgeo --help`` imports nothing but click, and ``gcgeo layers list`` imports only
what listing the layers needs. Each module under ``gcgeo.cli`` holds one command (or one
command group); shared options are defined once in :mod:`gcgeo.cli.options` and the shared
error handling and input helpers in :mod:`gcgeo.cli.common`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from importlib import import_module
from typing import Any

import click

from .. import __version__

__all__ = ["COMMANDS", "main", "run"]

#: name -> (module:attribute, one-line help shown by ``gcgeo --help``), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("gcgeo.cli.demo:demo", "Run gcgeo offline on a synthetic street network of 钢城区's core."),
    "fetch": ("gcgeo.cli.fetch:fetch", "Download streets and facilities from OpenStreetMap (Overpass)."),
    "reach": ("gcgeo.cli.reach:reach", "Walking distance from each point to the nearest facility of a category."),
    "coverage": ("gcgeo.cli.coverage:coverage", "Coverage of every category over a grid or origin layer."),
    "map": ("gcgeo.cli.map:map_command", "Map of walking minutes to the nearest facility of one category."),
    "isochrone": ("gcgeo.cli.isochrone:isochrone", "Walking isochrones from one point."),
    "scenario": ("gcgeo.cli.scenario:scenario", "Compare coverage before and after scenario files."),
    "deadends": ("gcgeo.cli.deadends:deadends", "Dead ends (断头路) and candidate links ranked by coverage gained."),
    "suggest": ("gcgeo.cli.suggest:suggest", "Suggest K sites for a category by greedy maximal covering."),
    "report": ("gcgeo.cli.report:report", "HTML reports per zone and renewal area."),
    "checkup": ("gcgeo.cli.checkup:checkup", "城市体检 indicators per district, zone, wing and renewal area."),
    "batch": ("gcgeo.cli.batch:batch", "Coverage for every district of an extract, serially or on Dask."),
    "access": ("gcgeo.cli.access:access", "Capacity-aware accessibility (2SFCA, E2SFCA, Gaussian) for one category."),
    "serve": ("gcgeo.cli.serve:serve", "Live what-if map in the browser: add facilities and links, see coverage."),
    "layers": ("gcgeo.cli.layers:layers", "District layers 区划图层: list, check, plot."),
    "cache": ("gcgeo.cli.cache:cache_group", "Inspect or clear the cache of built networks."),
}  # fmt: skip


class LazyGroup(click.Group):
    """A group whose commands are imported only when run (click's lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target[0].partition(":")
        command = getattr(import_module(module), attr)
        if not isinstance(command, click.Command):  # pragma: no cover - a table error
            raise TypeError(f"{target[0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        """The command list from the table: no command module is imported for ``--help``."""
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcgeo")
def main() -> None:
    """gcgeo: 15-minute life-circle reachability for 钢城区 (Gangcheng District)."""


def run() -> None:
    """The ``gcgeo`` console script: :func:`main`, then a quick exit.

    Once the command has finished and Python has done everything it does at exit that a
    program can see (threads joined, every ``atexit`` handler run: temporary folders
    removed, files closed), the process ends without tearing the interpreter down:
    freeing pandas', GDAL's and PROJ's state took about 0.3 s of every run. The exit
    status is the command's (0, 2 for a refused input, 1 for an error).
    """
    status = [1]
    atexit.register(_leave, status)  # registered first: runs after every other handler
    try:
        main()
        status[0] = 0
    except SystemExit as exc:
        code = exc.code
        status[0] = code if isinstance(code, int) else (0 if code is None else 1)
        raise


def _leave(status: list[int]) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing left to flush
            stream.flush()
    os._exit(status[0])
