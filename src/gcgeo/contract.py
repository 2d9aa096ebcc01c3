"""The contracted search graph: junctions and dead ends as nodes, chains as edges.

Most nodes of a real OSM street network are shape nodes with exactly two
neighbours (62 % of Helsinki's walkable nodes, 65 % of the Beijing sample's).
:class:`Contraction` keeps every node whose number of distinct neighbours is not
two (junctions and dead ends, the *kept* nodes) and replaces each maximal run
of two-neighbour nodes between them by one *chain* with the summed length.
Every full node and every street segment is placed on its chain by offset, so
distances found on the small graph are expanded back to every full node
exactly: an inner node at offset ``o`` of a chain ``A → B`` of length ``L`` is
``min(d(A) + o, d(B) + L - o)``, or nearer still to a source on the same chain.

The street network keeps its full geometry for snapping, maps and isochrones;
only the searches run on the contracted graph. Building is vectorised (pointer
jumping along the chains, no Python loop over nodes) and happens once per
network (:attr:`gcgeo.network.StreetNetwork.contraction`).

Walks may cost differently in the two directions (slopes, :mod:`gcgeo.terrain`): the
graph contracted is then the walking-cost matrix ``C[x, y]`` (walk ``x → y``), every
position on a chain has two offsets, ``P`` (the walk from the chain's ``a`` end to it)
and ``Q`` (the walk from it back to ``a``), and the contracted graph is transposed, so a
search from facilities finds the walk *from* every node *to* the nearest one. Without
slopes ``P == Q`` and every formula below reduces to the symmetric one.

The kept nodes are numbered along a Z-order (Morton) curve of their
coordinates, so neighbours in space are neighbours in memory; see
``benchmarks/bench_engine.py`` for what that and the contraction gain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ._arrays import ranges

__all__ = ["CORE_FIELDS", "Contraction", "Starts", "contract", "morton_order", "search"]

#: What a :class:`Contraction` is rebuilt from (:meth:`Contraction.core`,
#: :meth:`Contraction.from_core`): the rest of its arrays are gathers of these. The
#: ``graph_*`` arrays are its CSR search graph.
CORE_FIELDS = (
    "kept",
    "chain_a",
    "chain_b",
    "chain_len",
    "chain_back",
    "chain_ptr",
    "chain_nodes",
    "inner_off",
    "inner_back",
    "edge_chain",
    "edge_off_u",
    "edge_off_v",
    "edge_back_u",
    "edge_back_v",
    "graph_indptr",
    "graph_indices",
    "graph_data",
)
_INT_CORE = frozenset(
    {"kept", "chain_a", "chain_b", "chain_ptr", "chain_nodes", "edge_chain"}
    | {"graph_indptr", "graph_indices"}
)


@dataclass(frozen=True)
class Starts:
    """Points on street segments, placed on the contracted graph.

    Attributes
    ----------
    chain : ndarray of int
        The chain each point lies on.
    to_a, to_b : ndarray of float
        Walking distance along the chain from the point to its ``a`` and ``b`` ends.
    off_u, off_v : ndarray of float
        Offsets (``P``) along the chain of the point's segment's ``u`` and ``v`` ends.
    cost_u, cost_v : ndarray of float
        Walking cost between the point and those two ends along its own segment (from
        the end to the point when walks are directed).
    back_u, back_v : ndarray of float
        The ends' ``Q`` offsets (walk back to ``a``; equal to ``off_u, off_v`` without slopes).
    """

    chain: np.ndarray
    to_a: np.ndarray
    to_b: np.ndarray
    off_u: np.ndarray
    off_v: np.ndarray
    cost_u: np.ndarray
    cost_v: np.ndarray
    back_u: np.ndarray
    back_v: np.ndarray

    def take(self, idx: np.ndarray) -> Starts:
        """The starts of a subset of points."""
        return Starts(
            self.chain[idx],
            self.to_a[idx],
            self.to_b[idx],
            self.off_u[idx],
            self.off_v[idx],
            self.cost_u[idx],
            self.cost_v[idx],
            self.back_u[idx],
            self.back_v[idx],
        )


@dataclass(frozen=True)
class Contraction:
    """A street graph contracted to its junctions and dead ends.

    Attributes
    ----------
    graph : csr_matrix, shape (k, k)
        The search graph: ``graph[b, a]`` is the cheapest chain walked ``a → b``
        (symmetric without slopes).
    kept : ndarray of int, shape (k,)
        Full node index of each contracted node (in search order).
    knode : ndarray of int, shape (n,)
        Contracted index of each full node; ``-1`` for inner (two-neighbour) nodes.
    chain_a, chain_b : ndarray of int, shape (c,)
        Contracted index of each chain's two ends (equal for a loop).
    chain_len : ndarray of float, shape (c,)
        Length of each chain (m): the sum of its shortest segments (the walk ``a → b``).
    chain_back : ndarray of float, shape (c,)
        The walk ``b → a`` (``chain_len`` without slopes).
    node_chain : ndarray of int, shape (n,)
        Chain of each inner node, ``-1`` for kept nodes.
    node_off, node_back : ndarray of float, shape (n,)
        Offsets ``P`` and ``Q`` of each inner node (equal without slopes).
    edge_chain, edge_off_u, edge_off_v, edge_back_u, edge_back_v : ndarray, shape (n_edges,)
        For each street segment (row of ``net.edges``): its chain and the
        ``P`` and ``Q`` offsets of its ``u`` and ``v`` ends along it.
    chain_ptr, chain_nodes : ndarray of int
        Inner nodes of chain ``c`` are ``chain_nodes[chain_ptr[c]:chain_ptr[c + 1]]``;
        chains are numbered in the order of their ``a`` ends.
    inner_a, inner_b, inner_off, inner_back, inner_rest : ndarray
        Per inner node in ``chain_nodes`` order: its chain's two ends, its ``P`` and
        ``Q`` offsets (``Q`` is also its walk to ``a``), and its walk to ``b`` (kept beside
        ``chain_nodes`` for a sequential expansion).
    """

    graph: sp.csr_matrix
    kept: np.ndarray
    knode: np.ndarray
    chain_a: np.ndarray
    chain_b: np.ndarray
    chain_len: np.ndarray
    chain_back: np.ndarray
    node_chain: np.ndarray
    node_off: np.ndarray
    node_back: np.ndarray
    edge_chain: np.ndarray
    edge_off_u: np.ndarray
    edge_off_v: np.ndarray
    edge_back_u: np.ndarray
    edge_back_v: np.ndarray
    chain_ptr: np.ndarray
    chain_nodes: np.ndarray
    inner_a: np.ndarray
    inner_b: np.ndarray
    inner_off: np.ndarray
    inner_back: np.ndarray
    inner_rest: np.ndarray

    @property
    def n_kept(self) -> int:
        return len(self.kept)

    def core(self) -> dict[str, np.ndarray]:
        """The arrays :meth:`from_core` rebuilds this contraction from (:data:`CORE_FIELDS`),
        e.g. to store it beside its network (:mod:`gcgeo.cache_format`)."""
        g = self.graph
        out = {f: getattr(self, f) for f in CORE_FIELDS if not f.startswith("graph_")}
        out.update(graph_indptr=g.indptr, graph_indices=g.indices, graph_data=g.data)
        return out

    @classmethod
    def from_core(
        cls, n_nodes: int, n_edges: int, core: Mapping[str, np.ndarray], check: bool = True
    ) -> Contraction:
        """Rebuild a contraction of a graph of ``n_nodes`` nodes and ``n_edges`` segments.

        Parameters
        ----------
        n_nodes, n_edges : int
            The street network's size.
        core : mapping of str to ndarray
            The arrays of :data:`CORE_FIELDS` (:meth:`core`).
        check : bool
            Check that the arrays describe a contraction of that size: every index in
            range, the kept and inner nodes together every node once, the chains'
            pointers in order, every length finite and not negative. A stored
            contraction is checked (a damaged one must not reach the search).

        Raises
        ------
        ValueError
            With ``check``: the arrays do not describe such a contraction; the message
            names the first array that does not fit.
        """
        if check:
            _check_core(n_nodes, n_edges, core)
        kept = np.asarray(core["kept"], dtype=np.int64)
        chain_a = np.asarray(core["chain_a"], dtype=np.int64)
        chain_b = np.asarray(core["chain_b"], dtype=np.int64)
        chain_len = np.asarray(core["chain_len"], dtype=float)
        chain_ptr = np.asarray(core["chain_ptr"], dtype=np.int64)
        chain_nodes = np.asarray(core["chain_nodes"], dtype=np.int64)
        inner_off = np.asarray(core["inner_off"], dtype=float)
        inner_back = np.asarray(core["inner_back"], dtype=float)
        k = len(kept)
        knode = np.full(n_nodes, -1, dtype=np.int64)
        knode[kept] = np.arange(k)
        ic = np.repeat(np.arange(len(chain_a), dtype=np.int64), np.diff(chain_ptr))
        node_chain = np.full(n_nodes, -1, dtype=np.int64)
        node_chain[chain_nodes] = ic
        node_off = np.zeros(n_nodes)
        node_off[chain_nodes] = inner_off
        node_back = np.zeros(n_nodes)
        node_back[chain_nodes] = inner_back
        graph = sp.csr_matrix(
            (core["graph_data"], core["graph_indices"], core["graph_indptr"]), shape=(k, k)
        )
        return cls(
            graph=graph,
            kept=kept,
            knode=knode,
            chain_a=chain_a,
            chain_b=chain_b,
            chain_len=chain_len,
            chain_back=np.asarray(core["chain_back"], dtype=float),
            node_chain=node_chain,
            node_off=node_off,
            node_back=node_back,
            edge_chain=np.asarray(core["edge_chain"], dtype=np.int64),
            edge_off_u=np.asarray(core["edge_off_u"], dtype=float),
            edge_off_v=np.asarray(core["edge_off_v"], dtype=float),
            edge_back_u=np.asarray(core["edge_back_u"], dtype=float),
            edge_back_v=np.asarray(core["edge_back_v"], dtype=float),
            chain_ptr=chain_ptr,
            chain_nodes=chain_nodes,
            inner_a=chain_a[ic],
            inner_b=chain_b[ic],
            inner_off=inner_off,
            inner_back=inner_back,
            inner_rest=chain_len[ic] - inner_off,
        )

    @property
    def n_nodes(self) -> int:
        return len(self.knode)

    def starts(
        self,
        edge: np.ndarray,
        offset: np.ndarray,
        edge_length: np.ndarray,
        *,
        cost_u: np.ndarray | None = None,
        cost_v: np.ndarray | None = None,
    ) -> Starts:
        """Where points on segments meet their chain's two ends.

        A point at ``offset`` from the ``u`` end of segment ``edge`` (of length
        ``edge_length``, which may exceed the chain's own step when a longer
        parallel segment joins the same two nodes) is reached from ``a`` or
        ``b``, through ``u`` or ``v``, whichever is shorter. With directed walks,
        ``cost_u`` and ``cost_v`` are the walks from ``u`` and from ``v`` to the point
        along its segment (default: ``offset`` and ``edge_length - offset``).
        """
        c = self.edge_chain[edge]
        ou = self.edge_off_u[edge]
        ov = self.edge_off_v[edge]
        if cost_u is None or cost_v is None:
            cost_u = np.clip(np.asarray(offset, dtype=float), 0.0, edge_length)
            cost_v = edge_length - cost_u
        bu = self.edge_back_u[edge]
        bv = self.edge_back_v[edge]
        back = self.chain_back[c]
        return Starts(
            chain=c,
            to_a=np.minimum(cost_u + ou, cost_v + ov),
            to_b=np.minimum(cost_u + (back - bu), cost_v + (back - bv)),
            off_u=ou,
            off_v=ov,
            cost_u=np.asarray(cost_u, dtype=float),
            cost_v=np.asarray(cost_v, dtype=float),
            back_u=bu,
            back_v=bv,
        )

    def augmented(self, starts: Starts, cost: np.ndarray | float = 0.0) -> sp.csr_matrix:
        """The contracted graph plus one virtual source row per start point.

        Row ``k + i`` has an entry to each end of point ``i``'s chain (one for a
        loop, the shorter way round), weighted ``cost + to_a`` and ``cost +
        to_b``; nothing points into a virtual row, so a directed search may
        start at one but never pass through one.
        """
        k = self.n_kept
        chain = starts.chain
        to_a = starts.to_a + cost
        to_b = starts.to_b + cost
        a = self.chain_a[chain]
        b = self.chain_b[chain]
        loop = a == b
        w_a = np.where(loop, np.minimum(to_a, to_b), to_a)
        cnt = np.where(loop, 1, 2)
        cols = np.column_stack([a, b]).ravel()
        w = np.column_stack([w_a, to_b]).ravel()
        keep = np.column_stack([np.ones(len(a), dtype=bool), ~loop]).ravel()
        base = self.graph
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(cnt)])
        indices = np.concatenate([base.indices, cols[keep]]).astype(base.indices.dtype)
        data = np.concatenate([base.data, w[keep]])
        m = k + len(chain)
        return sp.csr_matrix((data, indices, indptr), shape=(m, m))

    def values_at(
        self,
        dist_k: np.ndarray,
        row: np.ndarray,
        node: np.ndarray,
        start: Starts | None = None,
    ) -> np.ndarray:
        """Distance from search ``row`` to full ``node``, for broadcast index arrays.

        Parameters
        ----------
        dist_k : ndarray, shape (rows, k)
            Distances at the kept nodes, one search per row.
        row, node : ndarray of int
            Broadcastable: e.g. ``rows[:, None]`` and ``nodes[None, :]``.
        start : Starts, optional
            Where each row's search started (indexed by ``row``), when rows start
            at points: a node on the start's own chain is also reached along it.
        """
        kn = self.knode[node]
        c = self.node_chain[node]
        o = self.node_off[node]
        q = self.node_back[node]
        cc = np.maximum(c, 0)
        via = np.minimum(
            dist_k[row, self.chain_a[cc]] + q,
            dist_k[row, self.chain_b[cc]] + (self.chain_len[cc] - o),
        )
        out = np.where(kn >= 0, dist_k[row, np.maximum(kn, 0)], via)
        if start is not None:
            same = (c >= 0) & (c == start.chain[row])
            ou, ov = start.off_u[row], start.off_v[row]
            bu, bv = start.back_u[row], start.back_v[row]
            direct = np.minimum(
                start.cost_u[row] + np.where(ou >= o, ou - o, q - bu),
                start.cost_v[row] + np.where(ov >= o, ov - o, q - bv),
            )
            out = np.where(same, np.minimum(out, direct), out)
        return out

    def expand(
        self,
        dist_k: np.ndarray,
        src_k: np.ndarray,
        emitters: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distances at every full node from distances at the kept nodes.

        Parameters
        ----------
        dist_k, src_k : ndarray, shape (k,)
            Distance and source at each contracted node.
        emitters : (chain, offset, back, cost, source), optional
            Sources that lie on chains, at offsets ``P = offset`` and ``Q = back``: an
            inner node of the same chain reaches one at ``cost`` plus the walk along the
            chain to it, ``P - P(node)`` ahead of it or ``Q(node) - Q`` behind it.

        Returns
        -------
        dist, source : ndarray, shape (n,)
        """
        n = self.n_nodes
        dist = np.empty(n)
        src = np.empty(n, dtype=src_k.dtype)
        dist[self.kept] = dist_k
        src[self.kept] = src_k
        inner = self.chain_nodes
        o = self.inner_off
        a, b = self.inner_a, self.inner_b
        via_a = dist_k[a] + self.inner_back
        via_b = dist_k[b] + self.inner_rest
        use_a = via_a <= via_b
        best = np.where(use_a, via_a, via_b)
        best_src = np.where(use_a, src_k[a], src_k[b])
        if emitters is not None and len(emitters[0]):
            ec, eo, eq, ecost, esrc = emitters
            cnt = self.chain_ptr[ec + 1] - self.chain_ptr[ec]
            has = np.flatnonzero(cnt)
            if len(has):
                ec, eo, eq, ecost, esrc, cnt = (
                    ec[has], eo[has], eq[has], ecost[has], esrc[has], cnt[has])  # fmt: skip
                e = np.repeat(np.arange(len(ec)), cnt)
                # positions in chain_nodes (= positions in ``inner``)
                pos, _ = ranges(self.chain_ptr[ec], self.chain_ptr[ec] + cnt)
                ahead = eo[e] >= o[pos]
                d = ecost[e] + np.where(
                    ahead, eo[e] - o[pos], self.inner_back[pos] - eq[e])  # fmt: skip
                s = esrc[e]
                pick = np.lexsort((s, d, pos))
                pos, d, s = pos[pick], d[pick], s[pick]
                first = np.ones(len(pos), dtype=bool)
                first[1:] = pos[1:] != pos[:-1]
                pos, d, s = pos[first], d[first], s[first]
                better = d < best[pos]
                best[pos[better]] = d[better]
                best_src[pos[better]] = s[better]
        dist[inner] = best
        src[inner] = best_src
        return dist, src


def morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting points along a Z-order (Morton) curve.

    Both axes share one scale (the larger span maps to 16 bits), so the curve's
    cells are square.
    """
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    x0, y0 = float(x.min()), float(y.min())
    span = max(float(x.max()) - x0, float(y.max()) - y0)
    scale = 65535.0 / span if span > 0 else 0.0

    def quant(a: np.ndarray, lo: float) -> np.ndarray:
        return np.round((a - lo) * scale).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    code = spread(quant(x, x0)) | (spread(quant(y, y0)) << np.uint64(1))
    return np.argsort(code, kind="stable")


def contract(
    graph: sp.csr_matrix,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    xy: np.ndarray | None = None,
) -> Contraction:
    """Contract a street graph (both directions of every pair present, no self-loops).

    Parameters
    ----------
    graph : csr_matrix, shape (n, n)
        :attr:`gcgeo.network.StreetNetwork.walk_graph`: ``graph[x, y]`` the walk ``x → y``
        (symmetric without slopes).
    edge_u, edge_v : ndarray of int
        The street segments (parallel ones included) to place on chains.
    xy : ndarray, shape (n, 2), optional
        Node coordinates; kept nodes are then numbered in Morton order.
    """
    n = graph.shape[0]
    indptr = graph.indptr.astype(np.int64)
    head = graph.indices.astype(np.int64)
    w = graph.data.astype(float)
    n_arcs = len(head)
    tail = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    deg = np.diff(indptr)
    kept = deg != 2
    # rings with no junction at all: keep their lowest node so every ring has an end
    inner = ~kept
    ii = inner[tail] & inner[head]
    if ii.any():
        sub = sp.csr_matrix((np.ones(int(ii.sum())), (tail[ii], head[ii])), shape=(n, n))
        _, lab = connected_components(sub, directed=False)
        nodes_per = np.bincount(lab[inner], minlength=n)
        arcs_per = np.bincount(lab[tail[ii]], minlength=n)
        ring = (nodes_per > 0) & (arcs_per == 2 * nodes_per)
        if ring.any():
            cand = np.flatnonzero(inner & ring[lab])
            first = np.full(n, n, dtype=np.int64)
            np.minimum.at(first, lab[cand], cand)
            kept[first[ring]] = True
    if not graph.has_sorted_indices:
        graph = graph.sorted_indices()
        head = graph.indices.astype(np.int64)
        w = graph.data.astype(float)
    # entries sorted by (tail, head); the same entries by (head, tail) list each one's reverse
    key = tail * n + head
    rev = np.argsort(head, kind="stable")
    # the reverse walk of each arc: the entry (head, tail)
    wr = w[rev]
    # successor of arc (x -> y) at an inner y: the arc from y to its other neighbour
    term = kept[head]
    p0 = indptr[head]
    succ = np.where(head[np.minimum(p0, n_arcs - 1)] != tail, p0, p0 + 1)
    succ = np.where(term, np.arange(n_arcs), succ)
    # pointer jumping: jump -> the chain's last arc, rem = length from this arc's head to its end
    # (remr: the walk back from the chain's end to this arc's head)
    jump = succ
    rem = np.where(term, 0.0, w[succ])
    remr = np.where(term, 0.0, wr[succ])
    live = np.flatnonzero(~term[jump])
    while len(live):
        j = jump[live]
        rem[live] += rem[j]
        remr[live] += remr[j]
        jump[live] = jump[j]
        live = live[~term[jump[live]]]
    start = np.flatnonzero(kept[tail])
    canon = start[start < rev[jump[start]]]
    n_chain = len(canon)
    chain_of_end = np.full(n_arcs, -1, dtype=np.int64)
    chain_of_end[jump[canon]] = np.arange(n_chain)
    chain_len = w[canon] + rem[canon]
    chain_back = wr[canon] + remr[canon]
    chain_a_full = tail[canon]
    chain_b_full = head[jump[canon]]
    # every arc on its chain: chain, offsets of its tail and head from the chain's a end
    fwd = chain_of_end[jump] >= 0
    r = rev
    arc_chain = np.where(fwd, chain_of_end[jump], chain_of_end[jump[r]])
    ac = np.maximum(arc_chain, 0)
    off_head_fwd = chain_len[ac] - rem
    off_tail_rev = chain_len[ac] - rem[r]
    arc_len = chain_len[ac]
    # rounding may leave an end a hair outside its chain: clip to [0, L]
    arc_off_tail = np.clip(np.where(fwd, off_head_fwd - w, off_tail_rev), 0.0, arc_len)
    # (a reversed arc's tail-to-head step on its forward twin is walked head to tail)
    arc_off_head = np.clip(np.where(fwd, off_head_fwd, off_tail_rev - wr), 0.0, arc_len)
    # the same for Q (the walk back to a)
    back_head_fwd = chain_back[ac] - remr
    back_tail_rev = chain_back[ac] - remr[r]
    arc_back = chain_back[ac]
    arc_back_tail = np.clip(np.where(fwd, back_head_fwd - wr, back_tail_rev), 0.0, arc_back)
    arc_back_head = np.clip(np.where(fwd, back_head_fwd, back_tail_rev - w), 0.0, arc_back)
    # numbering of kept nodes
    kept_idx = np.flatnonzero(kept)
    if xy is not None and len(kept_idx):
        kept_idx = kept_idx[morton_order(xy[kept_idx, 0], xy[kept_idx, 1])]
    knode = np.full(n, -1, dtype=np.int64)
    knode[kept_idx] = np.arange(len(kept_idx))
    chain_a = knode[chain_a_full]
    chain_b = knode[chain_b_full]
    # chains (and so their inner nodes) in the order of their a ends: expanding distances
    # then reads the kept nodes' distances nearly in sequence
    perm = np.argsort(chain_a, kind="stable")
    renum = np.empty(n_chain, dtype=np.int64)
    renum[perm] = np.arange(n_chain)
    chain_a, chain_b = chain_a[perm], chain_b[perm]
    chain_len, chain_back = chain_len[perm], chain_back[perm]
    arc_chain = np.where(arc_chain >= 0, renum[np.maximum(arc_chain, 0)], -1)
    k = len(kept_idx)
    cg = _min_pair_csr(chain_a, chain_b, chain_len, chain_back, k)
    # inner nodes: placed by their first outgoing arc
    inner_idx = np.flatnonzero(~kept)
    first_arc = indptr[inner_idx]
    node_chain = np.full(n, -1, dtype=np.int64)
    node_off = np.zeros(n)
    node_back = np.zeros(n)
    node_chain[inner_idx] = arc_chain[first_arc]
    node_off[inner_idx] = arc_off_tail[first_arc]
    node_back[inner_idx] = arc_back_tail[first_arc]
    order = np.lexsort((node_off[inner_idx], node_chain[inner_idx]))
    chain_nodes = inner_idx[order]
    chain_ptr = np.concatenate(
        [[0], np.cumsum(np.bincount(node_chain[inner_idx], minlength=n_chain))]
    ).astype(np.int64)
    # segments: the arc (u -> v) of each
    eu = np.asarray(edge_u, dtype=np.int64)
    ev = np.asarray(edge_v, dtype=np.int64)
    arc = np.searchsorted(key, eu * n + ev)
    core = {
        "kept": kept_idx,
        "chain_a": chain_a,
        "chain_b": chain_b,
        "chain_len": chain_len,
        "chain_back": chain_back,
        "chain_ptr": chain_ptr,
        "chain_nodes": chain_nodes,
        "inner_off": node_off[chain_nodes],
        "inner_back": node_back[chain_nodes],
        "edge_chain": arc_chain[arc],
        "edge_off_u": arc_off_tail[arc],
        "edge_off_v": arc_off_head[arc],
        "edge_back_u": arc_back_tail[arc],
        "edge_back_v": arc_back_head[arc],
        "graph_indptr": cg.indptr,
        "graph_indices": cg.indices,
        "graph_data": cg.data,
    }
    return Contraction.from_core(n, len(eu), core, check=False)


def _check_core(n: int, n_edges: int, core: Mapping[str, np.ndarray]) -> None:
    """``ValueError`` naming the first array of ``core`` unfit for a contraction of
    ``n`` nodes and ``n_edges`` segments (see :meth:`Contraction.from_core`)."""
    if set(core) != set(CORE_FIELDS):
        raise ValueError(f"the contraction holds {sorted(core)}, expected {sorted(CORE_FIELDS)}")
    arr = {f: np.asarray(core[f]) for f in CORE_FIELDS}
    for f, a in arr.items():
        kind = "iu" if f in _INT_CORE else "f"
        if a.ndim != 1 or a.dtype.kind not in kind:
            raise ValueError(
                f"contraction array {f} is not a 1-D {'integer' if kind == 'iu' else 'float'} array"
            )
        if kind == "f" and not np.all(np.isfinite(a) & (a >= 0)):
            raise ValueError(f"contraction array {f} holds a negative or non-finite length")
    k, c, m = len(arr["kept"]), len(arr["chain_a"]), len(arr["chain_nodes"])
    sizes = {"chain_b": c, "chain_len": c, "chain_back": c, "chain_ptr": c + 1}
    sizes |= {"inner_off": m, "inner_back": m, "graph_indptr": k + 1}
    sizes |= {f: n_edges for f in ("edge_chain", "edge_off_u", "edge_off_v")}
    sizes |= {f: n_edges for f in ("edge_back_u", "edge_back_v")}
    sizes["graph_indices"] = len(arr["graph_data"])
    for f, size in sizes.items():
        if len(arr[f]) != size:
            raise ValueError(f"contraction array {f} has the wrong length")

    def within(f: str, lo: int, hi: int) -> None:
        a = arr[f]
        if len(a) and (a.min() < lo or a.max() >= hi):
            raise ValueError(f"contraction array {f} holds an index out of range")

    within("kept", 0, n)
    within("chain_nodes", 0, n)
    if (
        k + m != n
        or np.bincount(np.concatenate([arr["kept"], arr["chain_nodes"]]), minlength=n).max(
            initial=1
        )
        != 1
    ):
        raise ValueError("contraction arrays kept and chain_nodes do not list every node once")
    within("chain_a", 0, k)
    within("chain_b", 0, k)
    within("edge_chain", -1, c)
    within("graph_indices", 0, k)
    for f, total in (("chain_ptr", m), ("graph_indptr", len(arr["graph_indices"]))):
        p = arr[f]
        if p[0] != 0 or p[-1] != total or np.any(np.diff(p) < 0):
            raise ValueError(f"contraction array {f} does not point into its array in order")


def _min_pair_csr(
    a: np.ndarray, b: np.ndarray, w_ab: np.ndarray, w_ba: np.ndarray, n: int
) -> sp.csr_matrix:
    """The search graph of the chains: ``[b, a]`` = the cheapest walk ``a → b`` over
    parallel chains, ``[a, b]`` = the cheapest ``b → a``; loops dropped."""
    keep = a != b
    rows = np.concatenate([b[keep], a[keep]])
    cols = np.concatenate([a[keep], b[keep]])
    w = np.concatenate([w_ab[keep], w_ba[keep]])
    key = rows * np.int64(max(n, 1)) + cols
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    starts = np.flatnonzero(first)
    wmin = np.minimum.reduceat(w[order], starts) if len(starts) else w[:0]
    sel = order[starts]
    return sp.csr_matrix((wmin, (rows[sel], cols[sel])), shape=(n, n))


def search(
    con: Contraction,
    edge: np.ndarray,
    offset: np.ndarray,
    cost: np.ndarray,
    edge_length: np.ndarray,
    limit: float = np.inf,
    *,
    cost_u: np.ndarray | None = None,
    cost_v: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-source search from points on segments; distances at every full node.

    ``cost`` is each point's own leg (added to every distance from it). With directed
    walks, ``cost_u``/``cost_v`` are the walks from each segment's ends to the point
    (:meth:`Contraction.starts`) and the distances are walks *to* the nearest point.

    Returns
    -------
    dist : ndarray, shape (n,)
        ``inf`` beyond ``limit``.
    source : ndarray of int, shape (n,)
        Position (into the points given) of the nearest one; ``-1`` if none.
    """
    n = con.n_nodes
    m = len(edge)
    if m == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    st = con.starts(edge, offset, edge_length, cost_u=cost_u, cost_v=cost_v)
    aug = con.augmented(st, cost)
    k = con.n_kept
    dist_k, _pred, src_k = dijkstra(
        aug,
        directed=True,
        indices=k + np.arange(m),
        min_only=True,
        limit=limit,
        return_predecessors=True,
    )
    dist_k = dist_k[:k]
    src_k = np.where(src_k[:k] >= k, src_k[:k] - k, -1).astype(np.int64)
    ids = np.arange(m, dtype=np.int64)
    emitters = (
        np.concatenate([st.chain, st.chain]),
        np.concatenate([st.off_u, st.off_v]),
        np.concatenate([st.back_u, st.back_v]),
        np.concatenate([cost + st.cost_u, cost + st.cost_v]),
        np.concatenate([ids, ids]),
    )
    dist, src = con.expand(dist_k, src_k, emitters)
    far = ~(dist <= limit)
    dist[far] = np.inf
    src[far] = -1
    return dist, src
