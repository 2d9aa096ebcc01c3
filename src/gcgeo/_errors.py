"""Exceptions raised by gcgeo.

Every error gcgeo raises on purpose derives from :class:`GcgeoError`, and each
child also subclasses the builtin it refines, so callers may catch either.
Messages are one sentence: what was wrong, with which input, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "CategoryError",
    "DependencyError",
    "EmptyNetworkError",
    "FetchError",
    "GcgeoError",
    "InputError",
    "LayerError",
    "OSMFileError",
    "GcgeoWarning",
    "OutputError",
    "OutputExistsError",
    "ScenarioError",
]


class GcgeoError(Exception):
    """Root of every error gcgeo raises on purpose."""

    #: exit code used by the CLI: 2 for every error gcgeo names (input, output, dependency,
    #: network), as click does for usage errors
    exit_code: int = 2


class InputError(GcgeoError, ValueError):
    """An input (file, argument, CSV column, coordinate) is invalid."""


class OSMFileError(InputError):
    """An OSM file is missing, unreadable or not OSM."""


class EmptyNetworkError(InputError):
    """The input holds no walkable street network."""


class CategoryError(InputError):
    """A facility category is unknown or the catalogue is malformed."""


class LayerError(InputError):
    """A district layer is missing or invalid."""


class ScenarioError(InputError):
    """A scenario file is malformed or refers to something unknown."""


class DependencyError(GcgeoError, RuntimeError):
    """An optional system dependency (font, browser, asset package) is missing."""


class OutputExistsError(GcgeoError, FileExistsError):
    """An output file exists and ``overwrite`` was not given."""


class OutputError(GcgeoError, OSError):
    """An output cannot be written (read-only folder, disk full, path is a file or folder)."""


class GcgeoWarning(UserWarning):
    """Root of gcgeo's warnings; the CLI shows each as one ``Warning: ...`` line."""


class FetchError(GcgeoError, ConnectionError):
    """Downloading OSM data failed (no internet, endpoint down, bad answer)."""
