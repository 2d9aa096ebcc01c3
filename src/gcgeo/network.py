"""The walkable street network: projection, components, CSR arrays.

Which ways are walkable is decided in :mod:`gcgeo.walk_filter` (re-exported here).

The network is kept at OSM-segment resolution: every pair of consecutive
nodes of a kept way is one straight edge. Facilities and origins snap to a
point on a segment, so there is no need to simplify the graph; Dijkstra on
scipy's compiled code is fast enough at this resolution (see benchmarks/).
"""

from __future__ import annotations

import os
from collections import Counter
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from . import settings
from ._errors import EmptyNetworkError, InputError
from .contract import Contraction, contract
from .crs import project_geometries, transformer
from .osm import OSMData, read_osm
from .terrain import EdgeCosts
from .walk_filter import WALK_HIGHWAYS, walk_decision

__all__ = [
    "DEFAULT_CRS",
    "area_in_crs",
    "WALK_HIGHWAYS",
    "StreetNetwork",
    "build_network",
    "choose_crs",
    "from_arrays",
    "load_network",
    "to_networkx",
    "walk_decision",
]

#: CGCS2000 / 3-degree Gauss-Krüger CM 117°E (covers 115.5°E–118.5°E).
DEFAULT_CRS = settings.DEFAULT_CRS


def choose_crs(lon: np.ndarray, lat: np.ndarray) -> str:
    """EPSG:4548 inside its 3° zone (115.5°E–118.5°E), else the local UTM zone."""
    if len(lon) == 0:
        return DEFAULT_CRS
    mlon, mlat = float(np.median(lon)), float(np.median(lat))
    if 115.5 <= mlon <= 118.5 and 0 < mlat < 60:
        return DEFAULT_CRS
    zone = int((mlon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if mlat >= 0 else 32700 + zone}"


def area_in_crs(area: Any, crs: str, what: str = "boundary") -> BaseGeometry:
    """One polygon in ``crs`` from a GeoDataFrame/GeoSeries (any CRS, unioned) or a
    WGS-84 shapely geometry.

    Raises
    ------
    InputError
        No CRS on the frame, or not a polygon-like input; ``what`` names it.
    """
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise InputError(f"The {what} has no CRS; save it with one (e.g. EPSG:4326).")
        return shapely.union_all(area.to_crs(crs).geometry.values)
    if isinstance(area, BaseGeometry):  # WGS-84
        return gpd.GeoSeries([area], crs=settings.WGS84).to_crs(crs).iloc[0]
    raise InputError(f"The {what} ({type(area).__name__}) is not a polygon or a GeoDataFrame.")


def _check_projected(crs: str) -> pyproj.CRS:
    try:
        c = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(
            f"CRS {crs!r} is not known to PROJ; pass an EPSG code such as EPSG:4548."
        ) from exc
    if not c.is_projected:
        raise InputError(
            f"CRS {crs!r} is not projected (distances would be in degrees); pass a metric CRS "
            "such as EPSG:4548."
        )
    return c


class StreetNetwork:
    """A walkable street network in a projected CRS (metres).

    Attributes
    ----------
    nodes : GeoDataFrame
        Index ``0..n-1``; columns ``osmid``, ``x``, ``y``, ``lon``, ``lat`` and a Point.
    edges : GeoDataFrame
        One straight segment per row: ``u``, ``v`` (node indices), ``length``
        (m), ``way_id``, ``highway``, ``name``, ``access``, ``foot``,
        ``sidewalk``, ``private`` and a 2-point LineString.
    crs : str
    report : dict
        What was kept and dropped, for outputs and the CLI.
    residential : GeoSeries
        Residential land use and buildings, projected (may be empty).
    costs : EdgeCosts, optional
        Walking cost of each segment per direction, from a DEM
        (:func:`gcgeo.terrain.apply_dem`); ``None``: every walk costs its length both ways.
    contraction : Contraction, optional
        The contraction of this network's graph when it is already known (a cache entry
        stores it: :mod:`gcgeo.cache_format`); only without ``costs``. Default: built the
        first time :attr:`contraction` is read.

    ``nodes`` and ``edges`` may be given as plain DataFrames of those columns: their
    geometries (made from ``x``/``y``) are then built the first time :attr:`nodes` or
    :attr:`edges` is read. The search, snapping and caching read the columns alone
    (:attr:`node_table`, :attr:`edge_table`), so a ``gcgeo coverage`` run never pays
    the ~0.2 s GEOS takes per 150k segments.
    """

    def __init__(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        crs: str,
        report: dict[str, Any] | None = None,
        residential: gpd.GeoSeries | None = None,
        costs: EdgeCosts | None = None,
        contraction: Contraction | None = None,
    ) -> None:
        self._nodes = nodes
        self._edges = edges
        self.crs = crs
        self.report: dict[str, Any] = {} if report is None else report
        self.residential = residential
        self.costs = costs
        if contraction is not None:
            if costs is not None:
                raise ValueError("a known contraction is the level graph's: give it without costs")
            if contraction.n_nodes != len(nodes) or len(contraction.edge_chain) != len(edges):
                raise ValueError("the contraction is of a network of another size")
            self.__dict__["contraction"] = contraction  # what the cached property would hold

    def __repr__(self) -> str:
        return (
            f"StreetNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, crs={self.crs!r}, "
            f"slopes={'yes' if self.costs is not None else 'no'})"
        )

    def replace(self, **changes: Any) -> StreetNetwork:
        """A new network with some of its parts replaced (``costs=...``); the rest shared."""
        parts: dict[str, Any] = {
            "nodes": self._nodes,
            "edges": self._edges,
            "crs": self.crs,
            "report": self.report,
            "residential": self.residential,
            "costs": self.costs,
        }
        unknown = set(changes) - set(parts)
        if unknown:
            raise TypeError(f"StreetNetwork has no part {sorted(unknown)}")
        return StreetNetwork(**{**parts, **changes})

    @property
    def node_table(self) -> pd.DataFrame:
        """The node columns, with or without the geometry (never builds it)."""
        return self._nodes

    @property
    def edge_table(self) -> pd.DataFrame:
        """The segment columns, with or without the geometry (never builds it)."""
        return self._edges

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """The nodes as a GeoDataFrame (Points built on first use)."""
        if not isinstance(self._nodes, gpd.GeoDataFrame):
            xy = self.xy
            self._nodes = gpd.GeoDataFrame(
                self._nodes, geometry=shapely.points(xy[:, 0], xy[:, 1]), crs=self.crs
            )
        return self._nodes

    @property
    def edges(self) -> gpd.GeoDataFrame:
        """The segments as a GeoDataFrame (2-point LineStrings built on first use)."""
        if not isinstance(self._edges, gpd.GeoDataFrame):
            xy = self.xy
            coords = np.stack([xy[self.edge_u], xy[self.edge_v]], axis=1)
            self._edges = gpd.GeoDataFrame(
                self._edges, geometry=shapely.linestrings(coords), crs=self.crs
            )
        return self._edges

    @property
    def n_edges(self) -> int:
        return len(self._edges)

    @property
    def n_nodes(self) -> int:
        return len(self._nodes)

    @cached_property
    def xy(self) -> np.ndarray:
        """Node coordinates, shape (n, 2)."""
        t = self._nodes
        return np.column_stack([t["x"].to_numpy(dtype=float), t["y"].to_numpy(dtype=float)])

    @cached_property
    def edge_u(self) -> np.ndarray:
        return self._edges["u"].to_numpy(dtype=np.int64)

    @cached_property
    def edge_v(self) -> np.ndarray:
        return self._edges["v"].to_numpy(dtype=np.int64)

    @cached_property
    def edge_length(self) -> np.ndarray:
        return self._edges["length"].to_numpy(dtype=float)

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Symmetric CSR adjacency, one entry per node pair with the minimum length.

        Duplicate pairs (a street in both directions, parallel edges, two ways
        sharing a segment) are reduced to their minimum first, because scipy's
        COO→CSR conversion would otherwise add them up.
        """
        return _csr(self.edge_u, self.edge_v, self.edge_length, self.n_nodes)

    @property
    def directed(self) -> bool:
        """Whether walks cost differently in the two directions (a DEM is attached)."""
        return self.costs is not None

    @cached_property
    def walk_graph(self) -> sp.csr_matrix:
        """Walking cost of each step, ``C[x, y]`` = cheapest segment walked ``x → y``.

        :attr:`graph` without :attr:`costs`; with them, the same entries (both directions
        of every pair) holding each direction's own cost (flat-equivalent metres).
        """
        if self.costs is None:
            return self.graph
        return _directed_csr(self.edge_u, self.edge_v, self.costs.fwd, self.costs.bwd, self.n_nodes)

    @cached_property
    def search_graph(self) -> sp.csr_matrix:
        """The graph a search from facilities runs on: ``walk_graph`` transposed, so the
        distance found at a node is the walk *from* it *to* the nearest facility."""
        if self.costs is None:
            return self.graph
        return self.walk_graph.transpose().tocsr()

    @cached_property
    def level(self) -> StreetNetwork:
        """This network as if level (itself without :attr:`costs`): street distances in
        metres, for questions of geometry such as a dead end's detour."""
        if self.costs is None:
            return self
        return self.replace(costs=None)

    @cached_property
    def reversed(self) -> StreetNetwork:
        """This network with every walk reversed (itself without :attr:`costs`): a search
        from facilities on it finds the walks *from* them, i.e. from origins when origins
        are the sources (``gcgeo suggest`` measures walks from homes to candidate sites)."""
        if self.costs is None:
            return self
        return self.replace(costs=self.costs.reversed())

    @cached_property
    def contraction(self) -> Contraction:
        """The contracted search graph (:mod:`gcgeo.contract`), built once per network."""
        return contract(self.walk_graph, self.edge_u, self.edge_v, self.xy)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index over edge geometries (positions = edge row numbers)."""
        return shapely.STRtree(self.edges.geometry.values)

    @cached_property
    def snap_index(self) -> tuple[Any, np.ndarray, float, np.ndarray]:
        """KD-tree over midpoints of edge pieces (for :func:`gcgeo.snap.snap_points`).

        Each edge is cut into equal pieces no longer than ``chunk`` (the 90th
        percentile edge length); returns ``(tree, piece_edge, chunk, seg)``
        with ``seg`` the (n_edges, 4) end coordinates ``ax, ay, bx, by``.
        """
        from scipy.spatial import cKDTree

        a = self.xy[self.edge_u]
        b = self.xy[self.edge_v]
        length = self.edge_length
        chunk = max(float(np.percentile(length, 90)) if len(length) else 1.0, 1.0)
        pieces = np.maximum(np.ceil(length / chunk), 1).astype(np.int64)
        piece_edge = np.repeat(np.arange(len(length)), pieces)
        start = np.cumsum(pieces) - pieces
        frac = (np.arange(len(piece_edge)) - start[piece_edge] + 0.5) / pieces[piece_edge]
        mid = a[piece_edge] + (b - a)[piece_edge] * frac[:, None]
        return cKDTree(mid), piece_edge, chunk, np.ascontiguousarray(np.hstack([a, b]))

    @property
    def _snap_index(self) -> tuple[Any, np.ndarray, float, np.ndarray]:
        """Old private name of :attr:`snap_index` (still used by benchmarks/bench_engine.py)."""
        return self.snap_index

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x, y = self.xy[:, 0], self.xy[:, 1]
        return float(x.min()), float(y.min()), float(x.max()), float(y.max())


def _csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """Symmetric CSR with the minimum weight per unordered pair; self-loops dropped."""
    a = np.minimum(u, v)
    b = np.maximum(u, v)
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    sel = _min_per_pair(a, b, w, n)
    a, b, w = a[sel], b[sel], w[sel]
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    data = np.concatenate([w, w])
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n))


def _directed_csr(
    u: np.ndarray, v: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, n: int
) -> sp.csr_matrix:
    """CSR with ``[u, v] = fwd`` and ``[v, u] = bwd``, the minimum per ordered pair."""
    keep = u != v
    rows = np.concatenate([u[keep], v[keep]])
    cols = np.concatenate([v[keep], u[keep]])
    w = np.concatenate([fwd[keep], bwd[keep]])
    sel = _min_per_pair(rows, cols, w, n)
    return sp.csr_matrix((w[sel], (rows[sel], cols[sel])), shape=(n, n))


def _min_per_pair(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Positions of the lightest entry of each (a, b) pair (sorted by pair, then weight)."""
    key = a * np.int64(n) + b
    order = np.lexsort((w, key))
    key_s = key[order]
    first = np.ones(len(key_s), dtype=bool)
    first[1:] = key_s[1:] != key_s[:-1]
    return order[first]


def build_network(
    osm: OSMData,
    crs: str | None = None,
    include_private: bool = True,
    largest_component: bool = True,
    include_trunk: bool = True,
) -> StreetNetwork:
    """Build the walkable network from parsed OSM data.

    Parameters
    ----------
    osm : OSMData
        From :func:`gcgeo.osm.read_osm`.
    crs : str, optional
        Projected CRS for metres. Default: EPSG:4548 when the data lies in its
        zone (115.5°E–118.5°E), otherwise the local UTM zone.
    include_private : bool
        Keep ``access=private`` minor ways (gated residential compounds).
    largest_component : bool
        Keep only the largest connected piece (reported).
    include_trunk : bool
        Keep at-grade ``highway=trunk`` roads without mapped sidewalks (Chinese urban
        arterials; see :func:`gcgeo.walk_filter.walk_decision`); the count kept this way is
        reported as ``trunk_ways_kept``.

    Raises
    ------
    EmptyNetworkError
        No walkable way in the data.
    """
    decisions: Counter[str] = Counter()
    seg_u: list[np.ndarray] = []
    seg_v: list[np.ndarray] = []
    seg_lon: list[np.ndarray] = []
    seg_lat: list[np.ndarray] = []
    kept_ways: list[int] = []
    n_private = 0
    n_trunk = 0
    way_private = np.zeros(len(osm.ways), dtype=bool)
    for i, w in enumerate(osm.ways):
        d = walk_decision(w.tags, include_private, include_trunk)
        decisions[d] += 1
        way_private[i] = d == "keep_private"
        if not d.startswith("keep"):
            continue
        n_private += d == "keep_private"
        n_trunk += d == "keep_trunk"
        kept_ways.append(i)
        seg_u.append(w.refs[:-1])
        seg_v.append(w.refs[1:])
        seg_lon.append(w.lon)
        seg_lat.append(w.lat)
    if not kept_ways:
        raise EmptyNetworkError(
            f"No walkable street in {osm.path!r} ({len(osm.ways)} highway ways, none walkable); "
            "check that the extract covers a built-up area and was not clipped away."
        )
    u_osm = np.concatenate(seg_u)
    v_osm = np.concatenate(seg_v)
    kept_arr = np.array(kept_ways, dtype=np.int64)
    way_idx = np.repeat(kept_arr, [len(s) for s in seg_u])
    # every node once, by id (a node shared by several ways has one location)
    refs = np.concatenate([w.refs for w in (osm.ways[i] for i in kept_ways)]).astype(np.int64)
    osmids, first = np.unique(refs, return_index=True)
    lon = np.concatenate(seg_lon)[first].astype(float)
    lat = np.concatenate(seg_lat)[first].astype(float)
    u = np.searchsorted(osmids, u_osm)
    v = np.searchsorted(osmids, v_osm)

    crs = crs or choose_crs(lon, lat)
    pcrs = _check_projected(crs)
    tr = transformer(settings.WGS84, pcrs)
    x, y = tr.transform(lon, lat)
    x, y = np.asarray(x), np.asarray(y)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    nonzero = u != v
    u, v, way_idx, length = u[nonzero], v[nonzero], way_idx[nonzero], length[nonzero]

    n = len(osmids)
    report: dict[str, Any] = {
        "source_file": osm.path,
        "crs": crs,
        "ways_read": len(osm.ways),
        "ways_kept": len(kept_ways),
        "private_ways_kept": int(n_private),
        "include_private": include_private,
        "trunk_ways_kept": int(n_trunk),
        "include_trunk": include_trunk,
        "dropped_by_reason": {
            k.split(":", 1)[1]: int(c) for k, c in sorted(decisions.items()) if k.startswith("drop")
        },
    }
    node_keep = np.ones(n, dtype=bool)
    if largest_component:
        g = _csr(u, v, length, n)
        ncomp, labels = connected_components(g, directed=False)
        sizes = np.bincount(labels)
        big = int(np.argmax(sizes))
        node_keep = labels == big
        report["components"] = int(ncomp)
        report["nodes_dropped_small_components"] = int((~node_keep).sum())
    edge_keep = node_keep[u] & node_keep[v]
    report["edges_dropped_small_components"] = int((~edge_keep).sum())
    new_index = np.cumsum(node_keep) - 1
    u = new_index[u[edge_keep]]
    v = new_index[v[edge_keep]]
    way_idx = way_idx[edge_keep]
    length = length[edge_keep]
    osmids, lon, lat, x, y = (a[node_keep] for a in (osmids, lon, lat, x, y))

    # plain frames: StreetNetwork builds the geometries only if they are asked for
    nodes = pd.DataFrame({"osmid": osmids, "x": x, "y": y, "lon": lon, "lat": lat})
    ways = osm.ways
    # the tags of the kept ways, each read once, then spread over their segments
    cols = ("highway", "name", "access", "foot", "sidewalk")
    rows = [(ways[i].id, *(ways[i].tags.get(c) for c in cols)) for i in kept_ways]
    table = np.array(rows, dtype=object).reshape(len(kept_ways), len(cols) + 1)
    at = np.searchsorted(kept_arr, way_idx)
    tag_cols = {c: table[at, j + 1] for j, c in enumerate(cols)}
    way_ids = table[at, 0].astype(np.int64)
    private = way_private[way_idx]
    edges = pd.DataFrame(
        {
            "u": u,
            "v": v,
            "length": length,
            "way_id": way_ids,
            **tag_cols,
            "private": private,
        }
    )
    report["nodes"] = int(len(nodes))
    report["edges"] = int(len(edges))
    report["street_km"] = round(float(length.sum()) / 1000, 3)
    residential = None
    if osm.residential:
        res = project_geometries(osm.residential, settings.WGS84, crs)
        residential = gpd.GeoSeries(shapely.make_valid(res), crs=crs)
    report["residential_areas"] = len(osm.residential)
    return StreetNetwork(nodes=nodes, edges=edges, crs=crs, report=report, residential=residential)


def from_arrays(
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    crs: str = DEFAULT_CRS,
    *,
    osmid: np.ndarray | None = None,
    way_id: np.ndarray | None = None,
    highway: str | np.ndarray = "residential",
) -> StreetNetwork:
    """A :class:`StreetNetwork` straight from projected node and edge arrays.

    For benchmarks and tests (synthetic grids); frames have the same columns
    and dtypes as :func:`build_network` makes. ``u``/``v`` are node indices
    (0..n-1) and ``length`` is the straight segment length. Self-loops are
    dropped; no component filtering. ``lon``/``lat`` are derived from ``crs``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    n = len(x)
    if len(y) != n or len(u) != len(v):
        raise InputError("x/y and u/v must have matching lengths.")
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise InputError("edge node indices must lie in 0..n-1.")
    pcrs = _check_projected(crs)
    tr = transformer(pcrs, settings.WGS84)
    lon, lat = (np.asarray(a, dtype=float) for a in tr.transform(x, y))
    osmid = np.arange(1, n + 1, dtype=np.int64) if osmid is None else np.asarray(osmid, np.int64)
    way_id = np.arange(1, len(u) + 1, dtype=np.int64) if way_id is None else np.asarray(way_id)
    keep = u != v
    u, v, way_id = u[keep], v[keep], way_id[keep].astype(np.int64)
    m = len(u)
    hw = np.asarray(highway, dtype=object)
    hw = np.full(m, highway, dtype=object) if hw.ndim == 0 else hw[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    nodes = pd.DataFrame({"osmid": osmid, "x": x, "y": y, "lon": lon, "lat": lat})
    none = np.full(m, None, dtype=object)
    edges = pd.DataFrame(
        {
            "u": u,
            "v": v,
            "length": length,
            "way_id": way_id,
            "highway": hw,
            # all missing, with the string dtype pandas gives build_network's tag columns
            **{c: pd.Series(none, dtype="str") for c in ("name", "access", "foot", "sidewalk")},
            "private": np.zeros(m, dtype=bool),
        }
    )
    report: dict[str, Any] = {
        "source_file": None,
        "crs": crs,
        "nodes": int(n),
        "edges": int(m),
        "street_km": round(float(length.sum()) / 1000, 3),
    }
    return StreetNetwork(nodes=nodes, edges=edges, crs=crs, report=report)


#: Old private name of :func:`from_arrays` (still used by benchmarks/bench_engine.py).
_from_arrays = from_arrays


def load_network(
    path: str | os.PathLike,
    clip: BaseGeometry | tuple[float, float, float, float] | None = None,
    crs: str | None = None,
    include_private: bool = True,
    largest_component: bool = True,
    include_trunk: bool = True,
) -> StreetNetwork:
    """Read an OSM file and build its walkable network (see :func:`build_network`)."""
    return build_network(
        read_osm(path, clip=clip), crs, include_private, largest_component, include_trunk
    )


def to_networkx(net: StreetNetwork) -> Any:
    """The network as an undirected ``networkx.Graph`` with ``length`` weights (min per pair).

    For interoperability and cross-checks; gcgeo's engine does not use networkx.
    """
    import networkx as nx

    coo = sp.triu(net.graph).tocoo()
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True), weight="length"
    )
    return g
