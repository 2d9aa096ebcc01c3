"""The category palette: distinct for every reader, never a street-band colour.

Colour difference is CIE 1976 ΔE*ab in CIELAB (D65), computed here from the sRGB definition;
colour-blind vision is simulated with the Machado, Oliveira & Fernandes (2009) matrices at
full severity, applied in linear RGB.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gcgeo.catalogue import load_catalogue
from gcgeo.maps.base import (
    BAND_COLOURS,
    CATEGORY_COLOURS,
    COMPLETENESS_COLOURS,
    PALETTE_ORDER,
    category_colour,
)
from gcgeo.maps.compose import AREA_STYLE

MIN_DELTA_E = 14.0
MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def srgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(c: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
    xyz = m @ linear(c) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen(hex_colour: str, vision: str) -> np.ndarray:
    """CIELAB of the colour as seen with ``vision`` ('normal' or a MACHADO key)."""
    c = srgb(hex_colour)
    if vision != "normal":
        lin = np.clip(np.array(MACHADO[vision]) @ linear(c), 0, 1)
        c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return lab(c)


def delta_e(a: str, b: str, vision: str) -> float:
    return float(np.linalg.norm(seen(a, vision) - seen(b, vision)))


def test_delta_e_matches_published_values() -> None:
    """The ΔE code against known CIELAB values (sRGB red: L 53.24, a 80.09, b 67.20)."""
    np.testing.assert_allclose(lab(srgb("#ff0000")), [53.24, 80.09, 67.20], atol=0.05)
    np.testing.assert_allclose(lab(srgb("#ffffff")), [100.0, 0.0, 0.0], atol=0.05)
    # deuteranopes see red and green alike: their difference shrinks a lot
    assert delta_e("#d73027", "#1a9850", "deuteranopia") < 0.5 * delta_e(
        "#d73027", "#1a9850", "normal"
    )


def test_one_colour_per_shipped_category() -> None:
    assert tuple(load_catalogue().ids) == PALETTE_ORDER
    assert len(CATEGORY_COLOURS) >= 15
    colours = [category_colour(c) for c in PALETTE_ORDER]
    assert len(set(colours)) == len(colours)
    assert category_colour("my_own_category") == category_colour("my_own_category")


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_categories_pairwise_distinct(vision: str) -> None:
    worst = min(delta_e(a, b, vision) for a, b in itertools.combinations(CATEGORY_COLOURS, 2))
    assert worst >= MIN_DELTA_E


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_categories_differ_from_bands_and_outlines(vision: str) -> None:
    others = [*BAND_COLOURS, "#ffffff", COMPLETENESS_COLOURS[-1]]
    others += [colour for _, colour in AREA_STYLE.values()]
    worst = min(delta_e(a, b, vision) for a in CATEGORY_COLOURS for b in others)
    assert worst >= MIN_DELTA_E
