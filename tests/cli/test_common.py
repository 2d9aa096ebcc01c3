"""What every command shares: one-sentence errors with exit 2, --overwrite, --layers checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from osmxml import OSMBuilder

from cli.cliutil import _assert_usage_error, _points_csv, run


def test_bad_inputs_exit_2_one_sentence_no_output(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv")
    out = tmp_path / "never.csv"
    base = ["--points", str(pts), "--category", "kindergarten", "--out", str(out)]
    _assert_usage_error(
        run("reach", "--osm", str(tmp_path / "missing.osm"), *base), "missing.osm", "does not exist"
    )
    notosm = tmp_path / "notes.osm"
    notosm.write_text("<html>nope</html>", encoding="utf-8")
    _assert_usage_error(run("reach", "--osm", str(notosm), *base), "notes.osm", "not OSM")
    cut = tmp_path / "cut.osm"
    cut.write_text(town.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    _assert_usage_error(run("reach", "--osm", str(cut), *base), "cut.osm", "truncated")
    b = OSMBuilder()
    b.node("a", 0, 0)
    b.node("b", 500, 0)
    b.way(["a", "b"], highway="motorway")
    _assert_usage_error(
        run("reach", "--osm", str(b.write(tmp_path / "mw.osm")), *base), "No walkable street"
    )
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(pts),
            "--category",
            "schools",
            "--out",
            str(out),
        ),
        "Unknown category 'schools'",
    )
    swapped = _points_csv(tmp_path / "swapped.csv", far=False, swap=True)
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(swapped),
            "--category",
            "kindergarten",
            "--out",
            str(out),
        ),
        "swapped.csv",
        "swap",
    )
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("name,x,y\na,1,2\n", encoding="utf-8")
    _assert_usage_error(
        run(
            "reach",
            "--osm",
            str(town),
            "--points",
            str(nocols),
            "--category",
            "kindergarten",
            "--out",
            str(out),
        ),
        "nocols.csv",
        "id",
    )
    assert not out.exists()


def test_existing_output_needs_overwrite(town: Path, tmp_path: Path) -> None:
    pts = _points_csv(tmp_path / "pts.csv")
    out = tmp_path / "mine.csv"
    out.write_text("planner's own file\n", encoding="utf-8")
    args = [
        "reach",
        "--osm",
        str(town),
        "--points",
        str(pts),
        "--category",
        "kindergarten",
        "--out",
        str(out),
    ]
    _assert_usage_error(run(*args), "mine.csv", "--overwrite")
    assert out.read_text(encoding="utf-8") == "planner's own file\n"
    assert run(*args, "--overwrite").exit_code == 0
    assert "distance_m" in out.read_text(encoding="utf-8-sig")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]  # no temp left


@pytest.mark.parametrize(
    "args",
    [
        ["coverage", "--out", "o"],
        ["report", "--out", "o"],
        ["map", "--category", "kindergarten", "--out", "m.html"],
    ],
)
def test_missing_layers_folder_is_one_line_exit_2(town: Path, tmp_path: Path, args: list) -> None:
    args = [a if a not in ("o", "m.html") else str(tmp_path / a) for a in args]
    r = run(*args, "--osm", str(town), "--layers", str(tmp_path / "no_such_layers"))
    _assert_usage_error(r, "no_such_layers", "check --layers")
    assert not (tmp_path / "o").exists() and not (tmp_path / "m.html").exists()
