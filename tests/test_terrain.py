"""Slopes: Tobler by hand on a constant grade, exact grades from a plane, networkx on random
hilly towns (directed), and the DEM's unhappy paths."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from drawn import X0, Y0

from gcgeo._errors import InputError
from gcgeo.engine import from_point, node_distances, point_distances, to_point
from gcgeo.network import StreetNetwork, from_arrays
from gcgeo.snap import Snap, snap_points
from gcgeo.terrain import apply_dem, edge_costs, piece_samples, sample_dem, speed_factor

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402

CRS = "EPSG:4548"


def tobler_kmh(s: float, k: float = 3.5) -> float:
    """Tobler's hiking function as printed: W = 6 exp(-3.5 |S + 0.05|) km/h."""
    return 6.0 * math.exp(-k * abs(s + 0.05))


def write_dem(path: Path, fn, x0: float, y0: float, w: int, h: int, px: float, crs=CRS) -> Path:
    """A GeoTIFF whose pixel centres hold ``fn(x, y)``; top-left corner at ``x0, y0``."""
    cols = x0 + (np.arange(w) + 0.5) * px
    rows = y0 - (np.arange(h) + 0.5) * px
    xx, yy = np.meshgrid(cols, rows)
    data = np.asarray(fn(xx, yy), dtype="float32")
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
        crs=crs, transform=from_origin(x0, y0, px, px), nodata=-9999.0,
    ) as dst:  # fmt: skip
        dst.write(data, 1)
    return path


def test_speed_factor_is_tobler_over_its_flat_value() -> None:
    for s in (-0.3, -0.1, -0.05, 0.0, 0.05, 0.1, 0.25):
        want = tobler_kmh(s) / tobler_kmh(0.0)
        assert speed_factor(s, "tobler") == pytest.approx(want, rel=1e-12)
    assert speed_factor(0.0, "tobler") == 1.0
    assert speed_factor(0.0, "tobler_elderly") == 1.0
    assert speed_factor(0.1, "tobler_elderly") < speed_factor(0.1, "tobler")
    assert speed_factor(0.3, "flat") == 1.0
    with pytest.raises(InputError, match="walking function"):
        speed_factor(0.1, "naismith")


def _street(length: float = 500.0, shape_every: float = 100.0) -> StreetNetwork:
    """A straight street along x from X0, with shape nodes every ``shape_every`` m."""
    n = int(length / shape_every) + 1
    x = X0 + np.arange(n) * shape_every
    return from_arrays(x, np.full(n, Y0), np.arange(n - 1), np.arange(1, n), crs=CRS)


@pytest.mark.parametrize("function, k", [("tobler", 3.5), ("tobler_elderly", 5.25)])
def test_constant_ten_percent_grade_uphill_and_downhill_times(
    tmp_path: Path, function: str, k: float
) -> None:
    """A 500 m street climbing 10 %: walking it up and down takes Tobler's time, to 0.1 %."""
    dem = write_dem(
        tmp_path / "ramp.tif", lambda x, y: 100.0 + 0.1 * (x - X0), X0 - 100, Y0 + 100, 80, 20, 10.0
    )
    net, meta = apply_dem(_street(), dem, function)
    assert meta["missing_samples"] == 0
    np.testing.assert_allclose(net.costs.grade, 0.1, atol=1e-9)
    speed = 0.8  # the persona's flat speed, m/s
    v_up = speed * tobler_kmh(0.1, k) / tobler_kmh(0.0, k)
    v_down = speed * tobler_kmh(-0.1, k) / tobler_kmh(0.0, k)
    bottom, top = (
        snap_points(net, np.array([[X0, Y0 + 5]]), 50),
        snap_points(net, np.array([[X0 + 500, Y0 + 5]]), 50),
    )
    # origin at the bottom, facility at the top: the walk is uphill
    up = point_distances(net, node_distances(net, top), bottom, top)
    down = point_distances(net, node_distances(net, bottom), top, bottom)
    legs = 5.0 + 5.0  # level access legs at both ends
    assert (up.distance[0] - legs) / speed == pytest.approx(500 / v_up, rel=1e-3)
    assert (down.distance[0] - legs) / speed == pytest.approx(500 / v_down, rel=1e-3)
    assert up.distance[0] > down.distance[0]
    # the full-graph reference agrees with the contracted search
    full = node_distances(net, top, contracted=False)
    np.testing.assert_allclose(node_distances(net, top).dist, full.dist, atol=1e-9)


def test_level_street_costs_exactly_its_length(tmp_path: Path) -> None:
    dem = write_dem(
        tmp_path / "flat.tif", lambda x, y: 0 * x + 42.0, X0 - 100, Y0 + 100, 80, 20, 10.0
    )
    street = _street(shape_every=71.3)
    net, _ = apply_dem(street, dem, "tobler")
    assert (net.costs.fwd == street.edge_length).all()
    assert (net.costs.bwd == street.edge_length).all()
    fac = snap_points(net, np.array([[X0 + 13.0, Y0]]), 10)
    np.testing.assert_allclose(
        node_distances(net, fac).dist, node_distances(street, fac).dist, rtol=0, atol=1e-9
    )
    # flat ignores the DEM: the same network as without one
    flat, meta = apply_dem(street, dem, "flat")
    assert flat.costs is None and meta["function"] == "flat"


def test_plane_gives_exact_grades_in_a_geographic_dem(tmp_path: Path) -> None:
    """A plane z = a + b·x + c·y (x, y metres in the network's CRS), stored in a WGS-84
    raster fine enough that bilinear sampling is exact to a millimetre: each piece's grade is
    (b·dx + c·dy) / its length."""
    import pyproj

    b, c = 0.03, -0.02
    tr = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x_c, y_c = X0 + 150, Y0 + 150
    lon_c, lat_c = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x_c, y_c)

    def plane(lon, lat):
        x, y = tr.transform(lon, lat)
        return 50.0 + b * (np.asarray(x) - X0) + c * (np.asarray(y) - Y0)

    px = 0.00002  # ~2 m
    dem = write_dem(
        tmp_path / "plane_wgs84.tif",
        plane,
        lon_c - 0.006,
        lat_c + 0.006,
        600,
        600,
        px,
        crs="EPSG:4326",
    )
    x = X0 + np.array([0.0, 130.0, 260.0, 40.0])
    y = Y0 + np.array([0.0, 25.0, 210.0, 300.0])
    net = from_arrays(x, y, np.array([0, 1, 2]), np.array([1, 2, 3]), crs=CRS)
    hilly, _ = apply_dem(net, dem, "tobler")
    pieces = hilly.costs.pieces
    dx = np.repeat(np.diff(x), pieces)
    dy = np.repeat(np.diff(y), pieces)
    seg = np.repeat(net.edge_length, pieces)
    # the plane is planar in metres; in degrees it bends a little, so allow 1 mm over 20 m
    np.testing.assert_allclose(hilly.costs.grade, (b * dx + c * dy) / seg, atol=5e-5)
    z_nodes = sample_dem(dem, x, y, CRS)
    np.testing.assert_allclose(z_nodes, 50 + b * (x - X0) + c * (y - Y0), atol=2e-3)


def test_pieces_every_twenty_metres() -> None:
    xy = np.array([[0.0, 0.0], [45.0, 0.0], [45.0, 10.0]])
    pieces, ptr, pts = piece_samples(xy, np.array([0, 1]), np.array([1, 2]), np.array([45.0, 10.0]))
    assert pieces.tolist() == [3, 1]
    assert ptr.tolist() == [0, 4, 6]
    np.testing.assert_allclose(pts[:4, 0], [0, 15, 30, 45])


def test_partial_costs_along_a_segment_by_hand() -> None:
    """Two pieces of 10 m: the first climbs 1 m (10 %), the second is level."""
    c = edge_costs(np.array([20.0]), np.array([2]), np.array([0, 3]), np.array([0.0, 1.0, 1.0]))
    up = 10 / speed_factor(0.1)
    down = 10 / speed_factor(-0.1)
    assert c.fwd[0] == pytest.approx(up + 10)
    assert c.bwd[0] == pytest.approx(down + 10)
    from_u, back_u = c.along(np.array([0, 0]), np.array([5.0, 15.0]))
    np.testing.assert_allclose(from_u, [up / 2, up + 5])
    np.testing.assert_allclose(back_u, [down / 2, down + 5])
    # between: forward from 5 to 15 m, and back from 15 to 5 m
    np.testing.assert_allclose(
        c.between(np.array([0, 0]), np.array([5.0, 15.0]), np.array([15.0, 5.0])),
        [up / 2 + 5, 5 + down / 2],
    )


def test_steps_get_their_own_speed(tmp_path: Path) -> None:
    from gcgeo import settings

    dem = write_dem(tmp_path / "flat.tif", lambda x, y: 0 * x, X0 - 100, Y0 + 100, 80, 20, 10.0)
    net = from_arrays(
        X0 + np.array([0.0, 40.0, 80.0]), np.full(3, Y0), np.array([0, 1]), np.array([1, 2]),
        crs=CRS, highway=np.array(["footway", "steps"]),
    )  # fmt: skip
    hilly, meta = apply_dem(net, dem, "tobler_elderly")
    share = settings.STEPS_SPEED_SHARE["tobler_elderly"]
    np.testing.assert_allclose(hilly.costs.fwd, [40.0, 40.0 / share])
    np.testing.assert_allclose(hilly.costs.bwd, [40.0, 40.0 / share])
    assert meta["steps_segments"] == 1


# --------------------------------------------------------------------------- random hilly towns


def _scatter(net: StreetNetwork, rng: np.random.Generator, k: int) -> Snap:
    """``k`` points drawn uniformly over the network's bounds, snapped within 500 m."""
    b = net.bounds
    return snap_points(
        net, np.column_stack([rng.uniform(b[0], b[2], k), rng.uniform(b[1], b[3], k)]), 500
    )


def _hilly_town(seed: int, tmp_path: Path) -> tuple[StreetNetwork, StreetNetwork]:
    from test_contract import random_town

    flat = random_town(seed)
    b = flat.bounds
    rng = np.random.default_rng(seed)
    cx, cy = rng.uniform(b[0], b[2]), rng.uniform(b[1], b[3])

    def hill(x, y):
        return 60.0 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 300.0**2)) + 0.02 * (x - b[0])

    dem = write_dem(tmp_path / f"hill{seed}.tif", hill, b[0] - 50, b[3] + 50,
                    int((b[2] - b[0]) / 5) + 20, int((b[3] - b[1]) / 5) + 20, 5.0)  # fmt: skip
    return flat, apply_dem(flat, dem, "tobler")[0]


def _reference(net: StreetNetwork, fac, org, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """networkx on a DiGraph: every segment both ways at its own direction's cost, each
    origin walking to its segment's ends, each facility reached from its segment's ends,
    and the direct walk along a shared segment. Walks from nodes and from origins."""
    g = nx.DiGraph()
    c = net.costs
    for e, (u, v) in enumerate(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True)):
        if u == v:
            continue
        for a, bb, w in ((u, v, c.fwd[e]), (v, u, c.bwd[e])):
            if not g.has_edge(a, bb) or g[a][bb]["w"] > w:
                g.add_edge(a, bb, w=float(w))
    fi = np.flatnonzero(fac.ok)
    for i in fi:
        e, t = fac.edge[i], fac.offset[i]
        cu, cv = to_point(net, np.array([e]), np.array([t]))
        g.add_edge(int(net.edge_u[e]), ("f", i), w=float(cu[0] + fac.leg[i]))
        g.add_edge(int(net.edge_v[e]), ("f", i), w=float(cv[0] + fac.leg[i]))
    for j in np.flatnonzero(org.ok):
        e, t = org.edge[j], org.offset[j]
        ou, ov = from_point(net, np.array([e]), np.array([t]))
        g.add_edge(("o", j), int(net.edge_u[e]), w=float(ou[0] + org.leg[j]))
        g.add_edge(("o", j), int(net.edge_v[e]), w=float(ov[0] + org.leg[j]))
        for i in fi[fac.edge[fi] == e]:
            d = c.between(np.array([e]), np.array([t]), np.array([fac.offset[i]]))[0]
            g.add_edge(("o", j), ("f", i), w=float(d + org.leg[j] + fac.leg[i]))
    # walks TO the facilities: search the reversed graph from them
    d = nx.multi_source_dijkstra_path_length(g.reverse(), [("f", i) for i in fi], weight="w")
    nodes = np.array([d.get(k, np.inf) for k in range(net.n_nodes)])
    nodes[nodes > limit] = np.inf
    orgs = np.array([d.get(("o", j), np.inf) for j in range(len(org))])
    return nodes, orgs


@pytest.mark.parametrize("seed", range(4))
def test_random_hilly_towns_equal_networkx_directed(seed: int, tmp_path: Path) -> None:
    flat, net = _hilly_town(seed, tmp_path)
    assert not np.allclose(net.costs.fwd, net.costs.bwd)  # the town is really hilly
    rng = np.random.default_rng(50 + seed)
    for k in (1, 5, 30):
        fac = _scatter(net, rng, k)
        org = _scatter(net, rng, 60)
        ref_nodes, ref_org = _reference(net, fac, org, np.inf)
        got = node_distances(net, fac)
        full = node_distances(net, fac, contracted=False)
        np.testing.assert_allclose(got.dist, ref_nodes, atol=1e-6)
        np.testing.assert_allclose(full.dist, ref_nodes, atol=1e-6)
        pd_ = point_distances(net, got, org, fac)
        fin = np.isfinite(ref_org)
        assert (np.isfinite(pd_.distance) == fin).all()
        # the reference's origin legs are in its weights: compare whole walks
        np.testing.assert_allclose(pd_.distance[fin], ref_org[fin], atol=1e-6)
        # and directions matter: the walks to a facility are not the walks from it
        assert not np.allclose(got.dist, node_distances(flat, fac).dist)


def test_limit_applies_to_the_directed_walk(tmp_path: Path) -> None:
    _flat, net = _hilly_town(7, tmp_path)
    fac = snap_points(net, np.array(net.xy[[5, 77]]), 10)
    ref_nodes, _ = _reference(net, fac, snap_points(net, net.xy[:0], 10), 400.0)
    got = node_distances(net, fac, limit=400.0)
    np.testing.assert_allclose(got.dist, ref_nodes, atol=1e-6)


# --------------------------------------------------------------------------- unhappy paths


def test_dem_that_misses_the_network_is_one_sentence(tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "far.tif", lambda x, y: 0 * x, X0 + 50_000, Y0, 10, 10, 10.0)
    with pytest.raises(InputError, match=r"no elevation for .* give tiles covering lon"):
        apply_dem(_street(), dem)


def test_missing_and_unreadable_dem(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist; check --dem"):
        apply_dem(_street(), tmp_path / "nope.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(InputError, match="Cannot read the DEM"):
        apply_dem(_street(), bad)


def test_two_tiles_are_merged(tmp_path: Path) -> None:
    """West and east halves in two files (the east one in WGS-84): the street is covered."""
    ramp = lambda x, y: 0.05 * (x - X0)  # noqa: E731
    west = write_dem(tmp_path / "w.tif", ramp, X0 - 100, Y0 + 100, 35, 20, 10.0)  # to X0+250
    import pyproj

    to_m = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    lon0, lat0 = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(
        X0 + 200, Y0 + 100
    )
    east = write_dem(
        tmp_path / "e.tif", lambda lo, la: ramp(*to_m.transform(lo, la)), lon0, lat0 + 0.001,
        300, 300, 0.00002, crs="EPSG:4326",
    )  # fmt: skip
    net, meta = apply_dem(_street(), [west, east], "tobler")
    assert meta["missing_samples"] == 0
    np.testing.assert_allclose(net.costs.grade, 0.05, atol=1e-4)


def test_chain_offsets_in_both_directions(tmp_path: Path) -> None:
    """On every segment u → v of a hilly town, the chain offsets step by the segment's own
    walks: P rises by the walk u → v where v lies ahead, and Q by the walk back v → u."""
    _flat, net = _hilly_town(0, tmp_path)
    con, c = net.contraction, net.costs
    ou, ov, bu, bv = con.edge_off_u, con.edge_off_v, con.edge_back_u, con.edge_back_v
    ahead = ov >= ou
    assert 0 < (~ahead).sum() < len(ahead)  # both orientations occur
    np.testing.assert_allclose(
        np.where(ahead, ov - ou, ou - ov), np.where(ahead, c.fwd, c.bwd), atol=1e-9
    )
    np.testing.assert_allclose(
        np.where(ahead, bv - bu, bu - bv), np.where(ahead, c.bwd, c.fwd), atol=1e-9
    )


def test_a_scenario_link_on_slopes(tmp_path: Path) -> None:
    """Two parallel streets 100 m apart on the plane z = 0.05·x + 0.1·y; a link joins their
    midpoints. The split streets' pieces cost exactly what their parent did, the link climbs
    10 % (Tobler each way), and the directed search on the new network equals networkx."""
    from gcgeo.scenario import add_links_mapped

    x = X0 + np.arange(6) * 100.0
    xs = np.concatenate([x, x])
    ys = np.concatenate([np.full(6, Y0), np.full(6, Y0 + 100.0)])
    u = np.concatenate([np.arange(5), 6 + np.arange(5)])
    v = u + 1
    street = from_arrays(xs, ys, u, v, crs=CRS)
    dem = write_dem(tmp_path / "plane.tif", lambda x, y: 0.05 * (x - X0) + 0.1 * (y - Y0),
                    X0 - 100, Y0 + 300, 80, 50, 10.0)  # fmt: skip
    net, _ = apply_dem(street, dem, "tobler")
    line = np.array([[X0 + 250.0, Y0], [X0 + 250.0, Y0 + 100.0]])
    new, emap = add_links_mapped(net, [line], straight=[True], max_snap=10.0)
    c = new.costs
    link = int(np.flatnonzero(emap.parent < 0)[0])
    assert c.fwd[link] == pytest.approx(100 / speed_factor(0.1), rel=1e-9)
    assert c.bwd[link] == pytest.approx(100 / speed_factor(-0.1), rel=1e-9)
    for parent in np.unique(emap.parent[emap.start > 0]):
        pieces = np.flatnonzero(emap.parent == parent)
        assert c.fwd[pieces].sum() == pytest.approx(net.costs.fwd[parent], rel=1e-12)
        assert c.bwd[pieces].sum() == pytest.approx(net.costs.bwd[parent], rel=1e-12)
        assert c.fwd[pieces].sum() == pytest.approx(100 / speed_factor(0.05), rel=1e-9)
    # streets untouched by the link keep their costs bit for bit
    kept = np.flatnonzero((emap.parent >= 0) & ~np.isin(emap.parent, emap.parent[emap.start > 0]))
    assert (c.fwd[kept] == net.costs.fwd[emap.parent[kept]]).all()
    fac = snap_points(new, np.array([[X0 + 500.0, Y0 + 100.0]]), 10)
    org = snap_points(new, np.array([[X0 + 20.0, Y0 + 3], [X0 + 260.0, Y0 - 3]]), 10)
    ref_nodes, ref_org = _reference(new, fac, org, np.inf)
    nd = node_distances(new, fac)
    np.testing.assert_allclose(nd.dist, ref_nodes, atol=1e-6)
    np.testing.assert_allclose(point_distances(new, nd, org, fac).distance, ref_org, atol=1e-6)


def test_suggest_matrix_on_slopes_is_walks_from_origins(tmp_path: Path) -> None:
    """coverage_matrix searches from the origins: on slopes, candidate j serves origin i when
    the walk i → j (networkx, one candidate at a time) is within the threshold."""
    from gcgeo.suggest import coverage_matrix

    _flat, net = _hilly_town(2, tmp_path)
    rng = np.random.default_rng(9)
    org = _scatter(net, rng, 80)
    cand = _scatter(net, rng, 7)
    thr = 450.0
    got = coverage_matrix(net, org, cand, thr).toarray()
    want = np.zeros_like(got)
    for j in range(len(cand)):
        one = cand.take(np.array([j]))
        _, d = _reference(net, one, org, np.inf)
        want[j] = d <= thr
    assert want.any() and (~want).any()
    assert (got == want).all()
    # and the walks' direction matters: the matrix of the walks from the candidates differs
    assert (got != coverage_matrix(net.reversed, org, cand, thr).toarray()).any()


def test_access_cost_table_on_slopes_is_walks_to_facilities(tmp_path: Path) -> None:
    """gcgeo.fca.od_pairs on a hilly town: every (origin, facility) pair within the catchment
    and its walk from the origin to the facility, as networkx finds it one facility at a time."""
    from gcgeo.fca import od_pairs

    _flat, net = _hilly_town(3, tmp_path)
    rng = np.random.default_rng(4)
    org = _scatter(net, rng, 70)
    fac = _scatter(net, rng, 6)
    catchment = 500.0
    got = od_pairs(net, org, fac, catchment)
    want = {}
    for j in range(len(fac)):
        _, d = _reference(net, fac.take(np.array([j])), org, np.inf)
        for i in np.flatnonzero(d <= catchment):
            want[(int(i), j)] = d[i]
    pairs = dict(
        zip(
            zip(got.origin.tolist(), got.facility.tolist(), strict=True),
            got.distance.tolist(),
            strict=True,
        )
    )
    assert len(want) > 10 and set(pairs) == set(want)
    np.testing.assert_allclose([pairs[k] for k in want], list(want.values()), atol=1e-6)


def test_undeclared_no_data_counts_as_missing(tmp_path: Path) -> None:
    """SRTM voids written as -32768 without a declared no-data value: a DEM made only of them
    is refused; a void over one street piece counts it as level and is reported."""
    void = write_dem(
        tmp_path / "void.tif", lambda x, y: 0 * x - 32768.0, X0 - 100, Y0 + 100, 80, 20, 10.0
    )
    with rasterio.open(void, "r+") as dst:
        dst.nodata = None
    with pytest.raises(InputError, match="no elevation for"):
        apply_dem(_street(), void)

    def ramp_with_hole(x, y):
        z = 0.1 * (x - X0)
        return np.where((x > X0 + 1990) & (x < X0 + 2000), -32768.0, z)

    street = _street(length=2000.0)
    dem = write_dem(tmp_path / "hole.tif", ramp_with_hole, X0 - 100, Y0 + 100, 230, 20, 10.0)
    with rasterio.open(dem, "r+") as dst:
        dst.nodata = None
    net, meta = apply_dem(street, dem)
    assert 0 < meta["missing_samples"] <= 0.05 * meta["samples"]
    assert np.isfinite(net.costs.fwd).all() and (net.costs.fwd >= 100.0).all()
    assert np.nanmax(net.costs.elevation) < 300  # no -32768 or 3.4e38 left


def test_a_window_beyond_the_pixel_cap_is_averaged_and_still_exact_on_a_plane(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cap at 200 pixels the ~52 × 16 window the street needs is read averaged over
    3 × 3 blocks; the average of a plane is the plane at the block's centre, so the grades
    stay exact."""
    from gcgeo import settings

    dem = write_dem(tmp_path / "plane.tif", lambda x, y: 30 + 0.04 * (x - X0) - 0.02 * (y - Y0),
                    X0 - 100, Y0 + 200, 80, 40, 10.0)  # fmt: skip
    x = X0 + np.array([0.0, 300.0, 500.0])
    y = Y0 + np.array([0.0, 90.0, -60.0])
    net = from_arrays(x, y, np.array([0, 1]), np.array([1, 2]), crs=CRS)
    exact, _ = apply_dem(net, dem)
    monkeypatch.setattr(settings, "DEM_MAX_PIXELS", 200)
    coarse, _ = apply_dem(net, dem)
    np.testing.assert_allclose(coarse.costs.grade, exact.costs.grade, atol=1e-6)
    z = sample_dem(dem, x, y, CRS)
    np.testing.assert_allclose(z, 30 + 0.04 * (x - X0) - 0.02 * (y - Y0), atol=1e-3)
