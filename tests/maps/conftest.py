"""Fixtures for the tests of :mod:`gcgeo.maps`: streets, facilities and areas.

The streets carry an unreachable segment named :data:`mapdata.EVIL`; one facility has the
same name, so every page built from them must show it as text.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from .mapdata import CRS, EVIL, grid_edges


@pytest.fixture
def edges() -> gpd.GeoDataFrame:
    e = grid_edges()
    e["walk_min"] = np.linspace(0.0, 20.0, len(e))
    e.loc[0, "walk_min"] = np.inf
    e.loc[0, "name"] = EVIL
    return e


@pytest.fixture
def facilities(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    pts = shapely.get_coordinates(edges.geometry.values)[[0, 7, 20]]
    return gpd.GeoDataFrame(
        {
            "facility_id": ["f1", "f2", "f3"],
            "name": [EVIL, "阳光幼儿园", None],
            "category": ["kindergarten", "kindergarten", "clinic"],
            "source": ["osm", "osm", "csv"],
        },
        geometry=shapely.points(pts),
        crs=CRS,
    )


@pytest.fixture
def areas(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = edges.total_bounds
    return gpd.GeoDataFrame(
        {
            "code": ["ZY", "DT"],
            "name_zh": ["中优", "东拓"],
            "name_en": ["Central upgrade", "East expansion"],
            "source": ["plan 2021", "estimate"],
            "confidence": ["official", "draft"],
        },
        geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1), shapely.box((x0 + x1) / 2, y0, x1, y1)],
        crs=CRS,
    ).to_crs(4326)
