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
    """Attach the commands of each topic module (one line per module)."""
    from ._cmd_core import coverage, reach

    main.add_command(reach)
    main.add_command(coverage)
    from ._cmd_scenario import deadends, scenario, suggest

    main.add_command(scenario)
    main.add_command(deadends)
    main.add_command(suggest)

    from ._cmd_layers import layers

    main.add_command(layers)

    from ._cmd_workflow import cache_group, demo, fetch

    main.add_command(fetch)
    main.add_command(demo)
    main.add_command(cache_group)

    from ._cmd_maps import isochrone, map_command

    main.add_command(map_command)
    main.add_command(isochrone)


_register()
