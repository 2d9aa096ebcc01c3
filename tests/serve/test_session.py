"""A session's shares against gcgeo coverage and gcgeo scenario on the same edits (the demo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gcgeo._errors import InputError
from gcgeo.by_area import coverage_by_area
from gcgeo.catalogue import load_catalogue
from gcgeo.columns import reached_col
from gcgeo.coverage import compute_coverage
from gcgeo.scenario import apply_scenario, parse_scenario
from gcgeo.serve import ServeData, Session


def _street_points(net, rng: np.random.Generator, k: int) -> np.ndarray:
    """WGS-84 points up to ~15 m beside random streets."""
    e = rng.integers(0, len(net.edges), k)
    t = rng.random(k)[:, None]
    lon = net.nodes["lon"].to_numpy()
    lat = net.nodes["lat"].to_numpy()
    a = np.column_stack([lon[net.edge_u[e]], lat[net.edge_u[e]]])
    b = np.column_stack([lon[net.edge_v[e]], lat[net.edge_v[e]]])
    return a + (b - a) * t + rng.normal(0, 1e-4, (k, 2))


def _expected(net, facilities, cat, origins, weights):
    """Reached flags, district share and per-area shares from gcgeo coverage itself."""
    res = compute_coverage(net, facilities, [cat], origins)
    reach = res.origins[reached_col(cat.id)].to_numpy(bool)
    by_area = coverage_by_area(res.origins, [cat])
    per_area = {
        (r["area_layer"], str(r["code"])): r[f"share_{cat.id}"] for _, r in by_area.iterrows()
    }
    return reach, float(weights[reach].sum() / weights.sum()), per_area


def _check(session: Session, cat_id: str, net, facilities, origins) -> None:
    data = session.data
    cat = data.category(cat_id, "adult", None)
    reach, district, per_area = _expected(net, facilities, cat, origins, data.weights)
    _, st, _, _ = session.view(cat_id)
    assert ((st.points.distance <= cat.max_distance_m) == reach).all()
    shares = session.shares(cat_id)
    assert shares["district"]["share_after"] == pytest.approx(district, abs=1e-12)
    for layer in ("zones", "wings", "renewal_areas"):
        for code, row in shares[layer].items():
            want = per_area[(layer, code)]
            if np.isnan(want):
                assert row["share_after"] is None
            else:
                assert row["share_after"] == pytest.approx(want, abs=1e-12), (layer, code)


def test_random_facility_edits_equal_gcgeo_coverage(demo: dict) -> None:
    data, net, origins = demo["data"], demo["study"].network, demo["origins"]
    rng = np.random.default_rng(3)
    s = Session(data)
    cats = ["kindergarten", "elderly_canteen", "primary_school", "park"]
    for step in range(30):
        cat = str(rng.choice(cats))
        kind = rng.choice(["add", "remove", "move"], p=[0.5, 0.25, 0.25])
        ids = s.facilities_now()
        ids = ids[ids["category"] == cat]["facility_id"].astype(str).tolist()
        if kind == "add" or not ids:
            lon, lat = _street_points(net, rng, 1)[0]
            s.add_facility(cat, float(lon), float(lat), name=f"新设施 {step}")
        elif kind == "remove":
            s.remove_facility(str(rng.choice(ids)))
        else:
            lon, lat = _street_points(net, rng, 1)[0]
            s.move_facility(str(rng.choice(ids)), float(lon), float(lat))
        if step % 6 == 5:
            for c in cats:
                _check(s, c, net, s.facilities_now(), origins)
    # the "before" is the unedited coverage
    cat = data.category("kindergarten", "adult", None)
    _, before, _ = _expected(net, demo["study"].facilities, cat, origins, data.weights)
    assert s.shares("kindergarten")["district"]["share_before"] == pytest.approx(before, abs=1e-12)


def test_exported_scenario_runs_to_the_same_numbers(demo: dict) -> None:
    """Facilities, removals and links; the TOML through parse_scenario + apply_scenario +
    compute_coverage (what ``gcgeo scenario`` runs) gives the page's shares."""
    data, net, origins = demo["data"], demo["study"].network, demo["origins"]
    rng = np.random.default_rng(11)
    s = Session(data)
    base = demo["study"].facilities
    kg = base[base["category"] == "kindergarten"]["facility_id"].astype(str).tolist()
    s.remove_facility(kg[0])
    links = 0
    for i in range(12):
        if i % 3 == 2:
            a = _street_points(net, rng, 1)[0]
            b = a + rng.normal(0, 1.2e-3, 2)  # ~130 m: across a block
            try:
                s.add_link((float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
                links += 1
            except InputError:
                pass  # an end too far from a street: refused, nothing changed
        else:
            lon, lat = _street_points(net, rng, 1)[0]
            s.add_facility(str(rng.choice(["kindergarten", "clinic"])), float(lon), float(lat))
    assert links >= 2
    text = s.scenario_toml(name="会后方案 'draft' \"A\"")
    sc = parse_scenario(text, catalogue=load_catalogue())
    assert sc.name == "会后方案 'draft' \"A\""
    new_net, new_fac = apply_scenario(net, base, sc)
    assert new_net.n_nodes == s.net.n_nodes and len(new_net.edges) == len(s.net.edges)
    for cat in ("kindergarten", "clinic", "fresh_market"):
        _check(s, cat, new_net, new_fac, origins)


def test_undo_and_reset(demo: dict) -> None:
    data, net = demo["data"], demo["study"].network
    s = Session(data)
    start = s.shares("clinic")["district"]["share_after"]
    lon, lat = _street_points(net, np.random.default_rng(1), 1)[0]
    fid = s.add_facility("clinic", float(lon), float(lat))
    after = s.shares("clinic")["district"]["share_after"]
    assert after >= start
    assert s.undo()
    assert s.shares("clinic")["district"]["share_after"] == start
    assert fid not in s.facilities_now()["facility_id"].tolist()
    s.add_facility("clinic", float(lon), float(lat))
    s.reset()
    assert s.shares("clinic")["district"]["share_after"] == start
    assert not s.undo()


def test_sessions_do_not_see_each_other(demo: dict) -> None:
    data, net = demo["data"], demo["study"].network
    a, b = Session(data), Session(data)
    start = b.shares("park")["district"]["share_after"]
    for lon, lat in _street_points(net, np.random.default_rng(2), 5):
        a.add_facility("park", float(lon), float(lat))
    assert a.shares("park")["district"]["share_after"] > start
    assert b.shares("park")["district"]["share_after"] == start
    assert b.shares("park")["district"]["share_before"] == start


def test_bad_edits_are_one_sentence(demo: dict) -> None:
    s = Session(demo["data"])
    with pytest.raises(InputError, match="unknown category 'cinema'"):
        s.add_facility("cinema", 117.8, 36.2)
    with pytest.raises(InputError, match="more than 300 m from every street"):
        s.add_facility("clinic", 117.0, 36.0)
    with pytest.raises(InputError, match="not a WGS-84"):
        s.add_facility("clinic", float("nan"), 36.0)
    with pytest.raises(InputError, match="no facility 'x'"):
        s.remove_facility("x")
    with pytest.raises(InputError, match="unknown persona"):
        s.shares("clinic", persona="robot")
    with pytest.raises(InputError, match="threshold"):
        s.shares("clinic", threshold_m=-5)
    assert s.edits == []


def test_on_slopes_edits_and_links_equal_gcgeo_scenario(demo: dict, tmp_path: Path) -> None:
    """The page on the demo's synthetic DEM (``gcgeo serve --dem``): thresholds are the
    tiers' minutes, facilities and links are edited, and the exported scenario run through
    apply_scenario + compute_coverage on the same DEM gives the page's shares."""
    pytest.importorskip("rasterio")
    from gcgeo.demo import write_demo_osm
    from gcgeo.demo_dem import write_demo_dem
    from gcgeo.terrain import apply_dem

    info = write_demo_osm(tmp_path / "again.osm")
    dem = write_demo_dem(tmp_path / "dem.tif", info.bounds)
    net, _ = apply_dem(demo["study"].network, dem, "tobler_elderly")
    origins, base = demo["origins"], demo["study"].facilities
    data = ServeData.prepare(net, base, demo["cats"], origins, label="demo", threshold_basis="time")
    s = Session(data)
    rng = np.random.default_rng(12)
    links = 0
    for i in range(10):
        if i % 3 == 2:
            a = _street_points(net, rng, 1)[0]
            b = a + rng.normal(0, 1.2e-3, 2)
            try:
                s.add_link((float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
                links += 1
            except InputError:
                pass
        else:
            lon, lat = _street_points(net, rng, 1)[0]
            s.add_facility(str(rng.choice(["bus_stop", "elderly_canteen"])), float(lon), float(lat))
    assert links >= 2
    assert s.net.costs is not None
    sc = parse_scenario(s.scenario_toml(name="坡地方案"), catalogue=load_catalogue())
    new_net, new_fac = apply_scenario(net, base, sc)
    assert new_net.costs is not None
    for cat in ("bus_stop", "elderly_canteen", "park"):
        _check(s, cat, new_net, new_fac, origins)
