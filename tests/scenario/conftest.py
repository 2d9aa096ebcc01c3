"""Fixtures of the scenario tests: the hand-checked two-block town and its origins."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from gridosm import TOWN_NODES, points, two_blocks

from gcgeo.study import Study, open_study

from .town import town_xml


@pytest.fixture
def study(tmp_path: Path) -> Study:
    p = tmp_path / "town.osm"
    p.write_text(town_xml(), encoding="utf-8")
    return open_study(p)


@pytest.fixture
def origins() -> gpd.GeoDataFrame:
    b = two_blocks()
    return points([b.xy(k) for k in TOWN_NODES], name=TOWN_NODES)
