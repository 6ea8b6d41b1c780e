"""An adopt plan for people: what is written, which ID numbers change, what stays in Moodle, what apply would do."""

from __future__ import annotations

from moodle_sync.adopt.plan import AdoptPlan

__all__ = ["render_adopt_plan"]


def render_adopt_plan(plan: AdoptPlan) -> str:
    lines = [f"Adopt plan for {plan.moodle_url} (specs: {plan.specs_root})"]
    if plan.problems:
        lines += ["", "Nothing can be adopted until these are fixed (nothing was written or changed):"]
        lines += [f"  - {p}" for p in plan.problems]
    if plan.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in plan.notes]
    if plan.problems:
        return "\n".join(lines)
    if not plan.has_changes:
        lines += ["", "Nothing to adopt: what was named is already the tool's and its specs are written. "
                      "No changes."]
        return "\n".join(lines)
    if plan.files:
        lines += ["", "Spec files:"]
        lines += [f"  + {f.path} ({f.what})" if not f.append else f"  ~ {f.path}: {f.what} at its end"
                  for f in plan.files]
    lines += ["", "ID numbers set in Moodle (only these change; no content, enrolment or completion is touched):"]
    lines += [f"  ~ {m.text()}" for m in plan.marks]
    for adoption in plan.courses:
        lines += ["", f"Course {adoption.course.shortname!r} → {adoption.key} (version 1.0.0, {adoption.idnumber}):"]
        lines += ["  left in Moodle as it is (the spec does not say it; moodle-sync never changes it):"]
        lines += [f"    - {line}" for line in adoption.left]
        if adoption.will_change:
            lines += ["  WARNING: the spec cannot say what Moodle has here, so `apply` would change: "
                      + "; ".join(adoption.will_change) + " (edit the course in Moodle first to keep it as it is)"]
        lines += [f"  note: {n}" for n in adoption.notes]
    for mark in plan.cohorts:
        lines += ["", f"Cohort {mark.cohort.name!r} → {mark.idnumber}: its members stay; `apply` then gives it the "
                      f"name and description the tool gives that cohort, and roster imports keep its members"]
    lines += ["", f"{len(plan.files)} file(s) to write, {len(plan.marks)} ID number(s) to set. Then run "
                  f"`moodle-sync apply`; `moodle-sync plan` shows no changes for these courses."]
    return "\n".join(lines)
