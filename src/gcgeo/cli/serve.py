"""``gcgeo serve``: the live what-if map in the browser."""

from __future__ import annotations

import ipaddress
import socket
import tempfile
from pathlib import Path
from typing import Any

import click

from .._errors import DependencyError, InputError
from .common import check_layers_dir, handle_errors
from .options import (
    Measure,
    cache_argument,
    cache_options,
    catalogue_option,
    cell_option,
    layers_option,
    origin_rule_option,
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
    osm_path: str | None,
    catalogue_path: str | None,
    layers_dir: str | None,
    cell: float,
    origin_rule: str,
    threshold_basis: str,
    cache: Any,
    workdir: Path,
) -> Any:
    """The shared data of the page: the OSM file's (or the demo's) study, origins, areas."""
    from ..catalogue import load_catalogue
    from ..coverage import grid_origins
    from ..demo import DEMO_LABEL, write_demo_osm
    from ..serve import ServeData
    from ..study import open_study

    label = ""
    if osm_path is None:
        osm_path = str(workdir / "demo.osm")
        write_demo_osm(osm_path)
        label = DEMO_LABEL
    cat = load_catalogue(catalogue_path)
    study = open_study(osm_path, catalogue=cat, cache=cache)
    origins = grid_origins(study.network, cell, None, origin_rule)
    if len(origins) == 0:
        raise InputError(
            f"No origin falls inside the streets of {osm_path!r} under --origin-rule "
            f"{origin_rule}; try --origin-rule all."
        )
    return ServeData.prepare(
        study.network,
        study.facilities,
        cat.select(None),
        origins,
        layers_dir=layers_dir,
        threshold_basis=threshold_basis,
        label=label,
    )


@click.command()
@click.option(
    "--osm",
    "osm_path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="OSM extract (default: the synthetic demo network, labelled as such on the page).",
)
@catalogue_option
@layers_option
@cell_option
@origin_rule_option
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
@cache_options[0]
@cache_options[1]
@handle_errors
def serve(
    osm_path: str | None,
    catalogue_path: str | None,
    layers_dir: str | None,
    cell: float,
    origin_rule: str,
    threshold_basis: str,
    host: str,
    port: float,
    token: str | None,
    open_browser: bool,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Serve a live what-if map: click to add facilities or links, see coverage change.

    The page and its assets come from gcgeo itself (no internet needed). Shares use the
    same origins and rules as `gcgeo coverage` on the same file; edits stay in memory
    until exported as a scenario file for `gcgeo scenario`. Stop with Ctrl-C.
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
        data = build_data(
            osm_path,
            catalogue_path,
            layers_dir,
            cell,
            origin_rule,
            threshold_basis,
            cache_argument(cache_dir, no_cache),
            Path(work),
        )
        app = make_app(data, token=token, planned=planned)
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        shown = url + (f"?token={token}" if token else "")
        click.echo(f"gcgeo serve: {shown}  ({data.label or osm_path}; Ctrl-C to stop)", err=True)
        if open_browser:
            import webbrowser

            webbrowser.open(shown)
        uvicorn.run(app, host=host, port=port, log_level="warning")
