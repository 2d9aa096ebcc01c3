"""Cache of built networks: hits, identity of results, corruption, misses, CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gcgeo.network as network_module
from gcgeo.cache import (
    CacheWarning,
    catalogue_hash,
    clear_cache,
    default_cache_dir,
    file_sha256,
    list_cache,
    resolve_cache_dir,
)
from gcgeo.catalogue import load_catalogue
from gcgeo.cli import main
from gcgeo.coverage import project_points
from gcgeo.engine import node_distances
from gcgeo.snap import snap_points
from gcgeo.study import open_study


def _entries(root: Path) -> list[Path]:
    d = root / "networks"
    return sorted(p for p in d.iterdir() if p.is_dir()) if d.is_dir() else []


def _assert_same(a, b) -> None:
    assert a.network.n_nodes == b.network.n_nodes
    assert a.network.crs == b.network.crs
    np.testing.assert_array_equal(a.network.nodes["osmid"], b.network.nodes["osmid"])
    np.testing.assert_array_equal(a.network.xy, b.network.xy)
    np.testing.assert_array_equal(a.network.edge_u, b.network.edge_u)
    np.testing.assert_array_equal(a.network.edge_v, b.network.edge_v)
    np.testing.assert_array_equal(a.network.edge_length, b.network.edge_length)
    for col in ("way_id", "highway", "name", "access", "private"):
        assert a.network.edges[col].tolist() == b.network.edges[col].tolist()
    assert a.network.edges.geometry.geom_equals_exact(b.network.edges.geometry, 0).all()
    assert a.facilities["facility_id"].tolist() == b.facilities["facility_id"].tolist()
    assert a.facilities["category"].tolist() == b.facilities["category"].tolist()
    assert a.facilities.geometry.geom_equals_exact(b.facilities.geometry, 0).all()
    ra, rb = a.network.residential, b.network.residential
    assert (ra is None) == (rb is None)
    if ra is not None:
        assert ra.geom_equals_exact(rb, 0).all()


def test_second_open_is_a_hit_with_identical_results(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    first = open_study(tiny_osm, cache=root)
    assert first.meta["cache"] == {**first.meta["cache"], "enabled": True, "hit": False}
    assert len(_entries(root)) == 1
    second = open_study(tiny_osm, cache=root)
    assert second.meta["cache"]["hit"] is True
    _assert_same(first, second)
    # the tiny grid: 16 nodes, 4 rows x 3 + 4 columns x 3 = 24 segments of ~0.001°
    assert second.network.n_nodes == 16
    assert len(second.network.edges) == 24
    assert sorted(second.facilities["facility_id"]) == ["n100", "w50"]
    # the graph built from the cached arrays is the same
    assert (first.network.graph != second.network.graph).nnz == 0


def test_real_file_round_trip(beijing_osm: Path, tmp_path: Path) -> None:
    uncached = open_study(beijing_osm)
    assert uncached.meta["cache"]["enabled"] is False
    open_study(beijing_osm, cache=tmp_path)
    hit = open_study(beijing_osm, cache=tmp_path)
    assert hit.meta["cache"]["hit"] is True
    _assert_same(uncached, hit)
    assert hit.network.report == {**uncached.network.report}


def test_hit_searches_on_the_stored_contraction(
    beijing_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hit does not contract again: its stored contraction gives the uncached
    network's distances, and the uncontracted search's (a second method)."""
    uncached = open_study(beijing_osm)
    open_study(beijing_osm, cache=tmp_path)

    def no_contract(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit contracted the graph again")

    monkeypatch.setattr(network_module, "contract", no_contract)
    hit = open_study(beijing_osm, cache=tmp_path)
    assert hit.meta["cache"]["hit"] is True
    net = hit.network
    fac = snap_points(net, project_points(hit.facilities.iloc[::7], net.crs))
    got = node_distances(net, fac, limit=1500.0).dist
    want = node_distances(uncached.network, fac, limit=1500.0, contracted=False).dist
    assert np.isfinite(got).sum() > 100
    np.testing.assert_allclose(got, want, atol=0.01)
    # walks with costs are contracted anew: the stored graph is the level one
    with pytest.raises(ValueError, match="without costs"):
        type(net)(
            net.node_table, net.edge_table, net.crs, costs=object(), contraction=net.contraction
        )


def test_renamed_copy_hits_changed_content_misses(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    open_study(tiny_osm, cache=root)
    copy = tmp_path / "copy.osm"
    shutil.copyfile(tiny_osm, copy)
    s = open_study(copy, cache=root)
    assert s.meta["cache"]["hit"] is True
    assert s.network.report["source_file"] == str(copy)
    # change one coordinate digit (same size) and set another mtime: the content hash
    # decides; same size *and* same mtime (touch -r) is in test_hostile_cache.py
    text = copy.read_text(encoding="utf-8").replace('lon="117.8100000"', 'lon="117.8100500"', 1)
    copy.write_text(text, encoding="utf-8")
    os.utime(copy, ns=(1_000_000_000, 1_000_000_000))
    s2 = open_study(copy, cache=root)
    assert s2.meta["cache"]["hit"] is False
    assert len(_entries(root)) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"include_private": False},
        {"crs": "EPSG:32650"},
        {"clip": (117.8095, 36.0495, 117.8125, 36.0525)},
    ],
)
def test_settings_change_is_a_miss(tiny_osm: Path, tmp_path: Path, change: dict) -> None:
    root = tmp_path / "c"
    base = open_study(tiny_osm, cache=root)
    other = open_study(tiny_osm, cache=root, **change)
    assert other.meta["cache"]["hit"] is False
    assert len(_entries(root)) == 2
    again = open_study(tiny_osm, cache=root, **change)
    assert again.meta["cache"]["hit"] is True
    _assert_same(other, again)
    # and the original settings still hit their own entry
    assert open_study(tiny_osm, cache=root).meta["cache"]["hit"] is True
    if "include_private" in change:
        assert base.network.report["private_ways_kept"] == 1
        assert again.network.report["private_ways_kept"] == 0


def test_catalogue_content_change_is_a_miss(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    open_study(tiny_osm, cache=root)
    default = Path(__import__("gcgeo").__file__).parent / "catalogue.toml"
    custom = tmp_path / "cat.toml"
    custom.write_text(
        default.read_text(encoding="utf-8").replace(
            "max_distance_m = 300", "max_distance_m = 350", 1
        ),
        encoding="utf-8",
    )
    assert catalogue_hash(load_catalogue(custom)) != catalogue_hash(load_catalogue())
    # same content under another path is the same key
    same = tmp_path / "same.toml"
    same.write_text(default.read_text(encoding="utf-8"), encoding="utf-8")
    assert open_study(tiny_osm, catalogue=same, cache=root).meta["cache"]["hit"] is True
    assert open_study(tiny_osm, catalogue=custom, cache=root).meta["cache"]["hit"] is False


@pytest.mark.parametrize("victim", ["arrays.npz", "tables.json", "manifest.json"])
def test_truncated_entry_is_rebuilt_with_a_warning(
    tiny_osm: Path, tmp_path: Path, victim: str
) -> None:
    root = tmp_path / "c"
    good = open_study(tiny_osm, cache=root)
    (entry,) = _entries(root)
    f = entry / victim
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.warns(CacheWarning, match="rebuilding"):
        rebuilt = open_study(tiny_osm, cache=root)
    assert rebuilt.meta["cache"]["hit"] is False
    _assert_same(good, rebuilt)
    assert open_study(tiny_osm, cache=root).meta["cache"]["hit"] is True


def test_same_size_corruption_caught_by_checksum(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    open_study(tiny_osm, cache=root)
    (entry,) = _entries(root)
    f = entry / "tables.json"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match="checksum"):
        s = open_study(tiny_osm, cache=root)
    assert s.meta["cache"]["hit"] is False


def test_unwritable_cache_only_warns(tiny_osm: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "c"
    blocker.mkdir()
    (blocker / "networks").write_text("not a folder", encoding="utf-8")
    with pytest.warns(CacheWarning, match="Could not write"):
        s = open_study(tiny_osm, cache=blocker)
    assert s.network.n_nodes == 16


def test_resolve_cache_dir_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_cache_dir(None) is None
    assert resolve_cache_dir(False) is None
    monkeypatch.setenv("GCGEO_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(True) == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="--cache"):
        resolve_cache_dir(f)


def test_file_sha256_matches_hashlib(tiny_osm: Path) -> None:
    import hashlib

    assert file_sha256(tiny_osm) == hashlib.sha256(tiny_osm.read_bytes()).hexdigest()


# --- CLI -----------------------------------------------------------------------------


def _coverage(runner: CliRunner, osm: Path, out: Path, *extra: str):
    return runner.invoke(
        main,
        ["coverage", "--osm", str(osm), "--out", str(out), "--origin-rule", "all", *extra],
    )


def test_cli_coverage_uses_env_cache_then_hits(
    tiny_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "envcache"
    monkeypatch.setenv("GCGEO_CACHE_DIR", str(root))
    runner = CliRunner()
    r1 = _coverage(runner, tiny_osm, tmp_path / "o1")
    assert r1.exit_code == 0, r1.output
    r2 = _coverage(runner, tiny_osm, tmp_path / "o2")
    assert r2.exit_code == 0, r2.output
    run1 = json.loads((tmp_path / "o1" / "run.json").read_text(encoding="utf-8"))
    run2 = json.loads((tmp_path / "o2" / "run.json").read_text(encoding="utf-8"))
    assert run1["study"]["cache"]["hit"] is False
    assert run2["study"]["cache"]["hit"] is True
    assert run2["study"]["cache"]["dir"] == str(root)
    c1 = (tmp_path / "o1" / "coverage.csv").read_text(encoding="utf-8-sig")
    c2 = (tmp_path / "o2" / "coverage.csv").read_text(encoding="utf-8-sig")
    assert c1 == c2


def test_cli_no_cache_and_explicit_cache(tiny_osm: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env_root = Path(os.environ["GCGEO_CACHE_DIR"])
    r = _coverage(runner, tiny_osm, tmp_path / "o1", "--no-cache")
    assert r.exit_code == 0, r.output
    assert _entries(env_root) == []
    explicit = tmp_path / "mine"
    r = _coverage(runner, tiny_osm, tmp_path / "o2", "--cache", str(explicit))
    assert r.exit_code == 0, r.output
    assert len(_entries(explicit)) == 1
    assert _entries(env_root) == []


def test_cli_corrupt_entry_warns_one_line(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    runner = CliRunner()
    assert _coverage(runner, tiny_osm, tmp_path / "o1", "--cache", str(root)).exit_code == 0
    (entry,) = _entries(root)
    (entry / "arrays.npz").write_bytes(b"garbage")
    r = _coverage(runner, tiny_osm, tmp_path / "o2", "--cache", str(root))
    assert r.exit_code == 0, r.output
    warn = [ln for ln in r.stderr.replace("\r", "\n").splitlines() if ln.startswith("Warning:")]
    assert len(warn) == 1 and "rebuilding" in warn[0]


def test_cli_cache_list_and_clear(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    runner = CliRunner()
    open_study(tiny_osm, cache=root)
    open_study(tiny_osm, cache=root, include_private=False)
    r = runner.invoke(main, ["cache", "list", "--cache", str(root)])
    assert r.exit_code == 0, r.output
    digest = file_sha256(tiny_osm)[:12]
    lines = [ln for ln in r.output.splitlines() if ln.strip().startswith("network")]
    assert len(lines) == 2
    assert all(digest in ln and str(tiny_osm.resolve()) in ln for ln in lines)
    assert any("private=no" in ln for ln in lines) and any("private=yes" in ln for ln in lines)
    rj = runner.invoke(main, ["cache", "list", "--cache", str(root), "--json"])
    data = json.loads(rj.output)
    assert {e["settings"]["include_private"] for e in data["entries"]} == {True, False}
    assert all(e["bytes"] > 0 for e in data["entries"])
    # declining the prompt keeps everything
    r = runner.invoke(main, ["cache", "clear", "--cache", str(root)], input="n\n")
    assert r.exit_code == 1
    assert len(_entries(root)) == 2
    r = runner.invoke(main, ["cache", "clear", "--cache", str(root)], input="y\n")
    assert r.exit_code == 0
    assert "Removed 2 entries" in r.output
    assert _entries(root) == []
    assert list_cache(root) == []
    r = runner.invoke(main, ["cache", "list", "--cache", str(root)])
    assert "(empty)" in r.output


def test_clear_cache_include_osm(tmp_path: Path) -> None:
    (tmp_path / "osm").mkdir()
    (tmp_path / "osm" / "a.osm").write_text("<osm/>")
    (tmp_path / "osm" / "a.json").write_text("{}")
    assert clear_cache(tmp_path) == 0
    assert (tmp_path / "osm" / "a.osm").exists()
    assert [e["kind"] for e in list_cache(tmp_path)] == ["osm"]
    assert clear_cache(tmp_path, include_osm=True) == 1
    assert list(tmp_path.joinpath("osm").iterdir()) == []
