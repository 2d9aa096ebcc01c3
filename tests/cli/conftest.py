"""Fixtures of the command tests: the hand-checked towns as OSM files."""

from __future__ import annotations

from pathlib import Path

import pytest
from gridosm import two_blocks
from osmxml import OSMBuilder, hand_grid


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


@pytest.fixture
def street(tmp_path: Path) -> Path:
    """One straight 1 km residential street along x, nodes every 100 m."""
    b = OSMBuilder()
    for i in range(11):
        b.node(f"A{i}", 100.0 * i, 0.0)
    b.way([f"A{i}" for i in range(11)], highway="residential", name="钢城大街")
    return b.write(tmp_path / "street.osm")


@pytest.fixture
def blocks_town(tmp_path: Path) -> Path:
    """The two-block town (tests/gridosm.py) with its kindergarten moved to (400, 190)."""
    b = two_blocks()
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    return b.write(tmp_path / "town.osm")
