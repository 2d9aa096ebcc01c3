"""gcgeo.network.from_arrays: a StreetNetwork straight from arrays (benchmarks, tests)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from gcgeo._errors import InputError
from gcgeo.engine import node_distances
from gcgeo.network import from_arrays, load_network
from gcgeo.snap import snap_points


def _line():
    x = np.array([500_000.0, 500_100.0, 500_100.0, 500_300.0])
    y = np.array([4_000_000.0, 4_000_000.0, 4_000_050.0, 4_000_050.0])
    u = np.array([0, 1, 2, 3])
    v = np.array([1, 2, 3, 3])  # last one is a self-loop
    return from_arrays(x, y, u, v, "EPSG:4548")


def test_frames_and_lengths():
    net = _line()
    assert net.n_nodes == 4
    assert len(net.edges) == 3  # self-loop dropped
    np.testing.assert_allclose(net.edge_length, [100.0, 50.0, 200.0])
    assert list(net.nodes.index) == [0, 1, 2, 3]
    assert net.edges.geometry.length.to_numpy() == pytest.approx(net.edge_length)
    assert net.report["edges"] == 3 and net.report["street_km"] == pytest.approx(0.35)
    tr = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
    x, y = tr.transform(net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy())
    np.testing.assert_allclose(x, net.nodes["x"], atol=1e-6)
    np.testing.assert_allclose(y, net.nodes["y"], atol=1e-6)


def test_engine_runs_on_it():
    net = _line()
    src = snap_points(net, np.array([[500_000.0, 4_000_010.0]]))  # 10 m off node 0
    nd = node_distances(net, src)
    np.testing.assert_allclose(nd.dist, [10.0, 110.0, 160.0, 360.0])


def test_bad_input():
    with pytest.raises(InputError):
        from_arrays([0.0, 1.0], [0.0, 1.0], [0], [2])
    with pytest.raises(InputError):
        from_arrays([0.0, 1.0], [0.0, 1.0], [0], [1], "EPSG:4326")


def test_mirrors_build_network(beijing_osm):
    real = load_network(beijing_osm)
    syn = from_arrays(real.xy[:, 0], real.xy[:, 1], real.edge_u, real.edge_v, real.crs)
    assert list(syn.nodes.columns) == list(real.nodes.columns)
    assert list(syn.edges.columns) == list(real.edges.columns)
    assert dict(syn.nodes.dtypes.astype(str)) == dict(real.nodes.dtypes.astype(str))
    # tag columns: build_network's dtype depends on the data (str, or object when all missing)
    tags = {"highway", "name", "access", "foot", "sidewalk"}
    syn_dt = syn.edges.dtypes.astype(str)
    real_dt = real.edges.dtypes.astype(str)
    assert {c: syn_dt[c] for c in syn_dt.index if c not in tags} == {
        c: real_dt[c] for c in real_dt.index if c not in tags
    }
    assert all(syn_dt[c] in ("str", "object") for c in tags)
    assert syn.crs == real.crs
    np.testing.assert_allclose(syn.edge_length, real.edge_length)
    np.testing.assert_allclose(syn.nodes["lon"], real.nodes["lon"], atol=1e-9)
    assert (syn.graph != real.graph).nnz == 0
