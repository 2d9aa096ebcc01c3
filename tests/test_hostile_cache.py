"""Hostile or damaged network-cache entries: never executed, never a traceback, always rebuilt.

Whoever can write to the cache folder can also rewrite the manifest's checksums,
so most tests here "reseal" the manifest after tampering: the checksums then
match and it is the format itself (npz without pickle, strict JSON, fixed file
names, schema checks) that has to refuse the entry. Here: pickles (planted and
from the old format 1), the CLI's one-line warning and content edits that keep
size and mtime; damage to the stored format itself is in ``test_cache_format.py``.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

# the _names are aliases: these tests are verbatim from the one-file test_hostile_cache.py
from cache_entries import ENTRY_FILES
from cache_entries import assert_clean_hit as _assert_clean_hit
from cache_entries import assert_identical as _assert_identical
from cache_entries import entries as _entries
from cache_entries import evil_pickle as _evil_pickle
from cache_entries import manifest as _manifest
from cache_entries import only_entry as _only_entry
from cache_entries import open_expecting_rebuild as _open_expecting_rebuild
from cache_entries import reseal as _reseal
from click.testing import CliRunner

from gcgeo.cache import cache_key, file_sha256, study_settings
from gcgeo.catalogue import load_catalogue
from gcgeo.cli import main
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
