"""Hostile and broken catalogue files: refused in one sentence, never a traceback.

A planner's ``--catalogue FILE`` is user input. Each defect class below is one
test of :func:`gcgeo.catalogue.load_catalogue` (exact message) plus one CLI test
(exit code 2, one ``Error:`` line naming the file and key, no traceback).
"""

from __future__ import annotations

import re
import warnings
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from osmxml import hand_grid, lonlat

from gcgeo import CategoryError, InputError
from gcgeo.cache import catalogue_hash
from gcgeo.catalogue import Catalogue, CatalogueWarning, load_catalogue
from gcgeo.cli import main

#: A minimal valid catalogue; each case edits one line of it.
GOOD = """\
[meta]
walk_speed_mps = 1.1

[tiers]
5 = { distance_m = 300, name_zh = "5分钟生活圈", status = "checked" }

[[category]]
id = "kindergarten"
name_zh = "幼儿园"
name_en = "Kindergarten"
tier = 5
max_distance_m = 300
status = "checked"
rules = [
  { tags = ["amenity=kindergarten"] },
  { names = ["幼儿园", "托儿所"], exclude_names = ["停车场"] },
]
"""
CAT = "[[category]] #1 (kindergarten)"


def default_text() -> str:
    return resources.files("gcgeo").joinpath("catalogue.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def edit(old: str | tuple[str, ...], new: str | tuple[str, ...]) -> str:
    """GOOD with the first ``old`` replaced by ``new`` (or each pair of two tuples)."""
    text = GOOD
    for o, n in zip(*((old, new) if isinstance(old, tuple) else ((old,), (new,))), strict=True):
        assert o in text, o
        text = text.replace(o, n, 1)
    return text


def refused(p: Path) -> str:
    """The CategoryError message of loading ``p`` (no warnings allowed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CategoryError) as info:
            load_catalogue(p)
    assert isinstance(info.value, InputError)
    return str(info.value)


def full(p: Path, expected: str) -> str:
    """The whole message: file, then the table (``[...]``) or, at top level, the key."""
    return (
        f"Catalogue {p}, {expected}" if expected.startswith("[") else f"Catalogue {p}: {expected}"
    )


def same_content(a: Catalogue, b: Catalogue) -> None:
    assert a.categories == b.categories and a.tiers == b.tiers
    assert a.walk_speed_mps == b.walk_speed_mps
    assert catalogue_hash(a) == catalogue_hash(b)


def test_valid_catalogues_load_silently_and_unchanged(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = load_catalogue()
        copy = load_catalogue(write(tmp_path, default_text()))
        mine = load_catalogue(write(tmp_path, GOOD, "good.toml"))
    same_content(copy, default)
    assert copy.source == str(tmp_path / "mine.toml") and default.source == "default"
    k = mine["kindergarten"]
    assert (k.tier, k.max_distance_m, k.status, k.in_life_circle) == (5, 300.0, "checked", True)
    assert mine.tiers == {5: {"distance_m": 300, "name_zh": "5分钟生活圈", "status": "checked"}}
    assert mine.classify({"name": "阳光幼儿园", "amenity": "school"}) == ["kindergarten"]
    assert mine.classify({"name": "幼儿园停车场", "amenity": "school"}) == []


# -- 1. numbers: non-finite, negative, zero, too big; the unit is named ---------------


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ("max_distance_m = 300", "max_distance_m = inf",
         f"{CAT}: max_distance_m must be a finite number of metres, e.g. max_distance_m = 300; got inf."),
        ("max_distance_m = 300", "max_distance_m = -inf",
         f"{CAT}: max_distance_m must be a finite number of metres, e.g. max_distance_m = 300; got -inf."),
        ("max_distance_m = 300", "max_distance_m = nan",
         f"{CAT}: max_distance_m must be a finite number of metres, e.g. max_distance_m = 300; got nan."),
        ("max_distance_m = 300", "max_distance_m = -3",
         f"{CAT}: max_distance_m must be positive (metres), e.g. max_distance_m = 300; got -3."),
        ("max_distance_m = 300", "max_distance_m = 0",
         f"{CAT}: max_distance_m must be positive (metres), e.g. max_distance_m = 300; got 0."),
        ("max_distance_m = 300", "max_distance_m = 3e6",
         f"{CAT}: max_distance_m must be at most 50000 metres, e.g. max_distance_m = 300; got 3000000.0."),
        ("tier = 5", "tier = 0",
         f"{CAT}: tier must be positive (minutes), e.g. tier = 5; got 0."),
        ("tier = 5", "tier = 900",
         f"{CAT}: tier must be at most 60 minutes, e.g. tier = 5; got 900."),
        ("walk_speed_mps = 1.1", "walk_speed_mps = inf",
         "[meta]: walk_speed_mps must be a finite number of m/s, e.g. walk_speed_mps = 1.1; got inf."),
        ("walk_speed_mps = 1.1", "walk_speed_mps = 0.0",
         "[meta]: walk_speed_mps must be positive (m/s), e.g. walk_speed_mps = 1.1; got 0.0."),
        ("walk_speed_mps = 1.1", "walk_speed_mps = 11",
         "[meta]: walk_speed_mps must be at most 5 m/s, e.g. walk_speed_mps = 1.1; got 11."),
        ("distance_m = 300", "distance_m = nan",
         "[tiers.5]: distance_m must be a finite number of metres, e.g. distance_m = 300; got nan."),
        ("distance_m = 300", "distance_m = -300",
         "[tiers.5]: distance_m must be positive (metres), e.g. distance_m = 300; got -300."),
    ],
)  # fmt: skip
def test_non_finite_or_out_of_range_numbers_are_refused(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    p = write(tmp_path, edit(old, new))
    assert refused(p) == full(p, expected)


# -- 2. wrong types: never coerced (a string is not split into characters) -------------


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('names = ["幼儿园", "托儿所"]', 'names = "幼儿园"',
         f"{CAT}, rule 2: names must be a list of strings, e.g. names = [\"幼儿园\"]; got a string ('幼儿园')."),
        ('names = ["幼儿园", "托儿所"]', 'names = ["幼儿园", 3]',
         f"{CAT}, rule 2: names must be a list of strings, e.g. names = [\"幼儿园\"]; got a list holding an integer (3)."),
        ('exclude_names = ["停车场"]', 'exclude_names = "停车场"',
         f"{CAT}, rule 2: exclude_names must be a list of strings, e.g. exclude_names = [\"停车场\"]; got a string ('停车场')."),
        ('tags = ["amenity=kindergarten"]', 'tags = "amenity=kindergarten"',
         f"{CAT}, rule 1: tags must be a list of strings, e.g. tags = [\"amenity=kindergarten\"]; got a string ('amenity=kindergarten')."),
        ("max_distance_m = 300", 'max_distance_m = "300"',
         f"{CAT}: max_distance_m must be a number of metres, e.g. max_distance_m = 300; got a string ('300')."),
        ("max_distance_m = 300", "max_distance_m = true",
         f"{CAT}: max_distance_m must be a number of metres, e.g. max_distance_m = 300; got a boolean (true)."),
        ("tier = 5", "tier = 5.5",
         f"{CAT}: tier must be a whole number of minutes, e.g. tier = 5; got a float (5.5)."),
        ("tier = 5", 'tier = 5\nin_life_circle = "no"',
         f"{CAT}: in_life_circle must be true or false, e.g. in_life_circle = false; got a string ('no')."),
        ('name_zh = "幼儿园"', "name_zh = 5",
         f"{CAT}: name_zh must be a string, e.g. name_zh = \"幼儿园\"; got an integer (5)."),
        ("tier = 5", "tier = 5\nbasis = 2018-01-01",
         f"{CAT}: basis must be a string, e.g. basis = \"GB 50180-2018\"; got a date (2018-01-01)."),
        ('id = "kindergarten"', "id = 7",
         "[[category]] #1: id must be a string, e.g. id = \"kindergarten\"; got an integer (7)."),
        ("rules = [", 'rules = "amenity=kindergarten"\nxrules = [',
         f"{CAT}: rules must be a list of tables, e.g. rules = [ {{ tags = [\"amenity=kindergarten\"] }} ]; got a string ('amenity=kindergarten')."),
        (("[meta]", "[[category]]"), ("category = 3\n[meta]", "[[other]]"),
         "category must be a list of tables, e.g. [[category]] id = \"kindergarten\"; got an integer (3)."),
    ],
)  # fmt: skip
def test_wrong_types_are_refused_not_coerced(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    p = write(tmp_path, edit(old, new))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogueWarning)  # the renamed keys above
        with pytest.raises(CategoryError) as info:
            load_catalogue(p)
    assert str(info.value) == full(p, expected)


# -- 3. unknown keys: a warning naming the closest known key, not an error -------------


def test_unknown_keys_warn_with_the_closest_known_key(tmp_path: Path) -> None:
    text = (
        GOOD.replace("walk_speed_mps = 1.1", "walk_speed_mps = 1.1\nwalking_speed = 1.0")
        .replace('status = "checked" }', 'status = "checked", distanse_m = 1 }')
        .replace("max_distance_m = 300", "max_distance_m = 300\nmax_distanse_m = 200\ncolour = 1")
        .replace('exclude_names = ["停车场"]', 'exclude = ["停车场"]')
        + "\n[comment]\nx = 1\n"
    )
    p = write(tmp_path, text)
    with pytest.warns(CatalogueWarning) as rec:
        cat = load_catalogue(p)
    got = [str(w.message) for w in rec]
    assert got == [
        f"Catalogue {p}: unknown key 'comment' is ignored; known keys: meta, tiers, category.",
        f"Catalogue {p}, [meta]: unknown key 'walking_speed' is ignored; "
        "did you mean 'walk_speed_mps'?",
        f"Catalogue {p}, [tiers.5]: unknown key 'distanse_m' is ignored; did you mean 'distance_m'?",
        f"Catalogue {p}, {CAT}: unknown key 'max_distanse_m' is ignored; "
        "did you mean 'max_distance_m'?",
        f"Catalogue {p}, {CAT}: unknown key 'colour' is ignored; known keys: id, name_zh, "
        "name_en, tier, max_distance_m, status, basis, in_life_circle, rules.",
        f"Catalogue {p}, {CAT}, rule 2: unknown key 'exclude' is ignored; "
        "did you mean 'exclude_names'?",
    ]
    assert all(w.filename == __file__ for w in rec)  # points at the caller, not gcgeo
    # ignored means ignored: the value the planner meant (200 m) is not used
    assert cat["kindergarten"].max_distance_m == 300.0
    assert cat["kindergarten"].rules[1].exclude_names == ()


def test_a_misspelt_category_table_warns_and_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, GOOD.replace("[[category]]", "[[categories]]"))
    with (
        pytest.warns(CatalogueWarning, match="unknown key 'categories' .*did you mean 'category'"),
        pytest.raises(CategoryError) as info,
    ):
        load_catalogue(p)
    assert str(info.value) == (
        f"Catalogue {p} has no [[category]] entries; add at least one, "
        "as in the default gcgeo/catalogue.toml."
    )


# -- 4. encodings: GBK/GB18030 and BOMs load; undecodable bytes are one sentence -------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_gbk_and_bom_catalogues_equal_the_utf8_one(tmp_path: Path, encoding: str) -> None:
    text = default_text()
    p = tmp_path / f"{encoding}.toml"
    p.write_bytes(text.encode(encoding))
    assert p.read_bytes() != text.encode("utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same_content(load_catalogue(p), load_catalogue())


def test_undecodable_bytes_are_refused_with_the_line(tmp_path: Path) -> None:
    p = tmp_path / "binary.toml"
    p.write_bytes(GOOD.encode("utf-8").replace(b"[[category]]", b"[[category]]\n\xff\xfe\xff", 1))
    line = GOOD[: GOOD.index("[[category]]")].count("\n") + 2
    assert refused(p) == (
        f"Catalogue {p} is neither UTF-8 nor GBK text (undecodable byte at line {line}); "
        "save it as UTF-8."
    )


def test_broken_toml_is_refused_with_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, edit("tier = 5", "tier = "))
    line = GOOD[: GOOD.index("tier = 5")].count("\n") + 1
    assert refused(p) == (
        f"Catalogue {p} is not valid TOML: Invalid value (at line {line}, column 8); "
        "fix the file there."
    )


@pytest.mark.parametrize(
    "tail,expected",
    [
        ("basis = 1" + "0" * 5000,
         "not valid TOML (Exceeds the limit (4300 digits) for integer string conversion: "
         "value has 5001 digits); fix the file."),
        ("basis = " + "[" * 5000 + "]" * 5000,
         "not valid TOML (arrays or tables nested too deeply); fix the file."),
    ],
)  # fmt: skip
def test_hostile_toml_that_breaks_the_parser_is_refused(
    tmp_path: Path, tail: str, expected: str
) -> None:
    p = write(tmp_path, GOOD + tail + "\n")
    assert refused(p) == f"Catalogue {p} is {expected}"


def test_wrong_file_passed_as_catalogue(tmp_path: Path) -> None:
    big = tmp_path / "town.osm.pbf"
    with open(big, "wb") as f:
        f.truncate(12 * 1024 * 1024)  # sparse: cheap to create
    assert refused(big) == (
        f"Catalogue {big} is 13 MB, far too big for a catalogue; "
        "pass the TOML catalogue file, not a data file."
    )
    assert refused(tmp_path) == (
        f"Catalogue file {str(tmp_path)!r} does not exist; pass a TOML file like the default "
        "(gcgeo/catalogue.toml)."
    )


# -- 5. [meta] and [tiers] ------------------------------------------------------------


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ("[meta]\n", "meta = 3\n[xmeta]\n",
         "meta must be a table, e.g. [meta] name = \"my catalogue\"; got an integer (3)."),
        ("walk_speed_mps = 1.1", 'walk_speed_mps = "fast"',
         "[meta]: walk_speed_mps must be a number of m/s, e.g. walk_speed_mps = 1.1; got a string ('fast')."),
        ("walk_speed_mps = 1.1", "version = 2026.11",
         "[meta]: version must be a string, e.g. version = \"2026.11\"; got a float (2026.11)."),
        (("[meta]", "[tiers]"), ("tiers = []\n[meta]", "[xtiers]"),
         "tiers must be a table, e.g. [tiers] 5 = { distance_m = 300, name_zh = \"5分钟生活圈\" }; got a list."),
        ("5 = {", "five = {",
         "[tiers]: key 'five' must be a whole number of minutes from 1 to 60, e.g. 5 = { distance_m = 300 }."),
        ("5 = {", "0 = {",
         "[tiers]: key '0' must be a whole number of minutes from 1 to 60, e.g. 5 = { distance_m = 300 }."),
        ("5 = { distance_m = 300, name_zh = \"5分钟生活圈\", status = \"checked\" }", "5 = 300",
         "[tiers]: 5 must be a table, e.g. 5 = { distance_m = 300 }; got an integer (300)."),
        ("distance_m = 300, ", "",
         "[tiers.5]: missing key 'distance_m'; add it, e.g. distance_m = 300."),
        ('status = "checked" }', 'status = "done" }',
         "[tiers.5]: status 'done' must be one of checked, to_confirm, e.g. status = \"checked\"."),
    ],
)  # fmt: skip
def test_bad_meta_and_tiers_are_refused(tmp_path: Path, old: str, new: str, expected: str) -> None:
    p = write(tmp_path, edit(old, new))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogueWarning)  # the renamed tables above
        with pytest.raises(CategoryError) as info:
            load_catalogue(p)
    assert str(info.value) == full(p, expected)


# -- 6. tag rules and name patterns ---------------------------------------------------


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('"amenity=kindergarten"', '"amenity"',
         "rule 1: tag rule 'amenity' must look like 'key=value' or 'key=*', e.g. tags = [\"amenity=kindergarten\"]."),
        ('"amenity=kindergarten"', '"amenity="',
         "rule 1: tag rule 'amenity=' must look like 'key=value' or 'key=*', e.g. tags = [\"amenity=kindergarten\"]."),
        ('"amenity=kindergarten"', '" =school"',
         "rule 1: tag rule ' =school' must look like 'key=value' or 'key=*', e.g. tags = [\"amenity=kindergarten\"]."),
        ('{ tags = ["amenity=kindergarten"] }', "{ tags = [] }",
         "rule 1: a rule needs `tags` or `names`, e.g. { tags = [\"amenity=kindergarten\"] } or { names = [\"幼儿园\"] }."),
        ('{ tags = ["amenity=kindergarten"] }', '"amenity=kindergarten"',
         "rules must be a list of tables, e.g. rules = [ { tags = [\"amenity=kindergarten\"] } ]; got a list holding a string ('amenity=kindergarten')."),
        ('names = ["幼儿园", "托儿所"]', 'names = ["幼儿园", " "]',
         "rule 2: names must not hold an empty string (it would match every name), e.g. names = [\"幼儿园\"]."),
        ('exclude_names = ["停车场"]', 'exclude_names = [""]',
         "rule 2: exclude_names must not hold an empty string (it would match every name), e.g. exclude_names = [\"停车场\"]."),
    ],
)  # fmt: skip
def test_tag_rules_must_have_the_expected_shape(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    p = write(tmp_path, edit(old, new))
    sep = ", " if expected.startswith("rule ") else ": "
    assert refused(p) == f"Catalogue {p}, {CAT}{sep}{expected}"


def test_names_are_substrings_not_regular_expressions(tmp_path: Path) -> None:
    # the catalogue has no regex patterns: names are plain substrings, so a string that
    # is not a valid regex is fine and matches literally
    p = write(tmp_path, edit('"托儿所"', '"(托儿所", "幼.*园"'))
    cat = load_catalogue(p)
    assert cat.classify({"amenity": "school", "name": "阳光(托儿所"}) == ["kindergarten"]
    assert cat.classify({"amenity": "school", "name": "幼小园"}) == []


# -- CLI: one line on stderr, exit code 2, no traceback, no output ----------------------


@pytest.fixture
def cli_inputs(tmp_path: Path) -> tuple[Path, Path]:
    town = hand_grid().write(tmp_path / "town.osm")
    pts = tmp_path / "pts.csv"
    lon, lat = lonlat(50, 190)
    pts.write_text(f"id,lon,lat\nP1,{lon},{lat}\n", encoding="utf-8")
    return town, pts


def cli(command: str, inputs: tuple[Path, Path], catalogue: Path, out: Path):
    town, pts = inputs
    if command == "reach":
        args = ["reach", "--points", str(pts), "--category", "kindergarten"]
    else:
        args = ["coverage", "--categories", "kindergarten", "--origin-rule", "all"]
    args += ["--osm", str(town), "--catalogue", str(catalogue), "--out", str(out)]
    return CliRunner().invoke(main, args)


def assert_one_line_error(r, expected: str, out: Path) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert isinstance(r.exception, SystemExit)  # handled: not an uncaught exception
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert lines == [f"Error: {expected}"], r.output
    assert not out.exists()


@pytest.mark.parametrize(
    "command,text,expected",
    [
        # wrong type
        ("reach", edit('names = ["幼儿园", "托儿所"]', 'names = "幼儿园"'),
         f"{CAT}, rule 2: names must be a list of strings, e.g. names = [\"幼儿园\"]; got a string ('幼儿园')."),
        # non-finite / out of range
        ("coverage", edit("max_distance_m = 300", "max_distance_m = inf"),
         f"{CAT}: max_distance_m must be a finite number of metres, e.g. max_distance_m = 300; got inf."),
        ("reach", edit("tier = 5", "tier = -5"),
         f"{CAT}: tier must be positive (minutes), e.g. tier = 5; got -5."),
        # [meta] / [tiers]
        ("reach", edit("walk_speed_mps = 1.1", "walk_speed_mps = nan"),
         "[meta]: walk_speed_mps must be a finite number of m/s, e.g. walk_speed_mps = 1.1; got nan."),
        ("coverage", edit("5 = {", "five = {"),
         "[tiers]: key 'five' must be a whole number of minutes from 1 to 60, e.g. 5 = { distance_m = 300 }."),
        # tag rule shape
        ("reach", edit('"amenity=kindergarten"', '"amenity"'),
         f"{CAT}, rule 1: tag rule 'amenity' must look like 'key=value' or 'key=*', e.g. tags = [\"amenity=kindergarten\"]."),
    ],
)  # fmt: skip
def test_cli_schema_errors(
    tmp_path: Path, cli_inputs: tuple[Path, Path], command: str, text: str, expected: str
) -> None:
    p = write(tmp_path, text)
    out = tmp_path / "out"
    assert_one_line_error(cli(command, cli_inputs, p, out), f"Catalogue {p}, {expected}", out)


def test_cli_broken_and_undecodable_files(tmp_path: Path, cli_inputs: tuple[Path, Path]) -> None:
    out = tmp_path / "out"
    broken = write(tmp_path, "[[category]\nid = 1\n", "broken.toml")
    assert_one_line_error(
        cli("coverage", cli_inputs, broken, out),
        f"Catalogue {broken} is not valid TOML: Expected ']]' at the end of an array declaration "
        "(at line 1, column 11); fix the file there.",
        out,
    )
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xff")
    assert_one_line_error(
        cli("reach", cli_inputs, binary, out),
        f"Catalogue {binary} is neither UTF-8 nor GBK text (undecodable byte at line 1); "
        "save it as UTF-8.",
        out,
    )
    missing = tmp_path / "nope.toml"
    assert_one_line_error(
        cli("reach", cli_inputs, missing, out),
        f"Catalogue file {str(missing)!r} does not exist; pass a TOML file like the default "
        "(gcgeo/catalogue.toml).",
        out,
    )


def test_cli_gbk_catalogue_runs_and_unknown_key_only_warns(
    tmp_path: Path, cli_inputs: tuple[Path, Path]
) -> None:
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes(edit("tier = 5", "tier = 5\nmax_distanse_m = 200").encode("gbk"))
    out = tmp_path / "reach.csv"
    r = cli("reach", cli_inputs, gbk, out)
    assert r.exit_code == 0, r.output
    # the CLI shows a gcgeo warning as one "Warning: ..." line
    warned = [ln for ln in r.output.splitlines() if ln.startswith("Warning:")]
    assert len(warned) == 1 and re.search(
        r"'max_distanse_m' .*did you mean 'max_distance_m'", warned[0]
    ), r.output
    assert "Traceback" not in r.output and out.exists()
