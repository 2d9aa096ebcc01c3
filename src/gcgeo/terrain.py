"""Slopes: elevations from a DEM, grades per street piece, walking cost per direction.

A walk on a grade is slower uphill and on steep descents. With a DEM (``--dem``), every
street segment gets two costs, one per direction, in *flat-equivalent metres*: the
distance a walker would cover on level ground in the same time. On a grade ``S`` (rise
over run) a walker's speed is their flat speed times

    f(S) = W(S) / W(0),   W(S) = exp(-k · |S + 0.05|)      (Tobler 1993, k = 3.5)

so a piece of length ``h`` costs ``h / f(S)`` flat-equivalent metres, the persona's
flat speed stays the one knob (time = cost / speed), and a level street costs exactly
its length. ``tobler_elderly`` uses ``k = 3.5 × ELDERLY_SLOPE_SENSITIVITY`` (an
assumption, see :data:`gcgeo.settings.ELDERLY_SLOPE_SENSITIVITY`); ``flat`` ignores the
DEM. Steps (``highway=steps``) are walked at a fixed share of the flat speed
(:data:`gcgeo.settings.STEPS_SPEED_SHARE`) in both directions.

Elevations are sampled (bilinear, in the DEM's own CRS) at every street node and along
each segment every :data:`gcgeo.settings.DEM_STEP_M` metres or less (equal pieces); each
piece gets its own grade. Several tiles, in any CRS rasterio reads, are read in the
order given; a point takes the first tile that has a value for it. Access legs (home or
facility to its street) stay level.

:func:`apply_dem` returns the network with :class:`EdgeCosts` attached; the engine then
measures the walk *from* each origin *to* a facility (it searches the reversed graph).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import settings
from ._errors import DependencyError, InputError

if TYPE_CHECKING:
    from .network import StreetNetwork

__all__ = [
    "EdgeCosts",
    "apply_dem",
    "edge_costs",
    "piece_samples",
    "sample_dem",
    "speed_factor",
]


def speed_factor(grade: np.ndarray | float, function: str = settings.WALK_FUNCTION) -> np.ndarray:
    """Speed on ``grade`` (rise/run, uphill positive) as a share of the flat speed.

    ``tobler``: ``exp(-3.5 (|S + 0.05| - 0.05))`` (1 on level ground, 1.19 at -5 %, about
    0.71 at +10 %); ``tobler_elderly``: the same with a steeper exponent; ``flat``: 1.
    """
    s = np.asarray(grade, dtype=float)
    if function == "flat":
        return np.ones_like(s)
    if function == "tobler":
        k = settings.TOBLER_EXPONENT
    elif function == "tobler_elderly":
        k = settings.TOBLER_EXPONENT * settings.ELDERLY_SLOPE_SENSITIVITY
    else:
        raise InputError(
            f"walking function {function!r} must be one of {', '.join(settings.WALK_FUNCTIONS)}."
        )
    off = settings.TOBLER_OFFSET
    return np.exp(-k * (np.abs(s + off) - off))


@dataclass(frozen=True)
class EdgeCosts:
    """Walking cost of every street segment in each direction (flat-equivalent metres).

    Attributes
    ----------
    fwd, bwd : ndarray, shape (n_edges,)
        Cost of walking the whole segment ``u → v`` and ``v → u``.
    length : ndarray, shape (n_edges,)
        The segments' lengths (m).
    pieces : ndarray of int, shape (n_edges,)
        Equal pieces per segment (``ceil(length / DEM_STEP_M)``, at least 1).
    ptr : ndarray of int, shape (n_edges + 1,)
        Piece boundaries of segment ``e`` are ``ptr[e] .. ptr[e + 1] - 1`` in the two
        arrays below (``pieces + 1`` each, ``u`` first).
    cum_f, cum_b : ndarray
        At each boundary: the cost from ``u`` to it, and from it back to ``u``.
    elevation : ndarray
        Metres at each boundary (``nan`` where the DEM had no value).
    grade : ndarray, shape (n_pieces,)
        Rise/run of each piece in the ``u → v`` direction (0 where unknown).
    function : str
        The walking function.
    """

    fwd: np.ndarray
    bwd: np.ndarray
    length: np.ndarray
    pieces: np.ndarray
    ptr: np.ndarray
    cum_f: np.ndarray
    cum_b: np.ndarray
    elevation: np.ndarray
    grade: np.ndarray
    function: str

    def along(self, edge: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cost from ``u`` to the point at ``offset`` on ``edge``, and from it back to ``u``.

        The costs to and from ``v`` follow: ``fwd - from_u`` and ``bwd - to_u``.
        """
        e = np.asarray(edge, dtype=np.int64)
        length = self.length[e]
        k = self.pieces[e]
        t = np.clip(np.asarray(offset, dtype=float), 0.0, length)
        h = np.where(length > 0, length / k, 1.0)
        j = np.clip(np.floor(t / h).astype(np.int64), 0, k - 1)
        i = self.ptr[e] + j
        rest = t - j * h
        f0, f1 = self.cum_f[i], self.cum_f[i + 1]
        b0, b1 = self.cum_b[i], self.cum_b[i + 1]
        return f0 + rest * (f1 - f0) / h, b0 + rest * (b1 - b0) / h

    def between(self, edge: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cost of walking along ``edge`` from offset ``a`` to offset ``b`` (either way)."""
        fa, ba = self.along(edge, a)
        fb, bb = self.along(edge, b)
        return np.where(np.asarray(b) >= np.asarray(a), fb - fa, ba - bb)

    def edge_grade(self) -> np.ndarray:
        """Steepest piece of each segment, rise/run in absolute value (for maps)."""
        n = len(self.fwd)
        out = np.zeros(n)
        piece_edge = np.repeat(np.arange(n), self.pieces)
        np.maximum.at(out, piece_edge, np.abs(self.grade))
        return out

    def mean_grade(self) -> np.ndarray:
        """Length-weighted mean absolute grade of each segment."""
        n = len(self.fwd)
        piece_edge = np.repeat(np.arange(n), self.pieces)
        return np.bincount(piece_edge, np.abs(self.grade), minlength=n) / self.pieces


def piece_samples(
    xy: np.ndarray, edge_u: np.ndarray, edge_v: np.ndarray, length: np.ndarray,
    step: float = settings.DEM_STEP_M,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Where elevations are sampled: every segment cut into equal pieces of at most ``step``.

    Returns
    -------
    pieces : ndarray of int, shape (n_edges,)
    ptr : ndarray of int, shape (n_edges + 1,)
        Boundaries of segment ``e``: ``ptr[e] .. ptr[e + 1] - 1``.
    points : ndarray, shape (n_boundaries, 2)
        The boundary coordinates (the two ends included).
    """
    length = np.asarray(length, dtype=float)
    pieces = np.maximum(np.ceil(length / step), 1).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(pieces + 1)]).astype(np.int64)
    e = np.repeat(np.arange(len(length)), pieces + 1)
    j = np.arange(len(e)) - ptr[e]
    frac = j / pieces[e]
    a = xy[edge_u][e]
    b = xy[edge_v][e]
    points = a + (b - a) * frac[:, None]
    return pieces, ptr, points


def edge_costs(
    length: np.ndarray,
    pieces: np.ndarray,
    ptr: np.ndarray,
    elevation: np.ndarray,
    function: str = settings.WALK_FUNCTION,
    steps: np.ndarray | None = None,
) -> EdgeCosts:
    """Directed costs from elevations at the piece boundaries (:func:`piece_samples`).

    A piece with an end of unknown elevation counts as level. ``steps`` marks segments
    walked at :data:`gcgeo.settings.STEPS_SPEED_SHARE` of the flat speed whatever the grade.
    """
    length = np.asarray(length, dtype=float)
    n = len(length)
    z = np.asarray(elevation, dtype=float)
    piece_edge = np.repeat(np.arange(n), pieces)
    # piece i of edge e runs from boundary ptr[e] + j to ptr[e] + j + 1
    start = np.repeat(ptr[:-1], pieces) + (np.arange(len(piece_edge)) - np.repeat(
        np.cumsum(pieces) - pieces, pieces))  # fmt: skip
    h = length[piece_edge] / pieces[piece_edge]
    dz = z[start + 1] - z[start]
    grade = np.where(np.isfinite(dz) & (h > 0), dz / np.where(h > 0, h, 1.0), 0.0)
    inv_f = 1.0 / speed_factor(grade, function)
    inv_b = 1.0 / speed_factor(-grade, function)
    if steps is not None and function != "flat":
        share = settings.STEPS_SPEED_SHARE[function]
        on_steps = np.asarray(steps, dtype=bool)[piece_edge]
        inv_f = np.where(on_steps, 1.0 / share, inv_f)
        inv_b = np.where(on_steps, 1.0 / share, inv_b)
    # cumulative sums per segment: length × (j + sum of (1/f - 1)) / pieces, so a level
    # piece adds exactly nothing to the sum and a level segment costs exactly its length
    first = np.cumsum(pieces) - pieces  # each segment's first piece
    e_b = np.repeat(np.arange(n), pieces + 1)
    j = np.arange(ptr[-1]) - ptr[e_b]

    def cumulative(inv: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0.0], np.cumsum(inv - 1.0)])
        extra = c[first[e_b] + j] - c[first[e_b]]
        return length[e_b] * ((j + extra) / pieces[e_b])

    cum_f = cumulative(inv_f)
    # cost from boundary j back to u: the backward cost of pieces 0..j-1
    cum_b = cumulative(inv_b)
    last = ptr[1:] - 1
    return EdgeCosts(
        fwd=cum_f[last].copy(),
        bwd=cum_b[last].copy(),
        length=length,
        pieces=pieces,
        ptr=ptr,
        cum_f=cum_f,
        cum_b=cum_b,
        elevation=z,
        grade=grade,
        function=function,
    )


def _dem_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = [os.fspath(p) for p in paths]
    if not out:
        raise InputError("No DEM file given; pass --dem FILE (GeoTIFF, SRTM or ASTER GDEM tile).")
    for p in out:
        if not os.path.isfile(p):
            raise InputError(f"DEM file {p!r} does not exist; check --dem.")
    return out


def sample_dem(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    x: np.ndarray,
    y: np.ndarray,
    crs: Any,
) -> np.ndarray:
    """Elevation (m) at points ``x, y`` (in ``crs``), bilinear between pixel centres.

    Each tile is read only over the window its points need. A point outside every tile,
    or next to a no-data pixel, gets ``nan``. Needs rasterio (the ``checkup`` extra).
    """
    try:
        import rasterio
        from rasterio.windows import Window
    except ImportError as exc:
        raise DependencyError(
            'A DEM needs rasterio; install it with `pip install "gcgeo[checkup]"`.'
        ) from exc
    import pyproj

    files = _dem_paths(paths)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    z = np.full(len(x), np.nan)
    for path in files:
        todo = np.flatnonzero(np.isnan(z))
        if not len(todo):
            break
        try:
            with rasterio.open(path) as src:
                if src.crs is None:
                    raise InputError(f"The DEM {path!r} has no CRS; save it with one.")
                tr = pyproj.Transformer.from_crs(crs, src.crs.to_wkt(), always_xy=True)
                px, py = tr.transform(x[todo], y[todo])
                inv = ~src.transform
                px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
                col = inv.a * px + inv.b * py + inv.c - 0.5
                row = inv.d * px + inv.e * py + inv.f - 0.5
                inside = (col >= -0.5) & (row >= -0.5) & (col <= src.width - 0.5) & (
                    row <= src.height - 0.5)  # fmt: skip
                if not inside.any():
                    continue
                todo, col, row = todo[inside], col[inside], row[inside]
                c0 = max(int(np.floor(col.min())), 0)
                r0 = max(int(np.floor(row.min())), 0)
                c1 = min(int(np.floor(col.max())) + 2, src.width)
                r1 = min(int(np.floor(row.max())) + 2, src.height)
                band = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        except (OSError, rasterio.errors.RasterioError) as exc:
            raise InputError(f"Cannot read the DEM {path!r} ({exc}).") from exc
        values = np.ma.filled(band.astype(float), np.nan)
        h, w = values.shape
        cc = np.clip(col - c0, 0.0, w - 1.0)
        rr = np.clip(row - r0, 0.0, h - 1.0)
        i0 = np.minimum(np.floor(cc).astype(np.int64), max(w - 2, 0))
        j0 = np.minimum(np.floor(rr).astype(np.int64), max(h - 2, 0))
        i1 = np.minimum(i0 + 1, w - 1)
        j1 = np.minimum(j0 + 1, h - 1)
        fx = cc - i0
        fy = rr - j0
        top = values[j0, i0] * (1 - fx) + values[j0, i1] * fx
        bottom = values[j1, i0] * (1 - fx) + values[j1, i1] * fx
        z[todo] = top * (1 - fy) + bottom * fy
    return z


def apply_dem(
    net: StreetNetwork,
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    function: str = settings.WALK_FUNCTION,
    step: float = settings.DEM_STEP_M,
) -> tuple[StreetNetwork, dict[str, Any]]:
    """The network with directed walking costs from a DEM, and what was measured.

    Parameters
    ----------
    net : StreetNetwork
    paths : path or list of paths
        DEM tiles (GeoTIFF, SRTM ``.hgt``, ASTER GDEM, any CRS).
    function : {"tobler", "tobler_elderly", "flat"}
    step : float
        Longest piece given one grade (m).

    Returns
    -------
    network : StreetNetwork
        A copy with ``costs`` set (the same nodes, segments and geometry).
    meta : dict
        DEM files, walking function, samples, missing samples, elevation range and
        grade percentiles; goes into ``run.json`` as ``"dem"``.
    """
    speed_factor(0.0, function)  # the function's name, checked first
    files = _dem_paths(paths)
    pieces, ptr, points = piece_samples(net.xy, net.edge_u, net.edge_v, net.edge_length, step)
    z = sample_dem(files, points[:, 0], points[:, 1], net.crs)
    missing = int(np.isnan(z).sum())
    if len(z) and missing > settings.DEM_MAX_MISSING * len(z):
        lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
        raise InputError(
            f"The DEM {', '.join(map(repr, files))} has no elevation for {missing} of "
            f"{len(z)} street samples ({missing / len(z):.0%}); give tiles covering lon "
            f"{lon.min():.3f}–{lon.max():.3f}, lat {lat.min():.3f}–{lat.max():.3f} (several "
            "--dem files may be given)."
        )
    steps = (net.edges["highway"].astype(str) == "steps").to_numpy()
    costs = edge_costs(net.edge_length, pieces, ptr, z, function, steps)
    # ``flat``: the DEM is read and reported, but walking ignores it (the flat engine)
    grade = np.abs(costs.grade)
    meta = {
        "files": files,
        "function": function,
        "step_m": float(step),
        "samples": int(len(z)),
        "missing_samples": missing,
        "elevation_m": [float(np.nanmin(z)), float(np.nanmax(z))] if len(z) > missing else None,
        "grade_p50": float(np.percentile(grade, 50)) if len(grade) else 0.0,
        "grade_p90": float(np.percentile(grade, 90)) if len(grade) else 0.0,
        "grade_max": float(grade.max(initial=0.0)),
        "steps_segments": int(steps.sum()),
        "source": "DEM given by the user; grades sampled by gcgeo",
    }
    return dataclasses.replace(net, costs=None if function == "flat" else costs), meta
