"""Hostile or damaged network-cache entries: never executed, never a traceback, always rebuilt.

Whoever can write to the cache folder can also rewrite the manifest's checksums,
so most tests here "reseal" the manifest after tampering: the checksums then
match and it is the format itself (npz without pickle, strict JSON, fixed file
names, schema checks) that has to refuse the entry.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import os
import pickle
import shutil
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal

from gcgeo.cache import CacheWarning, cache_key, file_sha256, study_settings
from gcgeo.catalogue import load_catalogue
from gcgeo.cli import main
from gcgeo.study import Study, open_study

ENTRY_FILES = {"arrays.npz", "manifest.json", "tables.json"}


# --- helpers -------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates ``marker``: proof that code from the cache ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _evil_pickle(marker: Path) -> bytes:
    return pickle.dumps({"edges": _Payload(marker)}, protocol=pickle.HIGHEST_PROTOCOL)


def _entries(root: Path) -> list[Path]:
    d = root / "networks"
    return (
        sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
        if d.is_dir()
        else []
    )


def _only_entry(root: Path) -> Path:
    (entry,) = _entries(root)
    return entry


def _manifest(entry: Path) -> dict:
    return json.loads((entry / "manifest.json").read_text(encoding="utf-8"))


def _reseal(entry: Path, names: list[str] | None = None) -> None:
    """Rewrite the manifest's checksums for ``names`` (default: every data file present)."""
    m = _manifest(entry)
    if names is None:
        names = sorted(p.name for p in entry.iterdir() if p.name != "manifest.json")
    m["files"] = {
        n: {
            "sha256": hashlib.sha256((entry / n).read_bytes()).hexdigest(),
            "bytes": (entry / n).stat().st_size,
        }
        for n in names
    }
    (entry / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def _assert_identical(a: Study, b: Study) -> None:
    """Same frames, dtypes, CRSs, missing values and exact geometry."""
    for name in ("nodes", "edges"):
        fa, fb = getattr(a.network, name), getattr(b.network, name)
        assert_geodataframe_equal(fa, fb, check_dtype=True, check_crs=True)
        assert fa.geometry.geom_equals_exact(fb.geometry, 0).all()
    for c in ("name", "access", "foot", "sidewalk"):
        ta = [type(x) for x in a.network.edges[c]]
        assert ta == [type(x) for x in b.network.edges[c]], c
    assert_geodataframe_equal(a.facilities, b.facilities, check_dtype=True, check_crs=True)
    assert a.facilities.geometry.geom_equals_exact(b.facilities.geometry, 0).all()
    ra, rb = a.network.residential, b.network.residential
    assert_geoseries_equal(ra, rb, check_dtype=True, check_crs=True)
    assert ra.geom_equals_exact(rb, 0).all()
    assert a.network.crs == b.network.crs
    assert {k: v for k, v in a.network.report.items() if k != "source_file"} == {
        k: v for k, v in b.network.report.items() if k != "source_file"
    }
    assert (a.network.graph != b.network.graph).nnz == 0


def _open_expecting_rebuild(osm: Path, root: Path, match: str) -> Study:
    """Open once: exactly one CacheWarning matching ``match``, a miss, a clean new entry."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = open_study(osm, cache=root)
    cw = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(cw) == 1, [str(w.message) for w in cw]
    msg = str(cw[0].message)
    assert "rebuilding" in msg and match in msg, msg
    assert s.meta["cache"]["hit"] is False
    entry = _only_entry(root)
    assert {p.name for p in entry.iterdir()} == ENTRY_FILES
    return s


def _assert_clean_hit(osm: Path, root: Path, fresh: Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        again = open_study(osm, cache=root)
    assert again.meta["cache"]["hit"] is True
    _assert_identical(fresh, again)


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


# --- sanity of the fixtures ----------------------------------------------------------


def test_cached_entry_round_trips_exactly(tiny_osm: Path, fresh: Study, cached) -> None:
    root, entry = cached
    assert {p.name for p in entry.iterdir()} == ENTRY_FILES
    hit = open_study(tiny_osm, cache=root)
    assert hit.meta["cache"]["hit"] is True
    _assert_identical(fresh, hit)
    # the tiny grid has str, all-None object and str-with-NaN text columns: all kept
    assert str(hit.network.edges["highway"].dtype) == "str"
    assert hit.network.edges["name"].tolist() == [None] * 24
    assert hit.network.edges["access"].isna().sum() == 21
    with np.load(entry / "arrays.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_planted_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    pickle.loads(_evil_pickle(marker))
    assert marker.exists()


# --- 1. pickles: tables.pkl in a current entry, and old format-1 entries --------------


def test_planted_tables_pkl_is_never_unpickled(
    tiny_osm: Path, tmp_path: Path, fresh: Study, cached
) -> None:
    root, entry = cached
    marker = tmp_path / "PWNED"
    (entry / "tables.pkl").write_bytes(_evil_pickle(marker))
    _reseal(entry)  # the manifest now vouches for the pickle too
    assert "tables.pkl" in _manifest(entry)["files"]
    s = _open_expecting_rebuild(tiny_osm, root, "tables.pkl")
    assert not marker.exists()
    _assert_identical(fresh, s)
    assert not (_only_entry(root) / "tables.pkl").exists()
    _assert_clean_hit(tiny_osm, root, fresh)
    assert not marker.exists()


def test_old_format_1_pickle_entry_is_removed_unread(
    tiny_osm: Path, tmp_path: Path, fresh: Study
) -> None:
    """An entry as gcgeo wrote it before (format 1, tables.pkl, valid checksums)."""
    root = tmp_path / "c"
    marker = tmp_path / "PWNED"
    settings = {**study_settings(load_catalogue(), True, None, None), "format": 1}
    digest = file_sha256(tiny_osm)
    old = root / "networks" / cache_key(digest, settings)
    old.mkdir(parents=True)
    np.savez(old / "arrays.npz", nodes_x=np.zeros(3))
    (old / "tables.pkl").write_bytes(_evil_pickle(marker))
    (old / "manifest.json").write_text(
        json.dumps({"key": old.name, "format": 1, "osm_sha256": digest, "settings": settings}),
        encoding="utf-8",
    )
    _reseal(old)
    # the old (path, size, mtime) -> hash index is ignored too
    (root / "networks" / "files.json").write_text(
        json.dumps({str(tiny_osm.resolve()): {"sha256": "0" * 64}}), encoding="utf-8"
    )

    s = _open_expecting_rebuild(tiny_osm, root, "format 1")
    assert not marker.exists()
    assert not old.exists()
    _assert_identical(fresh, s)
    _assert_clean_hit(tiny_osm, root, fresh)


def test_cli_with_planted_pickle_warns_one_line_without_traceback(
    tiny_osm: Path, tmp_path: Path, cached
) -> None:
    root, entry = cached
    marker = tmp_path / "PWNED"
    (entry / "tables.pkl").write_bytes(_evil_pickle(marker))
    _reseal(entry)
    r = CliRunner().invoke(
        main,
        ["coverage", "--osm", str(tiny_osm), "--out", str(tmp_path / "o"), "--cache", str(root)],
    )
    assert r.exit_code == 0, r.output
    assert r.exception is None
    assert "Traceback" not in r.output
    warn = [ln for ln in r.stderr.replace("\r", "\n").splitlines() if ln.startswith("Warning:")]
    assert len(warn) == 1 and "tables.pkl" in warn[0]
    assert not marker.exists()


# --- 2. content edits that keep size and mtime (touch -r) ----------------------------


def test_touch_r_edit_is_detected(tiny_osm: Path, tmp_path: Path) -> None:
    root = tmp_path / "c"
    before = open_study(tiny_osm, cache=root)
    assert open_study(tiny_osm, cache=root).meta["cache"]["hit"] is True
    st = tiny_osm.stat()
    text = tiny_osm.read_text(encoding="utf-8")
    edited = text.replace('lon="117.8100000"', 'lon="117.8100500"', 1)
    assert edited != text and len(edited) == len(text)
    tiny_osm.write_text(edited, encoding="utf-8")
    os.utime(tiny_osm, ns=(st.st_atime_ns, st.st_mtime_ns))  # what `touch -r ref` does
    st2 = tiny_osm.stat()
    assert (st2.st_size, st2.st_mtime_ns) == (st.st_size, st.st_mtime_ns)

    after = open_study(tiny_osm, cache=root)
    assert after.meta["cache"]["hit"] is False
    assert len(_entries(root)) == 2
    # a different result: node 1 moved by 0.00005° of longitude
    lon = {
        "before": before.network.nodes.set_index("osmid").loc[1, "lon"],
        "after": after.network.nodes.set_index("osmid").loc[1, "lon"],
    }
    assert lon == {"before": pytest.approx(117.81), "after": pytest.approx(117.81005)}
    assert not np.array_equal(after.network.xy, before.network.xy)
    _assert_identical(open_study(tiny_osm), after)
    again = open_study(tiny_osm, cache=root)
    assert again.meta["cache"]["hit"] is True
    _assert_identical(after, again)
    assert not (root / "networks" / "files.json").exists()


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
                e, lambda d: d["edges"]["columns"]["highway"]["values"].__setitem__(0, 7)
            ),
            "neither text nor null",
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
