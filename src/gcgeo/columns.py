"""Column names made in one place, so maps, reports and CSVs agree."""

from __future__ import annotations

__all__ = [
    "COMPLETENESS",
    "POPULATION",
    "dist_col",
    "min_col",
    "reached_col",
    "tier_col",
]

POPULATION = "population"
COMPLETENESS = "lc_completeness"


def dist_col(category: str) -> str:
    """Column with the walking distance (metres) to the nearest ``category`` facility."""
    return f"dist_{category}_m"


def min_col(category: str) -> str:
    """Column with the walking time (minutes) to the nearest ``category`` facility."""
    return f"walk_{category}_min"


def reached_col(category: str) -> str:
    """Boolean column: the nearest ``category`` facility is within its threshold."""
    return f"reach_{category}"


def tier_col(minutes: int) -> str:
    """Column with how many categories of the ``minutes`` life-circle tier are reached."""
    return f"lc{minutes}_reached"
