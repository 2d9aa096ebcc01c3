"""What-if scenarios: add or remove facilities, add footpath links, compare coverage.

A scenario is a small TOML file a planner writes::

    name = "新建幼儿园 + 连通断头路"
    persona = "elderly"              # adult 1.1 m/s, elderly 0.8, child 0.9

    [personas]                       # optional: override or add walking speeds (m/s)
    elderly = 0.75

    [[add_facility]]
    category = "kindergarten"
    lon = 117.81
    lat = 36.2
    name = "规划幼儿园"

    [[add_facility]]
    planned = "PF-003"               # an id of layers/planned_facilities.geojson

    [[remove_facility]]
    facility_id = "n123456"

    [[add_link]]
    connect = [[117.81, 36.20], [117.812, 36.201]]   # straight link between two snapped points

    [[add_link]]
    line = [[117.81, 36.20], [117.811, 36.2004], [117.812, 36.201]]

A persona sets the walking speed, and nothing else: category thresholds are the standard's
distances and stay as they are, so a scenario with ``persona = "elderly"`` has the same
baseline as ``gcgeo coverage --speed 0.8`` (see :func:`gcgeo.walker.threshold_for`). Only
``threshold_basis = "time"`` turns thresholds into the tier's minutes at the persona's speed
(an elderly walker's 5 minutes: 5 × 60 × 0.8 = 240 m).

Scenarios never mutate the network or the facility frame: links are applied
to new arrays (a link end falling mid-segment splits that segment in two) and
the CSR is rebuilt from them.

Modules: :mod:`~gcgeo.scenario.parse` (TOML → :class:`Scenario`, every value checked),
:mod:`~gcgeo.scenario.edit` (the network and facility edits) and
:mod:`~gcgeo.scenario.compare` (coverage before and after, delta tables by area). Every
public name of those modules is importable from ``gcgeo.scenario``.
"""

from __future__ import annotations

from .compare import ScenarioResult, area_membership, compare, persona_categories
from .edit import (
    NODE_TOLERANCE_M,
    EdgeMap,
    add_links,
    add_links_mapped,
    apply_facilities,
    apply_scenario,
)
from .parse import (
    DEFAULT_LINK_SNAP_M,
    DEFAULT_PERSONAS,
    DEFAULT_PLANNED_PATH,
    REFERENCE_SPEED_MPS,
    AddFacility,
    AddLink,
    PlannedSource,
    Scenario,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "DEFAULT_LINK_SNAP_M",
    "DEFAULT_PERSONAS",
    "DEFAULT_PLANNED_PATH",
    "NODE_TOLERANCE_M",
    "REFERENCE_SPEED_MPS",
    "AddFacility",
    "AddLink",
    "EdgeMap",
    "PlannedSource",
    "Scenario",
    "ScenarioResult",
    "add_links",
    "add_links_mapped",
    "apply_facilities",
    "apply_scenario",
    "area_membership",
    "compare",
    "load_scenario",
    "parse_scenario",
    "persona_categories",
]
