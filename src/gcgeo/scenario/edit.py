"""Scenario edits: new walking links and changed facilities, never in place.

Scenarios never mutate the network or the facility frame: links are applied
to new arrays (a link end falling mid-segment splits that segment in two) and
the CSR is rebuilt from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import settings
from .._errors import ScenarioError
from ..crs import transformer
from ..network import StreetNetwork
from ..snap import Snap, snap_points
from .parse import DEFAULT_LINK_SNAP_M, Scenario

__all__ = [
    "NODE_TOLERANCE_M",
    "EdgeMap",
    "add_links",
    "add_links_mapped",
    "apply_facilities",
    "apply_scenario",
]

#: A link end this close to an existing node joins that node instead of splitting the segment.
NODE_TOLERANCE_M = 0.5


def _projector(net: StreetNetwork) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    fwd = transformer(settings.WGS84, net.crs)
    inv = transformer(net.crs, settings.WGS84)
    return fwd, inv


@dataclass(frozen=True)
class EdgeMap:
    """Where the segments of a network edited by :func:`add_links_mapped` came from.

    Attributes
    ----------
    parent : ndarray of int
        Per new segment, the old segment it is (a piece of); ``-1`` for a link.
    start : ndarray of float
        Offset along the parent of the piece's ``u`` end (0 for unsplit segments).
    """

    parent: np.ndarray
    start: np.ndarray

    def remap(self, snap: Snap) -> Snap:
        """Snapped points of the old network on the new one: same street points, same legs."""
        old_e = snap.edge
        n_old = int(self.parent.max()) + 1 if len(self.parent) else 0
        split = np.zeros(max(n_old, 1), dtype=bool)
        pieces = np.flatnonzero(self.start > 0)
        split[self.parent[pieces]] = True
        first = np.full(max(n_old, 1), -1, dtype=np.int64)
        whole = np.flatnonzero((self.parent >= 0) & ~split[np.maximum(self.parent, 0)])
        first[self.parent[whole]] = whole
        edge = np.where(old_e >= 0, first[np.maximum(old_e, 0)], -1)
        offset = snap.offset.copy()
        on_split = np.flatnonzero((old_e >= 0) & split[np.maximum(old_e, 0)])
        if len(on_split):
            # the pieces of a split segment: its first piece (start 0) and the later ones
            cand = np.flatnonzero((self.parent >= 0) & split[np.maximum(self.parent, 0)])
            same = self.parent[cand][None, :] == old_e[on_split][:, None]
            before = self.start[cand][None, :] <= snap.offset[on_split][:, None]
            score = np.where(same & before, self.start[cand][None, :], -1.0)
            pick = cand[np.argmax(score, axis=1)]
            edge[on_split] = pick
            offset[on_split] = snap.offset[on_split] - self.start[pick]
        return Snap(edge, offset, snap.leg.copy())


def add_links(
    net: StreetNetwork,
    lines: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    max_snap: float = DEFAULT_LINK_SNAP_M,
    straight: Sequence[bool] | None = None,
) -> StreetNetwork:
    """A new network with walking links added; see :func:`add_links_mapped`."""
    return add_links_mapped(net, lines, names, keys, max_snap, straight)[0]


def add_links_mapped(
    net: StreetNetwork,
    lines: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    max_snap: float = DEFAULT_LINK_SNAP_M,
    straight: Sequence[bool] | None = None,
) -> tuple[StreetNetwork, EdgeMap]:
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
    EdgeMap
        Which old segment each new one comes from (to carry snapped points over).

    Raises
    ------
    ScenarioError
        A link end lies farther than ``max_snap`` from the network, or a link has no length.
    """
    n_links = len(lines)
    if n_links == 0:
        m = len(net.edges)
        return net, EdgeMap(np.arange(m, dtype=np.int64), np.zeros(m))
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
    piece_start: list[float] = []
    for edge, grp in uniq.groupby("edge", sort=True):
        edge = int(edge)
        ts = np.concatenate([[0.0], grp["t"].to_numpy(), [elen[edge]]])
        nodes_chain = np.concatenate([[eu[edge]], grp["node"].to_numpy(), [ev[edge]]])
        for j in range(len(ts) - 1):
            piece_parent.append(edge)
            piece_u.append(int(nodes_chain[j]))
            piece_v.append(int(nodes_chain[j + 1]))
            piece_len.append(float(ts[j + 1] - ts[j]))
            piece_start.append(float(ts[j]))
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
        # counted over every add_links call that led to this network
        "scenario_links": int(net.report.get("scenario_links", 0)) + n_links,
        "scenario_link_m": round(
            float(net.report.get("scenario_link_m", 0.0)) + float(llen.sum()), 2
        ),
        "scenario_nodes_added": int(net.report.get("scenario_nodes_added", 0)) + int(k_new),
        "scenario_edges_split": int(net.report.get("scenario_edges_split", 0))
        + int(len(np.unique(split_edges))),
        "nodes": len(nodes),
        "edges": len(edges),
    }
    emap = EdgeMap(
        parent=np.concatenate(
            [np.flatnonzero(keep), np.array(piece_parent, dtype=np.int64), np.full(len(lu), -1)]
        ).astype(np.int64),
        start=np.concatenate([np.zeros(int(keep.sum())), np.array(piece_start), np.zeros(len(lu))]),
    )
    costs = None
    if net.costs is not None:  # slopes: split streets keep their profile, links are sampled
        from ..terrain import edited_costs

        costs = edited_costs(
            net.costs, emap.parent, emap.start, edges["length"].to_numpy(float), xy,
            edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64), net.crs,
        )  # fmt: skip
    new = StreetNetwork(
        nodes=nodes,
        edges=edges,
        crs=net.crs,
        report=report,
        residential=net.residential,
        costs=costs,
    )
    return new, emap


def apply_facilities(facilities: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """A new facility frame (EPSG:4326) with the scenario's removals and additions.

    Raises
    ------
    ScenarioError
        A ``facility_id`` to remove is not among the facilities.
    """
    fac = facilities.to_crs(settings.WGS84) if facilities.crs != settings.WGS84 else facilities
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
        crs=settings.WGS84,
    )
    return gpd.GeoDataFrame(pd.concat([kept, add], ignore_index=True), crs=settings.WGS84)


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
    # one link at a time, in file order: a later link may start on an earlier one, as when
    # a planner draws them one after another (``gcgeo serve`` adds them the same way)
    new = net
    for i, (lk, line) in enumerate(zip(scenario.add_links, lines, strict=True)):
        new = add_links(
            new,
            [line],
            names=[lk.name or scenario.name],
            keys=[f"{scenario.where('add_link', i)} key {lk.mode!r}"],
            max_snap=scenario.link_max_snap,
            straight=[lk.mode == "connect"],
        )
    return new, fac
