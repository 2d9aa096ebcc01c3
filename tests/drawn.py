"""A drawn town for contraction and incremental tests: every distance can be read off the sketch."""

from __future__ import annotations

import numpy as np

from gcgeo.network import StreetNetwork, from_arrays

__all__ = ["NAMES", "X0", "Y0", "at", "drawn_town", "idx"]

X0, Y0 = 500_000.0, 4_000_000.0

# The drawn town (metres from X0, Y0):
#
#   t1 (0,100) ---------------- t2 (300,100)
#    |                            |
#   J0 (0,0) -- s1 (100,0) -- s2 (200,0) -- J1 (300,0)
#    |      \                                 |
#   l1(-100,0)  l3 (0,-100)                   D (300,-100)
#    |            |
#   l2 (-100,-100)+                 and apart: a ring R0..R3 (a 100 m square at x=1000)
#
# J0 has four neighbours (s1, t1, l1, l3), J1 three, D one: they are kept. The ring has no
# junction, so its lowest node is kept. Chains: J0-J1 straight 300 m, J0-J1 over the top
# 500 m, J1-D 100 m, the loop J0-l1-l2-l3-J0 400 m, the ring 400 m.
PTS = {
    "J0": (0, 0), "s1": (100, 0), "s2": (200, 0), "J1": (300, 0),
    "t1": (0, 100), "t2": (300, 100), "D": (300, -100),
    "l1": (-100, 0), "l2": (-100, -100), "l3": (0, -100),
    "R0": (1000, 0), "R1": (1100, 0), "R2": (1100, 100), "R3": (1000, 100),
}  # fmt: skip
SEGS = [
    ("J0", "s1"), ("s1", "s2"), ("s2", "J1"),
    ("J0", "t1"), ("t1", "t2"), ("t2", "J1"),
    ("J1", "D"),
    ("J0", "l1"), ("l1", "l2"), ("l2", "l3"), ("l3", "J0"),
    ("R0", "R1"), ("R1", "R2"), ("R2", "R3"), ("R3", "R0"),
]  # fmt: skip
NAMES = list(PTS)


def drawn_town() -> StreetNetwork:
    x = np.array([X0 + PTS[k][0] for k in NAMES], dtype=float)
    y = np.array([Y0 + PTS[k][1] for k in NAMES], dtype=float)
    u = np.array([NAMES.index(a) for a, _ in SEGS])
    v = np.array([NAMES.index(b) for _, b in SEGS])
    return from_arrays(x, y, u, v)


def at(*pts: tuple[float, float]) -> np.ndarray:
    return np.array([(X0 + px, Y0 + py) for px, py in pts], dtype=float)


def idx(name: str) -> int:
    return NAMES.index(name)
