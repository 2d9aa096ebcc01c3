"""The street pattern of the synthetic demo town: a seeded lattice of main roads and residential
blocks (open, gated, school and park blocks) with cul-de-sacs and labelled facilities, laid out in
metres around the estimated government seat and 钢城站. :mod:`gcgeo.demo` writes it as OSM XML."""

from __future__ import annotations

from collections import Counter

import numpy as np

from . import settings
from .crs import transformer

#: Shown on every demo output.
__all__ = ["GOV_SEAT", "STATION_ESTIMATE", "TownBuilder", "build_town"]

_NI, _NJ = 14, 6  # blocks along / across the main axis
_S0, _S1 = -700.0, 5950.0  # block grid extent along the axis (m from the seat)
_W0, _W1 = -1400.0, 1450.0  # and across it
#: OSM tags that make a planned facility's node count as its catalogue category.
_PLANNED_TAGS: dict[str, list[tuple[str, str]]] = {
    "bus_stop": [("highway", "bus_stop"), ("public_transport", "platform")],
    "rail_station": [("railway", "station"), ("public_transport", "station")],
    "kindergarten": [("amenity", "kindergarten")],
    "health_centre": [("amenity", "clinic"), ("healthcare", "centre")],
    "hospital": [("amenity", "hospital")],
    "culture": [("amenity", "community_centre")],
    "park": [("leisure", "park")],
    "elderly_canteen": [("amenity", "social_facility"), ("social_facility", "day_care")],
    "middle_school": [("amenity", "school")],
}


#: Estimated government seat of 钢城区 (WGS-84, ±300 m).
GOV_SEAT = (117.8145, 36.0581)


#: Estimated position of 济莱高铁钢城站 (WGS-84, ±1 km).
STATION_ESTIMATE = (117.8756, 36.0742)


_M = 8  # lattice steps per block side


_JITTER = 35.0  # main-road intersection jitter (m)


_PREFIX = "示例 Demo "


_SYN = ("gcgeo:synthetic", "yes")


_ALONG_NAMES = ["府前", "钢都", "汶源", "艾山", "里辛", "颜庄", "棋山"]


_NUM = [
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
]


_COMMUNITY = [
    "钢都",
    "府前",
    "汶源",
    "新兴",
    "和平",
    "双泉",
    "银河",
    "金鼎",
    "翠微",
    "开元",
    "滨河",
    "朝阳",
]


class TownBuilder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        # frame: origin at the seat, axis towards the station estimate
        self.tr = transformer(settings.WGS84, settings.DEFAULT_CRS)
        self.inv = transformer(settings.DEFAULT_CRS, settings.WGS84)
        x0, y0 = self.tr.transform(*GOV_SEAT)
        x1, y1 = self.tr.transform(*STATION_ESTIMATE)
        self.origin = np.array([x0, y0])
        d = np.array([x1 - x0, y1 - y0])
        self.u = d / np.hypot(*d)
        self.w = np.array([-self.u[1], self.u[0]])
        # jittered intersections of the main grid, in (s, w) metres
        si = np.linspace(_S0, _S1, _NI + 1)
        wj = np.linspace(_W0, _W1, _NJ + 1)
        self.corner = np.zeros((_NI + 1, _NJ + 1, 2))
        for i in range(_NI + 1):
            for j in range(_NJ + 1):
                js, jw = self.rng.uniform(-_JITTER, _JITTER, 2)
                self.corner[i, j] = (si[i] + js, wj[j] + jw)
        self.node_xy: list[tuple[float, float]] = []  # projected metres
        self.node_tags: dict[int, list[tuple[str, str]]] = {}
        self.lattice_id: dict[tuple[int, int], int] = {}
        self.ways: list[tuple[list[int], list[tuple[str, str]]]] = []
        self.facilities: Counter[str] = Counter()
        self.dead_ends = 0
        self.gated = 0
        self.gated_ways = 0
        self.blocks: Counter[str] = Counter()

    # --- geometry ---------------------------------------------------------------
    def sw(self, gx: float, gy: float) -> np.ndarray:
        """(s, w) of a (possibly fractional) global lattice position, bilinear per block."""
        i = min(int(gx // _M), _NI - 1)
        j = min(int(gy // _M), _NJ - 1)
        fs = gx / _M - i
        fw = gy / _M - j
        c = self.corner
        return (
            (1 - fs) * (1 - fw) * c[i, j]
            + fs * (1 - fw) * c[i + 1, j]
            + (1 - fs) * fw * c[i, j + 1]
            + fs * fw * c[i + 1, j + 1]
        )

    def xy(self, gx: float, gy: float, ds: float = 0.0, dw: float = 0.0) -> tuple[float, float]:
        s, w = self.sw(gx, gy)
        p = self.origin + (s + ds) * self.u + (w + dw) * self.w
        return float(p[0]), float(p[1])

    def new_node(self, xy: tuple[float, float], tags: list[tuple[str, str]] | None = None) -> int:
        self.node_xy.append(xy)
        nid = len(self.node_xy)
        if tags:
            self.node_tags[nid] = tags
        return nid

    def lattice(self, gx: int, gy: int) -> int:
        key = (gx, gy)
        if key not in self.lattice_id:
            self.lattice_id[key] = self.new_node(self.xy(gx, gy))
        return self.lattice_id[key]

    # --- ways ---------------------------------------------------------------------
    def path(
        self, pts: list[tuple[int, int]], tags: list[tuple[str, str]], shape: float = 0.0
    ) -> list[int]:
        """A way through lattice points; ``shape`` > 0 adds a wiggled midpoint per step."""
        refs = [self.lattice(*pts[0])]
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            if shape > 0:
                mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
                off = self.rng.uniform(-shape, shape, 2)
                refs.append(self.new_node(self.xy(mx, my, off[0], off[1])))
            refs.append(self.lattice(*b))
        self.ways.append((refs, [*tags, _SYN]))
        return refs

    def line(self, fixed: str, at: int, lo: int, hi: int) -> list[tuple[int, int]]:
        """Lattice points from ``lo`` to ``hi`` (either direction) along a lattice line."""
        step = 1 if hi >= lo else -1
        if fixed == "y":
            return [(x, at) for x in range(lo, hi + step, step)]
        return [(at, y) for y in range(lo, hi + step, step)]

    def area(
        self, gx0: float, gy0: float, gx1: float, gy1: float, tags: list[tuple[str, str]]
    ) -> None:
        """A closed way (polygon) with its own nodes, not shared with streets."""
        ring = [(gx0, gy0), (gx1, gy0), (gx1, gy1), (gx0, gy1)]
        refs = [self.new_node(self.xy(x, y)) for x, y in ring]
        self.ways.append(([*refs, refs[0]], [*tags, _SYN]))

    def poi(self, gx: float, gy: float, tags: list[tuple[str, str]], kind: str) -> None:
        self.new_node(self.xy(gx, gy), [*tags, _SYN])
        self.facilities[kind] += 1


def _name(text: str) -> tuple[str, str]:
    return ("name", _PREFIX + text)


def build_town(seed: int) -> TownBuilder:
    b = TownBuilder(seed)
    rng = b.rng
    gxmax, gymax = _M * _NI, _M * _NJ
    # main roads ---------------------------------------------------------------------
    mid = _NJ // 2
    for j in range(_NJ + 1):
        hw = "primary" if j == mid else ("secondary" if j in (1, _NJ - 1) else "tertiary")
        name = f"{_ALONG_NAMES[j % len(_ALONG_NAMES)]}大街"
        b.path(b.line("y", j * _M, 0, gxmax), [("highway", hw), _name(name)], shape=3.0)
    for i in range(_NI + 1):
        hw = "secondary" if i % 3 == 0 else "tertiary"
        b.path(b.line("x", i * _M, 0, gymax), [("highway", hw), _name(f"{_NUM[i]}路")], shape=3.0)
    # bus stops beside the along-axis main roads, every second block
    for j in range(_NJ + 1):
        for i in range(0, _NI, 2):
            b.poi(
                i * _M + _M / 2,
                j * _M,
                [
                    ("highway", "bus_stop"),
                    ("public_transport", "platform"),
                    _name(f"{_ALONG_NAMES[j % len(_ALONG_NAMES)]}大街{_NUM[i]}路站"),
                ],
                "bus_stop",
            )
    # blocks ---------------------------------------------------------------------------
    kinds = rng.choice(["open", "gated", "school", "park"], size=(_NI, _NJ), p=[0.5, 0.3, 0.1, 0.1])
    blocks: Counter[str] = Counter()
    n_school = n_comm = 0
    for i in range(_NI):
        for j in range(_NJ):
            kind = str(kinds[i, j])
            blocks[kind] += 1
            X, Y = i * _M, j * _M
            comm = _COMMUNITY[n_comm % len(_COMMUNITY)] + ("" if n_comm < 12 else str(n_comm))
            if kind in ("open", "gated"):
                b.area(
                    X + 0.3,
                    Y + 0.3,
                    X + _M - 0.3,
                    Y + _M - 0.3,
                    [("landuse", "residential"), _name(f"{comm}小区")],
                )
                n_comm += 1
            if kind == "open":
                _open_block(b, X, Y, comm)
            elif kind == "gated":
                _gated_block(b, X, Y, comm)
            elif kind == "school":
                n_school += 1
                _school_block(b, X, Y, n_school)
            else:
                _park_block(b, X, Y, comm)
    # facilities spread over open/gated blocks ------------------------------------------
    cells = [(i, j) for i in range(_NI) for j in range(_NJ) if kinds[i, j] in ("open", "gated")]
    order = rng.permutation(len(cells))
    specs: list[tuple[str, list[tuple[str, str]], str]] = []
    specs += [("kindergarten", [("amenity", "kindergarten")], "第{n}幼儿园")] * 14
    specs += [("clinic", [("amenity", "clinic"), ("healthcare", "clinic")], "{c}社区卫生室")] * 9
    specs += [
        ("health_centre", [("amenity", "clinic"), ("healthcare", "centre")], "{c}社区卫生服务中心")
    ] * 2
    specs += [("fresh_market", [("amenity", "marketplace")], "{c}农贸市场")] * 3
    specs += [("supermarket", [("shop", "supermarket")], "{c}超市")] * 5
    specs += [("elderly_care", [("amenity", "nursing_home")], "{c}养老院")] * 2
    specs += [
        (
            "elderly_canteen",
            [("amenity", "social_facility"), ("social_facility", "day_care")],
            "{c}幸福食堂",
        )
    ] * 3
    specs += [("fitness", [("leisure", "fitness_station")], "{c}健身点")] * 6
    specs += [("playground", [("leisure", "playground")], "{c}儿童游乐场")] * 4
    specs += [("culture", [("amenity", "community_centre")], "{c}文化活动中心")] * 3
    specs += [("community_service", [("office", "government")], "{c}社区居民委员会")] * 6
    for n, (kind, tags, name) in enumerate(specs):
        ci, cj = cells[int(order[n % len(order)])]
        slot = n // len(order)
        fx = ci * _M + 1.5 + 2 * (slot % 3)
        fy = cj * _M + 0.5 + 2 * (slot // 3)
        label = name.format(n=_NUM[n % len(_NUM)], c=_COMMUNITY[(ci + cj) % len(_COMMUNITY)])
        b.poi(fx, fy, [*tags, _name(label)], kind)
    # one hospital and the estimated station
    b.poi(_M * 3 + 4.5, _M * mid + 1.5, [("amenity", "hospital"), _name("区人民医院")], "hospital")
    sx, sy = b.tr.transform(*STATION_ESTIMATE)
    b.new_node(
        (float(sx), float(sy)),
        [
            ("railway", "station"),
            ("public_transport", "station"),
            _name("钢城站（位置为估计）"),
            ("note", "position estimated from text sources (±1 km)"),
            _SYN,
        ],
    )
    b.facilities["rail_station"] += 1
    _planned_facilities(b)
    b.blocks = blocks
    return b


def _planned_points() -> list[tuple[str, str, str, float, float]]:
    """Planned facilities with a known (estimated) location: id, name_zh, category, lon, lat.

    From the shipped ``planned_facilities`` layer; empty when it cannot be read.
    """
    from shapely.geometry import Point

    try:
        from .layers import load_layer

        layer = load_layer("planned_facilities")
    except Exception:  # a broken or missing layer must not stop the demo
        return []
    out = []
    for _, r in layer.iterrows():
        g, cat = r.geometry, r.get("category")
        if (
            not isinstance(g, Point)
            or g.is_empty
            or not isinstance(cat, str)
            or cat not in _PLANNED_TAGS
        ):
            continue
        out.append((str(r["id"]), str(r["name_zh"]), cat, float(g.x), float(g.y)))
    return out


def _planned_facilities(b: TownBuilder) -> None:
    """Add the planned facilities with known locations (the station is already there)."""
    sx, sy = b.tr.transform(*STATION_ESTIMATE)
    for pid, name_zh, cat, lon, lat in _planned_points():
        x, y = b.tr.transform(lon, lat)
        if cat == "rail_station" and np.hypot(x - sx, y - sy) < 50:
            continue  # the estimated station node built above
        b.new_node(
            (float(x), float(y)),
            [
                *_PLANNED_TAGS[cat],
                _name(f"{name_zh}（规划，位置为估计）"),
                ("gcgeo:planned", pid),
                ("note", "planned facility; position estimated (layers/planned_facilities)"),
                _SYN,
            ],
        )
        b.facilities[cat] += 1


def _open_block(b: TownBuilder, X: int, Y: int, comm: str) -> None:
    rng = b.rng
    res = [("highway", "residential")]
    for row in (2, 5):
        b.path(b.line("y", Y + row, X, X + _M), [*res, _name(f"{comm}{row}巷")], shape=1.5)
    for col in (2, 4, 6):
        b.path(b.line("x", X + col, Y + 2, Y + 5), [("highway", "service")])
    b.path(b.line("x", X + 4, Y + 5, Y + _M), [("highway", "footway")])
    r = rng.random()
    if r < 0.35:  # cul-de-sac north of the upper street
        b.path(b.line("x", X + 2, Y + 5, Y + 7), [("highway", "service"), ("service", "driveway")])
        b.node_tags[b.lattice(X + 2, Y + 7)] = [("highway", "turning_circle"), _SYN]
        b.dead_ends += 1
    elif r < 0.55:  # cul-de-sac south of the lower street
        b.path(b.line("x", X + 6, Y + 2, Y + 1), [("highway", "service"), ("service", "driveway")])
        b.node_tags[b.lattice(X + 6, Y + 1)] = [("highway", "turning_circle"), _SYN]
        b.dead_ends += 1


def _gated_block(b: TownBuilder, X: int, Y: int, comm: str) -> None:
    priv = [("access", "private")]
    n0 = len(b.ways)
    for row in (2, 4, 6):
        b.path(b.line("y", Y + row, X + 1, X + 7), [("highway", "service"), *priv])
    for col in (1, 7):
        b.path(b.line("x", X + col, Y + 2, Y + 6), [("highway", "service"), *priv])
    for col in (3, 5):
        b.path(b.line("x", X + col, Y + 2, Y + 6), [("highway", "footway"), *priv])
    # two entrances, each with a gate node between the main road and the compound
    for outer, inner, mid in (
        ((X, Y + 4), (X + 1, Y + 4), (X + 0.5, Y + 4.0)),
        ((X + 4, Y), (X + 4, Y + 2), (X + 4.0, Y + 1.0)),
    ):
        gate = b.new_node(
            b.xy(*mid), [("barrier", "gate"), ("access", "private"), _name(f"{comm}小区大门"), _SYN]
        )
        refs = [b.lattice(*outer), gate, b.lattice(*inner)]
        b.ways.append((refs, [("highway", "service"), *priv, _name(f"{comm}小区入口"), _SYN]))
    b.gated += 1
    b.gated_ways += len(b.ways) - n0


def _school_block(b: TownBuilder, X: int, Y: int, n: int) -> None:
    b.path(b.line("y", Y + 5, X, X + _M), [("highway", "residential"), _name(f"学府{_NUM[n]}巷")])
    b.path(b.line("x", X + 4, Y + 5, Y + _M), [("highway", "footway")])
    if n % 3 == 0:
        name, kind = f"第{_NUM[n]}初级中学", "middle_school"
    else:
        name, kind = f"第{_NUM[n]}小学", "primary_school"
    b.area(X + 1, Y + 1, X + 7, Y + 4, [("amenity", "school"), _name(name)])
    b.facilities[kind] += 1
    b.poi(
        X + 1.5,
        Y + 6.5,
        [("amenity", "kindergarten"), _name(f"学府{_NUM[n]}幼儿园")],
        "kindergarten",
    )


def _park_block(b: TownBuilder, X: int, Y: int, comm: str) -> None:
    b.path(b.line("y", Y + 4, X, X + _M), [("highway", "footway")])
    b.path(b.line("x", X + 4, Y, Y + 4), [("highway", "footway")])
    b.path(b.line("x", X + 4, Y + 4, Y + _M), [("highway", "footway")])
    b.area(
        X + 0.4, Y + 0.4, X + _M - 0.4, Y + _M - 0.4, [("leisure", "park"), _name(f"{comm}公园")]
    )
    b.facilities["park"] += 1
