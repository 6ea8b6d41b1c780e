"""Completion: course status of one user, activity statuses, and a teacher's override.

get_course_completion_status checks in Moodle 4.3's order (completion/classes/external.php): the user is
active, the caller may enter the course (validate_context → require_login), completion is on and the caller
may view it (cannotviewreport), separate groups (accessdenied), tracked (usernotenroled), criteria
(nocriteriaset); then each criterion's state live (README).
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import MoodleError, missing_record, moodle_exception
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import CompletionCriterion, Course, User
from moodle_sync.emulator.model.state import GUEST_ID
from moodle_sync.emulator.moodlelib import completionlib as cl
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.strings import get_string

SEPARATEGROUPS = 1


def _active_user(call: Call, userid: int, *, require_active: bool = True) -> User:
    user = call.state.users.get(userid)
    if user is None:
        raise missing_record("user")
    # core_user::require_active_user(): "userdeleted" has no string in error.php, so it reads error/userdeleted
    if user.deleted:
        raise moodle_exception("userdeleted")
    if require_active and user.id == GUEST_ID:
        raise moodle_exception("guestsarenotallowed")
    return user


def _require_login(call: Call, course: Course) -> None:
    """validate_context() → require_login($course, …, $preventredirect=true) for the web-service user
    (lib/moodlelib.php): a hidden course needs moodle/course:viewhiddencourses. Its later check (an active
    enrolment or moodle/course:view, else 'Not enrolled') is not emulated: tokens here carry capabilities,
    not course enrolments of their user."""
    if not course.visible and not call.can("moodle/course:viewhiddencourses"):
        raise _require_login_exception("Course is hidden")


def _require_login_exception(debuginfo: str) -> MoodleError:
    # lib/setuplib.php require_login_exception; lang/en/error.php requireloginerror
    return MoodleError("require_login_exception", "requireloginerror", "Course or activity not accessible.", debuginfo)


def _can_view_data(call: Call, course: Course, userid: int) -> bool:
    """completion_can_view_data() (lib/completionlib.php): completion on for the site and the course, and own
    data or moodle/user:viewuseractivitiesreport or report/completion:view."""
    if not call.state.config.enablecompletion or not course.enablecompletion:
        return False
    return (userid == call.user.id or call.can("moodle/user:viewuseractivitiesreport")
            or call.can("report/completion:view"))


def _groups_visible(call: Call, course: Course, userid: int) -> bool:
    """groups_user_groups_visible() (lib/grouplib.php): in separate groups mode, without accessallgroups, the
    caller must share a group with the user."""
    if course.groupmode != SEPARATEGROUPS or call.can("moodle/site:accessallgroups"):
        return True
    groups = {g.id for g in call.state.groups.by("courseid", course.id)}
    theirs = {m.groupid for m in call.state.group_members.by("userid", userid)} & groups
    mine = {m.groupid for m in call.state.group_members.by("userid", call.user.id)} & groups
    return bool(theirs & mine)


def _criterion_entry(call: Call, criterion: CompletionCriterion, userid: int) -> dict[str, Any]:
    when = cl.criterion_time(call.state, criterion, userid)
    complete = when is not None
    status = "Yes" if complete else "No"
    if criterion.criteriatype == cl.CRITERIA_TYPE_ACTIVITY and criterion.moduleinstance is not None:
        cm = call.state.modules.rows[criterion.moduleinstance]
        title = get_string("activitiescompleted", "completion")
        name = fmt.format_string(cm.name, call.raw)
        link = f'<a href="{fmt.module_url(call.site_url, cm.modname, cm.id)}">{name}</a>'
        requirement = []
        if cm.completion == 1:
            requirement.append(get_string("markingyourselfcomplete", "completion"))
        elif cm.completion == 2:
            if cm.completionview:
                requirement.append(get_string("viewingactivity", "completion", cm.modname))
            if cm.completiongradeitemnumber is not None:
                requirement.append(get_string("achievinggrade", "completion"))
            if cm.completionpassgrade:
                requirement.append(get_string("achievingpassinggrade", "completion"))
        details = {"type": title, "criteria": link, "requirement": ", ".join(requirement), "status": ""}
    else:
        title = get_string("selfcompletion", "completion")
        details = {"type": title, "criteria": get_string("markingyourselfcomplete", "completion"),
                   "requirement": "", "status": ""}
    return {"type": criterion.criteriatype, "title": title, "status": status, "complete": complete,
            "timecompleted": when, "details": details}


@implements("core_completion_get_course_completion_status")
def get_course_completion_status(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course")
    user = _active_user(call, params["userid"])
    _require_login(call, course)
    if not _can_view_data(call, course, user.id):
        raise moodle_exception("cannotviewreport")  # completion off answers this too, before anything else
    if user.id != call.user.id and not _groups_visible(call, course, user.id):
        # lang/en/admin.php accessdenied
        raise MoodleError("moodle_exception", "accessdenied", "Access denied")
    if not cl.is_tracked_user(state, course, user.id, call.now):
        # the enrolment check comes before the criteria check (contract step 58)
        raise moodle_exception("notenroled" if user.id == call.user.id else "usernotenroled", "completion")
    criteria = cl.criteria_of(state, course.id)
    if not criteria:
        raise moodle_exception("nocriteriaset", "completion")
    return {"completionstatus": {"completed": cl.is_course_complete(state, course.id, user.id),
                                 "aggregation": course.completionaggregation,
                                 "completions": [_criterion_entry(call, c, user.id) for c in criteria]},
            "warnings": []}


@implements("core_completion_get_activities_completion_status")
def get_activities_completion_status(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course")
    user = _active_user(call, params["userid"])
    if user.id != call.user.id:
        call.require("report/progress:view")
    statuses = []
    tracked = cl.is_tracked_user(state, course, user.id, call.now)
    if course.enablecompletion:
        from moodle_sync.emulator.moodlelib.courselib import modules_in_order

        for cm in modules_in_order(state, course.id):
            if not cm.completion or not cm.visible:
                continue
            row = cl.module_state(state, cm.id, user.id)
            statuses.append({
                "cmid": cm.id, "modname": cm.modname, "instance": cm.instance,
                "state": row.completionstate if row else 0, "timecompleted": row.timemodified if row else 0,
                "tracking": cm.completion, "overrideby": row.overrideby if row else None, "valueused": False,
                "hascompletion": True, "isautomatic": cm.completion == 2, "istrackeduser": tracked,
                "uservisible": True, "details": cl.rule_details(cm, row)})
    return {"statuses": statuses, "warnings": []}


@implements("core_completion_override_activity_completion_status")
def override_activity_completion_status(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    cm = state.modules.get(params["cmid"])
    if cm is None:
        raise missing_record("course_modules")
    course = state.courses.rows[cm.course]
    if not course.enablecompletion:
        raise moodle_exception("completionnotenabled", "completion")
    call.require("moodle/course:overridecompletion")
    user = _active_user(call, params["userid"], require_active=False)  # no require_active_user() here
    if cm.completion:
        # set by someone else: the learner's own lastaccess/lastcourseaccess stay untouched (README)
        cl.set_module_state(state, call.now, cm, user.id, params["newstate"], overrideby=call.user.id)
    row = cl.module_state(state, cm.id, user.id)
    return {"cmid": cm.id, "userid": user.id, "state": row.completionstate if row else 0,
            "timecompleted": row.timemodified if row else 0, "overrideby": row.overrideby if row else None,
            "tracking": cm.completion}
