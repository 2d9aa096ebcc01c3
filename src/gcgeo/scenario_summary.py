"""The one-page HTML summary of a scenario comparison (tables and an offline delta map).

Every name is escaped with :func:`gcgeo.escape.html_text`; the map is a fragment made by
:mod:`gcgeo.maps`.
"""

from __future__ import annotations

from typing import Any

from .escape import html_text

__all__ = ["delta_map_html", "streets_change_map", "summary_html"]


def summary_html(result: Any, map_html: str | None = None, catalogue: Any = None) -> str:
    """A one-page, self-contained HTML summary of a scenario comparison.

    Every name is escaped. ``map_html`` (e.g. a folium delta map from
    ``gcgeo.maps``) is inserted where the ``<!-- gcgeo:map -->`` hook stands. With
    ``catalogue`` the categories are named in Chinese and English; shares of areas
    without origins show "—".
    """
    names = {}
    if catalogue is not None:
        names = {c.id: f"{c.name_zh} {c.name_en}" for c in catalogue.select(None)}

    def pct(v: float, signed: bool = False) -> str:
        if v != v:  # NaN: no origins in the area
            return "—"
        return f"{v:+.1%}" if signed else f"{v:.1%}"

    e = html_text
    parts = [
        "<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'>",
        "<title>gcgeo scenario summary 情景对比</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:1100px}",
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
        "text-align:right}th{background:#eee}td.l,th:nth-child(-n+2){text-align:left}.up{color:#186a1e}.down{color:#b00}",
        "</style></head><body><h1>情景对比 Scenario comparison</h1>",
    ]
    for sc in result.scenarios:
        t = result.tables[sc.name]
        parts.append(
            f"<h2>{e(sc.name)}</h2><p>{e(sc.description)} Persona: {e(sc.persona)} "
            f"({sc.speed_mps:g} m/s); {len(sc.add_facilities)} facilities added, "
            f"{len(sc.remove_facilities)} removed, {len(sc.add_links)} link(s) added. "
            f"Source: {e(sc.source)}</p>"
        )
        parts.append(
            "<table><tr><th>类别 Category</th><th>片区 Area</th><th>标准 Threshold (m)</th>"
            "<th>之前 Before</th><th>之后 After</th><th>变化 Change</th>"
            "<th>新增可达 Gained</th><th>失去可达 Lost</th></tr>"
        )
        for r in t.itertuples():
            cls = "up" if r.delta_share > 0 else ("down" if r.delta_share < 0 else "")
            parts.append(
                f"<tr><td class='l'>{e(names.get(str(r.category), str(r.category)))}</td>"
                f"<td class='l'>{e(str(r.area_name_zh))} {e(str(r.area_name_en))}</td>"
                f"<td>{r.threshold_m:,.0f}</td><td>{pct(r.before_share)}</td>"
                f"<td>{pct(r.after_share)}</td><td class='{cls}'>{pct(r.delta_share, True)}</td>"
                f"<td>{r.gained}</td><td>{r.lost}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<!-- gcgeo:map -->")
    if map_html:
        parts.append(f"<div class='map'>{map_html}</div>")
    parts.append(
        "<p><small>Shares are of origins (or population) within each category's walking "
        "threshold, scaled to the persona's speed. © OpenStreetMap contributors.</small></p>"
        "</body></html>"
    )
    return "\n".join(parts)


def streets_change_map(
    net: Any,
    facilities: Any,
    result: Any,
    catalogue: Any,
    max_snap: float,
    limit: float | None,
    threshold_basis: str,
) -> Any:
    """A map of the streets before and after the first scenario, coloured by walking minutes
    to the category it changes most (most origins gained), ready for
    :func:`gcgeo.maps.scenario_delta_map` to add the origins and the planned changes.

    Returns
    -------
    (folium.Map, Category) or (None, None)
        None when no category changes.
    """
    from . import maps
    from .coverage import street_minutes
    from .scenario import apply_scenario

    sc = result.scenarios[0]
    table = result.tables[sc.name]
    whole = table[(table["area_code"] == "all") & (table["gained"] + table["lost"] > 0)]
    if not len(whole):
        return None, None
    best = whole.sort_values(["gained", "lost"], ascending=False)["category"].iloc[0]
    category = catalogue.select([str(best)])[0]
    after_net, after_fac = apply_scenario(net, facilities, sc)
    base = next(iter(result.before.values())).origins
    m = maps.new_map(base, offline=True)
    label = f"{category.name_zh} {category.name_en}"
    for name, n, fac, show in (
        ("之前 before", net, facilities, False),
        ("之后 after", after_net, after_fac, True),
    ):
        edges = n.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
        edges["walk_min"] = street_minutes(
            n, fac, category, sc.speed_mps, max_snap, limit, threshold_basis
        )
        maps.streets_by_minutes(edges, "walk_min", m, name=f"{label} 步行时间 {name}", show=show)
    return m, category


def delta_map_html(result: Any, m: Any = None, category: Any = None) -> str | None:
    """The delta map (:func:`gcgeo.maps.scenario_delta_map`) as an offline HTML fragment,
    drawn on ``m`` (e.g. from :func:`streets_change_map`) when given."""
    from .maps import scenario_delta_map, to_fragment

    what = (
        f"；街道按{category.name_zh}步行时间着色（之前/之后可切换） streets by walking minutes to "
        f"{category.name_en}, before/after in the layer control"
        if category is not None
        else ""
    )
    return (
        "<h2>地图 Map: 新增/失去可达的起点 origins gaining or losing reach"
        f"{html_text(what)}</h2>"
        + to_fragment(scenario_delta_map(result, m=m, offline=True), height="620px")
    )
