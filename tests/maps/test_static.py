"""Tests for gcgeo.maps.static: the CJK font and static PNG maps."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gcgeo import maps
from gcgeo._errors import DependencyError, InputError

from .mapdata import ARTIFACTS, KINDERGARTEN


def test_cjk_font_has_the_district_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    font = maps.cjk_font()
    cmap = FT2Font(font.get_file()).get_charmap()
    assert all(ord(ch) in cmap for ch in "钢城区中优东拓")


def test_cjk_font_on_a_machine_without_system_fonts(monkeypatch) -> None:
    """No font installed (a bare machine): the Noto Sans CJK that pip brought is used."""
    from matplotlib import font_manager

    from gcgeo import fonts

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    fonts.cjk_font_path.cache_clear()
    try:
        path = fonts.cjk_font_path()
        assert path.name == "NotoSansCJK-Regular.ttc"
        assert fonts.has_glyphs(path, "钢城区幼儿园")
    finally:
        fonts.cjk_font_path.cache_clear()


def test_cjk_font_missing_names_the_package(monkeypatch) -> None:
    from matplotlib import font_manager

    from gcgeo import fonts

    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    monkeypatch.setattr(fonts, "_bundled", lambda: None)
    fonts.cjk_font_path.cache_clear()
    try:
        with pytest.raises(DependencyError, match="pip install noto-cjk-sans-otc"):
            maps.cjk_font()
    finally:
        fonts.cjk_font_path.cache_clear()


def test_static_map_png(edges, facilities, areas) -> None:
    iso = maps.isochrone_polygons(edges, np.arange(36) * 40.0, minutes=(5, 10))
    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        areas=areas,
        facilities=facilities,
        isochrones=iso,
        categories=[KINDERGARTEN, "clinic"],
        title="钢城区 幼儿园 步行可达",
    )
    font_file = maps.cjk_font().get_file()
    texts = [t for ax in fig.axes for t in ax.texts] + [fig._suptitle]
    labels = {t.get_text(): t for t in texts}
    assert "中优\nCentral upgrade" in labels and "东拓\nEast expansion" in labels
    assert labels["中优\nCentral upgrade"].get_fontproperties().get_file() == font_file
    assert fig._suptitle.get_text() == "钢城区 幼儿园 步行可达"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "不可达 unreachable" in legend and "草案/估计 draft/estimate" in legend
    assert "幼儿园 Kindergarten" in legend and "clinic" in legend
    # scale bar: the drawing spans ~500 m + padding, so 100 m (the largest nice length <= 1/5)
    assert "100 m" in labels and "北 N" in labels
    assert any("© OpenStreetMap contributors" in t.get_text() for t in fig.texts)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(buf.getvalue()) > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "static_map.png").write_bytes(buf.getvalue())


def test_static_map_needs_data() -> None:
    with pytest.raises(InputError, match="no data"):
        maps.static_map()
    with pytest.raises(InputError, match="no edges"):
        maps.static_map(
            areas=gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326), column="x"
        )


def test_static_map_keeps_every_text_inside_the_page(edges, facilities) -> None:
    """The longest category name must not push the legend or title off the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    long_cat = {
        "id": "kindergarten",
        "name_zh": "老年人日间照料中心/幸福食堂/社区卫生服务站（规划）",
        "name_en": "Elderly day care / community canteen / community health station (planned)",
        "max_distance_m": 300,
    }
    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        facilities=facilities,
        categories=[long_cat, "clinic"],
        title="钢城区 "
        + long_cat["name_zh"]
        + " "
        + long_cat["name_en"]
        + " 步行时间 walking time",
    )
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    canvas.draw()  # lays out the legend's texts where they are drawn
    renderer = canvas.get_renderer()
    page = fig.bbox  # pixels
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text")) if a_visible(t)]
    assert len(texts) > 10
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, t.get_text()[:40]
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, t.get_text()[:40]


def a_visible(artist) -> bool:
    return artist.get_visible() and bool(str(artist.get_text()).strip())


LONG_CAT = {
    "id": "kindergarten",
    "name_zh": "老年人日间照料中心/幸福食堂/社区卫生服务站（规划）",
    "name_en": "Elderly day care / community canteen / community health station (planned)",
    "max_distance_m": 300,
}


@pytest.mark.parametrize("page", ["A4-portrait", "A4-landscape", "A3-landscape"])
def test_print_page_keeps_every_text_inside(page, edges, facilities, areas) -> None:
    """A print page is exactly the paper size at 300 dpi, and no text leaves it, even for
    the longest category name, a long title and long footer notes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        facilities=facilities,
        categories=[LONG_CAT, "clinic"],
        area_layers={"zones": areas, "renewal_areas": areas},
        title="钢城区 " + LONG_CAT["name_zh"] + " " + LONG_CAT["name_en"] + " 步行时间 ≤ 300 m",
        page=page,
        notes=["合成演示数据 synthetic demo network — not real streets; " * 3,
               "草案 draft: zone boundaries are estimates, not official"],
    )  # fmt: skip
    mm = maps.PAGES[page]
    w, h = fig.get_size_inches()
    assert (round(w * 25.4, 1), round(h * 25.4, 1)) == mm and fig.dpi == 300
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    bounds = fig.bbox
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_text")) if a_visible(t)]
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("五区" in t for t in legend) and any("更新片区" in t for t in legend)
    assert any("synthetic" in t.get_text() for t in fig.texts)
    for t in texts:
        if t.get_clip_on() and t.axes is not None and t in t.axes.texts:
            continue  # area labels are clipped to the map frame on purpose
        box = t.get_window_extent(renderer)
        assert box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1, t.get_text()[:40]
        assert box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1, t.get_text()[:40]


def test_unknown_page_is_refused(edges) -> None:
    with pytest.raises(InputError, match="A4-landscape"):
        maps.static_map(edges=edges, page="letter")
