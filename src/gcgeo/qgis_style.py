"""QGIS styles stored in a GeoPackage's ``layer_styles`` table, so QGIS draws gcgeo's layers
in gcgeo's colours as soon as the file is opened.

QGIS (and GDAL's GPKG driver) look for a table ``layer_styles`` (the "QGIS layer styles"
GeoPackage extension): one row per style with the layer's table name, the style as QML
(QGIS's own XML) and ``useAsDefault``. The styles here are rule-based renderers whose rules
are the same classes the HTML and PNG maps use (:func:`gcgeo.maps.base.minute_band`,
the completeness classes) and the same colours (:data:`gcgeo.maps.base.BAND_COLOURS`,
:data:`~gcgeo.maps.base.COMPLETENESS_COLOURS`, :func:`~gcgeo.maps.base.category_colour`).

All text (labels, category names from a catalogue) goes through ElementTree, which escapes
it; nothing from the data becomes an expression except column names, which are quoted.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .maps.base import (
    BAND_COLOURS,
    BAND_LABELS,
    BAND_LIMITS,
    COMPLETENESS_COLOURS,
    COMPLETENESS_LABELS,
    category_colour,
)

__all__ = [
    "LayerStyle",
    "category_style",
    "completeness_style",
    "coverage_styles",
    "minutes_style",
    "origins_styles",
    "read_styles",
    "write_styles",
]

Geometry = Literal["point", "line", "polygon"]
#: the QML header QGIS writes (the DTD reference is what QGIS expects, never fetched)
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_QGIS_VERSION = "3.28.0"


@dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: a QML style for the GeoPackage layer ``layer``."""

    layer: str
    name: str
    qml: str
    default: bool = False
    description: str = ""


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    return ",".join(str(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def _field(name: str) -> str:
    """A QGIS expression naming a column (double quotes doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


def _symbol(parent: ET.Element, key: str, colour: str, geometry: Geometry) -> None:
    kind = {"point": "marker", "line": "line", "polygon": "fill"}[geometry]
    sym = ET.SubElement(
        parent,
        "symbol",
        {"type": kind, "name": key, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    cls = {"point": "SimpleMarker", "line": "SimpleLine", "polygon": "SimpleFill"}[geometry]
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    values = {
        "point": {"color": _rgba(colour), "name": "circle", "size": "2.2",
                  "outline_color": "255,255,255,255", "outline_width": "0.2"},
        "line": {"line_color": _rgba(colour), "line_width": "0.6", "capstyle": "round"},
        "polygon": {"color": _rgba(colour, 150), "outline_color": _rgba(colour),
                    "outline_width": "0.3"},
    }[geometry]  # fmt: skip
    for k, v in values.items():
        ET.SubElement(opts, "Option", {"name": k, "type": "QString", "value": v})


def _rule_qml(rules: Iterable[tuple[str, str, str]], geometry: Geometry) -> str:
    """QML of a rule-based renderer: (label, filter expression, colour) per rule."""
    root = ET.Element("qgis", {"version": _QGIS_VERSION, "styleCategories": "Symbology"})
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        {"type": "RuleRenderer", "symbollevels": "0", "enableorderby": "0", "forceraster": "0"},
    )
    tree = ET.SubElement(renderer, "rules", {"key": "root"})
    symbols = ET.SubElement(renderer, "symbols")
    for k, (label, expr, colour) in enumerate(rules):
        ET.SubElement(
            tree, "rule", {"key": f"r{k}", "symbol": str(k), "label": label, "filter": expr}
        )
        _symbol(symbols, str(k), colour, geometry)
    return _DOCTYPE + ET.tostring(root, encoding="unicode")


def minutes_style(
    layer: str, column: str, geometry: Geometry, name: str, default: bool = False
) -> LayerStyle:
    """Walking minutes in the street bands: ≤ 5, 5–10, 10–15, > 15 and unreachable (NULL)."""
    f = _field(column)
    lo = (None, *BAND_LIMITS)
    exprs = [
        f"{f} <= {BAND_LIMITS[0]:g}",
        *(f"{f} > {lo[i]:g} AND {f} <= {BAND_LIMITS[i]:g}" for i in (1, 2)),
        f"{f} > {BAND_LIMITS[-1]:g}",
        f"{f} IS NULL",
    ]
    rules = zip(BAND_LABELS, exprs, BAND_COLOURS, strict=True)
    return LayerStyle(layer, name, _rule_qml(rules, geometry), default, f"{column}: minutes")


def completeness_style(
    layer: str, column: str, geometry: Geometry = "point", default: bool = False
) -> LayerStyle:
    """Life-circle completeness (share 0–1 of categories reached) in the map's classes."""
    f = _field(column)
    exprs = [
        f"{f} >= 1",
        f"{f} >= 0.75 AND {f} < 1",
        f"{f} >= 0.5 AND {f} < 0.75",
        f"{f} >= 0.25 AND {f} < 0.5",
        f"{f} < 0.25",
        f"{f} IS NULL",
    ]
    rules = zip(COMPLETENESS_LABELS, exprs, COMPLETENESS_COLOURS, strict=True)
    return LayerStyle(
        layer, "完整度 completeness", _rule_qml(rules, geometry), default, f"{column}: 0–1"
    )


def category_style(
    layer: str,
    categories: Sequence[tuple[str, str]],
    column: str = "category",
    geometry: Geometry = "point",
    default: bool = True,
) -> LayerStyle:
    """Facilities by category, in the palette: (category id, label) per category."""
    f = _field(column)
    rules = [
        (label, f"{f} = '" + cid.replace("'", "''") + "'", category_colour(cid))
        for cid, label in categories
    ]
    return LayerStyle(layer, "类别 categories", _rule_qml(rules, geometry), default, column)


def origins_styles(
    layer: str, categories: Sequence[tuple[str, str]], completeness: str | None, geometry: Geometry
) -> list[LayerStyle]:
    """The styles of an origins layer: completeness (the default, when the column exists)
    and the walking minutes to each category ((category id, label) pairs)."""
    from .columns import min_col

    styles = (
        [completeness_style(layer, completeness, geometry, default=True)] if completeness else []
    )
    styles += [
        minutes_style(
            layer,
            min_col(cid),
            geometry,
            f"{label} 步行时间 minutes",
            default=not styles and k == 0,
        )  # fmt: skip
        for k, (cid, label) in enumerate(categories)
    ]
    return styles


def coverage_styles(origins: Any, categories: Sequence[Any]) -> list[LayerStyle]:
    """Styles of a coverage GeoPackage: layer ``origins`` (completeness by default, then the
    minutes to each category) and layer ``facilities`` (by category, in the palette)."""
    from .columns import COMPLETENESS

    labels = [(c.id, f"{c.name_zh} {c.name_en}") for c in categories]
    kinds = set(origins.geometry.geom_type.dropna()) if len(origins) else {"Point"}
    geometry: Geometry = "polygon" if kinds & {"Polygon", "MultiPolygon"} else "point"
    completeness = COMPLETENESS if COMPLETENESS in origins.columns else None
    return [
        *origins_styles("origins", labels, completeness, geometry),
        category_style("facilities", labels),
    ]


_CREATE = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT CURRENT_TIMESTAMP
)
"""


def write_styles(path: str | Path, styles: Sequence[LayerStyle]) -> None:
    """Add ``styles`` to the GeoPackage ``path`` (its ``layer_styles`` table, registered in
    ``gpkg_contents`` as an attributes table, as QGIS does).

    The geometry column of each layer is read from ``gpkg_geometry_columns``.
    """
    with sqlite3.connect(str(path)) as con:
        geom = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        con.execute(_CREATE)
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
        for s in styles:
            if s.default:  # one default per layer
                con.execute(
                    "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?", (s.layer,)
                )
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, 'gcgeo', '', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                (s.layer, geom.get(s.layer, "geom"), s.name, s.qml, int(s.default), s.description),
            )
    con.close()


def read_styles(path: str | Path) -> list[tuple[str, str, bool, str]]:
    """(layer, style name, default, QML) of every style stored in the GeoPackage ``path``."""
    with sqlite3.connect(str(path)) as con:
        rows = con.execute(
            "SELECT f_table_name, styleName, useAsDefault, styleQML FROM layer_styles ORDER BY id"
        ).fetchall()
    con.close()
    return [(str(a), str(b), bool(c), str(d)) for a, b, c, d in rows]
