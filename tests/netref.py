"""networkx reference for walking distances: snapped points inserted into the graph as nodes.

Independent of :mod:`gcgeo.engine` (no augmented graph, no virtual rows): every
touched segment is split at the feet of its snapped points, each point hangs
off its foot by its access leg, and networkx's Dijkstra does the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np

from gcgeo.network import StreetNetwork, to_networkx
from gcgeo.snap import Snap

__all__ = ["split_graph"]


def split_graph(
    net: StreetNetwork,
    snaps: Mapping[str, Snap],
    extra: Iterable[tuple[object, object, float]] = (),
) -> nx.Graph:
    """The network with every snapped point of ``snaps`` as node ``(name, i)``.

    Parameters
    ----------
    net : StreetNetwork
    snaps : mapping of str to Snap
        Point sets by name; unsnapped points are left out.
    extra : iterable of (node, node, length)
        Further edges (new links), e.g. ``(a, ("target", i), 100.0)``.

    Returns
    -------
    networkx.Graph
        Street nodes are ``0..n-1``; a point's foot on its segment is
        ``("foot", name, i)``; ``length`` weights, the minimum per pair.
    """
    g = to_networkx(net)
    on_edge: dict[int, list[tuple[float, tuple[str, int], float]]] = {}
    for name, s in snaps.items():
        for i in np.flatnonzero(s.ok):
            on_edge.setdefault(int(s.edge[i]), []).append(
                (float(s.offset[i]), (name, int(i)), float(s.leg[i]))
            )

    def add(a: object, b: object, length: float) -> None:
        if g.has_edge(a, b):
            g[a][b]["length"] = min(g[a][b]["length"], length)
        else:
            g.add_edge(a, b, length=length)

    for e, pts in on_edge.items():
        u, v, length = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_length[e])
        chain = [(0.0, u)] + sorted((t, ("foot", *key)) for t, key, _ in pts) + [(length, v)]
        for (t1, a), (t2, b) in zip(chain, chain[1:], strict=False):
            add(a, b, t2 - t1)
        for _t, key, leg in pts:
            add(key, ("foot", *key), leg)
    for a, b, length in extra:
        add(a, b, float(length))
    return g
