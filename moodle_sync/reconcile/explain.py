"""Render a plan for people: what will be created, changed field by field, hidden, or only recorded.

:class:`ExplainerCore` dispatches each action to ``visit_<snake_case(action type)>`` of a mixin, as the
applier does; :class:`SpecExplainer` holds the spec sync's visits. The one
:class:`~moodle_sync.explainer.Explainer` is composed of every package's mixins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moodle_sync.errors import PlanError
from moodle_sync.reconcile.plan import (
    Action,
    ChangeKind,
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
    visitor_name,
)
from moodle_sync.reconcile.words import count_words, kind_words

#: the sign a line of the plan starts with, by how much the action changes
SIGN = {ChangeKind.NEW_VERSION: "+", ChangeKind.CREATE: "+", ChangeKind.UPDATE: "~", ChangeKind.HIDE: "-",
        ChangeKind.METADATA: "·"}


def _short(value: Any, width: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[:width - 1] + "…"


class ExplainerCore:
    """Renders actions for people: ``visit_<snake_case(action type)>`` gives one headline and optional detail
    lines, as the :class:`~moodle_sync.applier.Applier` has a ``visit_`` that carries it out."""

    def describe(self, action: Action) -> list[str]:
        visit: Callable[[Any], list[str]] | None = getattr(self, visitor_name(type(action)), None)
        if visit is None:
            raise PlanError(f"no way to explain {type(action).__name__} (a bug in moodle-sync)")
        return visit(action)

    @staticmethod
    def _sign(action: Action) -> str:
        return SIGN[action.kind]


class SpecExplainer(ExplainerCore):
    """The spec sync's actions: categories, courses, cohorts, enrolments, session groups."""

    def visit_create_category(self, action: CreateCategory) -> list[str]:
        parent = f" under {action.parent_key}" if action.parent_key else " at the top level"
        return [f"{self._sign(action)} create category {action.name!r} ({action.idnumber}){parent}"]

    def visit_update_category(self, action: UpdateCategory) -> list[str]:
        return [f"{self._sign(action)} update category {action.idnumber}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" for c in action.changes]

    def visit_create_course(self, action: CreateCourse) -> list[str]:
        what = "new course version" if action.supersedes else "create course"
        extra = f" (replaces {action.supersedes}, which is kept)" if action.supersedes else ""
        return [f"{self._sign(action)} {what} {action.idnumber} {action.fields.get('shortname')!r} "
                f"v{action.version} in {action.category_key}{extra}",
                f"      {action.fields.get('fullname')}"]

    def visit_import_template(self, action: ImportTemplate) -> list[str]:
        return [f"{self._sign(action)} copy content of template {action.template} into {action.idnumber}"]

    def visit_update_course(self, action: UpdateCourse) -> list[str]:
        version = (f" v{action.from_version} → v{action.to_version}" if action.from_version
                   and action.from_version != action.to_version else f" v{action.to_version}")
        return [f"{self._sign(action)} update course {action.idnumber}{version}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" if c.old != c.new
            else f"      {c.field}: {_short(c.new)} (unchanged; Moodle needs it sent with enddate)"
            for c in action.changes]

    def visit_hide_course(self, action: HideCourse) -> list[str]:
        return [f"{self._sign(action)} hide course {action.idnumber} ({action.reason}); nothing is deleted"]

    def visit_record_version(self, action: RecordVersion) -> list[str]:
        old = action.from_version or "unrecorded"
        return [f"{self._sign(action)} record {action.idnumber} as spec version {action.to_version} (was {old}); "
                f"no change in Moodle"]

    def visit_sync_enrolments(self, action: SyncEnrolments) -> list[str]:
        if action.newest:
            return self._older_version(action)
        words = {"enrol": "enrol", "reactivate": "reactivate", "suspend": "suspend (never unenrol)",
                 "redate": "new dates for"}
        lines = [f"{self._sign(action)} enrolments in {action.idnumber}: "
                 + ", ".join(f"{words[k]} {n}" for k, n in action.counts().items() if n)]
        for k, names in action.sample.items():
            more = action.counts()[k] - len(names)
            lines.append(f"      {k}: {', '.join(names)}" + (f" and {more} more" if more > 0 else ""))
        return lines

    def _older_version(self, action: SyncEnrolments) -> list[str]:
        """An older major version's enrolments: who moves to the newest version, who keeps theirs, who left."""
        to = "@" + action.newest.rpartition("@")[2]
        said = []
        if action.move:
            said.append(f"{len(action.move)} not completed move to {to} (old enrolment suspended, progress kept)")
        if action.kept:
            said.append(f"{action.kept} completed keep it as history" if action.previous_versions == "move" else
                        f"{action.kept} keep their enrolment as it is (previous_versions: keep)")
        if action.leave:
            said.append(f"{len(action.leave)} no longer in the rules: suspend (never unenrol)")
        lines = [f"{self._sign(action)} enrolments in {action.idnumber}, an older version of {action.course_key} "
                 f"(the rules enrol in {action.newest}): " + ", ".join(said)]
        for k, items in (("move", action.move), ("leave", action.leave)):
            names = action.sample.get(k, [])
            if names:
                more = len(items) - len(names)
                lines.append(f"      {k}: {', '.join(names)}" + (f" and {more} more" if more > 0 else ""))
        if action.move:
            lines.append(f"      apply asks Moodle about each one who moves first: whoever Moodle reports complete "
                         f"in {action.idnumber} keeps it as history")
        return lines

    def visit_create_session_group(self, action: CreateSessionGroup) -> list[str]:
        return [f"{self._sign(action)} create group {action.name!r} ({action.idnumber}) for a teacher-led session"]

    def visit_create_cohort(self, action: CreateCohort) -> list[str]:
        return [f"{self._sign(action)} create cohort {action.name!r} ({action.idnumber})"]

    def visit_update_cohort(self, action: UpdateCohort) -> list[str]:
        return [f"{self._sign(action)} update cohort {action.idnumber}"] + [
            f"      {c.field}: {_short(c.old)} → {_short(c.new)}" for c in action.changes]

    def visit_hide_cohort(self, action: HideCohort) -> list[str]:
        return [f"{self._sign(action)} hide cohort {action.idnumber} ({action.reason})"]


#: above this many actions of one type, the plan shows a count and a sample instead of every line
DETAIL_LIMIT = 12


def render_plan(plan: Plan, explainer: ExplainerCore) -> str:
    """The spec sync's plan for people: a summary line, each action (a sample past :data:`DETAIL_LIMIT` of one
    type), then the notes."""
    lines: list[str] = []
    if not plan.actions:
        lines.append("No changes. Moodle matches the specs.")
    else:
        counts = plan.counts()
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items())
        lines.append(f"Plan: {count_words(len(plan.actions), 'change', 'changes')} ({summary}); "
                     f"{plan.moodle_writes} need{'s' if plan.moodle_writes == 1 else ''} Moodle writes.")
        shown: dict[str, int] = {}
        for action in plan.actions:
            name = type(action).__name__
            shown[name] = shown.get(name, 0) + 1
            if shown[name] <= DETAIL_LIMIT:
                lines.extend(explainer.describe(action))
        for name, n in shown.items():
            if n > DETAIL_LIMIT:
                lines.append(f"  … and {kind_words(name, n - DETAIL_LIMIT, more=True)} (all of them are in "
                             f"`plan --json`)")
    for note in plan.notes:
        lines.append(f"{'!' if note.level == 'warning' else 'i'} {note.message}")
    return "\n".join(lines)
