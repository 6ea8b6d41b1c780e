"""Every kind of spec problem is reported with the right file, line, loc and a hint — all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_tree import (
    CATEGORIES,
    TARGET_GROUPS,
    at,
    course_text,
    line_of,
    make_tree,
    only,
    problems_of,
    write,
)

from moodle_sync.errors import SpecError
from moodle_sync.specs.load import load_specs


def test_the_valid_tree_loads(spec_root: Path) -> None:
    specs = load_specs(spec_root)
    assert list(specs.courses) == ["kurs-a"]
    assert set(specs.categories) == {"rot", "barn"}
    assert set(specs.target_groups) == {"socialsekreterare", "bvc"}


# --- one field at a time -------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "message", "hint"), [
    ("version", "v2", "'v2' is not a semantic version", "MAJOR.MINOR.PATCH"),
    ("version", "1.2", "1.2 is not a semantic version", 'quote it if YAML reads it as a number'),
    ("version", "01.2.3", "'01.2.3' is not a semantic version", "e.g. 1.2.0"),
    ("key", "Kurs A", "'Kurs A' is not a valid key", "lowercase a-z"),
    ("category", "Barn", "'Barn' is not a valid key", "categories.yaml"),
    ("start_date", "15/1/2024", "'15/1/2024' is not a date in the form YYYY-MM-DD", "YYYY-MM-DD"),
    ("start_date", "2024-13-01", "'2024-13-01' is not a real calendar date", "YYYY-MM-DD"),
    ("start_date", "2024-09-01 10:00:00", "has a time of day", "YYYY-MM-DD"),
    ("start_date", "1700000000", "is not a date in the form YYYY-MM-DD", "YYYY-MM-DD"),
    ("sections", "53", "53 is more than 52", "0 to 52"),
    ("sections", "fyra", "'fyra' is not a whole number", "0 to 52"),
    ("sections", "true", "True is not a whole number", "0 to 52"),
    ("fee_sek", "-100", "-100 is less than 0", "free of charge"),
    ("delivery", "online", "'online' is not one of 'web' or 'blended'", "blended"),
    ("format", "grid", "'grid' is not one of", "topics"),
    ("language", "Svenska", "'Svenska' is not a Moodle language code", "sv or en"),
    ("visible", "yes", "'yes' is not true or false", "true or false"),
    ("title", "'   '", "title is empty", "full name"),
    ("title", "x" * 255, "title is 255 characters long, more than 254", "254"),
    ("shortname", "KA-v1", "ends in a version", "-v<major>"),
    ("title", "'Barn <18 år'", "Moodle strips as an HTML tag; put a space after '<'", "full name"),
    ("shortname", "'KA<b>'", "Moodle strips as an HTML tag", "-v<major>"),
    # a title is one line in Moodle, and never starts like a spreadsheet formula
    ('title', '"Kurs\\u2028A"', "U+2028 LINE SEPARATOR) at character 5; Moodle shows a name or title on one line",
     "full name"),
    ('title', '"Kurs\\u2029A"', "U+2029 PARAGRAPH SEPARATOR", "full name"),
    ('title', '"Kurs\\t\\nA"', "contains a tab (U+0009) at character 5", "full name"),
    ('title', '"Kurs A\\nfortsättning"', "contains a line break (U+000A) at character 7", "full name"),
    ("title", "'= 1+1'", "starts like a spreadsheet formula", "full name"),
    ("title", "'+ 1'", "starts like a spreadsheet formula", "full name"),
    ("title", "'- 2'", "starts like a spreadsheet formula", "full name"),
    ("title", "'@ SUM(1)'", "starts like a spreadsheet formula", "full name"),
    ('title', '"\\u00a0=1+1"', "starts like a spreadsheet formula", "full name"),
    ("provider", "'=HYPERLINK(\"http://x\")'", "starts like a spreadsheet formula", "provides"),
    ("shortname", "'-KA'", "starts like a spreadsheet formula", "-v<major>"),
    ("template", "''", "template is empty", "template course"),
])
def test_a_bad_value_is_reported_at_its_line(tmp_path: Path, field: str, value: str, message: str,
                                             hint: str) -> None:
    root = make_tree(tmp_path / "specs")
    text = course_text({field: value})
    write(root, "courses/a.yaml", text)
    problem = only(problems_of(root))
    assert problem.file.endswith("courses/a.yaml")
    assert problem.line == line_of(text, f"{field}:")
    assert problem.loc == field
    assert message in problem.message
    assert hint in problem.hint


def test_end_date_before_start_date_is_reported_at_end_date(spec_root: Path) -> None:
    text = course_text(extra="end_date: 2024-08-31\n")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "end_date:"), "end_date")
    assert "end_date 2024-08-31 is not after start_date 2024-09-01" in problem.message


def test_a_missing_key_is_reported_at_the_start_of_the_mapping(spec_root: Path) -> None:
    text = "# Kurs A\n# (kommentar)\n" + course_text(drop=("title",))
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (3, "title")
    assert problem.message == "missing required key 'title'"
    assert problem.hint.startswith("add `title: ")


def test_an_unknown_key_is_reported_at_its_line_with_a_suggestion(spec_root: Path) -> None:
    text = course_text(extra="verison: 2.0.0\n")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "verison:"), "verison")
    assert problem.message == "unknown key 'verison' in a course"
    assert "did you mean 'version'?" in problem.hint
    assert "allowed keys: key, version, title" in problem.hint


def test_an_empty_target_group_list_is_reported(spec_root: Path) -> None:
    text = course_text(groups=()).replace("target_groups:\n", "target_groups: []\n")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc, problem.message) == (line_of(text, "target_groups:"), "target_groups",
                                                            "target_groups is empty")


def test_a_repeated_target_group_is_reported_at_the_repetition(spec_root: Path) -> None:
    text = course_text(groups=("bvc", "socialsekreterare", "bvc"))
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "- bvc", nth=2), "target_groups[2]")
    assert "'bvc' is listed twice" in problem.message


# --- YAML and file shape -------------------------------------------------------------------------

def test_a_yaml_syntax_error_carries_the_line_ruamel_reports(spec_root: Path) -> None:
    text = course_text(title="[Kurs A")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/a.yaml")
    assert problem.message.startswith("YAML syntax error: ")
    # the flow sequence opened on the title line is found broken on the next line
    assert problem.line == line_of(text, "shortname:")
    assert f"started on line {line_of(text, 'title:')}" in problem.message


def test_a_tab_for_indentation_is_a_yaml_error_with_its_line(spec_root: Path) -> None:
    text = course_text().replace("  - bvc", "\t- bvc")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.message.startswith("YAML syntax error")
    assert problem.line == line_of(text, "- bvc")


def test_a_key_written_twice_is_a_yaml_error(spec_root: Path) -> None:
    text = course_text(extra="title: Kurs B\n")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert "duplicate key" in problem.message
    assert problem.line == line_of(text, "title:", nth=2)


@pytest.mark.parametrize(("text", "what"), [
    ("", "an empty document"),
    ("# bara en kommentar\n", "an empty document"),
    ("- key: kurs-a\n", "a list"),
    ("kurs-a\n", "the value 'kurs-a'"),
])
def test_a_course_file_that_is_not_a_mapping(spec_root: Path, text: str, what: str) -> None:
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/a.yaml")
    assert f"should hold one course as a mapping of keys (key: …, version: …), not {what}" in problem.message


def test_a_yaml_file_that_is_not_a_course_at_all_is_one_problem(spec_root: Path) -> None:
    write(spec_root, "courses/defaults.yaml", "# standardvärden\nspråk: sv\nformat_: topics\n")
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.message) == (
        2, "no course keys here (språk, format_); courses/ holds only course specs")


def test_a_yaml_tag_is_shown_in_the_problem(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", course_text(title="!rubrik Kurs A"))
    assert only(problems_of(spec_root)).message == "!rubrik 'Kurs A' is not text"
    write(spec_root, "courses/a.yaml", course_text(title="!!str 2024"))
    assert load_specs(spec_root).courses["kurs-a"].title == "2024"


def test_a_file_that_is_not_utf8(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", course_text(title="Kurs Å").encode("latin-1"))
    problem = only(problems_of(spec_root))
    assert "not UTF-8" in problem.message


def test_categories_must_be_a_list_of_mappings(spec_root: Path) -> None:
    write(spec_root, "categories.yaml", CATEGORIES + "- bara text\n")
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("categories.yaml")
    assert (problem.line, problem.loc) == (line_of(CATEGORIES + "- bara text\n", "- bara text"), "categories[2]")

    write(spec_root, "categories.yaml", "rot:\n  name: Rot\n")
    problem = only(problems_of(spec_root))
    assert "should be a list of categories" in problem.message


def test_a_problem_in_a_list_file_names_the_item(spec_root: Path) -> None:
    text = TARGET_GROUPS + "- key: skola\n  name: Skola\n  sector: skolan\n"
    write(spec_root, "target_groups.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("target_groups.yaml")
    assert (problem.line, problem.loc) == (line_of(text, "sector: skolan"), "target_groups[2].sector")
    assert "'skolan' is not one of" in problem.message


def test_an_unknown_key_in_a_category(spec_root: Path) -> None:
    text = CATEGORIES + "- key: ny\n  nmae: Ny\n"
    write(spec_root, "categories.yaml", text)
    problems = problems_of(spec_root)
    unknown = only(at(problems, "categories.yaml", line_of(text, "nmae:")))
    assert unknown.loc == "categories[2].nmae"
    assert "did you mean 'name'?" in unknown.hint
    missing = only(at(problems, "categories.yaml", line_of(text, "- key: ny")))
    assert missing.message == "missing required key 'name'"


# --- missing pieces ------------------------------------------------------------------------------

@pytest.mark.parametrize(("remove", "message"), [
    ("categories.yaml", "categories.yaml is missing"),
    ("target_groups.yaml", "target_groups.yaml is missing"),
    ("courses", "the courses/ directory is missing"),
])
def test_a_missing_file_is_named(spec_root: Path, remove: str, message: str) -> None:
    path = spec_root / remove
    if path.is_dir():
        (path / "a.yaml").unlink()
        path.rmdir()
    else:
        path.unlink()
    problems = problems_of(spec_root)
    assert [p.message for p in problems] == [message]
    assert problems[0].file.endswith(remove)
    # a missing list file does not also make every reference to it a problem


def test_an_empty_courses_directory_is_a_problem(spec_root: Path) -> None:
    (spec_root / "courses" / "a.yaml").unlink()
    assert only(problems_of(spec_root)).message == "no course specs in courses/"


def test_a_missing_root_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_specs(tmp_path / "finns-inte")
    problem = only(info.value.problems)
    assert problem.message == "the spec directory does not exist"
    assert problem.file.endswith("finns-inte")


def test_a_root_one_level_too_high_gets_a_hint(tmp_path: Path) -> None:
    make_tree(tmp_path / "course_specs")
    with pytest.raises(SpecError) as info:
        load_specs(tmp_path)
    problem = only(info.value.problems)
    assert problem.message == "this directory has no categories.yaml, target_groups.yaml and courses/"
    assert problem.hint.startswith("did you mean ") and problem.hint.endswith("course_specs?")


def test_a_file_as_root(spec_root: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_specs(spec_root / "categories.yaml")
    assert only(info.value.problems).message == "the spec directory is not a directory"


# --- references across files ---------------------------------------------------------------------

def test_an_unknown_category_is_reported_at_the_category_line(spec_root: Path) -> None:
    text = course_text(category="bar")
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "category:"), "category")
    assert problem.message == "course 'kurs-a': category 'bar' is not defined in categories.yaml"
    assert "did you mean 'barn'?" in problem.hint
    assert "known categories: barn, rot" in problem.hint


def test_an_unknown_target_group_is_reported_at_its_item(spec_root: Path) -> None:
    text = course_text(groups=("socialsekreterare", "bvcc"))
    write(spec_root, "courses/a.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "- bvcc"), "target_groups[1]")
    assert "target group 'bvcc' is not defined in target_groups.yaml" in problem.message
    assert "did you mean 'bvc'?" in problem.hint


def test_duplicate_course_keys_in_two_files(spec_root: Path) -> None:
    text = "# en kopia\n" + course_text(shortname="KB")
    write(spec_root, "courses/b.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/b.yaml")
    assert (problem.line, problem.loc) == (2, "key")
    assert "course key 'kurs-a' is already used at " in problem.message
    assert problem.message.endswith("courses/a.yaml:1")


def test_duplicate_moodle_shortnames_in_two_specs(spec_root: Path) -> None:
    text = course_text(key="kurs-b", shortname="ka", version="1.0.0")
    write(spec_root, "courses/b.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/b.yaml")
    assert (problem.line, problem.loc) == (line_of(text, "shortname:"), "shortname")
    assert "Moodle short name 'ka-v1' is also used by course 'kurs-a'" in problem.message


def test_the_same_shortname_in_another_major_version_is_fine(spec_root: Path) -> None:
    write(spec_root, "courses/b.yaml", course_text(key="kurs-b", version="2.0.0"))
    specs = load_specs(spec_root)
    assert {c.moodle_shortname for c in specs.courses.values()} == {"KA-v1", "KA-v2"}


def test_file_names_need_not_match_keys(spec_root: Path) -> None:
    (spec_root / "courses" / "a.yaml").rename(spec_root / "courses" / "något-annat.yml")
    assert list(load_specs(spec_root).courses) == ["kurs-a"]


def test_an_unknown_parent_category(spec_root: Path) -> None:
    text = CATEGORIES + "- key: ny\n  name: Ny\n  parent: rott\n"
    write(spec_root, "categories.yaml", text)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "parent: rott"), "categories[2].parent")
    assert problem.message == "category 'ny': parent 'rott' is not a category key in this file"
    assert "did you mean 'rot'?" in problem.hint


@pytest.mark.parametrize("cycle", [
    "- key: a\n  name: A\n  parent: a\n",
    "- key: a\n  name: A\n  parent: b\n- key: b\n  name: B\n  parent: a\n",
    "- key: a\n  name: A\n  parent: c\n- key: b\n  name: B\n  parent: a\n- key: c\n  name: C\n  parent: b\n",
])
def test_a_parent_cycle_is_reported_once(spec_root: Path, cycle: str) -> None:
    text = CATEGORIES + cycle
    write(spec_root, "categories.yaml", text)
    problem = only(problems_of(spec_root))
    assert problem.message.startswith("categories form a cycle: a → ")
    assert problem.message.endswith(" → a")
    assert problem.line == line_of(text, "parent:", nth=2)  # the first cycle member's parent line


def test_a_chain_into_a_cycle_reports_only_the_cycle(spec_root: Path) -> None:
    text = CATEGORIES + ("- key: a\n  name: A\n  parent: b\n- key: b\n  name: B\n  parent: c\n"
                         "- key: c\n  name: C\n  parent: b\n")
    write(spec_root, "categories.yaml", text)
    assert only(problems_of(spec_root)).message == "categories form a cycle: b → c → b"


def test_duplicate_category_and_target_group_keys(spec_root: Path) -> None:
    cats = CATEGORIES + "- key: barn\n  name: Barn igen\n"
    groups = TARGET_GROUPS + "- key: bvc\n  name: BVC igen\n  sector: halso-och-sjukvard\n"
    write(spec_root, "categories.yaml", cats)
    write(spec_root, "target_groups.yaml", groups)
    problems = problems_of(spec_root)
    assert len(problems) == 2
    cat = only(at(problems, "categories.yaml", line_of(cats, "- key: barn", nth=2)))
    assert cat.message.startswith("category key 'barn' is already used at ")
    assert cat.message.endswith(f"categories.yaml:{line_of(cats, '- key: barn')}")
    group = only(at(problems, "target_groups.yaml", line_of(groups, "- key: bvc", nth=2)))
    assert group.message.startswith("target group key 'bvc' is already used at ")


def test_a_broken_categories_file_does_not_flood_courses_with_unknown_categories(spec_root: Path) -> None:
    write(spec_root, "categories.yaml", "- key: rot\n  name: [Rot\n")
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("categories.yaml")


# --- all at once ---------------------------------------------------------------------------------

def test_several_problems_in_several_files_are_all_reported_at_once(spec_root: Path) -> None:
    a = course_text(version="v2", category="okand")
    b = course_text(key="kurs-b", shortname="KB", drop=("summary",), groups=("bvc", "skola"))
    c = "key: kurs-c\ntitle: [oavslutad\n"
    cats = CATEGORIES + "- key: ny\n  name: Ny\n  parent: saknas\n- key: tom\n  namn: Tom\n"
    groups = TARGET_GROUPS + "- key: Skola\n  name: Skola\n  sector: skola\n"
    write(spec_root, "courses/a.yaml", a)
    write(spec_root, "courses/b.yaml", b)
    write(spec_root, "courses/c.yaml", c)
    write(spec_root, "categories.yaml", cats)
    write(spec_root, "target_groups.yaml", groups)

    with pytest.raises(SpecError) as info:
        load_specs(spec_root)
    got = {(p.file.rsplit("specs/", 1)[1], p.line, p.loc) for p in info.value.problems}
    assert got == {
        ("courses/a.yaml", line_of(a, "version:"), "version"),
        ("courses/a.yaml", line_of(a, "category:"), "category"),
        ("courses/b.yaml", 1, "summary"),
        ("courses/b.yaml", line_of(b, "- skola"), "target_groups[1]"),
        ("courses/c.yaml", 3, ""),
        ("categories.yaml", line_of(cats, "parent: saknas"), "categories[2].parent"),
        ("categories.yaml", line_of(cats, "- key: tom"), "categories[3].name"),
        ("categories.yaml", line_of(cats, "namn: Tom"), "categories[3].namn"),
        ("target_groups.yaml", line_of(groups, "- key: Skola"), "target_groups[2].key"),
    }
    # sorted by file, then line; the message says how many
    ordered = [(p.file, p.line or 0) for p in info.value.problems]
    assert ordered == sorted(ordered)
    assert str(info.value).startswith("9 problems in the specs:\n")


def test_problems_read_as_standalone_lines_relative_to_the_working_directory(
        spec_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(spec_root, "courses/a.yaml", course_text(version="v2"))
    monkeypatch.chdir(spec_root.parent)
    with pytest.raises(SpecError) as info:
        load_specs("specs")
    assert str(only(info.value.problems)).startswith(
        "specs/courses/a.yaml:2: [version] 'v2' is not a semantic version\n    hint: use MAJOR.MINOR.PATCH")
    # also when the root is given as an absolute path inside the working directory
    with pytest.raises(SpecError) as info:
        load_specs(spec_root)
    assert info.value.problems[0].file == "specs/courses/a.yaml"
