"""The ASGI application of ``gcgeo serve``: the page, its assets and the JSON API.

Built on Starlette (the small ASGI toolkit FastAPI itself stands on: routing, requests,
responses and a test client, nothing more; gcgeo checks its own inputs so that every
refusal is one sentence) and served by uvicorn. Every handler is ``async`` and does its
work inline, so the sessions' edits are applied one at a time, in order, on one thread.

* Sessions: a random id in the ``gcgeo_session`` cookie (or the ``X-Gcgeo-Session``
  header, for scripts); at most :data:`MAX_SESSIONS`, the least recently used forgotten
  first, so memory stays bounded however many browsers connect.
* Access: with a token (required for a non-local ``--host``) every request must carry it,
  as ``Authorization: Bearer …``, ``?token=…`` or the cookie the page sets after the first.
* Limits: request bodies above :data:`MAX_BODY_BYTES` get 413; malformed JSON, unknown
  categories, points off the streets get 400 with one sentence; nothing answers with a
  traceback.
* Offline: Leaflet comes from the installed ``xstatic-leaflet`` package, the page's own
  script and style from the package; no request leaves the server.

The API is described in :data:`OPENAPI` (served at ``/api/openapi.json``).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from .._errors import GcgeoError
from ..scenario import parse_scenario
from .session import ServeData, Session

__all__ = ["MAX_BODY_BYTES", "MAX_SESSIONS", "OPENAPI", "make_app"]

#: Most sessions kept at once (least recently used forgotten first).
MAX_SESSIONS = 64
#: Largest request body accepted (bytes): a scenario file of a few hundred edits.
MAX_BODY_BYTES = 256 * 1024
_COOKIE = "gcgeo_session"
_TOKEN_COOKIE = "gcgeo_token"

_SHARES = {
    "type": "object",
    "description": "Covered shares (0-1) before and after the session's edits: `district`, "
    "and per area layer (`zones`, `wings`, `renewal_areas`) one entry per area code with "
    "`name_zh`, `share_before`, `share_after` (null for an area without origins).",
}
_VIEW = [
    {"name": "category", "in": "query", "required": True, "schema": {"type": "string"}},
    {"name": "persona", "in": "query", "schema": {"type": "string", "default": "adult"}},
    {"name": "threshold", "in": "query", "schema": {"type": "number"}},
]
#: The API, as OpenAPI 3.1.
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "gcgeo serve",
        "version": "1",
        "description": "Live what-if coverage of one district: add, move and remove "
        "facilities, add walking links; shares equal `gcgeo coverage` / `gcgeo scenario` on "
        "the same edits. Every answer is JSON except /api/scenario.toml; errors are "
        '`{"error": "<one sentence>"}` with a 4xx status.',
    },
    "paths": {
        "/api/meta": {"get": {"summary": "Categories, personas, areas, planned facilities."}},
        "/api/network": {
            "get": {
                "summary": "The session's streets once: node lon/lat (1e-6 degrees) and "
                "segment ends, base64 int32 little-endian."
            }
        },
        "/api/state": {
            "get": {
                "summary": "Shares, the category's facilities and per-segment minute bands "
                "(base64 uint8: 0-5, 5-10, 10-15, >15 minutes, unreachable). With "
                "`known=<bands_version>` of the page's last answer for this view, only the "
                "segments whose band changed come back, as `bands_diff` {idx: base64 int32, "
                "val: base64 uint8}. Every edit answers the same way; `Server-Timing` gives "
                "the server's own time.",
                "parameters": _VIEW,
                "responses": {"200": {"description": "`{shares, bands, facilities}`"}},
            }
        },
        "/api/facilities": {
            "get": {"summary": "The facilities of one category now.", "parameters": _VIEW},
            "post": {
                "summary": "Add a facility `{category, lon, lat, name?}` (WGS-84).",
                "responses": {"200": {"description": "`{id, shares, bands}`", "content": {}}},
            },
        },
        "/api/facilities/{id}": {"delete": {"summary": "Remove a facility (added or existing)."}},
        "/api/facilities/{id}/move": {"post": {"summary": "Move a facility `{lon, lat}`."}},
        "/api/links": {
            "post": {"summary": "Add a straight link `{from: [lon, lat], to: [lon, lat]}`."}
        },
        "/api/undo": {"post": {"summary": "Take back the last edit."}},
        "/api/reset": {"post": {"summary": "Forget every edit."}},
        "/api/scenario.toml": {
            "get": {"summary": "The session as a scenario file for `gcgeo scenario`."},
            "post": {"summary": "Replace the session's edits with a scenario file (TOML text)."},
        },
    },
    "components": {"schemas": {"Shares": _SHARES}},
}


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _static_dir() -> Path:
    return Path(str(resources.files("gcgeo.serve") / "static"))


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


def make_app(data: ServeData, token: str | None = None, planned: Any = None) -> Any:
    """The Starlette application serving ``data``.

    Parameters
    ----------
    data : ServeData
    token : str, optional
        Required on every request when given.
    planned : GeoDataFrame, optional
        The planned-facility layer (``id``, ``name_zh``, ``category``, WGS-84 points or
        none where the location is not yet known), offered as additions on the page.
    """
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Route

    sessions: OrderedDict[str, Session] = OrderedDict()
    static = _static_dir()
    leaflet = _leaflet_dir()

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def authorised(request: Request) -> bool:
        if token is None:
            return True
        given = (
            request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            or request.query_params.get("token")
            or request.cookies.get(_TOKEN_COOKIE)
            or ""
        )
        return hmac.compare_digest(given.encode(), token.encode())

    def session_of(request: Request) -> tuple[str, Session]:
        sid = request.headers.get("x-gcgeo-session") or request.cookies.get(_COOKIE)
        if sid and sid in sessions:
            sessions.move_to_end(sid)
            return sid, sessions[sid]
        sid = secrets.token_urlsafe(16)
        sessions[sid] = Session(data)
        while len(sessions) > MAX_SESSIONS:
            _, old = sessions.popitem(last=False)
            sent.pop(id(old), None)
        return sid, sessions[sid]

    async def body_json(request: Request) -> dict[str, Any]:
        raw = await body_bytes(request)
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Refusal(400, f"The request body is not valid JSON ({exc}).") from exc
        if not isinstance(doc, dict):
            raise _Refusal(400, "The request body must be a JSON object.")
        return doc

    async def body_bytes(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            raise _Refusal(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise _Refusal(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        return raw

    def number(doc: dict[str, Any], key: str) -> float:
        v = doc.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _Refusal(400, f"{key!r} must be a number, got {json.dumps(v)[:40]}.")
        return float(v)

    def point(v: Any, key: str) -> tuple[float, float]:
        if (
            not isinstance(v, list)
            or len(v) != 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in v)
        ):
            raise _Refusal(400, f"{key!r} must be [lon, lat], got {json.dumps(v)[:60]}.")
        return float(v[0]), float(v[1])

    def view_args(request: Request, doc: dict[str, Any] | None = None) -> tuple[str, str, Any]:
        q = request.query_params
        src = doc if doc is not None else {}
        category = src.get("category", q.get("category"))
        if not isinstance(category, str) or not category:
            raise _Refusal(400, "Say which category: ?category=<id> (see /api/meta).")
        persona = src.get("persona", q.get("persona", "adult"))
        if not isinstance(persona, str):
            raise _Refusal(400, "'persona' must be a persona name such as adult or elderly.")
        thr = src.get("threshold", q.get("threshold"))
        if thr in (None, ""):
            return category, persona, None
        try:
            value = float(thr)
        except (TypeError, ValueError):
            raise _Refusal(400, f"'threshold' must be metres, got {str(thr)[:40]!r}.") from None
        return category, persona, value

    # the bands each session's page last received, per view: (version, bands); versions
    # count up across all views of a session, so a page's version names exactly one array
    sent: dict[int, dict[tuple[str, str, Any], tuple[int, np.ndarray]]] = {}

    def state_doc(
        s: Session, category: str, persona: str, thr: Any, request: Request | None = None
    ) -> dict[str, Any]:
        bands = s.bands(category, persona, thr)
        mine = sent.setdefault(id(s), {})
        key = (category, persona, thr)
        prev = mine.get(key)
        known = request.query_params.get("known") if request is not None else None
        doc: dict[str, Any] = {
            "shares": s.shares(category, persona, thr),
            "edges": len(s.net.edges),
            "edits": len(s.edits),
            "facilities": facilities_doc(s, category),
        }
        if prev is not None and known == str(prev[0]) and len(prev[1]) == len(bands):
            idx = np.flatnonzero(prev[1] != bands).astype("<i4")
            doc["bands_diff"] = {"idx": _b64(idx), "val": _b64(bands[idx])}
        else:
            doc["bands"] = _b64(bands)
        version = 1 + max((v for v, _ in mine.values()), default=0)
        mine[key] = (version, bands)
        doc["bands_version"] = version
        return doc

    def facilities_doc(s: Session, category: str) -> dict[str, list[Any]]:
        """The category's facilities now, as columns: ``id``, ``name``, ``lon``, ``lat``."""
        fac = s.facilities_now()
        fac = fac[(fac["category"] == category).to_numpy()]
        return {
            "id": fac["facility_id"].astype(str).tolist(),
            "name": fac["name"].fillna("").astype(str).tolist(),
            "lon": np.round(fac.geometry.x.to_numpy(), 7).tolist(),
            "lat": np.round(fac.geometry.y.to_numpy(), 7).tolist(),
        }

    def endpoint(fn: Any, needs_session: bool = True) -> Any:
        async def run(request: Request) -> Response:
            if not authorised(request):
                return refuse(
                    401, "This server needs its access token (?token=… or a Bearer header)."
                )
            if not needs_session:
                try:
                    res = await fn(request, None)
                except _Refusal as exc:
                    res = refuse(exc.status, str(exc))
                return res if not isinstance(res, dict) else JSONResponse(res)
            sid, s = session_of(request)
            t0 = time.perf_counter()
            try:
                res = await fn(request, s)
            except _Refusal as exc:
                res = refuse(exc.status, str(exc))
            except GcgeoError as exc:
                res = refuse(400, str(exc))
            if isinstance(res, dict):
                res = JSONResponse({**res, "session": sid})
            res.headers["server-timing"] = f"app;dur={(time.perf_counter() - t0) * 1000:.2f}"
            res.set_cookie(_COOKIE, sid, httponly=True, samesite="strict")
            if token is not None:
                res.set_cookie(_TOKEN_COOKIE, token, httponly=True, samesite="strict")
            return res

        return run

    # ------------------------------------------------------------------ routes
    async def index(request: Request, s: Session) -> Response:
        return FileResponse(static / "index.html", media_type="text/html; charset=utf-8")

    async def asset(request: Request, s: Session | None) -> Response:
        name = request.path_params["name"]
        roots = {"leaflet": leaflet, "own": static}
        base = roots.get(request.path_params["root"])
        if base is None:
            raise _Refusal(404, f"No asset {name!r}.")
        path = (base / name).resolve()
        if base.resolve() not in path.parents or not path.is_file():
            raise _Refusal(404, f"No asset {name!r}.")
        return FileResponse(path)

    async def meta(request: Request, s: Session | None) -> dict[str, Any]:
        from ..maps.base import BAND_COLOURS, BAND_LABELS, category_colour

        cats = [
            {
                "id": c.id,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "threshold_m": c.max_distance_m,
                "colour": category_colour(c.id),
            }
            for c in data.categories.values()
        ]
        x0, y0, x1, y1 = (
            float(data.net.nodes["lon"].min()),
            float(data.net.nodes["lat"].min()),
            float(data.net.nodes["lon"].max()),
            float(data.net.nodes["lat"].max()),
        )
        plan = []
        if planned is not None and len(planned):
            for _, r in planned.iterrows():
                if str(r["category"]) not in data.categories:
                    continue
                g = r.geometry
                located = isinstance(g, BaseGeometry) and not g.is_empty and g.geom_type == "Point"
                plan.append(
                    {
                        "id": str(r["id"]),
                        "name": str(r.get("name_zh", "") or r["id"]),
                        "category": str(r["category"]),
                        "lon": float(g.x) if located else None,
                        "lat": float(g.y) if located else None,
                    }
                )
        return {
            "label": data.label,
            "categories": cats,
            "personas": data.personas,
            "areas": {
                a.layer: [
                    {"code": c, "name_zh": n} for c, n in zip(a.codes, a.names_zh, strict=True)
                ]
                for a in data.areas
            },
            "bounds": [x0, y0, x1, y1],
            "bands": {"labels": list(BAND_LABELS), "colours": list(BAND_COLOURS)},
            "planned": plan,
            "basis": data.basis,
        }

    async def network(request: Request, s: Session) -> dict[str, Any]:
        net = s.net
        lon = np.round(net.nodes["lon"].to_numpy() * 1e6).astype("<i4")
        lat = np.round(net.nodes["lat"].to_numpy() * 1e6).astype("<i4")
        return {
            "nodes": len(lon),
            "edges": len(net.edges),
            "lon": _b64(lon),
            "lat": _b64(lat),
            "u": _b64(net.edge_u.astype("<i4")),
            "v": _b64(net.edge_v.astype("<i4")),
        }

    async def state(request: Request, s: Session) -> dict[str, Any]:
        category, persona, thr = view_args(request)
        return state_doc(s, category, persona, thr, request)

    async def list_facilities(request: Request, s: Session) -> dict[str, Any]:
        category, _persona, _thr = view_args(request)
        s.data.category(category, "adult", None)
        return {"facilities": facilities_doc(s, category)}

    async def add_facility(request: Request, s: Session) -> dict[str, Any]:
        doc = await body_json(request)
        category, persona, thr = view_args(request, doc)
        name = doc.get("name", "")
        if not isinstance(name, str):
            raise _Refusal(400, "'name' must be text.")
        fid = s.add_facility(category, number(doc, "lon"), number(doc, "lat"), name)
        return {"id": fid, **state_doc(s, category, persona, thr, request)}

    async def delete_facility(request: Request, s: Session) -> dict[str, Any]:
        fid = request.path_params["fid"]
        category = s.facility_category(fid)
        s.remove_facility(fid)
        _, persona, thr = view_args(request, {"category": category})
        return {"id": fid, "category": category, **state_doc(s, category, persona, thr, request)}

    async def move_facility(request: Request, s: Session) -> dict[str, Any]:
        doc = await body_json(request)
        fid = request.path_params["fid"]
        category = s.facility_category(fid)
        new = s.move_facility(fid, number(doc, "lon"), number(doc, "lat"))
        _, persona, thr = view_args(request, {**doc, "category": category})
        return {"id": new, "category": category, **state_doc(s, category, persona, thr, request)}

    async def add_link(request: Request, s: Session) -> dict[str, Any]:
        doc = await body_json(request)
        start, end = point(doc.get("from"), "from"), point(doc.get("to"), "to")
        s.add_link(start, end)
        out: dict[str, Any] = {
            "links": sum(e.kind == "link" for e in s.edits),
            "network_changed": True,
        }
        if "category" in doc or "category" in request.query_params:
            out.update(state_doc(s, *view_args(request, doc)))
        return out

    async def undo(request: Request, s: Session) -> dict[str, Any]:
        return {"undone": s.undo(), "edits": len(s.edits), "network_changed": True}

    async def reset(request: Request, s: Session) -> dict[str, Any]:
        s.reset()
        return {"edits": 0, "network_changed": True}

    async def scenario_get(request: Request, s: Session) -> Response:
        persona = request.query_params.get("persona", "adult")
        s.data.category(next(iter(s.data.categories)), persona, None)  # a known persona
        return Response(
            s.scenario_toml(persona=persona),
            media_type="application/toml; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="gcgeo-session.toml"'},
        )

    async def scenario_post(request: Request, s: Session) -> dict[str, Any]:
        raw = await body_bytes(request)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Refusal(400, "The scenario file is not UTF-8 text.") from exc
        from ..catalogue import load_catalogue

        sc = parse_scenario(text, source="uploaded scenario", catalogue=load_catalogue(),
                            planned=planned)  # fmt: skip
        s.load_scenario(sc)
        return {"edits": len(s.edits), "network_changed": True}

    async def openapi(request: Request, s: Session | None) -> dict[str, Any]:
        return OPENAPI

    def route(path: str, fn: Any, methods: list[str], needs_session: bool = True) -> Route:
        return Route(path, endpoint(fn, needs_session), methods=methods)

    routes = [
        route("/", index, ["GET"]),
        route("/static/{root:str}/{name:path}", asset, ["GET"], needs_session=False),
        route("/api/meta", meta, ["GET"], needs_session=False),
        route("/api/openapi.json", openapi, ["GET"], needs_session=False),
        route("/api/network", network, ["GET"]),
        route("/api/state", state, ["GET"]),
        route("/api/facilities", list_facilities, ["GET"]),
        route("/api/facilities", add_facility, ["POST"]),
        route("/api/facilities/{fid:str}", delete_facility, ["DELETE"]),
        route("/api/facilities/{fid:str}/move", move_facility, ["POST"]),
        route("/api/links", add_link, ["POST"]),
        route("/api/undo", undo, ["POST"]),
        route("/api/reset", reset, ["POST"]),
        route("/api/scenario.toml", scenario_get, ["GET"]),
        route("/api/scenario.toml", scenario_post, ["POST"]),
    ]

    async def not_found(request: Request, exc: HTTPException) -> JSONResponse:
        what = {404: "No such page or API route", 405: "That method is not allowed here"}
        return refuse(
            exc.status_code, f"{what.get(exc.status_code, exc.detail)}: {request.url.path}."
        )

    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        return refuse(500, f"The server failed on {request.url.path} ({type(exc).__name__}); "
                      "this is a bug in gcgeo, please report it.")  # fmt: skip

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: crashed},
    )
    app.state.sessions = sessions  # for inspection (tests, benchmarks)
    return app
