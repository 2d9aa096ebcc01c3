"""Print an HTML page to PDF with headless Chromium (``gcgeo report --pdf``).

Chromium's own print engine lays the page out with its print stylesheet (A4, one area per
page), so the PDF is what "print to PDF" in the browser gives. Chromium is found as
``$GCGEO_CHROMIUM`` or on ``PATH`` (:data:`CHROMIUM_NAMES`); without it the command stops
before writing anything, naming how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ._errors import DependencyError, OutputError

__all__ = ["CHROMIUM_NAMES", "PDF_TIMEOUT_S", "find_chromium", "html_to_pdf", "require_chromium"]

#: executables tried, in order, after ``$GCGEO_CHROMIUM``
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: longest a print may take
PDF_TIMEOUT_S = 180


def find_chromium() -> str | None:
    """Path of a Chromium (or Chrome) executable, or None."""
    given = os.environ.get("GCGEO_CHROMIUM")
    if given:
        return given if Path(given).is_file() and os.access(given, os.X_OK) else None
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def require_chromium() -> str:
    """:func:`find_chromium`, or a :class:`DependencyError` naming the fix."""
    exe = find_chromium()
    if exe is None:
        raise DependencyError(
            "--pdf prints with headless Chromium, which was not found; install it "
            "(apt-get install chromium) or set GCGEO_CHROMIUM to its path, or leave out --pdf."
        )
    return exe


def html_to_pdf(html: Path, pdf: Path, chromium: str, timeout: float = PDF_TIMEOUT_S) -> None:
    """Print ``html`` (a local file; its relative images are found beside it) to ``pdf``.

    Raises
    ------
    OutputError
        Chromium failed or wrote nothing (its last message is named).
    """
    with tempfile.TemporaryDirectory(prefix="gcgeo-chromium-") as profile:
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OutputError(
                f"Chromium ({chromium}) could not print {html.name} to PDF ({exc}); check "
                "that it starts (chromium --headless --version) or leave out --pdf."
            ) from exc
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise OutputError(
            f"Chromium ({chromium}) did not print {html.name} to PDF (exit {proc.returncode}: "
            f"{last}); check that it starts (chromium --headless --version) or leave out --pdf."
        )
