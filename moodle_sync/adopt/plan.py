"""AdoptPlan: the spec files `adopt` writes and the ID numbers it sets, built from Moodle and the specs (reads only).

Every problem is collected before anything is written (an unknown short name, a key another spec has, a spec file
already there with other content, dates at a time of day …); with any problem, nothing is written or marked.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodle_sync.adopt.cohorts import CohortMark, map_cohorts
from moodle_sync.adopt.courses import (
    CategoryAdoption,
    CourseAdoption,
    category_chain,
    category_data,
    check_category,
    course_data,
    course_problems,
    day_zone,
    left_in_moodle,
    owned_key,
    what_apply_changes,
    zone_problem,
)
from moodle_sync.adopt.find import find_courses
from moodle_sync.adopt.keys import close_matches, slug
from moodle_sync.adopt.yaml_text import category_items, course_file
from moodle_sync.errors import SpecError
from moodle_sync.identity import category_idnumber, category_key
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import Category, Course
from moodle_sync.specs.load import load_specs
from moodle_sync.specs.locate import CATEGORIES_FILE, COURSES_DIR
from moodle_sync.specs.source import spec_source
from moodle_sync.specs.spec_set import SpecSet

__all__ = ["AdoptPlan", "AdoptRequest", "FileWrite", "IdMark", "plan_adoption"]


@dataclass(frozen=True)
class AdoptRequest:
    """What the admin asked for on the command line."""

    shortnames: Sequence[str] = ()
    categories: Sequence[str] = ()
    target_groups: Sequence[str] = ()
    provider: str | None = None
    language: str = "sv"
    timezone: str | None = None
    cohort_file: str | None = None
    cohort_patterns: Sequence[str] = ()


@dataclass(frozen=True)
class FileWrite:
    path: Path
    text: str
    #: True: added at the end of the file (categories.yaml); False: a new file
    append: bool
    what: str


@dataclass(frozen=True)
class IdMark:
    """One ID number set in Moodle; nothing else of the object changes."""

    kind: str  # category | course | cohort
    moodle_id: int
    label: str
    old: str
    new: str

    def text(self) -> str:
        was = repr(self.old) if self.old else "none"
        return f"{self.kind} {self.label!r} (id {self.moodle_id}): ID number {was} → {self.new!r}"


@dataclass
class AdoptPlan:
    moodle_url: str
    specs_root: Path
    courses: list[CourseAdoption] = field(default_factory=list)
    categories: list[CategoryAdoption] = field(default_factory=list)
    cohorts: list[CohortMark] = field(default_factory=list)
    files: list[FileWrite] = field(default_factory=list)
    marks: list[IdMark] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.files or self.marks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "moodle_url": self.moodle_url, "specs": str(self.specs_root),
            "files": [{"path": str(f.path), "append": f.append, "what": f.what} for f in self.files],
            "marks": [{"kind": m.kind, "moodle_id": m.moodle_id, "name": m.label, "idnumber_before": m.old,
                       "idnumber": m.new} for m in self.marks],
            "courses": [{"shortname": a.course.shortname, "moodle_id": a.course.id, "key": a.key,
                         "idnumber": a.idnumber, "left_in_moodle": a.left, "apply_would_change": a.will_change}
                        for a in self.courses],
            "notes": self.notes, "problems": self.problems,
        }


def plan_adoption(api: MoodleApi, specs: SpecSet, request: AdoptRequest) -> AdoptPlan:
    """Read the named courses (and cohorts) and plan their adoption; reads only, writes nothing."""
    plan = AdoptPlan(moodle_url=api.client.transport.base_url, specs_root=specs.root)
    found = find_courses(api, request.shortnames, request.categories)
    plan.problems += found.problems
    by_id = {c.id: c for c in found.categories}
    groups = _target_groups(specs, request.target_groups, plan.problems,
                            any(owned_key(c) is None for c in found.courses))
    keys: dict[str, Course] = {}
    cats: dict[str, CategoryAdoption] = {}
    for course in found.courses:
        if (owned := owned_key(course)) is not None:
            where = spec_source(specs.courses[owned]) if owned in specs.courses else None
            plan.notes.append(f"course {course.shortname!r} (id {course.id}) is already the tool's ({course.idnumber})"
                              + (f", spec {where.file}" if where else f"; no spec in {specs.root} has the key "
                                 f"{owned}") + "; nothing to do")
            continue
        adoption = _plan_course(api, specs, request, course, by_id, groups, keys, cats, plan.problems)
        if adoption is not None:
            plan.courses.append(adoption)
    plan.categories = list(cats.values())
    if request.cohort_file or request.cohort_patterns:
        cohorts = api.search_cohorts("")
        site_wide = {c.id for c in api.search_cohorts("", includes="self")}
        marks, problems, notes = map_cohorts(cohorts, site_wide, set(specs.target_groups), request.cohort_file,
                                             request.cohort_patterns)
        plan.cohorts, plan.problems, plan.notes = marks, plan.problems + problems, plan.notes + notes
    if not plan.problems:
        _files_and_marks(plan, specs)
        _check_loads(plan, specs)
    return plan


def _target_groups(specs: SpecSet, asked: Sequence[str], problems: list[str], needed: bool) -> list[str]:
    if not asked:
        if needed:
            known = ", ".join(sorted(specs.target_groups))
            problems.append("name the target groups the courses are for with --target-group KEY (repeatable; Moodle "
                            f"does not know them); keys in target_groups.yaml: {known}")
        return []
    for key in asked:
        if key not in specs.target_groups:
            near = close_matches(key, specs.target_groups)
            problems.append(f"--target-group {key}: not a key in target_groups.yaml"
                            + (f"; close: {', '.join(near)}" if near else ""))
    return list(dict.fromkeys(asked))


def _plan_course(api: MoodleApi, specs: SpecSet, request: AdoptRequest, course: Course, by_id: dict[int, Category],
                 groups: list[str], keys: dict[str, Course], cats: dict[str, CategoryAdoption],
                 problems: list[str]) -> CourseAdoption | None:
    name = f"course {course.shortname!r} (id {course.id})"
    key = slug(course.shortname)
    count = len(problems)
    if not key:
        problems.append(f"{name}: its short name gives no key (letters or digits); rename it in Moodle first")
        return None
    if (other := keys.get(key)) is not None:
        problems.append(f"{name} and course {other.shortname!r} (id {other.id}) would both get the key {key!r}; "
                        f"adopt one of them now and rename the other's short name in Moodle first")
    keys.setdefault(key, course)
    if key in specs.courses:
        src = spec_source(specs.courses[key])
        problems.append(f"{name} would get the key {key!r}, which the course spec "
                        f"{src.file if src else key} already has; rename the short name in Moodle or that spec's key")
    elif (taken := api.course_by_idnumber(f"{key}@1")) is not None and taken.id != course.id:
        problems.append(f"{name} would get the ID number {key}@1, which course {taken.shortname!r} (id {taken.id}) "
                        f"already has")
    users = [s.key for s in specs.courses.values() if s.template and s.template == course.idnumber]
    if users:
        problems.append(f"{name} is the template of {', '.join(sorted(users))} (ID number {course.idnumber!r}); "
                        f"adopting it would change that ID number")
    chain = category_chain(course.categoryid, by_id)
    parent: str | None = None
    for category in chain:
        parent = _plan_category(specs, category, parent, cats, problems)
    zone = day_zone(course, request.timezone)
    if zone is None:
        problems.append(zone_problem(course, request.timezone))
        return None
    if parent is None or len(problems) > count:
        return None
    sections = api.course_contents(course.id)
    provider = request.provider or (chain[-1].name if chain else "")
    data = course_data(course, key, parent, provider, groups, request.language, sections, zone)
    found = course_problems(course, data)
    if found:
        problems += found
        return None
    adoption = CourseAdoption(course=course, key=key, data=data, left=left_in_moodle(sections),
                              will_change=what_apply_changes(course, data))
    if course.idnumber:
        adoption.notes.append(f"its ID number {course.idnumber!r} becomes {adoption.idnumber!r}: whatever finds the "
                              f"course by the old one (a CSV upload, another system) must use the new one")
    return adoption


def _plan_category(specs: SpecSet, category: Category, parent: str | None, cats: dict[str, CategoryAdoption],
                   problems: list[str]) -> str | None:
    key, data = category_data(category, parent)
    if (seen := cats.get(key)) is not None:
        if seen.category.id != category.id:
            problems.append(f"categories {seen.category.name!r} (id {seen.category.id}) and {category.name!r} (id "
                            f"{category.id}) would both get the key {key!r}; rename one of them in Moodle first")
            return None
        return key
    owned = category_key(category.idnumber) is not None
    spec = specs.categories.get(key)
    if spec is not None and not owned and (spec.name != category.name or spec.parent != parent):
        problems.append(f"category {category.name!r} (id {category.id}) would get the key {key!r}, which "
                        f"{CATEGORIES_FILE} already has for {spec.name!r}; rename one of them")
        return None
    if spec is None and (problem := check_category(data)):
        problems.append(f"category {category.name!r} (id {category.id}): {problem}")
        return None
    cats[key] = CategoryAdoption(category=category, key=key, data=data, mark=not owned,
                                 write=spec is None)
    return key


def _files_and_marks(plan: AdoptPlan, specs: SpecSet) -> None:
    for cat in plan.categories:
        if cat.mark:
            plan.marks.append(IdMark("category", cat.category.id, cat.category.name, cat.category.idnumber,
                                     category_idnumber(cat.key)))
    new_cats = [c.data for c in plan.categories if c.write]
    if new_cats:
        plan.files.append(FileWrite(specs.root / CATEGORIES_FILE, category_items(
            new_cats, f"Taken over from {plan.moodle_url} by moodle-sync adopt."), append=True,
            what=f"{len(new_cats)} categor{'y' if len(new_cats) == 1 else 'ies'} added"))
    for adoption in plan.courses:
        path = specs.root / COURSES_DIR / f"{adoption.key}.yaml"
        text = course_file(adoption.data, _header(plan, adoption))
        if path.exists():
            if path.read_text(encoding="utf-8") != text:
                plan.problems.append(f"{path} already exists (with other content); adopt never overwrites a spec: "
                                     f"move it away, or remove it if it is an earlier adopt's")
                continue
        else:
            plan.files.append(FileWrite(path, text, append=False,
                                        what=f"course spec for {adoption.course.shortname!r}"))
        plan.marks.append(IdMark("course", adoption.course.id, adoption.course.shortname, adoption.course.idnumber,
                                 adoption.idnumber))
    for mark in plan.cohorts:
        plan.marks.append(IdMark("cohort", mark.cohort.id, mark.cohort.name, mark.cohort.idnumber, mark.idnumber))


def _header(plan: AdoptPlan, adoption: CourseAdoption) -> list[str]:
    return [f"Taken over from {plan.moodle_url} (course id {adoption.course.id}) by moodle-sync adopt.",
            "provider, delivery and target_groups are not in Moodle: check them.",
            "Left in Moodle, as it is (the spec does not say it, and moodle-sync never changes it):",
            *[f"  - {line}" for line in adoption.left]]


def _check_loads(plan: AdoptPlan, specs: SpecSet) -> None:
    """The specs, with the files written, load as one tree (the check that the YAML says what was meant)."""
    if not plan.files:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "specs"
        shutil.copytree(specs.root, root, ignore=shutil.ignore_patterns(".git"))
        for f in plan.files:
            target = root / f.path.relative_to(specs.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a" if f.append else "w", encoding="utf-8") as out:
                out.write(f.text)
        try:
            loaded = load_specs(root)
        except SpecError as e:
            plan.problems.append(f"the specs with the adopted courses would not load (a fault of adopt; please "
                                 f"report it):\n{e}")
            return
    for adoption in plan.courses:
        spec = loaded.courses.get(adoption.key)
        if spec is None or spec.model_dump() != type(spec).model_validate(adoption.data).model_dump():
            plan.problems.append(f"{adoption.key}: the written spec reads back differently (a fault of adopt)")
