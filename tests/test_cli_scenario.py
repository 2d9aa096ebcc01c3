"""CLI: gcgeo scenario / deadends / suggest on the hand-checked town (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from gridosm import lonlat, two_blocks

from gcgeo.cli import main


@pytest.fixture
def town(tmp_path: Path) -> Path:
    b = two_blocks()
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    return b.write(tmp_path / "town.osm")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def _scenario(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(body, encoding="utf-8")
    return p


def _ll(x: float, y: float) -> str:
    lon, lat = lonlat(x, y)
    return f"[{lon:.7f}, {lat:.7f}]"


def _one_line_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    for n in needles:
        assert n in lines[0], lines[0]


def test_scenario_cli_two_scenarios(town: Path, tmp_path: Path) -> None:
    lon, lat = lonlat(0, 190)
    s1 = _scenario(
        tmp_path,
        "kg",
        f'name = "<b>西区</b>"\n[[add_facility]]\ncategory = "kindergarten"\nlon = {lon}\nlat = {lat}\n',
    )
    s2 = _scenario(
        tmp_path,
        "link",
        f'name = "连通"\n[[add_link]]\nconnect = [{_ll(150, 200)}, {_ll(250, 200)}]\n',
    )
    out = tmp_path / "out"
    args = ["scenario", str(s1), str(s2), "--osm", str(town), "--out", str(out),
            "--categories", "kindergarten", "--origin-rule", "all", "--cell", "50"]  # fmt: skip
    r = run(*args)
    assert r.exit_code == 0, r.output
    delta = pd.read_csv(out / "delta.csv", encoding="utf-8-sig")
    assert "<b>西区</b>:gained" in delta.columns and "连通:gained" in delta.columns
    assert delta["<b>西区</b>:gained"].iloc[0] > delta["连通:gained"].iloc[0] > 0
    changes = gpd.read_file(out / "origins_delta.gpkg")
    assert set(changes["scenario"]) == {"<b>西区</b>", "连通"} and set(changes["change"]) == {
        "gained"
    }
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;西区&lt;/b&gt;" in page and "<b>西区" not in page
    assert "<!-- gcgeo:map -->" in page
    # the delta map is embedded, offline (Leaflet inlined, no CDN scripts or tiles)
    assert 'class="gcgeo-map"' in page and "L.map(" in page
    assert "<script src=" not in page and "tile.openstreetmap.org" not in page
    assert page.count("新增可达 gained reach") >= 1
    # no clobbering without --overwrite
    _one_line_error(run(*args), "already exists", "--overwrite")
    assert run(*args, "--overwrite", "--json").exit_code == 0


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ('name = "x"\n[[add_facility]]\ncategory = "casino"\nlon = 117.8\nlat = 36.0\n',
         ["line 2", "'category'", "casino"]),
        ('name = "x"\n[[add_link]]\nconnect = [[117.5, 36.0], [117.8, 36.0]]\n',
         ["line 2", "add_link", "'connect'", "beyond"]),
        ('name = "x"\n[[add_link]\n', ["not valid TOML", "line 2"]),
        ('name = "x"\n[[add_facility]]\nplanned = "PF-404"\n', ["line 2", "'PF-404'"]),
    ],
)  # fmt: skip
def test_scenario_cli_bad_files_exit_2(town: Path, tmp_path: Path, body, needles) -> None:
    planned = tmp_path / "planned.geojson"
    gpd.GeoDataFrame(
        {"id": ["PF-1"], "category": ["kindergarten"]},
        geometry=gpd.points_from_xy([117.8], [36.0]),
        crs="EPSG:4326",
    ).to_file(planned, driver="GeoJSON")
    bad = _scenario(tmp_path, "bad", body)
    r = run("scenario", str(bad), "--osm", str(town), "--out", str(tmp_path / "o"),
            "--planned", str(planned), "--origin-rule", "all")  # fmt: skip
    _one_line_error(r, "bad.toml", *needles)
    assert not (tmp_path / "o" / "delta.csv").exists()


def test_deadends_cli(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "de"
    r = run("deadends", "--osm", str(town), "--out", str(out), "--category", "kindergarten",
            "--origin-rule", "all", "--cell", "50", "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["dead_ends"] == 2 and data["excluded_at_edge"] == 1 and data["candidate_links"] == 1
    table = pd.read_csv(out / "deadends.csv", encoding="utf-8-sig")
    assert table["rank"].tolist() == [1] and table["link_m"].iloc[0] == pytest.approx(100, abs=0.05)
    assert "gained_kindergarten" in table.columns
    gj = gpd.read_file(out / "deadends.geojson")
    assert gj.crs.to_epsg() == 4326 and gj.geom_type.tolist() == ["LineString"]
    r = run("deadends", "--osm", str(town), "--out", str(out), "--category", "nope")
    _one_line_error(r, "'nope'")


def test_suggest_cli(town: Path, tmp_path: Path) -> None:
    out = tmp_path / "sg"
    cands = tmp_path / "cands.csv"
    rows = [("p1", *lonlat(0, 190)), ("p2", *lonlat(100, 400))]
    pd.DataFrame(rows, columns=["id", "lon", "lat"]).to_csv(cands, index=False)
    r = run("suggest", "--osm", str(town), "--out", str(out), "--category", "kindergarten",
            "--count", "1", "--candidates", str(cands), "--origin-rule", "all", "--cell", "50")  # fmt: skip
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "suggestions.csv", encoding="utf-8-sig")
    assert s["id"].tolist() == ["p1"] and s["pick"].tolist() == [1]
    assert gpd.read_file(out / "suggestions.geojson").crs.to_epsg() == 4326
    r = run("suggest", "--osm", str(town), "--out", str(tmp_path / "x"), "--category",
            "kindergarten", "--count", "1", "--within", "Z9")  # fmt: skip
    _one_line_error(r, "--within", "'Z9'")
