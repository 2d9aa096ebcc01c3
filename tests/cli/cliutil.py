"""Helpers shared by the command tests (data builders and output checks)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from gridosm import lonlat as grid_lonlat
from osmxml import lonlat

from gcgeo.cli import main


def run(*args: str):
    """Run ``gcgeo ARGS`` in-process; exceptions end as the exit code."""
    return CliRunner().invoke(main, list(args))


def run_strict(*args: str) -> object:
    """Run ``gcgeo ARGS`` in-process; an unexpected exception fails the test with its traceback."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# hand-computed walks to the nearest kindergarten (see test_engine.py)
PTS = {
    "P1": (50, 190, 330.0),
    "P2": (190, -30, 90.0),
    "P4": (300, 0, 170.0),
    "P5": (310, 290, 30.0),
}


def _points_csv(path: Path, far: bool = True, swap: bool = False, encoding: str = "utf-8") -> Path:
    rows = []
    for pid, (x, y, _) in PTS.items():
        lon, lat = lonlat(x, y)
        rows.append((pid, lat, lon) if swap else (pid, lon, lat))
    if far:
        lon, lat = lonlat(3000, 3000)
        rows.append(("远处", lat, lon) if swap else ("远处", lon, lat))
    pd.DataFrame(rows, columns=["id", "lon", "lat"]).to_csv(path, index=False, encoding=encoding)
    return path


def _assert_usage_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


REMOTE_TAG = re.compile(r"<script[^>]*\bsrc=[\"']?https?://|<link[^>]*\bhref=[\"']?https?://")


def _unescape_js(page: str) -> str:
    """The page with the \\uXXXX escapes of folium's embedded JSON decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def _scenario(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(body, encoding="utf-8")
    return p


def _ll(x: float, y: float) -> str:
    lon, lat = grid_lonlat(x, y)
    return f"[{lon:.7f}, {lat:.7f}]"


def _one_line_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    for n in needles:
        assert n in lines[0], lines[0]
