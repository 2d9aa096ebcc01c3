"""A synthetic elevation model for the demo town (``gcgeo demo --dem``), labelled synthetic.

Made-up terrain, shaped after what the district's names and plan say, not measured:

* the old town climbs west onto a ridge, steepest (about 10 %) at x ≈ -700 m from the
  government seat, where the demo places 南城子坡 and 北城子坡 (both named for slopes);
* hills rise in the south (a summit 1.9 km south of the seat), so 宋家庄 and the south of
  the old town sit on their northern flank (about 8 %);
* the valley falls gently (0.4 %) east towards the 高铁新区.

The raster is in the demo's metric CRS (:data:`gcgeo.settings.DEFAULT_CRS`), 20 m pixels,
tagged ``synthetic=yes`` with the demo label. Needs rasterio (the ``checkup`` extra).
"""

from __future__ import annotations

import os

import numpy as np

from . import settings
from ._errors import DependencyError
from .crs import transformer
from .demo_town import GOV_SEAT

__all__ = ["DEM_PIXEL_M", "demo_elevation", "write_demo_dem"]

#: Pixel size of the demo DEM (m), a little finer than SRTM's 30 m.
DEM_PIXEL_M = 20.0
_RIDGE_X, _RIDGE_RISE, _RIDGE_WIDTH = -700.0, 80.0, 200.0
_HILL_X, _HILL_Y, _HILL_RISE, _HILL_SX, _HILL_SY = 500.0, -1900.0, 120.0, 900.0, 500.0
_VALLEY_FALL = 0.004


def demo_elevation(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Synthetic elevation (m) at ``dx, dy`` metres east and north of the government seat."""
    dx = np.asarray(dx, dtype=float)
    dy = np.asarray(dy, dtype=float)
    ridge = _RIDGE_RISE / (1.0 + np.exp((dx - _RIDGE_X) / _RIDGE_WIDTH))
    hill = _HILL_RISE * np.exp(
        -((dx - _HILL_X) ** 2) / (2 * _HILL_SX**2) - (dy - _HILL_Y) ** 2 / (2 * _HILL_SY**2)
    )
    return 180.0 + ridge + hill - _VALLEY_FALL * dx


def write_demo_dem(
    path: str | os.PathLike, bounds: tuple[float, float, float, float], margin_m: float = 500.0
) -> str:
    """Write the synthetic DEM covering ``bounds`` (lon/lat) plus ``margin_m``; return the path."""
    try:
        import rasterio
        from rasterio.transform import from_origin
    except ImportError as exc:
        raise DependencyError(
            'The demo DEM needs rasterio; install it with `pip install "gcgeo[checkup]"`.'
        ) from exc
    from .demo import DEMO_LABEL

    tr = transformer(settings.WGS84, settings.DEFAULT_CRS)
    sx, sy = tr.transform(*GOV_SEAT)
    x0, y0 = tr.transform(bounds[0], bounds[1])
    x1, y1 = tr.transform(bounds[2], bounds[3])
    px = DEM_PIXEL_M
    left = np.floor((min(x0, x1) - margin_m) / px) * px
    top = np.ceil((max(y0, y1) + margin_m) / px) * px
    width = int(np.ceil((max(x0, x1) + margin_m - left) / px))
    height = int(np.ceil((top - (min(y0, y1) - margin_m)) / px))
    cx = left + (np.arange(width) + 0.5) * px
    cy = top - (np.arange(height) + 0.5) * px
    xx, yy = np.meshgrid(cx - sx, cy - sy)
    z = demo_elevation(xx, yy).astype("float32")
    with rasterio.open(
        path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
        crs=settings.DEFAULT_CRS, transform=from_origin(left, top, px, px), nodata=-9999.0,
        compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(z, 1)
        dst.update_tags(synthetic="yes", note=DEMO_LABEL, source=__name__)
    return os.fspath(path)
