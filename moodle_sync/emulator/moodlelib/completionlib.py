"""Activity and course completion (lib/completionlib.php, completion/criteria/*).

Aggregation is live: a criterion is met as soon as its activity is complete, and the course then
completes with the latest criterion time (README: "answers completed live, no cron needed").
"""

from __future__ import annotations

from moodle_sync.emulator.model.records import (
    CompletionCriterion,
    Course,
    CourseCompletion,
    CourseModule,
    CriterionCompletion,
    ModuleCompletion,
)
from moodle_sync.emulator.model.state import State
from moodle_sync.emulator.moodlelib.enrollib import is_enrolled, user_roles_in

CRITERIA_TYPE_SELF = 1
CRITERIA_TYPE_ACTIVITY = 4
COMPLETION_INCOMPLETE = 0
COMPLETE_STATES = (1, 2)  # COMPLETION_COMPLETE, COMPLETION_COMPLETE_PASS
AGGREGATION_ALL = 1
AGGREGATION_ANY = 2


def criteria_of(state: State, courseid: int) -> list[CompletionCriterion]:
    return sorted(state.criteria.by("course", courseid), key=lambda c: c.id)


def has_criteria(state: State, courseid: int) -> bool:
    return bool(state.criteria.count_by("course", courseid))


def is_tracked_user(state: State, course: Course, userid: int, now: int) -> bool:
    """Tracked: actively enrolled with a role that has moodle/course:isincompletionreports (students)."""
    if not is_enrolled(state, course.id, userid, True, now):
        return False
    return any(state.roles.rows[r].archetype == "student" for r in user_roles_in(state, course.contextid, userid))


def add_activity_criterion(state: State, course: Course, cm: CourseModule) -> CompletionCriterion:
    return state.criteria.insert(CompletionCriterion(state.criteria.new_id(), course.id, CRITERIA_TYPE_ACTIVITY,
                                                     cm.modname, cm.id))


def module_state(state: State, cmid: int, userid: int) -> ModuleCompletion | None:
    return state.module_completions.first_by("cm_user", (cmid, userid))


def set_module_state(state: State, now: int, cm: CourseModule, userid: int, completionstate: int,
                     overrideby: int | None = None, timemodified: int | None = None) -> ModuleCompletion:
    """completion_info::update_state()/internal_set_data(), then the course criteria are reviewed."""
    when = now if timemodified is None else timemodified
    row = module_state(state, cm.id, userid)
    if row is None:
        row = state.module_completions.insert(ModuleCompletion(state.module_completions.new_id(), cm.id, userid,
                                                               completionstate, 0, overrideby, when))
    else:
        row = state.module_completions.update(row, completionstate=completionstate, overrideby=overrideby,
                                              timemodified=when)
    review_activity_criteria(state, now, cm, userid)
    return row


def review_activity_criteria(state: State, now: int, cm: CourseModule, userid: int) -> None:
    row = module_state(state, cm.id, userid)
    if row is None or row.completionstate not in COMPLETE_STATES:
        return  # a criterion once met stays met (completion_criteria_activity::review only marks)
    for criterion in criteria_of(state, cm.course):
        if criterion.criteriatype == CRITERIA_TYPE_ACTIVITY and criterion.moduleinstance == cm.id:
            mark_criterion(state, criterion, userid, row.timemodified)
    aggregate(state, state.courses.rows[cm.course], userid, now)


def mark_criterion(state: State, criterion: CompletionCriterion, userid: int, when: int) -> None:
    done = state.criteria_completions.first_by("user_criterion", (userid, criterion.id))
    if done is None:
        state.criteria_completions.insert(CriterionCompletion(state.criteria_completions.new_id(), userid,
                                                              criterion.course, criterion.id, when))
    elif done.timecompleted is None:
        state.criteria_completions.update(done, timecompleted=when)


def criterion_time(state: State, criterion: CompletionCriterion, userid: int) -> int | None:
    done = state.criteria_completions.first_by("user_criterion", (userid, criterion.id))
    return done.timecompleted if done else None


def course_completion(state: State, courseid: int, userid: int) -> CourseCompletion | None:
    return state.course_completions.first_by("user_course", (userid, courseid))


def is_course_complete(state: State, courseid: int, userid: int) -> bool:
    row = course_completion(state, courseid, userid)
    return row is not None and row.timecompleted is not None


def set_course_completion(state: State, courseid: int, userid: int, timecompleted: int | None,
                          timeenrolled: int = 0) -> CourseCompletion:
    row = course_completion(state, courseid, userid)
    if row is None:
        return state.course_completions.insert(CourseCompletion(state.course_completions.new_id(), userid, courseid,
                                                                timeenrolled, 0, timecompleted))
    return state.course_completions.update(row, timecompleted=timecompleted)


def aggregate(state: State, course: Course, userid: int, now: int) -> None:
    """Mark the course complete once its criteria are met (ALL or ANY); an existing time never changes."""
    criteria = criteria_of(state, course.id)
    if not criteria or is_course_complete(state, course.id, userid):
        return
    times = [criterion_time(state, c, userid) for c in criteria]
    met = [t for t in times if t is not None]
    complete = bool(met) and (len(met) == len(times) or course.completionaggregation == AGGREGATION_ANY)
    if complete:
        # completion_completion::mark_complete(): the time is the latest criterion time
        set_course_completion(state, course.id, userid, max(met))
    elif course_completion(state, course.id, userid) is None:
        set_course_completion(state, course.id, userid, None, timeenrolled=now)


def progress_percentage(state: State, course: Course, userid: int) -> float | None:
    """core_completion\\progress: share of tracked activities complete, None when none are tracked."""
    if not course.enablecompletion:
        return None
    tracked = [cm for cm in state.modules.by("course", course.id) if cm.completion]
    if not tracked:
        return None
    done = 0
    for cm in tracked:
        row = module_state(state, cm.id, userid)
        if row is not None and row.completionstate in COMPLETE_STATES:
            done += 1
    return done / len(tracked) * 100


def rule_details(cm: CourseModule, row: ModuleCompletion | None) -> list[dict[str, object]]:
    """cm_completion_details::get_details(): one entry per automatic completion rule of the activity."""
    if cm.completion != 2:
        return []
    state = row.completionstate if row else COMPLETION_INCOMPLETE
    done = 1 if state in COMPLETE_STATES else 0
    rules: list[dict[str, object]] = []
    if cm.completionview:
        viewed = 1 if (row is not None and (row.viewed or done)) else 0
        rules.append({"rulename": "completionview", "rulevalue": {"status": viewed, "description": "View"}})
    if cm.completiongradeitemnumber is not None:
        rules.append({"rulename": "completionusegrade",
                      "rulevalue": {"status": done, "description": "Receive a grade"}})
    if cm.completionpassgrade:
        rules.append({"rulename": "completionpassgrade",
                      "rulevalue": {"status": done, "description": "Receive a passing grade"}})
    return rules
