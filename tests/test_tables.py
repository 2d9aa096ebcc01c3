"""Planners' own tables (gcgeo.tables.read_table): the same origins as a GBK 经度/纬度 CSV,
an Amap ``location`` CSV, an XLSX workbook and a GeoPackage read identically and give the
same ``gcgeo coverage --origins``; every refusal is one sentence naming the file (exit 2)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from osmxml import X0, Y0, hand_grid, lonlat

from gcgeo import InputError, settings
from gcgeo.cli import main
from gcgeo.crs import wgs84_to_gcj02
from gcgeo.tables import read_table

# homes in the hand-checked town (metres from X0, Y0) and their population
HOMES = [("H1", 50, 190, 120), ("H2", 190, -30, 80), ("007", 300, 0, 45), ("H4", 310, 290, 10)]
# to 7 decimals (about 1 cm), as planners' tables hold them (XLSX keeps ~15 digits only)
LL = np.round([lonlat(x, y) for _, x, y, _ in HOMES], 7)


def _frame(lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [h[0] for h in HOMES],
            "lon": lon,
            "lat": lat,
            "population": [h[3] for h in HOMES],
        }
    )


def gbk_csv(tmp: Path) -> Path:
    p = tmp / "居住点.csv"
    df = _frame(LL[:, 0], LL[:, 1]).rename(columns={"lon": "经度", "lat": "纬度"})
    df.to_csv(p, index=False, encoding="gbk")
    return p


def amap_csv(tmp: Path) -> Path:
    p = tmp / "amap.csv"
    df = _frame(LL[:, 0], LL[:, 1])
    df.insert(1, "location", [f"{float(a)!r},{float(b)!r}" for a, b in LL])
    df.drop(columns=["lon", "lat"]).to_csv(p, index=False)
    return p


def xlsx(tmp: Path) -> Path:
    p = tmp / "homes.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "LNG", "Latitude", "population"])
    for (hid, _, _, pop), (lon, lat) in zip(HOMES, LL, strict=True):
        ws.append([hid, float(lon), float(lat), pop])
    wb.save(p)
    return p


def gpkg(tmp: Path) -> Path:
    p = tmp / "homes.gpkg"
    df = _frame(LL[:, 0], LL[:, 1])
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["lon", "lat"]),
        geometry=shapely.points(LL[:, 0], LL[:, 1]),
        crs=settings.WGS84,
    )
    gdf.to_file(p, layer="homes")
    return p


def metres_csv(tmp: Path) -> Path:
    p = tmp / "metres.csv"
    xy = np.array([(X0 + x, Y0 + y) for _, x, y, _ in HOMES])
    _frame(xy[:, 0], xy[:, 1]).rename(columns={"lon": "x", "lat": "y"}).to_csv(p, index=False)
    return p


def gcj_csv(tmp: Path) -> Path:
    p = tmp / "gcj.csv"
    glon, glat = wgs84_to_gcj02(LL[:, 0], LL[:, 1])
    _frame(glon, glat).to_csv(p, index=False, sep=";")
    return p


def coverage(town: Path, origins: Path, out: Path, *extra: str):
    args = ["coverage", "--osm", str(town), "--categories", "kindergarten,primary_school",
            "--origins", str(origins), "--population", "population", "--out", str(out), *extra]  # fmt: skip
    return CliRunner().invoke(main, args)


def one_line(r) -> str:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.output, r.output
    return lines[0]


@pytest.fixture
def town(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "town.osm")


# --------------------------------------------------------------------------- same origins


def test_four_formats_read_identically(tmp_path: Path) -> None:
    frames = [read_table(f(tmp_path), what="Origins") for f in (gbk_csv, amap_csv, xlsx, gpkg)]
    first = frames[0]
    assert list(first.columns) == ["id", "population", "geometry"]
    assert list(first["id"]) == ["H1", "H2", "007", "H4"]  # ids stay text ("007")
    assert first.crs == settings.WGS84
    assert np.array_equal(shapely.get_coordinates(first.geometry.values), LL)
    for other in frames[1:]:
        pd.testing.assert_frame_equal(first, other)


def test_four_formats_give_the_same_coverage(town: Path, tmp_path: Path) -> None:
    tables = []
    for f in (gbk_csv, amap_csv, xlsx, gpkg):
        out = tmp_path / f"out_{f.__name__}"
        r = coverage(town, f(tmp_path), out)
        assert r.exit_code == 0, r.output
        summary = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
        origins = gpd.read_file(out / "origins.gpkg", layer="origins")
        tables.append((summary, origins))
    summary, origins = tables[0]
    assert list(summary["origins"]) == [4, 4]
    assert summary["share"].between(0, 1).all()
    for s, o in tables[1:]:
        pd.testing.assert_frame_equal(summary, s)
        pd.testing.assert_frame_equal(origins, o)


def test_declared_gcj02_and_epsg_metres_match_wgs84(town: Path, tmp_path: Path) -> None:
    base = read_table(gbk_csv(tmp_path), what="Origins")
    gcj = read_table(gcj_csv(tmp_path), what="Origins", crs="gcj02")
    metres = read_table(metres_csv(tmp_path), what="Origins", crs=settings.DEFAULT_CRS)
    for other in (gcj, metres):
        assert list(other.columns) == list(base.columns)
        assert np.allclose(shapely.get_coordinates(other.geometry.values), LL, atol=1e-7, rtol=0)
    ref = tmp_path / "ref"
    assert coverage(town, gbk_csv(tmp_path), ref).exit_code == 0
    want = pd.read_csv(ref / "coverage.csv", encoding="utf-8-sig")
    for path, crs in ((gcj_csv(tmp_path), "gcj02"), (metres_csv(tmp_path), "EPSG:4548")):
        out = tmp_path / f"out_{crs.replace(':', '')}"
        r = coverage(town, path, out, "--origins-crs", crs)
        assert r.exit_code == 0, r.output
        got = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
        pd.testing.assert_frame_equal(want.drop(columns="median_dist_m", errors="ignore"),
                                      got.drop(columns="median_dist_m", errors="ignore"),
                                      check_exact=False, atol=0.01)  # fmt: skip


def test_lon_col_lat_col_say_it_outright(tmp_path: Path) -> None:
    p = tmp_path / "odd.csv"
    df = _frame(LL[:, 0], LL[:, 1]).rename(columns={"lon": "E", "lat": "N"})
    df.to_csv(p, index=False, encoding="utf-8-sig")
    got = read_table(p, what="Origins", lon_col="E", lat_col="N")
    pd.testing.assert_frame_equal(got, read_table(gbk_csv(tmp_path), what="Origins"))


# --------------------------------------------------------------------------- refusals


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


def _cases(tmp: Path) -> list[tuple[Path, list[str], str]]:
    lon, lat = LL[0]
    no_lat = _write(tmp, "no_lat.csv", f"id,经度,population\nH1,{lon},1\n".encode("gbk"))
    bad = _write(tmp, "bad.csv", f"id,lon,lat\nH1,{lon},{lat}\nH2,abc,{lat}\n".encode())
    bad_loc = _write(tmp, "bad_loc.csv", b'id,location\nH1,"117.8"\n')
    empty = _write(tmp, "empty.csv", b"")
    header = _write(tmp, "header.csv", b"id,lon,lat\n")
    binary = _write(tmp, "binary.csv", b"id,lon,lat\nH1,117.8,36.0\n\x81\x20\xff\n")
    gcj_metres = metres_csv(tmp)
    projected = tmp / "projected.gpkg"
    read_table(gpkg(tmp), what="x").to_crs(settings.DEFAULT_CRS).to_file(projected)
    degrees = gbk_csv(tmp)
    x0, y0 = X0 + HOMES[0][1], Y0 + HOMES[0][2]
    return [
        (no_lat, [],
         f"Origins file {str(no_lat)!r} has no latitude column (found: id, 经度, population); "
         "name the columns lon/lng/longitude/经度/x and lat/latitude/纬度/y, or one Amap location "
         'column "lon,lat", or give --lon-col and --lat-col.'),
        (bad, [], f"Origins file {str(bad)!r} line 3: lon 'abc' is not a number; fix that row."),
        (bad_loc, [],
         f"Origins file {str(bad_loc)!r} line 2: location '117.8' is not \"lon,lat\" (two "
         "numbers and a comma); fix that row."),
        (empty, [], f"Origins file {str(empty)!r} is empty; add a header row and one row per "
         "place."),
        (header, [], f"Origins file {str(header)!r} has a header but no rows; add one row per "
         "place."),
        (binary, [], f"Origins file {str(binary)!r} is neither UTF-8 nor GBK/GB18030 text "
         "(undecodable byte at line 3); re-save it as UTF-8 CSV."),
        (gcj_metres, ["--origins-crs", "gcj02"],
         f"Origins file {str(gcj_metres)!r} line 2: ({x0:g}, {y0:g}) is not a GCJ-02 "
         "longitude/latitude in degrees; if they are projected metres, declare their coordinate "
         "system (such as EPSG:4548)."),
        (projected, ["--origins-crs", "gcj02"],
         f"Origins file {str(projected)!r} is in projected CGCS2000 / 3-degree Gauss-Kruger CM "
         "117E; GCJ-02 applies to longitude/latitude only, so do not declare it for this file."),
        (gcj_metres, [],
         f"Origins file {str(gcj_metres)!r} line 2: ({x0:g}, {y0:g}) is not a WGS-84 "
         "longitude/latitude in degrees; if they are projected metres, declare their coordinate "
         "system (such as EPSG:4548)."),
        (degrees, ["--origins-crs", "EPSG:4548"],
         f"Origins file {str(degrees)!r}: the coordinates look like degrees ({LL[0, 0]:g}, "
         f"{LL[0, 1]:g} in line 2), not metres of EPSG:4548; declare wgs84, gcj02 or bd09 "
         "instead."),
        (tmp / "nope.csv", [], f"Origins file {str(tmp / 'nope.csv')!r} does not exist; check the "
         "path."),
    ]  # fmt: skip


def test_every_refusal_is_one_sentence_with_exit_2(town: Path, tmp_path: Path) -> None:
    for path, extra, message in _cases(tmp_path):
        r = coverage(town, path, tmp_path / "out", *extra)
        assert one_line(r) == f"Error: {message}"
        crs = extra[1] if extra else "wgs84"
        with pytest.raises(InputError) as exc:
            read_table(path, what="Origins", crs=crs)
        assert str(exc.value) == message
    assert not (tmp_path / "out").exists()


def test_swapped_columns_and_unknown_crs(tmp_path: Path) -> None:
    p = tmp_path / "swapped.csv"
    _frame(LL[:, 1], LL[:, 0]).to_csv(p, index=False)
    with pytest.raises(InputError) as exc:
        read_table(p, what="Points")
    assert str(exc.value) == (
        f"Points file {str(p)!r} line 2: ({LL[0, 1]:g}, {LL[0, 0]:g}) is not a WGS-84 "
        "longitude/latitude in degrees; are the longitude and latitude columns swapped?"
    )
    with pytest.raises(InputError) as exc:
        read_table(p, what="Points", crs="baidu")
    assert str(exc.value) == (
        f"Unknown coordinate system 'baidu' for Points file {str(p)!r}; use wgs84, gcj02, bd09 "
        "or an EPSG code such as EPSG:4548."
    )
    with pytest.raises(InputError) as exc:
        read_table(p, what="Points", lon_col="lon", lat_col="北纬")
    assert str(exc.value) == (
        f"Points file {str(p)!r} has no column '北纬' (found: id, lon, lat, population); check "
        "--lat-col (the header is matched exactly)."
    )


def test_points_and_candidates_read_xlsx(town: Path, tmp_path: Path) -> None:
    p = xlsx(tmp_path)
    r = CliRunner().invoke(
        main, ["reach", "--osm", str(town), "--points", str(p), "--category", "kindergarten"]
    )
    assert r.exit_code == 0, r.output
    table = pd.read_csv(pd.io.common.StringIO(r.output), dtype={"id": str})
    assert list(table["id"]) == ["H1", "H2", "007", "H4"]
    r = CliRunner().invoke(
        main,
        ["suggest", "--osm", str(town), "--category", "kindergarten", "--count", "1",
         "--origin-rule", "all", "--candidates", str(amap_csv(tmp_path)), "--repeats", "0",
         "--out", str(tmp_path / "s")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    picks = pd.read_csv(tmp_path / "s" / "suggestions.csv", encoding="utf-8-sig")
    assert len(picks) == 1


def test_people_tables_are_rounded_machine_tables_exact(tmp_path) -> None:
    """Metres to 1 m, shares to 0.1 %, minutes to 0.1, degrees to 1e-7; exact keeps all."""
    import pandas as pd

    from gcgeo._io import write_csv

    df = pd.DataFrame(
        {
            "category": ["park"],
            "median_dist_m": [628.8653797226248],
            "share": [0.07712345],
            "share_park": [0.9999],
            "minutes": [7.8666],
            "lon": [117.81234567891],
            "origins": [1648],
            "ratio": [1.23456],
        }
    )
    write_csv(df, tmp_path / "people.csv")
    write_csv(df, tmp_path / "machine.csv", exact=True)
    people = (tmp_path / "people.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert people == "park,629.0,0.077,1.0,7.9,117.8123457,1648,1.23"
    machine = pd.read_csv(tmp_path / "machine.csv", encoding="utf-8-sig")
    assert machine["median_dist_m"].iloc[0] == 628.8653797226248
