"""The schema of a catalogue file and the checks behind :func:`gcgeo.catalogue.load_catalogue`.

The catalogue is user input (``--catalogue``), so every value is checked here,
at the boundary, before anything downstream sees it: one :class:`Field` per key
of each table (``*_SCHEMA``), and a :class:`Checker` that raises a one-sentence
:class:`~gcgeo.CategoryError` naming the file, table and key (wrong type,
non-finite or out-of-range number, value not among the choices, missing key)
and notes unknown keys with the closest known one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import CategoryError

__all__ = [
    "CATEGORY_SCHEMA",
    "META_SCHEMA",
    "RULE_SCHEMA",
    "TIER_SCHEMA",
    "TOP_SCHEMA",
    "Checker",
    "Field",
    "parse_tiers",
]

_STATUSES = ("checked", "to_confirm")
#: Largest accepted walking distance: far beyond any life-circle radius, small enough
#: to catch a typo (an extra zero, a value in centimetres).
_MAX_DISTANCE_M = 50_000.0
#: Largest accepted life-circle tier in minutes.
_MAX_TIER_MIN = 60
#: Walking speeds accepted in ``[meta]`` (same range as scenario personas).
_MAX_SPEED_MPS = 5.0


@dataclass(frozen=True)
class Field:
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


#: Tables at the top of a catalogue file.
TOP_SCHEMA: dict[str, Field] = {
    "meta": Field("table", '[meta] name = "my catalogue"'),
    "tiers": Field("table", '[tiers] 5 = { distance_m = 300, name_zh = "5分钟生活圈" }'),
    "category": Field("table_list", '[[category]] id = "kindergarten"', required=True),
}

#: Keys of ``[meta]``.
META_SCHEMA: dict[str, Field] = {
    "name": Field("str", 'name = "my catalogue"'),
    "version": Field("str", 'version = "2026.11"'),
    "walk_speed_mps": Field("number", "walk_speed_mps = 1.1", unit="m/s", hi=_MAX_SPEED_MPS),
    "elderly_speed_mps": Field("number", "elderly_speed_mps = 0.8", unit="m/s", hi=_MAX_SPEED_MPS),
}

#: Keys of each ``[tiers.<minutes>]`` table.
TIER_SCHEMA: dict[str, Field] = {
    "distance_m": Field(
        "number", "distance_m = 300", required=True, unit="metres", hi=_MAX_DISTANCE_M
    ),
    "name_zh": Field("str", 'name_zh = "5分钟生活圈"'),
    "name_en": Field("str", 'name_en = "5-minute life circle"'),
    "status": Field("str", 'status = "checked"', choices=_STATUSES),
}

#: Keys of each ``[[category]]``.
CATEGORY_SCHEMA: dict[str, Field] = {
    "id": Field("str", 'id = "kindergarten"', required=True),
    "name_zh": Field("str", 'name_zh = "幼儿园"'),
    "name_en": Field("str", 'name_en = "Kindergarten"'),
    "tier": Field("int", "tier = 5", unit="minutes", hi=_MAX_TIER_MIN),
    "max_distance_m": Field(
        "number", "max_distance_m = 300", required=True, unit="metres", hi=_MAX_DISTANCE_M
    ),
    "status": Field("str", 'status = "to_confirm"', choices=_STATUSES),
    "basis": Field("str", 'basis = "GB 50180-2018"'),
    "in_life_circle": Field("bool", "in_life_circle = false"),
    "rules": Field("table_list", 'rules = [ { tags = ["amenity=kindergarten"] } ]'),
}

#: Keys of each rule in a category's ``rules``.
RULE_SCHEMA: dict[str, Field] = {
    "tags": Field("str_list", 'tags = ["amenity=kindergarten"]'),
    "names": Field("str_list", 'names = ["幼儿园"]'),
    "exclude_names": Field("str_list", 'exclude_names = ["停车场"]'),
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


class Checker:
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

    def table(self, raw: Mapping[str, Any], schema: dict[str, Field], where: str) -> None:
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

    def value(self, value: Any, key: str, spec: Field, where: str) -> None:
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


def parse_tiers(raw: Mapping[str, Any], check: Checker) -> dict[int, dict[str, Any]]:
    """The validated ``[tiers]`` table, keyed by minutes (values kept as written).

    Parameters
    ----------
    raw : mapping
        The ``[tiers]`` table as parsed from TOML (keys are strings).
    check : Checker
        The checker of this file.

    Returns
    -------
    dict of int to dict

    Raises
    ------
    CategoryError
        A key is not a whole number of minutes in range, a value is not a
        table matching :data:`TIER_SCHEMA`, or a tier is given twice.
    """
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
        check.table(value, TIER_SCHEMA, where)
        if minutes in tiers:
            raise check.error("[tiers]", f"tier {minutes} is given twice; keep one")
        tiers[minutes] = dict(value)
    return tiers
