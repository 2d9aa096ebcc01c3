"""Maps of walking reachability: folium layers, offline HTML, report fragments, static PNGs.

Every layer function works like geopandas ``explore()``: it takes an optional existing
:class:`folium.Map` ``m`` (a new one is made around the data when it is ``None``), reprojects
the data to EPSG:4326 (shifted to GCJ-02 when the map uses AMap tiles), adds one or more
:class:`folium.FeatureGroup` layers plus a bilingual legend entry, and returns the map.
Nothing here writes files: :func:`to_html` / :func:`to_fragment` return strings and
:func:`static_map` returns a matplotlib :class:`~matplotlib.figure.Figure`.

Text from OSM and CSV files (street, facility and area names) and from catalogues is
untrusted: it reaches a page only through :mod:`gcgeo.escape` (HTML text, JavaScript strings,
CSS colours), and pages are rendered with :func:`gcgeo.escape.render_figure`, so a name such as
``{{ 7*7 }}`` or ``</script>`` shows literally and never runs. Layer names, legend titles and
legend labels given to the functions here are plain text; they are escaped here.

The package has one module per concern; this module re-exports their public names:

* :mod:`gcgeo.maps.base` -- :func:`new_map`, tiles, colours and bands, legend, titles;
* :mod:`gcgeo.maps.layers` -- streets, street basemap, origins, isochrone layers;
* :mod:`gcgeo.maps.features` -- facilities, areas, planned facilities, scenario changes;
* :mod:`gcgeo.maps.html` -- offline assets, standalone HTML, report fragments;
* :mod:`gcgeo.maps.static` -- static PNG maps and the CJK font;
* :mod:`gcgeo.maps.compose` -- whole maps: the one-category walking map of ``gcgeo map``;
* :mod:`gcgeo.isochrones` -- reached streets and isochrone polygons (re-exported here).

folium, branca and matplotlib are imported only inside the functions that use them, so
``import gcgeo.maps`` stays light.
"""

from __future__ import annotations

from ..isochrones import isochrone_polygons, reached_streets
from .base import (
    BAND_COLOURS,
    BAND_LABELS,
    OSM_ATTRIBUTION,
    TILES,
    category_colour,
    draft_note,
    minute_band,
    new_map,
    page_title,
    title_box,
)
from .compose import AREA_STYLE, category_map, district_areas
from .features import areas_layer, facilities_layer, planned_facilities_layer, scenario_delta_map
from .html import make_offline, to_fragment, to_html
from .layers import (
    basemap_streets,
    completeness_layer,
    gaps_layer,
    isochrone_layer,
    origins_by_distance,
    start_marker,
    streets_by_grade,
    streets_by_minutes,
)
from .static import PAGES, PRINT_DPI, cjk_font, static_map

__all__ = [
    "AREA_STYLE",
    "BAND_COLOURS",
    "BAND_LABELS",
    "OSM_ATTRIBUTION",
    "TILES",
    "areas_layer",
    "basemap_streets",
    "category_map",
    "cjk_font",
    "completeness_layer",
    "district_areas",
    "facilities_layer",
    "gaps_layer",
    "isochrone_layer",
    "isochrone_polygons",
    "make_offline",
    "minute_band",
    "new_map",
    "origins_by_distance",
    "page_title",
    "planned_facilities_layer",
    "reached_streets",
    "scenario_delta_map",
    "static_map",
    "start_marker",
    "category_colour",
    "draft_note",
    "PAGES",
    "PRINT_DPI",
    "streets_by_grade",
    "streets_by_minutes",
    "title_box",
    "to_fragment",
    "to_html",
]
