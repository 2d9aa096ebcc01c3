"""The README's Python example runs as written (offline, in a scratch folder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, f"expected one python block under {title!r}"
    return blocks[0]


def test_use_it_from_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(python_block("Use it from Python"), "README.md", "exec"), namespace)
    assert "kindergarten" in capsys.readouterr().out
    assert namespace["html"].startswith("<!DOCTYPE html>")
    summary = namespace["result"].summary.set_index("category")
    assert 0 <= summary.loc["kindergarten", "share"] <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.osm"]  # nothing else written
