"""Compare the specs with what Moodle holds and make the plan. Pure: no I/O.

Rules: one Moodle course per spec key and major version; a minor or patch bump updates that course
in place; a major bump creates a new course and leaves the old one (hidden only if the spec says);
a spec that disappears never deletes its course (hidden only with ``hide_removed``); objects without
the tool's idnumber are never changed – a clash with one stops the plan.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

from moodle_sync import clock
from moodle_sync.errors import PlanError
from moodle_sync.identity import category_key, is_category_idnumber, parse_cohort_idnumber, parse_course_idnumber
from moodle_sync.moodle.models import Category, Course
from moodle_sync.reconcile.actual import ActualState, spec_hash
from moodle_sync.reconcile.cohorts import desired_cohorts
from moodle_sync.reconcile.enrolments import EnrolmentState, plan_enrolments
from moodle_sync.reconcile.plan import (
    Action,
    CreateCategory,
    CreateCohort,
    CreateCourse,
    CreateSessionGroup,
    FieldChange,
    HideCohort,
    HideCourse,
    ImportTemplate,
    Note,
    Plan,
    RecordVersion,
    UpdateCategory,
    UpdateCohort,
    UpdateCourse,
)
from moodle_sync.reconcile.version_checks import (
    backwards_problem,
    fingerprint,
    remembered_sections,
    sections_warning,
    with_sections,
)
from moodle_sync.specs.fields import SUMMARY_FORMATS
from moodle_sync.specs.models import CategorySpec, CourseSpec
from moodle_sync.specs.source import field_line, spec_source
from moodle_sync.specs.spec_set import SpecSet


def where(spec: CourseSpec | CategorySpec, field: str | None = None) -> str:
    """``file:line`` of a spec (or of one of its keys) for messages; "" for a spec built in code."""
    src = spec_source(spec)
    if src is None:
        return ""
    line = field_line(spec, field) if field else src.line
    return f"{src.file}:{line or src.line}"


def desired_course_fields(spec: CourseSpec) -> dict[str, Any]:
    """The Moodle fields a course spec sets (``categoryid`` is resolved separately)."""
    fields: dict[str, Any] = {
        "fullname": spec.title.strip(),
        "shortname": spec.moodle_shortname.strip(),
        "summary": spec.summary,
        "summaryformat": SUMMARY_FORMATS[spec.summary_format],
        "format": spec.format,
        "startdate": spec.start_timestamp,
        "enddate": spec.end_timestamp,
        "visible": int(spec.visible),
        "enablecompletion": int(spec.completion),
    }
    if spec.format == "weeks":
        # format_weeks sets enddate itself from the sections unless automaticenddate is off: the spec's
        # end date (or none) would be overwritten after every update, and the plan would never settle
        # (an adopted course may keep Moodle's automatic end date: its spec then says so, and its end_date)
        fields["automaticenddate"] = int(spec.automatic_end_date)
    if spec.force_language:
        # never send lang="" (Moodle rejects it: contract step 'course with empty lang is rejected')
        fields["lang"] = spec.language
    return fields


def build_plan(specs: SpecSet, actual: ActualState, *, hide_removed: bool = False,
               enrolments: EnrolmentState | None = None, roles: Mapping[str, int] | None = None,
               today: datetime.date | None = None) -> Plan:
    """Make the plan, or raise PlanError listing every reason it cannot be made safely.

    Args:
        specs: the validated specs.
        actual: what Moodle holds (reconcile/actual.py).
        hide_removed: hide courses whose spec was removed (they are never deleted).
        enrolments: cohort members and current enrolments; None leaves enrolments out of the plan.
        roles: role shortname → Moodle role id (from the configuration).
        today: the day refresher intervals are measured to (tests pin it).
    """
    problems: list[str] = []
    notes: list[Note] = []
    actions: list[Action] = []

    cat_actions, cat_ids = _plan_categories(specs, actual, problems)
    actions += cat_actions

    course_actions: list[Action] = []
    for spec in sorted(specs.courses.values(), key=lambda s: s.key):
        course_actions += _plan_course(spec, actual, cat_ids, problems, notes)
    course_actions += _plan_leftovers(specs, actual, hide_removed, notes)
    # dependency order: categories, then creates, imports, updates, hides, store-only records
    order = {CreateCourse: 0, ImportTemplate: 1, UpdateCourse: 2, HideCourse: 3, RecordVersion: 4}
    actions += sorted(course_actions, key=lambda a: order.get(type(a), 9))
    actions += _plan_sessions(specs, actual)
    actions += _plan_cohorts(specs, actual)
    digest = actual.digest()
    if enrolments is not None:
        actions += plan_enrolments(specs, actual, enrolments, roles or {}, today or clock.today(),
                                   notes=notes)
        digest = hashlib.sha256((digest + enrolments.digest()).encode()).hexdigest()

    if problems:
        raise PlanError("the plan cannot be made safely; nothing was changed:\n"
                        + "\n".join(f"  - {p}" for p in problems))
    return Plan(actions=tuple(actions), notes=tuple(notes), spec_digest=specs.digest,
                moodle_digest=digest, moodle_url=actual.moodle_url, specs_commit=specs.git_commit)


def _category_depth(key: str, specs: SpecSet) -> int:
    depth, seen = 1, {key}
    parent = specs.categories[key].parent
    while parent is not None and parent not in seen:
        depth += 1
        seen.add(parent)
        parent = specs.categories[parent].parent if parent in specs.categories else None
    return depth


def _plan_categories(specs: SpecSet, actual: ActualState,
                     problems: list[str]) -> tuple[list[Action], dict[str, int | None]]:
    """Categories: create missing ones parent-first, update changed ones. Returns key → Moodle id."""
    by_idnumber = actual.category_by_idnumber()
    cat_ids: dict[str, int | None] = {}
    for key, cat in specs.categories.items():
        found = by_idnumber.get(cat.idnumber)
        cat_ids[key] = found.id if found else None

    actions: list[Action] = []
    for key in sorted(specs.categories, key=lambda k: (_category_depth(k, specs), k)):
        cat = specs.categories[key]
        parent_id = cat_ids.get(cat.parent) if cat.parent else 0
        found = by_idnumber.get(cat.idnumber)
        if found is None:
            clash = _unowned_category_named(actual.categories, cat.name, parent_id)
            if clash is not None:
                problems.append(
                    f"{where(cat)}: category {cat.name!r} already exists in Moodle (id {clash.id}, "
                    f"idnumber {clash.idnumber!r}) but is not managed by moodle-sync; give it the idnumber "
                    f"{cat.idnumber!r} in Moodle to hand it over, or rename the category in the spec")
                continue
            actions.append(CreateCategory(key=key, idnumber=cat.idnumber, name=cat.name, parent_key=cat.parent,
                                          description=cat.description, depth=_category_depth(key, specs)))
            continue
        changes: list[FieldChange] = []
        if found.name != cat.name:
            changes.append(FieldChange("name", found.name, cat.name))
        if found.description != cat.description:
            changes.append(FieldChange("description", found.description, cat.description))
        parent_key = None
        if parent_id is None:  # the new parent is created in this run
            changes.append(FieldChange("parent", found.parent, f"<new category {cat.parent}>"))
            parent_key = cat.parent
        elif found.parent != parent_id:
            changes.append(FieldChange("parent", found.parent, parent_id))
        if changes:
            actions.append(UpdateCategory(key=key, idnumber=cat.idnumber, moodle_id=found.id,
                                          changes=tuple(changes), parent_key=parent_key))
    return actions, cat_ids


def _unowned_category_named(categories: list[Category], name: str, parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None  # the parent does not exist yet, so neither can a clash under it
    for c in categories:
        if c.name == name and c.parent == parent_id and not is_category_idnumber(c.idnumber):
            return c
    return None


def _plan_course(spec: CourseSpec, actual: ActualState, cat_ids: dict[str, int | None],
                 problems: list[str], notes: list[Note]) -> list[Action]:
    desired = desired_course_fields(spec)
    category_id = cat_ids.get(spec.category)
    current = actual.courses.get(spec.idnumber)
    memory = actual.remembered.get(spec.idnumber)
    # the store keeps the sections Moodle made with the hash: a later change of them never reaches Moodle
    made = remembered_sections(memory.spec_hash) if memory and current is not None else None
    hash_now = with_sections(spec_hash(spec), spec.sections if made is None else made)

    if spec.key in actual.shortname_conflicts:
        other = actual.shortname_conflicts[spec.key]
        problems.append(
            f"{where(spec, 'shortname')}: Moodle course {other.shortname!r} (id {other.id}, "
            f"idnumber {other.idnumber!r}) already has the short name this spec wants, and moodle-sync "
            f"does not manage it; rename it in Moodle, change `shortname` in the spec, or give that "
            f"course the idnumber {spec.idnumber!r} to hand it over")
        return []

    backwards = backwards_problem(spec, memory.spec_version if memory and current is not None else "",
                                  actual.courses, where(spec, "version"))
    if backwards:
        problems.append(backwards)
        return []
    previous = _previous_versions(spec, actual)
    actions: list[Action] = []
    if current is None:
        template_id = None
        if spec.template:
            template = actual.templates.get(spec.template)
            if template is None:
                problems.append(
                    f"{where(spec, 'template')}: template course {spec.template!r} does not exist in Moodle (no course "
                    f"has that idnumber); create it or fix `template` in the spec")
                return []
            template_id = template.id
        fields = {**desired, "idnumber": spec.idnumber, "numsections": spec.sections}
        supersedes = previous[-1].idnumber if previous else None
        actions.append(CreateCourse(key=spec.key, idnumber=spec.idnumber, version=spec.version,
                                    category_key=spec.category, fields=fields, template=spec.template,
                                    supersedes=supersedes, spec_hash=hash_now))
        if spec.template and template_id is not None:
            actions.append(ImportTemplate(key=spec.key, idnumber=spec.idnumber, template=spec.template,
                                          template_id=template_id))
    else:
        changes = _course_changes(current, desired, category_id, spec)
        if any(c.field == "enablecompletion" and c.old and not c.new for c in changes):
            problems.append(
                f"{where(spec, 'completion')}: turning completion tracking off on {spec.idnumber} would delete the "
                f"completions people earned there; moodle-sync never pushes that. Keep `completion: true`, "
                f"or make a new major version")
            return []
        from_version = memory.spec_version if memory else ""
        if changes:
            actions.append(UpdateCourse(
                key=spec.key, idnumber=spec.idnumber, moodle_id=current.id, changes=tuple(changes),
                from_version=from_version, to_version=spec.version, spec_hash=hash_now,
                category_key=spec.category if category_id is None else None))
        elif memory is None or memory.spec_version != spec.version \
                or fingerprint(memory.spec_hash) != fingerprint(hash_now):
            actions.append(RecordVersion(key=spec.key, idnumber=spec.idnumber, moodle_id=current.id,
                                         from_version=from_version, to_version=spec.version,
                                         spec_hash=hash_now))
        if memory is not None and (warning := sections_warning(spec, memory.spec_hash, where(spec, "sections"))):
            notes.append(Note("warning", warning))
        if memory is not None and memory.spec_version == spec.version \
                and fingerprint(memory.spec_hash) != fingerprint(hash_now):
            notes.append(Note("warning", f"{where(spec)}: {spec.key} changed but its version is still "
                                         f"{spec.version}; bump it (minor or patch updates the course, "
                                         f"major makes a new course version)"))
        template = actual.templates.get(spec.template) if spec.template else None
        if spec.template and actual.imported.get(spec.idnumber) is False and template is not None:
            actions.append(ImportTemplate(key=spec.key, idnumber=spec.idnumber, template=spec.template,
                                          template_id=template.id))

    for old in previous:
        if spec.hide_previous_versions and old.visible:
            actions.append(HideCourse(key=spec.key, idnumber=old.idnumber, moodle_id=old.id,
                                      reason=f"superseded by {spec.idnumber}"))
        elif old.visible:
            notes.append(Note("info", f"{old.idnumber} (previous version of {spec.key}) stays visible; set "
                                      f"`hide_previous_versions: true` in the spec to hide it"))
    return actions


def _previous_versions(spec: CourseSpec, actual: ActualState) -> list[Course]:
    out = []
    for idnumber, course in actual.courses.items():
        parsed = parse_course_idnumber(idnumber)
        if parsed and parsed[0] == spec.key and parsed[1] < spec.major:
            out.append(course)
    return sorted(out, key=lambda c: c.idnumber)


def _course_changes(current: Course, desired: dict[str, Any], category_id: int | None,
                    spec: CourseSpec) -> list[FieldChange]:
    changes = [FieldChange(name, getattr(current, name), value) for name, value in desired.items()
               if getattr(current, name) != value]
    if any(c.field == "enddate" for c in changes) and not any(c.field == "startdate" for c in changes):
        # Moodle's update_course() validates only the dates it is sent: an enddate without a startdate
        # is refused with nostartdatenoenddate (course_validate_dates), so the start goes along, unchanged
        changes.append(FieldChange("startdate", current.startdate, desired["startdate"]))
    if category_id is None:
        changes.append(FieldChange("categoryid", current.categoryid, f"<new category {spec.category}>"))
    elif current.categoryid != category_id:
        changes.append(FieldChange("categoryid", current.categoryid, category_id))
    return changes


def _plan_leftovers(specs: SpecSet, actual: ActualState, hide_removed: bool,
                    notes: list[Note]) -> list[Action]:
    """Owned courses whose spec is gone: kept; hidden only when asked."""
    actions: list[Action] = []
    for idnumber, course in sorted(actual.courses.items()):
        parsed = parse_course_idnumber(idnumber)
        if parsed is None or parsed[0] in specs.courses:
            continue
        if hide_removed and course.visible:
            actions.append(HideCourse(key=parsed[0], idnumber=idnumber, moodle_id=course.id,
                                      reason="its spec was removed (--hide-removed)"))
        else:
            state = "visible" if course.visible else "hidden"
            notes.append(Note("info", f"{idnumber} has no spec any more; the course is kept ({state}) with "
                                      f"everyone's history" + ("" if not course.visible else
                                                               "; use --hide-removed to hide it")))
    for cat in actual.categories:
        if (owned := category_key(cat.idnumber)) is not None and owned not in specs.categories:
            notes.append(Note("info", f"category {cat.name!r} ({cat.idnumber}) has no spec any more; it is kept "
                                      f"(Moodle's web services cannot hide categories)"))
    return actions


def _plan_cohorts(specs: SpecSet, actual: ActualState) -> list[Action]:
    """Cohorts per target group × county: create, rename/describe, and hide those the specs dropped."""
    desired = desired_cohorts(specs)
    creates: list[Action] = []
    updates: list[Action] = []
    hides: list[Action] = []
    for idn, want in sorted(desired.items()):
        have = actual.cohorts.get(idn)
        if have is None:
            creates.append(CreateCohort(idnumber=idn, name=want.name, description=want.description))
            continue
        changes = [FieldChange(f, getattr(have, f), v) for f, v in
                   (("name", want.name), ("description", want.description), ("visible", True))
                   if getattr(have, f) != v]
        if changes:
            updates.append(UpdateCohort(idnumber=idn, moodle_id=have.id, changes=tuple(changes), name=want.name,
                                        description=want.description))
    for idn, have in sorted(actual.cohorts.items()):
        if idn not in desired and have.visible and parse_cohort_idnumber(idn):
            hides.append(HideCohort(idnumber=idn, moodle_id=have.id, name=have.name, description=have.description,
                                    reason="its target group left the specs; members and history are kept"))
    return creates + updates + hides


def _plan_sessions(specs: SpecSet, actual: ActualState) -> list[Action]:
    """A group per teacher-led session, in the course's current major version (also a new one)."""
    out: list[Action] = []
    for spec in sorted(specs.courses.values(), key=lambda s: s.key):
        have = actual.groups.get(spec.idnumber, set())
        for session in spec.sessions:
            idn = spec.session_idnumber(session)
            if idn not in have:
                place = f"{session.place}, {session.date.isoformat()}" + (f" {session.time}" if session.time else "")
                out.append(CreateSessionGroup(course_idnumber=spec.idnumber, idnumber=idn, name=session.group_name,
                                              description=f"{place}. Platser: {session.capacity}."))
    return out
