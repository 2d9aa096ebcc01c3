"""A progress bar on stderr that appears only for work lasting over a second."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["Steps", "steps"]


class _NoBar:
    """What :class:`Steps` drives when no bar is shown (tqdm is not even imported)."""

    total = n = 0

    def update(self, k: int = 1) -> None:
        pass

    def set_description_str(self, label: str) -> None:
        pass


def _bar(total: int) -> Any:
    """A tqdm bar without its monitor thread: the bar advances on its own steps, and a
    second thread would keep the searches from sharing two cores (:mod:`gcgeo.parallel`)."""
    from tqdm import tqdm

    class _Bar(tqdm):
        monitor_interval = 0

    return _Bar(total=total, delay=1.0, leave=False, unit="step")


class Steps:
    """Named steps advancing one bar (``step("reading OSM")``)."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._started = False

    @property
    def bar(self) -> Any:
        """The tqdm bar driven (a no-op stand-in off a terminal)."""
        return self._bar

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
    if not (enabled and sys.stderr.isatty()):
        yield Steps(_NoBar())
        return
    with _bar(total) as bar:
        s = Steps(bar)
        yield s
        bar.update(bar.total - bar.n)
