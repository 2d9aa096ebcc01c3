"""Site suggestion: greedy vs random and vs brute force (independent coverage runs)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from gridosm import TOWN_NODES, X0, Y0, points, two_blocks
from netref import split_graph

from gcgeo import InputError
from gcgeo.coverage import compute_coverage, grid_origins
from gcgeo.snap import snap_points
from gcgeo.study import Study, open_study
from gcgeo.suggest import coverage_matrix, suggest_sites


@pytest.fixture(scope="module")
def beijing(request) -> Study:
    from conftest import BEIJING_OSM

    if not BEIJING_OSM.exists():
        pytest.skip(f"shared data file {BEIJING_OSM} is absent on this machine")
    return open_study(BEIJING_OSM)


def _brute_coverage(st: Study, origins, cat, combos, cand_xy) -> np.ndarray:
    """Covered origin count for each combination, by compute_coverage (one category per combo)."""
    existing = st.facilities[st.facilities["category"] == cat.id].to_crs(st.network.crs)
    frames, cats = [], []
    for i, combo in enumerate(combos):
        cid = f"combo_{i}"
        cats.append(dataclasses.replace(cat, id=cid))
        new = gpd.GeoDataFrame(
            {"facility_id": [f"c{j}" for j in combo], "name": "", "category": cid},
            geometry=shapely.points(cand_xy[list(combo)]),
            crs=st.network.crs,
        )
        frames += [existing.assign(category=cid), new]
    fac = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=st.network.crs)
    res = compute_coverage(st.network, fac, cats, origins)
    return res.summary["covered"].to_numpy()


@pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")
def test_greedy_matches_brute_force_and_beats_random(beijing: Study) -> None:
    net = beijing.network
    cat = beijing.catalogue["kindergarten"]
    origins = grid_origins(net, 60)
    rng = np.random.default_rng(7)
    nodes = rng.choice(net.n_nodes, 20, replace=False)
    cand_xy = net.xy[nodes] + rng.uniform(-8, 8, (20, 2))  # parcels a few metres off the street
    cands = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(20)]}, geometry=shapely.points(cand_xy), crs=net.crs
    )
    one = suggest_sites(net, beijing.facilities, cat, origins, 1, candidates=cands, repeats=50)
    two = suggest_sites(net, beijing.facilities, cat, origins, 2, candidates=cands, repeats=50)
    base = _brute_coverage(beijing, origins, cat, [()], cand_xy)[0]
    assert one.base_covered.sum() == base
    singles = _brute_coverage(beijing, origins, cat, [(i,) for i in range(20)], cand_xy)
    assert one.picks["covered_after"].iloc[0] == singles.max()  # K=1: greedy is the optimum
    assert singles[one.picks["candidate"].iloc[0]] == singles.max()
    pairs = list(itertools.combinations(range(20), 2))
    pair_cov = _brute_coverage(beijing, origins, cat, pairs, cand_xy)
    g = tuple(sorted(two.picks["candidate"].tolist()))
    assert pair_cov[pairs.index(g)] == two.picks["covered_after"].iloc[-1]
    assert pair_cov.max() >= two.picks["covered_after"].iloc[-1]
    assert two.picks["marginal_gain"].iloc[0] >= two.picks["marginal_gain"].iloc[1]


def test_suggested_sites_beat_random(beijing: Study) -> None:
    net = beijing.network
    res = suggest_sites(
        net, beijing.facilities, beijing.catalogue["kindergarten"], grid_origins(net, 60), 3
    )
    m = res.meta
    assert m["picked"] == 3 and m["candidates"] == net.n_nodes
    assert m["greedy_share"] > m["random_mean_share"] > m["base_share"]
    assert m["greedy_share"] >= m["random_max_share"]
    assert res.picks["share_after"].is_monotonic_increasing


def test_node_candidates_on_town_by_hand(tmp_path: Path) -> None:
    b = two_blocks()
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    st = open_study(b.write(tmp_path / "town.osm"))
    pop = {k: 1.0 for k in TOWN_NODES} | {"E": 5.0, "N01": 3.0}
    origins = points([b.xy(k) for k in TOWN_NODES], population=[pop[k] for k in TOWN_NODES])
    cat = dataclasses.replace(st.catalogue["kindergarten"], max_distance_m=260.0)
    west = shapely.box(X0 - 10, Y0 - 10, X0 + 160, Y0 + 460)
    res = suggest_sites(st.network, st.facilities, cat, origins, 2,
                        within=gpd.GeoSeries([west], crs="EPSG:4548"))  # fmt: skip
    assert res.meta["candidates"] == 12  # west block, A (150, 200) and E; not N20 (200, 0)
    # already covered (K at (400, 190), 260 m): N31 N32 N33 N40..N44 B = 9 (N30 is 290 m away)
    assert res.base_covered.sum() == 9
    # pick 1, N02 (0, 200): N00 200, N01 (w 3), N02, N03, N04 200, N11 200, N12, N13 200,
    # A 150, E 250 (w 5) -> 16 (N03 gives 15: N00 is 300 m away; N13 gives 13)
    # pick 2, N10 (100, 0): N10, N20 100 and, across the row-0 road, N30 200 -> 3
    # (N00 and N11 reach only N10 and N20)
    osm = dict(zip(TOWN_NODES, [b.osmid(k) for k in TOWN_NODES], strict=True))
    assert res.picks["osmid"].tolist() == [osm["N02"], osm["N10"]]
    assert res.picks["marginal_gain"].tolist() == [16, 3]
    assert res.picks["marginal_origins"].tolist() == [10, 3]
    assert res.picks["covered_after"].tolist() == [25, 28]
    assert res.picks["share_after"].tolist() == pytest.approx([25 / 30, 28 / 30], abs=1e-4)


def test_within_outside_network_fails(beijing: Study) -> None:
    with pytest.raises(InputError, match="within"):
        suggest_sites(beijing.network, beijing.facilities, beijing.catalogue["kindergarten"],
                      grid_origins(beijing.network, 100), 1, within=shapely.box(0, 0, 1, 1))  # fmt: skip


def _nx_served(
    g: nx.Graph, starts: list, origins: int, thr: float
) -> tuple[np.ndarray, np.ndarray]:
    """(served, near) per start x origin: networkx distance <= thr; within 1 mm of thr."""
    served = np.zeros((len(starts), origins), dtype=bool)
    near = np.zeros_like(served)
    for c, start in enumerate(starts):
        if start not in g:  # an unsnapped candidate serves nothing
            continue
        ref = nx.single_source_dijkstra_path_length(g, start, cutoff=thr + 1, weight="length")
        for i in range(origins):
            d = ref.get(("o", i), np.inf)
            served[c, i], near[c, i] = d <= thr, abs(d - thr) < 1e-3
    return served, near


@pytest.mark.parametrize("thr", [120.0, 275.0, 430.0])
def test_coverage_matrix_on_town_matches_networkx(tmp_path: Path, thr: float) -> None:
    """Origins and point candidates inserted into the town graph; networkx from each candidate."""
    st = open_study(two_blocks().write(tmp_path / "town.osm"))
    net = st.network
    rng = np.random.default_rng(11)
    oxy = np.array([X0, Y0]) + rng.uniform(-60, 460, (70, 2))
    cxy = np.array([X0, Y0]) + rng.uniform(-30, 430, (15, 2))
    osnap, csnap = snap_points(net, oxy, 80), snap_points(net, cxy, 80)
    assert 0 < osnap.ok.sum() < 70 and 0 < csnap.ok.sum() < 15
    g = split_graph(net, {"o": osnap, "c": csnap})
    # street-node candidates
    nodes = np.arange(net.n_nodes)
    got = coverage_matrix(net, osnap, nodes, thr).toarray()
    want, near = _nx_served(g, nodes.tolist(), 70, thr)
    assert got.shape == (net.n_nodes, 70) and not near.any()
    np.testing.assert_array_equal(got, want)
    # point candidates (own access leg; origins on the same segment walk straight to it)
    got = coverage_matrix(net, osnap, csnap, thr).toarray()
    want, near = _nx_served(g, [("c", c) for c in range(15)], 70, thr)
    assert got.shape == (15, 70) and not near.any()
    np.testing.assert_array_equal(got, want)
    assert not got[~csnap.ok].any() and not got[:, ~osnap.ok].any()
    assert 0 < got.sum() < got.size  # not vacuous


def test_coverage_matrix_on_town_by_hand(tmp_path: Path) -> None:
    b = two_blocks()
    st = open_study(b.write(tmp_path / "town.osm"))
    net = st.network
    # origins: O1 (150, 210) 10 m off the spur to A, 50 m from N12; O2 (0, 300) at N03
    osnap = snap_points(net, np.array([X0, Y0]) + [(150.0, 210.0), (0.0, 300.0)])
    node = {k: int(np.flatnonzero(net.nodes["osmid"].to_numpy() == b.osmid(k))[0])
            for k in ("N12", "N02", "A", "N32")}  # fmt: skip
    cand = np.array([node["N12"], node["N02"], node["A"], node["N32"]])
    # O1: N12 60, A 10, N02 160, N32 (by street via N20) 10 + 50 + 200 + 100 + 100 + 200 = 660
    # O2: N02 100, N12 200, A 250, N32 300 + 100 + 100 + 200 = 700
    for thr, want in (
        (59.0, [[0, 0], [0, 0], [1, 0], [0, 0]]),
        (101.0, [[1, 0], [0, 1], [1, 0], [0, 0]]),
        (251.0, [[1, 1], [1, 1], [1, 1], [0, 0]]),
        (661.0, [[1, 1], [1, 1], [1, 1], [1, 0]]),
    ):
        got = coverage_matrix(net, osnap, cand, thr).toarray()
        np.testing.assert_array_equal(got, np.array(want, dtype=bool), err_msg=f"thr {thr}")
