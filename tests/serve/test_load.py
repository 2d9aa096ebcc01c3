"""Twenty sessions editing at once against one real server on 127.0.0.1: each sees only its
own edits (its shares equal an in-process replay of them), and the sessions kept stay bounded."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import numpy as np

from gcgeo.serve import Session
from gcgeo.serve.app import MAX_SESSIONS, make_app

from .serverutil import Server

SESSIONS = 20
EDITS = 50
CATS = ("kindergarten", "clinic", "park")


def _call(url: str, sid: str | None, method: str = "GET", body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if sid:
        req.add_header("X-Gcgeo-Session", sid)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_twenty_sessions_fifty_edits_each(demo: dict) -> None:
    net = demo["study"].network
    lon, lat = net.nodes["lon"].to_numpy(), net.nodes["lat"].to_numpy()
    app = make_app(demo["data"])
    done: dict[int, tuple[str, list]] = {}
    errors: list[str] = []

    def worker(k: int, base: str) -> None:
        rng = np.random.default_rng(100 + k)
        status, doc = _call(base + "api/state?category=clinic", None)
        sid = doc["session"]
        log: list = []
        mine: list[str] = []
        for _ in range(EDITS):
            cat = str(rng.choice(CATS))
            if mine and rng.random() < 0.3:
                fid = mine.pop(int(rng.integers(len(mine))))
                status, doc = _call(base + f"api/facilities/{fid}", sid, "DELETE")
                log.append(("remove", fid))
            else:
                node = int(rng.integers(net.n_nodes))
                far = rng.random() < 0.1  # some clicks land far off the streets: refused
                body = {"category": cat, "lon": float(lon[node]) + (1.0 if far else 0.0),
                        "lat": float(lat[node])}  # fmt: skip
                status, doc = _call(base + "api/facilities", sid, "POST", body)
                if far:
                    if status != 400:
                        errors.append(f"session {k}: off-street click gave {status}")
                    continue
                mine.append(doc["id"])
                log.append(("add", cat, body["lon"], body["lat"]))
            if status != 200:
                errors.append(f"session {k}: {status} {doc}")
        done[k] = (sid, log)

    with Server(app) as base:
        threads = [threading.Thread(target=worker, args=(k, base)) for k in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not errors, errors[:3]
        assert len(done) == SESSIONS
        assert len(app.state.sessions) == SESSIONS <= MAX_SESSIONS
        for _k, (sid, log) in done.items():
            replay = Session(demo["data"])
            for e in log:
                if e[0] == "add":
                    replay.add_facility(e[1], e[2], e[3])
                else:
                    replay.remove_facility(e[1])
            for cat in CATS:
                status, doc = _call(base + f"api/state?category={cat}", sid)
                assert status == 200
                assert doc["shares"] == replay.shares(cat), (sid, cat)
