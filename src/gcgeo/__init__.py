"""gcgeo: 15-minute life-circle reachability for 钢城区 (Gangcheng District, Jinan)."""

from __future__ import annotations

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
    "__version__",
]
