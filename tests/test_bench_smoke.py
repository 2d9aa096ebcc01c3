"""The benchmark's correctness check (gcgeo vs networkx multi-source Dijkstra) on a tiny grid."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

pytest.importorskip("networkx")


def test_bench_correctness_tiny_grid():
    spec = importlib.util.spec_from_file_location(
        "bench_engine", ROOT / "benchmarks" / "bench_engine.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.check_correctness(n_nodes=400, n_fac=8)
    assert res["nodes"] > 300
    assert res["ok"], res
