"""Carry an adopt plan out: the spec files first, then the ID numbers, and nothing else, in Moodle.

Files are written first: a rerun after a failed mark finds them identical and only marks. A course file is created,
never overwritten (``x`` mode: one written meanwhile is an error, not replaced).
"""

from __future__ import annotations

from moodle_sync.adopt.plan import AdoptPlan
from moodle_sync.errors import MoodleSyncError
from moodle_sync.moodle.functions import MoodleApi
from moodle_sync.moodle.models import CategoryType, CategoryUpdate, CohortUpdate, CourseUpdate

__all__ = ["carry_out"]


def carry_out(api: MoodleApi, plan: AdoptPlan) -> list[str]:
    """Write the plan's files and set its ID numbers; returns what was done, one line each.

    Calls: core_course_update_categories, core_course_update_courses, core_cohort_update_cohorts (ID numbers
    only; a category's update always sets its description format and a cohort's must carry its name, description
    and visibility: those are sent as Moodle has them, read raw).

    Raises:
        MoodleSyncError: a file appeared meanwhile, or Moodle refused an ID number (what was done is said).
    """
    done: list[str] = []
    for f in plan.files:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with f.path.open("a" if f.append else "x", encoding="utf-8") as out:
                out.write(f.text)
        except FileExistsError:
            raise MoodleSyncError(f"{f.path} was written by someone else meanwhile; adopt never overwrites a spec "
                                  f"(done so far: {'; '.join(done) or 'nothing'})") from None
        done.append(f"wrote {f.path}" if not f.append else f"added to {f.path}")
    cats = [m for m in plan.marks if m.kind == "category"]
    if cats:
        # Moodle sets descriptionformat on every category update (its default is 1, HTML): send the one it has
        formats = {c.category.id: c.category.descriptionformat for c in plan.categories}
        api.update_categories([CategoryUpdate(id=m.moodle_id, idnumber=m.new, descriptionformat=formats[m.moodle_id])
                               for m in cats])
        done += [m.text() for m in cats]
    courses = [m for m in plan.marks if m.kind == "course"]
    if courses:
        warnings = api.update_courses([CourseUpdate(id=m.moodle_id, idnumber=m.new) for m in courses])
        refused = {w.itemid: w for w in warnings}
        done += [m.text() for m in courses if m.moodle_id not in refused]
        if refused:
            why = "; ".join(f"course id {i} ({w.warningcode}: {w.message})" for i, w in refused.items())
            raise MoodleSyncError(f"Moodle refused the ID number of {why}"
                                  + f". Done: {'; '.join(done)}. Fix it and run adopt again (it picks up where it "
                                    f"stopped)")
    by_id = {c.cohort.id: c.cohort for c in plan.cohorts}
    cohorts = [m for m in plan.marks if m.kind == "cohort"]
    if cohorts:
        api.update_cohorts([CohortUpdate(id=m.moodle_id, categorytype=CategoryType(), name=by_id[m.moodle_id].name,
                                         idnumber=m.new, description=by_id[m.moodle_id].description,
                                         descriptionformat=by_id[m.moodle_id].descriptionformat,
                                         visible=int(by_id[m.moodle_id].visible))
                            for m in cohorts])
        done += [m.text() for m in cohorts]
    return done
