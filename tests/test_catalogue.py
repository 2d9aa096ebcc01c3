"""The shipped catalogue and OSM tag/name classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from gcgeo import CategoryError
from gcgeo.catalogue import Catalogue, Category, Rule, load_catalogue

REQUIRED = [
    "kindergarten", "primary_school", "middle_school", "health_centre", "clinic", "elderly_care",
    "elderly_canteen", "fresh_market", "bus_stop", "sports", "park", "culture",
]  # fmt: skip


def test_shipped_catalogue_has_required_categories_with_standard_values() -> None:
    cat = load_catalogue()
    assert set(REQUIRED) <= set(cat.ids)
    # values from shared/reference/life-circle-standard.md
    assert cat["kindergarten"].max_distance_m == 300 and cat["kindergarten"].status == "checked"
    assert cat["primary_school"].max_distance_m == 500 and cat["primary_school"].status == "checked"
    assert (
        cat["middle_school"].max_distance_m == 1000 and cat["middle_school"].status == "to_confirm"
    )
    assert cat["health_centre"].tier == 15 and cat["clinic"].tier == 5
    assert cat["elderly_canteen"].max_distance_m == 300
    assert cat["bus_stop"].max_distance_m == 500
    for c in cat:
        assert c.status in ("checked", "to_confirm")
        assert c.name_zh and c.name_en and c.rules
    assert cat.tiers[15]["distance_m"] == 1000 and cat.tiers[5]["distance_m"] == 300


@pytest.mark.parametrize(
    "tags,expected",
    [
        ({"amenity": "school", "name": "钢城区实验小学"}, {"primary_school"}),
        ({"amenity": "school", "name": "莱芜第四中学"}, {"middle_school"}),
        ({"amenity": "school", "name": "艾山九年一贯制学校"}, {"primary_school", "middle_school"}),
        ({"amenity": "school", "name": "钢城区高级中学"}, set()),
        ({"amenity": "kindergarten", "name": "阳光幼儿园"}, {"kindergarten"}),
        ({"amenity": "clinic", "name": "颜庄镇卫生院"}, {"health_centre", "clinic"}),
        ({"amenity": "doctors", "name": "李大夫诊所"}, {"clinic"}),
        ({"healthcare": "centre", "name": "里辛街道社区卫生服务中心"}, {"health_centre"}),
        ({"amenity": "hospital", "name": "钢城区人民医院"}, {"health_centre", "hospital"}),
        ({"amenity": "marketplace", "name": "颜庄大集"}, {"fresh_market"}),
        ({"highway": "bus_stop", "name": "实验小学"}, {"bus_stop"}),
        ({"amenity": "parking", "name": "原幼儿园停车场"}, set()),
        ({"amenity": "social_facility", "name": "艾山街道幸福食堂"}, {"elderly_canteen"}),
        ({"amenity": "nursing_home", "name": "钢城区养老院"}, {"elderly_care"}),
        ({"leisure": "park", "name": "钢都公园"}, {"park"}),
        ({"amenity": "community_centre"}, {"culture"}),
        ({"shop": "supermarket", "name": "银座超市"}, {"fresh_market"}),
        ({"amenity": "restaurant", "name": "好再来饭店"}, set()),
    ],
)
def test_classify(tags: dict, expected: set) -> None:
    assert set(load_catalogue().classify(tags)) == expected


def test_select() -> None:
    cat = load_catalogue()
    assert [c.id for c in cat.select("park, kindergarten")] == ["park", "kindergarten"]
    default = [c.id for c in cat.select(None)]
    assert "hospital" not in default and "rail_station" not in default
    with pytest.raises(CategoryError, match="Unknown category 'schools'"):
        cat.select("schools")


def test_planner_catalogue_overrides(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text(
        '[[category]]\nid = "kindergarten"\nname_zh = "幼儿园"\nname_en = "Kindergarten"\n'
        'tier = 5\nmax_distance_m = 250\nstatus = "to_confirm"\n'
        'rules = [ { tags = ["amenity=kindergarten"] } ]\n',
        encoding="utf-8",
    )
    cat = load_catalogue(p)
    assert cat.ids == ["kindergarten"] and cat["kindergarten"].max_distance_m == 250


@pytest.mark.parametrize(
    "text,match",
    [
        ("[[category]\nid=1", "not valid TOML"),
        ("x = 1\n", "no \\[\\[category\\]\\]"),
        ('[[category]]\nid = "a"\n', "missing key 'max_distance_m'"),
        ('[[category]]\nid = "Bad Id"\nmax_distance_m = 3\n', "snake_case"),
        ('[[category]]\nid = "a"\nmax_distance_m = 3\nstatus = "maybe"\n', "status 'maybe'"),
        ('[[category]]\nid = "a"\nmax_distance_m = -3\n', "must be positive"),
        (
            '[[category]]\nid = "a"\nmax_distance_m = 3\nrules = [ { tags = ["amenity"] } ]\n',
            "key=value",
        ),
    ],
)
def test_malformed_catalogue(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CategoryError, match=match):
        load_catalogue(p)


def test_missing_catalogue() -> None:
    with pytest.raises(CategoryError, match="does not exist"):
        load_catalogue("/no/such/catalogue.toml")


def test_indexed_classify_equals_trying_every_rule(beijing_osm: Path) -> None:
    """classify() tries only the rules a feature's tags can meet; on every candidate of a
    real OSM file, and on tags shuffled between them, it gives what trying every rule of
    every category gives."""
    import random

    from gcgeo.osm import read_osm

    cat = load_catalogue()
    pois = [tags for *_, tags in read_osm(beijing_osm).pois]
    rng = random.Random(4)
    items = [kv for tags in pois for kv in tags.items()]
    mixed = [dict(rng.sample(items, rng.randint(1, 4))) for _ in range(400)]
    mixed += [{"name": "阳光幼儿园"}, {"name": "公交站 幼儿园", "highway": "bus_stop"}, {}]
    names = [tags["name"] for tags in pois if tags.get("name")]
    mixed += [{"name": n} for n in names]  # each real name alone: only name rules can match
    mixed += [{"name:zh": n, "amenity": "parking"} for n in names[:50]]
    hits = 0
    for tags in pois + mixed:
        want = [c.id for c in cat if c.matches(tags)]
        assert cat.classify(tags) == want, tags
        hits += bool(want)
    assert hits > 50  # the comparison covered many classified features
    # a rule made in code with an empty word matches every feature, named or not
    anything = Category("any", "任意", "any", 1, 500.0, "test", rules=(Rule(names=("",)),))
    odd = Catalogue({"any": anything})
    for tags in ({}, {"name": "x"}, {"amenity": "school"}):
        assert odd.classify(tags) == [c.id for c in odd if c.matches(tags)] == ["any"]
