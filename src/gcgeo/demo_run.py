"""The demo pipeline: write the synthetic street network of 钢城区's core, run coverage on it
offline and write the demo's maps, tables and reports (a library function; ``gcgeo demo``
calls it). Every output is labelled synthetic (:data:`gcgeo.demo.DEMO_LABEL`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import settings
from ._io import atomic_write_text, check_writable, write_file

__all__ = [
    "DEFAULT_DEMO_DIR",
    "DEMO_FILES",
    "DEMO_HOOKS",
    "DEMO_HOOK_FILES",
    "DEMO_SLOPE_FILES",
    "DemoContext",
    "DemoHook",
    "run_demo",
]


@dataclass
class DemoContext:
    """What a demo hook gets: the study, the coverage result and where to write.

    Hooks (maps, per-area tables, the HTML report) must put :data:`DEMO_LABEL`
    in every file they write (title, column or header).
    """

    out_dir: Path
    study: Any  # gcgeo.study.Study
    result: Any  # gcgeo.coverage.CoverageResult
    info: Any  # gcgeo.demo.DemoInfo
    label: str
    dem: str | None = None  # the synthetic DEM (``gcgeo demo --dem``)
    extra_run: dict[str, Any] = field(default_factory=dict)  # added to run.json


#: A hook writes extra demo outputs and returns them by name.
DemoHook = Callable[[DemoContext], dict[str, Path]]
#: Files the default hooks write, by name (checked for clobbering like :data:`DEMO_FILES`).
DEMO_HOOK_FILES = {
    "coverage_by_area": "coverage_by_area.csv",
    "map": "map.html",
    "map_png": "map.png",
    "reports": "reports/index.html",
}
_DEMO_MAP_CATEGORY = "kindergarten"


def _demo_category(ctx: DemoContext) -> Any:
    return ctx.study.catalogue.select([_DEMO_MAP_CATEGORY])[0]


def _demo_categories(ctx: DemoContext) -> list[Any]:
    return ctx.study.catalogue.select(None)


def _demo_by_area(ctx: DemoContext) -> dict[str, Path]:
    """coverage_by_area.csv: covered share per zone, wing and renewal area."""
    from ._io import write_csv
    from .by_area import assign_areas, coverage_by_area

    located = ctx.result.origins.join(assign_areas(ctx.result.origins))
    table = coverage_by_area(located, _demo_categories(ctx)).assign(
        origin_rule=ctx.result.meta["origin_rule"], data_note=ctx.label
    )
    path = ctx.out_dir / DEMO_HOOK_FILES["coverage_by_area"]
    write_csv(table, path)
    return {"coverage_by_area": path}


def _demo_map(ctx: DemoContext) -> dict[str, Path]:
    """map.html (offline, interactive) and map.png (static) of the demo."""
    from . import maps
    from ._io import atomic_path
    from .coverage import DEFAULT_CELL_M, street_minutes
    from .layers import load_layer

    net, cat = ctx.study.network, _demo_category(ctx)
    cats = _demo_categories(ctx)
    edges = net.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
    edges["walk_min"] = street_minutes(net, ctx.study.facilities, cat)
    zones, wings, renewal = (load_layer(n) for n in ("zones", "wings", "renewal_areas"))
    planned = load_layer("planned_facilities")
    title = f"钢城区 {cat.name_zh} 步行时间 {cat.name_en} walking time — {ctx.label}"

    m = maps.new_map(edges, offline=True)
    maps.title_box(m, f"示例 Demo · {ctx.label}")
    maps.page_title(m, title)
    maps.basemap_streets(edges, m)
    maps.streets_by_minutes(
        edges, "walk_min", m, name=f"{cat.name_zh} 步行时间 {cat.name_en} walking time"
    )
    # off by default (it would hide the streets); listed after the streets in the legend
    maps.completeness_layer(ctx.result.origins, m, cell_size=DEFAULT_CELL_M, show=False)
    maps.areas_layer(zones, m, name="五区 Strategy zones", colour="#5e3c99")
    maps.areas_layer(wings, m, name="一体两翼 Body and two wings", colour="#01665e")
    maps.areas_layer(renewal, m, name="更新片区 Renewal areas", colour="#b35806")
    maps.facilities_layer(ctx.study.facilities, m, categories=cats)
    maps.planned_facilities_layer(planned, m)
    html_path = ctx.out_dir / DEMO_HOOK_FILES["map"]
    atomic_write_text(html_path, maps.to_html(m))

    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        area_layers={"zones": zones, "renewal_areas": renewal},
        facilities=ctx.study.facilities[ctx.study.facilities["category"] == cat.id],
        categories=[cat],
        title=f"钢城区 {cat.name_zh} 步行时间 {cat.name_en} walking time"
        f" (≤ {cat.max_distance_m:g} m)",
        page="A4-landscape",
        notes=[f"示例 Demo · {ctx.label}", maps.draft_note(zones, renewal)],
    )
    png_path = ctx.out_dir / DEMO_HOOK_FILES["map_png"]
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Title": title, "Description": ctx.label})
    return {"map": html_path, "map_png": png_path}


def _demo_reports(ctx: DemoContext) -> dict[str, Path]:
    """reports/: one offline HTML report per zone and renewal area, plus index.html."""
    from .by_area import assign_areas
    from .coverage import DEFAULT_CELL_M
    from .report import build_reports

    located = ctx.result.origins.join(assign_areas(ctx.result.origins))
    pages = build_reports(
        ctx.study.network,
        located,
        ctx.study.facilities,
        _demo_categories(ctx),
        map_category=_demo_category(ctx),
        offline=True,
        cell_size=DEFAULT_CELL_M,
        label=ctx.label,
        meta={"起点规则 origin rule": ctx.result.meta["origin_rule_text"]},
        extra_links={
            "../coverage.csv": "全区分类覆盖 coverage by category",
            "../coverage_by_area.csv": "分区覆盖 coverage by area",
            "../map.html": "交互地图 interactive map",
        },
    )
    folder = ctx.out_dir / Path(DEMO_HOOK_FILES["reports"]).parent
    written = {}
    for name, content in pages.items():
        write_file(folder / name, content)
        written["reports" if name == "index.html" else f"report:{name}"] = folder / name
    return written


#: Files of ``gcgeo demo --dem`` (the synthetic DEM and the elderly-on-slopes comparison).
DEMO_SLOPE_FILES = {
    "dem": "gangcheng_demo_dem.tif",
    "slopes": "slopes_elderly.csv",
    "slopes_map": "slopes_map.html",
    "slopes_map_png": "slopes_map.png",
}
_SLOPE_MAP_CATEGORY = "elderly_canteen"


def _demo_slopes(ctx: DemoContext) -> dict[str, Path]:
    """slopes_elderly.csv and slopes_map.html/png: the elderly persona (0.8 m/s, the tiers'
    minutes) on flat streets vs on the synthetic DEM with ``tobler_elderly``, per category,
    for the district, its zones, wings and renewal areas."""
    import numpy as np
    import pandas as pd

    from . import maps
    from ._io import atomic_path, write_csv
    from .by_area import assign_areas, coverage_by_area
    from .coverage import compute_coverage, grid_origins, street_minutes
    from .layers import load_layer
    from .terrain import apply_dem

    if ctx.dem is None:
        return {}
    net, fac = ctx.study.network, ctx.study.facilities
    cats = _demo_categories(ctx)
    speed = settings.ELDERLY_SPEED_MPS
    hilly, dem_meta = apply_dem(net, ctx.dem, "tobler_elderly")
    origins = grid_origins(net, settings.CELL_M, None, "auto")
    runs = {
        name: compute_coverage(n, fac, cats, origins, speed, threshold_basis="time")
        for name, n in (("flat", net), ("slopes", hilly))
    }
    rows = []
    tables = {}
    for name, res in runs.items():
        located = res.origins.join(assign_areas(res.origins))
        tables[name] = coverage_by_area(located, cats)
        n = len(res.origins)
        for r in res.summary.itertuples():
            rows.append(("district", "370117", "钢城区", "Gangcheng", n, r.category, name, r.share))
        t = tables[name]
        for c in cats:
            for r in t.itertuples():
                rows.append((r.area_layer, r.code, r.name_zh, r.name_en, r.origins, c.id, name,
                             getattr(r, f"share_{c.id}")))  # fmt: skip
    keys = ["area_layer", "code", "name_zh", "name_en", "origins", "category"]
    long = pd.DataFrame(rows, columns=[*keys, "run", "share"])
    wide = (
        long[long["run"] == "flat"]
        .drop(columns="run")
        .rename(columns={"share": "share_flat"})
        .merge(
            long[long["run"] == "slopes"].drop(columns="run").rename(
                columns={"share": "share_slopes"}),
            on=keys, how="left", validate="one_to_one",
        )
    )  # fmt: skip
    wide["change_pp"] = ((wide["share_slopes"] - wide["share_flat"]) * 100).round(1)
    wide = wide.assign(
        persona="elderly",
        speed_mps=speed,
        walk_function="tobler_elderly",
        threshold_basis="time",
        data_note=ctx.label,
    )
    csv_path = ctx.out_dir / DEMO_SLOPE_FILES["slopes"]
    write_csv(wide, csv_path)

    cat = ctx.study.catalogue.select([_SLOPE_MAP_CATEGORY])[0]
    edges = net.edges[["way_id", "name", "highway", "length", "geometry"]].copy()
    for col, n in (("walk_min", hilly), ("walk_min_flat", net)):
        edges[col] = street_minutes(n, fac, cat, speed, threshold_basis="time")
    edges["grade_pct"] = np.round(100 * hilly.costs.edge_grade(), 1)
    renewal = load_layer("renewal_areas")
    zones = load_layer("zones")
    what = f"{cat.name_zh} {cat.name_en}: 老年人步行 elderly walking ({speed:g} m/s)"
    m = maps.new_map(edges, offline=True)
    maps.title_box(m, f"示例 Demo · {ctx.label}")
    maps.page_title(m, f"{what} — {ctx.label}")
    maps.basemap_streets(edges, m)
    maps.streets_by_minutes(edges, "walk_min", m, name=f"{what}, 坡度计入 with slopes")
    maps.streets_by_minutes(edges, "walk_min_flat", m, name=f"{what}, 平地 flat", show=False)
    maps.streets_by_grade(edges, "grade_pct", m)
    maps.areas_layer(zones, m, name="五区 Strategy zones", colour="#5e3c99")
    maps.areas_layer(renewal, m, name="更新片区 Renewal areas", colour="#b35806")
    maps.facilities_layer(fac, m, categories=[cat])
    html_path = ctx.out_dir / DEMO_SLOPE_FILES["slopes_map"]
    atomic_write_text(html_path, maps.to_html(m))
    fig = maps.static_map(
        edges=edges,
        column="walk_min",
        area_layers={"zones": zones, "renewal_areas": renewal},
        facilities=fac[fac["category"] == cat.id],
        categories=[cat],
        title=f"钢城区 {cat.name_zh} 老年人步行时间 (坡度计入) {cat.name_en}: elderly walking "
        f"time with slopes (≤ {cat.tier} min at {speed:g} m/s)",
        page="A4-landscape",
        notes=[f"示例 Demo · {ctx.label}", "坡度为合成数据 synthetic DEM",
               maps.draft_note(zones, renewal)],
    )  # fmt: skip
    png_path = ctx.out_dir / DEMO_SLOPE_FILES["slopes_map_png"]
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Title": what, "Description": ctx.label})
    ctx.extra_run["dem"] = {**dem_meta, "files": [DEMO_SLOPE_FILES["dem"]], "synthetic": True}
    return {"slopes": csv_path, "slopes_map": html_path, "slopes_map_png": png_path}


#: Hook points for outputs from other modules (maps, area tables, report), run in order.
DEMO_HOOKS: list[DemoHook] = [_demo_by_area, _demo_map, _demo_reports]
#: Files the demo itself writes, by name.
DEMO_FILES = {
    "osm": "gangcheng_demo.osm",
    "coverage": "coverage.csv",
    "origins": "origins.gpkg",
    "run": "run.json",
}
DEFAULT_DEMO_DIR = Path(settings.DEMO_DIR)


def _is_demo_folder(out_dir: Path) -> bool:
    try:
        run = json.loads((out_dir / DEMO_FILES["run"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(run, dict) and run.get("synthetic_demo") is True


def run_demo(
    out_dir: str | os.PathLike = DEFAULT_DEMO_DIR,
    seed: int | None = None,
    cache: str | os.PathLike | bool | None = None,
    overwrite: bool = False,
    hooks: list[DemoHook] | None = None,
    dem: bool = False,
) -> dict[str, Path]:
    """Write the synthetic demo network and run coverage on it, offline.

    Parameters
    ----------
    out_dir : path-like
        Output folder (default ``maps/demo``). A folder holding an earlier demo
        (its run.json says ``synthetic_demo``) is replaced without asking; any
        other existing output needs ``overwrite``.
    seed : int, optional
        Generator seed (default :data:`gcgeo.demo.DEMO_SEED`).
    cache : path-like or bool, optional
        Network cache, as in :func:`gcgeo.study.open_study`.
    hooks : list of callables, optional
        Extra writers run after coverage (default :data:`DEMO_HOOKS`).
    dem : bool
        Also write the synthetic DEM (:mod:`gcgeo.demo_dem`) and compare the elderly
        persona's coverage with slopes and on flat streets (:data:`DEMO_SLOPE_FILES`).

    Returns
    -------
    dict of str to Path
        Every file written: ``osm``, ``coverage``, ``origins``, ``run`` and the hooks' files.
    """
    from ._io import output_set, write_csv, write_gpkg
    from .catalogue import load_catalogue
    from .coverage import DEFAULT_CELL_M, compute_coverage, grid_origins
    from .demo import DEMO_LABEL, DEMO_SEED, write_demo_osm
    from .qgis_style import coverage_styles
    from .study import open_study

    out = Path(out_dir)
    paths = {k: out / v for k, v in DEMO_FILES.items()}
    if not _is_demo_folder(out):
        extra = [out / v for v in DEMO_HOOK_FILES.values()] if hooks is None else []
        if dem:
            extra += [out / v for v in DEMO_SLOPE_FILES.values()]
        check_writable([*paths.values(), *extra], overwrite)
    with output_set(out) as stage:  # the whole set appears at once, or not at all
        staged = {k: stage / v for k, v in DEMO_FILES.items()}
        info = write_demo_osm(staged["osm"], seed=DEMO_SEED if seed is None else seed)
        cat = load_catalogue()
        study = open_study(staged["osm"], catalogue=cat, cache=cache)
        net = study.network
        origins = grid_origins(net, DEFAULT_CELL_M, None, "auto")
        result = compute_coverage(net, study.facilities, cat.select(None), origins)
        summary = result.summary.assign(
            origin_rule=result.meta["origin_rule"], data_note=DEMO_LABEL
        )
        write_csv(summary, staged["coverage"])
        cats = cat.select(None)
        write_gpkg(
            result.origins.assign(data_note=DEMO_LABEL),
            staged["origins"],
            layer="origins",
            styles=coverage_styles(result.origins, cats),
            more_layers={"facilities": study.facilities.assign(data_note=DEMO_LABEL)},
        )
        written = {k: staged[k] for k in ("osm", "coverage", "origins")}
        ctx = DemoContext(stage, study, result, info, DEMO_LABEL)
        if dem:
            from .demo_dem import write_demo_dem

            ctx.dem = write_demo_dem(stage / DEMO_SLOPE_FILES["dem"], info.bounds)
            written["dem"] = Path(ctx.dem)
        for hook in [*(DEMO_HOOKS if hooks is None else hooks), *([_demo_slopes] if dem else [])]:
            written.update(hook(ctx))
        written = {k: out / Path(v).relative_to(stage) for k, v in written.items()}
        written["run"] = paths["run"]
        run = {
            "label": DEMO_LABEL,
            "synthetic_demo": True,
            "demo": {**asdict(info), "path": str(paths["osm"])},
            "meta": result.meta,
            "study": study.meta,
            "summary": summary.to_dict(orient="records"),
            "outputs": {k: str(v) for k, v in written.items()},
            **ctx.extra_run,
        }
        text = json.dumps(run, ensure_ascii=False, indent=2, default=str)
        # paths recorded while staging name the final folder
        text = text.replace(json.dumps(str(stage))[1:-1], json.dumps(str(out))[1:-1])
        atomic_write_text(staged["run"], text)
    return written
