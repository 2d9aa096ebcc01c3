"""``gcgeo serve``: the live what-if map in the browser."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import tempfile
from pathlib import Path
from typing import Any

import click

from .. import settings
from .._errors import DependencyError, InputError
from .common import check_layers_dir, handle_errors
from .options import (
    Measure,
    OriginArgs,
    StudyArgs,
    layers_option,
    origin_source_options,
    served_study_options,
    threshold_basis_option,
)

__all__ = ["serve"]


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    """Refuse a port something else holds, before any work (one sentence, not uvicorn's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port "
                "or stop what holds it."
            ) from exc


def build_data(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    layers_dir: str | None,
    threshold_basis: str | None,
    workdir: Path,
) -> Any:
    """The shared data of the page: the study (the OSM file's, or the demo's), the origins
    as ``gcgeo coverage`` lays them out with the same options, and the areas."""
    from ..catalogue import load_catalogue
    from ..demo import DEMO_LABEL, write_demo_osm
    from ..serve import ServeData
    from ..walker import resolve_basis
    from .common import make_origins, open_study_from_args, read_origin_inputs

    threshold_basis = resolve_basis(threshold_basis, bool(study_args.dem))
    label = ""
    if study_args.osm_path is None:
        demo = workdir / "demo.osm"
        write_demo_osm(demo)
        study_args = dataclasses.replace(study_args, osm_path=str(demo))
        label = DEMO_LABEL
    cat = load_catalogue(study_args.catalogue_path)
    cats = cat.select(None)
    boundary, layer = read_origin_inputs(origin_args)
    study = open_study_from_args(study_args, cat, boundary, cats)
    origins = make_origins(origin_args, study.network, boundary, layer, study_args.max_snap)
    if "dem" in study.meta:  # say on the page that walks are timed up and down hill
        dem = study.meta["dem"]
        note = f"坡度计入 slopes from the DEM ({dem['function']}; thresholds are minutes)"
        label = f"{label} · {note}" if label else note
    personas = dict(settings.PERSONA_SPEEDS_MPS)
    personas["adult"] = float(study_args.speed)  # --speed is the default walker's pace
    return ServeData.prepare(
        study.network,
        study.facilities,
        cats,
        origins,
        layers_dir=layers_dir,
        max_snap=study_args.max_snap,
        threshold_basis=threshold_basis,
        personas=personas,
        limit=study_args.max_distance,
        label=label,
    )


@click.command()
@served_study_options
@origin_source_options
@layers_option
@threshold_basis_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=Measure("port", low=1, low_open=False, high=65535, example="8000"),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--token",
    default=None,
    help="Access token every request must carry (required with a non-local --host).",
)
@click.option("--open", "open_browser", is_flag=True, default=False, help="Open the page.")
@handle_errors
def serve(
    study_args: StudyArgs,
    origin_args: OriginArgs,
    layers_dir: str | None,
    threshold_basis: str | None,
    host: str,
    port: float,
    token: str | None,
    open_browser: bool,
) -> None:
    """Serve a live what-if map: click to add facilities or links, see coverage change.

    Takes the options of `gcgeo coverage` (the origins and rules are the same, so a share on
    the page equals the share `gcgeo coverage` writes with the same facilities). The page
    and its assets come from gcgeo itself (no internet needed); edits stay in memory until
    exported as a scenario file for `gcgeo scenario`. Stop with Ctrl-C.
    """
    try:
        import uvicorn

        from ..serve.app import make_app
    except ImportError as exc:
        raise DependencyError(
            f"gcgeo serve needs Starlette and uvicorn ({exc.name} is missing); install them "
            'with `pip install "gcgeo[serve]"`.'
        ) from exc
    port = int(port)
    if not _is_local(host) and not token:
        raise InputError(
            f"--host {host} lets other machines connect; give a --token that every request "
            "must carry, or keep the default --host 127.0.0.1."
        )
    if token is not None and len(token) < 12:
        raise InputError("--token must be at least 12 characters; make a random one.")
    check_layers_dir(layers_dir)
    _check_port(host, port)
    from ..layers import load_layer

    planned = load_layer("planned_facilities", layers_dir)
    with tempfile.TemporaryDirectory(prefix="gcgeo-serve-") as work:
        click.echo("Preparing the network and origins …", err=True)
        data = build_data(study_args, origin_args, layers_dir, threshold_basis, Path(work))
        app = make_app(data, token=token, planned=planned)
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        shown = url + (f"?token={token}" if token else "")
        where = data.label or study_args.osm_path
        click.echo(f"gcgeo serve: {shown}  ({where}; Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(shown)
        uvicorn.run(app, host=host, port=port, log_level="warning")
