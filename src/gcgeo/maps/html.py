"""Map pages: self-contained (offline) assets, standalone HTML and report fragments.

:func:`make_offline` inlines Leaflet and jQuery from the installed XStatic packages so a
page makes no CDN requests; :func:`to_html` and :func:`to_fragment` render a map through
:func:`gcgeo.escape.render_figure` (branca's second template pass made literal) and return
strings: nothing here writes files. folium and branca are imported only when a map is made
offline.
"""

from __future__ import annotations

import base64
import functools
import re
import uuid
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import DependencyError
from ..escape import html_text, render_figure

if TYPE_CHECKING:
    import folium
    from branca.element import Element

__all__ = ["make_offline", "to_fragment", "to_html"]

_OFFLINE_ATTR = "_gcgeo_offline"


def _xstatic_dir(module: str, package: str) -> Path:
    try:
        mod = import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"Offline maps need the {package} package; install it with `pip install {package}`."
        ) from exc
    return Path(mod.BASE_DIR)


def _data_uri(path: Path, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _guard_script(js: str, global_name: str) -> str:
    """A <script> that defines a library only once per page (two fragments, one page)."""
    if "</script" in js.lower():  # pragma: no cover - true for the pinned packages
        raise DependencyError("An inlined script contains '</script'; reinstall xstatic packages.")
    return f"<script>if (typeof window.{global_name} === 'undefined') {{\n{js}\n}}</script>"


@functools.lru_cache(maxsize=1)
def _offline_assets() -> str:
    """Leaflet CSS/JS and jQuery from the installed XStatic packages, inlined."""
    leaflet = _xstatic_dir("xstatic.pkg.leaflet", "XStatic-Leaflet")
    jquery = _xstatic_dir("xstatic.pkg.jquery", "XStatic-jQuery")
    images = leaflet / "images"
    css = (leaflet / "leaflet.css").read_text(encoding="utf-8")
    css = re.sub(
        r"url\((['\"]?)images/([\w.-]+\.png)\1\)",
        lambda mt: f"url({_data_uri(images / mt.group(2))})",
        css,
    )
    jq = next((p for p in (jquery / "jquery.min.js", jquery / "jquery.js") if p.exists()), None)
    if jq is None:  # pragma: no cover - layout of the pinned package
        raise DependencyError("XStatic-jQuery has no jquery.min.js; reinstall XStatic-jQuery.")
    icons = (
        "L.Icon.Default.imagePath = '';\n"
        "L.Icon.Default.mergeOptions({"
        f"iconUrl: '{_data_uri(images / 'marker-icon.png')}', "
        f"iconRetinaUrl: '{_data_uri(images / 'marker-icon-2x.png')}', "
        f"shadowUrl: '{_data_uri(images / 'marker-shadow.png')}'}});"
    )
    return "\n".join(
        [
            f"<style>\n{css}\n</style>",
            _guard_script((leaflet / "leaflet.js").read_text(encoding="utf-8"), "L"),
            _guard_script(jq.read_text(encoding="utf-8"), "jQuery"),
            f"<script>{icons}</script>",
        ]
    )


def make_offline(m: folium.Map) -> folium.Map:
    """Make a map's HTML self-contained: no CDN scripts or stylesheets.

    Drops folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers),
    inlines Leaflet 1.9 CSS/JS and jQuery from the installed XStatic packages, turns
    Leaflet's CSS images and default marker icons into data URIs. Tile layers are left as
    they are (use ``tiles="none"`` for a map that makes no requests at all). Plugins that
    need their own scripts will not work offline.

    Parameters
    ----------
    m : folium.Map
        The map, changed in place.

    Returns
    -------
    folium.Map
        The same map.
    """
    import folium
    from branca.element import Element

    stack: list[Element] = [m]
    while stack:
        el = stack.pop()
        if hasattr(el, "default_js"):
            el.default_js = []
            el.default_css = []
        stack.extend(el._children.values())
    header = m.get_root().header
    for key, child in list(header._children.items()):
        if isinstance(child, folium.JavascriptLink | folium.CssLink):
            del header._children[key]
    header.add_child(Element(_offline_assets()), name="gcgeo_offline_assets")
    setattr(m, _OFFLINE_ATTR, True)
    return m


def to_html(m: folium.Map) -> str:
    """The map as a standalone HTML document (a string; the caller writes it).

    Parameters
    ----------
    m : folium.Map

    Returns
    -------
    str
    """
    return render_figure(m.get_root())


_GLOBAL_CSS = re.compile(
    r"<style>\s*html,\s*body\s*\{[^}]*\}\s*</style>|<style>\s*#map\s*\{[^}]*\}\s*</style>"
)
_META = re.compile(r"<meta\b[^>]*>\s*")


def to_fragment(m: folium.Map, height: str = "600px") -> str:
    """The map as an HTML fragment to paste into a larger report page.

    The fragment is one ``<div>`` holding the map's own styles, scripts and elements. All
    element ids are unique per map, page-wide rules (``html, body {...}``, ``#map``) and
    ``<meta>`` tags are left out, and inlined libraries load once per page.

    Parameters
    ----------
    m : folium.Map
    height : str
        CSS height of the fragment's container.

    Returns
    -------
    str
    """
    root = m.get_root()
    render_figure(root)  # fills root.header / root.html / root.script
    header = _META.sub("", _GLOBAL_CSS.sub("", root.header.render()))
    body = root.html.render()
    script = root.script.render()
    fid = f"gcgeo-map-{uuid.uuid4().hex}"
    return (
        f'<div id="{fid}" class="gcgeo-map" style="position:relative;width:100%;'
        f'height:{html_text(height)};">\n{header}\n{body}\n<script>\n{script}\n</script>\n</div>\n'
    )
