"""Helpers of the scenario tests (the town of :mod:`gridosm`, K moved 10 m south)."""

from __future__ import annotations

from gridosm import lonlat, two_blocks

__all__ = ["TOL", "dist", "ll", "town_xml"]

TOL = 0.05  # OSM stores 7 decimals: ~1 cm per coordinate


def town_xml(railway: bool = False) -> str:
    """The two-block town; the kindergarten sits 10 m south of N42 on the x = 400 footway."""
    b = two_blocks(railway=railway)
    # the kindergarten sits 10 m south of N42 on the x = 400 footway: no distance lands on 300 m
    b.nodes["K"] = (b.nodes["K"][0], 400.0, 190.0, b.nodes["K"][3])
    return b.xml()


def ll(x: float, y: float) -> str:
    """``[lon, lat]`` TOML text of a town point given in metres."""
    lon, lat = lonlat(x, y)
    return f"[{lon:.7f}, {lat:.7f}]"


def dist(res, name: str) -> float:
    """Kindergarten distance (m) of the origin called ``name`` in a coverage result."""
    o = res.origins
    return float(o.loc[o["name"] == name, "dist_kindergarten_m"].iloc[0])
