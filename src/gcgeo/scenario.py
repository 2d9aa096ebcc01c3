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

A persona changes the walking speed. Life-circle thresholds are walking times
(5/10/15 minutes) stated as distances at the reference adult pace of 1.1 m/s,
so a persona's distance threshold is ``max_distance_m × speed / 1.1``: an
elderly walker (0.8 m/s) reaches a 300 m kindergarten threshold only within
218 m.

Scenarios never mutate the network or the facility frame: links are applied
to new arrays (a link end falling mid-segment splits that segment in two) and
the CSR is rebuilt from them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._errors import InputError, ScenarioError
from .catalogue import Catalogue, Category, load_catalogue
from .columns import POPULATION, dist_col, reached_col
from .coverage import DEFAULT_SEARCH_LIMIT_M, CoverageResult, compute_coverage
from .network import StreetNetwork
from .snap import DEFAULT_MAX_SNAP_M, snap_points

__all__ = [
    "DEFAULT_LINK_SNAP_M",
    "DEFAULT_PERSONAS",
    "DEFAULT_PLANNED_PATH",
    "NODE_TOLERANCE_M",
    "REFERENCE_SPEED_MPS",
    "AddFacility",
    "AddLink",
    "PlannedSource",
    "Scenario",
    "ScenarioResult",
    "add_links",
    "apply_facilities",
    "apply_scenario",
    "area_membership",
    "compare",
    "load_scenario",
    "parse_scenario",
    "persona_categories",
]

#: Walking speeds (m/s) of the personas a scenario may name.
DEFAULT_PERSONAS: dict[str, float] = {"adult": 1.1, "elderly": 0.8, "child": 0.9}
#: The pace at which the catalogue's distance thresholds are stated.
REFERENCE_SPEED_MPS = 1.1
#: Link endpoints farther than this from every street are an error.
DEFAULT_LINK_SNAP_M = 50.0
#: A link end this close to an existing node joins that node instead of splitting the segment.
NODE_TOLERANCE_M = 0.5
#: Where planned facilities live (another branch provides the file).
DEFAULT_PLANNED_PATH = Path("layers") / "planned_facilities.geojson"
_PLANNED_ID_COLUMNS = ("planned_id", "id", "facility_id", "code")
_TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "persona",
        "personas",
        "link_max_snap",
        "add_facility",
        "remove_facility",
        "add_link",
    }
)
#: A GeoDataFrame of planned facilities, or a function returning one (called only if needed).
PlannedSource = gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] | str | os.PathLike | None


@dataclass(frozen=True)
class AddFacility:
    """A facility the scenario builds (WGS-84)."""

    facility_id: str
    category: str
    lon: float
    lat: float
    name: str = ""
    planned: str | None = None


@dataclass(frozen=True)
class AddLink:
    """A new walking link: ``line`` vertices, or a straight ``connect`` of two snapped points."""

    key: str
    mode: str  # "line" | "connect"
    lonlat: tuple[tuple[float, float], ...]
    name: str = ""


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file.

    Attributes
    ----------
    name : str
    persona : str
    speed_mps : float
        Walking speed of the persona.
    add_facilities, remove_facilities, add_links
        The changes, in file order.
    link_max_snap : float
        Maximum distance (m) from a link end to the network.
    source : str
        File the scenario came from (for messages).
    """

    name: str
    persona: str = "adult"
    speed_mps: float = DEFAULT_PERSONAS["adult"]
    add_facilities: tuple[AddFacility, ...] = ()
    remove_facilities: tuple[str, ...] = ()
    add_links: tuple[AddLink, ...] = ()
    link_max_snap: float = DEFAULT_LINK_SNAP_M
    description: str = ""
    source: str = "<string>"
    _lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    def where(self, table: str, index: int) -> str:
        """``file line N, [[table]] #i`` for messages."""
        lines = self._lines.get(table, ())
        at = f" line {lines[index]}," if index < len(lines) else ""
        return f"scenario {self.source}{at} [[{table}]] #{index + 1}"


# --------------------------------------------------------------------------- parsing


def _table_lines(text: str, table: str) -> tuple[int, ...]:
    pat = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", re.M)
    return tuple(text.count("\n", 0, m.start()) + 1 for m in pat.finditer(text))


def _lonlat_pair(v: Any, where: str) -> tuple[float, float]:
    ok = (
        isinstance(v, list | tuple)
        and len(v) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in v)
    )
    if not ok:
        raise ScenarioError(
            f"{where}: {v!r} is not a [lon, lat] pair of numbers; write [117.8, 36.2]."
        )
    lon, lat = float(v[0]), float(v[1])
    _check_lonlat(lon, lat, where)
    return lon, lat


def _check_lonlat(lon: float, lat: float, where: str) -> None:
    if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        raise ScenarioError(
            f"{where}: lon/lat ({lon}, {lat}) is not a WGS-84 coordinate; give lon then lat in degrees."
        )


def _load_planned(planned: PlannedSource, where: str) -> gpd.GeoDataFrame:
    if callable(planned):
        planned = planned()
    if planned is None:
        planned = DEFAULT_PLANNED_PATH
    if isinstance(planned, str | os.PathLike):
        p = Path(planned)
        if not p.is_file():
            raise ScenarioError(
                f"{where}: key 'planned' needs the planned-facility layer {str(p)!r}, which does "
                "not exist; pass --planned FILE or use lon/lat instead."
            )
        try:
            planned = gpd.read_file(p)
        except Exception as exc:  # pyogrio raises several types
            raise ScenarioError(
                f"{where}: planned-facility layer {str(p)!r} could not be read ({exc}); pass a GeoJSON."
            ) from exc
    if not isinstance(planned, gpd.GeoDataFrame):
        raise ScenarioError(f"{where}: the planned-facility layer is not a GeoDataFrame.")
    return planned


def _planned_facility(
    entry: Mapping[str, Any], pid: str, layer: gpd.GeoDataFrame, where: str
) -> tuple[str, float, float, str]:
    col = next((c for c in _PLANNED_ID_COLUMNS if c in layer.columns), None)
    if col is None:
        raise ScenarioError(
            f"{where}: the planned-facility layer has no id column "
            f"({' / '.join(_PLANNED_ID_COLUMNS)}); add one."
        )
    hit = layer[layer[col].astype(str) == pid]
    if hit.empty:
        sample = ", ".join(map(str, layer[col].head(5).tolist()))
        raise ScenarioError(
            f"{where}: planned facility id {pid!r} is not in the planned-facility layer "
            f"(ids such as {sample or 'none'}); fix key 'planned'."
        )
    row = hit.iloc[[0]]
    if layer.crs is None:
        raise ScenarioError(
            f"{where}: the planned-facility layer has no CRS; save it with EPSG:4326."
        )
    g = row.to_crs("EPSG:4326").geometry.iloc[0]
    pt = g if g.geom_type == "Point" else g.representative_point()
    category = entry.get("category")
    if category is None:
        category = row["category"].iloc[0] if "category" in row.columns else None
    if not isinstance(category, str) or not category:
        raise ScenarioError(
            f'{where}: planned facility {pid!r} has no category; add category = "..." to the entry.'
        )
    name = str(entry.get("name") or (row["name"].iloc[0] if "name" in row.columns else "") or "")
    return category, float(pt.x), float(pt.y), name


def parse_scenario(
    text: str,
    source: str = "<string>",
    catalogue: Catalogue | None = None,
    planned: PlannedSource = None,
) -> Scenario:
    """Parse a scenario from TOML text.

    Parameters
    ----------
    text : str
        The TOML document.
    source : str
        Its file name, used in every error message.
    catalogue : Catalogue, optional
        Categories a facility may name (default: the shipped catalogue).
    planned : GeoDataFrame, callable, path or None
        Planned-facility layer for ``planned = "<id>"`` entries; a callable is
        called only when an entry needs it; ``None`` reads
        ``layers/planned_facilities.geojson``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        One sentence naming the file, line or key and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"Scenario {source} is not valid TOML: {exc}; fix that line.") from exc
    cat = catalogue or load_catalogue()
    lines = {t: _table_lines(text, t) for t in ("add_facility", "remove_facility", "add_link")}
    draft = Scenario(name="", source=source, _lines=lines)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(
            f"Scenario {source}: unknown key {unknown[0]!r}; allowed keys are "
            f"{', '.join(sorted(_TOP_KEYS))}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(
            f"Scenario {source}: key 'name' is missing or empty; add name = \"...\"."
        )
    personas = dict(DEFAULT_PERSONAS)
    raw_personas = data.get("personas", {})
    if not isinstance(raw_personas, Mapping):
        raise ScenarioError(f"Scenario {source}: key 'personas' must be a table [personas].")
    for k, v in raw_personas.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 5:
            raise ScenarioError(
                f"Scenario {source}: key 'personas.{k}' = {v!r} must be a walking speed in m/s "
                "between 0 and 5, e.g. 0.8."
            )
        personas[str(k)] = float(v)
    persona = data.get("persona", "adult")
    if not isinstance(persona, str) or persona not in personas:
        raise ScenarioError(
            f"Scenario {source}: key 'persona' = {persona!r} is unknown; use one of "
            f"{', '.join(sorted(personas))} or define it under [personas]."
        )
    snap_m = data.get("link_max_snap", DEFAULT_LINK_SNAP_M)
    if isinstance(snap_m, bool) or not isinstance(snap_m, int | float) or not snap_m > 0:
        raise ScenarioError(
            f"Scenario {source}: key 'link_max_snap' must be a positive number of metres."
        )

    def tables(key: str) -> list[Mapping[str, Any]]:
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
            raise ScenarioError(
                f"Scenario {source}: key {key!r} must be written as [[{key}]] tables."
            )
        return raw

    adds: list[AddFacility] = []
    planned_layer: gpd.GeoDataFrame | None = None
    for i, e in enumerate(tables("add_facility")):
        where = draft.where("add_facility", i)
        extra = sorted(set(e) - {"category", "lon", "lat", "planned", "name", "id"})
        if extra:
            raise ScenarioError(
                f"{where}: unknown key {extra[0]!r}; use category, lon, lat, planned, name, id."
            )
        pid = e.get("planned")
        if pid is not None:
            if "lon" in e or "lat" in e:
                raise ScenarioError(f"{where}: give either 'planned' or 'lon'/'lat', not both.")
            if planned_layer is None:
                planned_layer = _load_planned(planned, where)
            category, lon, lat, fname = _planned_facility(e, str(pid), planned_layer, where)
        else:
            if "lon" not in e or "lat" not in e:
                raise ScenarioError(
                    f"{where}: key 'lon'/'lat' is missing; add lon and lat or planned = \"<id>\"."
                )
            lon, lat = _lonlat_pair([e["lon"], e["lat"]], where)
            category = e.get("category")
            fname = str(e.get("name", ""))
        if not isinstance(category, str) or category not in cat:
            raise ScenarioError(
                f"{where}: key 'category' = {category!r} is not in the catalogue; use one of "
                f"{', '.join(cat.ids)}."
            )
        fid = str(e.get("id") or (f"planned:{pid}" if pid is not None else f"scenario:{i + 1}"))
        adds.append(AddFacility(fid, category, lon, lat, fname, None if pid is None else str(pid)))

    removes: list[str] = []
    for i, e in enumerate(tables("remove_facility")):
        fid = e.get("facility_id")
        if not isinstance(fid, str | int) or isinstance(fid, bool) or not str(fid):
            raise ScenarioError(
                f"{draft.where('remove_facility', i)}: key 'facility_id' is missing; add facility_id = \"n123\"."
            )
        removes.append(str(fid))

    links: list[AddLink] = []
    for i, e in enumerate(tables("add_link")):
        where = draft.where("add_link", i)
        modes = [m for m in ("line", "connect") if m in e]
        if len(modes) != 1:
            raise ScenarioError(f"{where}: give exactly one of key 'line' or key 'connect'.")
        mode = modes[0]
        raw = e[mode]
        if not isinstance(raw, list) or len(raw) < 2 or (mode == "connect" and len(raw) != 2):
            need = "exactly two" if mode == "connect" else "at least two"
            raise ScenarioError(f"{where}: key {mode!r} needs {need} [lon, lat] points.")
        pts = tuple(_lonlat_pair(p, f"{where} key {mode!r}[{j}]") for j, p in enumerate(raw))
        links.append(AddLink(f"add_link[{i}]", mode, pts, str(e.get("name", ""))))
    return dataclasses.replace(
        draft,
        name=name.strip(),
        persona=persona,
        speed_mps=personas[persona],
        add_facilities=tuple(adds),
        remove_facilities=tuple(removes),
        add_links=tuple(links),
        link_max_snap=float(snap_m),
        description=str(data.get("description", "")),
    )


def load_scenario(
    path: str | os.PathLike, catalogue: Catalogue | None = None, planned: PlannedSource = None
) -> Scenario:
    """Read and parse a scenario TOML file (see :func:`parse_scenario`)."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"Scenario file {str(p)!r} does not exist; check the path.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"Scenario file {str(p)!r} is not UTF-8 text; re-save it as UTF-8."
        ) from exc
    return parse_scenario(text, str(p), catalogue, planned)


# --------------------------------------------------------------------------- network edits


def _projector(net: StreetNetwork) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    fwd = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    inv = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    return fwd, inv


def add_links(
    net: StreetNetwork,
    lines: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    max_snap: float = DEFAULT_LINK_SNAP_M,
    straight: Sequence[bool] | None = None,
) -> StreetNetwork:
    """A new network with walking links added; ``net`` is left untouched.

    Each link's two ends snap to the nearest street point within ``max_snap``.
    An end within :data:`NODE_TOLERANCE_M` of a segment end joins that node;
    otherwise the segment is split in two at a new node. A ``line`` link keeps
    its vertices (the gap from each snapped point to the line's end is part of
    the link); a ``straight`` link joins the two snapped points directly.

    Parameters
    ----------
    net : StreetNetwork
    lines : sequence of ndarray, each shape (k >= 2, 2)
        Link vertices in ``net.crs``.
    names : sequence of str, optional
        Street names for the new edges.
    keys : sequence of str, optional
        How each link is named in errors (e.g. ``add_link[0]``).
    max_snap : float
        Maximum distance (m) from a link end to the network.
    straight : sequence of bool, optional
        Per link: join the two snapped points by one straight edge.

    Returns
    -------
    StreetNetwork
        Nodes and edges appended (new nodes have negative ``osmid``); new link
        edges have ``highway="scenario_link"`` and negative ``way_id``.

    Raises
    ------
    ScenarioError
        A link end lies farther than ``max_snap`` from the network, or a link has no length.
    """
    n_links = len(lines)
    if n_links == 0:
        return net
    lines = [np.asarray(ln, dtype=float).reshape(-1, 2) for ln in lines]
    names = list(names) if names is not None else [""] * n_links
    keys = list(keys) if keys is not None else [f"link[{i}]" for i in range(n_links)]
    straight = list(straight) if straight is not None else [False] * n_links
    ends = np.vstack([np.vstack([ln[0], ln[-1]]) for ln in lines])
    snap = snap_points(net, ends, max_snap)
    if not snap.ok.all():
        bad = int(np.flatnonzero(~snap.ok)[0])
        _, dist = net.edge_tree.query_nearest(shapely.points(ends[bad]), return_distance=True)
        raise ScenarioError(
            f"{keys[bad // 2]}: point [{0 if bad % 2 == 0 else len(lines[bad // 2]) - 1}] lies "
            f"{float(dist[0]):.0f} m from the nearest street, beyond the {max_snap:g} m limit; "
            "move it onto a street or raise link_max_snap."
        )
    eu, ev, elen = net.edge_u, net.edge_v, net.edge_length
    e, t = snap.edge, snap.offset
    at_u = t <= NODE_TOLERANCE_M
    at_v = ~at_u & (elen[e] - t <= NODE_TOLERANCE_M)
    mid = ~(at_u | at_v)
    n0 = net.n_nodes
    end_node = np.where(at_u, eu[e], ev[e]).astype(np.int64)
    # unique split points (edge, offset rounded to the millimetre)
    split_key = pd.DataFrame({"edge": e[mid], "t": np.round(t[mid], 3)})
    uniq = split_key.drop_duplicates().sort_values(["edge", "t"]).reset_index(drop=True)
    uniq["node"] = n0 + np.arange(len(uniq))
    end_node[mid] = split_key.merge(uniq, on=["edge", "t"], how="left")["node"].to_numpy()
    a = net.xy[eu[uniq["edge"].to_numpy()]]
    b = net.xy[ev[uniq["edge"].to_numpy()]]
    frac = (uniq["t"].to_numpy() / elen[uniq["edge"].to_numpy()])[:, None]
    split_xy = a + (b - a) * frac
    # new vertex nodes of the links and the link segments
    new_xy = [split_xy]
    seg_u: list[int] = []
    seg_v: list[int] = []
    seg_link: list[int] = []
    next_node = n0 + len(uniq)
    all_xy = np.vstack([net.xy, split_xy])
    for i, ln in enumerate(lines):
        ua, ub = int(end_node[2 * i]), int(end_node[2 * i + 1])
        pa, pb = all_xy[ua], all_xy[ub]
        if straight[i]:
            inner = np.empty((0, 2))
        else:
            inner = ln
            # keep the line's own vertices; drop those coinciding with the snapped ends
            if np.hypot(*(inner[0] - pa)) <= NODE_TOLERANCE_M:
                inner = inner[1:]
            if len(inner) and np.hypot(*(inner[-1] - pb)) <= NODE_TOLERANCE_M:
                inner = inner[:-1]
        chain = [ua]
        for p in inner:
            new_xy.append(p[None, :])
            chain.append(next_node)
            next_node += 1
        chain.append(ub)
        for s, d in zip(chain[:-1], chain[1:], strict=True):
            seg_u.append(s)
            seg_v.append(d)
            seg_link.append(i)
    xy = np.vstack([net.xy, *new_xy])
    lu, lv = np.array(seg_u, dtype=np.int64), np.array(seg_v, dtype=np.int64)
    llen = np.hypot(*(xy[lu] - xy[lv]).T)
    link_len = np.bincount(np.array(seg_link, dtype=np.int64), weights=llen, minlength=n_links)
    if (link_len <= 0).any():
        i = int(np.flatnonzero(link_len <= 0)[0])
        raise ScenarioError(
            f"{keys[i]}: both ends snap to the same street point, so the link has no length; "
            "move one end."
        )
    # split edges: replace edge by a chain of pieces through its split nodes
    split_edges = uniq["edge"].to_numpy()
    keep = np.ones(len(net.edges), dtype=bool)
    keep[split_edges] = False
    piece_parent: list[int] = []
    piece_u: list[int] = []
    piece_v: list[int] = []
    piece_len: list[float] = []
    for edge, grp in uniq.groupby("edge", sort=True):
        edge = int(edge)
        ts = np.concatenate([[0.0], grp["t"].to_numpy(), [elen[edge]]])
        nodes_chain = np.concatenate([[eu[edge]], grp["node"].to_numpy(), [ev[edge]]])
        for j in range(len(ts) - 1):
            piece_parent.append(edge)
            piece_u.append(int(nodes_chain[j]))
            piece_v.append(int(nodes_chain[j + 1]))
            piece_len.append(float(ts[j + 1] - ts[j]))
    pieces = net.edges.iloc[piece_parent].copy() if piece_parent else net.edges.iloc[[]].copy()
    pu, pv = np.array(piece_u, dtype=np.int64), np.array(piece_v, dtype=np.int64)
    pieces["u"] = pu
    pieces["v"] = pv
    pieces["length"] = np.array(piece_len, dtype=float)
    pieces = pieces.set_geometry(
        shapely.linestrings(np.stack([xy[pu], xy[pv]], axis=1)) if len(pu) else []
    )
    link_rows = pd.DataFrame(
        {
            "u": lu,
            "v": lv,
            "length": llen,
            "way_id": -1 - np.array(seg_link, dtype=np.int64),
            "highway": "scenario_link",
            "name": [names[i] or None for i in seg_link],
            "access": None,
            "foot": "yes",
            "sidewalk": None,
            "private": False,
        }
    )
    links_gdf = gpd.GeoDataFrame(
        link_rows, geometry=shapely.linestrings(np.stack([xy[lu], xy[lv]], axis=1)), crs=net.crs
    )
    edges = gpd.GeoDataFrame(
        pd.concat([net.edges[keep], pieces, links_gdf], ignore_index=True),
        geometry="geometry",
        crs=net.crs,
    )
    k_new = len(xy) - n0
    _, inv = _projector(net)
    lon, lat = inv.transform(xy[n0:, 0], xy[n0:, 1])
    new_nodes = gpd.GeoDataFrame(
        {
            "osmid": -1 - np.arange(k_new, dtype=np.int64),
            "x": xy[n0:, 0],
            "y": xy[n0:, 1],
            "lon": np.asarray(lon),
            "lat": np.asarray(lat),
        },
        geometry=shapely.points(xy[n0:]),
        crs=net.crs,
    )
    nodes = gpd.GeoDataFrame(
        pd.concat([net.nodes, new_nodes], ignore_index=True), geometry="geometry", crs=net.crs
    )
    report = {
        **net.report,
        "scenario_links": n_links,
        "scenario_link_m": round(float(llen.sum()), 2),
        "scenario_nodes_added": int(k_new),
        "scenario_edges_split": int(len(np.unique(split_edges))),
        "nodes": len(nodes),
        "edges": len(edges),
    }
    return StreetNetwork(
        nodes=nodes, edges=edges, crs=net.crs, report=report, residential=net.residential
    )


def apply_facilities(facilities: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """A new facility frame (EPSG:4326) with the scenario's removals and additions.

    Raises
    ------
    ScenarioError
        A ``facility_id`` to remove is not among the facilities.
    """
    fac = facilities.to_crs("EPSG:4326") if facilities.crs != "EPSG:4326" else facilities
    ids = fac["facility_id"].astype(str)
    for i, fid in enumerate(scenario.remove_facilities):
        if not (ids == fid).any():
            raise ScenarioError(
                f"{scenario.where('remove_facility', i)}: key 'facility_id' = {fid!r} is not "
                "among the facilities; check the id in the coverage output (near_<category>)."
            )
    kept = fac[~ids.isin(set(scenario.remove_facilities)).to_numpy()]
    if not scenario.add_facilities:
        return kept.reset_index(drop=True)
    add = gpd.GeoDataFrame(
        {
            "facility_id": [a.facility_id for a in scenario.add_facilities],
            "name": [a.name for a in scenario.add_facilities],
            "category": [a.category for a in scenario.add_facilities],
            "source": [f"scenario:{scenario.name}" for _ in scenario.add_facilities],
        },
        geometry=shapely.points(
            [a.lon for a in scenario.add_facilities], [a.lat for a in scenario.add_facilities]
        ),
        crs="EPSG:4326",
    )
    return gpd.GeoDataFrame(pd.concat([kept, add], ignore_index=True), crs="EPSG:4326")


def apply_scenario(
    net: StreetNetwork, facilities: gpd.GeoDataFrame, scenario: Scenario
) -> tuple[StreetNetwork, gpd.GeoDataFrame]:
    """The scenario's network and facilities (both new; the inputs are not mutated)."""
    fac = apply_facilities(facilities, scenario)
    if not scenario.add_links:
        return net, fac
    fwd, _ = _projector(net)
    lines = []
    for link in scenario.add_links:
        ll = np.asarray(link.lonlat)
        x, y = fwd.transform(ll[:, 0], ll[:, 1])
        lines.append(np.column_stack([x, y]))
    new = add_links(
        net,
        lines,
        names=[lk.name or scenario.name for lk in scenario.add_links],
        keys=[
            f"{scenario.where('add_link', i)} key {lk.mode!r}"
            for i, lk in enumerate(scenario.add_links)
        ],
        max_snap=scenario.link_max_snap,
        straight=[lk.mode == "connect" for lk in scenario.add_links],
    )
    return new, fac


# --------------------------------------------------------------------------- comparison


def persona_categories(categories: Sequence[Category], speed_mps: float) -> list[Category]:
    """Categories with thresholds scaled to a persona's speed (time budget kept)."""
    if speed_mps == REFERENCE_SPEED_MPS:
        return list(categories)
    f = speed_mps / REFERENCE_SPEED_MPS
    return [
        dataclasses.replace(c, max_distance_m=round(c.max_distance_m * f, 2)) for c in categories
    ]


def area_membership(
    origins: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (origin position, area position) for origins inside each area polygon.

    Raises
    ------
    InputError
        The area layer lacks ``code``, ``name_zh``, ``name_en`` or a CRS.
    """
    missing = [c for c in ("code", "name_zh", "name_en") if c not in areas.columns]
    if missing:
        raise InputError(
            f"area layer lacks column(s) {', '.join(missing)}; it needs code, name_zh, name_en."
        )
    if areas.crs is None:
        raise InputError("area layer has no CRS; save it with one (e.g. EPSG:4326).")
    geoms = areas.to_crs(origins.crs).geometry.values
    tree = shapely.STRtree(geoms)
    pts = origins.geometry.values
    if not (origins.geom_type == "Point").all():
        pts = origins.geometry.representative_point().values
    o_idx, a_idx = tree.query(pts, predicate="within")
    return o_idx.astype(np.int64), a_idx.astype(np.int64)


@dataclass
class ScenarioResult:
    """Coverage before and after one or more scenarios.

    Attributes
    ----------
    scenarios : list of Scenario
    delta : DataFrame
        One row per (category, area); ``area_code == "all"`` is the whole study.
        With one scenario the value columns are ``before_share``, ``after_share``,
        ``delta_share``, ``before_covered``, ``after_covered``, ``gained``,
        ``lost``; with several, each is prefixed ``<scenario name>:``.
    tables : dict of str to DataFrame
        The plain (unprefixed) delta table of each scenario.
    changes : GeoDataFrame
        One row per (scenario, origin, category) whose reach changed, with
        ``change`` ("gained" / "lost"), ``dist_before_m``, ``dist_after_m``.
    before, after : dict of str to CoverageResult
        Coverage of each scenario before and after its changes.
    """

    scenarios: list[Scenario]
    delta: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    changes: gpd.GeoDataFrame
    before: dict[str, CoverageResult]
    after: dict[str, CoverageResult]


_VALUE_COLS = (
    "before_share",
    "after_share",
    "delta_share",
    "before_covered",
    "after_covered",
    "gained",
    "lost",
)


def _delta_table(
    before: CoverageResult,
    after: CoverageResult,
    categories: Sequence[Category],
    weights: np.ndarray,
    membership: tuple[np.ndarray, np.ndarray] | None,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    rows = []
    n = len(weights)
    groups: list[tuple[str, str, str, np.ndarray]] = [("all", "全部", "all", np.arange(n))]
    if membership is not None and areas is not None:
        o_idx, a_idx = membership
        order = np.argsort(a_idx, kind="stable")
        o_idx, a_idx = o_idx[order], a_idx[order]
        bounds = np.searchsorted(a_idx, np.arange(len(areas) + 1))
        for k in range(len(areas)):
            r = areas.iloc[k]
            groups.append(
                (
                    str(r["code"]),
                    str(r["name_zh"]),
                    str(r["name_en"]),
                    o_idx[bounds[k] : bounds[k + 1]],
                )
            )
    for cat in categories:
        b = before.origins[reached_col(cat.id)].to_numpy(bool)
        a = after.origins[reached_col(cat.id)].to_numpy(bool)
        for code, zh, en, idx in groups:
            w = weights[idx]
            tot = float(w.sum())
            bs = float(w[b[idx]].sum()) / tot if tot > 0 else np.nan
            as_ = float(w[a[idx]].sum()) / tot if tot > 0 else np.nan
            rows.append(
                {
                    "category": cat.id,
                    "area_code": code,
                    "area_name_zh": zh,
                    "area_name_en": en,
                    "threshold_m": cat.max_distance_m,
                    "origins": len(idx),
                    "before_share": round(bs, 4),
                    "after_share": round(as_, 4),
                    "delta_share": round(as_ - bs, 4),
                    "before_covered": int(b[idx].sum()),
                    "after_covered": int(a[idx].sum()),
                    "gained": int((a[idx] & ~b[idx]).sum()),
                    "lost": int((b[idx] & ~a[idx]).sum()),
                }
            )
    return pd.DataFrame(rows)


def compare(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Category],
    origins: gpd.GeoDataFrame,
    scenario: Scenario | Sequence[Scenario],
    areas: gpd.GeoDataFrame | None = None,
    max_snap: float = DEFAULT_MAX_SNAP_M,
    limit: float = DEFAULT_SEARCH_LIMIT_M,
) -> ScenarioResult:
    """Coverage before and after one or several scenarios, by category and area.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        ``facility_id``, ``name``, ``category`` points (any CRS).
    categories : sequence of Category
        Categories to compare (thresholds are scaled to each scenario's persona).
    origins : GeoDataFrame
        Origin points; an optional ``population`` column weights the shares.
    scenario : Scenario or sequence of Scenario
        Compared side by side, each against its own baseline (same persona).
    areas : GeoDataFrame, optional
        Zones or renewal areas (``code``, ``name_zh``, ``name_en``, polygons);
        adds one row per (category, area).
    max_snap, limit : float
        See :func:`gcgeo.coverage.compute_coverage`.

    Returns
    -------
    ScenarioResult
    """
    scenarios = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    if not scenarios:
        raise ScenarioError("No scenario given; pass at least one scenario file.")
    names = [s.name for s in scenarios]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise ScenarioError(
            f"Scenario name {sorted(dupes)[0]!r} is used by more than one file; give each a distinct name."
        )
    weights = (
        origins[POPULATION].to_numpy(float)
        if POPULATION in origins.columns
        else np.ones(len(origins))
    )
    before_cache: dict[float, CoverageResult] = {}
    before: dict[str, CoverageResult] = {}
    after: dict[str, CoverageResult] = {}
    tables: dict[str, pd.DataFrame] = {}
    change_frames = []
    membership = None
    for sc in scenarios:
        cats = persona_categories(categories, sc.speed_mps)
        if sc.speed_mps not in before_cache:
            before_cache[sc.speed_mps] = compute_coverage(
                net, facilities, cats, origins, sc.speed_mps, max_snap, limit
            )
        b = before_cache[sc.speed_mps]
        new_net, new_fac = apply_scenario(net, facilities, sc)
        a = compute_coverage(new_net, new_fac, cats, origins, sc.speed_mps, max_snap, limit)
        if areas is not None and membership is None:
            membership = area_membership(b.origins, areas)
        before[sc.name], after[sc.name] = b, a
        tables[sc.name] = _delta_table(b, a, cats, weights, membership, areas)
        for cat in cats:
            rb = b.origins[reached_col(cat.id)].to_numpy(bool)
            ra = a.origins[reached_col(cat.id)].to_numpy(bool)
            idx = np.flatnonzero(rb != ra)
            if not len(idx):
                continue
            change_frames.append(
                gpd.GeoDataFrame(
                    {
                        "scenario": sc.name,
                        "origin": idx,
                        "category": cat.id,
                        "change": np.where(ra[idx], "gained", "lost"),
                        "threshold_m": cat.max_distance_m,
                        "dist_before_m": b.origins[dist_col(cat.id)].to_numpy(float)[idx],
                        "dist_after_m": a.origins[dist_col(cat.id)].to_numpy(float)[idx],
                    },
                    geometry=b.origins.geometry.values[idx],
                    crs=b.origins.crs,
                )
            )
    if change_frames:
        changes = gpd.GeoDataFrame(pd.concat(change_frames, ignore_index=True), crs=net.crs)
    else:
        changes = gpd.GeoDataFrame(
            {
                "scenario": pd.Series([], dtype=object),
                "origin": pd.Series([], dtype=np.int64),
                "category": pd.Series([], dtype=object),
                "change": pd.Series([], dtype=object),
                "threshold_m": pd.Series([], dtype=float),
                "dist_before_m": pd.Series([], dtype=float),
                "dist_after_m": pd.Series([], dtype=float),
            },
            geometry=gpd.GeoSeries([], crs=net.crs),
            crs=net.crs,
        )
    if len(scenarios) == 1:
        delta = tables[scenarios[0].name]
    else:
        keys = ["category", "area_code", "area_name_zh", "area_name_en", "origins"]
        delta = None
        for sc in scenarios:
            t = tables[sc.name]
            part = t[keys + ["threshold_m", *_VALUE_COLS]].rename(
                columns={c: f"{sc.name}:{c}" for c in ("threshold_m", *_VALUE_COLS)}
            )
            delta = part if delta is None else delta.merge(part, on=keys, how="outer", sort=False)
    return ScenarioResult(scenarios, delta, tables, changes, before, after)
