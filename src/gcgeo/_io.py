"""Atomic, no-clobber file writing shared by every command that writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import OutputExistsError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "check_writable",
    "write_csv",
    "write_gpkg",
]


def check_writable(paths: Iterable[str | os.PathLike], overwrite: bool) -> None:
    """Fail before any work if an output exists and ``overwrite`` is false.

    Parameters
    ----------
    paths : iterable of path-like
        Every file a command is about to write.
    overwrite : bool
        Whether existing files may be replaced.
    """
    if overwrite:
        return
    for p in paths:
        if Path(p).exists():
            raise OutputExistsError(
                f"Output {str(p)!r} already exists; pass --overwrite to replace it "
                "or choose another output path."
            )


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    A crash or exception leaves ``path`` untouched and removes the temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(target.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=sfx, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let writers (GDAL) create the file themselves
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV atomically, UTF-8 with BOM so Excel shows Chinese correctly."""
    import io

    buf = io.StringIO()
    df.to_csv(buf, index=False)
    atomic_write_text(path, buf.getvalue(), encoding="utf-8-sig")


def write_gpkg(gdf: gpd.GeoDataFrame, path: str | Path, layer: str) -> None:
    """Write a GeoPackage atomically."""
    with atomic_path(path, suffix=".gpkg") as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG")
