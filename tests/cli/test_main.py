"""The ``gcgeo`` group: help and the command list; the console script and its quick exit."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from cli.cliutil import run

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_commands() -> None:
    r = run("--help")
    assert r.exit_code == 0 and "reach" in r.output and "coverage" in r.output


def _script(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def test_console_script_is_run_and_keeps_exit_codes(tmp_path: Path) -> None:
    """``gcgeo`` ends with a quick exit; the status stays the command's: 0, 2, 1."""
    entry = "from gcgeo.cli import run; run()"
    ok = _script(entry, "--help")
    assert ok.returncode == 0 and "coverage" in ok.stdout  # stdout flushed before the exit
    bad = _script(entry, "coverage", "--osm", str(tmp_path / "missing.osm"), "--out", "x")
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    crash = _script(
        "import gcgeo.cli as c\n"
        "def boom():\n"
        "    raise RuntimeError('a bug')\n"
        "c.main = boom\n"
        "c.run()"
    )
    assert crash.returncode == 1 and "RuntimeError: a bug" in crash.stderr
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert scripts["project"]["scripts"]["gcgeo"] == "gcgeo.cli:run"


def test_quick_exit_runs_every_exit_handler_first(tmp_path: Path) -> None:
    """Handlers registered during the command (and temporary folders left to their
    finalizers) still run, and a large buffered write to stdout arrives whole."""
    flag = tmp_path / "handler_ran"
    r = _script(
        "import atexit, sys, tempfile, gcgeo.cli as c\n"
        "def cmd():\n"
        f"    atexit.register(lambda: open({str(flag)!r}, 'w').write('yes'))\n"
        "    c.leftover = tempfile.TemporaryDirectory()\n"  # removed by its finalizer
        f"    open({str(flag)!r} + '.tmpdir', 'w').write(c.leftover.name)\n"
        "    sys.stdout.write('x' * 200000)\n"
        "    raise SystemExit(0)\n"
        "c.main = cmd\n"
        "c.run()"
    )
    assert r.returncode == 0 and len(r.stdout) == 200000
    assert flag.read_text() == "yes"
    assert not Path(Path(str(flag) + ".tmpdir").read_text()).exists()


def test_warning_without_a_bar_is_one_line_and_never_imports_tqdm(tmp_path: Path) -> None:
    """No progress bar is drawn off a terminal, so gcgeo's warnings are printed without
    importing tqdm (~30 ms of every run); other warnings pass through unchanged."""
    r = _script(
        "import sys, warnings, gcgeo.cli as c\n"
        "from gcgeo._errors import GcgeoWarning\n"
        "from gcgeo.cli.common import handle_errors\n"
        "@handle_errors\n"
        "def cmd():\n"
        "    warnings.warn('the cache entry was rebuilt', GcgeoWarning)\n"
        "    warnings.warn('a library talking', UserWarning)\n"
        "    print('tqdm' in sys.modules)\n"
        "cmd()"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
    lines = r.stderr.splitlines()
    assert "Warning: the cache entry was rebuilt" in lines
    assert any("UserWarning: a library talking" in line for line in lines)
