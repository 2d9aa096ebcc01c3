"""One planner's what-if session: facilities and links edited, coverage kept exact.

:class:`ServeData` is what every session shares and never changes: the network, the
facilities, the categories, the origins as ``gcgeo coverage`` lays them out (snapped once),
their weights and which zone, wing and renewal area each lies in. :class:`Session` holds
one planner's edits in order (facilities added, moved or removed, links added) and, per
category, persona and threshold viewed, a :class:`gcgeo.incremental.CategoryState` that
follows them exactly: an added facility is one bounded search, a removal searches again
only what the facility served, a link moves every state to the network with the link.
States are made on first view by replaying the edits, so a session costs memory only for
what it looks at. Undo replays every edit but the last. Nothing is written to disk.

The shares are computed as :func:`gcgeo.coverage.compute_coverage` and
:func:`gcgeo.by_area.coverage_by_area` compute them: origin ``i`` is covered when its whole
walk is at most the category's threshold, shares are weighted by population when the
origins carry one, and an area counts the origins :func:`gcgeo.coverage.point_in_area`
puts in it. ``tests/serve/test_session.py`` checks them against those functions.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .. import settings
from .._errors import InputError, ScenarioError
from ..by_area import AREA_COLUMNS
from ..catalogue import Category
from ..coverage import edge_minutes, project_points, search_limit
from ..crs import transformer
from ..incremental import CategoryState
from ..layers import load_layer
from ..network import StreetNetwork
from ..scenario import DEFAULT_LINK_SNAP_M, EdgeMap, Scenario, add_links_mapped
from ..snap import Snap, snap_points
from ..walker import threshold_for, walker_categories
from ..weights import origin_weights

__all__ = ["MAX_THRESHOLD_M", "Area", "Edit", "ServeData", "Session"]

#: Largest threshold a viewer may set (m): a long walk (30 minutes at 1.1 m/s is 2 km).
MAX_THRESHOLD_M = 5000.0


@dataclass(frozen=True)
class Area:
    """One area layer (zones, wings or renewal areas) and where the origins lie in it."""

    layer: str
    codes: tuple[str, ...]
    names_zh: tuple[str, ...]
    member: np.ndarray  # per origin: position in ``codes``, -1 outside every area


@dataclass(frozen=True)
class ServeData:
    """What every session shares (read-only).

    Build it with :meth:`prepare`.
    """

    net: StreetNetwork
    facilities: gpd.GeoDataFrame  # WGS-84: facility_id, name, category
    categories: dict[str, Category]
    origins: gpd.GeoDataFrame
    osnap: Snap
    weights: np.ndarray
    basis: str
    areas: tuple[Area, ...]
    fsnap: Snap  # facilities (rows of ``facilities``) on ``net``
    oxy: np.ndarray  # origins, projected
    fxy: np.ndarray  # facilities, projected
    max_snap: float
    threshold_basis: str
    personas: dict[str, float]
    limit: float | None = None  # --max-distance; None: search_limit's default
    label: str = ""
    _baselines: dict[tuple[str, float, float], CategoryState] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def prepare(
        cls,
        net: StreetNetwork,
        facilities: gpd.GeoDataFrame,
        categories: list[Category],
        origins: gpd.GeoDataFrame,
        layers_dir: str | None = None,
        max_snap: float = settings.MAX_SNAP_M,
        threshold_basis: str = settings.THRESHOLD_BASIS,
        personas: dict[str, float] | None = None,
        limit: float | None = None,
        label: str = "",
    ) -> ServeData:
        """Snap the origins and facilities once and place the origins in the areas."""
        from ..coverage import point_in_area

        fac = facilities.to_crs(settings.WGS84).reset_index(drop=True)
        fac = fac[["facility_id", "name", "category", "geometry"]]
        weights, basis = origin_weights(origins)
        oxy = project_points(origins, net.crs)
        fxy = shapely.get_coordinates(fac.to_crs(net.crs).geometry.values).reshape(-1, 2)
        areas = []
        for layer in AREA_COLUMNS:
            lay = load_layer(layer, layers_dir)
            areas.append(
                Area(
                    layer,
                    tuple(lay["code"].astype(str)),
                    tuple(lay["name_zh"].astype(str)),
                    point_in_area(origins, lay).astype(np.int64),
                )
            )
        return cls(
            net=net,
            facilities=fac,
            categories={c.id: c for c in categories},
            origins=origins,
            osnap=snap_points(net, oxy, max_snap),
            weights=np.asarray(weights, dtype=float),
            basis=basis,
            areas=tuple(areas),
            fsnap=snap_points(net, fxy, max_snap),
            oxy=oxy,
            fxy=fxy,
            max_snap=max_snap,
            threshold_basis=threshold_basis,
            personas=dict(personas or settings.PERSONA_SPEEDS_MPS),
            limit=limit,
            label=label,
        )

    def category(self, category_id: str, persona: str, threshold_m: float | None) -> Category:
        """The category as the persona sees it, with an optional threshold of the viewer's."""
        if category_id not in self.categories:
            known = ", ".join(self.categories)
            raise InputError(f"unknown category {category_id!r}; choose one of: {known}.")
        if persona not in self.personas:
            raise InputError(
                f"unknown persona {persona!r}; choose one of: {', '.join(self.personas)}."
            )
        cat = walker_categories(
            [self.categories[category_id]], self.personas[persona], self.threshold_basis
        )[0]
        if threshold_m is not None:
            if not (np.isfinite(threshold_m) and 0 < threshold_m <= MAX_THRESHOLD_M):
                raise InputError(
                    f"threshold {threshold_m!r} m must be a number of metres between 0 and "
                    f"{MAX_THRESHOLD_M:g}."
                )
            cat = dataclasses.replace(cat, max_distance_m=float(threshold_m))
        return cat

    def base_sources(self, category_id: str) -> tuple[np.ndarray, Snap]:
        """Rows of the category's facilities and their snaps on the base network."""
        rows = np.flatnonzero((self.facilities["category"] == category_id).to_numpy())
        return rows, self.fsnap.take(rows)

    def baseline(self, key: tuple[str, float, float], limit: float) -> CategoryState:
        """The unedited state of one view (shared by all sessions; never edited)."""
        if key not in self._baselines:
            rows, snap = self.base_sources(key[0])
            self._baselines[key] = CategoryState(
                self.net,
                snap,
                self.osnap,
                limit,
                sources_xy=self.fxy[rows],
                origins_xy=self.oxy,
                max_snap=self.max_snap,
            )
        return self._baselines[key]


@dataclass(frozen=True)
class Edit:
    """One change a planner made, in WGS-84."""

    kind: str  # "add" | "remove" | "link"
    facility_id: str = ""
    category: str = ""
    lon: float = 0.0
    lat: float = 0.0
    name: str = ""
    line: tuple[tuple[float, float], tuple[float, float]] | None = None


@dataclass
class _View:
    category: str
    state: CategoryState
    edits_done: int


class Session:
    """One planner's edits and the coverage they give (see the module docstring)."""

    def __init__(self, data: ServeData) -> None:
        self.data = data
        self._fwd = transformer(settings.WGS84, data.net.crs)
        self.reset()

    # ------------------------------------------------------------------ edits
    def reset(self) -> None:
        """Forget every edit."""
        self.edits: list[Edit] = []
        self.nets: list[StreetNetwork] = [self.data.net]
        self.emaps: list[EdgeMap] = []
        self._views: dict[tuple[str, float, float], _View] = {}
        self._next = 1
        # facility ids of the session: base ids (by row) plus added ones, per category
        self._index: dict[str, dict[str, int]] = {}
        self._added: dict[str, Edit] = {}
        self._removed: set[str] = set()
        self._now: tuple[int, gpd.GeoDataFrame] | None = None  # facilities_now, per edit count

    @property
    def net(self) -> StreetNetwork:
        """The network with every link added so far."""
        return self.nets[-1]

    def _category_index(self, category_id: str) -> dict[str, int]:
        """facility id → index in that category's states (base rows first, then additions)."""
        if category_id not in self._index:
            rows, _ = self.data.base_sources(category_id)
            ids = self.data.facilities["facility_id"].astype(str).to_numpy()[rows]
            self._index[category_id] = {fid: i for i, fid in enumerate(ids)}
        return self._index[category_id]

    def facility_category(self, facility_id: str) -> str:
        """The category of a facility the session knows, or an InputError."""
        if facility_id in self._removed:
            raise InputError(f"facility {facility_id!r} was already removed.")
        if facility_id in self._added:
            return self._added[facility_id].category
        hit = self.data.facilities.index[
            self.data.facilities["facility_id"].astype(str) == facility_id
        ]
        if not len(hit):
            raise InputError(f"no facility {facility_id!r} in this session.")
        return str(self.data.facilities.at[hit[0], "category"])

    def _snap_one(self, lon: float, lat: float, what: str) -> Snap:
        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"{what} ({lon!r}, {lat!r}) is not a WGS-84 longitude and latitude.")
        x, y = self._fwd.transform(lon, lat)
        snap = snap_points(self.net, np.array([[x, y]]), self.data.max_snap)
        if not snap.ok[0]:
            raise InputError(
                f"{what} at {lon:.6f}, {lat:.6f} lies more than {self.data.max_snap:g} m from "
                "every street; place it on or beside a street."
            )
        return snap

    def add_facility(self, category: str, lon: float, lat: float, name: str = "") -> str:
        """Add a facility; return its id (``new-1``, ``new-2``, …)."""
        self.data.category(category, "adult", None)  # a known category
        self._snap_one(lon, lat, "the facility")
        fid = f"new-{self._next}"
        self._next += 1
        edit = Edit("add", fid, category, float(lon), float(lat), str(name)[:200])
        self._apply(edit)
        return fid

    def remove_facility(self, facility_id: str) -> None:
        """Remove a facility, added or existing."""
        category = self.facility_category(facility_id)
        self._apply(Edit("remove", facility_id, category))

    def move_facility(self, facility_id: str, lon: float, lat: float) -> str:
        """Move a facility: it is removed and added again at the new place (a new id)."""
        category = self.facility_category(facility_id)
        self._snap_one(lon, lat, "the facility")
        name = self._added[facility_id].name if facility_id in self._added else ""
        self.remove_facility(facility_id)
        return self.add_facility(category, lon, lat, name)

    def add_link(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Add a straight walking link between two street points (WGS-84)."""
        line = (
            (float(start[0]), float(start[1])),
            (float(end[0]), float(end[1])),
        )
        for lon, lat in line:
            if not (np.isfinite(lon) and np.isfinite(lat)):
                raise InputError(f"link end ({lon!r}, {lat!r}) is not a longitude and latitude.")
        self._apply(Edit("link", line=line))

    def undo(self) -> bool:
        """Take back the last edit; False when there is none."""
        if not self.edits:
            return False
        edits = self.edits[:-1]
        nxt = self._next
        self.reset()
        for e in edits:
            self._apply(e)
        self._next = nxt
        return True

    def _apply(self, edit: Edit) -> None:
        if edit.kind == "link":
            xy = np.array(self._fwd.transform(*np.array(edit.line).T)).T
            try:
                new, emap = add_links_mapped(
                    self.net, [xy], straight=[True], max_snap=DEFAULT_LINK_SNAP_M
                )
            except ScenarioError as exc:
                raise InputError(str(exc).replace("link[0]: ", "link: ", 1)) from exc
            self.nets.append(new)
            self.emaps.append(emap)
        elif edit.kind == "add":
            idx = self._category_index(edit.category)
            idx[edit.facility_id] = len(idx)  # states append it: positions are never reused
            self._added[edit.facility_id] = edit
        elif edit.kind == "remove":
            self._removed.add(edit.facility_id)
        self.edits.append(edit)
        for view in self._views.values():
            self._catch_up(view)

    def _catch_up(self, view: _View) -> None:
        """Apply to one state the edits made since it was last brought up to date."""
        st, cat = view.state, view.category
        links_done = sum(1 for e in self.edits[: view.edits_done] if e.kind == "link")
        for e in self.edits[view.edits_done :]:
            if e.kind == "link":
                st.apply_link(self.nets[links_done + 1], self.emaps[links_done])
                links_done += 1
            elif e.category == cat:
                if e.kind == "add":
                    xy = np.array([self._fwd.transform(e.lon, e.lat)])
                    st.add_facility(snap_points(st.net, xy, self.data.max_snap), xy[0])
                else:
                    st.remove_facility(self._category_index(cat)[e.facility_id])
        view.edits_done = len(self.edits)

    # ------------------------------------------------------------------ views
    def view(
        self, category_id: str, persona: str = "adult", threshold_m: float | None = None
    ) -> tuple[Category, CategoryState, CategoryState, float]:
        """The category as viewed, its state now, its unedited state, and the band speed."""
        cat = self.data.category(category_id, persona, threshold_m)
        threshold, band_speed = threshold_for(
            self.data.categories[category_id],
            self.data.personas[persona],
            self.data.threshold_basis,
        )
        if threshold_m is not None:
            threshold = float(threshold_m)
        # the search limit compute_coverage uses: at the walker's speed, or --max-distance
        limit = search_limit(threshold, self.data.personas[persona], self.data.limit)
        key = (category_id, float(self.data.personas[persona]), float(threshold))
        base = self.data.baseline(key, limit)
        if key not in self._views:
            view = _View(category_id, base.copy(), 0)
            self._views[key] = view
            self._catch_up(view)
        return cat, self._views[key].state, base, band_speed

    def shares(
        self, category_id: str, persona: str = "adult", threshold_m: float | None = None
    ) -> dict[str, Any]:
        """Covered shares before and after the edits: district-wide and per area (0–1)."""
        cat, st, base, _ = self.view(category_id, persona, threshold_m)
        w = self.data.weights
        total = float(w.sum())
        after = st.points.distance <= cat.max_distance_m
        before = base.points.distance <= cat.max_distance_m

        def share(mask: np.ndarray, sel: np.ndarray | slice = slice(None)) -> float | None:
            tot = float(w[sel].sum())
            return float(w[sel][mask[sel]].sum()) / tot if tot > 0 else None

        out: dict[str, Any] = {
            "district": {
                "share_before": share(before) if total > 0 else None,
                "share_after": share(after) if total > 0 else None,
            }
        }
        for area in self.data.areas:
            rows: dict[str, Any] = {}
            for i, code in enumerate(area.codes):
                sel = area.member == i
                rows[code] = {
                    "name_zh": area.names_zh[i],
                    "share_before": share(before, sel),
                    "share_after": share(after, sel),
                }
            out[area.layer] = rows
        return out

    def bands(
        self, category_id: str, persona: str = "adult", threshold_m: float | None = None
    ) -> np.ndarray:
        """Walking-minute band (0–4, as in the maps) of every street segment, uint8."""
        from ..maps.base import minute_band

        _cat, st, _base, band_speed = self.view(category_id, persona, threshold_m)
        minutes = edge_minutes(st.net, st.nodes.dist, band_speed, st.limit)
        return minute_band(minutes).astype(np.uint8)

    # --------------------------------------------------------------- scenario
    def facilities_now(self) -> gpd.GeoDataFrame:
        """The facilities after the edits (WGS-84), as ``gcgeo coverage --facilities`` reads them."""
        if self._now is None or self._now[0] != len(self.edits):
            self._now = (len(self.edits), self._facilities_now())
        return self._now[1]

    def _facilities_now(self) -> gpd.GeoDataFrame:
        base = self.data.facilities
        keep = ~base["facility_id"].astype(str).isin(self._removed)
        added = [e for fid, e in self._added.items() if fid not in self._removed]
        extra = gpd.GeoDataFrame(
            {
                "facility_id": [e.facility_id for e in added],
                "name": [e.name for e in added],
                "category": [e.category for e in added],
            },
            geometry=shapely.points([(e.lon, e.lat) for e in added]) if added else [],
            crs=settings.WGS84,
        )
        import pandas as pd

        return gpd.GeoDataFrame(
            pd.concat([base[keep], extra], ignore_index=True), crs=settings.WGS84
        )

    def scenario_toml(self, name: str = "gcgeo serve session", persona: str = "adult") -> str:
        """The session as a scenario file that ``gcgeo scenario`` runs to the same numbers."""

        def s(v: str) -> str:
            return json.dumps(v, ensure_ascii=False)  # a TOML basic string

        lines = [
            "# written by gcgeo serve: the edits of one session, in order",
            f"name = {s(name)}",
            f"persona = {s(persona)}",
            "",
        ]
        if self.data.personas.get(persona) != settings.PERSONA_SPEEDS_MPS.get(persona):
            lines[-1:-1] = ["[personas]", f"{s(persona)} = {self.data.personas[persona]!r}"]
        for e in self.edits:
            if e.kind == "remove" and e.facility_id not in self._added:
                lines += ["[[remove_facility]]", f"facility_id = {s(e.facility_id)}", ""]
        for e in self.edits:
            if e.kind == "add" and e.facility_id not in self._removed:
                lines += [
                    "[[add_facility]]",
                    f"category = {s(e.category)}",
                    f"lon = {e.lon!r}",
                    f"lat = {e.lat!r}",
                    f"name = {s(e.name or e.facility_id)}",
                    "",
                ]
            elif e.kind == "link":
                (a, b), (c, d) = e.line  # type: ignore[misc]
                lines += ["[[add_link]]", f"connect = [[{a!r}, {b!r}], [{c!r}, {d!r}]]", ""]
        return "\n".join(lines) + "\n"

    def load_scenario(self, scenario: Scenario) -> None:
        """Replace the session's edits with a parsed scenario's (removals, additions, links)."""
        self.reset()
        try:
            for fid in scenario.remove_facilities:
                self.remove_facility(fid)
            for f in scenario.add_facilities:
                self.add_facility(f.category, f.lon, f.lat, f.name)
            for lk in scenario.add_links:
                if lk.mode != "connect" or len(lk.lonlat) != 2:
                    raise InputError(
                        "the live page draws straight links only; this scenario has a "
                        f"{lk.mode!r} link ({lk.key}); use connect = [[lon, lat], [lon, lat]]."
                    )
                self.add_link(lk.lonlat[0], lk.lonlat[1])
        except InputError:
            self.reset()
            raise
