"""The 城市体检 indicator catalogue: which shares ``gcgeo checkup`` reports, and how sure each value is.

The shipped file is ``gcgeo/indicators.toml`` (beside the facility catalogue); a planner
passes their own with ``--indicators FILE`` (same keys). Every value carries a status,
``checked`` or ``to_confirm``, and its source: nothing in it is official until a planner
confirms it against the year's checkup notice.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import InputError
from .catalogue import Catalogue

__all__ = ["BASES", "STATUSES", "Indicator", "TierSize", "load_indicators", "load_tier_sizes"]

#: What an indicator's share is of: residential land area, residents, or origin cells.
BASES = ("area", "population", "origins")
#: How sure a value is.
STATUSES = ("checked", "to_confirm")
_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_TEXT_KEYS = ("name_zh", "name_en", "level", "definition", "radius_source", "name_source")


@dataclass(frozen=True)
class Indicator:
    """One checkup indicator (see ``gcgeo/indicators.toml`` for the meaning of each key)."""

    id: str
    name_zh: str
    name_en: str
    level: str
    definition: str
    basis: str
    categories: tuple[str, ...]
    radius_m: float | None
    radius_status: str
    radius_source: str
    name_status: str
    name_source: str
    target: float | None = None
    target_status: str = "to_confirm"
    target_source: str = ""

    @property
    def status(self) -> str:
        """``checked`` only when every value it uses is checked."""
        parts = [self.radius_status, self.name_status]
        if self.target is not None:
            parts.append(self.target_status)
        return "checked" if all(p == "checked" for p in parts) else "to_confirm"

    @property
    def source(self) -> str:
        bits = [f"radius: {self.radius_source}", f"name: {self.name_source}"]
        if self.target is not None:
            bits.append(f"target: {self.target_source}")
        return "; ".join(bits)


@dataclass(frozen=True)
class TierSize:
    """Residents one facility of a life-circle tier serves (for shortfalls)."""

    minutes: int
    residents_per_facility: float
    status: str
    source: str


def _fail(where: str, msg: str) -> InputError:
    return InputError(f"{where}: {msg}")


def _indicator(doc: dict[str, Any], where: str, catalogue: Catalogue) -> Indicator:
    known = {f for f in Indicator.__dataclass_fields__}
    extra = sorted(set(doc) - known)
    if extra:
        raise _fail(where, f"unknown key {extra[0]!r}; known keys: {', '.join(sorted(known))}.")
    iid = doc.get("id")
    if not isinstance(iid, str) or not _ID.match(iid):
        raise _fail(
            where, f"id {iid!r} must be snake_case letters, digits and _ (e.g. park_coverage)."
        )
    where = f"{where} ({iid})"
    for k in _TEXT_KEYS:
        if not isinstance(doc.get(k, ""), str):
            raise _fail(where, f"{k} must be text.")
    for k in ("name_zh", "definition"):
        if not doc.get(k):
            raise _fail(where, f"{k} is required.")
    basis = doc.get("basis", "area")
    if basis not in BASES:
        raise _fail(where, f"basis {basis!r} must be one of {', '.join(BASES)}.")
    cats = doc.get("categories")
    if cats == "life_circle":
        cats = list(catalogue.life_circle_ids())
    if not isinstance(cats, list) or not cats or not all(isinstance(c, str) for c in cats):
        raise _fail(where, 'categories must be a list of category ids, or "life_circle".')
    unknown = [c for c in cats if c not in catalogue.categories]
    if unknown:
        raise _fail(where, f"category {unknown[0]!r} is not in the facility catalogue.")
    radius = doc.get("radius_m")
    if radius is not None and (
        isinstance(radius, bool)
        or not isinstance(radius, int | float)
        or not (math.isfinite(radius) and 0 < radius <= 10_000)
    ):
        raise _fail(where, f"radius_m {radius!r} must be metres between 0 and 10000.")
    target = doc.get("target")
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, int | float) or not 0 <= target <= 1
    ):
        raise _fail(where, f"target {target!r} must be a share between 0 and 1.")
    for k in ("radius_status", "name_status", "target_status"):
        v = doc.get(k, "to_confirm")
        if v not in STATUSES:
            raise _fail(where, f"{k} {v!r} must be checked or to_confirm.")
    return Indicator(
        id=iid,
        name_zh=doc["name_zh"],
        name_en=doc.get("name_en", ""),
        level=doc.get("level", ""),
        definition=doc["definition"],
        basis=basis,
        categories=tuple(cats),
        radius_m=None if radius is None else float(radius),
        radius_status=doc.get("radius_status", "to_confirm"),
        radius_source=doc.get("radius_source", ""),
        name_status=doc.get("name_status", "to_confirm"),
        name_source=doc.get("name_source", ""),
        target=None if target is None else float(target),
        target_status=doc.get("target_status", "to_confirm"),
        target_source=str(doc.get("target_source", "")),
    )


def _read(path: str | os.PathLike | None) -> tuple[dict[str, Any], str]:
    if path is None:
        text = (resources.files("gcgeo") / "indicators.toml").read_text(encoding="utf-8")
        where = "indicators.toml"
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"Cannot read the indicator file {where!r} ({exc}).") from exc
    try:
        return tomllib.loads(text), where
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Indicator file {where!r} is not valid TOML ({exc}).") from exc


def load_indicators(
    path: str | os.PathLike | None = None, catalogue: Catalogue | None = None
) -> list[Indicator]:
    """The indicators of ``path`` (default: the shipped ``indicators.toml``), checked.

    Raises
    ------
    InputError
        The file cannot be read or parsed, or an entry is malformed (one sentence naming it).
    """
    from .catalogue import load_catalogue

    catalogue = catalogue or load_catalogue()
    doc, where = _read(path)
    rows = doc.get("indicator")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"Indicator file {where!r} has no [[indicator]] entries.")
    out = [_indicator(r, f"{where} [[indicator]] #{i + 1}", catalogue) for i, r in enumerate(rows)]
    ids = [i.id for i in out]
    dupes = sorted({x for x in ids if ids.count(x) > 1})
    if dupes:
        raise InputError(f"Indicator file {where!r} lists id {dupes[0]!r} twice.")
    return out


def load_tier_sizes(path: str | os.PathLike | None = None) -> dict[int, TierSize]:
    """The ``[[tier]]`` entries of the indicator file: residents per facility by tier."""
    doc, where = _read(path)
    out: dict[int, TierSize] = {}
    for i, t in enumerate(doc.get("tier", [])):
        at = f"{where} [[tier]] #{i + 1}"
        minutes, per = t.get("minutes"), t.get("residents_per_facility")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            raise _fail(at, f"minutes {minutes!r} must be a whole number of minutes.")
        if isinstance(per, bool) or not isinstance(per, int | float) or not per > 0:
            raise _fail(at, f"residents_per_facility {per!r} must be a positive number.")
        status = t.get("status", "to_confirm")
        if status not in STATUSES:
            raise _fail(at, f"status {status!r} must be checked or to_confirm.")
        out[minutes] = TierSize(minutes, float(per), status, str(t.get("source", "")))
    return out
