"""``gcgeo report --pdf --docx``: the printed reports (real Chromium, real python-docx).

The PDF is Chromium's print of print.html: the district summary on the first page, then one
A4 page per zone, wing and renewal area in layer order, each starting with its name. The
Word file holds the same tables (Chinese headers, the numbers people read) and one picture
per area.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from cli.cliutil import run
from osmxml import hand_grid

from gcgeo.layers import load_layer

AREAS = [
    (layer, str(r["name_zh"]))
    for layer in ("zones", "wings", "renewal_areas")
    for _, r in load_layer(layer).iterrows()
]
ARGS = ["--categories", "kindergarten,primary_school", "--cell", "100", "--origin-rule", "all"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("GCGEO_REQUIRE_BROWSER"):
            pytest.fail("GCGEO_REQUIRE_BROWSER is set but Chromium is missing.", pytrace=False)
        pytest.skip("no Chromium on this machine (apt-get install chromium); PDF test skipped")
    return exe


def test_pdf_is_the_summary_then_one_page_per_area(tmp_path: Path) -> None:
    from pypdf import PdfReader

    _chromium()
    town = hand_grid().write(tmp_path / "town.osm")
    out = tmp_path / "rep"
    r = run("report", "--osm", str(town), *ARGS, "--pdf", "--out", str(out))
    assert r.exit_code == 0, r.output
    pages = [p.extract_text() or "" for p in PdfReader(out / "report.pdf").pages]
    assert len(pages) == 1 + len(AREAS) == 12
    assert "全区汇总 District summary" in pages[0]
    for text, (_, name) in zip(pages[1:], AREAS, strict=True):
        assert text.lstrip().startswith(name), (name, text[:60])
    # the print has no interactive map, and each area page its print map's caption
    assert all("图 Figure" in t for t in pages[1:])


def test_pdf_without_chromium_stops_before_any_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GCGEO_CHROMIUM", str(tmp_path / "no-such-chromium"))
    town = hand_grid().write(tmp_path / "town.osm")
    out = tmp_path / "rep"
    r = run("report", "--osm", str(town), *ARGS, "--pdf", "--out", str(out))
    assert r.exit_code == 2
    assert "apt-get install chromium" in r.output and "GCGEO_CHROMIUM" in r.output
    assert not out.exists()


def test_docx_holds_the_tables_and_one_picture_per_area(tmp_path: Path) -> None:
    import docx

    town = hand_grid().write(tmp_path / "town.osm")
    out = tmp_path / "rep"
    r = run("report", "--osm", str(town), *ARGS, "--docx", "--out", str(out))
    assert r.exit_code == 0, r.output
    doc = docx.Document(str(out / "report.docx"))
    assert len(doc.inline_shapes) == len(AREAS)  # one print map per area
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "全区汇总 District summary"
    assert [h.split()[0] for h in headings[1:]] == [name for _, name in AREAS]
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert len(captions) == len(AREAS) and captions[0].startswith("图 1 Figure 1")
    # the district table: Chinese headers, shares as people read them, equal to coverage.csv
    table = doc.tables[0]
    head = [c.text for c in table.rows[0].cells]
    assert head[0] == "类别 Category" and any(h.startswith("覆盖率 Share") for h in head)
    share_col = next(k for k, h in enumerate(head) if h.startswith("覆盖率"))
    cov = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig").set_index("category")
    kg = next(row for row in table.rows[1:] if row.cells[0].text.startswith("幼儿园"))
    assert kg.cells[share_col].text == f"{cov.loc['kindergarten', 'share']:.1%}"
    # every area with origins has its own table; an empty one says so instead
    texts = "\n".join(p.text for p in doc.paragraphs)
    empty = texts.count("No origins lie inside this area")
    assert len(doc.tables) == 1 + len(AREAS) - empty and empty >= 1
    assert re.search(r"草案，非官方 draft", texts)  # the drafted outlines say so
