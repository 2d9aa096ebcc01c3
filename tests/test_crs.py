"""Tests for gcgeo.crs: published reference pairs, round trips measured in metres, edge cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from cli.cliutil import run_strict
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS, Geod

from gcgeo import InputError
from gcgeo.crs import (
    DEFAULT_CRS,
    SUPPORTED_GEOGRAPHIC,
    bd09_to_gcj02,
    bd09_to_wgs84,
    clear_transformers,
    convert_geometry_frame,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    project_geometries,
    reproject,
    to_wgs84,
    transform_coords,
    transformer,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# Published WGS-84 -> GCJ-02 test vectors of the eviltransform project
# (github.com/googollee/eviltransform, go/transform_test.go and python/test.py, MIT):
# (wgs_lon, wgs_lat, gcj_lon, gcj_lat)
EVILTRANSFORM_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

# Published example outputs in the README of wandergis/coordtransform (MIT), input
# (116.404, 39.915) for every function:
WANDERGIS_IN = (116.404, 39.915)
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
# wandergis' gcj02towgs84 is the one-step approximation (gcj - delta(gcj)), good to a few metres.
WANDERGIS_GCJ02_TO_WGS84_APPROX = (116.39775550083061, 39.91359571849836)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between two sets of points."""
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d)


def test_default_crs_is_cgcs2000_gk_117() -> None:
    crs = CRS.from_user_input(DEFAULT_CRS)
    assert "CGCS2000" in crs.name
    assert "117E" in crs.name.replace(" ", "")
    assert crs.is_projected


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_eviltransform(wlon, wlat, glon, glat) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-8)
    assert lat == pytest.approx(glat, abs=1e-8)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_recovers_eviltransform_input(wlon, wlat, glon, glat) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-7)
    assert lat == pytest.approx(wlat, abs=1e-7)
    assert metres(lon, lat, wlon, wlat) < 0.05


def test_wandergis_published_examples() -> None:
    lon, lat = WANDERGIS_IN
    assert bd09_to_gcj02(lon, lat) == pytest.approx(WANDERGIS_BD09_TO_GCJ02, abs=1e-9)
    assert gcj02_to_bd09(lon, lat) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-9)
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-9)


def test_iterative_inverse_beats_one_step_approximation() -> None:
    lon, lat = WANDERGIS_IN
    exact = gcj02_to_wgs84(lon, lat)
    approx = WANDERGIS_GCJ02_TO_WGS84_APPROX
    # both are close to each other (the approximation is good to a few metres) ...
    assert metres(*exact, *approx) < 5.0
    # ... but only the iterative one maps forward onto the input again.
    assert metres(*wgs84_to_gcj02(*exact), lon, lat) < 0.001
    assert metres(*wgs84_to_gcj02(*approx), lon, lat) > 0.03


def test_round_trip_grid_over_shandong_under_half_metre() -> None:
    lon, lat = np.meshgrid(np.linspace(114.8, 122.7, 40), np.linspace(34.4, 38.4, 25))
    lon, lat = lon.ravel(), lat.ravel()
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    err = metres(lon, lat, wlon, wlat)
    assert err.max() < 0.5
    assert np.max(np.abs(wlon - lon)) < 1e-7
    assert np.max(np.abs(wlat - lat)) < 1e-7
    # and the offset itself is real: a few hundred metres everywhere in Shandong
    shift = metres(lon, lat, glon, glat)
    assert shift.min() > 100 and shift.max() < 1000


def test_bd09_round_trip_grid() -> None:
    lon, lat = np.meshgrid(np.linspace(115, 122, 15), np.linspace(35, 38, 10))
    blon, blat = wgs84_to_bd09(lon.ravel(), lat.ravel())
    wlon, wlat = bd09_to_wgs84(blon, blat)
    # BD-09's inverse formula is itself an approximation (~1e-6 deg); stay well under 1 m.
    assert metres(lon.ravel(), lat.ravel(), wlon, wlat).max() < 1.0


def test_gangcheng_offset_is_about_530_m() -> None:
    # /work/shared/README.md: the GCJ-02 offset of the boundary here is about 530 m.
    glon, glat = wgs84_to_gcj02(117.8145, 36.0581)
    assert 450 < metres(117.8145, 36.0581, glon, glat) < 620


def test_out_of_china_points_unchanged() -> None:
    lon = np.array([24.94, -0.1276, 151.21, 117.8])
    lat = np.array([60.17, 51.5072, -33.87, 36.06])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, bd09_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon[:3], lon[:3])
        np.testing.assert_array_equal(out_lat[:3], lat[:3])
        assert out_lon[3] != lon[3]  # the Gangcheng point moves


def test_scalars_give_floats_and_arrays_keep_shape() -> None:
    lon, lat = wgs84_to_gcj02(117.8, 36.0)
    assert isinstance(lon, float) and isinstance(lat, float)
    arr_lon, arr_lat = gcj02_to_wgs84(np.array([117.8, 117.9, 118.0]), [36.0, 36.1, 36.2])
    assert arr_lon.shape == (3,) and arr_lat.shape == (3,)
    one_lon, _ = gcj02_to_wgs84(117.9, 36.1)
    assert arr_lon[1] == pytest.approx(one_lon, abs=1e-12)
    # inputs are not modified
    src = np.array([117.8, 117.9])
    wgs84_to_gcj02(src, np.array([36.0, 36.1]))
    np.testing.assert_array_equal(src, [117.8, 117.9])


def test_mismatched_shapes_raise_input_error() -> None:
    with pytest.raises(InputError, match="same length"):
        wgs84_to_gcj02([117.8, 117.9], [36.0, 36.1, 36.2])


@pytest.mark.parametrize("name", ["WGS84", "gcj02", "Bd09", " gcj02 "])
def test_to_wgs84_names_case_insensitive(name) -> None:
    lon, lat = to_wgs84(117.8, 36.0, name)
    expected = transform_coords(117.8, 36.0, name.strip().lower(), "wgs84")
    assert (lon, lat) == pytest.approx(expected)


def test_to_wgs84_gcj02_is_the_inverse() -> None:
    w = (117.8145, 36.0581)
    assert to_wgs84(*wgs84_to_gcj02(*w), "gcj02") == pytest.approx(w, abs=1e-7)
    assert to_wgs84(*wgs84_to_bd09(*w), "bd09") == pytest.approx(w, abs=1e-5)
    assert to_wgs84(*w, "wgs84") == pytest.approx(w)


@pytest.mark.parametrize("bad", ["utm", "EPSG:3857", "", "gcj"])
def test_unknown_crs_raises_input_error(bad) -> None:
    with pytest.raises(InputError) as info:
        to_wgs84(117.8, 36.0, bad)
    msg = str(info.value)
    assert repr(bad) in msg
    for name in SUPPORTED_GEOGRAPHIC:
        assert name in msg
    assert isinstance(info.value, ValueError)


def test_convert_geometry_frame_every_vertex_every_type() -> None:
    poly = shapely.Polygon(
        [(117.70, 36.00), (117.90, 36.00), (117.90, 36.20), (117.70, 36.20)],
        holes=[[(117.75, 36.05), (117.80, 36.05), (117.80, 36.10)]],
    )
    geoms = [
        shapely.Point(117.81, 36.05),
        shapely.LineString([(117.8, 36.0), (117.85, 36.1)]),
        shapely.MultiPolygon([poly, shapely.box(118.0, 36.0, 118.1, 36.1)]),
        None,
    ]
    gdf = gpd.GeoDataFrame({"k": [1, 2, 3, 4]}, geometry=geoms, crs="EPSG:4326", index=[9, 8, 7, 6])
    out = convert_geometry_frame(gdf, "gcj02", "wgs84")
    assert out is not gdf
    assert list(out.index) == [9, 8, 7, 6]
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[3] is None
    for before, after in zip(gdf.geometry.iloc[:3], out.geometry.iloc[:3], strict=True):
        assert before.geom_type == after.geom_type
        c0 = shapely.get_coordinates(before)
        c1 = shapely.get_coordinates(after)
        exp_lon, exp_lat = gcj02_to_wgs84(c0[:, 0], c0[:, 1])
        np.testing.assert_allclose(c1[:, 0], exp_lon, atol=1e-12)
        np.testing.assert_allclose(c1[:, 1], exp_lat, atol=1e-12)
    # the input frame is untouched
    assert gdf.geometry.iloc[0].equals(shapely.Point(117.81, 36.05))
    assert len(shapely.get_interior_ring(out.geometry.iloc[2].geoms[0], 0).coords) == 4


def test_convert_geometry_frame_rejects_projected_and_bad_names() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 4000000)], crs=DEFAULT_CRS)
    with pytest.raises(InputError, match="EPSG:4326"):
        convert_geometry_frame(gdf, "gcj02", "wgs84")
    ok = gpd.GeoDataFrame(geometry=[shapely.Point(117.8, 36.0)], crs="EPSG:4326")
    with pytest.raises(InputError, match="mars"):
        convert_geometry_frame(ok, "mars", "wgs84")


# --- the shared transformer ------------------------------------------------------------


def test_transformer_is_built_once_per_pair_of_crs_texts() -> None:
    a = transformer("EPSG:4326", DEFAULT_CRS)
    assert transformer("EPSG:4326", DEFAULT_CRS) is a
    assert transformer(CRS.from_user_input("EPSG:4326"), CRS(DEFAULT_CRS)) is a  # same texts
    back = transformer(DEFAULT_CRS, "EPSG:4326")
    assert back is not a
    # always_xy: lon/lat in, easting/northing out; CM 117E puts 117E at 500 km easting
    x, y = a.transform(117.0, 36.2)
    assert x == pytest.approx(500_000.0, abs=1e-6) and 3_900_000 < y < 4_100_000
    lon, lat = back.transform(x, y)
    assert (lon, lat) == (pytest.approx(117.0, abs=1e-9), pytest.approx(36.2, abs=1e-9))


def test_reproject_equals_to_crs_and_keeps_the_frame() -> None:
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(117.6, 117.95, 50), rng.uniform(36.0, 36.3, 50)
    geoms = np.concatenate(
        [
            shapely.points(lon[:20], lat[:20]),
            shapely.buffer(shapely.points(lon[20:], lat[20:]), 0.01),
        ]
    )
    gdf = gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(50)]},
        geometry=geoms,
        crs="EPSG:4326",
        index=range(100, 150),
    ).rename_geometry("shape")
    gdf.attrs["origin_rule"] = "residential"
    want = gdf.to_crs(DEFAULT_CRS)
    got = reproject(gdf, DEFAULT_CRS)
    assert_geodataframe_equal(got, want, check_crs=True)
    assert got.geometry.geom_equals_exact(want.geometry, 0).all()  # the very same coordinates
    assert got.geometry.name == "shape" and got.attrs == {"origin_rule": "residential"}
    assert gdf.crs == CRS("EPSG:4326")  # the input is untouched
    series = reproject(gdf.geometry, DEFAULT_CRS)
    assert isinstance(series, gpd.GeoSeries) and series.geom_equals_exact(want.geometry, 0).all()
    same = project_geometries(got.geometry.values, DEFAULT_CRS, DEFAULT_CRS)
    assert shapely.equals_exact(same, got.geometry.values, 0).all()
    with pytest.raises(ValueError, match="naive geometries"):
        reproject(gdf.set_crs(None, allow_override=True), DEFAULT_CRS)


def test_a_coverage_run_builds_the_wgs84_transformer_once(
    tiny_osm, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gcgeo's own projections of a run (network, residential areas, facilities, origins,
    zones, the district outline) share one transformer per pair: building one costs ~40 ms.
    (geopandas' ``to_crs`` keeps a cache of its own, which this does not see.)"""
    clear_transformers()
    built: list[tuple[str, str]] = []
    real = pyproj.Transformer.from_crs

    def counting(src, dst, *args, **kwargs):
        built.append((str(src), str(dst)))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(pyproj.Transformer, "from_crs", staticmethod(counting))
    r = run_strict("coverage", "--osm", str(tiny_osm), "--out", str(tmp_path / "o"), "--no-cache")
    assert r.exit_code == 0, r.output
    assert len(built) == len(set(built)), built
