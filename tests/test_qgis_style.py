"""QGIS styles in the GeoPackage: one row per style, read back, and rules that classify
exactly as the maps do.

The rules' filters are QGIS expressions that are also SQL, so SQLite (a second evaluator,
on the GeoPackage itself) counts the features each rule selects; the counts must equal
:func:`gcgeo.maps.base.minute_band` and the completeness classes computed with numpy.
(QGIS 3.22 from Debian, opened headless once, loaded these styles as the layers' defaults:
"Loaded from Provider", RuleRenderer, the same labels and colours.)
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from gcgeo._io import write_gpkg
from gcgeo.catalogue import load_catalogue
from gcgeo.maps.base import BAND_COLOURS, category_colour, minute_band
from gcgeo.qgis_style import coverage_styles, read_styles


def origins_frame() -> gpd.GeoDataFrame:
    minutes = np.array([0.0, 5.0, 5.01, 10.0, 12.5, 15.0, 15.5, 40.0, np.nan, np.nan])
    comp = np.array([1.0, 0.99, 0.75, 0.74, 0.5, 0.49, 0.25, 0.1, 0.0, np.nan])
    return gpd.GeoDataFrame(
        {"walk_kindergarten_min": minutes, "walk_park_min": minutes[::-1],
         "lc_completeness": comp},
        geometry=shapely.points(np.arange(10.0), np.zeros(10)),
        crs="EPSG:4548",
    )  # fmt: skip


def rules(qml: str) -> list[tuple[str, str, str]]:
    """(label, filter, colour hex) of a rule-based QML style."""
    root = ET.fromstring(qml.split("\n", 1)[1])
    colours = {}
    for sym in root.iter("symbol"):
        opt = {o.get("name"): o.get("value") for o in sym.iter("Option") if o.get("name")}
        rgba = opt.get("color") or opt.get("line_color")
        colours[sym.get("name")] = "#" + "".join(f"{int(v):02x}" for v in rgba.split(",")[:3])
    return [(r.get("label"), r.get("filter"), colours[r.get("symbol")]) for r in root.iter("rule")]


def test_styles_are_stored_and_classify_like_the_maps(tmp_path: Path) -> None:
    cat = load_catalogue()
    cats = cat.select(["kindergarten", "park"])
    origins = origins_frame()
    fac = gpd.GeoDataFrame(
        {"category": ["kindergarten", "park", "park"], "name": ["甲", "乙", "丙"]},
        geometry=shapely.points([0.0, 1, 2], [0.0, 0, 0]),
        crs="EPSG:4326",
    )
    path = tmp_path / "origins.gpkg"
    write_gpkg(origins, path, "origins", styles=coverage_styles(origins, cats),
               more_layers={"facilities": fac})  # fmt: skip
    names = [n for n, _ in pyogrio.list_layers(path)]
    assert {"origins", "facilities"} <= set(names)
    stored = read_styles(path)
    assert [(layer, default) for layer, _, default, _ in stored] == [
        ("origins", True), ("origins", False), ("origins", False), ("facilities", True)
    ]  # fmt: skip
    con = sqlite3.connect(path)
    try:
        # completeness: 1 | [.75, 1) | [.5, .75) | [.25, .5) | < .25 | NULL
        comp = rules(stored[0][3])
        got = [con.execute(f"SELECT count(*) FROM origins WHERE {f}").fetchone()[0]
               for _, f, _ in comp]  # fmt: skip
        assert got == [1, 2, 2, 2, 2, 1]
        # minutes: the same bands as minute_band, NULL (unreachable) included
        for style, col in ((stored[1], "walk_kindergarten_min"), (stored[2], "walk_park_min")):
            want = np.bincount(minute_band(origins[col].to_numpy()), minlength=5).tolist()
            mins = rules(style[3])
            got = [con.execute(f"SELECT count(*) FROM origins WHERE {f}").fetchone()[0]
                   for _, f, _ in mins]  # fmt: skip
            assert got == want and sum(got) == len(origins)
            assert [c for _, _, c in mins] == list(BAND_COLOURS)
        fac_rules = rules(stored[3][3])
        assert [c for _, _, c in fac_rules] == [category_colour("kindergarten"),
                                                category_colour("park")]  # fmt: skip
        got = [con.execute(f"SELECT count(*) FROM facilities WHERE {f}").fetchone()[0]
               for _, f, _ in fac_rules]  # fmt: skip
        assert got == [1, 2]
        assert con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone() == ("attributes",)
    finally:
        con.close()


def test_labels_from_data_are_escaped_xml(tmp_path: Path) -> None:
    """A catalogue name with XML/expression characters stays text in the QML."""
    from gcgeo.qgis_style import category_style

    style = category_style("facilities", [("o'neil", '<b>"x" & y</b>')])
    ((label, expr, _),) = rules(style.qml)
    assert label == '<b>"x" & y</b>'
    assert expr == "\"category\" = 'o''neil'"


def test_map_and_isochrone_geopackages_for_qgis(tmp_path: Path) -> None:
    """gcgeo map --gpkg and isochrone --out .gpkg: the planner's layer names, styled, with
    unreachable streets stored as NULL so the 'unreachable' rule (not '> 15') takes them."""
    from cli.cliutil import run
    from osmxml import hand_grid, lonlat

    town = hand_grid().write(tmp_path / "town.osm")
    gpkg = tmp_path / "kg.gpkg"
    r = run("map", "--osm", str(town), "--category", "kindergarten", "--out",
            str(tmp_path / "kg.html"), "--gpkg", str(gpkg))  # fmt: skip
    assert r.exit_code == 0, r.output
    assert {"streets_minutes", "facilities"} <= {n for n, _ in pyogrio.list_layers(gpkg)}
    styles = read_styles(gpkg)
    assert [(s[0], s[2]) for s in styles] == [("streets_minutes", True), ("facilities", True)]
    streets = gpd.read_file(gpkg, layer="streets_minutes")
    con = sqlite3.connect(gpkg)
    try:
        counts = [con.execute(f"SELECT count(*) FROM streets_minutes WHERE {f}").fetchone()[0]
                  for _, f, _ in rules(styles[0][3])]  # fmt: skip
    finally:
        con.close()
    want = np.bincount(minute_band(streets["walk_min"].to_numpy(dtype=float)), minlength=5)
    assert counts == want.tolist() and sum(counts) == len(streets)
    lon, lat = lonlat(300.0, 0.0)
    iso = tmp_path / "iso.gpkg"
    r = run("isochrone", "--osm", str(town), "--at", f"{lon},{lat}", "--out", str(iso))
    assert r.exit_code == 0, r.output
    assert {"isochrones", "start"} <= {n for n, _ in pyogrio.list_layers(iso)}
    assert read_styles(iso)[0][:3] == ("isochrones", "步行等时圈 isochrones", True)
