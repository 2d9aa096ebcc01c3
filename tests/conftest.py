"""Shared test fixtures and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BEIJING_OSM = SHARED / "data" / "osm" / "beijing_cau.osm"
GC_DATA = SHARED / "data" / "gangcheng"


@pytest.fixture
def beijing_osm() -> Path:
    if not BEIJING_OSM.exists():
        pytest.skip(f"shared data file {BEIJING_OSM} is absent on this machine")
    return BEIJING_OSM
