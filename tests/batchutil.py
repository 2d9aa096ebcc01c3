"""A district task for the Dask tests that kills its own worker process the first time."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["district_or_die"]


def district_or_die(task: dict) -> dict:
    """:func:`gcgeo.cli.batch.run_district`, except that the first attempt of the district
    named in ``task["die_on"]`` ends its worker process halfway (after its network is cut)."""
    from gcgeo.cli.batch import run_district

    marker = Path(task["marker"])
    if task["code"] == task.get("die_on") and not marker.exists():
        from gcgeo.network import load_network

        load_network(task["study"]["osm_path"])  # some real work first
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return run_district(task)
