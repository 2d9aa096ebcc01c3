"""Paths of the shipped district layers and estimated places inside 钢城区 (WGS-84)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BEICHENGZIPO", "LAYERS", "ROOT", "SEAT", "SONGJIAZHUANG", "STATION"]

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"

# place_estimates.geojson (WGS-84): government seat, 钢城站, 北城子坡, 宋家庄
SEAT = (117.8145, 36.0581)
STATION = (117.8756, 36.0742)
BEICHENGZIPO = (117.8066, 36.0644)
SONGJIAZHUANG = (117.8145, 36.0491)
