"""Workflow commands: ``gcgeo fetch``, ``gcgeo cache list|clear`` and ``gcgeo demo``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from ._cli_common import (
    Measure,
    cache_from_options,
    cache_options,
    echo_json,
    handle_errors,
    json_option,
    overwrite_option,
)
from ._errors import FetchError, InputError
from ._io import atomic_write_text, check_writable
from ._progress import steps
from .cache import clear_cache, list_cache, resolve_cache_dir

__all__ = [
    "DEFAULT_DEMO_DIR",
    "DEMO_FILES",
    "DEMO_HOOKS",
    "DEMO_HOOK_FILES",
    "DemoContext",
    "DemoHook",
    "cache_group",
    "demo",
    "fetch",
    "run_demo",
]

_cache_dir_option = click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="Cache folder (default: $GCGEO_CACHE_DIR or the user cache folder).",
)


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


@click.group("cache")
def cache_group() -> None:
    """Inspect or clear the cache of built networks and fetched OSM files."""


@cache_group.command("list")
@_cache_dir_option
@json_option
@handle_errors
def cache_list(cache_dir: str | None, as_json: bool) -> None:
    """List cached networks (file, content hash, settings, size, date) and fetched OSM files."""
    root = resolve_cache_dir(cache_dir or True)
    assert root is not None
    entries = list_cache(root)
    if as_json:
        echo_json({"cache_dir": str(root), "entries": entries})
        return
    click.echo(f"Cache folder: {root}")
    if not entries:
        click.echo("  (empty)")
        return
    for e in entries:
        s = e["settings"]
        if e["kind"] == "network":
            what = (
                f"private={'yes' if s.get('include_private') else 'no'} crs={s.get('crs')} "
                f"clip={s.get('clip') or '-'} catalogue={s.get('catalogue')} gcgeo={s.get('gcgeo')}"
            )
        else:
            what = ", ".join(f"{k}={v}" for k, v in s.items()) or "-"
        click.echo(
            f"  {e['kind']:<7} {e['hash']:<12} {_human(e['bytes']):>9}  {e['date']}  "
            f"{e['file']}  [{what}]"
        )


@cache_group.command("clear")
@_cache_dir_option
@click.option(
    "--include-osm",
    is_flag=True,
    default=False,
    help="Also delete OSM files downloaded by `gcgeo fetch`.",
)
@click.option("--yes", "-y", is_flag=True, default=False, help="Do not ask for confirmation.")
@handle_errors
def cache_clear(cache_dir: str | None, include_osm: bool, yes: bool) -> None:
    """Delete cached networks (they are rebuilt from the OSM file on the next run)."""
    root = resolve_cache_dir(cache_dir or True)
    assert root is not None
    what = "cached networks" + (" and fetched OSM files" if include_osm else "")
    if not yes:
        click.confirm(f"Delete all {what} in {root}?", abort=True)
    n = clear_cache(root, include_osm=include_osm)
    click.echo(f"Removed {n} entr{'y' if n == 1 else 'ies'} from {root}.")


# --- fetch ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "-", text).strip("-")
    return s or "area"


def _default_boundary() -> Any:
    """The district boundary layer, when the layers module is part of this build."""
    try:
        from .layers import load_layer  # type: ignore[import-not-found]
    except ImportError as exc:
        raise InputError(
            "No district boundary layer is installed with this gcgeo (layers/boundary.geojson); "
            "pass --boundary FILE (a WGS-84 polygon) or --place NAME."
        ) from exc
    return load_layer("boundary")


def _to_wgs84_polygon(layer: Any, what: str) -> Any:
    import geopandas as gpd
    import shapely

    if isinstance(layer, gpd.GeoDataFrame | gpd.GeoSeries):
        if layer.crs is None:
            raise InputError(f"{what} has no CRS; save it with one (e.g. EPSG:4326).")
        geom = shapely.union_all(layer.to_crs("EPSG:4326").geometry.values)
    elif isinstance(layer, shapely.Geometry):
        geom = layer
    else:
        raise InputError(f"{what} is not a polygon layer; pass --boundary FILE.")
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(f"{what} holds no polygon; pass a polygon boundary (GeoJSON/GPKG).")
    return geom


def _place_polygon(place: str) -> Any:
    try:
        import osmnx as ox

        use_cache = ox.settings.use_cache
        ox.settings.use_cache = False  # osmnx would write ./cache in the working folder
        try:
            gdf = ox.geocode_to_gdf(place)
        finally:
            ox.settings.use_cache = use_cache
    except Exception as exc:  # network errors and "no result" alike
        from .fetch import OFFLINE_HINT

        raise FetchError(
            f"Could not look up the place {place!r} with Nominatim ({type(exc).__name__}); "
            f"pass --boundary FILE instead, or {OFFLINE_HINT}."
        ) from exc
    return _to_wgs84_polygon(gdf, f"The place {place!r}")


@click.command()
@click.option(
    "--boundary",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Polygon of the area (GeoJSON/GPKG with a CRS). Default: the district boundary layer.",
)
@click.option(
    "--place",
    default=None,
    help="Look the area up by name with Nominatim instead, e.g. '钢城区, 济南市'.",
)
@click.option("--name", default=None, help="File name in the cache (default from the area).")
@click.option(
    "--endpoint",
    default=None,
    help="Overpass API URL (default: osmnx.settings.overpass_url, https://overpass-api.de/api).",
)
@click.option(
    "--timeout",
    type=Measure("seconds", high=86_400, example="180"),
    default=180.0,
    show_default=True,
    help="Seconds to wait for the download (also the server-side query limit).",
)
@click.option(
    "--buffer",
    "buffer_m",
    type=Measure("metres", low_open=False, high=50_000, example="1000"),
    default=1000.0,
    show_default=True,
    help="Metres added around the area so walks crossing the edge are not cut.",
)
@_cache_dir_option
@click.option(
    "--catalogue",
    "catalogue_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Facility catalogue deciding which tags are fetched.",
)
@overwrite_option
@json_option
@handle_errors
def fetch(**kw: Any) -> None:
    """Download streets and facilities from OpenStreetMap (Overpass) into the cache.

    Writes CACHE/osm/NAME.osm (OSM XML, © OpenStreetMap contributors, ODbL 1.0)
    and NAME.json (date, query, endpoint, area). Use the file like any extract:
    gcgeo coverage --osm CACHE/osm/NAME.osm --out DIR. Without internet, download
    a Shandong extract (Geofabrik China / openstreetmap.org export) and pass --osm.

    The boundary must be WGS-84; an Amap (GCJ-02) outline is about 500 m off, which
    the default 1 km buffer still covers.
    """
    from .catalogue import load_catalogue
    from .fetch import fetch_osm

    if kw["boundary"] and kw["place"]:
        raise InputError("Pass either --boundary or --place, not both.")
    cat = load_catalogue(kw["catalogue_path"])
    if kw["boundary"]:
        from ._cli_common import read_boundary

        poly = _to_wgs84_polygon(read_boundary(kw["boundary"]), f"Boundary {kw['boundary']!r}")
        name, source = Path(kw["boundary"]).stem, f"file:{kw['boundary']}"
    elif kw["place"]:
        poly = _place_polygon(kw["place"])
        name, source = _slug(kw["place"]), f"nominatim:{kw['place']}"
    else:
        poly = _to_wgs84_polygon(_default_boundary(), "The district boundary layer")
        name, source = "gangcheng", "layer:boundary"
    name = kw["name"] or name
    root = resolve_cache_dir(kw["cache_dir"] or True)
    res = fetch_osm(
        poly,
        name,
        cache_dir=root,
        endpoint=kw["endpoint"],
        timeout=kw["timeout"],
        buffer_m=kw["buffer_m"],
        catalogue=cat,
        overwrite=kw["overwrite"],
        source=source,
    )
    if kw["as_json"]:
        echo_json({"osm": str(res.osm_path), "meta": str(res.meta_path), **res.meta})
        return
    c = res.meta["counts"]
    click.echo(
        f"Wrote {res.osm_path} ({_human(res.meta['bytes'])}, {c['highway_ways']} street ways, "
        f"{c['poi_nodes']} facility candidates; {res.meta['attribution']})"
    )
    click.echo(f"Next: gcgeo coverage --osm {res.osm_path} --out DIR")


# --- demo ----------------------------------------------------------------------------


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
    from .layers import assign_areas, coverage_by_area

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
    maps.completeness_layer(ctx.result.origins, m, cell_size=DEFAULT_CELL_M, show=False)
    maps.streets_by_minutes(
        edges, "walk_min", m, name=f"{cat.name_zh} 步行时间 {cat.name_en} walking time"
    )
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
        areas=zones,
        facilities=ctx.study.facilities[ctx.study.facilities["category"] == cat.id],
        categories=[cat],
        title=f"{cat.name_zh} 步行时间 {cat.name_en} walking time\n示例 {ctx.label}",
        figsize=(11.0, 8.0),
    )
    png_path = ctx.out_dir / DEMO_HOOK_FILES["map_png"]
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", metadata={"Title": title, "Description": ctx.label})
    return {"map": html_path, "map_png": png_path}


def _demo_reports(ctx: DemoContext) -> dict[str, Path]:
    """reports/: one offline HTML report per zone and renewal area, plus index.html."""
    from .coverage import DEFAULT_CELL_M
    from .layers import assign_areas
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
    for name, text in pages.items():
        atomic_write_text(folder / name, text)
        written["reports" if name == "index.html" else f"report:{name}"] = folder / name
    return written


#: Hook points for outputs from other modules (maps, area tables, report), run in order.
DEMO_HOOKS: list[DemoHook] = [_demo_by_area, _demo_map, _demo_reports]
#: Files the demo itself writes, by name.
DEMO_FILES = {
    "osm": "gangcheng_demo.osm",
    "coverage": "coverage.csv",
    "origins": "origins.gpkg",
    "run": "run.json",
}
DEFAULT_DEMO_DIR = Path("maps") / "demo"


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

    Returns
    -------
    dict of str to Path
        Every file written: ``osm``, ``coverage``, ``origins``, ``run`` and the hooks' files.
    """
    from ._io import output_set, write_csv, write_gpkg
    from .catalogue import load_catalogue
    from .coverage import DEFAULT_CELL_M, compute_coverage, grid_origins
    from .demo import DEMO_LABEL, DEMO_SEED, write_demo_osm
    from .study import open_study

    out = Path(out_dir)
    paths = {k: out / v for k, v in DEMO_FILES.items()}
    if not _is_demo_folder(out):
        extra = [out / v for v in DEMO_HOOK_FILES.values()] if hooks is None else []
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
        write_gpkg(result.origins.assign(data_note=DEMO_LABEL), staged["origins"], layer="origins")
        written = {k: staged[k] for k in ("osm", "coverage", "origins")}
        ctx = DemoContext(stage, study, result, info, DEMO_LABEL)
        for hook in DEMO_HOOKS if hooks is None else hooks:
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
        }
        text = json.dumps(run, ensure_ascii=False, indent=2, default=str)
        # paths recorded while staging name the final folder
        text = text.replace(json.dumps(str(stage))[1:-1], json.dumps(str(out))[1:-1])
        atomic_write_text(staged["run"], text)
    return written


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=str(DEFAULT_DEMO_DIR),
    show_default=True,
    help="Output folder. An earlier demo there is replaced without asking.",
)
@click.option("--seed", type=int, default=None, help="Generator seed (default 370117).")
@click.option(
    "--overwrite",
    is_flag=True,
    default=False,
    help="Also replace files in --out that an earlier demo did not write.",
)
@cache_options[0]
@cache_options[1]
@json_option
@handle_errors
def demo(**kw: Any) -> None:
    """Run gcgeo offline on a synthetic street network of 钢城区's urban core.

    Generates a seeded, made-up street pattern (main-road grid, residential blocks,
    gated compounds, cul-de-sacs, facilities named "示例 Demo …") around the
    estimated government seat and 钢城站, writes it as OSM XML and runs the same
    coverage as `gcgeo coverage`. Every output says "synthetic demo network — not
    real streets". The demo folder is gcgeo's own output: re-running the demo
    replaces it; files there that a demo did not write need --overwrite.
    """
    from .demo import DEMO_LABEL

    with steps(1, enabled=not kw["as_json"]) as step:
        step("generating the demo network and running coverage")
        files = run_demo(
            kw["out_dir"], kw["seed"], cache_from_options(kw), overwrite=kw["overwrite"]
        )
    if kw["as_json"]:
        echo_json({"label": DEMO_LABEL, "outputs": {k: str(v) for k, v in files.items()}})
        return
    run = json.loads(files["run"].read_text(encoding="utf-8"))
    click.echo(f"gcgeo demo — {DEMO_LABEL}")
    d = run["demo"]
    click.echo(
        f"  {d['nodes']} nodes, {d['ways']} ways, {d['gated_compounds']} gated compounds, "
        f"{d['dead_ends']} cul-de-sacs, {sum(d['facilities'].values())} facilities"
    )
    for r in run["summary"]:
        click.echo(
            f"  {r['name_zh']} {r['name_en']}: {r['share']:.1%} within {r['threshold_m']:g} m"
        )
    click.echo("Wrote " + ", ".join(str(p) for p in files.values()))
