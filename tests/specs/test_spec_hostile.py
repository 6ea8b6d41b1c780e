"""Spec files are hostile input (they come in through pull requests): none of them may hurt the machine
that validates them, read anything outside the spec directory, or smuggle invisible characters into Moodle."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from spec_tree import CATEGORIES, course_text, line_of, make_tree, only, problems_of, write

from moodle_sync.specs.guard import MAX_ALIASES, MAX_DEPTH, MAX_VALUES
from moodle_sync.specs.load import load_specs

# --- YAML that expands, nests or repeats without end ----------------------------------------------

def billion_laughs(levels: int, width: int) -> str:
    """The classic: each anchor is a list of ``width`` aliases of the one before, ``width ** levels`` in all."""
    lines = ["- key: rot", "  name: Rot", f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_file_is_refused_while_it_is_read(tmp_path: Path) -> None:
    text = billion_laughs(9, 9)  # 9 ** 10 values from under 1 KB; unguarded, minutes and gigabytes
    assert len(text) < 2048 and text.count("*") > MAX_ALIASES
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", text)
    problem = only(problems_of(root))
    assert problem.file.endswith("categories.yaml")
    assert problem.line == 3 + (MAX_ALIASES // 9) + 1  # the line of the alias over the limit
    assert f"more than {MAX_ALIASES} YAML aliases" in problem.message and "write the values out" in problem.hint


def test_few_aliases_that_expand_past_the_limit_are_refused_before_they_expand(tmp_path: Path) -> None:
    text = billion_laughs(17, 2)  # 34 aliases, 2 ** 18 values
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", text)
    problem = only(problems_of(root))
    assert problem.line == line_of(text, "l1:")  # the first alias
    assert f"expand it to more than {MAX_VALUES:,} keys and values" in problem.message


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    text = CATEGORIES + "- key: loop\n  name: Loop\n  parent: &p [rot, *p]\n"
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", text)
    problem = only(problems_of(root))
    assert (problem.line, problem.message) == (
        line_of(text, "parent: &p"), "a YAML alias (*name) refers to the list or mapping it is inside of")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", CATEGORIES.replace("name: Rot", "name: &n Rot").replace("name: Barn", "name: *n"))
    assert {c.name for c in load_specs(root).categories.values()} == {"Rot"}


@pytest.mark.parametrize("nested", [
    "[" * 20_000 + "]" * 20_000,
    "{a: " * 20_000 + "b" + "}" * 20_000,
    "\n" + "".join("  " * (i + 2) + "-\n" for i in range(MAX_DEPTH + 5)),
], ids=["flow-lists", "flow-mappings", "block-lists"])
def test_deep_nesting_is_a_spec_error_with_its_line_never_a_recursion_error(tmp_path: Path, nested: str) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", CATEGORIES + "- key: djup\n  name: " + nested + "\n")
    problem = only(problems_of(root))
    assert problem.file.endswith("categories.yaml") and problem.line is not None
    assert problem.line >= line_of(CATEGORIES, "parent") + 2
    assert f"nested more than {MAX_DEPTH} levels deep" in problem.message


def test_a_file_over_1_mb_is_not_read(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", CATEGORIES + "# " + "x" * 1_000_000 + "\n")  # valid YAML: a long comment
    problem = only(problems_of(root))
    assert problem.file.endswith("categories.yaml")
    assert "larger than 1 MB" in problem.message and "was not read" in problem.message


def test_a_file_of_too_many_values_is_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", CATEGORIES + "- key: lang\n  name: [" + "a, " * MAX_VALUES + "]\n")
    problem = only(problems_of(root))
    assert f"more than {MAX_VALUES:,} keys and values" in problem.message


# --- nothing outside the spec directory is read ---------------------------------------------------

SECRET = "root:x:0:0:SECRET-b7c1e9:/root:/bin/bash\n"


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_course_file_linking_outside_is_named_and_never_read(tmp_path: Path, target: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    root = make_tree(tmp_path / "specs")
    link = root / "courses" / "stold.yaml"
    link.symlink_to(secret if target == "absolute" else Path("..", "..", "secret.txt"))
    problem = only(problems_of(root))
    assert problem.file.endswith("courses/stold.yaml")
    assert "leads outside the spec directory" in problem.message and "SECRET" not in str(problem)


@pytest.mark.parametrize("name", ["categories.yaml", "target_groups.yaml", "enrolment_rules.yaml"])
def test_a_top_level_file_linking_outside_is_refused(tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    root = make_tree(tmp_path / "specs")
    write(outside, name, (root / name).read_text(encoding="utf-8") if name != "enrolment_rules.yaml" else "[]\n")
    (root / name).unlink(missing_ok=True)
    (root / name).symlink_to(outside / name)
    problem = only(problems_of(root))
    assert problem.file.endswith(name) and "leads outside the spec directory" in problem.message


def test_a_courses_directory_linking_outside_is_refused_and_nothing_in_it_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere, "a.yaml", course_text())
    write(elsewhere, "b.yaml", SECRET)
    root = make_tree(tmp_path / "specs")
    (root / "courses" / "a.yaml").unlink()
    (root / "courses").rmdir()
    (root / "courses").symlink_to(elsewhere, target_is_directory=True)
    problem = only(problems_of(root))
    assert problem.file.endswith("courses") and "leads outside the spec directory" in problem.message


def test_a_hard_link_in_the_spec_directory_is_named_and_never_read(tmp_path: Path) -> None:
    """A hard link makes any file of the same file system (a key, /etc/shadow on a CI runner) a spec file."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    root = make_tree(tmp_path / "specs")
    os.link(secret, root / "courses" / "stold.yaml")
    problem = only(problems_of(root))
    assert problem.file.endswith("courses/stold.yaml")
    assert "has 2 hard links" in problem.message and "SECRET" not in str(problem)
    assert "copy the file" in problem.hint


def test_a_hard_link_reached_through_a_symbolic_link_inside_is_refused_too(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    root = make_tree(tmp_path / "specs")
    os.link(secret, root / "gömd.yaml")
    (root / "courses" / "b.yaml").symlink_to(Path("..", "gömd.yaml"))
    problem = only(problems_of(root))
    assert problem.file.endswith("courses/b.yaml") and "hard links" in problem.message


@pytest.mark.parametrize("name", ["courses/rör.yaml", "categories.yaml"])
def test_a_fifo_in_the_spec_directory_is_named_and_never_opened(tmp_path: Path, name: str) -> None:
    """Opening a FIFO to read it waits for a writer: validate would hang in CI until it timed out."""
    root = make_tree(tmp_path / "specs")
    (root / name).unlink(missing_ok=True)
    os.mkfifo(root / name)
    problem = only(problems_of(root))
    assert problem.file.endswith(name) and "not a" in problem.message and "file" in problem.message


def test_links_inside_the_spec_directory_are_fine(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "shared/b.yaml", course_text(key="kurs-b", shortname="KB"))
    (root / "courses" / "b.yaml").symlink_to(Path("..", "shared", "b.yaml"))
    assert set(load_specs(root).courses) == {"kurs-a", "kurs-b"}


# --- invisible and direction-changing characters --------------------------------------------------

HIDDEN = {
    "zero-width space": "\\u200B", "zero-width non-joiner": "\\u200C", "zero-width joiner": "\\u200D",
    "word joiner": "\\u2060", "byte-order mark": "\\uFEFF", "right-to-left override": "\\u202E",
    "left-to-right embedding": "\\u202A", "left-to-right isolate": "\\u2066", "pop isolate": "\\u2069",
    "right-to-left mark": "\\u200F", "soft hyphen": "\\u00AD", "hangul filler": "\\u3164",
    "hangul choseong filler": "\\u115F", "hangul jungseong filler": "\\u1160", "halfwidth filler": "\\uFFA0",
    "NUL": "\\0", "escape": "\\e", "bell": "\\a", "C1 control": "\\x85",
}


@pytest.mark.parametrize("escape", HIDDEN.values(), ids=[name.replace(" ", "-") for name in HIDDEN])
def test_a_name_with_an_invisible_character_is_refused_at_its_line(tmp_path: Path, escape: str) -> None:
    text = CATEGORIES.replace("name: Barn", f'name: "Ba{escape}rn"')
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", text)
    problem = only(problems_of(root))
    assert (problem.file.endswith("categories.yaml"), problem.line, problem.loc) == (
        True, line_of(text, "name: \"Ba"), "categories[1].name")
    assert "contains" in problem.message and "at character 3" in problem.message


@pytest.mark.parametrize(("file", "text", "start"), [
    ("courses/a.yaml", course_text(title='"Kurs \\u202eA"'), "title:"),
    ("courses/a.yaml", course_text(summary='"<p>Om\\u200bkurs</p>"'), "summary:"),
    ("courses/a.yaml", course_text(delivery="blended", extra=(
        "sessions:\n  - key: falun-1\n    date: 2026-03-10\n    place: \"Falun\\u00ad\"\n    county: W\n"
        "    capacity: 30\n")), "place:"),
    ("target_groups.yaml", "- key: bvc\n  name: BVC\n  sector: skola\n  description: \"BVC\\u2066x\"\n"
                           "- key: socialsekreterare\n  name: Soc\n  sector: skola\n", "description:"),
    ("enrolment_rules.yaml", "- key: r\n  course: kurs-a\n  target_groups: [bvc]\n  role: \"student\\u200d\"\n",
     "role:"),
    ("categories.yaml", CATEGORIES + "  \"parent\\u200b\": rot\n", '"parent'),
], ids=["course-title", "course-summary", "session-place", "group-description", "rule-role", "key"])
def test_every_text_of_every_file_is_checked(tmp_path: Path, file: str, text: str, start: str) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, file, text)
    problems = problems_of(root)
    assert [p.line for p in problems if p.file.endswith(file) and "contains" in p.message] == [line_of(text, start)]


def test_a_raw_nul_byte_in_a_file_is_reported_with_its_line(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "categories.yaml", CATEGORIES.replace("name: Barn", "name: Ba\x00rn").encode())
    problem = only(problems_of(root))
    assert problem.line == line_of(CATEGORIES, "name: Barn")
    assert "NUL character (U+0000) at character 11" in problem.message


def test_tabs_and_line_breaks_in_text_are_fine_and_a_bom_at_the_start_too(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "courses/a.yaml", "\ufeff" + course_text(summary='"<p>Om\\tkurs A</p>\\n<p>Mer</p>"'))
    assert load_specs(root).courses["kurs-a"].summary == "<p>Om\tkurs A</p>\n<p>Mer</p>"


def test_text_is_kept_in_nfc_however_it_was_written(tmp_path: Path) -> None:
    composed = "Våld i nära relationer"
    root = make_tree(tmp_path / "specs")
    write(root, "courses/a.yaml", course_text(title=unicodedata.normalize("NFD", composed)))
    nfd_specs = load_specs(root)
    assert nfd_specs.courses["kurs-a"].title == composed
    write(root, "courses/a.yaml", course_text(title=composed))
    assert load_specs(root).digest == nfd_specs.digest


def test_the_same_short_name_in_nfc_and_nfd_is_one_short_name(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "specs")
    write(root, "courses/a.yaml", course_text(shortname="Hälsa"))
    write(root, "courses/b.yaml", course_text(key="kurs-b", shortname=unicodedata.normalize("NFD", "Hälsa")))
    problem = only(problems_of(root))
    assert problem.file.endswith("b.yaml") and "also used by course 'kurs-a'" in problem.message
