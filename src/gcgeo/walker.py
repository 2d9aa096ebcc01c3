"""Walkers: what a persona or ``--speed`` means, defined once.

Walkers (personas)
------------------
A persona (``persona = "elderly"`` in a scenario) and ``--speed`` mean the same thing: a
walking speed. The rule, in :func:`threshold_for` only (every command and
scenario calls it through :func:`walker_categories` or :func:`gcgeo.coverage.street_minutes`):

* ``threshold_basis="distance"`` (the default, :data:`gcgeo.settings.THRESHOLD_BASIS`):
  category thresholds are the standard's distances (kindergarten 300 m) whatever the
  speed; the speed changes the minutes columns and the search limit. Street colour bands
  are minutes at the pace the standard's distances are stated at
  (:data:`gcgeo.settings.WALK_SPEED_MPS`), so they do not move with the walker either.
* ``threshold_basis="time"``: a threshold is the tier's minutes at the walker's speed
  (kindergarten, 5-minute tier, at 0.8 m/s: 240 m), and street bands are minutes at that
  speed, so a tier's band edge is its threshold.

So ``gcgeo coverage --speed 0.8`` and a scenario with ``persona = "elderly"`` (0.8 m/s)
give the same baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from . import settings
from ._errors import InputError
from .catalogue import Category

__all__ = ["resolve_basis", "threshold_for", "walker_categories"]


def resolve_basis(threshold_basis: str | None, slopes: bool = False) -> str:
    """The threshold basis a run uses: the one asked for, else ``time`` with slopes (a
    DEM: walks are timed, so a tier's minutes are the threshold) and
    :data:`gcgeo.settings.THRESHOLD_BASIS` without.

    Raises
    ------
    InputError
        ``distance`` asked for together with slopes.
    """
    if threshold_basis is None:
        return "time" if slopes else settings.THRESHOLD_BASIS
    if threshold_basis not in settings.THRESHOLD_BASES:
        raise InputError(
            f"threshold basis {threshold_basis!r} must be one of "
            f"{', '.join(settings.THRESHOLD_BASES)}."
        )
    if slopes and threshold_basis == "distance":
        raise InputError(
            "--threshold-basis distance cannot be used with --dem: walks on slopes are "
            "timed, so thresholds are the tier's minutes; leave --threshold-basis out or "
            "pass time."
        )
    return threshold_basis


def threshold_for(
    category: Any, speed_mps: float, threshold_basis: str = settings.THRESHOLD_BASIS
) -> tuple[float, float]:
    """The walker rule (see the module docstring): a category's threshold for a walker.

    Parameters
    ----------
    category : Category
        Needs ``max_distance_m`` and ``tier`` (minutes).
    speed_mps : float
        The walker's speed (a persona's or ``--speed``).
    threshold_basis : {"distance", "time"}
        ``distance`` keeps the standard's metres; ``time`` takes the tier's minutes at
        ``speed_mps``.

    Returns
    -------
    threshold_m : float
        The distance threshold (m).
    band_speed_mps : float
        The speed street colour bands (minutes) are read at.
    """
    if threshold_basis not in settings.THRESHOLD_BASES:
        raise InputError(
            f"threshold basis {threshold_basis!r} must be one of "
            f"{', '.join(settings.THRESHOLD_BASES)}."
        )
    if threshold_basis == "time":
        return round(float(category.tier) * 60.0 * speed_mps, 2), float(speed_mps)
    return float(category.max_distance_m), float(settings.WALK_SPEED_MPS)


def walker_categories(
    categories: Sequence[Category],
    speed_mps: float,
    threshold_basis: str = settings.THRESHOLD_BASIS,
) -> list[Category]:
    """``categories`` with the thresholds of :func:`threshold_for` (unchanged for distance)."""
    out = []
    for c in categories:
        thr = threshold_for(c, speed_mps, threshold_basis)[0]
        out.append(c if thr == c.max_distance_m else dataclasses.replace(c, max_distance_m=thr))
    return out
