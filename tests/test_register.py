"""Tests for gcgeo.register: the shipped renewal register and a planner's copy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from layerdata import LAYERS

from gcgeo import LayerError
from gcgeo.register import load_register


def test_register_rows() -> None:
    reg = load_register()
    assert len(reg) == 3 + 10 + 35
    assert list(reg["id"][3:13]) == [f"uv{i:02d}" for i in range(1, 11)]
    assert list(reg["id"][13:]) == [f"oc{i:02d}" for i in range(1, 36)]
    assert reg["name_zh"][3:].isna().all()
    assert (reg["type"].value_counts() == pd.Series({"old_compound": 35, "urban_village": 10,
                                                     "renewal_area": 3})).all()  # fmt: skip
    named = reg[reg["type"] == "renewal_area"]
    assert set(named["name_zh"]) == {"南城子坡", "北城子坡", "宋家庄"}


def test_register_override_and_bad_status(tmp_path: Path) -> None:
    text = (LAYERS / "renewal_register.csv").read_text(encoding="utf-8")
    (tmp_path / "renewal_register.csv").write_text(text.replace(",planned,", ",soon,", 1))
    with pytest.raises(LayerError, match="status 'soon'"):
        load_register(tmp_path)
