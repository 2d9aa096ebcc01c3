"""``gcgeo scenario`` on the two-block town (CliRunner)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from osmxml import lonlat

from cli.cliutil import _ll, _one_line_error, _scenario, _unescape_js, run


def test_scenario_cli_two_scenarios(blocks_town: Path, tmp_path: Path) -> None:
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
    args = ["scenario", str(s1), str(s2), "--osm", str(blocks_town), "--out", str(out),
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
    # the table names categories in Chinese; the map draws what each scenario adds
    assert "<td class='l'>幼儿园/托儿所 Kindergarten / nursery</td>" in page
    assert "nan%" not in page
    shown = _unescape_js(page)
    assert shown.count('"新增设施与连接 Added facilities and links · ') == 2  # one layer each
    assert "L.polyline(" in page and "新增连接 added link" in shown
    assert "新增设施 added facility" in shown
    # the streets before and after (the first scenario's most-changed category), after shown
    assert '"幼儿园/托儿所 Kindergarten / nursery 步行时间 之前 before"' in shown
    assert '"幼儿园/托儿所 Kindergarten / nursery 步行时间 之后 after"' in shown
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
def test_scenario_cli_bad_files_exit_2(blocks_town: Path, tmp_path: Path, body, needles) -> None:
    planned = tmp_path / "planned.geojson"
    gpd.GeoDataFrame(
        {"id": ["PF-1"], "category": ["kindergarten"]},
        geometry=gpd.points_from_xy([117.8], [36.0]),
        crs="EPSG:4326",
    ).to_file(planned, driver="GeoJSON")
    bad = _scenario(tmp_path, "bad", body)
    r = run("scenario", str(bad), "--osm", str(blocks_town), "--out", str(tmp_path / "o"),
            "--planned", str(planned), "--origin-rule", "all")  # fmt: skip
    _one_line_error(r, "bad.toml", *needles)
    assert not (tmp_path / "o" / "delta.csv").exists()
