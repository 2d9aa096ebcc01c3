"""The JSON API through Starlette's test client: answers, refusals, tokens, sessions, exactness."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from starlette.testclient import TestClient

from gcgeo.catalogue import load_catalogue
from gcgeo.columns import reached_col
from gcgeo.coverage import compute_coverage
from gcgeo.layers import load_layer
from gcgeo.scenario import apply_scenario, parse_scenario
from gcgeo.serve.app import MAX_BODY_BYTES, make_app


@pytest.fixture(scope="module")
def client(demo: dict) -> TestClient:
    return TestClient(make_app(demo["data"], planned=load_layer("planned_facilities")))


def _street_point(net, rng: np.random.Generator) -> tuple[float, float]:
    e = int(rng.integers(0, len(net.edges)))
    lon = net.nodes["lon"].to_numpy()
    lat = net.nodes["lat"].to_numpy()
    t = float(rng.random())
    u, v = net.edge_u[e], net.edge_v[e]
    return float(lon[u] + (lon[v] - lon[u]) * t), float(lat[u] + (lat[v] - lat[u]) * t)


def _bands(doc: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(doc["bands"]), dtype=np.uint8)


def test_page_and_assets_are_served_by_gcgeo(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for src in ("static/leaflet/leaflet.js", "static/leaflet/leaflet.css", "static/own/app.js"):
        assert src in page.text
        r = client.get("/" + src)
        assert r.status_code == 200 and len(r.content) > 1000, src
    assert "//" not in page.text.replace("http://www.w3", "")  # no absolute (CDN) URL
    assert client.get("/static/own/../../cli/serve.py").status_code == 404
    assert client.get("/static/other/x.js").status_code == 404
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/facilities" in spec["paths"]


def test_meta_network_and_state(client: TestClient, demo: dict) -> None:
    meta = client.get("/api/meta").json()
    ids = [c["id"] for c in meta["categories"]]
    assert "kindergarten" in ids and meta["label"]
    assert {"zones", "wings", "renewal_areas"} <= set(meta["areas"])
    planned = {p["id"]: p for p in meta["planned"]}
    assert planned and all(p["category"] in ids for p in planned.values())
    net = client.get("/api/network").json()
    n = demo["study"].network
    assert net["nodes"] == n.n_nodes and net["edges"] == len(n.edges)
    lon = np.frombuffer(base64.b64decode(net["lon"]), dtype="<i4") / 1e6
    np.testing.assert_allclose(lon, n.nodes["lon"].to_numpy(), atol=1e-6)
    st = client.get("/api/state", params={"category": "kindergarten"}).json()
    assert len(_bands(st)) == len(n.edges)
    assert st["shares"]["district"]["share_before"] == st["shares"]["district"]["share_after"]


def test_add_then_delete_equals_gcgeo_coverage(client: TestClient, demo: dict) -> None:
    """The district share the API reports = gcgeo coverage with the facility as a row."""
    rng = np.random.default_rng(8)
    net, origins = demo["study"].network, demo["origins"]
    c = TestClient(client.app)  # a fresh session (own cookie jar)
    lon, lat = _street_point(net, rng)
    r = c.post("/api/facilities", json={"category": "elderly_canteen", "lon": lon, "lat": lat,
                                        "name": "幸福食堂 <b>&"})  # fmt: skip
    assert r.status_code == 200, r.text
    doc = r.json()
    fac = demo["study"].facilities
    import geopandas as gpd
    import pandas as pd
    import shapely

    row = gpd.GeoDataFrame(
        {"facility_id": [doc["id"]], "name": ["x"], "category": ["elderly_canteen"]},
        geometry=[shapely.Point(lon, lat)],
        crs="EPSG:4326",
    )
    both = gpd.GeoDataFrame(pd.concat([fac, row], ignore_index=True), crs="EPSG:4326")
    cat = load_catalogue().select(["elderly_canteen"])
    res = compute_coverage(net, both, cat, origins)
    w = demo["data"].weights
    reach = res.origins[reached_col("elderly_canteen")].to_numpy(bool)
    assert doc["shares"]["district"]["share_after"] == pytest.approx(w[reach].sum() / w.sum())
    listed = c.get("/api/facilities", params={"category": "elderly_canteen"}).json()
    cols = listed["facilities"]
    names = dict(zip(cols["id"], cols["name"], strict=True))
    assert names[doc["id"]] == "幸福食堂 <b>&"  # text, returned as text
    gone = c.delete(f"/api/facilities/{doc['id']}").json()
    assert gone["shares"]["district"]["share_after"] == gone["shares"]["district"]["share_before"]


def test_moves_links_undo_and_the_exported_scenario(client: TestClient, demo: dict) -> None:
    rng = np.random.default_rng(21)
    net, origins = demo["study"].network, demo["origins"]
    c = TestClient(client.app)
    first = None
    for _ in range(4):
        lon, lat = _street_point(net, rng)
        r = c.post("/api/facilities", json={"category": "clinic", "lon": lon, "lat": lat})
        assert r.status_code == 200, r.text
        first = first or r.json()["id"]
    lon, lat = _street_point(net, rng)
    moved = c.post(f"/api/facilities/{first}/move", json={"lon": lon, "lat": lat})
    assert moved.status_code == 200 and moved.json()["id"] != first
    a = _street_point(net, rng)
    link = c.post("/api/links", json={"from": list(a), "to": [a[0] + 0.001, a[1] + 0.0008]})
    assert link.status_code in (200, 400), link.text  # 400: an end off the streets
    before_undo = c.get("/api/state", params={"category": "clinic"}).json()["shares"]
    lon, lat = _street_point(net, rng)
    c.post("/api/facilities", json={"category": "clinic", "lon": lon, "lat": lat})
    assert c.post("/api/undo").json()["undone"] is True
    assert c.get("/api/state", params={"category": "clinic"}).json()["shares"] == before_undo
    toml = c.get("/api/scenario.toml")
    assert toml.status_code == 200 and "attachment" in toml.headers["content-disposition"]
    sc = parse_scenario(toml.text, catalogue=load_catalogue())
    new_net, new_fac = apply_scenario(net, demo["study"].facilities, sc)
    res = compute_coverage(new_net, new_fac, load_catalogue().select(["clinic"]), origins)
    w = demo["data"].weights
    reach = res.origins[reached_col("clinic")].to_numpy(bool)
    assert before_undo["district"]["share_after"] == pytest.approx(w[reach].sum() / w.sum())
    # importing the file into a fresh session gives the same shares
    other = TestClient(client.app)
    assert other.post("/api/scenario.toml", content=toml.text.encode()).status_code == 200
    assert other.get("/api/state", params={"category": "clinic"}).json()["shares"] == before_undo
    assert c.post("/api/reset").status_code == 200
    st = c.get("/api/state", params={"category": "clinic"}).json()["shares"]["district"]
    assert st["share_after"] == st["share_before"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("post", "/api/facilities", b"{not json", 400, "not valid JSON"),
        ("post", "/api/facilities", b"[1, 2]", 400, "JSON object"),
        ("post", "/api/facilities", b'{"category": "cinema", "lon": 117.8, "lat": 36.2}', 400,
         "unknown category 'cinema'"),
        ("post", "/api/facilities", b'{"category": "clinic", "lon": "east", "lat": 36.2}', 400,
         "'lon' must be a number"),
        ("post", "/api/facilities", b'{"category": "clinic", "lon": 110.0, "lat": 30.0}', 400,
         "from every street"),
        ("post", "/api/facilities", b'{"lon": 117.8, "lat": 36.2}', 400, "Say which category"),
        ("post", "/api/links", b'{"from": [117.8], "to": [117.8, 36.2]}', 400, "[lon, lat]"),
        ("post", "/api/links", b'{"from": [110.0, 30.0], "to": [110.1, 30.1]}', 400, "street"),
        ("delete", "/api/facilities/nope", b"", 400, "no facility 'nope'"),
        ("get", "/api/state?category=clinic&persona=robot", b"", 400, "unknown persona"),
        ("get", "/api/state?category=clinic&threshold=abc", b"", 400, "'threshold' must be"),
        ("get", "/api/nothing", b"", 404, "No such page"),
        ("put", "/api/facilities", b"", 405, "not allowed"),
        ("post", "/api/scenario.toml", b"name = [", 400, "scenario"),
        ("post", "/api/scenario.toml", b"\xff\xfe", 400, "UTF-8"),
    ],
)  # fmt: skip
def test_bad_requests_get_one_sentence(
    client: TestClient, method: str, path: str, body: bytes, status: int, words: str
) -> None:
    r = client.request(method.upper(), path, content=body or None)
    assert r.status_code == status, r.text
    msg = r.json()["error"]
    assert words in msg and "Traceback" not in msg and "\n" not in msg


def test_oversized_body_is_refused(client: TestClient) -> None:
    big = json.dumps({"category": "clinic", "name": "x" * (MAX_BODY_BYTES + 10)})
    r = client.post("/api/facilities", content=big.encode())
    assert r.status_code == 413 and "larger than" in r.json()["error"]


def test_token_is_required_on_every_request(demo: dict) -> None:
    app = make_app(demo["data"], token="s3cret-token-value", planned=None)
    anon = TestClient(app)
    for path in ("/", "/api/meta", "/static/own/app.js", "/api/state?category=clinic"):
        r = anon.get(path)
        assert r.status_code == 401 and "token" in r.json()["error"], path
    assert anon.get("/api/meta", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = TestClient(app)
    assert ok.get("/?token=s3cret-token-value").status_code == 200
    assert ok.get("/static/own/app.js").status_code == 200  # the cookie now carries it
    bearer = TestClient(app)
    r = bearer.get("/api/meta", headers={"Authorization": "Bearer s3cret-token-value"})
    assert r.status_code == 200


def test_sessions_are_isolated_and_bounded(demo: dict) -> None:
    from gcgeo.serve import app as app_module

    app = make_app(demo["data"])
    rng = np.random.default_rng(4)
    net = demo["study"].network
    a, b = TestClient(app), TestClient(app)
    base = b.get("/api/state", params={"category": "park"}).json()["shares"]["district"]
    for _ in range(3):
        lon, lat = _street_point(net, rng)
        a.post("/api/facilities", json={"category": "park", "lon": lon, "lat": lat})
    got_a = a.get("/api/state", params={"category": "park"}).json()["shares"]["district"]
    got_b = b.get("/api/state", params={"category": "park"}).json()["shares"]["district"]
    assert got_a["share_after"] > base["share_after"] and got_b == base
    # a script names its session with the header instead of a cookie
    sid = a.get("/api/meta").json().get("session")
    assert sid is None  # meta needs no session
    sid = a.get("/api/state", params={"category": "park"}).json()["session"]
    script = TestClient(app)
    same = script.get("/api/state", params={"category": "park"}, headers={"X-Gcgeo-Session": sid})
    assert same.json()["shares"]["district"] == got_a
    # many cookie-less clients: the oldest sessions are forgotten, memory stays bounded
    for _ in range(app_module.MAX_SESSIONS + 5):
        TestClient(app).get("/api/state", params={"category": "park"})
    again = script.get("/api/state", params={"category": "park"}, headers={"X-Gcgeo-Session": sid})
    assert again.json()["session"] != sid  # forgotten: a new, unedited session
    assert again.json()["shares"]["district"] == base


def test_updates_send_only_the_changed_bands(client: TestClient, demo: dict) -> None:
    c = TestClient(client.app)
    first = c.get("/api/state", params={"category": "kindergarten"}).json()
    bands = _bands(first).copy()
    lon, lat = _street_point(demo["study"].network, np.random.default_rng(12))
    r = c.post(
        "/api/facilities",
        params={"known": first["bands_version"]},
        json={"category": "kindergarten", "lon": lon, "lat": lat},
    )
    doc = r.json()
    assert "bands" not in doc and "bands_diff" in doc
    idx = np.frombuffer(base64.b64decode(doc["bands_diff"]["idx"]), dtype="<i4")
    val = np.frombuffer(base64.b64decode(doc["bands_diff"]["val"]), dtype=np.uint8)
    assert 0 < len(idx) < len(bands) // 2
    bands[idx] = val
    full = c.get("/api/state", params={"category": "kindergarten"}).json()  # no known: all
    assert (bands == _bands(full)).all()
    assert float(r.headers["server-timing"].split("dur=")[1]) > 0
    # a version from another view is not taken for this one
    other = c.get(
        "/api/state", params={"category": "clinic", "known": full["bands_version"]}
    ).json()
    assert "bands" in other
