"""A progress bar on stderr that appears only for work lasting over a second."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tqdm import tqdm

__all__ = ["Steps", "steps"]


class _Bar(tqdm):
    """tqdm without its monitor thread: the bars advance on their own steps, and a second
    thread would keep the searches from sharing two cores (:mod:`gcgeo.parallel`)."""

    monitor_interval = 0


class Steps:
    """Named steps advancing one bar (``step("reading OSM")``)."""

    def __init__(self, bar: _Bar) -> None:
        self._bar = bar
        self._started = False

    def __call__(self, label: str) -> None:
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description_str(label)


@contextlib.contextmanager
def steps(total: int, enabled: bool = True) -> Iterator[Steps]:
    """A bar of ``total`` steps on stderr, shown after one second (tqdm ``delay``).

    Only on an interactive terminal: logs, pipes and test runners get no bar.
    """
    show = enabled and sys.stderr.isatty()
    with _Bar(total=total, delay=1.0, disable=not show, leave=False, unit="step") as bar:
        s = Steps(bar)
        yield s
        bar.update(bar.total - bar.n)
