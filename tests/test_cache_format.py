"""The stored entry format (:mod:`gcgeo.cache_format`) refuses damaged and hostile files.

Every test plants or damages one entry, usually "resealing" the manifest so its
checksums match, and checks that the next :func:`~gcgeo.study.open_study` warns
once, rebuilds the entry and returns exactly what a fresh build does: object
arrays and pickles in ``arrays.npz``, truncated or inconsistent arrays,
malformed JSON in the manifest or ``tables.json``, renamed, missing or swapped
files, and manifests or links pointing outside the entry folder.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

# the _names are aliases: these tests moved here verbatim from test_hostile_cache.py
from cache_entries import ENTRY_FILES
from cache_entries import Payload as _Payload
from cache_entries import assert_clean_hit as _assert_clean_hit
from cache_entries import assert_identical as _assert_identical
from cache_entries import evil_pickle as _evil_pickle
from cache_entries import manifest as _manifest
from cache_entries import only_entry as _only_entry
from cache_entries import open_expecting_rebuild as _open_expecting_rebuild
from cache_entries import reseal as _reseal

from gcgeo.cache import file_sha256
from gcgeo.study import Study, open_study


@pytest.fixture
def fresh(tiny_osm: Path) -> Study:
    """The tiny study built without any cache: what every rebuild must equal."""
    return open_study(tiny_osm)


@pytest.fixture
def cached(tiny_osm: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A cache folder holding one good entry for ``tiny_osm``; returns (root, entry)."""
    root = tmp_path / "c"
    open_study(tiny_osm, cache=root)
    return root, _only_entry(root)


# --- 3. arrays.npz: object arrays (pickles), truncation, wrong contents --------------


def test_npz_with_object_array_is_refused(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached
) -> None:
    root, entry = cached
    marker = tmp_path / "PWNED"
    with np.load(entry / "arrays.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    arrays["nodes_osmid"] = payload
    np.savez(entry / "arrays.npz", **arrays)  # numpy pickles the object array
    with zipfile.ZipFile(entry / "arrays.npz") as zf:
        assert b"open" in zf.read("nodes_osmid.npy")  # a pickle calling open()
    _reseal(entry)
    s = _open_expecting_rebuild(tiny_osm, root, "Object arrays cannot be loaded")
    assert not marker.exists()
    _assert_identical(fresh, s)
    _assert_clean_hit(tiny_osm, root, fresh)


def test_pickle_renamed_to_npz_is_refused(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached
) -> None:
    root, entry = cached
    marker = tmp_path / "PWNED"
    (entry / "arrays.npz").write_bytes(_evil_pickle(marker))
    _reseal(entry)
    s = _open_expecting_rebuild(tiny_osm, root, "arrays.npz is not an .npz archive")
    assert not marker.exists()
    _assert_identical(fresh, s)


def _truncate(entry: Path) -> None:
    f = entry / "arrays.npz"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _rewrite_npz(entry: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(entry / "arrays.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(entry / "arrays.npz", **arrays)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (_truncate, "BadZipFile"),
        (lambda e: _rewrite_npz(e, lambda a: a.pop("edges_length")), "arrays.npz holds"),
        (lambda e: _rewrite_npz(e, lambda a: a.update(extra=np.ones(2))), "arrays.npz holds"),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(nodes_y=a["nodes_y"][:-1])),
            "nodes_y has the wrong length",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(edges_u=a["edges_u"] + 1000)),
            "edges_u does not index the nodes",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(fac_wkb=a["fac_wkb"][:-3])),
            "WKB offsets do not partition the buffer",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(res_wkb=np.zeros_like(a["res_wkb"]))),
            "GEOSException",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(nodes_x=np.array(["a"] * 16))),
            "nodes_x is not a 1-D numeric array",
        ),
        (
            lambda e: _rewrite_npz(
                e, lambda a: a.update(edges_highway_codes=a["edges_highway_codes"] + 1000)
            ),
            "codes outside its",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(con_kept=a["con_kept"] + 10**6)),
            "kept holds an index out of range",
        ),
        (
            lambda e: _rewrite_npz(
                e, lambda a: a.update(con_graph_indices=a["con_graph_indices"] + 10**6)
            ),
            "graph_indices holds an index out of range",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(con_chain_len=-a["con_chain_len"] - 1)),
            "chain_len holds a negative or non-finite length",
        ),
        (
            lambda e: _rewrite_npz(
                e, lambda a: a.update(con_inner_off=np.full_like(a["con_inner_off"], np.nan))
            ),
            "inner_off holds a negative or non-finite length",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(con_chain_ptr=a["con_chain_ptr"][::-1])),
            "chain_ptr does not point into its array in order",
        ),
        (
            lambda e: _rewrite_npz(
                e, lambda a: a.update(con_chain_nodes=np.zeros_like(a["con_chain_nodes"]))
            ),
            "do not list every node once",
        ),
        (
            lambda e: _rewrite_npz(e, lambda a: a.update(con_edge_off_u=a["con_edge_off_u"][1:])),
            "edge_off_u has the wrong length",
        ),
        (
            lambda e: _rewrite_npz(
                e, lambda a: a.update(con_edge_chain=a["con_edge_chain"].astype(float))
            ),
            "edge_chain is not a 1-D integer array",
        ),
        (lambda e: _rewrite_npz(e, lambda a: a.pop("con_chain_a")), "arrays.npz holds"),
    ],
    ids=[
        "truncated",
        "member-missing",
        "member-extra",
        "short-array",
        "edge-index-out-of-range",
        "wkb-buffer-cut",
        "wkb-garbage",
        "text-array",
        "text-code-out-of-range",
        "contraction-node-out-of-range",
        "contraction-graph-index-out-of-range",
        "contraction-negative-length",
        "contraction-nan-offset",
        "contraction-pointers-reversed",
        "contraction-nodes-repeated",
        "contraction-short-array",
        "contraction-float-index",
        "contraction-array-missing",
    ],
)
def test_damaged_npz_is_rebuilt(
    tiny_osm: Path, fresh: Study, cached, damage: Callable[[Path], None], match: str
) -> None:
    root, entry = cached
    damage(entry)
    _reseal(entry)
    s = _open_expecting_rebuild(tiny_osm, root, match)
    _assert_identical(fresh, s)
    _assert_clean_hit(tiny_osm, root, fresh)


# --- 4. malformed JSON (manifest and tables) -----------------------------------------


def _edit_tables(entry: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads((entry / "tables.json").read_text(encoding="utf-8"))
    change(doc)
    (entry / "tables.json").write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda e: (e / "manifest.json").write_text("{not json", "utf-8"), "manifest missing"),
        (lambda e: (e / "manifest.json").write_text("[1, 2]", "utf-8"), "manifest missing"),
        (lambda e: (e / "manifest.json").write_text("[" * 200_000, "utf-8"), "manifest missing"),
        (lambda e: (e / "manifest.json").write_bytes(b"\xff\xfe{}"), "manifest missing"),
        (lambda e: (e / "tables.json").write_text("{not json", "utf-8"), "not valid JSON"),
        (lambda e: (e / "tables.json").write_text("[" * 200_000, "utf-8"), "nested too deeply"),
        (lambda e: (e / "tables.json").write_text('{"x": NaN}', "utf-8"), "NaN is not allowed"),
        (lambda e: (e / "tables.json").write_text('"just a string"', "utf-8"), "not a JSON object"),
        (
            lambda e: _edit_tables(
                e, lambda d: d["edges"]["columns"]["highway"]["categories"].__setitem__(0, 7)
            ),
            "values that are not text",
        ),
        (
            lambda e: _edit_tables(
                e, lambda d: d["edges"]["columns"]["name"].update(dtype="category")
            ),
            "has dtype 'category'",
        ),
        (
            lambda e: _edit_tables(e, lambda d: d["facilities"]["columns"].pop("source")),
            "wrong text columns",
        ),
        (
            lambda e: _edit_tables(
                e, lambda d: d["edges"]["columns"]["access"].update(nan=[10**9])
            ),
            "malformed missing-value positions",
        ),
    ],
    ids=[
        "manifest-garbage",
        "manifest-not-object",
        "manifest-deep",
        "manifest-not-utf8",
        "tables-garbage",
        "tables-deep",
        "tables-nan-constant",
        "tables-not-object",
        "tables-number-as-text",
        "tables-unknown-dtype",
        "tables-column-missing",
        "tables-nan-index",
    ],
)
def test_malformed_json_is_rebuilt(
    tiny_osm: Path, fresh: Study, cached, damage: Callable[[Path], None], match: str
) -> None:
    root, entry = cached
    damage(entry)
    if "manifest" not in match:
        _reseal(entry)
    s = _open_expecting_rebuild(tiny_osm, root, match)
    _assert_identical(fresh, s)
    _assert_clean_hit(tiny_osm, root, fresh)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("report", "not a dict", "manifest report is not an object"),
        ("osm_summary", [1], "manifest osm_summary is not an object"),
        ("crs", {"a": 1}, "manifest crs is not a string"),
        ("format", 99, "manifest format 99"),
        ("settings", {}, "does not match the file or settings"),
    ],
)
def test_manifest_with_wrong_fields_is_rebuilt(
    tiny_osm: Path, fresh: Study, cached, field: str, value: object, match: str
) -> None:
    root, entry = cached
    m = _manifest(entry)
    m[field] = value
    (entry / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    s = _open_expecting_rebuild(tiny_osm, root, match)
    _assert_identical(fresh, s)


# --- 5. files renamed, missing or swapped --------------------------------------------


def _swap(entry: Path) -> None:
    a, t = entry / "arrays.npz", entry / "tables.json"
    data_a, data_t = a.read_bytes(), t.read_bytes()
    a.write_bytes(data_t)
    t.write_bytes(data_a)
    _reseal(entry)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda e: (e / "arrays.npz").rename(e / "arrays.npy"), "unexpected ['arrays.npy']"),
        (lambda e: (e / "tables.json").rename(e / "tables.txt"), "missing ['tables.json']"),
        (lambda e: (e / "manifest.json").rename(e / "m.json"), "missing ['manifest.json']"),
        (lambda e: (e / "tables.json").unlink(), "missing ['tables.json']"),
        (_swap, "arrays.npz is not an .npz archive"),
    ],
    ids=["npz-renamed", "tables-renamed", "manifest-renamed", "tables-deleted", "swapped"],
)
def test_renamed_or_swapped_files_are_rebuilt(
    tiny_osm: Path, fresh: Study, cached, damage: Callable[[Path], None], match: str
) -> None:
    root, entry = cached
    damage(entry)
    s = _open_expecting_rebuild(tiny_osm, root, match)
    _assert_identical(fresh, s)
    _assert_clean_hit(tiny_osm, root, fresh)


# --- 6. manifests and links pointing outside the entry folder ------------------------


@pytest.fixture
def open_spy(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every path opened through open/io.open/os.open during the test."""
    seen: list[Path] = []
    real_open, real_io_open, real_os_open = builtins.open, io.open, os.open

    def spy_open(file, *args, **kwargs):
        if isinstance(file, str | bytes | os.PathLike):
            seen.append(Path(os.fsdecode(file)).resolve())
        return real_open(file, *args, **kwargs)

    def spy_os_open(path, *args, **kwargs):
        seen.append(Path(os.fsdecode(path)).resolve())
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    assert real_io_open is real_open
    return seen


@pytest.mark.parametrize("kind", ["dotdot", "dotdot-extra", "absolute"])
def test_manifest_pointing_outside_is_not_followed(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached, open_spy: list[Path], kind: str
) -> None:
    root, entry = cached
    outside = tmp_path / "outside"
    outside.mkdir()
    for n in ("arrays.npz", "tables.json"):
        shutil.copy(entry / n, outside / n)
    rel = os.path.relpath(outside, entry)
    assert rel.startswith("..")
    names = {
        "dotdot": [f"{rel}/arrays.npz", f"{rel}/tables.json"],
        "dotdot-extra": ["arrays.npz", "tables.json", f"{rel}/arrays.npz"],
        "absolute": [str(outside / "arrays.npz"), str(outside / "tables.json")],
    }[kind]
    m = _manifest(entry)
    # valid checksums of whatever each name points at, as a hostile writer would make them
    m["files"] = {
        n: {"sha256": file_sha256(entry / n), "bytes": (entry / n).stat().st_size} for n in names
    }
    (entry / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    open_spy.clear()
    s = _open_expecting_rebuild(tiny_osm, root, "manifest lists files")
    assert not [p for p in open_spy if p.parent == outside]
    assert sorted(p.name for p in outside.iterdir()) == ["arrays.npz", "tables.json"]
    _assert_identical(fresh, s)


def test_data_file_symlinked_outside_is_refused(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached
) -> None:
    root, entry = cached
    outside = tmp_path / "outside.npz"
    shutil.move(entry / "arrays.npz", outside)
    try:
        (entry / "arrays.npz").symlink_to(outside)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks are not available here")
    _reseal(entry)  # checksum of the link target: it matches
    s = _open_expecting_rebuild(tiny_osm, root, "symbolic link")
    assert outside.is_file()  # the rebuild removed the link, not its target
    _assert_identical(fresh, s)


def test_entry_folder_symlinked_outside_is_refused(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached
) -> None:
    root, entry = cached
    outside = tmp_path / "elsewhere"
    shutil.move(entry, outside)
    try:
        entry.symlink_to(outside, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks are not available here")
    s = _open_expecting_rebuild(tiny_osm, root, "not a folder")
    assert sorted(p.name for p in outside.iterdir()) == sorted(ENTRY_FILES)
    assert not _only_entry(root).is_symlink()
    _assert_identical(fresh, s)
