"""``gcgeo checkup`` on the demo: the files, their headers and labels, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gcgeo.demo import DEMO_LABEL, write_demo_osm

from .cliutil import run


@pytest.fixture(scope="module")
def demo_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("demo") / "demo.osm"
    write_demo_osm(p)
    return p


def test_checkup_on_the_demo(demo_osm: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "ck"
    r = run("checkup", "--osm", str(demo_osm), "--population-total", "308994", "--no-cache",
            "--docx", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    raw = (out / "checkup.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the Chinese
    t = pd.read_csv(out / "checkup.csv", encoding="utf-8-sig", dtype={"area_code": str})
    for col in ("indicator_id", "name_zh", "area_layer", "area_code", "basis", "value",
                "target", "pass", "radius_m", "source", "status"):  # fmt: skip
        assert col in t.columns, col
    assert set(t["area_layer"]) == {"district", "zone", "wing", "renewal_area"}
    assert (t["data_note"] == DEMO_LABEL).all()
    assert set(t["status"]) <= {"checked", "to_confirm"}
    values = t["value"].dropna()
    assert ((values >= 0) & (values <= 1)).all()
    life = t[(t["indicator_id"] == "life_circle_15min") & (t["area_layer"] == "district")]
    kg = t[(t["indicator_id"] == "kindergarten_coverage") & (t["area_layer"] == "district")]
    assert life["value"].iloc[0] <= kg["value"].iloc[0]  # all categories ≤ any one
    run_doc = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run_doc["population_source"] == "estimate" and run_doc["population_estimate"]
    assert run_doc["population_total"] == pytest.approx(308994)
    assert DEMO_LABEL in run_doc["label"]
    wb = load_workbook(out / "checkup.xlsx")
    assert wb.sheetnames == ["全区", "五区", "一体两翼", "更新片区"]
    ws = wb["全区"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["指标编号", "指标名称", "区域层级"] and "是否达标" in header
    assert ws.page_setup.orientation == "landscape" and ws.freeze_panes == "A2"
    from docx import Document

    doc = Document(str(out / "checkup.docx"))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"] == [
        "全区", "五区", "一体两翼", "更新片区"]  # fmt: skip
    assert doc.tables[0].rows[0].cells[0].text == "指标名称"
    assert any(DEMO_LABEL in p.text for p in doc.paragraphs)
    page = (out / "checkup.html").read_text(encoding="utf-8")
    assert DEMO_LABEL in page and "十五分钟生活圈达标率" in page
    short = pd.read_csv(out / "shortfall.csv", encoding="utf-8-sig", dtype={"area_code": str})
    d = short[(short["area_layer"] == "district")].set_index("indicator_id")
    k = d.loc["kindergarten_coverage"]
    assert k["facilities_needed"] == -(-k["population_beyond"] // k["residents_per_facility"])
    assert "life_circle_15min" not in d.index  # several categories: no single facility count


def test_population_basis_with_the_estimate(demo_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "ck"
    r = run("checkup", "--osm", str(demo_osm), "--population-total", "1000", "--basis",
            "population", "--no-cache", "--out", str(out))  # fmt: skip
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out / "checkup.csv", encoding="utf-8-sig")
    assert set(t["basis"]) == {"population"} and t["estimate"].all()
    # a later run with no population leaves no stale shortfall table behind
    r = run("checkup", "--osm", str(demo_osm), "--no-cache", "--overwrite", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(out / "shortfall.csv", encoding="utf-8-sig")) == 0
    assert (t["population_source"] == "estimate").all()
    d = t[t["area_layer"] == "district"]
    assert d["total"].round(3).eq(1000.0).all()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--basis", "population"], "no population was given"),
        (["--population-total", "10", "--population-raster", "x.tif"], "one population source"),
        (["--population-areas", "x.geojson"], "needs --population"),
        (["--population-total", "-5"], "--population-total"),
    ],
)
def test_refusals_are_one_sentence(demo_osm: Path, tmp_path: Path, extra, words) -> None:
    r = run("checkup", "--osm", str(demo_osm), "--no-cache", "--out", str(tmp_path / "o"), *extra)
    assert r.exit_code == 2, r.output
    assert words in r.output and "Traceback" not in r.output
