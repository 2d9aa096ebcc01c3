"""Scenario files: TOML text → :class:`Scenario`, every value checked at the boundary.

The format is described in :mod:`gcgeo.scenario`. Each error is one sentence naming
the file, the line or table and the key, and the fix; numbers must be finite and in
range, with their unit in the message.

Personas
--------
A persona (``persona = "elderly"``, speeds in :data:`DEFAULT_PERSONAS` or ``[personas]``)
sets the walking speed and nothing else: what the category thresholds mean at that speed is
the one rule of :func:`gcgeo.walker.threshold_for` (the standard's distances unless
``threshold_basis="time"`` asks for the tier's minutes at the speed), the rule ``gcgeo
coverage --speed`` uses too. So the elderly persona's *before* equals ``--speed 0.8``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from .. import settings
from .._errors import ScenarioError
from ..catalogue import Catalogue, load_catalogue

__all__ = [
    "DEFAULT_LINK_SNAP_M",
    "DEFAULT_PERSONAS",
    "DEFAULT_PLANNED_PATH",
    "MAX_LINK_SNAP_M",
    "PERSONA_SPEED_RANGE_MPS",
    "REFERENCE_SPEED_MPS",
    "AddFacility",
    "AddLink",
    "PlannedSource",
    "Scenario",
    "load_scenario",
    "parse_scenario",
]

#: Walking speeds (m/s) of the personas a scenario may name.
DEFAULT_PERSONAS: dict[str, float] = dict(settings.PERSONA_SPEEDS_MPS)
#: The pace at which the catalogue's distance thresholds are stated.
REFERENCE_SPEED_MPS = settings.WALK_SPEED_MPS
#: Link endpoints farther than this from every street are an error.
DEFAULT_LINK_SNAP_M = 50.0
#: Largest ``link_max_snap`` a scenario may set, metres (as the CLI's ``--max-snap``).
MAX_LINK_SNAP_M = 5000.0
#: A persona's walking speed must lie strictly between these, m/s.
PERSONA_SPEED_RANGE_MPS = (0.0, 5.0)
#: Where planned facilities live in the repository (the default is the shipped layer, found
#: by :func:`gcgeo.layers.layer_path` wherever gcgeo is installed).
DEFAULT_PLANNED_PATH = Path("layers") / "planned_facilities.geojson"
_PLANNED_ID_COLUMNS = ("planned_id", "id", "facility_id", "code")
_TOP_KEYS = frozenset(
    {
        "name",
        "description",
        "persona",
        "personas",
        "link_max_snap",
        "add_facility",
        "remove_facility",
        "add_link",
    }
)
#: A GeoDataFrame of planned facilities, or a function returning one (called only if needed).
PlannedSource = gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame] | str | os.PathLike | None


@dataclass(frozen=True)
class AddFacility:
    """A facility the scenario builds (WGS-84)."""

    facility_id: str
    category: str
    lon: float
    lat: float
    name: str = ""
    planned: str | None = None


@dataclass(frozen=True)
class AddLink:
    """A new walking link: ``line`` vertices, or a straight ``connect`` of two snapped points."""

    key: str
    mode: str  # "line" | "connect"
    lonlat: tuple[tuple[float, float], ...]
    name: str = ""


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file.

    Attributes
    ----------
    name : str
    persona : str
    speed_mps : float
        Walking speed of the persona.
    add_facilities, remove_facilities, add_links
        The changes, in file order.
    link_max_snap : float
        Maximum distance (m) from a link end to the network.
    source : str
        File the scenario came from (for messages).
    """

    name: str
    persona: str = "adult"
    speed_mps: float = DEFAULT_PERSONAS["adult"]
    add_facilities: tuple[AddFacility, ...] = ()
    remove_facilities: tuple[str, ...] = ()
    add_links: tuple[AddLink, ...] = ()
    link_max_snap: float = DEFAULT_LINK_SNAP_M
    description: str = ""
    source: str = "<string>"
    _lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    def where(self, table: str, index: int) -> str:
        """``file line N, [[table]] #i`` for messages."""
        lines = self._lines.get(table, ())
        at = f" line {lines[index]}," if index < len(lines) else ""
        return f"scenario {self.source}{at} [[{table}]] #{index + 1}"


# --------------------------------------------------------------------------- parsing


def _table_lines(text: str, table: str) -> tuple[int, ...]:
    pat = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(table)}[ \t]*\]\]", re.M)
    return tuple(text.count("\n", 0, m.start()) + 1 for m in pat.finditer(text))


def _is_number(v: Any) -> bool:
    """A TOML integer or float (``true``/``false`` are not numbers)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _as_float(v: int | float) -> float:
    """``float(v)``, with integers too large for a float (TOML allows any length) as inf."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _lonlat_pair(v: Any, where: str) -> tuple[float, float]:
    ok = isinstance(v, list | tuple) and len(v) == 2 and all(_is_number(c) for c in v)
    if not ok:
        raise ScenarioError(
            f"{where}: {v!r} is not a [lon, lat] pair of numbers; write [117.8, 36.2]."
        )
    lon, lat = _as_float(v[0]), _as_float(v[1])
    _check_lonlat(lon, lat, where)
    return lon, lat


def _check_lonlat(lon: float, lat: float, where: str) -> None:
    ok = math.isfinite(lon) and math.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90
    if not ok:
        raise ScenarioError(
            f"{where}: lon/lat ({lon}, {lat}) is not a WGS-84 coordinate; give lon then lat "
            "in degrees, finite, lon from -180 to 180 and lat from -90 to 90."
        )


def _speed(v: Any, source: str, key: str) -> float:
    """A persona's walking speed (m/s), finite and inside :data:`PERSONA_SPEED_RANGE_MPS`."""
    low, high = PERSONA_SPEED_RANGE_MPS
    speed = _as_float(v) if _is_number(v) else math.nan
    if not (math.isfinite(speed) and low < speed < high):
        raise ScenarioError(
            f"Scenario {source}: key {key!r} = {v!r} must be a finite walking speed in m/s "
            f"between {low:g} and {high:g} (exclusive), such as 0.8."
        )
    return speed


def _snap_distance(v: Any, source: str) -> float:
    """``link_max_snap`` (m): finite, above 0 and at most :data:`MAX_LINK_SNAP_M`."""
    snap_m = _as_float(v) if _is_number(v) else math.nan
    if not (math.isfinite(snap_m) and 0 < snap_m <= MAX_LINK_SNAP_M):
        raise ScenarioError(
            f"Scenario {source}: key 'link_max_snap' = {v!r} must be a finite number of metres "
            f"above 0 and at most {MAX_LINK_SNAP_M:g}, such as 50."
        )
    return snap_m


def _load_planned(planned: PlannedSource, where: str) -> gpd.GeoDataFrame:
    if callable(planned):
        planned = planned()
    if planned is None:
        from ..layers import layer_path

        planned = layer_path("planned_facilities")
    if isinstance(planned, str | os.PathLike):
        p = Path(planned)
        if not p.is_file():
            raise ScenarioError(
                f"{where}: key 'planned' needs the planned-facility layer {str(p)!r}, which does "
                "not exist; pass --planned FILE or use lon/lat instead."
            )
        try:
            planned = gpd.read_file(p)
        except Exception as exc:  # pyogrio raises several types
            raise ScenarioError(
                f"{where}: planned-facility layer {str(p)!r} could not be read ({exc}); pass a GeoJSON."
            ) from exc
    if not isinstance(planned, gpd.GeoDataFrame):
        raise ScenarioError(f"{where}: the planned-facility layer is not a GeoDataFrame.")
    return planned


def _entry_lonlat(e: Mapping[str, Any], where: str) -> tuple[float, float] | None:
    """The entry's ``lon``/``lat`` in WGS-84 (converted from its ``crs``), or None if neither
    key is given."""
    from .._errors import InputError
    from ..tables import coords_to_wgs84, parse_crs

    if "lon" not in e and "lat" not in e:
        return None
    if "lon" not in e or "lat" not in e:
        missing = "lat" if "lon" in e else "lon"
        raise ScenarioError(f"{where}: key {missing!r} is missing; give both lon and lat.")
    raw = e.get("crs", "wgs84")
    if not isinstance(raw, str):
        raise ScenarioError(
            f"{where}: key 'crs' = {raw!r} must be text such as \"gcj02\"; use wgs84, gcj02, "
            "bd09 or an EPSG code."
        )
    try:
        crs = parse_crs(raw, f"{where} key 'crs'")
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    key = f"{where} key 'lon'/'lat'"
    if isinstance(crs, str) or crs.is_geographic:
        lon, lat = _lonlat_pair([e["lon"], e["lat"]], key)
    else:
        ok = _is_number(e["lon"]) and _is_number(e["lat"])
        lon = _as_float(e["lon"]) if ok else math.nan
        lat = _as_float(e["lat"]) if ok else math.nan
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ScenarioError(
                f"{key}: ({e['lon']!r}, {e['lat']!r}) are not finite numbers of metres in "
                f"{raw}; give the easting as lon and the northing as lat."
            )
    if crs != "wgs84":
        x, y = coords_to_wgs84([lon], [lat], crs)
        lon, lat = float(x[0]), float(y[0])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise ScenarioError(f"{key}: the point lies outside {raw}; check key 'crs'.")
        _check_lonlat(lon, lat, f"{key} in {raw}")
    return lon, lat


def _planned_facility(
    entry: Mapping[str, Any],
    pid: str,
    layer: gpd.GeoDataFrame,
    where: str,
    given: tuple[float, float] | None = None,
) -> tuple[str, float, float, str]:
    col = next((c for c in _PLANNED_ID_COLUMNS if c in layer.columns), None)
    if col is None:
        raise ScenarioError(
            f"{where}: the planned-facility layer has no id column "
            f"({' / '.join(_PLANNED_ID_COLUMNS)}); add one."
        )
    hit = layer[layer[col].astype(str) == pid]
    if hit.empty:
        sample = ", ".join(map(str, layer[col].head(5).tolist()))
        raise ScenarioError(
            f"{where}: planned facility id {pid!r} is not in the planned-facility layer "
            f"(ids such as {sample or 'none'}); fix key 'planned'."
        )
    row = hit.iloc[[0]]
    if layer.crs is None:
        raise ScenarioError(
            f"{where}: the planned-facility layer has no CRS; save it with EPSG:4326."
        )
    g = row.to_crs(settings.WGS84).geometry.iloc[0]
    located = g is not None and not g.is_empty
    if not located and given is None:
        label = row["name_zh"].iloc[0] if "name_zh" in row.columns else None
        label = f" ({label})" if isinstance(label, str) and label.strip() else ""
        raise ScenarioError(
            f"{where}: planned facility {pid!r}{label} has no location in the planned-facility "
            "layer, so key 'planned' alone cannot place it; add its site to this "
            "[[add_facility]] table as the two lines lon = 117.80 and lat = 36.05 (the site's "
            'own WGS-84 degrees, or add crs = "gcj02" for Amap ones).'
        )
    if located and given is not None:
        raise ScenarioError(
            f"{where}: planned facility {pid!r} already has a location in the planned-facility "
            "layer; drop keys 'lon'/'lat' (or drop key 'planned' to place it yourself)."
        )
    if given is not None:
        lon, lat = given
    else:
        pt = g if g.geom_type == "Point" else g.representative_point()
        lon, lat = float(pt.x), float(pt.y)
        _check_lonlat(lon, lat, f"{where} key 'planned' = {pid!r}")
    category = entry.get("category")
    if category is None:
        category = row["category"].iloc[0] if "category" in row.columns else None
    if not isinstance(category, str) or not category:
        raise ScenarioError(
            f'{where}: planned facility {pid!r} has no category; add category = "..." to the entry.'
        )
    layer_name = row["name"].iloc[0] if "name" in row.columns else ""
    if layer_name is None or (isinstance(layer_name, float) and math.isnan(layer_name)):
        layer_name = ""  # a blank cell
    name = str(entry.get("name") or layer_name or "")
    return category, lon, lat, name


def parse_scenario(
    text: str,
    source: str = "<string>",
    catalogue: Catalogue | None = None,
    planned: PlannedSource = None,
) -> Scenario:
    """Parse a scenario from TOML text.

    Parameters
    ----------
    text : str
        The TOML document.
    source : str
        Its file name, used in every error message.
    catalogue : Catalogue, optional
        Categories a facility may name (default: the shipped catalogue).
    planned : GeoDataFrame, callable, path or None
        Planned-facility layer for ``planned = "<id>"`` entries; a callable is
        called only when an entry needs it; ``None`` reads
        ``layers/planned_facilities.geojson``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        One sentence naming the file, line or key and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"Scenario {source} is not valid TOML: {exc}; fix that line.") from exc
    cat = catalogue or load_catalogue()
    lines = {t: _table_lines(text, t) for t in ("add_facility", "remove_facility", "add_link")}
    draft = Scenario(name="", source=source, _lines=lines)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ScenarioError(
            f"Scenario {source}: unknown key {unknown[0]!r}; allowed keys are "
            f"{', '.join(sorted(_TOP_KEYS))}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(
            f"Scenario {source}: key 'name' is missing or empty; add name = \"...\"."
        )
    personas = dict(DEFAULT_PERSONAS)
    raw_personas = data.get("personas", {})
    if not isinstance(raw_personas, Mapping):
        raise ScenarioError(f"Scenario {source}: key 'personas' must be a table [personas].")
    for k, v in raw_personas.items():
        personas[str(k)] = _speed(v, source, f"personas.{k}")
    persona = data.get("persona", "adult")
    if not isinstance(persona, str) or persona not in personas:
        raise ScenarioError(
            f"Scenario {source}: key 'persona' = {persona!r} is unknown; use one of "
            f"{', '.join(sorted(personas))} or define it under [personas]."
        )
    snap_m = _snap_distance(data.get("link_max_snap", DEFAULT_LINK_SNAP_M), source)

    def tables(key: str) -> list[Mapping[str, Any]]:
        raw = data.get(key, [])
        if not isinstance(raw, list) or not all(isinstance(t, Mapping) for t in raw):
            raise ScenarioError(
                f"Scenario {source}: key {key!r} must be written as [[{key}]] tables."
            )
        return raw

    adds: list[AddFacility] = []
    planned_layer: gpd.GeoDataFrame | None = None
    for i, e in enumerate(tables("add_facility")):
        where = draft.where("add_facility", i)
        extra = sorted(set(e) - {"category", "lon", "lat", "crs", "planned", "name", "id"})
        if extra:
            raise ScenarioError(
                f"{where}: unknown key {extra[0]!r}; use category, lon, lat, crs, planned, name, "
                "id."
            )
        pid = e.get("planned")
        given = _entry_lonlat(e, where)
        if pid is not None:
            if planned_layer is None:
                planned_layer = _load_planned(planned, where)
            category, lon, lat, fname = _planned_facility(e, str(pid), planned_layer, where, given)
        else:
            if given is None:
                raise ScenarioError(
                    f"{where}: key 'lon'/'lat' is missing; add lon and lat or planned = \"<id>\"."
                )
            lon, lat = given
            category = e.get("category")
            fname = str(e.get("name", ""))
        if not isinstance(category, str) or category not in cat:
            raise ScenarioError(
                f"{where}: key 'category' = {category!r} is not in the catalogue; use one of "
                f"{', '.join(cat.ids)}."
            )
        fid = str(e.get("id") or (f"planned:{pid}" if pid is not None else f"scenario:{i + 1}"))
        adds.append(AddFacility(fid, category, lon, lat, fname, None if pid is None else str(pid)))

    removes: list[str] = []
    for i, e in enumerate(tables("remove_facility")):
        fid = e.get("facility_id")
        if not isinstance(fid, str | int) or isinstance(fid, bool) or not str(fid):
            raise ScenarioError(
                f"{draft.where('remove_facility', i)}: key 'facility_id' is missing; add facility_id = \"n123\"."
            )
        removes.append(str(fid))

    links: list[AddLink] = []
    for i, e in enumerate(tables("add_link")):
        where = draft.where("add_link", i)
        modes = [m for m in ("line", "connect") if m in e]
        if len(modes) != 1:
            raise ScenarioError(f"{where}: give exactly one of key 'line' or key 'connect'.")
        mode = modes[0]
        raw = e[mode]
        if not isinstance(raw, list) or len(raw) < 2 or (mode == "connect" and len(raw) != 2):
            need = "exactly two" if mode == "connect" else "at least two"
            raise ScenarioError(f"{where}: key {mode!r} needs {need} [lon, lat] points.")
        pts = tuple(_lonlat_pair(p, f"{where} key {mode!r}[{j}]") for j, p in enumerate(raw))
        links.append(AddLink(f"add_link[{i}]", mode, pts, str(e.get("name", ""))))
    return dataclasses.replace(
        draft,
        name=name.strip(),
        persona=persona,
        speed_mps=personas[persona],
        add_facilities=tuple(adds),
        remove_facilities=tuple(removes),
        add_links=tuple(links),
        link_max_snap=float(snap_m),
        description=str(data.get("description", "")),
    )


def load_scenario(
    path: str | os.PathLike, catalogue: Catalogue | None = None, planned: PlannedSource = None
) -> Scenario:
    """Read and parse a scenario TOML file (see :func:`parse_scenario`)."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"Scenario file {str(p)!r} does not exist; check the path.")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"Scenario file {str(p)!r} is not UTF-8 text; re-save it as UTF-8."
        ) from exc
    return parse_scenario(text, str(p), catalogue, planned)
