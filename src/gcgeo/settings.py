"""Every default gcgeo uses, defined once and documented (osmnx ``settings.py`` style).

Modules and command-line options read their defaults from here; nothing else writes these
values as literals (``tests/test_settings.py`` greps for them). Importing this module costs
nothing: it imports no third-party package.

Change a value for a whole session from Python (``gcgeo.settings.WALK_SPEED_MPS = 1.0``)
only before building a study; commands take their own options instead.
"""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = [
    "CELL_M",
    "CHILD_SPEED_MPS",
    "DEFAULT_CRS",
    "DEMO_DIR",
    "DEM_MAX_MISSING",
    "DEM_MAX_PIXELS",
    "DEM_RANGE_M",
    "DEM_STEP_M",
    "ELDERLY_SLOPE_SENSITIVITY",
    "ELDERLY_SPEED_MPS",
    "FETCH_BUFFER_M",
    "FETCH_MAX_BYTES",
    "FETCH_TIMEOUT_S",
    "LIFE_CIRCLE_MINUTES",
    "MAX_ISOCHRONE_BANDS",
    "MAX_ISOCHRONE_MINUTES",
    "MAX_SEGMENT_M",
    "MAX_SNAP_M",
    "MIN_EXTENT_OVERLAP",
    "PERSONA_SPEEDS_MPS",
    "SEARCH_FACTOR",
    "SEARCH_FORK_MIN_NODES",
    "SEARCH_PROCESSES",
    "STEPS_SPEED_SHARE",
    "THRESHOLD_BASES",
    "THRESHOLD_BASIS",
    "TILES",
    "TOBLER_EXPONENT",
    "TOBLER_OFFSET",
    "WALK_FUNCTION",
    "WALK_FUNCTIONS",
    "WALK_SPEED_MPS",
    "WGS84",
]

# --------------------------------------------------------------------------- coordinates

#: Geographic coordinates of OSM, GeoJSON and every map (WGS-84 longitude/latitude).
WGS84 = "EPSG:4326"
#: Metric CRS for 钢城区: CGCS2000 / 3-degree Gauss-Kruger CM 117E (the district lies in its
#: zone). Data elsewhere gets its local UTM zone instead (see :mod:`gcgeo.network`).
DEFAULT_CRS = "EPSG:4548"

# --------------------------------------------------------------------------- walking

#: Adult walking speed, m/s (about 4 km/h, the value used by life-circle studies).
WALK_SPEED_MPS = 1.1
#: Elderly walking speed, m/s (common in 宜老 studies; persona ``elderly``).
ELDERLY_SPEED_MPS = 0.8
#: Walking speed of a child walking to school, m/s (persona ``child``).
CHILD_SPEED_MPS = 0.9
#: Walking speed of each scenario persona, m/s.
PERSONA_SPEEDS_MPS = {
    "adult": WALK_SPEED_MPS,
    "elderly": ELDERLY_SPEED_MPS,
    "child": CHILD_SPEED_MPS,
}
# --------------------------------------------------------------------------- slopes (--dem)

#: Walking functions ``--walk-function`` offers with ``--dem`` (see :mod:`gcgeo.terrain`):
#: ``tobler`` (Tobler 1993), ``tobler_elderly`` (the same curve, steeper: see
#: :data:`ELDERLY_SLOPE_SENSITIVITY`) and ``flat`` (elevation ignored).
WALK_FUNCTIONS = ("tobler", "tobler_elderly", "flat")
#: The default of :data:`WALK_FUNCTIONS` when a DEM is given.
WALK_FUNCTION = "tobler"
#: Tobler's hiking function W = 6·exp(-3.5·|S + 0.05|) km/h: its exponent and offset.
TOBLER_EXPONENT = 3.5
TOBLER_OFFSET = 0.05
#: How much more the elderly slow down on a grade than Tobler's hikers: ``tobler_elderly``
#: uses the exponent ``TOBLER_EXPONENT × ELDERLY_SLOPE_SENSITIVITY``. An ASSUMPTION to
#: confirm: older adults walk disproportionately slower uphill (Thomson, Liston & Gupta
#: 2019, Eur. Rev. Aging Phys. Act. 16:11, doi:10.1186/s11556-019-0219-0: the uphill
#: preferred-speed test separates age groups best; Matikainen-Tervola et al. 2025,
#: J. Aging Phys. Act., doi:10.1123/japa.2024-0222), but neither gives this factor.
ELDERLY_SLOPE_SENSITIVITY = 1.5
#: Speed on ``highway=steps`` as a share of the flat speed, per walking function (an
#: ASSUMPTION to confirm; OSM steps carry no reliable rise). Not applied by ``flat``.
STEPS_SPEED_SHARE = {"tobler": 0.5, "tobler_elderly": 0.35, "flat": 1.0}
#: Longest street piece given one grade: segments are sampled about this often, metres.
DEM_STEP_M = 20.0
#: Plausible elevations (m); values outside it (such as -32768 or 3.4e38, no-data values a
#: file does not declare) count as missing.
DEM_RANGE_M = (-500.0, 9000.0)
#: Most DEM pixels read at once (float64: 320 MB); a larger window is averaged down to this.
DEM_MAX_PIXELS = 40_000_000
#: Largest share of street samples a DEM may leave without elevation (voids, edges);
#: more and the DEM does not cover the network.
DEM_MAX_MISSING = 0.05

#: The life-circle tiers, minutes of walking (GB 50180-2018).
LIFE_CIRCLE_MINUTES = (5, 10, 15)
#: What a category threshold means for a walker of another speed (see
#: :func:`gcgeo.walker.threshold_for`): ``distance`` keeps the standard's metres,
#: ``time`` asks for the tier's minutes at the walker's speed.
THRESHOLD_BASES = ("distance", "time")
#: The default of :data:`THRESHOLD_BASES` (``--threshold-basis``).
THRESHOLD_BASIS = "distance"

# --------------------------------------------------------------------------- network and snapping

#: Farthest a point (home, facility) may lie from the street it is attached to, metres.
MAX_SNAP_M = 300.0
#: Longest plausible single OSM segment between two consecutive nodes, metres; longer ones
#: are reported with their way id (they usually come from broken data).
MAX_SEGMENT_M = 5000.0
#: Each category is searched to this many times its threshold (and at least a 15-minute
#: walk), so maps can show "> threshold" streets and not just the covered ones.
SEARCH_FACTOR = 2.0

#: Processes that share the searches of several categories (this one and forked
#: workers; Linux only, and only while the process runs no other thread). scipy's
#: Dijkstra holds the GIL, so threads do not help; see :mod:`gcgeo.parallel`. 1 = serial.
SEARCH_PROCESSES = 2
#: Street nodes below which the searches stay in one process (a fork costs more there).
SEARCH_FORK_MIN_NODES = 20_000

# --------------------------------------------------------------------------- origins

#: Grid cell size of origins (one origin per cell where people live), metres.
CELL_M = 100.0

# --------------------------------------------------------------------------- outputs

#: Background tiles a map may use: OpenStreetMap, 天地图 Tianditu (needs a key), 高德 AMap
#: (GCJ-02: overlays are shifted), or none (offline maps draw the street network instead).
TILES = ("osm", "tianditu", "amap", "none")

#: Most bands one isochrone map draws, and the longest band, minutes.
MAX_ISOCHRONE_BANDS = 12
MAX_ISOCHRONE_MINUTES = 120.0
#: Where ``gcgeo demo`` writes by default (relative to the current folder).
DEMO_DIR = PurePosixPath("maps") / "demo"

# --------------------------------------------------------------------------- fetching

#: Metres added around a fetched area so walks crossing its edge are not cut.
FETCH_BUFFER_M = 1000.0
#: Total deadline of one Overpass download, seconds (also the server-side query limit).
FETCH_TIMEOUT_S = 180.0
#: Largest Overpass answer accepted, bytes after decompression (2 GiB).
FETCH_MAX_BYTES = 2 << 30
#: Least share of the study area (boundary) the streets of an extract must cover (their
#: convex hull), else the extract is for another place and fetch/coverage/report stop.
MIN_EXTENT_OVERLAP = 0.2
