"""Scenario edits on the hand-checked two-block town: links, split segments, untouched input."""

from __future__ import annotations

import numpy as np
import pytest
from gridosm import X0, Y0, two_blocks

from gcgeo.network import to_networkx
from gcgeo.scenario import add_links, compare, parse_scenario
from gcgeo.study import Study

from .town import TOL, dist, ll


def test_link_joining_two_dead_ends_shortens_distances(study: Study, origins) -> None:
    b = two_blocks()
    sc = parse_scenario(
        f'name = "连通"\n[[add_link]]\nconnect = [{ll(*b.xy("A"))}, {ll(*b.xy("B"))}]\n'
    )
    cats = study.catalogue.select(["kindergarten"])
    net = study.network
    n_nodes, n_edges, nnz = net.n_nodes, len(net.edges), net.graph.nnz
    res = compare(net, study.facilities, cats, origins, sc)
    before, after = res.before[sc.name], res.after[sc.name]
    # before: K -> N41 90 -> N40 190 -> N30 290 -> N20 390 -> N10 490 -> N12 690 -> A 740
    assert dist(before, "N12") == pytest.approx(690, abs=TOL)
    assert dist(before, "A") == pytest.approx(740, abs=TOL)
    # after: K -> N32 110 -> B 160 -> (new 100 m link) A 260 -> N12 310
    assert dist(after, "A") == pytest.approx(260, abs=TOL)
    assert dist(after, "N12") == pytest.approx(310, abs=TOL)
    assert dist(after, "N02") == pytest.approx(410, abs=TOL)
    row = res.delta.iloc[0]
    assert (row.gained, row.lost, row.after_covered) == (1, 0, 11)
    # the input network is untouched
    assert (net.n_nodes, len(net.edges), net.graph.nnz) == (n_nodes, n_edges, nnz)


def test_link_end_mid_segment_splits_it(study: Study) -> None:
    net = study.network
    line = np.array([[X0 + 150, Y0 + 200], [X0 + 300, Y0 + 150]])  # A -> middle of N31-N32
    new = add_links(net, [line], straight=[True])
    assert new.n_nodes == net.n_nodes + 1
    assert len(new.edges) == len(net.edges) + 2  # N31-N32 -> two halves, plus the link
    assert net.n_nodes == 24 and not (net.nodes["osmid"] < 0).any()
    g = to_networkx(new)
    xy = new.xy
    a = int(np.flatnonzero((np.abs(xy - [X0 + 150, Y0 + 200]) < 0.05).all(axis=1))[0])
    n42 = int(np.flatnonzero((np.abs(xy - [X0 + 400, Y0 + 200]) < 0.05).all(axis=1))[0])
    import networkx as nx

    d = nx.shortest_path_length(g, a, n42, weight="length")
    assert d == pytest.approx(np.hypot(150, 50) + 50 + 100, abs=TOL)  # A-p, p-N32, N32-N42
    assert new.edges["length"].sum() == pytest.approx(
        net.edges["length"].sum() + np.hypot(150, 50), abs=TOL
    )


def test_line_link_keeps_vertices(study: Study) -> None:
    net = study.network
    line = np.array([[X0 + 150, Y0 + 200], [X0 + 200, Y0 + 260], [X0 + 250, Y0 + 200]])
    new = add_links(net, [line], names=["弯路"])
    assert new.n_nodes == net.n_nodes + 1
    link = new.edges[new.edges["highway"] == "scenario_link"]
    assert len(link) == 2 and link["length"].sum() == pytest.approx(2 * np.hypot(50, 60), abs=TOL)
    assert set(link["name"]) == {"弯路"}
