"""The demo network as the live page serves it (built once per test module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gcgeo.catalogue import load_catalogue
from gcgeo.coverage import DEFAULT_CELL_M, grid_origins
from gcgeo.demo import write_demo_osm
from gcgeo.serve import ServeData
from gcgeo.study import open_study


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo")
    osm = folder / "demo.osm"
    write_demo_osm(osm)
    cat = load_catalogue()
    study = open_study(osm, catalogue=cat, cache=False)
    origins = grid_origins(study.network, DEFAULT_CELL_M, None, "auto")
    cats = cat.select(None)
    data = ServeData.prepare(study.network, study.facilities, cats, origins, label="demo")
    return {"osm": Path(osm), "study": study, "origins": origins, "cats": cats, "data": data}
