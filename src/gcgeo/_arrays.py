"""Small array idioms several modules share (no Python loop in any of them)."""

from __future__ import annotations

import numpy as np

__all__ = ["ranges"]


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every position in the ranges ``[lo[i], hi[i])``, in order, and each range's length."""
    counts = hi - lo
    return np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum()), counts
