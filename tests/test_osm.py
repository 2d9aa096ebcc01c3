"""Reading OSM files: formats, clipping and bad input."""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pytest
import shapely
from osmxml import hand_grid, lonlat

from gcgeo import OSMFileError
from gcgeo.osm import read_osm


@pytest.fixture
def grid_osm(tmp_path: Path) -> Path:
    return hand_grid().write(tmp_path / "grid.osm")


def test_reads_highway_ways_pois_and_nothing_else(grid_osm: Path) -> None:
    data = read_osm(grid_osm)
    # 3 rows + 4 columns + sidewalk + motorway + foot=no + private + detached street
    assert len(data.ways) == 12
    names = sorted(p[4].get("name") for p in data.pois)
    assert names == ["小区幼儿园", "示范小学", "阳光幼儿园"]
    k = next(p for p in data.pois if p[4].get("name") == "阳光幼儿园")
    lon, lat = lonlat(150, 20)
    assert k[0] == "n"
    assert k[2] == pytest.approx(lon, abs=1e-7) and k[3] == pytest.approx(lat, abs=1e-7)


@pytest.mark.parametrize("suffix,opener", [(".osm.bz2", bz2.open), (".osm.gz", gzip.open)])
def test_compressed_xml_reads_the_same(grid_osm: Path, tmp_path: Path, suffix, opener) -> None:
    packed = tmp_path / f"grid{suffix}"
    with opener(packed, "wb") as fh:
        fh.write(grid_osm.read_bytes())
    a, b = read_osm(grid_osm), read_osm(packed)
    assert [w.refs.tolist() for w in a.ways] == [w.refs.tolist() for w in b.ways]
    assert len(a.pois) == len(b.pois)


def test_pbf_round_trip(grid_osm: Path, tmp_path: Path) -> None:
    import osmium

    pbf = tmp_path / "grid.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(grid_osm)):
            writer.add(obj)
    a, b = read_osm(grid_osm), read_osm(pbf)
    assert sorted(w.id for w in a.ways) == sorted(w.id for w in b.ways)
    assert sorted(p[1] for p in a.pois) == sorted(p[1] for p in b.pois)


def test_clip_by_bbox_keeps_only_inside_segments(grid_osm: Path) -> None:
    lo = lonlat(-50, -50)
    hi = lonlat(250, 150)  # covers nodes with x <= 200 and y <= 100
    data = read_osm(grid_osm, clip=(lo[0], lo[1], hi[0], hi[1]))
    for w in data.ways:
        assert len(w.refs) >= 2
    segs = sum(len(w.refs) - 1 for w in data.ways)
    # rows 0 and 1 cut to x<=200: 2 segments each; columns 0..2 cut to y<=100: 1 each;
    # the sidewalk N00-N10: 1. Nothing else lies inside.
    assert segs == 2 * 2 + 3 * 1 + 1
    assert [p[4]["name"] for p in data.pois] == ["阳光幼儿园"]


def test_clip_by_polygon(grid_osm: Path) -> None:
    ring = [lonlat(-50, -50), lonlat(350, -50), lonlat(-50, 350)]  # triangle x + y <= 300
    data = read_osm(grid_osm, clip=shapely.Polygon(ring))
    for w in data.ways:
        assert len(w.refs) >= 2
    assert {p[4]["name"] for p in data.pois} == {"阳光幼儿园", "示范小学"}


def test_missing_file() -> None:
    with pytest.raises(OSMFileError, match="does not exist"):
        read_osm("/nonexistent/town.osm")


def test_not_osm(tmp_path: Path) -> None:
    p = tmp_path / "notes.osm"
    p.write_text("this is not xml at all", encoding="utf-8")
    with pytest.raises(OSMFileError, match="truncated or not OSM"):
        read_osm(p)


def test_wrong_suffix(tmp_path: Path) -> None:
    p = tmp_path / "roads.csv"
    p.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(OSMFileError, match="does not look like an OSM extract"):
        read_osm(p)


def test_truncated_xml(grid_osm: Path, tmp_path: Path) -> None:
    p = tmp_path / "cut.osm"
    text = grid_osm.read_text(encoding="utf-8")
    p.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(OSMFileError, match="truncated"):
        read_osm(p)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.osm"
    p.touch()
    with pytest.raises(OSMFileError, match="empty"):
        read_osm(p)


def test_error_is_also_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        read_osm(tmp_path / "absent.osm")


@pytest.mark.parametrize("small,block", [(True, 20_000), (False, 20_000), (False, 1), (True, 2)])
def test_way_nodes_gathered_in_libosmium_equal_reading_each_node(
    tmp_path: Path, small: bool, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way triples (ref, x, y) come from libosmium's OPL writer and WKB factory; they
    equal pyosmium's node-by-node values on every kind of way, including those the
    factory refuses (missing node, latitude out of range, one node, no node), however
    the coordinates are parsed in blocks."""
    import numpy as np
    import osmium

    from gcgeo.osm_stream import first_pass

    monkeypatch.setattr("gcgeo.osm_stream._WKB_BLOCK", block)

    xml = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
<node id="1" lat="36.0000001" lon="117.8000009"/>
<node id="2" lat="95.0" lon="117.801"/>
<node id="3" lat="36.002" lon="117.8020001"/>
<node id="4" lat="-36.1" lon="-117.1"/>
<node id="5" lat="36.1234567" lon="117.7654321"/>
<way id="10"><nd ref="1"/><nd ref="3"/><nd ref="5"/><nd ref="5"/><tag k="highway" v="residential"/>
<tag k="name" v="a N n1x2y3,c=d"/></way>
<way id="11"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="service"/></way>
<way id="12"><nd ref="3"/><nd ref="99"/><nd ref="4"/><tag k="highway" v="footway"/></way>
<way id="13"><nd ref="4"/><tag k="highway" v="path"/></way>
<way id="14"><tag k="highway" v="path"/></way>
<way id="15"><nd ref="5"/><nd ref="1"/><tag k="building" v="yes"/></way>
<way id="16"><nd ref="4"/><nd ref="5"/><nd ref="3"/><tag k="highway" v="primary"/></way>
</osm>
"""
    p = tmp_path / "mixed.osm"
    p.write_text(xml, encoding="utf-8")
    raw = first_pass(str(p), frozenset(), areas=False, small=small)
    want: list[int] = []
    ids, lens = [], []
    fp = osmium.FileProcessor(str(p)).with_locations(osmium.index.create_map("flex_mem"))
    for w in fp:
        if w.is_way() and "highway" in w.tags:
            want += [v for n in w.nodes for v in (n.ref, n.location.x, n.location.y)]
            ids.append(w.id)
            lens.append(len(w.nodes))
    assert raw.way_ids == ids == [10, 11, 12, 13, 14, 16] and raw.way_len == lens
    assert np.frombuffer(raw.triples, dtype=np.int64).tolist() == want
    assert want[:3] == [1, 1178000009, 360000001]  # exact 1e-7 integers


def test_area_with_one_tag_is_a_facility_only_when_its_key_is_asked_for(tmp_path: Path) -> None:
    """A lone building or landuse tag is no facility key by default; asked for, it is."""
    from gcgeo.osm_stream import POI_KEYS

    xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i, (lon, lat) in enumerate([(0, 0), (0.001, 0), (0.001, 0.001), (0, 0.001)], start=1):
        xml.append(f'<node id="{i}" lat="{36.05 + lat}" lon="{117.81 + lon}"/>')
        xml.append(f'<node id="{10 + i}" lat="{36.06 + lat}" lon="{117.81 + lon}"/>')
    ring = "".join(f'<nd ref="{i}"/>' for i in (1, 2, 3, 4, 1))
    ring2 = "".join(f'<nd ref="{10 + i}"/>' for i in (1, 2, 3, 4, 1))
    xml.append(f'<way id="1">{ring}<tag k="landuse" v="residential"/></way>')
    xml.append(f'<way id="2">{ring2}<tag k="building" v="yes"/></way>')
    xml.append('<way id="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>')
    xml.append("</osm>")
    p = tmp_path / "areas.osm"
    p.write_text("\n".join(xml), encoding="utf-8")
    plain = read_osm(p)
    assert plain.pois == [] and len(plain.residential) == 1
    asked = read_osm(p, poi_keys=POI_KEYS | {"landuse"})
    assert [(q[0], q[1]) for q in asked.pois] == [("w", 1)]
    with_building = read_osm(p, poi_keys=frozenset({"building"}))
    assert with_building.pois == []  # building alone never makes a facility candidate
