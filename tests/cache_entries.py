"""Helpers for the tests that damage or plant network-cache entries.

Shared by ``test_hostile_cache.py`` and ``test_cache_format.py``. Whoever can
write to the cache folder can also rewrite the manifest's checksums, so
:func:`reseal` does that after tampering: the checksums then match and it is
the format itself that has to refuse the entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from geopandas.testing import assert_geodataframe_equal, assert_geoseries_equal

from gcgeo.cache import CacheWarning
from gcgeo.study import Study, open_study

__all__ = [
    "ENTRY_FILES",
    "Payload",
    "assert_clean_hit",
    "assert_identical",
    "entries",
    "evil_pickle",
    "manifest",
    "only_entry",
    "open_expecting_rebuild",
    "reseal",
]

ENTRY_FILES = {"arrays.npz", "manifest.json", "tables.json"}


class Payload:
    """Unpickling this creates ``marker``: proof that code from the cache ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def evil_pickle(marker: Path) -> bytes:
    return pickle.dumps({"edges": Payload(marker)}, protocol=pickle.HIGHEST_PROTOCOL)


def entries(root: Path) -> list[Path]:
    d = root / "networks"
    return (
        sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith("."))
        if d.is_dir()
        else []
    )


def only_entry(root: Path) -> Path:
    (entry,) = entries(root)
    return entry


def manifest(entry: Path) -> dict:
    return json.loads((entry / "manifest.json").read_text(encoding="utf-8"))


def reseal(entry: Path, names: list[str] | None = None) -> None:
    """Rewrite the manifest's checksums for ``names`` (default: every data file present)."""
    m = manifest(entry)
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


def assert_identical(a: Study, b: Study) -> None:
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
    ca, cb = a.network.contraction, b.network.contraction  # built, or stored and rebuilt
    for f in dataclasses.fields(ca):
        x, y = getattr(ca, f.name), getattr(cb, f.name)
        if f.name == "graph":
            assert x.shape == y.shape and (x != y).nnz == 0
        else:
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name


def open_expecting_rebuild(osm: Path, root: Path, match: str) -> Study:
    """Open once: exactly one CacheWarning matching ``match``, a miss, a clean new entry."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = open_study(osm, cache=root)
    cw = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(cw) == 1, [str(w.message) for w in cw]
    msg = str(cw[0].message)
    assert "rebuilding" in msg and match in msg, msg
    assert s.meta["cache"]["hit"] is False
    entry = only_entry(root)
    assert {p.name for p in entry.iterdir()} == ENTRY_FILES
    return s


def assert_clean_hit(osm: Path, root: Path, fresh: Study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        again = open_study(osm, cache=root)
    assert again.meta["cache"]["hit"] is True
    assert_identical(fresh, again)
