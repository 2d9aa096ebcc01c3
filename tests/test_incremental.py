"""CategoryState.add_facility against a full recomputation (the oracle), on real OSM.

On the Beijing sample, facilities are added one by one at random street points (some on the
same segment as an origin, some beyond the snap distance); after every addition the node
distances, the origins' distances and the set of origins reported as changed must equal a
full multi-source search over all facilities so far.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from drawn import at, drawn_town, idx

from gcgeo._errors import ScenarioError
from gcgeo.engine import node_distances, point_distances
from gcgeo.incremental import CategoryState
from gcgeo.network import load_network
from gcgeo.snap import Snap, snap_points

LIMIT_M = 800.0


def _random_points(net, rng: np.random.Generator, n: int) -> np.ndarray:
    """Points beside random street segments (up to 40 m off the line)."""
    e = rng.integers(0, len(net.edges), n)
    geoms = net.edges.geometry.values[e]
    t = rng.random(n)
    pts = np.array([g.interpolate(tt, normalized=True).coords[0] for g, tt in zip(geoms, t)])
    return pts + rng.normal(0.0, 15.0, size=pts.shape)


def test_adding_facilities_equals_full_recomputation(beijing_osm: Path) -> None:
    net = load_network(beijing_osm)
    rng = np.random.default_rng(13)
    origins = snap_points(net, _random_points(net, rng, 400), 50.0)
    start = snap_points(net, _random_points(net, rng, 3), 50.0)
    state = CategoryState(net, start, origins, LIMIT_M)
    previous = state.points.distance.copy()
    adds = _random_points(net, rng, 25)
    adds[5] += 5000.0  # far from every street: unsnapped, changes nothing
    adds[7] = net.edges.geometry.values[origins.edge[0]].interpolate(0.5, normalized=True).coords[0]
    for k, xy in enumerate(adds):
        one = snap_points(net, xy[None, :], 50.0)
        changed = state.add_facility(one)
        full_nodes = node_distances(net, state.sources, limit=LIMIT_M)
        full = point_distances(net, full_nodes, origins, state.sources)
        np.testing.assert_allclose(state.nodes.dist, full_nodes.dist, rtol=0, atol=1e-9)
        np.testing.assert_allclose(state.points.distance, full.distance, rtol=0, atol=1e-9)
        want = np.flatnonzero(full.distance < previous - 1e-9)
        assert changed.tolist() == want.tolist(), k
        if k == 5:
            assert not one.ok[0] and len(changed) == 0
        # the nearest facility named is one at that distance
        found = np.isfinite(state.points.distance)
        assert (state.points.source[found] >= 0).all()
        previous = full.distance.copy()
    assert (
        np.isfinite(state.points.distance).sum()
        > np.isfinite(CategoryState(net, start, origins, LIMIT_M).points.distance).sum()
    )


def test_add_facility_takes_one_point(beijing_osm: Path) -> None:
    net = load_network(beijing_osm)
    empty = Snap(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    state = CategoryState(net, empty, empty, LIMIT_M)
    with pytest.raises(ValueError, match="one snapped facility"):
        state.add_facility(empty)


def test_random_adds_and_removals_equal_full_recomputation(beijing_osm: Path) -> None:
    """A random sequence of additions and removals (including a facility just added, one
    on an origin's own street, and removing the same one twice is refused)."""
    net = load_network(beijing_osm)
    rng = np.random.default_rng(31)
    origins = snap_points(net, _random_points(net, rng, 500), 50.0)
    state = CategoryState(net, snap_points(net, _random_points(net, rng, 12), 50.0), origins,
                          LIMIT_M)  # fmt: skip
    previous = state.points.distance.copy()
    removed: set[int] = set()
    grew = shrank = 0
    for step in range(40):
        live = [i for i in range(len(state.sources)) if i not in removed
                and state.sources.ok[i]]  # fmt: skip
        if step % 3 == 2 and live:
            i = int(rng.choice(live))
            changed = state.remove_facility(i)
            removed.add(i)
        else:
            xy = _random_points(net, rng, 1)
            if step == 4:  # on the street of the first origin
                g = net.edges.geometry.values[origins.edge[0]]
                xy = np.array([g.interpolate(0.3, normalized=True).coords[0]])
            changed = state.add_facility(snap_points(net, xy, 50.0))
        full_nodes = node_distances(net, state.sources, limit=LIMIT_M)
        full = point_distances(net, full_nodes, origins, state.sources)
        np.testing.assert_allclose(state.nodes.dist, full_nodes.dist, rtol=0, atol=1e-9)
        np.testing.assert_allclose(state.points.distance, full.distance, rtol=0, atol=1e-9)
        moved = np.flatnonzero(~np.isclose(full.distance, previous, rtol=0, atol=1e-9)
                               & ~(np.isinf(full.distance) & np.isinf(previous)))  # fmt: skip
        assert sorted(changed.tolist()) == moved.tolist(), step
        grew += int((full.distance < previous - 1e-9).sum())
        shrank += int((full.distance > previous + 1e-9).sum())
        previous = full.distance.copy()
    assert grew > 0 and shrank > 0  # both kinds of change happened
    with pytest.raises(ValueError, match="no facility"):
        state.remove_facility(len(state.sources))


def test_removing_the_only_facility_leaves_nothing_in_reach(beijing_osm: Path) -> None:
    net = load_network(beijing_osm)
    rng = np.random.default_rng(5)
    origins = snap_points(net, _random_points(net, rng, 200), 50.0)
    state = CategoryState(net, snap_points(net, _random_points(net, rng, 1), 50.0), origins,
                          LIMIT_M)  # fmt: skip
    reached = np.flatnonzero(np.isfinite(state.points.distance))
    assert len(reached) > 0
    changed = state.remove_facility(0)
    assert changed.tolist() == reached.tolist()
    assert np.isinf(state.nodes.dist).all() and (state.nodes.source == -1).all()
    assert np.isinf(state.points.distance).all()


def test_add_link_by_hand() -> None:
    """The drawn town: a facility by the dead end D; a 300 m link from l3 straight to D."""
    net = drawn_town()
    fac = snap_points(net, at((300, -90)))  # 10 m up the D-J1 street, on the street
    origins = snap_points(net, at((-100, -50), (150, 0), (1050, 0)))
    state = CategoryState(net, fac, origins, 2000.0)
    # before: J1 90, J0 390, l3 490 (round by J1 and J0); mid l1-l2: J0 + 150 = 540
    assert state.nodes.dist[idx("l3")] == pytest.approx(490)
    assert state.points.distance[0] == pytest.approx(540)
    changed = state.add_link(at((0, -100), (300, -100)))
    # after: l3 10 + 300 = 310, l2 410, J0 stays 390; mid l1-l2: l2 + 50 = 460
    assert state.nodes.dist[idx("l3")] == pytest.approx(310)
    assert state.nodes.dist[idx("l2")] == pytest.approx(410)
    assert state.nodes.dist[idx("J0")] == pytest.approx(390)
    assert state.points.distance[0] == pytest.approx(460)
    # (150, 0) stays 240 by J1 and s2; the ring stays out of reach
    assert changed.tolist() == [0]
    assert state.points.distance[1] == pytest.approx(240)
    assert np.isinf(state.points.distance[2])


def test_random_adds_removals_and_links_equal_full_recomputation(beijing_osm: Path) -> None:
    """Facilities added and removed and straight links added in random order; after every
    step the state equals a full search on the network with every link so far, and a link
    end in mid-street (a split street) keeps the origins on it where they were."""
    net = load_network(beijing_osm)
    rng = np.random.default_rng(47)
    origins = snap_points(net, _random_points(net, rng, 400), 50.0)
    state = CategoryState(net, snap_points(net, _random_points(net, rng, 6), 50.0), origins,
                          LIMIT_M)  # fmt: skip
    previous = state.points.distance.copy()
    links = 0
    for step in range(30):
        kind = rng.choice(["add", "remove", "link"], p=[0.35, 0.25, 0.4])
        if kind == "add":
            changed = state.add_facility(snap_points(state.net, _random_points(net, rng, 1), 50.0))
        elif kind == "remove":
            live = np.flatnonzero(state.sources.ok)
            if not len(live):
                continue
            changed = state.remove_facility(int(rng.choice(live)))
        else:
            a = _random_points(net, rng, 1)[0]
            b = a + rng.normal(0, 120, 2)
            try:
                changed = state.add_link(np.vstack([a, b]), max_snap=60.0)
            except ScenarioError:  # an end too far from a street: refused, nothing changes
                continue
            links += 1
        cur = state.net
        full_nodes = node_distances(cur, state.sources, limit=LIMIT_M)
        full = point_distances(cur, full_nodes, state.origins, state.sources)
        np.testing.assert_allclose(state.nodes.dist, full_nodes.dist, rtol=0, atol=1e-6)
        np.testing.assert_allclose(state.points.distance, full.distance, rtol=0, atol=1e-6)
        differs = ~np.isclose(full.distance, previous, rtol=0, atol=1e-9) & ~(
            np.isinf(full.distance) & np.isinf(previous)
        )
        assert set(changed.tolist()) >= set(np.flatnonzero(differs).tolist()), (step, kind)
        previous = full.distance.copy()
    assert links >= 5
    assert state.net.n_nodes > net.n_nodes  # some link ends split streets
    # the origins still stand where they stood: their street points did not move
    ok = state.origins.ok
    assert (ok == origins.ok).all()
    feet_before = _feet(net, origins)
    feet_after = _feet(state.net, state.origins)
    np.testing.assert_allclose(feet_after[ok], feet_before[ok], atol=1e-6)


def _feet(net, snap: Snap) -> np.ndarray:
    e = np.maximum(snap.edge, 0)
    a, b = net.xy[net.edge_u[e]], net.xy[net.edge_v[e]]
    return a + (b - a) * (snap.offset / net.edge_length[e])[:, None]


def test_links_take_the_points_they_pass_nearer_than_their_street(beijing_osm: Path) -> None:
    """With the points' coordinates, the state equals snapping every facility and origin
    afresh on the network with the links (what ``gcgeo scenario`` does): a link passing
    nearer than a point's street takes it."""
    net = load_network(beijing_osm)
    rng = np.random.default_rng(5)
    oxy = _random_points(net, rng, 600)
    fxy = _random_points(net, rng, 8)
    state = CategoryState(net, snap_points(net, fxy, 50.0), snap_points(net, oxy, 50.0),
                          LIMIT_M, sources_xy=fxy, origins_xy=oxy, max_snap=50.0)  # fmt: skip
    moved = 0
    removed: set[int] = set()
    for step in range(24):
        kind = rng.choice(["add", "remove", "link"], p=[0.3, 0.2, 0.5])
        if kind == "add":
            xy = _random_points(net, rng, 1)
            state.add_facility(snap_points(state.net, xy, 50.0), xy[0])
            fxy = np.vstack([fxy, xy])
        elif kind == "remove":
            live = [i for i in np.flatnonzero(state.sources.ok).tolist() if i not in removed]
            if not live:
                continue
            i = int(rng.choice(live))
            state.remove_facility(i)
            removed.add(i)
        else:
            # through the middle of a block, where grid points lie nearer to it than to a street
            a = _random_points(net, rng, 1)[0]
            b = a + rng.normal(0, 150, 2)
            before = state.origins.edge.copy()
            try:
                state.add_link(np.vstack([a, b]), max_snap=60.0)
            except ScenarioError:
                continue
            moved += int((state.origins.edge[: len(before)] >= len(state.net.edges) - 1).sum())
        cur = state.net
        fresh_f = snap_points(cur, fxy, 50.0)
        gone = np.array(sorted(removed), dtype=np.int64)
        fresh_f = Snap(np.where(np.isin(np.arange(len(fxy)), gone), -1, fresh_f.edge),
                       fresh_f.offset, fresh_f.leg)  # fmt: skip
        fresh_o = snap_points(cur, oxy, 50.0)
        nd = node_distances(cur, fresh_f, limit=LIMIT_M)
        full = point_distances(cur, nd, fresh_o, fresh_f)
        np.testing.assert_allclose(state.nodes.dist, nd.dist, rtol=0, atol=1e-6, err_msg=str(step))
        np.testing.assert_allclose(state.points.distance, full.distance, rtol=0, atol=1e-6)
        assert (state.origins.edge == fresh_o.edge).all()
    assert moved > 0  # some origins did move onto a link


def test_hilly_random_adds_removals_and_links_equal_full_recomputation(
    beijing_osm: Path, tmp_path: Path
) -> None:
    """The same on slopes (a hill written as a DEM over the Beijing sample): walks to the
    facilities are directed, links get their own uphill and downhill costs, and after every
    step the state equals a full directed search on the current network."""
    pytest.importorskip("rasterio")
    from test_terrain import write_dem

    from gcgeo.terrain import apply_dem

    flat = load_network(beijing_osm)
    b = flat.bounds
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2

    def hill(x, y):
        return 80.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 500.0**2))

    dem = write_dem(tmp_path / "hill.tif", hill, b[0] - 100, b[3] + 100,
                    int((b[2] - b[0]) / 10) + 20, int((b[3] - b[1]) / 10) + 20, 10.0,
                    crs=flat.crs)  # fmt: skip
    net, _ = apply_dem(flat, dem, "tobler_elderly")
    rng = np.random.default_rng(51)
    origins = snap_points(net, _random_points(net, rng, 300), 50.0)
    state = CategoryState(net, snap_points(net, _random_points(net, rng, 5), 50.0), origins,
                          LIMIT_M)  # fmt: skip
    links = 0
    for _step in range(24):
        kind = rng.choice(["add", "remove", "link"], p=[0.35, 0.25, 0.4])
        if kind == "add":
            state.add_facility(snap_points(state.net, _random_points(net, rng, 1), 50.0))
        elif kind == "remove":
            live = np.flatnonzero(state.sources.ok)
            if len(live):
                state.remove_facility(int(rng.choice(live)))
        else:
            a = _random_points(net, rng, 1)[0]
            try:
                state.add_link(np.vstack([a, a + rng.normal(0, 120, 2)]), max_snap=60.0)
            except ScenarioError:
                continue
            links += 1
        cur = state.net
        assert cur.costs is not None
        full_nodes = node_distances(cur, state.sources, limit=LIMIT_M)
        full = point_distances(cur, full_nodes, state.origins, state.sources)
        np.testing.assert_allclose(state.nodes.dist, full_nodes.dist, rtol=0, atol=1e-6)
        np.testing.assert_allclose(state.points.distance, full.distance, rtol=0, atol=1e-6)
    assert links >= 4
    # slopes matter here: the same network and facilities without them give other walks
    level = state.net.replace(costs=None)
    flat_nodes = node_distances(level, state.sources, limit=LIMIT_M).dist
    both = np.isfinite(flat_nodes) & np.isfinite(state.nodes.dist)
    assert np.abs(flat_nodes[both] - state.nodes.dist[both]).max() > 10.0
