"""Hostile outputs and faults: outputs onto inputs, read-only and full disks, paths that are
files or folders, over-long names, NaN/inf numbers, formula cells, SIGKILL mid-write.

Each test asserts the exact outcome: exit code 2 with one sentence naming the input (never a
traceback), or a correct result. Read-only and full file systems are real tmpfs mounts where
this machine allows mounting (CI runs as root); elsewhere the same OS error is raised at the
same call and the same outcome is asserted.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from osmxml import hand_grid, lonlat

from gcgeo._io import output_set, safe_filename, spreadsheet_safe, write_csv
from gcgeo.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def one_sentence_error(r, *words: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    lines = [ln for ln in r.output.strip().splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, r.output
    for w in words:
        assert w in lines[0], (w, lines[0])


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


@pytest.fixture
def points(tmp_path: Path) -> Path:
    lon, lat = lonlat(50, 5)
    p = tmp_path / "points.csv"
    p.write_text(f"id,lon,lat\nA,{lon:.7f},{lat:.7f}\n", encoding="utf-8")
    return p


# --------------------------------------------------------------------------- outputs onto inputs


def test_output_equal_to_input_is_refused_and_input_kept(town: Path, points: Path) -> None:
    before = digest(town)
    r = run("map", "--osm", str(town), "--category", "kindergarten", "--out", str(town),
            "--overwrite")  # fmt: skip
    one_sentence_error(r, str(town), "destroy the input")
    assert digest(town) == before
    before = digest(points)
    r = run("reach", "--osm", str(town), "--category", "kindergarten", "--points", str(points),
            "--out", str(points), "--overwrite")  # fmt: skip
    one_sentence_error(r, str(points), "destroy the input")
    assert digest(points) == before
    # the same file under another name (a hard link) is the same input
    link = points.parent / "same.csv"
    os.link(points, link)
    r = run("reach", "--osm", str(town), "--category", "kindergarten", "--points", str(points),
            "--out", str(link), "--overwrite")  # fmt: skip
    one_sentence_error(r, "destroy the input")


def test_output_set_inside_folder_keeps_inputs_there(town: Path, tmp_path: Path) -> None:
    """--out is the folder that holds the OSM input: the set is swapped in, the input stays."""
    out = tmp_path / "work"
    out.mkdir()
    osm = out / "town.osm"
    osm.write_bytes(town.read_bytes())
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    r = run("coverage", "--osm", str(osm), "--categories", "kindergarten", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert digest(osm) == digest(town) and (out / "notes.txt").read_text() == "mine"
    assert {"coverage.csv", "origins.gpkg", "run.json"} <= {p.name for p in out.iterdir()}


# --------------------------------------------------------------------------- OS errors


@contextmanager
def tmpfs(path: Path, size: str, readonly: bool = False) -> Iterator[bool]:
    """Mount a small tmpfs at ``path``; yields False when this machine does not allow it."""
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if readonly else "")
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                        capture_output=True).returncode == 0  # fmt: skip
    try:
        yield ok
    finally:
        if ok:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _raise_on_write(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Where no tmpfs can be mounted: the same OS error at the first write of an output."""
    real = Path.write_text

    def failing(self: Path, *a, **k):
        raise OSError(code, os.strerror(code), str(self))

    monkeypatch.setattr(Path, "write_text", failing)
    del real


@pytest.mark.parametrize("command", ["coverage", "report", "map"])
def test_read_only_folder(command: str, town: Path, tmp_path: Path, monkeypatch) -> None:
    ro = tmp_path / "ro"
    with tmpfs(ro, "1m", readonly=True) as mounted:
        if not mounted:
            _raise_on_write(monkeypatch, errno.EROFS)
        out = ro / ("m.html" if command == "map" else "out")
        extra = ["--category", "kindergarten"] if command == "map" else ["--categories",
                                                                          "kindergarten"]  # fmt: skip
        r = run(command, "--osm", str(town), *extra, "--out", str(out))
        one_sentence_error(r, "read-only", "--out")


@pytest.mark.parametrize("command", ["coverage", "report"])
def test_disk_full_leaves_nothing(command: str, town: Path, tmp_path: Path, monkeypatch) -> None:
    full = tmp_path / "full"
    with tmpfs(full, "48k") as mounted:
        if not mounted:
            _raise_on_write(monkeypatch, errno.ENOSPC)
        out = full / "out"
        r = run(command, "--osm", str(town), "--categories", "kindergarten", "--out", str(out))
        one_sentence_error(r, "disk is full")
        assert not out.exists()
        assert [p.name for p in full.iterdir() if p.name != "lost+found"] == []  # no temp left


def test_parent_is_a_file_target_is_a_folder_name_too_long(town: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = run("map", "--osm", str(town), "--category", "kindergarten", "--out",
            str(afile / "m.html"))  # fmt: skip
    one_sentence_error(r, "is a file, not a folder")
    r = run("coverage", "--osm", str(town), "--categories", "kindergarten", "--out", str(afile))
    one_sentence_error(r, str(afile), "is a file")  # click's own check of a folder option
    folder = tmp_path / "folder.html"
    folder.mkdir()
    r = run("map", "--osm", str(town), "--category", "kindergarten", "--out", str(folder))
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = run("map", "--osm", str(town), "--category", "kindergarten", "--out",
            str(tmp_path / ("长" * 120 + ".html")))  # fmt: skip
    one_sentence_error(r, "too long")


def test_generated_names_are_shortened_and_distinct() -> None:
    a, b = safe_filename("区" * 300 + "a", ".html"), safe_filename("区" * 300 + "b", ".html")
    assert a != b and a.endswith(".html") and len(a.encode()) <= 120
    assert safe_filename("../../etc/passwd") == "_.._etc_passwd"  # no separator, not hidden
    assert safe_filename("zone_east", ".html") == "zone_east.html"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "option,value,words",
    [
        ("--max-distance", "nan", ["--max-distance", "finite number of metres"]),
        ("--max-distance", "inf", ["finite number of metres"]),
        ("--speed", "nan", ["--speed", "m/s"]),
        ("--speed", "inf", ["m/s"]),
        ("--speed", "0", ["out of range"]),
        ("--max-snap", "-1", ["out of range", "metres"]),
        ("--cell", "abc", ["finite number of metres"]),
    ],
)
def test_numbers_are_finite_with_units(town: Path, tmp_path: Path, option, value, words) -> None:
    r = run("coverage", "--osm", str(town), "--categories", "kindergarten", option, value,
            "--out", str(tmp_path / "o"))  # fmt: skip
    assert r.exit_code == 2 and "Traceback" not in r.output
    for w in words:
        assert w in r.output, (w, r.output)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "minutes", ["nan", "5,inf", "0,5", ",".join(map(str, range(1, 20))), "500"]
)
def test_isochrone_minutes_checked_and_capped(town: Path, tmp_path: Path, minutes: str) -> None:
    lon, lat = lonlat(100, 100)
    r = run("isochrone", "--osm", str(town), "--at", f"{lon},{lat}", "--minutes", minutes,
            "--out", str(tmp_path / "i.geojson"))  # fmt: skip
    one_sentence_error(r, "--minutes")


# --------------------------------------------------------------------------- spreadsheets


def test_formula_cells_are_neutralised(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {"name": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "正常", None],
         "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0]}
    )  # fmt: skip
    safe = spreadsheet_safe(df)
    assert safe["name"].tolist()[:6] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)",
                                         "'\tx", "正常"]  # fmt: skip
    assert pd.isna(safe["name"].iloc[6])
    assert safe["value"].tolist() == df["value"].tolist()  # numbers are untouched
    write_csv(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert back["name"].iloc[0] == '\'=HYPERLINK("http://x")' and back["value"].iloc[0] == -1.5


def test_reach_csv_names_from_osm_are_neutralised(town: Path, points: Path, tmp_path: Path):
    b = hand_grid()
    b.nodes["K"] = (b.nodes["K"][0], 150.0, 20.0, {"amenity": "kindergarten",
                                                   "name": "=cmd|' /C calc'!A0"})  # fmt: skip
    osm = b.write(tmp_path / "evil.osm")
    out = tmp_path / "r.csv"
    r = run("reach", "--osm", str(osm), "--category", "kindergarten", "--points", str(points),
            "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    assert pd.read_csv(out, encoding="utf-8-sig")["facility_name"].iloc[0] == "'=cmd|' /C calc'!A0"


# --------------------------------------------------------------------------- atomic sets


def test_output_set_error_leaves_old_set(tmp_path: Path) -> None:
    out = tmp_path / "set"
    with output_set(out) as stage:
        (stage / "a.txt").write_text("old a")
        (stage / "b.txt").write_text("old b")
    with pytest.raises(RuntimeError), output_set(out) as stage:
        (stage / "a.txt").write_text("new a")
        raise RuntimeError("fails before b is written")
    assert (out / "a.txt").read_text() == "old a" and (out / "b.txt").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]  # staging removed


def _signature(out: Path) -> tuple | None:
    """What identifies a complete coverage set: its tables and the cell size it used."""
    import json

    names = {"coverage.csv", "coverage_by_area.csv", "origins.gpkg", "run.json"}
    if not out.exists():
        return None
    assert {p.name for p in out.iterdir()} == names, sorted(p.name for p in out.iterdir())
    run_json = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return ((out / "coverage.csv").read_bytes(), (out / "coverage_by_area.csv").read_bytes(),
            run_json["outputs"], len(__import__("geopandas").read_file(out / "origins.gpkg", layer="origins")))  # fmt: skip


def _gcgeo(*args: str) -> list[str]:
    return [sys.executable, "-c", "from gcgeo.cli import main; main()", *args]


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of an output set (sub-folders such as a report's maps/ included)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


@pytest.mark.parametrize("command", ["coverage", "report"])
def test_sigkill_leaves_old_or_new_set(command: str, town: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = [command, "--osm", str(town), "--categories", "kindergarten", "--no-cache"]
    old_args, new_args = [*base, "--cell", "100"], [*base, "--cell", "50"]
    env = {**os.environ, "GCGEO_CACHE_DIR": str(tmp_path / "cache")}
    ref_new = tmp_path / "ref_new"
    subprocess.run(_gcgeo(*new_args, "--out", str(ref_new)), check=True, env=env,
                   capture_output=True)  # fmt: skip
    subprocess.run(_gcgeo(*old_args, "--out", str(out)), check=True, env=env, capture_output=True)

    def state() -> str:
        files, new = _files(out), _files(ref_new)
        if command == "coverage":
            same_new = files["coverage_by_area.csv"] == new["coverage_by_area.csv"]
        else:
            same_new = files["coverage_by_area.csv"] == new["coverage_by_area.csv"]
        assert set(files) == set(new), sorted(files)
        return "new" if same_new else "old"

    old_files = _files(out)
    seen = set()
    for delay in (0.0, 0.05, 0.2, 0.5, None):
        proc = subprocess.Popen(_gcgeo(*new_args, "--out", str(out), "--overwrite"), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        if delay is None:
            proc.wait(timeout=120)
        else:
            # wait until the staging folder exists (the set is being written), then kill
            t0 = time.monotonic()
            while time.monotonic() - t0 < 60 and proc.poll() is None:
                if any(".gcgeo-" in p.name for p in tmp_path.iterdir()):
                    break
                time.sleep(0.005)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        s = state()
        if s == "old":
            assert _files(out) == old_files
        seen.add(s)
    assert "new" in seen  # the last run completes
    # a later run removes what the killed ones left
    subprocess.run(_gcgeo(*old_args, "--out", str(out), "--overwrite"), check=True, env=env,
                   capture_output=True)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_sigterm_cleans_up(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(_gcgeo("report", "--osm", str(town), "--no-cache", "--out", str(out)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and proc.poll() is None:
        if any(".gcgeo-" in p.name for p in tmp_path.iterdir()):
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # it finished first: the set is whole
        assert (out / "index.html").exists()
    else:
        assert proc.returncode == 143 and "Terminated" in err and "Traceback" not in err
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_report_file_name_from_a_300_character_area_code() -> None:
    from gcgeo.report import report_filename as _filename

    long_a, long_b = _filename("zone", "x" * 300, set()), _filename("zone", "x" * 299 + "y", set())
    assert long_a != long_b and len(long_a.encode()) < 255 and long_a.endswith(".html")
    assert _filename("zone", "east", set()) == "zone_east.html"
