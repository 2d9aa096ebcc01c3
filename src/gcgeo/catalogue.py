"""The facility catalogue: categories, life-circle tiers, thresholds and OSM rules.

The default catalogue ships as ``catalogue.toml`` inside the package; a
planner may pass their own file of the same form, which replaces it as a whole.
Each threshold carries its ``status`` (``checked`` or ``to_confirm``) from the
standards notes.

Either file is user input and is checked against a small explicit schema (one
dict per table, in :mod:`gcgeo.catalogue_schema`) when loaded: wrong types,
non-finite or out-of-range numbers, malformed tag rules, bad encodings and TOML
syntax errors are a :class:`~gcgeo.CategoryError` in one sentence naming the
file, table and key; unknown keys are a :class:`CatalogueWarning` naming the
closest known key.
"""

from __future__ import annotations

import codecs
import functools
import os
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from . import settings
from ._errors import CategoryError, GcgeoWarning
from .catalogue_schema import (
    CATEGORY_SCHEMA,
    META_SCHEMA,
    RULE_SCHEMA,
    TOP_SCHEMA,
    Checker,
    parse_tiers,
)

__all__ = [
    "Catalogue",
    "CatalogueWarning",
    "Category",
    "Rule",
    "load_catalogue",
]

_TRANSPORT_KEYS = ("highway", "public_transport", "railway")

#: A catalogue is a small text file; anything bigger is almost surely the wrong file.
_MAX_FILE_BYTES = 10 * 1024 * 1024


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
    walk_speed_mps: float = settings.WALK_SPEED_MPS
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
        """Every category an OSM feature with these tags belongs to (catalogue order).

        The same as ``[c.id for c in self if c.matches(tags)]``, but only the rules that
        can match are tried: those naming one of the feature's tags (or its key, for
        ``key=*``) and the name-only rules with a word that starts with a character of the
        feature's name (:attr:`_rule_index`; a name-only rule matches only a name holding
        one of its words).
        """
        cats, by_tag, by_key, by_char = self._rule_index
        name = tags.get("name", "") or tags.get("name:zh", "") or ""
        hits: set[tuple[int, int]] = set()
        for ch in {*name, ""}:  # "": a rule built in code with an empty word matches any name
            hits.update(by_char.get(ch, ()))
        for k, v in tags.items():
            hits.update(by_key.get(k, ()))
            hits.update(by_tag.get((k, v), ()))
        if not hits:
            return []
        found = {c for c, r in hits if cats[c].rules[r].matches(tags, name)}
        return [cats[c].id for c in sorted(found)]

    @functools.cached_property
    def _rule_index(
        self,
    ) -> tuple[
        tuple[Category, ...],
        dict[tuple[str, str], list[tuple[int, int]]],
        dict[str, list[tuple[int, int]]],
        dict[str, set[tuple[int, int]]],
    ]:
        """The categories in order; (category, rule) positions by the exact tag and by the
        ``key=*`` key each rule names; and the rules that name no tag (names alone) by the
        first character of each of their words."""
        by_tag: dict[tuple[str, str], list[tuple[int, int]]] = {}
        by_key: dict[str, list[tuple[int, int]]] = {}
        by_char: dict[str, set[tuple[int, int]]] = {}
        for c, cat in enumerate(self.categories.values()):
            for r, rule in enumerate(cat.rules):
                if not rule.tags:  # without words it never matches: not indexed at all
                    for word in rule.names:
                        by_char.setdefault(word[:1], set()).add((c, r))
                for k, v in rule.tags:
                    if v == "*":
                        by_key.setdefault(k, []).append((c, r))
                    else:
                        by_tag.setdefault((k, v), []).append((c, r))
        return tuple(self.categories.values()), by_tag, by_key, by_char


class CatalogueWarning(GcgeoWarning):
    """A catalogue file holds something gcgeo ignores (e.g. a misspelt key)."""


def _parse_rule(raw: Mapping[str, Any], check: Checker, where: str) -> Rule:
    """One validated :class:`Rule` from a rule table."""
    check.table(raw, RULE_SCHEMA, where)
    tags = []
    for t in raw.get("tags", []):
        k, sep, v = t.partition("=")
        if not sep or not k.strip() or not v.strip():
            raise check.error(
                where,
                f"tag rule {t!r} must look like 'key=value' or 'key=*', "
                'e.g. tags = ["amenity=kindergarten"]',
            )
        tags.append((k.strip(), v.strip()))
    names = tuple(raw.get("names", []))
    if not tags and not names:
        raise check.error(
            where,
            'a rule needs `tags` or `names`, e.g. { tags = ["amenity=kindergarten"] } '
            'or { names = ["幼儿园"] }',
        )
    return Rule(tuple(tags), names, tuple(raw.get("exclude_names", [])))


def _parse(data: Mapping[str, Any], source: str, notes: list[str]) -> Catalogue:
    """A validated :class:`Catalogue` from parsed TOML.

    Parameters
    ----------
    data : mapping
        The parsed TOML document.
    source : str
        The file as named in messages and in :attr:`Catalogue.source`.
    notes : list of str
        Receives one message per unknown key.

    Raises
    ------
    CategoryError
        A table, key or value does not match the schema.
    """
    check = Checker(source, notes)
    if not data.get("category"):
        for key in data:
            if key not in TOP_SCHEMA:
                check.unknown(key, TOP_SCHEMA, "")
        raise CategoryError(
            f"Catalogue {source} has no [[category]] entries; add at least one, "
            "as in the default gcgeo/catalogue.toml."
        )
    check.table(data, TOP_SCHEMA, "")
    meta = data.get("meta", {})
    check.table(meta, META_SCHEMA, "[meta]")
    tiers = parse_tiers(data.get("tiers", {}), check)
    cats: dict[str, Category] = {}
    for i, rc in enumerate(data["category"]):
        where = f"[[category]] #{i + 1}"
        raw_id = rc.get("id")
        if isinstance(raw_id, str) and raw_id:
            where += f" ({raw_id})"
        check.table(rc, CATEGORY_SCHEMA, where)
        cid = rc["id"]
        if not cid.replace("_", "").isalnum() or not cid.islower() or not cid.isascii():
            raise check.error(
                where, f'id {cid!r} must be snake_case (a-z, 0-9, _), e.g. id = "kindergarten"'
            )
        if cid in cats:
            raise check.error(where, f"duplicate id {cid!r}; give each category its own id")
        rules = tuple(
            _parse_rule(r, check, f"{where}, rule {j + 1}")
            for j, r in enumerate(rc.get("rules", []))
        )
        cats[cid] = Category(
            id=cid,
            name_zh=rc.get("name_zh", cid),
            name_en=rc.get("name_en", cid),
            tier=rc.get("tier", 15),
            max_distance_m=float(rc["max_distance_m"]),
            status=rc.get("status", "to_confirm"),
            basis=rc.get("basis", ""),
            in_life_circle=rc.get("in_life_circle", True),
            rules=rules,
        )
    return Catalogue(
        cats, tiers, float(meta.get("walk_speed_mps", settings.WALK_SPEED_MPS)), source
    )


def _decode(raw: bytes, source: str) -> str:
    """Text of a catalogue file: UTF-8 (BOM optional), UTF-16 with BOM, else GBK/GB18030.

    Raises
    ------
    CategoryError
        The bytes are none of these encodings.
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif raw.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")  # GB18030 is a superset of GBK and GB2312
    first: UnicodeDecodeError | None = None
    for enc in encodings:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError as exc:
            first = first or exc
    assert first is not None
    line = raw.count(b"\n", 0, first.start) + 1
    raise CategoryError(
        f"Catalogue {source} is neither UTF-8 nor GBK text (undecodable byte at line {line}); "
        "save it as UTF-8."
    )


def load_catalogue(path: str | os.PathLike | None = None) -> Catalogue:
    """Load the shipped catalogue, or a planner's TOML file of the same form.

    A planner's file replaces the shipped catalogue as a whole (it is not merged).
    Either one is checked against the schema: types, finite positive numbers in
    range (metres, minutes, m/s), snake_case ids, ``key=value`` tag rules. The
    file may be UTF-8 (with or without BOM) or, as Windows editors often save
    it, GBK/GB18030.

    Parameters
    ----------
    path : str or path-like, optional
        A catalogue TOML file; default: the shipped ``gcgeo/catalogue.toml``.

    Returns
    -------
    Catalogue

    Raises
    ------
    CategoryError
        File missing, unreadable, not UTF-8/GBK text, not TOML, or an entry does
        not match the schema; the message is one sentence naming the file, the
        table and key, and the fix.

    Warns
    -----
    CatalogueWarning
        Once per unknown (ignored) key, naming the closest known key.
    """
    if path is None:
        raw = resources.files("gcgeo").joinpath("catalogue.toml").read_bytes()
        source = "default"
    else:
        p = Path(path)
        source = str(p)
        if not p.is_file():
            raise CategoryError(
                f"Catalogue file {source!r} does not exist; pass a TOML file like the default "
                "(gcgeo/catalogue.toml)."
            )
        try:
            size = p.stat().st_size
            if size > _MAX_FILE_BYTES:
                raise CategoryError(
                    f"Catalogue {source} is {size / 1e6:.0f} MB, far too big for a catalogue; "
                    "pass the TOML catalogue file, not a data file."
                )
            raw = p.read_bytes()
        except OSError as exc:
            raise CategoryError(
                f"Catalogue {source} cannot be read ({exc.strerror or exc}); check the file."
            ) from exc
    text = _decode(raw, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CategoryError(
            f"Catalogue {source} is not valid TOML: {exc}; fix the file there."
        ) from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise CategoryError(
            f"Catalogue {source} is not valid TOML ({str(exc).split(';')[0]}); fix the file."
        ) from exc
    except RecursionError as exc:
        raise CategoryError(
            f"Catalogue {source} is not valid TOML (arrays or tables nested too deeply); "
            "fix the file."
        ) from exc
    notes: list[str] = []
    try:
        return _parse(data, source, notes)
    finally:
        for note in notes:
            warnings.warn(note, CatalogueWarning, stacklevel=2)
