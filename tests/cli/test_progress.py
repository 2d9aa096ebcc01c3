"""The progress bar: none off a terminal (tqdm not even needed), and on one no monitor
thread, so the searches may still fork (gcgeo.parallel)."""

from __future__ import annotations

import io
import threading

import pytest

from gcgeo.cli import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with progress.steps(3) as step:
        step("reading")
        step("writing")
    assert err.getvalue() == ""


def test_bar_on_a_terminal_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Tty()
    monkeypatch.setattr("sys.stderr", err)
    before = {t.ident for t in threading.enumerate()}
    with progress.steps(2) as step:
        step("reading OSM")
        step("writing outputs")
        bar = step.bar
        assert {t.ident for t in threading.enumerate()} == before  # no tqdm_monitor
    assert bar.n == bar.total == 2 and type(bar).monitor_interval == 0
