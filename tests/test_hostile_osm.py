"""Broken or hostile OSM files: every defect is split, counted or refused, never joined.

Each class of defect runs through both ways gcgeo collects node records (in
Python for small files, through libosmium's node file for larger ones), so the
outcome cannot depend on the file size.
"""

from __future__ import annotations

import bz2
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from osmxml import hand_grid, lonlat
from scipy.sparse.csgraph import dijkstra

from gcgeo import OSMFileError, osm
from gcgeo.cli import main
from gcgeo.network import build_network, load_network
from gcgeo.osm import MAX_SEGMENT_M, read_osm

#: street nodes A..E, 100 m apart along x (metres from the osmxml origin)
XY = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (400, 0)}


@pytest.fixture(autouse=True, params=["python_nodes", "node_file"])
def node_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with both node-record collectors (see ``osm._small_file``)."""
    monkeypatch.setattr(osm, "_SMALL_FILE_NODES", 10**12 if request.param == "python_nodes" else 0)
    return request.param


def node(nid: int, x: float, y: float, **tags: str) -> str:
    lon, lat = lonlat(x, y)
    return raw_node(nid, f"{lat:.7f}", f"{lon:.7f}", **tags)


def raw_node(nid: int, lat: str, lon: str, **tags: str) -> str:
    if not tags:
        return f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>'
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'  <node id="{nid}" version="1" lat="{lat}" lon="{lon}">{inner}</node>'


def way(wid: int, refs: list[int], highway: str = "residential") -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    return f'  <way id="{wid}" version="1">{nds}<tag k="highway" v="{highway}"/></way>'


def write(path: Path, *elements: str) -> Path:
    body = "\n".join(elements)
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="t">\n{body}\n</osm>\n',
        encoding="utf-8",
    )
    return path


def street(skip: int | None = None, refs: tuple[int, ...] = (1, 2, 3, 4)) -> list[str]:
    """Nodes of XY (without ``skip``) and way 10 through ``refs``."""
    return [node(n, *XY[n]) for n in XY if n != skip] + [way(10, list(refs))]


def pieces(data: osm.OSMData) -> list[tuple[int, list[int]]]:
    return [(w.id, w.refs.tolist()) for w in data.ways]


def edge_pairs(path: Path) -> set[tuple[int, int]]:
    net = load_network(path, largest_component=False)
    ids = net.nodes["osmid"].to_numpy()
    return {tuple(sorted((int(ids[u]), int(ids[v])))) for u, v in zip(net.edge_u, net.edge_v)}


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def coverage(osm_path: Path, out: Path):
    return cli(
        "coverage", "--osm", str(osm_path), "--categories", "kindergarten", "--cell", "100",
        "--origin-rule", "all", "--out", str(out),
    )  # fmt: skip


def assert_one_line_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


def grid_with(tmp_path: Path, nodes: tuple[str, ...] = (), ways: tuple[str, ...] = ()) -> Path:
    """The hand-checked test town plus extra nodes (before its ways) and ways (for CLI runs)."""
    text = hand_grid().xml()
    at = text.index("  <way ")
    text = text[:at] + "".join(n + "\n" for n in nodes) + text[at:]
    text = text.replace("</osm>\n", "".join(w + "\n" for w in ways) + "</osm>\n")
    p = tmp_path / "town.osm"
    p.write_text(text, encoding="utf-8")
    return p


# --- 1. ways referencing nodes missing from the file ----------------------------------


def test_missing_node_splits_the_way_and_is_counted(tmp_path: Path) -> None:
    p = write(tmp_path / "gap.osm", *street(skip=3))
    data = read_osm(p)
    assert pieces(data) == [(10, [1, 2])]  # D is alone after the gap: no segment
    assert data.issues["missing_node_refs"] == 1
    assert data.issues["ways_cut_at_gaps"] == 1
    assert data.issues["ways_without_segment"] == 0
    assert data.summary()["issues"]["missing_node_refs"] == 1
    assert edge_pairs(p) == {(1, 2)}  # nothing joins B to D


def test_missing_node_in_the_middle_gives_two_pieces(tmp_path: Path) -> None:
    p = write(tmp_path / "gap.osm", *street(skip=3, refs=(1, 2, 3, 4, 5)))
    data = read_osm(p)
    assert pieces(data) == [(10, [1, 2]), (10, [4, 5])]
    assert data.issues["missing_node_refs"] == 1
    net = load_network(p, largest_component=False)
    assert edge_pairs(p) == {(1, 2), (4, 5)}
    assert np.allclose(net.edges["length"], 100.0, atol=0.03)


def test_way_with_only_missing_nodes_is_dropped_and_counted(tmp_path: Path) -> None:
    p = write(tmp_path / "gap.osm", *street(), way(11, [77, 78, 2]))
    data = read_osm(p)
    assert pieces(data) == [(10, [1, 2, 3, 4])]
    assert data.issues["missing_node_refs"] == 2
    assert data.issues["ways_without_segment"] == 1


def test_no_usable_node_at_all_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path / "ways_only.osm", way(10, [1, 2, 3]))
    with pytest.raises(OSMFileError, match=r"ways_only\.osm.*3 node references .* missing"):
        read_osm(p)


def test_nodes_after_their_ways_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    els = street()
    p = write(tmp_path / "unsorted.osm", els[-1], *els[:-1])
    with pytest.raises(OSMFileError, match=r"unsorted\.osm.*not sorted.*osmium sort"):
        read_osm(p)


def test_cli_reports_missing_nodes_in_run_json(tmp_path: Path) -> None:
    # a footway from the grid corner N30 (id 4) through an absent node to N31 (id 8)
    town = grid_with(tmp_path, ways=(way(2000, [4, 999999, 8], highway="footway"),))
    r = coverage(town, tmp_path / "out")
    assert r.exit_code == 0, r.output
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    issues = run["study"]["osm"]["issues"]
    assert issues["missing_node_refs"] == 1 and issues["ways_without_segment"] == 1


# --- 2. coordinates out of range, NaN, inf or unreadable ------------------------------


@pytest.mark.parametrize(
    "lat,lon,unparsable",
    [
        ("91", None, 0),
        ("-90.5", None, 0),
        (None, "181", 0),
        (None, "-180.0000001", 0),
        ("nan", None, 1),
        ("NaN", None, 1),
        ("inf", None, 1),
        (None, "-inf", 1),
        ("abc", None, 1),
        ("", None, 1),
        ("36,05", None, 1),
    ],
)
def test_bad_coordinate_is_a_counted_gap(
    tmp_path: Path, lat: str | None, lon: str | None, unparsable: int
) -> None:
    good_lon, good_lat = lonlat(*XY[3])
    bad = raw_node(
        3, f"{good_lat:.7f}" if lat is None else lat, f"{good_lon:.7f}" if lon is None else lon
    )
    els = [node(n, *XY[n]) for n in XY if n != 3] + [bad, way(10, [1, 2, 3, 4])]
    data = read_osm(write(tmp_path / "bad.osm", *els))
    assert pieces(data) == [(10, [1, 2])]
    assert data.issues["invalid_coordinate_refs"] == 1
    assert data.issues["invalid_coordinate_nodes"] == 1
    assert data.issues["unparsable_coordinate_nodes"] == unparsable
    assert data.issues["missing_node_refs"] == 0


def test_unreadable_coordinate_in_compressed_xml(tmp_path: Path) -> None:
    els = street(skip=3)
    plain = write(tmp_path / "bad.osm", raw_node(3, "nan", "117.0"), *els)
    packed = tmp_path / "bad.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    data = read_osm(packed)
    assert pieces(data) == [(10, [1, 2])]
    assert data.issues["unparsable_coordinate_nodes"] == 1


def test_readable_but_unusual_numbers_are_kept(tmp_path: Path) -> None:
    lon, lat = lonlat(*XY[3])
    # "+36.05" and " 36.05" stop libosmium; the rewrite reads them as numbers
    els = [node(n, *XY[n]) for n in XY if n not in (3, 4)]
    els += [raw_node(3, f"+{lat:.7f}", f"{lon:.7f}"), raw_node(4, "abc", "117")]
    data = read_osm(write(tmp_path / "odd.osm", *els, way(10, [1, 2, 3, 4])))
    assert pieces(data) == [(10, [1, 2, 3])]
    assert data.ways[0].lat[2] == pytest.approx(lat, abs=1e-7)


def test_facility_node_with_bad_coordinate_is_skipped(tmp_path: Path) -> None:
    bad = raw_node(9, "nan", "117.8", amenity="kindergarten")
    data = read_osm(write(tmp_path / "poi.osm", *street(), bad))
    assert data.pois == []
    assert data.issues["invalid_coordinate_nodes"] == 1
    assert pieces(data) == [(10, [1, 2, 3, 4])]


def test_all_coordinates_swapped_is_an_error(tmp_path: Path) -> None:
    els = []
    for n in XY:
        lon, lat = lonlat(*XY[n])
        els.append(raw_node(n, f"{lon:.7f}", f"{lat:.7f}"))  # lat 117.8: out of range
    p = write(tmp_path / "swapped.osm", *els, way(10, [1, 2, 3, 4]))
    with pytest.raises(OSMFileError, match=r"swapped\.osm.*lat and lon swapped"):
        read_osm(p)
    assert_one_line_error(coverage(p, tmp_path / "out"), "swapped.osm", "swapped?")


def test_cli_bad_coordinate_runs_and_counts(tmp_path: Path) -> None:
    town = grid_with(
        tmp_path,
        nodes=(raw_node(999999, "nan", "117.8"),),
        ways=(way(2000, [4, 999999, 8], highway="footway"),),
    )
    r = coverage(town, tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    issues = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))["study"][
        "osm"
    ]["issues"]
    assert issues["invalid_coordinate_refs"] == 1 and issues["unparsable_coordinate_nodes"] == 1


# --- 3. negative ids (JOSM's unsaved objects) -----------------------------------------


def _negate_ids(xml: str) -> str:
    return re.sub(r'\b(id|ref)="(\d+)"', r'\1="-\2"', xml)


def _distances(net) -> np.ndarray:
    """All-pairs walking distances with rows/columns ordered by |osmid|."""
    order = np.argsort(np.abs(net.nodes["osmid"].to_numpy()))
    d = dijkstra(net.graph, directed=False)
    return d[np.ix_(order, order)]


@pytest.mark.parametrize("fmt", ["osm", "osm.pbf"])
def test_negative_ids_give_the_same_network(tmp_path: Path, fmt: str) -> None:
    import osmium

    pos = hand_grid().write(tmp_path / "pos.osm")
    neg = tmp_path / "neg.osm"
    neg.write_text(_negate_ids(pos.read_text(encoding="utf-8")), encoding="utf-8")
    if fmt == "osm.pbf":
        pbf = tmp_path / "neg.osm.pbf"
        with osmium.SimpleWriter(str(pbf)) as writer:
            for obj in osmium.FileProcessor(str(neg)):
                writer.add(obj)
        neg = pbf
    a, b = read_osm(pos), read_osm(neg)
    assert [(-w.id, (-w.refs).tolist()) for w in b.ways] == pieces(a)
    assert b.issues["negative_id_nodes"] == 20 and b.issues["missing_node_refs"] == 0
    assert sorted(-q[1] for q in b.pois) == sorted(q[1] for q in a.pois)
    na, nb = build_network(a), build_network(b)
    assert nb.n_nodes == na.n_nodes == 13
    assert np.array_equal(np.sort(nb.edges["length"]), np.sort(na.edges["length"]))
    assert np.array_equal(_distances(nb), _distances(na))


def test_negative_and_positive_ids_mixed(tmp_path: Path) -> None:
    els = [node(1, *XY[1]), node(-2, *XY[2]), node(3, *XY[3]), way(-10, [1, -2, 3, -4])]
    data = read_osm(write(tmp_path / "mixed.osm", *els))
    assert pieces(data) == [(-10, [1, -2, 3])]  # -4 is missing
    assert data.issues["negative_id_nodes"] == 1 and data.issues["missing_node_refs"] == 1


# --- 4. the same node id twice ---------------------------------------------------------


def test_duplicate_id_with_different_coordinates_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path / "dup.osm", *street(), node(3, 9_000_000, 5_000_000))
    with pytest.raises(OSMFileError, match=r"dup\.osm.*node 3 twice with different coordinates"):
        read_osm(p)
    assert_one_line_error(coverage(p, tmp_path / "out"), "dup.osm", "node 3 twice")


def test_duplicate_after_the_ways_is_found_too(tmp_path: Path) -> None:
    els = street()
    p = write(tmp_path / "dup.osm", *els[:-1], els[-1], node(2, 50, 50))
    with pytest.raises(OSMFileError, match="node 2 twice"):
        read_osm(p)


def test_negative_duplicate_id_is_an_error(tmp_path: Path) -> None:
    els = [node(-1, *XY[1]), node(-2, *XY[2]), node(-2, 5000, 0), way(10, [-1, -2])]
    with pytest.raises(OSMFileError, match="node -2 twice"):
        read_osm(write(tmp_path / "dup.osm", *els))


def test_identical_duplicate_is_counted_and_harmless(tmp_path: Path) -> None:
    data = read_osm(write(tmp_path / "dup.osm", *street(), node(3, *XY[3])))
    assert pieces(data) == [(10, [1, 2, 3, 4])]
    assert data.issues["duplicate_node_ids"] == 1


def test_conflicting_duplicate_of_an_unused_node_is_only_counted(tmp_path: Path) -> None:
    data = read_osm(write(tmp_path / "dup.osm", *street(), node(5, 0, 900)))  # 5: in no way
    assert pieces(data) == [(10, [1, 2, 3, 4])]
    assert data.issues["duplicate_node_ids"] == 1


def test_duplicate_facility_node(tmp_path: Path) -> None:
    k = node(7, 50, 10, amenity="kindergarten")
    data = read_osm(write(tmp_path / "dup.osm", *street(), k, k))
    assert [q[1] for q in data.pois] == [7]
    moved = node(7, 50, 900, amenity="kindergarten")
    with pytest.raises(OSMFileError, match="node 7 twice"):
        read_osm(write(tmp_path / "dup2.osm", *street(), k, moved))


def test_duplicate_way_id_names_the_problem(tmp_path: Path) -> None:
    p = write(tmp_path / "dupway.osm", *street(), way(10, [4, 3]))
    with pytest.raises(OSMFileError, match=r"dupway\.osm.*same object id twice"):
        read_osm(p)


# --- 5. implausibly long segments ------------------------------------------------------


def test_long_segment_is_reported_with_its_way_id(tmp_path: Path) -> None:
    far = MAX_SEGMENT_M + 1000
    els = [node(1, 0, 0), node(2, 100, 0), node(3, 100 + far, 0), node(4, 0, 100)]
    els += [node(5, 0, 100 + MAX_SEGMENT_M - 100)]  # 4.9 km: plausible
    p = write(tmp_path / "long.osm", *els, way(10, [1, 2, 3]), way(11, [1, 4, 5]))
    data = read_osm(p)
    assert data.issues["long_segments"] == 1
    assert data.issues["long_segment_way_ids"] == [10]
    assert data.issues["max_segment_m"] == pytest.approx(far, rel=5e-3)  # great circle
    assert data.issues["max_segment_limit_m"] == MAX_SEGMENT_M
    net = build_network(data, largest_component=False)  # kept, only reported
    assert net.edges["length"].max() == pytest.approx(far, abs=0.1)


def test_no_long_segment_in_the_test_town(tmp_path: Path) -> None:
    data = read_osm(hand_grid().write(tmp_path / "town.osm"))
    issues = data.issues
    assert issues["long_segments"] == 0 and issues["long_segment_way_ids"] == []
    assert issues["max_segment_m"] == pytest.approx(600 - 300, abs=2)  # motorway N30-M
    assert all(
        issues[k] == 0
        for k in ("missing_node_refs", "invalid_coordinate_refs", "duplicate_node_ids")
    )


def test_cli_shows_long_segments_in_run_json(tmp_path: Path) -> None:
    far = MAX_SEGMENT_M + 2000
    town = grid_with(
        tmp_path, nodes=(node(999999, 300 + far, 0),), ways=(way(2000, [4, 999999], "footway"),)
    )
    r = coverage(town, tmp_path / "out")
    assert r.exit_code == 0, r.output
    issues = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))["study"][
        "osm"
    ]["issues"]
    assert issues["long_segments"] == 1 and issues["long_segment_way_ids"] == [2000]
