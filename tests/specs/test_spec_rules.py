"""Enrolment rules: the optional enrolment_rules.yaml, its checks against courses and target groups,
Moodle enrolment times, the refresher policy and the digest."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from spec_tree import (
    RULES,
    TARGET_GROUPS,
    at,
    course_text,
    line_of,
    only,
    problems_of,
    rule_text,
    write,
)

from moodle_sync.specs.fields import add_months
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.models import EnrolmentRule
from moodle_sync.specs.source import field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet, spec_digest

CET = datetime.timezone(datetime.timedelta(hours=1))
CEST = datetime.timezone(datetime.timedelta(hours=2))
RULES_FILE = "enrolment_rules.yaml"


def rule(**changes: Any) -> EnrolmentRule:
    fields: dict[str, Any] = {"key": "r", "course": "kurs-a", "target_groups": ["socialsekreterare"]}
    fields.update(changes)
    return EnrolmentRule.model_validate(fields)


def with_rules(root: Path, text: str = RULES) -> str:
    write(root, RULES_FILE, text)
    return text


# --- loading -------------------------------------------------------------------------------------

def test_rules_load_with_their_values_and_defaults(spec_root: Path) -> None:
    with_rules(spec_root)
    specs = load_specs(spec_root)
    assert list(specs.rules) == ["kurs-a-soc", "kurs-a-bvc"]
    soc, bvc = specs.rules["kurs-a-soc"], specs.rules["kurs-a-bvc"]
    assert (soc.course, soc.target_groups, soc.role, soc.requirement, soc.window_start, soc.window_end,
            soc.new_staff_deadline_days, soc.refresher_months, soc.require_new_major) == (
        "kurs-a", ("socialsekreterare",), "student", "required", None, None, 90, 36, False)
    assert soc.required and not bvc.required
    assert (bvc.role, bvc.requirement, bvc.window_start, bvc.window_end, bvc.require_new_major) == (
        "editingteacher", "recommended", datetime.date(2025, 1, 1), datetime.date(2025, 7, 1), True)


@pytest.mark.parametrize("text", [None, "", "# inga regler än\n", "[]\n"])
def test_a_missing_or_empty_rules_file_means_no_rules(spec_root: Path, text: str | None) -> None:
    if text is not None:
        write(spec_root, RULES_FILE, text)
    specs = load_specs(spec_root)
    assert specs.rules == {}
    assert specs.rules_for_course("kurs-a") == [] and specs.courses_for_group("bvc") == []


def test_the_helpers_find_rules_by_course_and_courses_by_group(spec_root: Path) -> None:
    write(spec_root, "courses/b.yaml", course_text(key="kurs-b", shortname="KB"))
    with_rules(spec_root, RULES + rule_text("kurs-b-soc", course="kurs-b"))
    specs = load_specs(spec_root)
    assert [r.key for r in specs.rules_for_course("kurs-a")] == ["kurs-a-bvc", "kurs-a-soc"]
    assert specs.courses_for_group("socialsekreterare") == ["kurs-a", "kurs-b"]
    assert specs.courses_for_group("bvc") == ["kurs-a"]
    assert specs.courses_for_group("okand") == []
    found = specs.rule_for("kurs-b", "socialsekreterare")
    assert found is not None and found.key == "kurs-b-soc"
    assert specs.rule_for("kurs-b", "bvc") is None


def test_a_loaded_rule_knows_its_file_and_lines(spec_root: Path) -> None:
    text = with_rules(spec_root)
    bvc = load_specs(spec_root).rules["kurs-a-bvc"]
    source = spec_source(bvc)
    assert source is not None and source.file.endswith("specs/enrolment_rules.yaml")
    assert source.line == line_of(text, "- key: kurs-a-bvc")
    assert field_line(bvc, "window_end") == line_of(text, "window_end:")
    assert field_line(bvc, "refresher_months") == source.line  # not written: the start of the rule


# --- one rule at a time: values ------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "message", "hint"), [
    ("role", "Lärare", "'Lärare' is not a Moodle role shortname", "shortname of a Moodle role"),
    ("role", "1student", "'1student' is not a Moodle role shortname", "e.g. student"),
    ("requirement", "obligatorisk", "'obligatorisk' is not one of 'required' or 'recommended'",
     "required, recommended"),
    ("new_staff_deadline_days", "0", "0 is less than 1", "1 till 730"),
    ("new_staff_deadline_days", "731", "731 is more than 730", "efter anställningsdagen"),
    ("new_staff_deadline_days", "'90'", "'90' is not a whole number", "t.ex. 90"),
    ("existing_staff_deadline_days", "0", "0 is less than 1", "efter inskrivningsdagen"),
    ("existing_staff_deadline_days", "1096", "1096 is more than 1095", "t.ex. 365"),
    ("effective_from", "1/1/2026", "is not a date in the form YYYY-MM-DD", "nyanställd"),
    ("refresher_months", "121", "121 is more than 120", "1 to 120"),
    ("refresher_months", "0", "0 is less than 1", "never enrol again"),
    ("require_new_major", "ja", "'ja' is not true or false", "earlier major"),
    ("window_start", "1/9/2025", "is not a date in the form YYYY-MM-DD", "YYYY-MM-DD"),
    ("course", "Kurs-B", "'Kurs-B' is not a valid key", "courses/"),
])
def test_a_bad_value_in_a_rule_is_reported_at_its_line(spec_root: Path, field: str, value: str, message: str,
                                                       hint: str) -> None:
    write(spec_root, "courses/b.yaml", course_text(key="kurs-b", shortname="KB"))
    added = (rule_text("ny", course=value) if field == "course"
             else rule_text("ny", course="kurs-b", extra=f"  {field}: {value}\n"))
    text = with_rules(spec_root, RULES + added)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith(RULES_FILE)
    assert (problem.line, problem.loc) == (line_of(text, f"{field}: {value}"), f"enrolment_rules[2].{field}")
    assert message in problem.message
    assert hint in problem.hint


def test_window_end_must_be_after_window_start(spec_root: Path) -> None:
    for end in ("2024-12-31", "2025-01-01"):
        text = with_rules(spec_root, RULES.replace("window_end: 2025-07-01", f"window_end: {end}"))
        problem = only(problems_of(spec_root))
        assert (problem.line, problem.loc) == (line_of(text, "window_end:"), "enrolment_rules[1].window_end")
        assert problem.message == f"window_end {end} is not after window_start 2025-01-01"
    # an end without a start, or a start without an end, is fine
    with_rules(spec_root, RULES.replace("  window_start: 2025-01-01\n", ""))
    assert load_specs(spec_root).rules["kurs-a-bvc"].window_start is None


def test_a_missing_key_an_unknown_key_and_an_empty_group_list(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES + "- course: kurs-a\n  target_groups: []\n  refresher_month: 12\n")
    problems = problems_of(spec_root)
    assert {(p.line, p.loc, p.message) for p in problems} == {
        (line_of(text, "- course: kurs-a"), "enrolment_rules[2].key", "missing required key 'key'"),
        (line_of(text, "target_groups: []"), "enrolment_rules[2].target_groups", "target_groups is empty"),
        (line_of(text, "refresher_month:"), "enrolment_rules[2].refresher_month",
         "unknown key 'refresher_month' in an enrolment rule"),
    }
    unknown = only([p for p in problems if p.loc.endswith("refresher_month")])
    assert "did you mean 'refresher_months'?" in unknown.hint


def test_a_group_listed_twice_in_one_rule_is_reported_at_the_repetition(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES.replace("target_groups: [bvc]", "target_groups: [bvc, bvc]"))
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "target_groups: [bvc, bvc]"),
                                           "enrolment_rules[1].target_groups[1]")
    assert "'bvc' is listed twice" in problem.message


@pytest.mark.parametrize(("text", "message"), [
    ("kurs-a-soc:\n  course: kurs-a\n", "enrolment_rules.yaml should be a list of enrolment_rules"),
    ("- kurs-a-soc\n", "each entry should be a mapping of keys (key: …, course: …), not the value 'kurs-a-soc'"),
])
def test_the_rules_file_must_be_a_list_of_mappings(spec_root: Path, text: str, message: str) -> None:
    with_rules(spec_root, text)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith(RULES_FILE) and problem.line == 1
    assert message in problem.message


def test_a_yaml_error_in_the_rules_file_has_its_line(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES.replace("target_groups: [bvc]", "target_groups: [bvc"))
    problem = only(problems_of(spec_root))
    assert problem.file.endswith(RULES_FILE) and problem.message.startswith("YAML syntax error")
    assert problem.line is not None and problem.line > line_of(text, "target_groups: [bvc")


# --- references ----------------------------------------------------------------------------------

def test_an_unknown_course_is_reported_at_the_course_line(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES + rule_text("ny", course="kurs-aa"))
    problem = only(problems_of(spec_root))
    assert problem.file.endswith(RULES_FILE)
    assert (problem.line, problem.loc) == (line_of(text, "course: kurs-aa"), "enrolment_rules[2].course")
    assert problem.message == "enrolment rule 'ny': course 'kurs-aa' is not defined in courses/"
    assert problem.hint == "did you mean 'kurs-a'? known courses: kurs-a"


def test_an_unknown_target_group_is_reported_at_its_item(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES.replace("target_groups: [bvc]", "target_groups: [bvcc]"))
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "target_groups: [bvcc]"),
                                           "enrolment_rules[1].target_groups[0]")
    assert problem.message == "enrolment rule 'kurs-a-bvc': target group 'bvcc' is not defined in target_groups.yaml"
    assert "did you mean 'bvc'?" in problem.hint


def test_an_unknown_target_group_is_reported_even_when_the_course_is_unknown_too(spec_root: Path) -> None:
    text = with_rules(spec_root, rule_text("ny", course="kurs-x", groups=("socialsekreterare", "skola")))
    problems = problems_of(spec_root)
    assert {(p.line, p.loc) for p in problems} == {
        (line_of(text, "course: kurs-x"), "enrolment_rules[0].course"),
        (line_of(text, "- skola"), "enrolment_rules[0].target_groups[1]"),
    }


def test_a_group_the_course_is_not_for_is_reported(spec_root: Path) -> None:
    course = course_text(groups=("socialsekreterare",))
    write(spec_root, "courses/a.yaml", course)
    text = with_rules(spec_root)
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "target_groups: [bvc]"),
                                           "enrolment_rules[1].target_groups[0]")
    assert problem.message.startswith("enrolment rule 'kurs-a-bvc': target group 'bvc' is not one of the target "
                                      "groups of course 'kurs-a' (")
    assert problem.message.endswith(f"courses/a.yaml:{line_of(course, 'target_groups:')})")


def test_the_same_course_and_group_in_two_rules_names_both(spec_root: Path) -> None:
    text = with_rules(spec_root, RULES + rule_text("ny", groups=("bvc", "socialsekreterare")))
    problems = problems_of(spec_root)
    assert len(problems) == 2
    bvc = only(at(problems, RULES_FILE, line_of(text, "- bvc")))
    assert bvc.loc == "enrolment_rules[2].target_groups[0]"
    assert bvc.message == (f"enrolment rule 'ny': course 'kurs-a' for target group 'bvc' is already in enrolment "
                           f"rule 'kurs-a-bvc' at {bvc.file}:{line_of(text, 'target_groups: [bvc]')}")
    soc = only(at(problems, RULES_FILE, line_of(text, "- socialsekreterare", nth=2)))
    assert soc.message.endswith(f"rule 'kurs-a-soc' at {soc.file}:{line_of(text, '- socialsekreterare')}")
    assert "one rule per course and target group" in soc.hint


def test_the_same_group_for_two_courses_is_fine(spec_root: Path) -> None:
    write(spec_root, "courses/b.yaml", course_text(key="kurs-b", shortname="KB"))
    with_rules(spec_root, RULES + rule_text("b-soc", course="kurs-b"))
    assert set(load_specs(spec_root).rules) == {"kurs-a-soc", "kurs-a-bvc", "b-soc"}


def test_duplicate_rule_keys(spec_root: Path) -> None:
    write(spec_root, "courses/b.yaml", course_text(key="kurs-b", shortname="KB"))
    text = with_rules(spec_root, RULES + rule_text("kurs-a-soc", course="kurs-b"))
    problem = only(problems_of(spec_root))
    assert (problem.line, problem.loc) == (line_of(text, "- key: kurs-a-soc", nth=2), "enrolment_rules[2].key")
    assert problem.message == (f"enrolment rule key 'kurs-a-soc' is already used at "
                               f"{problem.file}:{line_of(text, '- key: kurs-a-soc')}")


def test_a_broken_course_file_does_not_make_rules_name_unknown_courses(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", course_text(title="[Kurs A"))
    with_rules(spec_root)
    problem = only(problems_of(spec_root))
    assert problem.file.endswith("courses/a.yaml")


def test_a_broken_target_group_file_does_not_make_rules_name_unknown_groups(spec_root: Path) -> None:
    write(spec_root, "target_groups.yaml", TARGET_GROUPS + "- key: [trasig\n")
    with_rules(spec_root)
    assert all(p.file.endswith("target_groups.yaml") for p in problems_of(spec_root))


def test_every_rule_problem_is_reported_at_once_with_the_others(spec_root: Path) -> None:
    write(spec_root, "courses/a.yaml", course_text(version="v2"))
    text = with_rules(spec_root, RULES.replace("window_end: 2025-07-01", "window_end: 2024-07-01")
                      + rule_text("kurs-a-soc", course="kurs-c", groups=("bvcc",), extra="  role: Student\n"))
    got = {(p.file.rsplit("specs/", 1)[1], p.line, p.loc) for p in problems_of(spec_root)}
    assert got == {
        ("courses/a.yaml", 2, "version"),
        (RULES_FILE, line_of(text, "window_end:"), "enrolment_rules[1].window_end"),
        (RULES_FILE, line_of(text, "- key: kurs-a-soc", nth=2), "enrolment_rules[2].key"),
        (RULES_FILE, line_of(text, "course: kurs-c"), "enrolment_rules[2].course"),
        (RULES_FILE, line_of(text, "- bvcc"), "enrolment_rules[2].target_groups[0]"),
        (RULES_FILE, line_of(text, "role: Student"), "enrolment_rules[2].role"),
    }


def test_a_rules_directory_instead_of_a_file(spec_root: Path) -> None:
    (spec_root / RULES_FILE).mkdir()
    problem = only(problems_of(spec_root))
    assert problem.message == "enrolment_rules.yaml is not a file"


# --- Moodle values -------------------------------------------------------------------------------

def test_the_window_becomes_moodle_timestart_and_timeend_at_midnight_in_sweden(spec_root: Path) -> None:
    with_rules(spec_root)
    specs = load_specs(spec_root)
    bvc, soc = specs.rules["kurs-a-bvc"], specs.rules["kurs-a-soc"]
    assert bvc.timestart == int(datetime.datetime(2025, 1, 1, tzinfo=CET).timestamp()) == 1735686000
    assert bvc.timeend == int(datetime.datetime(2025, 7, 1, tzinfo=CEST).timestamp()) == 1751320800
    assert (soc.timestart, soc.timeend) == (0, 0)


def test_the_new_staff_deadline_counts_days_from_the_employment_start() -> None:
    assert rule(new_staff_deadline_days=90).new_staff_deadline(datetime.date(2025, 12, 1)) == \
        datetime.date(2026, 3, 1)
    assert rule().new_staff_deadline(datetime.date(2025, 12, 1)) is None


def test_rules_are_frozen_and_refuse_unknown_fields() -> None:
    r = rule()
    with pytest.raises(ValidationError):
        r.role = "teacher"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        rule(rol="student")
    with pytest.raises(ValidationError, match="listed twice"):
        rule(target_groups=["bvc", "bvc"])
    assert rule(role=" student ").role == "student"


# --- who is enrolled: refreshers and new majors ----------------------------------------------------

TODAY = datetime.date(2026, 6, 15)


@pytest.mark.parametrize(("changes", "completions", "expected"), [
    # never completed: enrol
    ({}, [], True),
    ({"refresher_months": 36}, [], True),
    # completed last year's edition (an older major), no refresher: done for good
    ({}, [(1, datetime.date(2025, 5, 1))], False),
    # within the refresher interval, any version counts
    ({"refresher_months": 36}, [(1, datetime.date(2025, 5, 1))], False),
    ({"refresher_months": 36}, [(2, datetime.date(2023, 6, 16))], False),
    # the interval has passed: enrol again (into the current version), on the day it passes
    ({"refresher_months": 36}, [(2, datetime.date(2023, 6, 15))], True),
    ({"refresher_months": 12}, [(1, datetime.date(2024, 1, 1))], True),
    # the latest completion counts
    ({"refresher_months": 12}, [(1, datetime.date(2024, 1, 1)), (2, datetime.date(2026, 1, 1))], False),
    # a new major is required of everyone: only the current major counts
    ({"require_new_major": True}, [(1, datetime.date(2026, 6, 1))], True),
    ({"require_new_major": True}, [(2, datetime.date(2023, 1, 1))], False),
    ({"require_new_major": True, "refresher_months": 24}, [(2, datetime.date(2023, 1, 1))], True),
    ({"require_new_major": True, "refresher_months": 24},
     [(1, datetime.date(2026, 6, 1)), (2, datetime.date(2025, 1, 1))], False),
])
def test_who_needs_enrolment(changes: dict[str, Any], completions: list[tuple[int, datetime.date]],
                             expected: bool) -> None:
    assert rule(**changes).needs_enrolment(completions, current_major=2, today=TODAY) is expected


@pytest.mark.parametrize(("day", "months", "expected"), [
    (datetime.date(2023, 6, 15), 36, datetime.date(2026, 6, 15)),
    (datetime.date(2024, 1, 31), 1, datetime.date(2024, 2, 29)),
    (datetime.date(2023, 1, 31), 1, datetime.date(2023, 2, 28)),
    (datetime.date(2024, 11, 30), 3, datetime.date(2025, 2, 28)),
    (datetime.date(2024, 12, 1), 12, datetime.date(2025, 12, 1)),
    (datetime.date(2024, 12, 1), 120, datetime.date(2034, 12, 1)),
])
def test_add_months_stays_in_the_calendar(day: datetime.date, months: int, expected: datetime.date) -> None:
    assert add_months(day, months) == expected


# --- the digest ----------------------------------------------------------------------------------

def test_rules_are_part_of_the_digest(spec_root: Path) -> None:
    without = load_specs(spec_root).digest
    with_rules(spec_root, "[]\n")
    assert load_specs(spec_root).digest == without  # no rules is no rules
    with_rules(spec_root)
    with_some = load_specs(spec_root).digest
    assert with_some != without
    # the rules in another order, with other comments and flow style: the same digest
    first, second = RULES.split("\n\n")
    with_rules(spec_root, "# andra ordningen\n" + second + "\n" + first.replace(
        "  target_groups:\n    - socialsekreterare\n", "  target_groups: [socialsekreterare]\n"))
    assert load_specs(spec_root).digest == with_some


@pytest.mark.parametrize(("old", "new"), [
    ("refresher_months: 36", "refresher_months: 24"),
    ("new_staff_deadline_days: 90", "new_staff_deadline_days: 60"),
    ("requirement: recommended", "requirement: required"),
    ("role: editingteacher", "role: student"),
    ("window_end: 2025-07-01", "window_end: 2025-08-01"),
    ("require_new_major: true", "require_new_major: false"),
    ("- key: kurs-a-bvc", "- key: kurs-a-bvc2"),
])
def test_any_changed_rule_value_changes_the_digest(spec_root: Path, old: str, new: str) -> None:
    with_rules(spec_root)
    before = load_specs(spec_root).digest
    with_rules(spec_root, RULES.replace(old, new))
    assert load_specs(spec_root).digest != before


def test_a_spec_set_built_in_code_with_rules_has_the_loaded_digest(spec_root: Path) -> None:
    with_rules(spec_root)
    loaded = load_specs(spec_root)
    built = SpecSet.from_specs(loaded.categories.values(), loaded.courses.values(), loaded.target_groups.values(),
                               rules=loaded.rules.values(), root=spec_root)
    assert built.digest == loaded.digest
    assert built.rules == loaded.rules
    assert spec_digest(loaded.categories.values(), loaded.courses.values(), loaded.target_groups.values(),
                       reversed(list(loaded.rules.values()))) == loaded.digest
    # built without rules (as before rules existed): still a valid set, with the rule-less digest
    bare = SpecSet.from_specs(loaded.categories.values(), loaded.courses.values(), loaded.target_groups.values())
    assert bare.rules == {} and bare.digest != loaded.digest
