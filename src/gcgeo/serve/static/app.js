// gcgeo serve: the live what-if page. Every text from the server (names from OSM, the
// catalogue or a planner) is set with textContent, never as HTML.
"use strict";
(function () {
  const params = new URLSearchParams(window.location.search);
  const TOKEN = params.get("token");
  const $ = (id) => document.getElementById(id);
  const state = {
    meta: null, net: null, bands: null, mode: "add", linkStart: null, pending: null,
    facilities: [], markers: null, lastMs: null,
  };

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (TOKEN) h.Authorization = "Bearer " + TOKEN;
    return h;
  }

  async function api(path, opts) {
    const o = Object.assign({ credentials: "same-origin" }, opts || {});
    o.headers = headers(o.headers);
    const r = await fetch(path, o);
    let doc;
    try { doc = await r.json(); } catch (e) { doc = { error: "The server's answer was not JSON." }; }
    if (!r.ok) throw new Error(doc.error || r.statusText);
    return doc;
  }

  function bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const int32 = (b64) => new Int32Array(bytes(b64).buffer);

  function view() {
    const q = new URLSearchParams({ category: $("category").value, persona: $("persona").value });
    const t = $("threshold").value;
    if (t) q.set("threshold", t);
    if (state.bandsVersion && state.bands) q.set("known", String(state.bandsVersion));
    return q;
  }

  function showError(e) { $("error").textContent = e ? String(e.message || e) : ""; }
  function hint(text) { $("hint").textContent = text || ""; }

  // ---------------------------------------------------------------- streets on one canvas
  const StreetLayer = L.Layer.extend({
    onAdd(map) {
      this._map = map;
      this._canvas = L.DomUtil.create("canvas", "gc-streets");
      this._canvas.style.pointerEvents = "none";
      map.getPane("overlayPane").appendChild(this._canvas);
      map.on("moveend zoomend resize", this._reset, this);
      this._reset();
    },
    onRemove(map) {
      L.DomUtil.remove(this._canvas);
      map.off("moveend zoomend resize", this._reset, this);
    },
    _reset() {
      const map = this._map;
      const size = map.getSize();
      const tl = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(this._canvas, tl);
      this._canvas.width = size.x;
      this._canvas.height = size.y;
      this._tl = tl;
      this.draw();
    },
    draw() {
      const net = state.net;
      if (!net || !this._canvas) return;
      const map = this._map;
      const ctx = this._canvas.getContext("2d");
      ctx.clearRect(0, 0, this._canvas.width, this._canvas.height);
      const s = Math.pow(2, map.getZoom());
      const origin = map.getPixelOrigin();
      const ox = origin.x + this._tl.x, oy = origin.y + this._tl.y;
      const colours = state.meta.bands.colours;
      const bands = state.bands;
      ctx.lineWidth = map.getZoom() >= 16 ? 3 : 2;
      for (let b = 4; b >= 0; b--) {
        ctx.strokeStyle = colours[b];
        ctx.beginPath();
        for (let e = 0; e < net.u.length; e++) {
          if ((bands ? bands[e] : 4) !== b) continue;
          const a = net.u[e], c = net.v[e];
          ctx.moveTo(net.px[a] * s - ox, net.py[a] * s - oy);
          ctx.lineTo(net.px[c] * s - ox, net.py[c] * s - oy);
        }
        ctx.stroke();
      }
    },
  });

  async function loadNetwork() {
    const doc = await api("api/network");
    const lon = int32(doc.lon), lat = int32(doc.lat);
    const px = new Float64Array(lon.length), py = new Float64Array(lon.length);
    for (let i = 0; i < lon.length; i++) {
      const p = state.map.project([lat[i] / 1e6, lon[i] / 1e6], 0);
      px[i] = p.x; py[i] = p.y;
    }
    state.net = { px, py, u: int32(doc.u), v: int32(doc.v) };
  }

  // ---------------------------------------------------------------- shares table
  const pct = (v) => (v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%");

  function row(tbody, label, sh, cls, id) {
    const tr = document.createElement("tr");
    if (cls) tr.className = cls;
    if (id) tr.id = id;
    const cells = sh
      ? [label, pct(sh.share_before), "→", pct(sh.share_after)]
      : [label, "", "", ""];
    let delta = "";
    if (sh && sh.share_before !== null && sh.share_after !== null) {
      const d = 100 * (sh.share_after - sh.share_before);
      delta = (d > 0 ? "+" : "") + d.toFixed(1);
      if (d > 1e-9) tr.classList.add("gain");
      if (d < -1e-9) tr.classList.add("loss");
    }
    cells.push(delta);
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i > 0) td.className = i === 4 ? "num delta" : "num";
      if (i === 3) td.classList.add("after");
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }

  function showShares(shares) {
    const tbody = $("shares").querySelector("tbody");
    tbody.replaceChildren();
    row(tbody, "全区 district", shares.district, "district", "share-district");
    const names = { zones: "分区 zones", wings: "一体两翼 wings", renewal_areas: "更新片区 renewal" };
    for (const layer of Object.keys(names)) {
      if (!shares[layer]) continue;
      row(tbody, names[layer], null, "layer");
      for (const [code, sh] of Object.entries(shares[layer])) row(tbody, sh.name_zh || code, sh);
    }
  }

  // ---------------------------------------------------------------- facilities
  function showFacilities(cols) {
    state.facilities = cols;
    state.markers.clearLayers();
    const cat = state.meta.categories.find((c) => c.id === $("category").value);
    for (let i = 0; i < cols.id.length; i++) {
      const f = { id: cols.id[i], name: cols.name[i], lon: cols.lon[i], lat: cols.lat[i] };
      const added = f.id.startsWith("new-");
      const m = added
        ? L.marker([f.lat, f.lon], { draggable: true, title: f.name || f.id })
        : L.circleMarker([f.lat, f.lon], { radius: 6, color: "#222", weight: 1, fillColor: cat ? cat.colour : "#333", fillOpacity: 0.9 });
      const box = document.createElement("div");
      const title = document.createElement("b");
      title.textContent = f.name || f.id;
      const rm = document.createElement("button");
      rm.textContent = "移除 remove";
      rm.addEventListener("click", () => edit(() => api("api/facilities/" + encodeURIComponent(f.id) + "?" + view(), { method: "DELETE" })));
      box.append(title, document.createElement("br"), rm);
      m.bindPopup(box);
      if (added) {
        m.on("dragend", () => {
          const p = m.getLatLng();
          edit(() => api("api/facilities/" + encodeURIComponent(f.id) + "/move?" + view(), {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ lon: p.lng, lat: p.lat }),
          }));
        });
      }
      m.addTo(state.markers);
    }
  }

  // ---------------------------------------------------------------- updates
  async function refresh(networkChanged) {
    if (networkChanged) await loadNetwork();
    const doc = await api("api/state?" + view());
    apply(doc);
  }

  function apply(doc) {
    if (doc.bands) state.bands = bytes(doc.bands);
    if (doc.bands_diff && state.bands) {
      const idx = int32(doc.bands_diff.idx), val = bytes(doc.bands_diff.val);
      for (let i = 0; i < idx.length; i++) state.bands[idx[i]] = val[i];
    }
    if (doc.bands_version) state.bandsVersion = doc.bands_version;
    if (doc.shares) showShares(doc.shares);
    if (doc.facilities) showFacilities(doc.facilities);
    state.layer.draw();
  }

  async function edit(call) {
    const t0 = performance.now();
    showError(null);
    try {
      const doc = await call();
      if (doc.network_changed) {
        state.bands = null;
        await refresh(true);
      } else {
        apply(doc);
      }
      state.lastMs = performance.now() - t0;
      $("timing").textContent = "updated in " + state.lastMs.toFixed(0) + " ms";
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    } catch (e) {
      showError(e);
    }
  }

  function onMapClick(ev) {
    const lon = ev.latlng.lng, lat = ev.latlng.lat;
    if (state.mode === "link") {
      if (!state.linkStart) {
        state.linkStart = [lon, lat];
        hint("再点一下终点 click the link's other end");
        return;
      }
      const from = state.linkStart;
      state.linkStart = null;
      hint("");
      edit(() => api("api/links?" + view(), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ from, to: [lon, lat] }),
      }));
      return;
    }
    const body = { category: $("category").value, persona: $("persona").value, lon, lat };
    if (state.pending) {
      body.category = state.pending.category;
      body.name = state.pending.name;
      $("category").value = state.pending.category;
      state.pending = null;
      hint("");
    }
    if ($("threshold").value) body.threshold = Number($("threshold").value);
    edit(() => api("api/facilities?" + view(), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    }));
  }

  function setMode(mode) {
    state.mode = mode;
    state.linkStart = null;
    $("mode-add").classList.toggle("on", mode === "add");
    $("mode-link").classList.toggle("on", mode === "link");
    hint(mode === "link" ? "点两个街道点 click two street points" : "");
  }

  function fillControls(meta) {
    const sel = $("category");
    for (const c of meta.categories) {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = c.name_zh + " " + c.name_en;
      sel.appendChild(o);
    }
    const ps = $("persona");
    for (const [p, speed] of Object.entries(meta.personas)) {
      const o = document.createElement("option");
      o.value = p;
      o.textContent = p + " (" + speed + " m/s)";
      ps.appendChild(o);
    }
    const setThresholdHint = () => {
      const c = meta.categories.find((x) => x.id === sel.value);
      $("threshold").placeholder = c ? String(c.threshold_m) : "";
    };
    setThresholdHint();
    const onView = () => { setThresholdHint(); refresh(false).catch(showError); };
    sel.addEventListener("change", () => { $("threshold").value = ""; onView(); });
    ps.addEventListener("change", onView);
    $("threshold").addEventListener("change", onView);
    $("mode-add").addEventListener("click", () => setMode("add"));
    $("mode-link").addEventListener("click", () => setMode("link"));
    $("undo").addEventListener("click", () => edit(() => api("api/undo", { method: "POST" })));
    $("reset").addEventListener("click", () => edit(() => api("api/reset", { method: "POST" })));
    $("export").addEventListener("click", (ev) => {
      ev.preventDefault();
      fetch("api/scenario.toml?persona=" + encodeURIComponent(ps.value), { headers: headers(), credentials: "same-origin" })
        .then((r) => r.text())
        .then((text) => {
          const a = document.createElement("a");
          a.href = URL.createObjectURL(new Blob([text], { type: "application/toml" }));
          a.download = "gcgeo-session.toml";
          a.click();
        })
        .catch(showError);
    });
    $("import").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      const text = await file.text();
      edit(() => api("api/scenario.toml", { method: "POST", headers: { "Content-Type": "text/plain" }, body: text }));
      ev.target.value = "";
    });
    const ul = $("planned");
    for (const p of meta.planned) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = p.name + " (" + p.category + ")";
      const b = document.createElement("button");
      if (p.lon !== null && p.lat !== null) {
        b.textContent = "加入 add";
        b.addEventListener("click", () => {
          $("category").value = p.category;
          edit(() => api("api/facilities?" + view(), {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ category: p.category, lon: p.lon, lat: p.lat, name: p.name, persona: ps.value }),
          }));
        });
      } else {
        b.textContent = "选址 place";
        b.title = "location not yet known: click the map to place it";
        b.addEventListener("click", () => {
          state.pending = p;
          setMode("add");
          hint("点地图放置 click the map to place: " + p.name);
        });
      }
      li.append(name, b);
      ul.appendChild(li);
    }
    const lg = $("legend");
    meta.bands.labels.forEach((label, i) => {
      const d = document.createElement("div");
      const sw = document.createElement("span");
      sw.style.background = meta.bands.colours[i];
      d.append(sw, document.createTextNode(label));
      lg.appendChild(d);
    });
    if (meta.label) {
      $("banner").textContent = meta.label;
      $("banner").hidden = false;
    }
  }

  async function start() {
    try {
      state.meta = await api("api/meta");
      const [x0, y0, x1, y1] = state.meta.bounds;
      const map = L.map("map", { zoomAnimation: false, preferCanvas: true });
      state.map = map;
      map.fitBounds([[y0, x0], [y1, x1]]);
      L.Icon.Default.imagePath = "static/leaflet/images/";
      fillControls(state.meta);
      await loadNetwork();
      state.layer = new StreetLayer().addTo(map);
      state.markers = L.layerGroup().addTo(map);
      map.on("click", onMapClick);
      await refresh(false);
      document.body.dataset.ready = "1";
    } catch (e) {
      showError(e);
    }
  }
  window.gcgeo = state;
  start();
})();
