"""The Chinese font for static maps and layer pictures: an installed CJK font when there is
one, else the Noto Sans CJK font that gcgeo installs from PyPI (package ``noto-cjk-sans-otc``),
so a PNG's Chinese labels render on a bare machine with pip alone."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import DependencyError

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

__all__ = ["CJK_FAMILIES", "cjk_font", "cjk_font_path", "has_glyphs"]

#: Installed fonts tried first, in order (simplified-Chinese designs).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_CJK_FILES = ("wqy-microhei", "wqy-zenhei", "notosanscjk", "notosanssc", "sourcehansans")
#: Characters every font gcgeo uses must have.
_NEEDED = "钢城区幼儿园中优东拓西改南控北融"


def has_glyphs(path: str | Path, text: str = _NEEDED) -> bool:
    """Whether the font file at ``path`` has a glyph for every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    try:
        cmap = FT2Font(str(path)).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in cmap for ch in text)


def _bundled() -> Path | None:
    for module, attr in (("noto_cjk_sans_otc", "FONT_PATH"),):
        try:
            mod = __import__(module)
        except ImportError:
            continue
        path = Path(str(getattr(mod, attr)))
        if path.is_file():
            return path
    try:  # mplfonts, if a planner has it, carries Noto Sans CJK SC
        import mplfonts

        for p in sorted((Path(mplfonts.__file__).parent / "fonts").glob("NotoSansCJKsc*")):
            return p
    except ImportError:
        pass
    return None


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Path of the CJK font file used (an installed one first, else the bundled one).

    Raises
    ------
    DependencyError
        When neither an installed CJK font nor the ``noto-cjk-sans-otc`` package is there.
    """
    from matplotlib import font_manager

    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in by_name and has_glyphs(by_name[family]):
            return Path(by_name[family])
    for key in _CJK_FILES:  # installed after matplotlib built its font cache
        for path in sorted(font_manager.findSystemFonts()):
            name = Path(path).name.lower()
            if (key in name.replace("-", "").replace("_", "") or key in name) and has_glyphs(path):
                return Path(path)
    bundled = _bundled()
    if bundled is not None and has_glyphs(bundled):
        return bundled
    raise DependencyError(
        "No Chinese (CJK) font is available for static maps; reinstall gcgeo (it brings "
        "noto-cjk-sans-otc: pip install noto-cjk-sans-otc) or install a system font "
        "(apt-get install fonts-wqy-microhei)."
    )


def cjk_font() -> FontProperties:
    """Font properties of :func:`cjk_font_path`, registered with matplotlib."""
    from matplotlib import font_manager
    from matplotlib.font_manager import FontProperties

    path = cjk_font_path()
    if not any(f.fname == str(path) for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    return FontProperties(fname=str(path))
