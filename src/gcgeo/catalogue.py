"""The facility catalogue: categories, life-circle tiers, thresholds and OSM rules.

The default catalogue ships as ``catalogue.toml`` inside the package; a
planner may pass their own file of the same form. Each threshold carries its
``status`` (``checked`` or ``to_confirm``) from the standards notes.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import CategoryError

__all__ = [
    "Catalogue",
    "Category",
    "Rule",
    "load_catalogue",
]

_STATUSES = ("checked", "to_confirm")
_TRANSPORT_KEYS = ("highway", "public_transport", "railway")


@dataclass(frozen=True)
class Rule:
    """One matching rule: any of ``tags``, and a name containing one of ``names``."""

    tags: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()

    def matches(self, tags: Mapping[str, str], name: str) -> bool:
        if any(x in name for x in self.exclude_names):
            return False
        if self.tags:
            if not any((k in tags) and (v == "*" or tags[k] == v) for k, v in self.tags):
                return False
        elif any(k in tags for k in _TRANSPORT_KEYS) or tags.get("amenity", "").startswith(
            "parking"
        ):
            return False  # name-only rules never classify stops, stations or car parks
        if self.names:
            return any(x in name for x in self.names)
        return bool(self.tags)


@dataclass(frozen=True)
class Category:
    """A service category of the life circle."""

    id: str
    name_zh: str
    name_en: str
    tier: int
    max_distance_m: float
    status: str
    basis: str = ""
    in_life_circle: bool = True
    rules: tuple[Rule, ...] = ()

    @property
    def label(self) -> str:
        """Bilingual label, Chinese first."""
        return f"{self.name_zh} {self.name_en}"

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Whether an OSM feature with these tags belongs to this category."""
        name = tags.get("name", "") or tags.get("name:zh", "") or ""
        return any(r.matches(tags, name) for r in self.rules)


@dataclass(frozen=True)
class Catalogue:
    """An ordered set of categories plus tiers and walking speeds."""

    categories: dict[str, Category]
    tiers: dict[int, dict[str, Any]] = field(default_factory=dict)
    walk_speed_mps: float = 1.1
    source: str = "default"

    def __contains__(self, cat: object) -> bool:
        return cat in self.categories

    def __getitem__(self, cat: str) -> Category:
        return self.categories[cat]

    def __iter__(self):
        return iter(self.categories.values())

    def __len__(self) -> int:
        return len(self.categories)

    @property
    def ids(self) -> list[str]:
        return list(self.categories)

    def life_circle_ids(self) -> list[str]:
        """Categories that count towards life-circle completeness."""
        return [c.id for c in self if c.in_life_circle]

    def select(self, ids: Iterable[str] | str | None) -> list[Category]:
        """Categories by id (comma-separated string or list); all life-circle ones if None.

        Raises
        ------
        CategoryError
            An id is not in the catalogue.
        """
        if ids is None:
            return [self[c] for c in self.life_circle_ids()]
        if isinstance(ids, str):
            ids = [s.strip() for s in ids.split(",") if s.strip()]
        out = []
        for cid in ids:
            if cid not in self.categories:
                raise CategoryError(
                    f"Unknown category {cid!r}; choose from: {', '.join(self.ids)} "
                    "(or add it to your catalogue file)."
                )
            out.append(self.categories[cid])
        if not out:
            raise CategoryError("No category given; pass one or more ids such as kindergarten.")
        return out

    def classify(self, tags: Mapping[str, str]) -> list[str]:
        """Every category an OSM feature with these tags belongs to."""
        return [c.id for c in self if c.matches(tags)]


def _parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise CategoryError(f"{where}: a rule must be a table like {{ tags = [...] }}.")
    tags = []
    for t in raw.get("tags", []):
        if not isinstance(t, str) or "=" not in t:
            raise CategoryError(f"{where}: tag rule {t!r} must look like 'key=value' or 'key=*'.")
        k, v = t.split("=", 1)
        tags.append((k.strip(), v.strip()))
    names = tuple(str(x) for x in raw.get("names", []))
    if not tags and not names:
        raise CategoryError(f"{where}: a rule needs `tags` or `names`.")
    return Rule(tuple(tags), names, tuple(str(x) for x in raw.get("exclude_names", [])))


def _parse(data: Mapping[str, Any], source: str) -> Catalogue:
    cats: dict[str, Category] = {}
    raw_cats = data.get("category")
    if not isinstance(raw_cats, list) or not raw_cats:
        raise CategoryError(f"Catalogue {source}: no [[category]] entries; see the default one.")
    for i, rc in enumerate(raw_cats):
        where = f"catalogue {source}, category #{i + 1}"
        try:
            cid = str(rc["id"])
            if not cid.replace("_", "").isalnum() or not cid.islower():
                raise CategoryError(f"{where}: id {cid!r} must be snake_case (a-z, 0-9, _).")
            status = str(rc.get("status", "to_confirm"))
            if status not in _STATUSES:
                raise CategoryError(
                    f"{where} ({cid}): status {status!r} must be one of {', '.join(_STATUSES)}."
                )
            dist = float(rc["max_distance_m"])
            if not dist > 0:
                raise CategoryError(f"{where} ({cid}): max_distance_m must be positive.")
            cat = Category(
                id=cid,
                name_zh=str(rc.get("name_zh", cid)),
                name_en=str(rc.get("name_en", cid)),
                tier=int(rc.get("tier", 15)),
                max_distance_m=dist,
                status=status,
                basis=str(rc.get("basis", "")),
                in_life_circle=bool(rc.get("in_life_circle", True)),
                rules=tuple(_parse_rule(r, f"{where} ({cid})") for r in rc.get("rules", [])),
            )
        except KeyError as exc:
            raise CategoryError(f"{where}: missing key {exc.args[0]!r}.") from exc
        except (TypeError, ValueError) as exc:
            if isinstance(exc, CategoryError):
                raise
            raise CategoryError(f"{where}: {exc}; fix the value.") from exc
        if cid in cats:
            raise CategoryError(f"{where}: duplicate id {cid!r}.")
        cats[cid] = cat
    meta = data.get("meta", {})
    tiers = {int(k): dict(v) for k, v in data.get("tiers", {}).items()}
    return Catalogue(cats, tiers, float(meta.get("walk_speed_mps", 1.1)), source)


def load_catalogue(path: str | os.PathLike | None = None) -> Catalogue:
    """Load the shipped catalogue, or a planner's TOML file of the same form.

    Raises
    ------
    CategoryError
        File missing, not TOML, or an entry is malformed.
    """
    if path is None:
        text = resources.files("gcgeo").joinpath("catalogue.toml").read_text(encoding="utf-8")
        source = "default"
    else:
        p = Path(path)
        if not p.is_file():
            raise CategoryError(
                f"Catalogue file {str(p)!r} does not exist; pass a TOML file like the default "
                "(gcgeo/catalogue.toml)."
            )
        text = p.read_text(encoding="utf-8")
        source = str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CategoryError(f"Catalogue {source} is not valid TOML ({exc}); fix the file.") from exc
    return _parse(data, source)
