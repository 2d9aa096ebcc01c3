"""The area reports as one Word document (``gcgeo report --docx``), with python-docx.

The same content as the print version (:func:`gcgeo.report_pages.print_html`): the district
summary, then one area per page with its coverage table (Chinese headers, numbers rounded
for people), its print map as a picture with a caption, and the outline's source and
draft/estimate note. Text is set in a CJK font for East Asian characters so Word shows
Chinese without substitution. Data text goes into runs as text, never as markup.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .report_pages import LAYER_TITLES, REPORT_TITLE, AreaReport, people_rows, worst_served

__all__ = ["DOCX_FONT", "checkup_docx", "report_docx"]

#: the East Asian font of the document (Word on Chinese Windows has it; others substitute)
DOCX_FONT = "Microsoft YaHei"
_CONFIDENCE = {
    "draft": "草案，非官方 draft — not official",
    "estimate": "估计，非官方 estimate — not official",
    "estimated": "估计，非官方 estimate — not official",
}


def _fonts(doc: Any) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Heading 1", "Heading 2", "Caption", "Title"):
        style = doc.styles[name]
        style.font.name = DOCX_FONT
        rpr = style.element.get_or_add_rPr()
        rpr.get_or_add_rFonts().set(qn("w:eastAsia"), DOCX_FONT)
    doc.styles["Normal"].font.size = Pt(10)


def _table(doc: Any, table: pd.DataFrame) -> Any:
    return _text_table(doc, *people_rows(table))


def _text_table(doc: Any, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Any:
    from docx.shared import Pt

    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, headers, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(8.5)
    for row in rows:
        cells = t.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.font.size = Pt(8.5)
    return t


def report_docx(
    district: pd.DataFrame,
    reports: Sequence[AreaReport],
    images: Mapping[str, bytes],
    label: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """The Word document (.docx bytes).

    Parameters
    ----------
    district : DataFrame
        The whole study's :func:`gcgeo.report.area_table`.
    reports : sequence of AreaReport
        The areas, with ``table`` and ``image`` (a key of ``images``).
    images : mapping of str to bytes
        PNG print maps by file name.
    label, meta
        As for :func:`gcgeo.report_pages.print_html`.
    """
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm

    doc = Document()
    _fonts(doc)
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    doc.add_heading("钢城区 Gangcheng District", level=0)
    doc.add_paragraph(REPORT_TITLE)
    if label:
        doc.add_paragraph().add_run(f"示例数据 Synthetic: {label}").bold = True
    doc.add_heading("全区汇总 District summary", level=1)
    _table(doc, district)
    ranked = worst_served(reports)
    if ranked:
        doc.add_paragraph("服务最弱的片区 Worst-served areas (mean life-circle completeness):")
        for r in ranked:
            doc.add_paragraph(
                f"{r.name_zh} {r.name_en} — {LAYER_TITLES.get(r.layer, r.layer)}: "
                f"{r.mean_completeness:.1%} ({r.origins} 起点 origins)",
                style="List Number",
            )
    figure = 0
    for r in reports:
        if r.table is None:
            continue
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        doc.add_heading(f"{r.name_zh} {r.name_en}", level=1)
        doc.add_paragraph(f"{LAYER_TITLES.get(r.layer, r.layer)} ({r.code})")
        conf = _CONFIDENCE.get(r.confidence.strip().lower())
        if conf:
            p = doc.add_paragraph()
            p.add_run(f"边界 Outline: {conf}. ").bold = True
            p.add_run(f"来源 Source: {r.source}")
        if r.origins:
            _table(doc, r.table)
            comp = "—" if not np.isfinite(r.mean_completeness) else f"{r.mean_completeness:.1%}"
            doc.add_paragraph(f"平均生活圈完整度 Mean life-circle completeness: {comp}")
        else:
            doc.add_paragraph("本片区内没有起点 No origins lie inside this area.")
        if r.image and r.image in images:
            figure += 1
            doc.add_picture(io.BytesIO(images[r.image]), width=Cm(17.0))
            doc.add_paragraph(
                f"图 {figure} Figure {figure}: {r.name_zh} {r.name_en} — 街道按步行时间着色 "
                "streets coloured by walking minutes",
                style="Caption",
            )
    doc.add_paragraph()
    facts = "; ".join(f"{k}: {v}" for k, v in (meta or {}).items())
    doc.add_paragraph(
        "街道与设施数据 Street and facility data: © OpenStreetMap contributors (ODbL 1.0). "
        "由 gcgeo 生成 Made with gcgeo." + (f" {facts}" if facts else "")
    )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def checkup_docx(table: pd.DataFrame, title: str, note: str = "") -> bytes:
    """The checkup table (:mod:`gcgeo.checkup`) as a Word document: one section per area
    level, Chinese headers, shares as percentages, the draft/synthetic note on top."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    from .checkup import display_rows, sections

    doc = Document()
    _fonts(doc)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Mm(297), Mm(210)
    doc.add_heading(title, level=1)
    if note:
        doc.add_paragraph(note)
    for name, part in sections(table).items():
        doc.add_heading(name, level=2)
        _text_table(doc, *display_rows(part))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
