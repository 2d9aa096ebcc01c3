"""Coverage before and after scenarios: delta tables by category and area, changed origins.

Origins are counted in areas by the one point-in-area rule,
:func:`gcgeo.coverage.point_in_area`, so a zone holds the same origins here as in the
by-area table of ``gcgeo coverage``.

A persona sets the walking speed, nothing else: thresholds follow the one walker rule of
:func:`gcgeo.walker.threshold_for` (the standard's distances by default, the tier's minutes
at the persona's speed with ``threshold_basis="time"``), so a scenario's *before* equals
``gcgeo coverage --speed <persona speed>``. Shares are weighted as :mod:`gcgeo.weights`
says; every delta table has a ``basis`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import settings
from .._errors import InputError, ScenarioError
from ..catalogue import Category
from ..columns import dist_col, reached_col
from ..coverage import CoverageResult, compute_coverage, point_in_area
from ..network import StreetNetwork
from ..snap import DEFAULT_MAX_SNAP_M
from ..walker import walker_categories
from ..weights import origin_weights
from .edit import apply_scenario
from .parse import Scenario

__all__ = ["ScenarioResult", "area_membership", "compare", "persona_categories"]


def persona_categories(
    categories: Sequence[Category],
    speed_mps: float,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> list[Category]:
    """Categories with a persona's thresholds: :func:`gcgeo.walker.walker_categories`.

    With the default ``distance`` basis the thresholds stay the standard's distances; with
    ``time`` they are the tier's minutes at ``speed_mps``.
    """
    return walker_categories(categories, speed_mps, threshold_basis)


def area_membership(
    origins: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (origin position, area position) of the origins each area counts.

    Membership is the one rule of :func:`gcgeo.coverage.point_in_area` (inside or on the
    boundary, tested in EPSG:4548, a shared border or an overlap going to the first area
    in the layer's order), the rule ``gcgeo coverage`` uses for its by-area table: each
    origin is in at most one area.

    Parameters
    ----------
    origins : geopandas.GeoDataFrame
        Origin points (any CRS).
    areas : geopandas.GeoDataFrame
        Polygons with ``code``, ``name_zh``, ``name_en`` (any CRS).

    Returns
    -------
    o_idx, a_idx : numpy.ndarray of int64
        Positions in ``origins`` and ``areas``, ordered by origin.

    Raises
    ------
    InputError
        The area layer lacks ``code``, ``name_zh``, ``name_en`` or a CRS.
    """
    missing = [c for c in ("code", "name_zh", "name_en") if c not in areas.columns]
    if missing:
        raise InputError(
            f"area layer lacks column(s) {', '.join(missing)}; it needs code, name_zh, name_en."
        )
    pos = point_in_area(origins, areas)
    o_idx = np.flatnonzero(pos >= 0).astype(np.int64)
    return o_idx, pos[o_idx]


@dataclass
class ScenarioResult:
    """Coverage before and after one or more scenarios.

    Attributes
    ----------
    scenarios : list of Scenario
    delta : DataFrame
        One row per (category, area); ``area_code == "all"`` is the whole study.
        With one scenario the value columns are ``before_share``, ``after_share``,
        ``delta_share``, ``before_covered``, ``after_covered``, ``gained``,
        ``lost``; with several, each is prefixed ``<scenario name>:``.
    tables : dict of str to DataFrame
        The plain (unprefixed) delta table of each scenario.
    changes : GeoDataFrame
        One row per (scenario, origin, category) whose reach changed, with
        ``change`` ("gained" / "lost"), ``dist_before_m``, ``dist_after_m``.
    before, after : dict of str to CoverageResult
        Coverage of each scenario before and after its changes.
    """

    scenarios: list[Scenario]
    delta: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    changes: gpd.GeoDataFrame
    before: dict[str, CoverageResult]
    after: dict[str, CoverageResult]


_VALUE_COLS = (
    "before_share",
    "after_share",
    "delta_share",
    "before_covered",
    "after_covered",
    "gained",
    "lost",
    "before_covered_population",
    "after_covered_population",
)


def _delta_table(
    before: CoverageResult,
    after: CoverageResult,
    categories: Sequence[Category],
    weights: np.ndarray,
    basis: str,
    membership: tuple[np.ndarray, np.ndarray] | None,
    areas: gpd.GeoDataFrame | None,
) -> pd.DataFrame:
    rows = []
    n = len(weights)
    groups: list[tuple[str, str, str, np.ndarray]] = [("all", "全部", "all", np.arange(n))]
    if membership is not None and areas is not None:
        o_idx, a_idx = membership
        order = np.argsort(a_idx, kind="stable")
        o_idx, a_idx = o_idx[order], a_idx[order]
        bounds = np.searchsorted(a_idx, np.arange(len(areas) + 1))
        for k in range(len(areas)):
            r = areas.iloc[k]
            groups.append(
                (
                    str(r["code"]),
                    str(r["name_zh"]),
                    str(r["name_en"]),
                    o_idx[bounds[k] : bounds[k + 1]],
                )
            )
    for cat in categories:
        b = before.origins[reached_col(cat.id)].to_numpy(bool)
        a = after.origins[reached_col(cat.id)].to_numpy(bool)
        for code, zh, en, idx in groups:
            w = weights[idx]
            tot = float(w.sum())
            bs = float(w[b[idx]].sum()) / tot if tot > 0 else np.nan
            as_ = float(w[a[idx]].sum()) / tot if tot > 0 else np.nan
            rows.append(
                {
                    "category": cat.id,
                    "area_code": code,
                    "area_name_zh": zh,
                    "area_name_en": en,
                    "threshold_m": cat.max_distance_m,
                    "basis": basis,
                    "origins": len(idx),
                    "before_share": round(bs, 4),
                    "after_share": round(as_, 4),
                    "delta_share": round(as_ - bs, 4),
                    "before_covered": int(b[idx].sum()),
                    "after_covered": int(a[idx].sum()),
                    "gained": int((a[idx] & ~b[idx]).sum()),
                    "lost": int((b[idx] & ~a[idx]).sum()),
                    "before_covered_population": float(w[b[idx]].sum()),
                    "after_covered_population": float(w[a[idx]].sum()),
                }
            )
    return pd.DataFrame(rows)


def compare(
    net: StreetNetwork,
    facilities: gpd.GeoDataFrame,
    categories: Sequence[Category],
    origins: gpd.GeoDataFrame,
    scenario: Scenario | Sequence[Scenario],
    areas: gpd.GeoDataFrame | None = None,
    max_snap: float = DEFAULT_MAX_SNAP_M,
    limit: float | None = None,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> ScenarioResult:
    """Coverage before and after one or several scenarios, by category and area.

    Parameters
    ----------
    net : StreetNetwork
    facilities : GeoDataFrame
        ``facility_id``, ``name``, ``category`` points (any CRS).
    categories : sequence of Category
        Categories to compare (thresholds follow :func:`gcgeo.walker.threshold_for` at each
        scenario's persona speed).
    origins : GeoDataFrame
        Origin points; an optional ``population`` column weights the shares (``basis``).
    scenario : Scenario or sequence of Scenario
        Compared side by side, each against its own baseline (same persona).
    areas : GeoDataFrame, optional
        Zones or renewal areas (``code``, ``name_zh``, ``name_en``, polygons);
        adds one row per (category, area). Origins are counted in areas by
        :func:`gcgeo.coverage.point_in_area`, as in ``gcgeo coverage``.
    max_snap, limit : float
        See :func:`gcgeo.coverage.compute_coverage`.
    threshold_basis : {"distance", "time"}
        What thresholds mean at a persona's speed (:func:`gcgeo.walker.threshold_for`).

    Returns
    -------
    ScenarioResult
    """
    scenarios = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    if not scenarios:
        raise ScenarioError("No scenario given; pass at least one scenario file.")
    names = [s.name for s in scenarios]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise ScenarioError(
            f"Scenario name {sorted(dupes)[0]!r} is used by more than one file; give each a distinct name."
        )
    weights, basis = origin_weights(origins)
    before_cache: dict[float, CoverageResult] = {}
    before: dict[str, CoverageResult] = {}
    after: dict[str, CoverageResult] = {}
    tables: dict[str, pd.DataFrame] = {}
    change_frames = []
    membership = None
    for sc in scenarios:
        cats = walker_categories(categories, sc.speed_mps, threshold_basis)
        if sc.speed_mps not in before_cache:
            before_cache[sc.speed_mps] = compute_coverage(
                net, facilities, cats, origins, sc.speed_mps, max_snap, limit, threshold_basis
            )
        b = before_cache[sc.speed_mps]
        new_net, new_fac = apply_scenario(net, facilities, sc)
        a = compute_coverage(
            new_net, new_fac, cats, origins, sc.speed_mps, max_snap, limit, threshold_basis
        )
        if areas is not None and membership is None:
            membership = area_membership(b.origins, areas)
        before[sc.name], after[sc.name] = b, a
        tables[sc.name] = _delta_table(b, a, cats, weights, basis, membership, areas)
        for cat in cats:
            rb = b.origins[reached_col(cat.id)].to_numpy(bool)
            ra = a.origins[reached_col(cat.id)].to_numpy(bool)
            idx = np.flatnonzero(rb != ra)
            if not len(idx):
                continue
            change_frames.append(
                gpd.GeoDataFrame(
                    {
                        "scenario": sc.name,
                        "origin": idx,
                        "category": cat.id,
                        "change": np.where(ra[idx], "gained", "lost"),
                        "threshold_m": cat.max_distance_m,
                        "dist_before_m": b.origins[dist_col(cat.id)].to_numpy(float)[idx],
                        "dist_after_m": a.origins[dist_col(cat.id)].to_numpy(float)[idx],
                    },
                    geometry=b.origins.geometry.values[idx],
                    crs=b.origins.crs,
                )
            )
    if change_frames:
        changes = gpd.GeoDataFrame(pd.concat(change_frames, ignore_index=True), crs=net.crs)
    else:
        changes = gpd.GeoDataFrame(
            {
                "scenario": pd.Series([], dtype=object),
                "origin": pd.Series([], dtype=np.int64),
                "category": pd.Series([], dtype=object),
                "change": pd.Series([], dtype=object),
                "threshold_m": pd.Series([], dtype=float),
                "dist_before_m": pd.Series([], dtype=float),
                "dist_after_m": pd.Series([], dtype=float),
            },
            geometry=gpd.GeoSeries([], crs=net.crs),
            crs=net.crs,
        )
    if len(scenarios) == 1:
        delta = tables[scenarios[0].name]
    else:
        keys = ["category", "area_code", "area_name_zh", "area_name_en", "basis", "origins"]
        delta = None
        for sc in scenarios:
            t = tables[sc.name]
            part = t[keys + ["threshold_m", *_VALUE_COLS]].rename(
                columns={c: f"{sc.name}:{c}" for c in ("threshold_m", *_VALUE_COLS)}
            )
            delta = part if delta is None else delta.merge(part, on=keys, how="outer", sort=False)
    return ScenarioResult(scenarios, delta, tables, changes, before, after)
