"""gcgeo: 15-minute life-circle reachability for 钢城区 (Gangcheng District, Jinan).

The modules a planner scripts with load on first use, so ``import gcgeo`` is instant::

    import gcgeo

    study = gcgeo.study.open_study("district.osm.pbf")
    cats = study.catalogue.select(["kindergarten", "primary_school"])
    origins = gcgeo.coverage.grid_origins(study.network, 100, None, "auto")
    result = gcgeo.coverage.compute_coverage(study.network, study.facilities, cats, origins)
    m = gcgeo.maps.completeness_layer(result.origins)

Public modules: ``settings`` (every default), ``study`` (open an OSM file), ``catalogue``,
``facilities``, ``network``, ``engine``, ``coverage``, ``reach``, ``isochrones``,
``layers``, ``scenario``, ``deadends``, ``suggest``, ``maps``, ``report``, ``crs``,
``escape``, ``fetch``, ``cache``, ``demo``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._errors import (
    CategoryError,
    DependencyError,
    EmptyNetworkError,
    FetchError,
    GcgeoError,
    InputError,
    LayerError,
    OSMFileError,
    OutputExistsError,
    ScenarioError,
)

__version__ = "0.1.0"

#: modules reachable as ``gcgeo.<name>`` (imported on first use)
MODULES = (
    "cache",
    "catalogue",
    "coverage",
    "crs",
    "deadends",
    "demo",
    "engine",
    "escape",
    "facilities",
    "fetch",
    "isochrones",
    "layers",
    "maps",
    "network",
    "reach",
    "report",
    "scenario",
    "settings",
    "study",
    "suggest",
)


def __getattr__(name: str) -> Any:
    if name in MODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gcgeo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *MODULES])


__all__ = [
    "CategoryError",
    "DependencyError",
    "EmptyNetworkError",
    "FetchError",
    "GcgeoError",
    "InputError",
    "LayerError",
    "OSMFileError",
    "OutputExistsError",
    "ScenarioError",
    "MODULES",
    "__version__",
    *MODULES,
]
