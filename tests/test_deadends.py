"""Dead ends on the hand-checked town; incremental link ranking equals full recomputation."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from gridosm import TOWN_NODES, OSMBuilder, points, two_blocks
from netref import split_graph

from gcgeo.catalogue import load_catalogue
from gcgeo.coverage import grid_origins
from gcgeo.deadends import (
    find_dead_ends,
    full_link_gain,
    prepare_base,
    propose_links,
    rank_links,
    read_barriers,
)
from gcgeo.network import load_network
from gcgeo.snap import Snap
from gcgeo.study import open_study

TOL = 0.05


def _write(b: OSMBuilder, tmp_path: Path, name: str) -> Path:
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    return b.write(tmp_path / name)


def test_dead_ends_exactly_those_built_in(tmp_path: Path) -> None:
    b = two_blocks()
    net = load_network(_write(b, tmp_path, "town.osm"))
    osm = {b.osmid(k) for k in ("A", "B", "E")}
    everything = find_dead_ends(net, edge_margin=0)
    assert set(everything["osmid"]) == osm
    real = find_dead_ends(net)  # E (0, 450) is a hull vertex: an extract-edge end
    assert set(real["osmid"]) == {b.osmid("A"), b.osmid("B")}
    assert real.attrs["excluded_at_edge"] == 1
    assert sorted(real["edge_dist_m"]) == pytest.approx([150, 150], abs=TOL)


def test_link_proposed_between_facing_dead_ends(tmp_path: Path) -> None:
    b = two_blocks()
    p = _write(b, tmp_path, "town.osm")
    net = load_network(p)
    bar = read_barriers(p)
    assert list(bar["value"]) == ["motorway"]
    links = propose_links(net, find_dead_ends(net, edge_margin=0), barriers=bar)
    # A -> B only (B -> A is the same link; E's nearby streets are its own neighbours)
    assert len(links) == 1
    lk = links.iloc[0]
    assert {lk["osmid"], int(net.nodes["osmid"].iloc[lk["target_node"]])} == {
        b.osmid("A"),
        b.osmid("B"),
    }
    assert lk["link_m"] == pytest.approx(100, abs=TOL)
    assert lk["detour_m"] == pytest.approx(700, abs=TOL)  # 50 + 200 + 200 + 200 + 50
    assert lk["saved_m"] == pytest.approx(600, abs=TOL)


def test_railway_blocks_the_link(tmp_path: Path) -> None:
    p = _write(two_blocks(railway=True), tmp_path, "rail.osm")
    net = load_network(p)
    bar = read_barriers(p)
    assert set(bar["value"]) == {"motorway", "rail"}
    assert len(propose_links(net, find_dead_ends(net, edge_margin=0), barriers=bar)) == 0
    assert len(propose_links(net, find_dead_ends(net, edge_margin=0))) == 1


def test_rank_on_town_by_hand(tmp_path: Path) -> None:
    b = two_blocks()
    st = open_study(_write(b, tmp_path, "town.osm"))
    net = st.network
    origins = points([b.xy(k) for k in TOWN_NODES])
    base = prepare_base(net, st.facilities, st.catalogue.select(["kindergarten"]), origins)
    links = propose_links(net, find_dead_ends(net))
    ranked = rank_links(net, base, links)
    # K (400,190) -> N32 110 -> B 160 -> A 260: A newly within 300 m; N12 310 is not
    assert ranked["gained_kindergarten"].tolist() == [1.0]
    gains, dists = full_link_gain(net, base, links.iloc[0])
    assert gains.tolist() == [1.0]
    assert dists[0][TOWN_NODES.index("A")] == pytest.approx(260, abs=TOL)


def _random_town(seed: int) -> OSMBuilder:
    """A 9 x 9 jittered grid with a third of its segments missing (many dead ends)."""
    rng = np.random.default_rng(seed)
    b = OSMBuilder()
    n = 9
    for i in range(n):
        for j in range(n):
            b.node(f"P{i}_{j}", 80.0 * i + rng.uniform(-15, 15), 80.0 * j + rng.uniform(-15, 15))
    for i in range(n):
        for j in range(n):
            if i + 1 < n and rng.random() > 0.33:
                b.way([f"P{i}_{j}", f"P{i + 1}_{j}"], highway="residential")
            if j + 1 < n and rng.random() > 0.33:
                b.way([f"P{i}_{j}", f"P{i}_{j + 1}"], highway="footway")
    for k, (cat, tag) in enumerate(
        [("K", "kindergarten"), ("K", "kindergarten"), ("S", "school"), ("C", "clinic")]
    ):
        x, y = rng.uniform(0, 640, 2)
        tags = {"amenity": tag, "name": "示范小学" if tag == "school" else f"{tag}{k}"}
        b.node(f"{cat}{k}", float(x), float(y), **tags)
    return b


def _check_links_equal_full_recomputation(net, facilities, cats):
    """Rank every proposed link incrementally; each gain equals rebuilding the network with
    that link. Returns (origins, links, ranked, gain columns)."""
    origins = grid_origins(net, 25, rule="street", max_snap=40)
    base = prepare_base(net, facilities, cats, origins, max_snap=40)
    links = propose_links(net, find_dead_ends(net, edge_margin=0), max_link=120)
    assert len(links) >= 5
    ranked = rank_links(net, base, links).sort_values("node")
    cols = [f"gained_{c.id}" for c in cats]
    for _, lk in links.sort_values("node").iterrows():
        full, _ = full_link_gain(net, base, lk)
        inc = ranked.loc[ranked["node"] == lk["node"], cols].to_numpy()[0]
        np.testing.assert_array_equal(inc, full)
    assert ranked[cols].to_numpy().sum() > 0  # the check is not vacuous
    return origins, links, ranked, cols


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_recomputation_for_every_link(tmp_path: Path, seed: int) -> None:
    st = open_study(_random_town(seed).write(tmp_path / f"r{seed}.osm"))
    net = st.network
    cats = st.catalogue.select(["kindergarten", "primary_school", "clinic", "bus_stop"])
    _check_links_equal_full_recomputation(net, st.facilities, cats)


def test_incremental_equals_full_on_beijing(beijing_osm: Path) -> None:
    st = open_study(beijing_osm)
    net = st.network
    cats = st.catalogue.select(None)
    origins = grid_origins(net, 60)
    base = prepare_base(net, st.facilities, cats, origins)
    links = propose_links(net, find_dead_ends(net), barriers=read_barriers(beijing_osm))
    ranked = rank_links(net, base, links, category="kindergarten")
    assert len(links) > 20 and ranked["gained"].is_monotonic_decreasing
    cols = [f"gained_{c.id}" for c in cats]
    # every link that gains something, plus ten that gain nothing (rebuilds cost ~0.4 s each)
    gaining = ranked[ranked[cols].sum(axis=1) > 0]
    others = ranked[ranked[cols].sum(axis=1) == 0].sample(
        min(10, int((ranked[cols].sum(axis=1) == 0).sum())), random_state=0
    )
    assert len(gaining) >= 10
    for _, lk in pd.concat([gaining, others]).iterrows():
        full, _ = full_link_gain(net, base, lk)
        inc = ranked.loc[ranked["node"] == lk["node"], cols].to_numpy()[0]
        np.testing.assert_array_equal(inc, full)


def test_rank_unknown_category(tmp_path: Path) -> None:
    b = two_blocks()
    st = open_study(_write(b, tmp_path, "town.osm"))
    cats = load_catalogue().select(["kindergarten"])
    base = prepare_base(st.network, st.facilities, cats, points([b.xy("A")]))
    with pytest.raises(ValueError, match="'clinic'"):
        rank_links(
            st.network, base, propose_links(st.network, find_dead_ends(st.network)), "clinic"
        )


def _nx_covered(g: nx.Graph, fsnap: Snap, name: str, n_origins: int, thr: float):
    """Origins within ``thr`` of the nearest facility by networkx; and those within 1 mm of it."""
    sources = [(name, int(i)) for i in np.flatnonzero(fsnap.ok)]
    d = np.full(n_origins, np.inf)
    if sources:
        ref = nx.multi_source_dijkstra_path_length(g, sources, cutoff=thr + 1, weight="length")
        d = np.array([ref.get(("o", i), np.inf) for i in range(n_origins)])
    return d <= thr, np.abs(d - thr) < 1e-3


@pytest.mark.parametrize("town", ["two_blocks", 1, 2, 3])
def test_link_gains_match_networkx_before_and_after(tmp_path: Path, town) -> None:
    """Each link's gain = coverage with the link minus without, both by networkx on the
    graph with origins, facilities and link targets inserted as nodes."""
    b = two_blocks() if town == "two_blocks" else _random_town(town)
    st = open_study(
        _write(b, tmp_path, "t.osm") if town == "two_blocks" else b.write(tmp_path / "t.osm")
    )
    net = st.network
    cats = st.catalogue.select(["kindergarten", "primary_school", "clinic", "bus_stop"])
    origins = grid_origins(net, 25, rule="street", max_snap=40)
    origins["population"] = np.random.default_rng(0).integers(1, 9, len(origins)).astype(float)
    base = prepare_base(net, st.facilities, cats, origins, max_snap=40)
    links = propose_links(net, find_dead_ends(net, edge_margin=0), max_link=120)
    assert len(links) >= 1
    ranked = rank_links(net, base, links)
    k, m = len(links), len(origins)
    te, ts = links["target_edge"].to_numpy(), links["target_offset"].to_numpy(float)
    snaps = {"o": base.osnap, "t": Snap(te, ts, np.zeros(k))}
    snaps |= {f"f{j}": fs for j, fs in enumerate(base.fsnap)}
    g0 = split_graph(net, snaps)
    w = origins["population"].to_numpy(float)
    total = 0.0
    for j, cat in enumerate(cats):
        thr = cat.max_distance_m
        before, near = _nx_covered(g0, base.fsnap[j], f"f{j}", m, thr)
        assert not near.any()
        np.testing.assert_array_equal(base.odist[j] <= thr, before)  # prepare_base
        for i, lk in enumerate(links.itertuples()):
            g = g0.copy()
            g.add_edge(int(lk.node), ("t", i), length=float(lk.link_m))
            after, near = _nx_covered(g, base.fsnap[j], f"f{j}", m, thr)
            assert not near.any()
            want = float(w[after & ~before].sum())
            got = ranked.loc[ranked["node"] == lk.node, f"gained_{cat.id}"].to_numpy()
            assert got.tolist() == [want], (cat.id, int(lk.node))
            total += want
    assert total > 0  # not vacuous


def test_incremental_equals_full_recomputation_on_slopes(tmp_path: Path) -> None:
    """The same on a hill (a DEM written over the random town): every link is walked
    uphill and downhill at its own cost, and the ranking still equals rebuilding the
    network with the link and searching again."""
    import dataclasses

    pytest.importorskip("rasterio")
    from test_terrain import write_dem

    from gcgeo.terrain import apply_dem

    st = open_study(_random_town(2).write(tmp_path / "hilly.osm"))
    b = st.network.bounds

    def hill(x, y):
        return 40.0 * np.exp(-((x - b[0]) ** 2 + (y - b[1]) ** 2) / (2 * 250.0**2))

    dem = write_dem(tmp_path / "hill.tif", hill, b[0] - 100, b[3] + 100,
                    int((b[2] - b[0]) / 5) + 40, int((b[3] - b[1]) / 5) + 40, 5.0,
                    crs=st.network.crs)  # fmt: skip
    net, _ = apply_dem(st.network, dem, "tobler_elderly")
    cats = st.catalogue.select(["kindergarten", "primary_school", "clinic", "bus_stop"])
    cats = [dataclasses.replace(c, max_distance_m=0.8 * c.max_distance_m) for c in cats]
    origins, links, ranked, cols = _check_links_equal_full_recomputation(net, st.facilities, cats)
    # slopes change the answer: the level town ranks other gains
    level = prepare_base(st.network, st.facilities, cats, origins, max_snap=40)
    flat_ranked = rank_links(st.network, level, links).sort_values("node")
    assert (flat_ranked[cols].to_numpy() != ranked[cols].to_numpy()).any()
