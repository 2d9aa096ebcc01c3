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
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from . import settings
from ._errors import DependencyError, InputError
from .crs import transformer

if TYPE_CHECKING:
    from .network import StreetNetwork

__all__ = [
    "EdgeCosts",
    "apply_dem",
    "dem_paths",
    "edge_costs",
    "edited_costs",
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
        Pieces per segment (equal ones of at most ``DEM_STEP_M`` from :func:`edge_costs`;
        a segment split by a scenario link keeps its parent's boundaries).
    ptr : ndarray of int, shape (n_edges + 1,)
        Piece boundaries of segment ``e`` are ``ptr[e] .. ptr[e + 1] - 1`` in the arrays
        below (``pieces + 1`` each, ``u`` first).
    pos : ndarray
        Offset (m) of each boundary from ``u``.
    cum_f, cum_b : ndarray
        At each boundary: the cost from ``u`` to it, and from it back to ``u``.
    elevation : ndarray
        Metres at each boundary (``nan`` where the DEM had no value).
    grade : ndarray, shape (n_pieces,)
        Rise/run of each piece in the ``u → v`` direction (0 where unknown).
    function : str
        The walking function.
    files : tuple of str
        The DEM tiles (new links are sampled from them).
    step : float
        The sampling step (m).
    """

    fwd: np.ndarray
    bwd: np.ndarray
    length: np.ndarray
    pieces: np.ndarray
    ptr: np.ndarray
    pos: np.ndarray
    cum_f: np.ndarray
    cum_b: np.ndarray
    elevation: np.ndarray
    grade: np.ndarray
    function: str
    files: tuple[str, ...] = ()
    step: float = settings.DEM_STEP_M

    def piece_at(
        self, edge: np.ndarray, offset: np.ndarray, key: np.ndarray | None = None
    ) -> np.ndarray:
        """Index (into the boundary arrays) of the piece start each point lies after:
        the last boundary of its segment with ``key <= offset`` (``key``: ``pos`` by
        default, or ``cum_f``/``cum_b``, which also rise along a segment)."""
        key = self.pos if key is None else key
        lo = self.ptr[edge].copy()
        hi = self.ptr[edge + 1] - 2  # the last piece's start
        # vectorised binary search within each segment's own boundaries
        while True:
            live = lo < hi
            if not live.any():
                return lo
            mid = (lo + hi + 1) // 2
            go = live & (key[mid] <= offset)
            lo = np.where(go, mid, lo)
            hi = np.where(live & ~go, mid - 1, hi)

    def reach_from_ends(
        self, edge: np.ndarray, budget_u: np.ndarray, budget_v: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """How far along each segment (m) the walks *to* its ends stay within budget.

        ``budget_u``: the cost left for a walk from a point of the segment to ``u``;
        returns the metres from ``u`` whose walk to ``u`` costs at most that, and likewise
        the metres from ``v`` (the inverse of :meth:`along`; isochrones on slopes).
        """
        e = np.asarray(edge, dtype=np.int64)
        length = self.length[e]

        def inverse(key: np.ndarray, value: np.ndarray) -> np.ndarray:
            i = self.piece_at(e, value, key)
            dk = key[i + 1] - key[i]
            h = self.pos[i + 1] - self.pos[i]
            share = np.clip((value - key[i]) / np.where(dk > 0, dk, 1.0), 0.0, 1.0)
            return self.pos[i] + share * h

        bu = np.asarray(budget_u, dtype=float)
        bv = np.asarray(budget_v, dtype=float)
        with np.errstate(invalid="ignore"):
            a = np.where(bu >= self.bwd[e], length, inverse(self.cum_b, np.maximum(bu, 0.0)))
            # the walk from offset s to v is fwd - cum_f(s): within bv where cum_f >= fwd - bv
            s = inverse(self.cum_f, np.maximum(self.fwd[e] - bv, 0.0))
            b = np.where(bv >= self.fwd[e], length, length - s)
        a = np.where(bu > 0, a, 0.0)
        b = np.where(bv > 0, b, 0.0)
        return np.clip(np.nan_to_num(a), 0.0, length), np.clip(np.nan_to_num(b), 0.0, length)

    def along(self, edge: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cost from ``u`` to the point at ``offset`` on ``edge``, and from it back to ``u``.

        The costs to and from ``v`` follow: ``fwd - from_u`` and ``bwd - to_u``.
        """
        e = np.asarray(edge, dtype=np.int64)
        t = np.clip(np.asarray(offset, dtype=float), 0.0, self.length[e])
        i = self.piece_at(e, t)
        h = self.pos[i + 1] - self.pos[i]
        share = np.where(h > 0, (t - self.pos[i]) / np.where(h > 0, h, 1.0), 0.0)
        f0, f1 = self.cum_f[i], self.cum_f[i + 1]
        b0, b1 = self.cum_b[i], self.cum_b[i + 1]
        return f0 + share * (f1 - f0), b0 + share * (b1 - b0)

    def derive(
        self, parent: np.ndarray, start: np.ndarray, length: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Boundary arrays for pieces of these segments (``parent[i]`` from ``start[i]``,
        ``length[i]`` long, in the parent's direction): the parent's own boundaries inside
        the piece plus its two ends, with costs read off the parent's, so the pieces of a
        split street cost exactly what it did.

        Returns ``(pieces, ptr, pos, cum_f, cum_b, elevation)``.
        """
        p = np.asarray(parent, dtype=np.int64)
        a = np.asarray(start, dtype=float)
        b = a + np.asarray(length, dtype=float)
        # the parent's interior boundaries strictly inside (a, b)
        first = self.piece_at(p, a) + 1  # first boundary after a (or at it)
        first = np.where(self.pos[np.minimum(first, len(self.pos) - 1)] <= a, first + 1, first)
        last = self.piece_at(p, b)  # last boundary at or before b
        last = np.where(self.pos[last] >= b, last - 1, last)
        inner = np.maximum(last - first + 1, 0)
        pieces = inner + 1
        ptr = np.concatenate([[0], np.cumsum(pieces + 1)]).astype(np.int64)
        e_b = np.repeat(np.arange(len(p)), pieces + 1)
        j = np.arange(ptr[-1]) - ptr[e_b]
        src = first[e_b] + j - 1  # parent boundary of interior boundary j
        is_start = j == 0
        is_end = j == pieces[e_b]
        q = np.where(
            is_start, a[e_b], np.where(is_end, b[e_b], self.pos[np.clip(src, 0, len(self.pos) - 1)])
        )
        pe = p[e_b]
        f, bk = self.along(pe, q)
        f0, b0 = self.along(p, a)
        z = self._elevation_at(pe, q)
        return pieces, ptr, q - a[e_b], f - f0[e_b], bk - b0[e_b], z

    def _elevation_at(self, edge: np.ndarray, offset: np.ndarray) -> np.ndarray:
        i = self.piece_at(edge, offset)
        h = self.pos[i + 1] - self.pos[i]
        share = np.where(h > 0, (offset - self.pos[i]) / np.where(h > 0, h, 1.0), 0.0)
        return self.elevation[i] + share * (self.elevation[i + 1] - self.elevation[i])

    def between(self, edge: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cost of walking along ``edge`` from offset ``a`` to offset ``b`` (either way)."""
        fa, ba = self.along(edge, a)
        fb, bb = self.along(edge, b)
        return np.where(np.asarray(b) >= np.asarray(a), fb - fa, ba - bb)

    @cached_property
    def max_speedup(self) -> float:
        """The most metres a walk covers per flat-equivalent metre (downhill at -5 %:
        1.19 for ``tobler``), at least 1: bounds how far a search of a given cost reaches."""
        step = np.minimum(self.fwd, self.bwd)
        ok = step > 0
        if not ok.any():
            return 1.0
        return max(1.0, float((self.length[ok] / step[ok]).max()))

    def reversed(self) -> EdgeCosts:
        """The same streets walked the other way: every cost of ``u → v`` becomes that of
        ``v → u`` (searches *from* origins use it; see ``StreetNetwork.reversed``)."""
        return dataclasses.replace(
            self, fwd=self.bwd, bwd=self.fwd, cum_f=self.cum_b, cum_b=self.cum_f, grade=-self.grade
        )

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
    pos = length[e_b] * (j / pieces[e_b])
    return _assemble(length, pieces, ptr, pos, cum_f, cum_b, z, grade, function)


def _assemble(
    length: np.ndarray,
    pieces: np.ndarray,
    ptr: np.ndarray,
    pos: np.ndarray,
    cum_f: np.ndarray,
    cum_b: np.ndarray,
    z: np.ndarray,
    grade: np.ndarray | None,
    function: str,
    files: tuple[str, ...] = (),
    step: float = settings.DEM_STEP_M,
) -> EdgeCosts:
    """An :class:`EdgeCosts` from its boundary arrays (grades from ``z`` when not given)."""
    if grade is None:
        n = len(length)
        first = np.repeat(ptr[:-1], pieces) + (np.arange(int(pieces.sum())) - np.repeat(
            np.cumsum(pieces) - pieces, pieces))  # fmt: skip
        h = pos[first + 1] - pos[first] if n else np.zeros(0)
        dz = z[first + 1] - z[first] if n else np.zeros(0)
        grade = np.where(np.isfinite(dz) & (h > 0), dz / np.where(h > 0, h, 1.0), 0.0)
    last = ptr[1:] - 1
    return EdgeCosts(
        fwd=cum_f[last].copy(),
        bwd=cum_b[last].copy(),
        length=np.asarray(length, dtype=float),
        pieces=pieces,
        ptr=ptr,
        pos=pos,
        cum_f=cum_f,
        cum_b=cum_b,
        elevation=z,
        grade=grade,
        function=function,
        files=tuple(files),
        step=float(step),
    )


def edited_costs(
    costs: EdgeCosts,
    parent: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    new_xy: np.ndarray,
    new_u: np.ndarray,
    new_v: np.ndarray,
    crs: Any,
) -> EdgeCosts:
    """Costs of an edited network (:func:`gcgeo.scenario.add_links_mapped`): segments kept
    or split (``parent >= 0``, from ``start`` along it) keep their parent's profile exactly;
    new links (``parent == -1``) are sampled from the DEM files.

    ``new_xy``, ``new_u``, ``new_v``: the edited network's node coordinates and segment ends.
    """
    parent = np.asarray(parent, dtype=np.int64)
    length = np.asarray(length, dtype=float)
    old = np.flatnonzero(parent >= 0)
    new = np.flatnonzero(parent < 0)
    parts = []
    if len(old):
        parts.append((old, *costs.derive(parent[old], np.asarray(start)[old], length[old])))
    if len(new):
        if not costs.files:
            raise InputError("The DEM of these costs is unknown, so new links cannot be sampled.")
        pieces, ptr, points = piece_samples(new_xy, new_u[new], new_v[new], length[new], costs.step)
        z = sample_dem(costs.files, points[:, 0], points[:, 1], crs)
        lc = edge_costs(length[new], pieces, ptr, z, costs.function)
        parts.append((new, lc.pieces, lc.ptr, lc.pos, lc.cum_f, lc.cum_b, lc.elevation))
    # interleave back into edge order
    n = len(parent)
    pieces = np.zeros(n, dtype=np.int64)
    for idx, pc, *_ in parts:
        pieces[idx] = pc
    ptr = np.concatenate([[0], np.cumsum(pieces + 1)]).astype(np.int64)
    size = int(ptr[-1])
    pos, cum_f, cum_b, z = (np.empty(size) for _ in range(4))
    for idx, pc, pptr, ppos, pf, pb, pz in parts:
        e_b = np.repeat(np.arange(len(idx)), pc + 1)
        dest = ptr[idx][e_b] + (np.arange(int(pptr[-1])) - pptr[e_b])
        pos[dest], cum_f[dest], cum_b[dest], z[dest] = ppos, pf, pb, pz
    return _assemble(length, pieces, ptr, pos, cum_f, cum_b, z, None, costs.function,
                     costs.files, costs.step)  # fmt: skip


def dem_paths(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The DEM files as strings, each checked to exist (one sentence if not)."""
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

    Each tile is read only over the window its points need, averaged down when that window
    exceeds :data:`gcgeo.settings.DEM_MAX_PIXELS`. A point outside every tile,
    or next to a no-data pixel, gets ``nan``; so does a value outside
    :data:`gcgeo.settings.DEM_RANGE_M` (an undeclared no-data value). Needs rasterio (the ``checkup`` extra).
    """
    try:
        import rasterio
        from rasterio.enums import Resampling
        from rasterio.windows import Window
    except ImportError as exc:
        raise DependencyError(
            'A DEM needs rasterio; install it with `pip install "gcgeo[checkup]"`.'
        ) from exc

    files = dem_paths(paths)
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
                tr = transformer(crs, src.crs.to_wkt())
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
                ww, wh = c1 - c0, r1 - r0
                # a window too large for memory is read averaged over f × f blocks (a whole
                # number, the window grown to whole blocks where the raster allows)
                f = int(np.ceil(np.sqrt(ww * wh / settings.DEM_MAX_PIXELS)))
                if f > 1:  # one block of margin, so no point is nearer the edge than a centre
                    c0, r0 = max(0, c0 - f), max(0, r0 - f)
                    ww, wh = -(-(ww + 2 * f) // f) * f, -(-(wh + 2 * f) // f) * f
                    c0, r0 = max(0, min(c0, src.width - ww)), max(0, min(r0, src.height - wh))
                    ww, wh = min(ww, src.width - c0), min(wh, src.height - r0)
                shape = (max(1, -(-wh // max(f, 1))), max(1, -(-ww // max(f, 1))))
                band = src.read(1, window=Window(c0, r0, ww, wh), masked=True,
                                out_shape=shape, resampling=Resampling.average)  # fmt: skip
        except (OSError, rasterio.errors.RasterioError) as exc:
            raise InputError(f"Cannot read the DEM {path!r} ({exc}).") from exc
        values = np.ma.filled(band.astype(float), np.nan)
        h, w = values.shape
        # pixel-centre coordinates in the (possibly averaged) window
        cc = np.clip((col + 0.5 - c0) * (w / ww) - 0.5, 0.0, w - 1.0)
        rr = np.clip((row + 0.5 - r0) * (h / wh) - 0.5, 0.0, h - 1.0)
        i0 = np.minimum(np.floor(cc).astype(np.int64), max(w - 2, 0))
        j0 = np.minimum(np.floor(rr).astype(np.int64), max(h - 2, 0))
        i1 = np.minimum(i0 + 1, w - 1)
        j1 = np.minimum(j0 + 1, h - 1)
        fx = cc - i0
        fy = rr - j0
        top = values[j0, i0] * (1 - fx) + values[j0, i1] * fx
        bottom = values[j1, i0] * (1 - fx) + values[j1, i1] * fx
        z[todo] = top * (1 - fy) + bottom * fy
    # an undeclared no-data value (-32768, 3.4e38) or a broken file is no elevation
    lo, hi = settings.DEM_RANGE_M
    z[~((z >= lo) & (z <= hi))] = np.nan
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
    files = dem_paths(paths)
    pieces, ptr, points = piece_samples(net.xy, net.edge_u, net.edge_v, net.edge_length, step)
    z = sample_dem(files, points[:, 0], points[:, 1], net.crs)
    missing = int(np.isnan(z).sum())
    if len(z) and missing > settings.DEM_MAX_MISSING * len(z):
        lon, lat = net.node_table["lon"].to_numpy(), net.node_table["lat"].to_numpy()
        raise InputError(
            f"The DEM {', '.join(map(repr, files))} has no elevation for {missing} of "
            f"{len(z)} street samples ({missing / len(z):.0%}); give tiles covering lon "
            f"{lon.min():.3f}–{lon.max():.3f}, lat {lat.min():.3f}–{lat.max():.3f} (several "
            "--dem files may be given)."
        )
    steps = (net.edge_table["highway"].astype(str) == "steps").to_numpy()
    costs = dataclasses.replace(
        edge_costs(net.edge_length, pieces, ptr, z, function, steps), files=tuple(files), step=step
    )
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
    return net.replace(costs=None if function == "flat" else costs), meta
