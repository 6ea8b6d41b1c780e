"""The checks across specs and files, run on what is written once every file is read, and the problems found.

Keys are unique in each file; a category's parent exists and no categories form a cycle; a course names a
category and target groups that exist and a Moodle short name no other course has; sessions are only in
blended courses, each key once; an enrolment rule names a course and target groups that exist, and no two
rules cover the same course and target group. Each problem names the file and line to fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from moodle_sync.errors import SpecProblem
from moodle_sync.invisible_text import nfc
from moodle_sync.specs.field_errors import repeated_session
from moodle_sync.specs.fields import SEMVER_RE
from moodle_sync.specs.locate import CATEGORIES_FILE, COURSES_DIR, TARGET_GROUPS_FILE, ListFile, SpecDoc, line_of
from moodle_sync.specs.models import CategorySpec, CourseSpec, EnrolmentRule, Session, TargetGroup

__all__ = ["Problems", "check_categories", "check_courses", "check_rules", "check_target_groups"]


class Problems:
    """Every problem found in a spec tree, one per key: a value already wrong is not checked against other files."""

    def __init__(self) -> None:
        self.found: list[SpecProblem] = []
        self._reported: set[tuple[str, str]] = set()

    def problem(self, file: str, line: int | None, message: str, hint: str = "", loc: str = "") -> None:
        self.add(SpecProblem(file, line, message, hint=hint, loc=loc))

    def add(self, problem: SpecProblem) -> None:
        if problem.loc and (problem.file, problem.loc) in self._reported:
            return
        self._reported.add((problem.file, problem.loc))
        self.found.append(problem)


def check_unique(problems: Problems, docs: Sequence[SpecDoc[Any]], what: str, hint: str) -> None:
    first: dict[str, SpecDoc[Any]] = {}
    for doc in docs:
        key = doc.raw("key")
        if not isinstance(key, str):
            continue
        if key in first:
            other = first[key]
            problems.problem(doc.file, doc.key_line("key"),
                             f"{what} key {key!r} is already used at {other.file}:{other.key_line('key')}",
                             hint=hint, loc=doc.loc("key"))
        else:
            first[key] = doc


def check_categories(problems: Problems, categories: ListFile[CategorySpec]) -> None:
    docs = categories.docs
    check_unique(problems, docs, "category", "category keys must be unique; rename one of them")
    keys = {k for d in docs if isinstance(k := d.raw("key"), str)}
    parents: dict[str, tuple[str, SpecDoc[CategorySpec]]] = {}
    for doc in docs:
        key, parent = doc.raw("key"), doc.raw("parent")
        if not isinstance(parent, str):
            continue
        if isinstance(key, str):
            parents.setdefault(key, (parent, doc))
        if parent not in keys:
            problems.problem(doc.file, doc.key_line("parent"),
                             f"category {key!r}: parent {parent!r} is not a category key in this file",
                             hint=_did_you_mean(parent, keys, "categories"), loc=doc.loc("parent"))
    reported: set[str] = set()
    for start in parents:
        path = [start]
        while (step := parents.get(path[-1])) is not None and step[0] in parents and step[0] not in path:
            path.append(step[0])
        if step is None or step[0] not in path or reported & set(path):
            continue
        cycle = path[path.index(step[0]):]
        reported.update(cycle)
        doc = parents[cycle[0]][1]
        problems.problem(doc.file, doc.key_line("parent"),
                         f"categories form a cycle: {' → '.join([*cycle, cycle[0]])}",
                         hint="a category cannot be its own ancestor; give one of them another parent or "
                              "none (top level)", loc=doc.loc("parent"))


def check_target_groups(problems: Problems, target_groups: ListFile[TargetGroup]) -> None:
    check_unique(problems, target_groups.docs, "target group",
                      "target-group keys must be unique; rename one of them")


def check_courses(problems: Problems, courses: list[SpecDoc[CourseSpec]], categories: ListFile[CategorySpec],
                  target_groups: ListFile[TargetGroup]) -> None:
    check_unique(problems, courses, "course", "each course has one file and its own key; a new version "
                                              "keeps the key and bumps `version` in the same file")
    category_keys = {k for d in categories.docs if isinstance(k := d.raw("key"), str)}
    group_keys = {k for d in target_groups.docs if isinstance(k := d.raw("key"), str)}
    shortnames: dict[tuple[str, int], SpecDoc[CourseSpec]] = {}
    for doc in courses:
        key = doc.raw("key")
        label = f"course {key!r}" if isinstance(key, str) else "this course"
        category = doc.raw("category")
        if categories.readable and isinstance(category, str) and category not in category_keys:
            problems.problem(doc.file, doc.key_line("category"),
                             f"{label}: category {category!r} is not defined in {CATEGORIES_FILE}",
                             hint=_did_you_mean(category, category_keys, "categories"), loc=doc.loc("category"))
        groups = doc.raw("target_groups")
        if target_groups.readable and isinstance(groups, list):
            for i, group in enumerate(groups):
                if isinstance(group, str) and group not in group_keys:
                    problems.problem(doc.file, line_of(doc.node, ("target_groups", i)),
                                     f"{label}: target group {group!r} is not defined in {TARGET_GROUPS_FILE}",
                                     hint=_did_you_mean(group, group_keys, "target groups"),
                                     loc=doc.loc("target_groups", i))
        check_sessions(problems, doc)
        shortname, version = doc.raw("shortname"), doc.raw("version")
        if isinstance(shortname, str) and isinstance(version, str) and SEMVER_RE.match(version):
            major = int(version.split(".", 1)[0])
            wanted = (nfc(shortname.strip()).casefold(), major)
            other = shortnames.get(wanted)
            if other is None:
                shortnames[wanted] = doc
            elif other.raw("key") != key:
                problems.problem(doc.file, doc.key_line("shortname"),
                                 f"{label}: Moodle short name {shortname.strip() + f'-v{major}'!r} is also used by "
                                 f"course {other.raw('key')!r} at {other.file}:{other.key_line('shortname')}",
                                 hint="Moodle short names must be unique; change `shortname` in one of them",
                                 loc=doc.loc("shortname"))


def check_sessions(problems: Problems, doc: SpecDoc[CourseSpec]) -> None:
    """Sessions only in blended courses, each key once. The model checks this too, but only when every
    session is valid; here it is checked on what is written, so it is reported with the other problems."""
    sessions, delivery = doc.raw("sessions"), doc.raw("delivery")
    if not isinstance(sessions, CommentedSeq) or not sessions:
        return
    if isinstance(delivery, str) and delivery != "blended":
        problems.problem(doc.file, doc.key_line("sessions"),
                         f"sessions are only for blended courses, and this one has delivery: {delivery}",
                         hint=CourseSpec.model_fields["sessions"].description or "", loc=doc.loc("sessions"))
    first: dict[str, int] = {}
    for i, session in enumerate(sessions):
        key = session.get("key") if isinstance(session, CommentedMap) else None
        if not isinstance(key, str):
            continue
        if key in first:
            problems.problem(doc.file, line_of(doc.node, ("sessions", i, "key")),
                             repeated_session(key, doc.node, first[key]),
                             hint=Session.model_fields["key"].description or "",
                             loc=doc.loc("sessions", i, "key"))
        else:
            first[key] = i


def check_rules(problems: Problems, rules: ListFile[EnrolmentRule], courses: list[SpecDoc[CourseSpec]],
                target_groups: ListFile[TargetGroup], *, courses_readable: bool) -> None:
    """Rule keys are unique, name courses and target groups that exist, and never overlap.

    ``courses_readable`` is False when a course file could not be read: its key is unknown, so a rule's
    course that is not found is not reported.
    """
    docs = rules.docs
    check_unique(problems, docs, "enrolment rule", "each enrolment rule has its own key; rename one of them")
    course_docs: dict[str, SpecDoc[CourseSpec]] = {}
    for spec in courses:
        if isinstance(spec_key := spec.raw("key"), str):
            course_docs.setdefault(spec_key, spec)
    group_keys = {k for d in target_groups.docs if isinstance(k := d.raw("key"), str)}
    # (course, target group) → the rule and the index of the group in its list, first one wins
    pairs: dict[tuple[str, str], tuple[SpecDoc[EnrolmentRule], int]] = {}
    for doc in docs:
        key = doc.raw("key")
        label = f"enrolment rule {key!r}" if isinstance(key, str) else "this enrolment rule"
        course = doc.raw("course")
        course_doc = course_docs.get(course) if isinstance(course, str) else None
        if isinstance(course, str) and course_doc is None and courses_readable:
            problems.problem(doc.file, doc.key_line("course"),
                             f"{label}: course {course!r} is not defined in {COURSES_DIR}/",
                             hint=_did_you_mean(course, set(course_docs), "courses"), loc=doc.loc("course"))
        groups = doc.raw("target_groups")
        if not isinstance(groups, list):
            continue
        for i, group in enumerate(groups):
            if not isinstance(group, str):
                continue
            where, loc = line_of(doc.node, ("target_groups", i)), doc.loc("target_groups", i)
            if target_groups.readable and group not in group_keys:
                problems.problem(doc.file, where,
                                 f"{label}: target group {group!r} is not defined in {TARGET_GROUPS_FILE}",
                                 hint=_did_you_mean(group, group_keys, "target groups"), loc=loc)
                continue
            if course_doc is None or not isinstance(course, str):
                continue
            course_groups = course_doc.raw("target_groups")
            if isinstance(course_groups, list) and group not in course_groups:
                problems.problem(doc.file, where,
                                 f"{label}: target group {group!r} is not one of the target groups of course "
                                 f"{course!r} ({course_doc.file}:{course_doc.key_line('target_groups')})",
                                 hint="add the group to the course's target_groups, or take it out of this rule",
                                 loc=loc)
            first = pairs.setdefault((course, group), (doc, i))
            if first[0] is not doc:
                other, j = first
                there = f"{other.file}:{line_of(other.node, ('target_groups', j))}"
                problems.problem(doc.file, where,
                                 f"{label}: course {course!r} for target group {group!r} is already in enrolment "
                                 f"rule {other.raw('key')!r} at {there}",
                                 hint="one rule per course and target group, or the role, window and deadline "
                                      "would be ambiguous; take the group out of one of the two rules", loc=loc)


def _did_you_mean(value: str, known: set[str], what: str) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    listed = ", ".join(sorted(known)) or "none"
    return (f"did you mean {close[0]!r}? " if close else "") + f"known {what}: {listed}"
