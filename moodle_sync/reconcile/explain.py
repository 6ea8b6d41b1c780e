"""Render a plan for people: what will be created, changed field by field, hidden, or only recorded."""

from __future__ import annotations

from typing import Any

from moodle_sync.reconcile.plan import (
    Action,
    CreateCategory,
    CreateCohort,
    CreateCourse,
    CreateSessionGroup,
    HideCohort,
    HideCourse,
    ImportTemplate,
    Plan,
    RecordVersion,
    SyncEnrolments,
    UpdateCategory,
    UpdateCohort,
    UpdateCourse,
)

SIGN = {"CreateCategory": "+", "CreateCourse": "+", "ImportTemplate": "+", "UpdateCategory": "~",
        "UpdateCourse": "~", "HideCourse": "-", "RecordVersion": "·", "CreateCohort": "+",
        "UpdateCohort": "~", "HideCohort": "-", "SyncEnrolments": "~", "CreateSessionGroup": "+"}


def _short(value: Any, width: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[:width - 1] + "…"


def describe(action: Action) -> list[str]:
    """One headline and optional detail lines for an action."""
    sign = SIGN.get(type(action).__name__, "?")
    if isinstance(action, CreateCategory):
        parent = f" under {action.parent_key}" if action.parent_key else " at the top level"
        return [f"{sign} create category {action.name!r} ({action.idnumber}){parent}"]
    if isinstance(action, UpdateCategory):
        return [f"{sign} update category {action.idnumber}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" for c in action.changes]
    if isinstance(action, CreateCourse):
        what = "new course version" if action.supersedes else "create course"
        extra = f" (replaces {action.supersedes}, which is kept)" if action.supersedes else ""
        return [f"{sign} {what} {action.idnumber} {action.fields.get('shortname')!r} v{action.version} "
                f"in {action.category_key}{extra}",
                f"      {action.fields.get('fullname')}"]
    if isinstance(action, ImportTemplate):
        return [f"{sign} copy content of template {action.template} into {action.idnumber}"]
    if isinstance(action, UpdateCourse):
        version = (f" v{action.from_version} → v{action.to_version}" if action.from_version
                   and action.from_version != action.to_version else f" v{action.to_version}")
        return [f"{sign} update course {action.idnumber}{version}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" if c.old != c.new
            else f"      {c.field}: {_short(c.new)} (unchanged; Moodle needs it sent with enddate)"
            for c in action.changes]
    if isinstance(action, HideCourse):
        return [f"{sign} hide course {action.idnumber} ({action.reason}); nothing is deleted"]
    if isinstance(action, RecordVersion):
        old = action.from_version or "unrecorded"
        return [f"{sign} record {action.idnumber} as spec version {action.to_version} (was {old}); "
                f"no change in Moodle"]
    if isinstance(action, SyncEnrolments):
        words = {"enrol": "enrol", "reactivate": "reactivate", "suspend": "suspend (never unenrol)",
                 "redate": "new dates for"}
        lines = [f"{sign} enrolments in {action.idnumber}: "
                 + ", ".join(f"{words[k]} {n}" for k, n in action.counts().items() if n)]
        for k, names in action.sample.items():
            more = action.counts()[k] - len(names)
            lines.append(f"      {k}: {', '.join(names)}" + (f" and {more} more" if more > 0 else ""))
        return lines
    if isinstance(action, CreateSessionGroup):
        return [f"{sign} create group {action.name!r} ({action.idnumber}) for a teacher-led session"]
    if isinstance(action, CreateCohort):
        return [f"{sign} create cohort {action.name!r} ({action.idnumber})"]
    if isinstance(action, UpdateCohort):
        return [f"{sign} update cohort {action.idnumber}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" for c in action.changes]
    if isinstance(action, HideCohort):
        return [f"{sign} hide cohort {action.idnumber} ({action.reason})"]
    return [f"{sign} {action.id}"]


#: above this many actions of one type, the plan shows a count and a sample instead of every line
DETAIL_LIMIT = 12


def render_plan(plan: Plan) -> str:
    lines: list[str] = []
    if not plan.actions:
        lines.append("No changes. Moodle matches the specs.")
    else:
        counts = plan.counts()
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
        lines.append(f"Plan: {len(plan.actions)} change(s) ({summary}); {plan.moodle_writes} need Moodle writes.")
        shown: dict[str, int] = {}
        for action in plan.actions:
            name = type(action).__name__
            shown[name] = shown.get(name, 0) + 1
            if shown[name] <= DETAIL_LIMIT:
                lines.extend(describe(action))
        for name, n in shown.items():
            if n > DETAIL_LIMIT:
                lines.append(f"  … and {n - DETAIL_LIMIT} more {name} (all of them are in `plan --json`)")
    for note in plan.notes:
        lines.append(f"{'!' if note.level == 'warning' else 'i'} {note.message}")
    return "\n".join(lines)
