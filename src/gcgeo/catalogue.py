"""The facility catalogue: categories, life-circle tiers, thresholds and OSM rules.

The default catalogue ships as ``catalogue.toml`` inside the package; a
planner may pass their own file of the same form, which replaces it as a whole.
Each threshold carries its ``status`` (``checked`` or ``to_confirm``) from the
standards notes.

Either file is user input and is checked against a small explicit schema (one
dict per table, ``_*_SCHEMA`` below) when loaded: wrong types, non-finite or
out-of-range numbers, malformed tag rules, bad encodings and TOML syntax errors
are a :class:`~gcgeo.CategoryError` in one sentence naming the file, table and
key; unknown keys are a :class:`CatalogueWarning` naming the closest known key.
"""

from __future__ import annotations

import codecs
import difflib
import math
import os
import tomllib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ._errors import CategoryError, GcgeoWarning

__all__ = [
    "Catalogue",
    "CatalogueWarning",
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


# --------------------------------------------------------------------------------------
# Schema: what a catalogue file may hold. The catalogue is user input (``--catalogue``),
# so every value is checked here, at the boundary, before anything downstream sees it.
# --------------------------------------------------------------------------------------

#: Largest accepted walking distance: far beyond any life-circle radius, small enough
#: to catch a typo (an extra zero, a value in centimetres).
_MAX_DISTANCE_M = 50_000.0
#: Largest accepted life-circle tier in minutes.
_MAX_TIER_MIN = 60
#: Walking speeds accepted in ``[meta]`` (same range as scenario personas).
_MAX_SPEED_MPS = 5.0
#: A catalogue is a small text file; anything bigger is almost surely the wrong file.
_MAX_FILE_BYTES = 10 * 1024 * 1024


class CatalogueWarning(GcgeoWarning):
    """A catalogue file holds something gcgeo ignores (e.g. a misspelt key)."""


@dataclass(frozen=True)
class _Field:
    """What one key of a catalogue table must hold.

    Attributes
    ----------
    kind : str
        ``str``, ``int``, ``number``, ``bool``, ``str_list``, ``table`` or ``table_list``.
    example : str
        A valid line shown in the fix, e.g. ``tier = 5``.
    required : bool
        Whether the key must be present.
    unit : str
        Unit of a number (``metres``, ``minutes``, ``m/s``), named in range errors.
    hi : float, optional
        Inclusive upper bound of a number; numbers must also be finite and positive.
    choices : tuple of str
        Allowed values of a string, if restricted.
    """

    kind: str
    example: str
    required: bool = False
    unit: str = ""
    hi: float | None = None
    choices: tuple[str, ...] = ()


_TOP_SCHEMA: dict[str, _Field] = {
    "meta": _Field("table", '[meta] name = "my catalogue"'),
    "tiers": _Field("table", '[tiers] 5 = { distance_m = 300, name_zh = "5分钟生活圈" }'),
    "category": _Field("table_list", '[[category]] id = "kindergarten"', required=True),
}
_META_SCHEMA: dict[str, _Field] = {
    "name": _Field("str", 'name = "my catalogue"'),
    "version": _Field("str", 'version = "2026.11"'),
    "walk_speed_mps": _Field("number", "walk_speed_mps = 1.1", unit="m/s", hi=_MAX_SPEED_MPS),
    "elderly_speed_mps": _Field("number", "elderly_speed_mps = 0.8", unit="m/s", hi=_MAX_SPEED_MPS),
}
_TIER_SCHEMA: dict[str, _Field] = {
    "distance_m": _Field(
        "number", "distance_m = 300", required=True, unit="metres", hi=_MAX_DISTANCE_M
    ),
    "name_zh": _Field("str", 'name_zh = "5分钟生活圈"'),
    "name_en": _Field("str", 'name_en = "5-minute life circle"'),
    "status": _Field("str", 'status = "checked"', choices=_STATUSES),
}
_CATEGORY_SCHEMA: dict[str, _Field] = {
    "id": _Field("str", 'id = "kindergarten"', required=True),
    "name_zh": _Field("str", 'name_zh = "幼儿园"'),
    "name_en": _Field("str", 'name_en = "Kindergarten"'),
    "tier": _Field("int", "tier = 5", unit="minutes", hi=_MAX_TIER_MIN),
    "max_distance_m": _Field(
        "number", "max_distance_m = 300", required=True, unit="metres", hi=_MAX_DISTANCE_M
    ),
    "status": _Field("str", 'status = "to_confirm"', choices=_STATUSES),
    "basis": _Field("str", 'basis = "GB 50180-2018"'),
    "in_life_circle": _Field("bool", "in_life_circle = false"),
    "rules": _Field("table_list", 'rules = [ { tags = ["amenity=kindergarten"] } ]'),
}
_RULE_SCHEMA: dict[str, _Field] = {
    "tags": _Field("str_list", 'tags = ["amenity=kindergarten"]'),
    "names": _Field("str_list", 'names = ["幼儿园"]'),
    "exclude_names": _Field("str_list", 'exclude_names = ["停车场"]'),
}

_KIND_TEXT = {
    "str": "a string",
    "bool": "true or false",
    "str_list": "a list of strings",
    "table": "a table",
    "table_list": "a list of tables",
}


def _describe(value: Any) -> str:
    """A short phrase naming the TOML type (and value) of ``value``, for 'got ...'."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        text = value if len(value) <= 30 else value[:27] + "..."
        return f"a string ({text!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__} ({value})"  # dates and times


class _Checker:
    """Checks the tables of one catalogue file against the schema.

    Parameters
    ----------
    source : str
        The file as named in messages (``default`` for the shipped one).
    notes : list of str
        Receives one message per unknown key (emitted later as warnings).
    """

    def __init__(self, source: str, notes: list[str]) -> None:
        self.source = source
        self.notes = notes

    def error(self, where: str, text: str) -> CategoryError:
        """A one-sentence :class:`CategoryError` naming the file and ``where``."""
        place = f"Catalogue {self.source}, {where}" if where else f"Catalogue {self.source}"
        return CategoryError(f"{place}: {text}.")

    def table(self, raw: Mapping[str, Any], schema: dict[str, _Field], where: str) -> None:
        """Check every key of ``raw`` against ``schema``; note unknown keys.

        Raises
        ------
        CategoryError
            A required key is missing or a value has the wrong type or range.
        """
        for key in raw:
            if key not in schema:
                self.unknown(key, schema, where)
        for key, spec in schema.items():
            if key in raw:
                self.value(raw[key], key, spec, where)
            elif spec.required:
                raise self.error(where, f"missing key {key!r}; add it, e.g. {spec.example}")

    def unknown(self, key: str, schema: Mapping[str, Any], where: str) -> None:
        """Note an unknown key with the closest known one."""
        close = difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(schema)}."
        place = f"Catalogue {self.source}, {where}" if where else f"Catalogue {self.source}"
        self.notes.append(f"{place}: unknown key {key!r} is ignored; {hint}")

    def value(self, value: Any, key: str, spec: _Field, where: str) -> None:
        """Check one value's type, finiteness, range and allowed choices."""
        got = _describe(value)
        if spec.kind in ("number", "int"):
            types = int if spec.kind == "int" else (int, float)
            if not isinstance(value, types) or isinstance(value, bool):
                what = "a whole number" if spec.kind == "int" else "a number"
                raise self.error(
                    where, f"{key} must be {what} of {spec.unit}, e.g. {spec.example}; got {got}"
                )
            shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:27]}..."
            if isinstance(value, float) and not math.isfinite(value):
                raise self.error(
                    where,
                    f"{key} must be a finite number of {spec.unit}, e.g. {spec.example}; "
                    f"got {value}",
                )
            if not value > 0:
                raise self.error(
                    where, f"{key} must be positive ({spec.unit}), e.g. {spec.example}; got {shown}"
                )
            if spec.hi is not None and value > spec.hi:
                raise self.error(
                    where,
                    f"{key} must be at most {spec.hi:g} {spec.unit}, e.g. {spec.example}; "
                    f"got {shown}",
                )
            return
        ok = {
            "str": isinstance(value, str),
            "bool": isinstance(value, bool),
            "str_list": isinstance(value, list) and all(isinstance(x, str) for x in value),
            "table": isinstance(value, Mapping),
            "table_list": isinstance(value, list) and all(isinstance(x, Mapping) for x in value),
        }[spec.kind]
        if not ok:
            if isinstance(value, list) and spec.kind in ("str_list", "table_list"):
                bad = next(
                    x
                    for x in value
                    if not isinstance(x, str if spec.kind == "str_list" else Mapping)
                )
                got = f"a list holding {_describe(bad)}"
            raise self.error(
                where, f"{key} must be {_KIND_TEXT[spec.kind]}, e.g. {spec.example}; got {got}"
            )
        if spec.kind == "str_list" and any(not x.strip() for x in value):
            raise self.error(
                where,
                f"{key} must not hold an empty string (it would match every name), "
                f"e.g. {spec.example}",
            )
        if spec.choices and value not in spec.choices:
            raise self.error(
                where,
                f"{key} {value!r} must be one of {', '.join(spec.choices)}, e.g. {spec.example}",
            )


def _parse_rule(raw: Mapping[str, Any], check: _Checker, where: str) -> Rule:
    """One validated :class:`Rule` from a rule table."""
    check.table(raw, _RULE_SCHEMA, where)
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


def _parse_tiers(raw: Mapping[str, Any], check: _Checker) -> dict[int, dict[str, Any]]:
    """The validated ``[tiers]`` table, keyed by minutes (values kept as written)."""
    tiers: dict[int, dict[str, Any]] = {}
    for key, value in raw.items():
        minutes = int(key) if key.isascii() and key.isdigit() else None
        if minutes is None or not 0 < minutes <= _MAX_TIER_MIN:
            raise check.error(
                "[tiers]",
                f"key {key!r} must be a whole number of minutes from 1 to {_MAX_TIER_MIN}, "
                "e.g. 5 = { distance_m = 300 }",
            )
        where = f"[tiers.{key}]"
        if not isinstance(value, Mapping):
            raise check.error(
                "[tiers]",
                f"{key} must be a table, e.g. {key} = {{ distance_m = 300 }}; "
                f"got {_describe(value)}",
            )
        check.table(value, _TIER_SCHEMA, where)
        if minutes in tiers:
            raise check.error("[tiers]", f"tier {minutes} is given twice; keep one")
        tiers[minutes] = dict(value)
    return tiers


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
    check = _Checker(source, notes)
    if not data.get("category"):
        for key in data:
            if key not in _TOP_SCHEMA:
                check.unknown(key, _TOP_SCHEMA, "")
        raise CategoryError(
            f"Catalogue {source} has no [[category]] entries; add at least one, "
            "as in the default gcgeo/catalogue.toml."
        )
    check.table(data, _TOP_SCHEMA, "")
    meta = data.get("meta", {})
    check.table(meta, _META_SCHEMA, "[meta]")
    tiers = _parse_tiers(data.get("tiers", {}), check)
    cats: dict[str, Category] = {}
    for i, rc in enumerate(data["category"]):
        where = f"[[category]] #{i + 1}"
        raw_id = rc.get("id")
        if isinstance(raw_id, str) and raw_id:
            where += f" ({raw_id})"
        check.table(rc, _CATEGORY_SCHEMA, where)
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
    return Catalogue(cats, tiers, float(meta.get("walk_speed_mps", 1.1)), source)


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
