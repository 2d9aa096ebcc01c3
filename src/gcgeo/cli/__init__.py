"""The ``gcgeo`` command line: a click group of thin commands over the library.

Each topic keeps its commands in a private ``_cmd_*`` module registered here.
"""

from __future__ import annotations

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gcgeo")
def main() -> None:
    """gcgeo: 15-minute life-circle reachability for 钢城区 (Gangcheng District)."""


def _register() -> None:
    """Attach the commands of each topic module."""
    from ._cmd_core import coverage, reach
    from ._cmd_layers import layers
    from ._cmd_maps import isochrone, map_command
    from ._cmd_report import report
    from ._cmd_scenario import deadends, scenario, suggest
    from ._cmd_workflow import cache_group, demo, fetch

    for cmd in (demo, fetch, reach, coverage, map_command, isochrone, scenario, deadends,
                suggest, report, layers, cache_group):  # fmt: skip
        main.add_command(cmd)


_register()
