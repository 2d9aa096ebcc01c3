"""Who counts and how much: population weights, weighted means and medians that count the far.

Every coverage table has a ``basis`` column saying what its numbers count:

* ``population`` — the origins have a ``population`` column: shares, ``covered_population``,
  mean completeness and median distances are weighted by it (an origin of 400 people
  counts four times one of 100);
* ``origins`` — no population column: every origin counts once (``covered`` is then the
  number of covered origins, the same count as everywhere).

A median distance counts every origin, also those whose nearest facility lies beyond the
search limit or cannot be reached at all ("beyond"). When the (weighted) median falls
among them, it is not a number: machine tables give ``median_dist_m`` = NaN with
``median_beyond_limit`` True and ``median_text`` ``"> 990 m"``; pages show that text.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ._errors import InputError
from .columns import POPULATION

__all__ = [
    "BASES",
    "median_columns",
    "median_text",
    "origin_weights",
    "weighted_mean",
    "weighted_median",
]

#: The values of the ``basis`` column: what a table's numbers count.
BASES = ("population", "origins")


def origin_weights(origins: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Each origin's weight and the table basis.

    Parameters
    ----------
    origins : DataFrame
        Origins, optionally with a ``population`` column.

    Returns
    -------
    weights : ndarray of float
        The population of each origin, or ones.
    basis : str
        ``"population"`` or ``"origins"`` (:data:`BASES`).

    Raises
    ------
    InputError
        The population column has missing, negative or infinite values.
    """
    if POPULATION not in origins.columns:
        return np.ones(len(origins)), "origins"
    w = pd.to_numeric(origins[POPULATION], errors="coerce").to_numpy(float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError(
            f"The origins' {POPULATION!r} column has missing, negative or infinite values; "
            "fix them."
        )
    return w, "population"


def weighted_mean(values: ArrayLike, weights: ArrayLike) -> float:
    """Weighted mean of the finite ``values`` (NaN when they carry no weight)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = np.isfinite(v)
    tot = float(w[ok].sum())
    return float((v[ok] * w[ok]).sum() / tot) if tot > 0 else math.nan


def weighted_median(values: ArrayLike, weights: ArrayLike) -> tuple[float, bool]:
    """Weighted median distance, counting unreached origins as beyond every distance.

    The rule: sort the origins by distance, with NaN and inf ("not found within the search
    limit" or unreachable) last. The median is the distance at which the cumulative weight
    first exceeds half of the total; when it equals half exactly at one distance, the
    median is the mean of that distance and the next one (with equal weights this is
    :func:`numpy.median`). When the median is, or is the mean with, a beyond origin it is
    beyond the limit.

    Parameters
    ----------
    values : array_like
        Distances (m); NaN or inf for beyond the search limit or unreachable.
    weights : array_like
        Non-negative weights, one per value.

    Returns
    -------
    median : float
        The median distance; NaN when beyond the limit or when there is no weight.
    beyond : bool
        Whether the median lies beyond the search limit.
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    keep = w > 0
    v, w = np.where(np.isfinite(v[keep]), v[keep], np.inf), w[keep]
    total = float(w.sum())
    if not len(v) or total <= 0:
        return math.nan, False
    order = np.argsort(v, kind="stable")
    v, cum = v[order], np.cumsum(w[order])
    half = total / 2.0
    k = int(np.searchsorted(cum, half, side="left"))
    exact = math.isclose(float(cum[k]), half, rel_tol=1e-12) and k + 1 < len(v)
    med = (v[k] + v[k + 1]) / 2.0 if exact else v[k]
    if not np.isfinite(med):
        return math.nan, True
    return float(med), False


def median_text(median_m: float, beyond: bool, limit_m: float | None) -> str:
    """The median as people read it: ``"684 m"``, ``"> 990 m"`` or ``"—"``."""
    if beyond:
        return f"> {limit_m:,.0f} m" if limit_m is not None else "> search limit"
    if not math.isfinite(median_m):
        return "—"
    return f"{median_m:,.0f} m"


def median_columns(
    distances: ArrayLike, weights: ArrayLike, limit_m: float | None
) -> dict[str, object]:
    """The three median columns of a coverage table row.

    Returns
    -------
    dict
        ``median_dist_m`` (NaN when beyond), ``median_beyond_limit`` (bool) and
        ``median_text`` (:func:`median_text`), from :func:`weighted_median`.
    """
    med, beyond = weighted_median(distances, weights)
    return {
        "median_dist_m": round(med, 2) if math.isfinite(med) else math.nan,
        "median_beyond_limit": beyond,
        "median_text": median_text(med, beyond, limit_m),
    }
