"""Whole maps made from the layers: the one-category walking map of ``gcgeo map``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = ["AREA_STYLE", "category_map", "district_areas"]

#: How the district's area layers are drawn: layer name -> (legend title, outline colour).
AREA_STYLE = {
    "zones": ("五区 Strategy zones", "#5e3c99"),
    "wings": ("一体两翼 Body and two wings", "#01665e"),
    "renewal_areas": ("更新片区 Renewal areas", "#b35806"),
}


def district_areas(layers_dir: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Zones, wings and renewal areas (shipped, or replaced from ``layers_dir``)."""
    from ..layers import load_layer

    return {name: load_layer(name, layers_dir) for name in AREA_STYLE}


def category_map(
    edges: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    category: Mapping[str, Any],
    areas: Mapping[str, gpd.GeoDataFrame] | None = None,
    tiles: str | None = None,
    tianditu_key: str | None = None,
    offline: bool = True,
    notes: Iterable[str] = (),
) -> folium.Map:
    """Streets coloured by walking minutes to one category, over a street basemap, with its
    facilities and the district's areas; each of ``notes`` as a line in the top-left corner.

    Parameters
    ----------
    edges : GeoDataFrame
        Streets with a ``walk_min`` column.
    facilities : GeoDataFrame, optional
        The category's facilities.
    category : mapping
        ``id``, ``name_zh``, ``name_en``, ``max_distance_m``.
    areas : mapping, optional
        ``{layer name: polygons}`` from :func:`district_areas` (drawn in :data:`AREA_STYLE`).
    tiles, tianditu_key, offline
        As in :func:`gcgeo.maps.new_map`.
    notes : iterable of str
        Plain-text notes, e.g. the synthetic-data label.

    Returns
    -------
    folium.Map
    """
    from .base import new_map, page_title, title_box
    from .features import areas_layer, facilities_layer
    from .layers import basemap_streets, streets_by_grade, streets_by_minutes

    limit = category.get("max_distance_m")
    what = (
        f"{category.get('name_zh', category['id'])} {category.get('name_en', '')} "
        "步行时间 walking time" + (f" (标准 threshold ≤ {float(limit):g} m)" if limit else "")
    )
    m = new_map(edges, tiles=tiles, tianditu_key=tianditu_key, offline=offline)
    page_title(m, what)
    title_box(m, what)  # every map names its category and threshold
    for note in notes:
        title_box(m, note)
    basemap_streets(edges, m)
    streets_by_minutes(edges, "walk_min", m, name=what)
    if "grade_pct" in edges.columns:  # slopes (--dem): the grades, switched off at first
        streets_by_grade(edges, "grade_pct", m)
    for layer, (title, colour) in AREA_STYLE.items():
        if areas and layer in areas:
            areas_layer(areas[layer], m, name=title, colour=colour)
    if facilities is not None and len(facilities):
        facilities_layer(facilities, m, categories=[dict(category)])
    return m
