"""Each default is written once, in gcgeo/settings.py, and no module imports another module's
private names. Both are read from the source code's tokens (comments and docstrings aside)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import gcgeo
from gcgeo import settings

SRC = Path(gcgeo.__file__).resolve().parent
MODULES = sorted(p for p in SRC.rglob("*.py") if p.name != "settings.py")

#: (what, token test, line context that makes the number a default of that kind)
NUMBERS = [
    ("walking speed 1.1 m/s", {"1.1"}, re.compile(r"speed|mps|persona", re.I)),
    ("elderly speed 0.8 m/s", {"0.8"}, re.compile(r"speed|mps|persona|elderly", re.I)),
    ("child speed 0.9 m/s", {"0.9"}, re.compile(r"speed|mps|persona|child", re.I)),
    ("snap distance 300 m", {"300", "300.0"}, re.compile(r"snap", re.I)),
    ("cell size 100 m", {"100", "100.0"}, re.compile(r"cell", re.I)),
    ("segment limit 5 km", {"5000", "5000.0", "5_000.0"}, re.compile(r"segment", re.I)),
]
CRS_STRINGS = {'"EPSG:4326"', "'EPSG:4326'", '"EPSG:4548"', "'EPSG:4548'"}
CRS_NUMBERS = {"4326", "4548"}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def offenders() -> list[str]:
    found = []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        skip = _docstring_lines(ast.parse(text))
        lines = text.splitlines()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            row = tok.start[0]
            if row in skip:
                continue
            where = f"{path.relative_to(SRC)}:{row}"
            if tok.type == tokenize.STRING and tok.string in CRS_STRINGS:
                found.append(f"{where} CRS literal {tok.string} (use settings.WGS84/DEFAULT_CRS)")
            if tok.type == tokenize.NUMBER:
                if tok.string in CRS_NUMBERS:
                    found.append(f"{where} CRS code {tok.string} (use settings)")
                for what, values, context in NUMBERS:
                    if tok.string in values and context.search(lines[row - 1]):
                        found.append(f"{where} {what} (use gcgeo.settings)")
    return found


def test_defaults_are_written_once_in_settings() -> None:
    assert offenders() == []


def test_settings_values_are_the_documented_ones() -> None:
    # the values the standards notes and the README state
    assert settings.WALK_SPEED_MPS == 1.1 and settings.ELDERLY_SPEED_MPS == 0.8
    assert settings.PERSONA_SPEEDS_MPS == {"adult": 1.1, "elderly": 0.8, "child": 0.9}
    assert settings.DEFAULT_CRS == "EPSG:4548" and settings.WGS84 == "EPSG:4326"
    assert settings.MAX_SNAP_M == 300.0 and settings.CELL_M == 100.0


def test_no_private_names_across_modules() -> None:
    bad = []
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        bad.append(f"{path.relative_to(SRC)}:{node.lineno} imports {alias.name}")
    assert bad == []
