"""The one write path: no-clobber checks, atomic files, atomic output *sets*, and OS errors
turned into one sentence.

Promises (tested in ``tests/test_hostile_io.py``):

- An output that resolves to an input (same path or same file) is refused before any work.
- A single file is written to a hidden temporary sibling and renamed onto its name, so a
  crash leaves the old file or the new one, never a truncated one.
- A multi-file command writes its whole set into a hidden staging folder beside ``--out`` and
  swaps it in at the end (one atomic ``renameat2(RENAME_EXCHANGE)`` on Linux, else two
  renames), so a kill at any point leaves the complete old set or the complete new set.
  Files in the folder that are not part of the set are carried over untouched (hard links).
- SIGTERM and Ctrl-C remove the temporary files on the way out; what a SIGKILL leaves
  (hidden ``.NAME.gcgeo-PID-*`` entries of a process that no longer runs) is removed by the
  next write into the same folder, and is never mistaken for output.
- Read-only folders, a full disk, a parent that is a file, a target that is a folder and
  over-long names end as :class:`~gcgeo._errors.OutputError`: one sentence, exit code 2.
- CSV cells that a spreadsheet would run as a formula (leading ``= + - @``, tab or CR) are
  written with a leading ``'`` in text columns.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import GcgeoError, InputError, OutputError, OutputExistsError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "atomic_path",
    "atomic_write",
    "atomic_write_text",
    "check_not_inputs",
    "check_writable",
    "describe_os_error",
    "output_set",
    "public_path",
    "safe_filename",
    "spreadsheet_safe",
    "write_csv",
    "write_file",
    "rounded_for_people",
    "PEOPLE_DECIMALS",
    "write_gpkg",
]

#: longest file name gcgeo generates (bytes, UTF-8); ext4 and most others allow 255
MAX_NAME_BYTES = 120
_TMP_TAG = ".gcgeo-"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.gcgeo-(?P<pid>\d+)-[0-9a-f]{8}(?P<rest>.*)$")


def _tmp_name(target: Path, suffix: str = "") -> str:
    return f".{target.name}{_TMP_TAG}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Remove hidden gcgeo temporaries in ``folder`` left by processes that no longer run."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_RE.match(entry.name)
        if not m or _alive(int(m.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


def public_path(path: str | os.PathLike) -> str:
    """``path`` as the user named it: hidden staging parts replaced by their final names."""
    parts = []
    for part in Path(path).parts:
        m = _TMP_RE.match(part)
        parts.append(m.group("name") if m else part)
    return str(Path(*parts)) if parts else str(path)


def describe_os_error(exc: OSError, action: str = "write") -> str:
    """One sentence for an OS error: what failed, on which path, and how to fix it."""
    path = public_path(exc.filename) if exc.filename else "the output"
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Cannot {action} {str(path)!r}: permission denied or read-only file system; "
            "choose a folder you can write to with --out."
        )
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"The disk is full while writing {str(path)!r}; free some space or choose "
            "--out on another disk (nothing was changed)."
        )
    if code == errno.ENOTDIR:
        return (
            f"Cannot {action} {str(path)!r}: a part of that path is a file, not a folder; "
            "choose another --out."
        )
    if code == errno.EISDIR:
        return f"{str(path)!r} is a folder, not a file; give a file name with --out."
    if code == errno.ENAMETOOLONG:
        return (
            f"The path {str(path)[:80]!r}... is too long for the file system; choose a "
            "shorter --out."
        )
    if code == errno.ENOENT and action == "read":
        return f"{str(path)!r} does not exist; check the path."
    return f"Cannot {action} {str(path)!r}: {exc.strerror or exc}; check the path and try again."


def _as_output_error(exc: OSError) -> OutputError:
    err = OutputError(describe_os_error(exc))
    err.__cause__ = exc
    return err


def check_writable(paths: Iterable[str | os.PathLike], overwrite: bool) -> None:
    """Fail before any work if an output exists and ``overwrite`` is false, or if an output
    path is an existing folder or lies under a file.

    Parameters
    ----------
    paths : iterable of path-like
        Every file a command is about to write.
    overwrite : bool
        Whether existing files may be replaced.
    """
    for p in map(Path, paths):
        if p.is_dir():
            raise OutputError(f"Output {str(p)!r} is a folder, not a file; give a file name.")
        for parent in p.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(
                        f"Cannot write {str(p)!r}: {str(parent)!r} is a file, not a folder; "
                        "choose another --out."
                    )
                break
        if len(p.name.encode("utf-8")) > 255:
            raise OutputError(
                f"The file name {p.name[:40]!r}... is longer than 255 bytes; choose a shorter "
                "--out."
            )
        if not overwrite and p.exists():
            raise OutputExistsError(
                f"Output {str(p)!r} already exists; pass --overwrite to replace it "
                "or choose another output path."
            )


def check_not_inputs(
    outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike | None]
) -> None:
    """Refuse an output that is one of the inputs (same path, or the same file by inode).

    Parameters
    ----------
    outputs : iterable of path-like
    inputs : iterable of path-like or None
        Every file the command reads (``None`` entries are ignored).
    """
    ins = [Path(i) for i in inputs if i is not None]
    resolved = {i.resolve(): i for i in ins}
    for out in map(Path, outputs):
        hit = resolved.get(out.resolve())
        if hit is None and out.exists():
            hit = next((i for i in ins if i.exists() and os.path.samefile(i, out)), None)
        if hit is not None:
            raise InputError(
                f"Output {str(out)!r} is the input {str(hit)!r}; writing it would destroy the "
                "input, so choose another --out."
            )


def safe_filename(stem: str, suffix: str = "", max_bytes: int = MAX_NAME_BYTES) -> str:
    """A file name from untrusted text: no path separators or control characters, at most
    ``max_bytes`` (UTF-8) long; a shortened name ends in a hash of the full text, so two long
    names stay distinct."""
    import hashlib

    clean = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", stem).strip(" .") or "_"
    if len((clean + suffix).encode("utf-8")) <= max_bytes:
        return clean + suffix
    tag = "-" + hashlib.sha1(stem.encode("utf-8")).hexdigest()[:10]
    room = max_bytes - len((tag + suffix).encode("utf-8"))
    short = clean.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return short + tag + suffix


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path``; rename it onto ``path`` on success.

    A crash or exception leaves ``path`` untouched and removes the temporary file (and any
    ``-journal``/``-wal`` files a GeoPackage writer left beside it). OS errors become one
    :class:`OutputError` sentence.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _as_output_error(exc) from exc
    remove_stale(target.parent)
    sfx = suffix if suffix is not None else "".join(target.suffixes) or ".tmp"
    tmp_path = target.parent / _tmp_name(target, sfx)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except GcgeoError:
        raise
    except OSError as exc:
        raise _as_output_error(exc) from exc
    finally:
        for extra in ("", "-journal", "-wal", "-shm"):
            leftover = Path(str(tmp_path) + extra)
            if leftover.exists():
                with contextlib.suppress(OSError):
                    leftover.unlink()


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_file(path: str | os.PathLike, content: str | bytes) -> None:
    """Write text (UTF-8) or bytes to ``path`` atomically, making its folder if needed
    (for the files of an output set, e.g. a report's ``maps/`` images)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8")


def atomic_write(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _carry_over(old: Path, stage: Path) -> None:
    """Hard-link (or copy) the entries of ``old`` that the new set does not replace."""
    for entry in old.iterdir():
        dest = stage / entry.name
        if dest.exists() or dest.is_symlink() or _TMP_RE.match(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, dest)


def _link_or_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


@contextlib.contextmanager
def output_set(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Stage a command's output files; swap them into ``out_dir`` together at the end.

    Yields an empty hidden folder beside ``out_dir``; write every output there under its final
    name. On success the folder becomes ``out_dir`` in one step (entries of an existing
    ``out_dir`` that the new set does not hold are kept). On any error, Ctrl-C or SIGTERM the
    staging folder is removed and ``out_dir`` is as it was.

    Parameters
    ----------
    out_dir : path-like
        The output folder (created if missing). Check the names first with
        :func:`check_writable`.
    """
    final = Path(out_dir)
    parent = final.parent if str(final.parent) else Path(".")
    try:
        if final.exists() and not final.is_dir():
            raise OutputError(f"--out {str(final)!r} is a file, not a folder; give a folder name.")
        if Path.cwd().resolve() in (final.resolve(), *final.resolve().parents) and final.exists():
            raise OutputError(
                f"--out {str(final)!r} is the current folder (or holds it); give a sub-folder "
                "such as --out results."
            )
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale(parent)
        stage = parent / _tmp_name(final)
        stage.mkdir()
    except GcgeoError:
        raise
    except OSError as exc:
        raise _as_output_error(exc) from exc
    try:
        yield stage
        if final.exists():
            _carry_over(final, stage)
            if _exchange(stage, final):
                shutil.rmtree(stage, ignore_errors=True)  # now the old set
                return
            old = parent / _tmp_name(final, ".old")
            os.rename(final, old)
            os.rename(stage, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(stage, final)
    except GcgeoError:
        raise
    except OSError as exc:
        raise _as_output_error(exc) from exc
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas: a cell of a text column
    that starts with ``= + - @``, tab or CR gets a leading ``'`` (numbers are untouched)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        is_text = s.map(lambda v: isinstance(v, str))
        risky = is_text & s.where(is_text, "").astype(str).str.startswith(_FORMULA_START)
        if risky.any():
            out[col] = s.where(~risky, "'" + s.where(risky, "").astype(str))
    return out


#: decimals kept in a table people read: metres to 1 m, shares (fractions) to 0.1 %,
#: minutes to 0.1 min, WGS-84 degrees to 1e-7 (about 1 cm), anything else to 0.01
#: (see :func:`rounded_for_people`)
PEOPLE_DECIMALS = {"metres": 0, "share": 3, "minutes": 1, "degrees": 7, "other": 2}
_COORDINATE_NAMES = {"lon", "lat", "lng", "longitude", "latitude", "x", "y"}


def rounded_for_people(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its float columns rounded as :data:`PEOPLE_DECIMALS` says, by column name.

    ``…_m``/``dist…`` columns are metres, ``share…``/``…completeness`` fractions,
    ``…_min``/``minutes…`` minutes, ``lon``/``lat``/``x``/``y`` coordinates. Integer and
    text columns are unchanged.
    """
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_float_dtype(out[col]):
            continue
        name = str(col).lower()
        if name in _COORDINATE_NAMES or name.endswith(("_lon", "_lat")):
            kind = "degrees"
        elif name.endswith("_m") or name.startswith("dist") or "_dist_" in name:
            kind = "metres"
        elif "share" in name or "completeness" in name:
            kind = "share"
        elif name.endswith("_min") or "minutes" in name:
            kind = "minutes"
        else:
            kind = "other"
        out[col] = out[col].round(PEOPLE_DECIMALS[kind])
    return out


def write_csv(df: pd.DataFrame, path: str | Path, exact: bool = False) -> None:
    """Write a CSV atomically, UTF-8 with BOM so Excel shows Chinese correctly, with text
    cells made spreadsheet-safe (:func:`spreadsheet_safe`) and numbers rounded for people
    (:func:`rounded_for_people`) unless ``exact`` (a machine table)."""
    import io

    buf = io.StringIO()
    spreadsheet_safe(df if exact else rounded_for_people(df)).to_csv(buf, index=False)
    atomic_write_text(path, buf.getvalue(), encoding="utf-8-sig")


def write_gpkg(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    layer: str,
    styles: Sequence[Any] = (),
    more_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> None:
    """Write a GeoPackage atomically; a GDAL failure (disk full, read-only) is one sentence.

    ``more_layers`` are written beside ``layer``; ``styles``
    (:class:`gcgeo.qgis_style.LayerStyle`) go into its ``layer_styles`` table, so QGIS
    opens the layers in gcgeo's colours.
    """
    with atomic_path(path, suffix=".gpkg") as tmp:
        try:
            gdf.to_file(tmp, layer=layer, driver="GPKG")
            for name, frame in (more_layers or {}).items():
                frame.to_file(tmp, layer=name, driver="GPKG")
            if styles:
                from .qgis_style import write_styles

                write_styles(tmp, styles)
        except (OSError, GcgeoError):
            raise
        except Exception as exc:  # GDAL/pyogrio errors are not OSErrors
            try:
                free = shutil.disk_usage(Path(tmp).parent).free
            except OSError:
                free = None
            if free is not None and free < 4 * 1024 * 1024:
                raise _as_output_error(
                    OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                ) from exc
            raise OutputError(
                f"Could not write the GeoPackage {public_path(path)!r} ({str(exc)[:120]}); "
                "check the free disk space and that the folder is writable."
            ) from exc
