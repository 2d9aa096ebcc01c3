"""The package as a planner installs it: a wheel carries the district layers and the catalogue,
``gcgeo layers list`` and ``gcgeo demo`` work from it, and ``gcgeo --help`` loads no command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = ROOT / "src" / "gcgeo" / "data" / "layers"
SHIPPED = ("boundary.geojson", "zones.geojson", "wings.geojson", "renewal_areas.geojson",
           "planned_facilities.geojson", "renewal_register.csv")  # fmt: skip


def test_packaged_layers_equal_the_repository_layers() -> None:
    """layers/ is the planner-facing copy; the package data must be the same bytes."""
    for name in SHIPPED:
        assert (PACKAGED / name).read_bytes() == (ROOT / "layers" / name).read_bytes(), (
            f"{name} differs: run python layers/build_layers.py"
        )


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gcgeo wheel built from this tree and unpacked (no dependencies) into a folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp / "dist"), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next((tmp / "dist").glob("gcgeo-*.whl"))
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return site


def _run_from_wheel(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("GCGEO_LAYERS_DIR", None)
    code = (
        "import sys, gcgeo; assert gcgeo.__file__.startswith(sys.argv[1]), gcgeo.__file__; "
        "from gcgeo.cli import main; sys.argv = ['gcgeo', *sys.argv[2:]]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(site), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_wheel_install_lists_layers_and_runs_the_demo(wheel_site: Path, tmp_path: Path) -> None:
    for name in SHIPPED:
        assert (wheel_site / "gcgeo" / "data" / "layers" / name).is_file(), name
    assert (wheel_site / "gcgeo" / "catalogue.toml").is_file()
    # run far from the repository, so its layers/ folder cannot be found
    r = _run_from_wheel(wheel_site, tmp_path, "layers", "list")
    assert r.returncode == 0, r.stderr
    assert "zones" in r.stdout and "renewal_register.csv" in r.stdout
    r = _run_from_wheel(wheel_site, tmp_path, "demo", "--out", str(tmp_path / "demo"),
                        "--no-cache")  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "demo" / "coverage.csv").is_file()
    assert (tmp_path / "demo" / "reports" / "index.html").is_file()


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from gcgeo.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
        "heavy = [m for m in ('geopandas', 'folium', 'matplotlib', 'scipy', 'shapely', "
        "'gcgeo.cli.coverage') if m in sys.modules]; print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
