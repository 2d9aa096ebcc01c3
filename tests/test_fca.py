"""2SFCA / E2SFCA / Gaussian scores: a worked example, PySAL ``access`` on the exported cost
table, and the cost table itself against networkx.

Worked example (a straight 1 km street, every point on it, catchment d0 = 400 m)::

    O0 (x=0, 100 people)  F0 (x=100, 10 places)  O1 (x=400, 200)  F1 (x=700, 20)  O2 (x=800, 300)

Walks within 400 m: O0-F0 100, O1-F0 300, O1-F1 300, O2-F1 100.

2SFCA: R0 = 10 / (100 + 200) = 1/30, R1 = 20 / (200 + 300) = 0.04;
A0 = 1/30, A1 = 1/30 + 0.04, A2 = 0.04.

E2SFCA (bands ≤ 133.3 m: 1, ≤ 266.7 m: 0.68, ≤ 400 m: 0.22): the 300 m walks weigh 0.22, the
100 m ones 1. R0 = 10 / (100 + 0.22·200) = 10/144, R1 = 20 / (0.22·200 + 300) = 20/344;
A0 = 10/144, A1 = 0.22·10/144 + 0.22·20/344, A2 = 20/344.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from netref import split_graph

from gcgeo.fca import ODPairs, distance_weight, fca_scores, od_pairs
from gcgeo.network import from_arrays, load_network
from gcgeo.snap import Snap, snap_points

X0, Y0 = 500_000.0, 4_000_000.0


def _street():
    x = X0 + np.arange(11) * 100.0
    net = from_arrays(x, np.full(11, Y0), np.arange(10), np.arange(1, 11))
    at = lambda *xs: snap_points(net, np.array([(X0 + v, Y0) for v in xs]))  # noqa: E731
    return net, at(0, 400, 800), at(100, 700)


def test_worked_example_2sfca() -> None:
    net, origins, facilities = _street()
    pairs = od_pairs(net, origins, facilities, 400.0)
    got = {(int(o), int(f)): d for o, f, d in zip(pairs.origin, pairs.facility, pairs.distance,
                                                 strict=True)}  # fmt: skip
    assert got == pytest.approx({(0, 0): 100.0, (1, 0): 300.0, (1, 1): 300.0, (2, 1): 100.0})
    score, ratio = fca_scores(pairs, [100, 200, 300], [10, 20], 400.0, "2sfca")
    np.testing.assert_allclose(ratio, [1 / 30, 0.04])
    np.testing.assert_allclose(score, [1 / 30, 1 / 30 + 0.04, 0.04])


def test_worked_example_e2sfca() -> None:
    net, origins, facilities = _street()
    pairs = od_pairs(net, origins, facilities, 400.0)
    score, ratio = fca_scores(pairs, [100, 200, 300], [10, 20], 400.0, "e2sfca")
    np.testing.assert_allclose(ratio, [10 / 144, 20 / 344])
    np.testing.assert_allclose(score, [10 / 144, 0.22 * 10 / 144 + 0.22 * 20 / 344, 20 / 344])


def test_weights_are_zero_beyond_the_catchment() -> None:
    d = np.array([0.0, 100.0, 200.0, 399.9, 400.0, 400.1])
    np.testing.assert_allclose(distance_weight("e2sfca", d, 300.0), [1, 1, 0.68, 0, 0, 0])
    g = distance_weight("gaussian", d, 400.0)
    np.testing.assert_allclose(g[:5], np.exp(-(d[:5] ** 2) / (2 * 200.0**2)))
    assert g[5] == 0.0


def _beijing_case(beijing_osm):
    net = load_network(beijing_osm)
    rng = np.random.default_rng(2)
    b = net.bounds
    oxy = np.column_stack([rng.uniform(b[0], b[2], 300), rng.uniform(b[1], b[3], 300)])
    fxy = np.column_stack([rng.uniform(b[0], b[2], 12), rng.uniform(b[1], b[3], 12)])
    return net, snap_points(net, oxy, 200), snap_points(net, fxy, 200), rng


def test_cost_table_equals_networkx(beijing_osm) -> None:
    net, origins, facilities, _ = _beijing_case(beijing_osm)
    pairs = od_pairs(net, origins, facilities, 800.0)
    g = split_graph(net, {"o": origins, "f": facilities})
    want = {}
    for j in np.flatnonzero(facilities.ok):
        d = nx.single_source_dijkstra_path_length(g, ("f", int(j)), cutoff=800.0, weight="length")
        for node, dist in d.items():
            if isinstance(node, tuple) and node[0] == "o":
                want[(node[1], int(j))] = dist
    got = {(int(o), int(f)): d for o, f, d in zip(pairs.origin, pairs.facility, pairs.distance,
                                                 strict=True)}  # fmt: skip
    assert set(got) == set(want)
    for key, d in want.items():
        assert got[key] == pytest.approx(d, abs=1e-6)


@pytest.mark.parametrize("method", ["2sfca", "e2sfca", "gaussian"])
def test_scores_equal_pysal_access(beijing_osm, method: str) -> None:
    from access import fca, weights

    net, origins, facilities, rng = _beijing_case(beijing_osm)
    d0 = 900.0
    pairs = od_pairs(net, origins, facilities, d0)
    pop = rng.integers(10, 500, len(origins)).astype(float)
    cap = rng.integers(1, 50, len(facilities)).astype(float)
    score, _ = fca_scores(pairs, pop, cap, d0, method)
    cost = pd.DataFrame({"origin": pairs.origin, "dest": pairs.facility, "cost": pairs.distance})
    demand = pd.DataFrame({"geoid": np.arange(len(origins)), "pop": pop})
    supply = pd.DataFrame({"supply": cap}, index=pd.Index(np.arange(len(facilities)), name="geoid"))
    fn = {
        "2sfca": None,
        "e2sfca": weights.step_fn({d0 / 3: 1.0, 2 * d0 / 3: 0.68, d0: 0.22}),
        "gaussian": weights.gaussian(d0 / 2),
    }[method]
    ref = fca.two_stage_fca(demand, supply, cost, max_cost=d0, demand_index="geoid",
                            demand_name="pop", supply_name="supply", cost_origin="origin",
                            cost_dest="dest", cost_name="cost", weight_fn=fn)  # fmt: skip
    want = np.zeros(len(origins))
    want[ref.index.to_numpy(int)] = ref.to_numpy(float)
    assert (score > 0).sum() > 30  # a real test: many origins reach something
    np.testing.assert_allclose(score, want, rtol=0, atol=1e-9)


def test_empty_inputs() -> None:
    net, origins, _ = _street()
    none = Snap(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    p = od_pairs(net, origins, none, 400.0)
    assert isinstance(p, ODPairs) and len(p.origin) == 0
    score, ratio = fca_scores(p, [1, 2, 3], [], 400.0)
    assert score.tolist() == [0, 0, 0] and len(ratio) == 0
