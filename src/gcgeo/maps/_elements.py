"""The map's own HTML/JS elements: legend, attribution text and title box.

These subclass branca's :class:`~branca.element.MacroElement`, so importing this module
imports folium and branca. It is imported only inside the functions of :mod:`gcgeo.maps.base`
that add the elements, which keeps ``import gcgeo.maps`` free of folium. Every text reaches
the page through :mod:`gcgeo.escape`: HTML text in the legend, a JavaScript string set as
``textContent`` in the title box and the attribution.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template

from ..escape import css_colour, html_text, js_string

__all__ = ["Attribution", "Legend", "MetricScale", "TitleBox"]


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds feet too)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GcgeoMetricScale"


class Legend(MacroElement):
    """Bilingual legend drawn inside the map container as a Leaflet control."""

    _template = Template(
        """
{% macro html(this, kwargs) %}
<div id="{{ this.get_name() }}" class="gcgeo-legend" style="display:none;background:rgba(255,255,255,0.92);padding:6px 8px;border-radius:4px;box-shadow:0 0 4px rgba(0,0,0,0.35);font:12px/1.45 'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;color:#222;max-height:320px;overflow:auto;">
<details open><summary style="cursor:pointer;font-weight:bold;">图例 Legend</summary>
{{ this.body() }}
</details>
</div>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
    var el = document.getElementById({{ this.get_name()|tojson }});
    if (!el || !el.textContent.trim()) { return; }
    var ctl = L.control({position: "bottomright"});
    ctl.onAdd = function (map) {
        el.style.display = "block";
        // never more than 40 % of the map's height; folded on small maps (report pages)
        var h = map.getSize().y;
        el.style.maxHeight = Math.max(120, Math.round(h * 0.4)) + "px";
        if (h < {{ this.collapse_below_px|int }}) { el.querySelector("details").open = false; }
        L.DomEvent.disableClickPropagation(el);
        L.DomEvent.disableScrollPropagation(el);
        return el;
    };
    ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    #: maps shorter than this (pixels) start with the legend folded
    collapse_below_px = 600

    def __init__(self) -> None:
        super().__init__()
        self._name = "GcgeoLegend"
        self.sections: dict[str, list[tuple[str, str, str]]] = {}

    def set_section(self, title: str, items: list[tuple[str, str, str]]) -> None:
        """Add or replace a section; items are (kind, colour, label), title and labels plain
        text (escaped when the legend is drawn)."""
        self.sections[title] = items

    def body(self) -> str:
        parts = []
        for title, items in self.sections.items():
            parts.append(f'<div style="font-weight:bold;margin-top:4px;">{html_text(title)}</div>')
            for kind, colour, label in items:
                parts.append(
                    '<div style="white-space:nowrap;">'
                    f"{_swatch_html(kind, colour)}<span>{html_text(label)}</span></div>"
                )
        return "\n".join(parts)


def _swatch_html(kind: str, colour: str) -> str:
    base = "display:inline-block;vertical-align:middle;margin-right:6px;"
    colour = css_colour(colour)
    if kind == "line":
        return f'<i style="{base}width:22px;height:0;border-top:4px solid {colour};"></i>'
    if kind == "dashed":
        return f'<i style="{base}width:22px;height:0;border-top:3px dashed {colour};"></i>'
    if kind == "circle":
        return (
            f'<i style="{base}width:11px;height:11px;border-radius:50%;background:{colour};'
            'border:1px solid #fff;box-shadow:0 0 1px #333;"></i>'
        )
    if kind == "outline":
        return f'<i style="{base}width:16px;height:11px;border:2px solid {colour};"></i>'
    return f'<i style="{base}width:16px;height:12px;background:{colour};opacity:0.8;"></i>'


class Attribution(MacroElement):
    """Adds a text to the map's attribution control (e.g. the OSM credit for vector data)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
if ({{ this._parent.get_name() }}.attributionControl) {
    {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.js_text }});
}
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GcgeoAttribution"
        self.text = text
        # kept readable (Chinese not \\u-escaped) so the credit is visible in the HTML source
        self.js_text = js_string(text)


class TitleBox(MacroElement):
    """A text box in the top-left corner of the map (e.g. a title or a data note)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function () {
    var ctl = L.control({position: "topleft"});
    ctl.onAdd = function () {
        var el = L.DomUtil.create("div", "gcgeo-title");
        el.style.cssText = "background:rgba(255,255,255,0.92);padding:4px 8px;border-radius:4px;"
            + "box-shadow:0 0 4px rgba(0,0,0,0.35);font:bold 13px 'WenQuanYi Micro Hei',"
            + "'Microsoft YaHei',sans-serif;color:#b2182b;";
        el.textContent = {{ this.js_text }};
        return el;
    };
    ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GcgeoTitle"
        self.text = text
        # set as textContent, so no HTML is interpreted; kept readable in the source
        self.js_text = js_string(text)
