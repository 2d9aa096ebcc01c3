"""A task for the Dask tests that kills its own worker process the first time it runs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["square_or_die"]


def square_or_die(item: dict) -> dict:
    """``item["x"] ** 2``; with ``die`` set, the first attempt ends its worker process."""
    marker = Path(item["marker"]) if item.get("die") else None
    if marker is not None and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)  # the worker dies mid-task, as on an out-of-memory kill
    return {"x": item["x"], "y": item["x"] ** 2, "pid": os.getpid()}
