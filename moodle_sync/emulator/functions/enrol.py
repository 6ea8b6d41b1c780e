"""Enrolment: manual enrol/unenrol, enrolled users, a user's courses, enrolment methods.

enrol_manual_enrol_users is an upsert whose omitted dates reset to 0 and omitted suspend means
active again (README); status and dates are kept per enrolment in state.user_enrolments.
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import invalid_parameter, missing_record, moodle_exception
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import CONTEXT_COURSE
from moodle_sync.emulator.moodlelib import completionlib, courselib, enrollib, userlib
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.paramtypes import clean_param, php_int


def assignable_roles(call: Call) -> set[int]:
    """get_assignable_roles() in a course for a site admin: roles whose context levels include courses."""
    return {r.id for r in call.state.roles if CONTEXT_COURSE in r.contextlevels}


@implements("enrol_manual_enrol_users")
def enrol_users(call: Call, params: Params) -> None:
    state = call.state
    for item in params["enrolments"]:
        course = call.course_context(item["courseid"])  # missing course: invalidparameter (contract step 48)
        call.require("enrol/manual:enrol")
        if item["roleid"] not in assignable_roles(call):
            raise moodle_exception("wsusercannotassign", "enrol_manual", {
                "roleid": item["roleid"], "courseid": item["courseid"], "userid": item["userid"]})
        instance = enrollib.manual_instance(state, course.id)
        if instance is None:
            # $errorparams is passed as the link, so the message keeps a literal {$a->courseid}
            raise moodle_exception("wsnoinstance", "enrol_manual")
        status = enrollib.ENROL_USER_SUSPENDED if item.get("suspend") else enrollib.ENROL_USER_ACTIVE
        enrollib.enrol_user(state, call.now, instance, item["userid"], item["roleid"], item.get("timestart") or 0,
                            item.get("timeend") or 0, status, call.user.id)


@implements("enrol_manual_unenrol_users")
def unenrol_users(call: Call, params: Params) -> None:
    state = call.state
    for item in params["enrolments"]:
        course = state.courses.get(item["courseid"])
        if course is None:
            raise missing_record("course")
        call.require("enrol/manual:unenrol")
        instance = enrollib.manual_instance(state, course.id, enabled_only=False)
        if instance is None:
            raise moodle_exception("wsnoinstance", "enrol_manual")
        if state.users.get(item["userid"]) is None:
            raise invalid_parameter(f"User id not exist: {item['userid']}")
        # roleid is accepted but ignored: the whole manual enrolment goes (ws-reference.md §2.6)
        enrollib.unenrol_user(state, instance, item["userid"])


@implements("core_enrol_get_enrolled_users")
def get_enrolled_users(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    withcapability, groupid, onlyactive = "", 0, False
    userfields: list[str] = []
    limitfrom = limitnumber = 0
    sortby, direction = "id", "ASC"
    for option in params["options"]:
        name, value = option["name"], option["value"]
        if name == "withcapability":
            withcapability = value
        elif name == "groupid":
            groupid = php_int(value)
        elif name == "onlyactive":
            onlyactive = bool(value) and value != "0"
        elif name == "userfields":
            userfields = [str(clean_param(f, "alphanumext")) for f in str(value).split(",")]
        elif name == "limitfrom":
            limitfrom = php_int(value)
        elif name == "limitnumber":
            limitnumber = php_int(value)
        elif name == "sortby":
            allowed = ("id", "firstname", "lastname", "siteorder")
            if value not in allowed:
                raise invalid_parameter(f"Invalid value for sortby parameter (value: {value}),allowed values are: "
                                        f"{','.join(allowed)}")
            sortby = value
        elif name == "sortdirection":
            direction = str(value).upper()
            if direction not in ("ASC", "DESC"):
                raise invalid_parameter(f"Invalid value for sortdirection parameter (value: {direction}),allowed "
                                        "values are: ASC,DESC")
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course")
    call.require("moodle/course:viewparticipants")
    if withcapability:
        call.require("moodle/role:review")
    if groupid:
        call.require("moodle/site:accessallgroups")
    if onlyactive:
        call.require("moodle/course:enrolreview")
    ids = enrollib.enrolled_user_ids(state, course.id, onlyactive, call.now)
    if groupid:
        ids &= {m.userid for m in state.group_members.by("groupid", groupid)}
    users = [state.users.rows[i] for i in ids]
    if sortby == "siteorder":
        users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
    else:
        users.sort(key=lambda u: (getattr(u, sortby), u.id))
    if direction == "DESC":
        users.reverse()
    if limitnumber > 0:
        users = users[limitfrom:limitfrom + limitnumber]
    elif limitfrom > 0:
        users = users[limitfrom:]
    out = []
    for user in users:
        # userfields never drop fullname: it is always in the answer (contract steps 50-53)
        details = userlib.user_details(state, call.site_url, user, fields=userfields or None, course=course,
                                       can=call.can, viewer_id=call.user.id, now=call.now)
        if details:
            out.append(details)
    return out


@implements("core_enrol_get_course_enrolment_methods")
def get_course_enrolment_methods(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course")
    out = []
    for instance in enrollib.instances_of(state, course.id, enabled_only=True):
        # only self and guest implement get_enrol_info(): manual and cohort instances are never listed
        if instance.enrol == "self":
            out.append({"id": instance.id, "courseid": course.id, "type": "self", "name": "Self enrolment (Student)",
                        "status": True, "wsfunction": "enrol_self_get_instance_info"})
        elif instance.enrol == "guest":
            out.append({"id": instance.id, "courseid": course.id, "type": "guest", "name": "Guest access",
                        "status": True, "wsfunction": "enrol_guest_get_instance_info"})
    return out


@implements("core_enrol_get_users_courses")
def get_users_courses(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    userid = params["userid"]
    same = userid == call.user.id
    out = []
    for courseid in sorted(enrollib.user_course_ids(state, userid, True, call.now)):
        course = state.courses.rows[courseid]
        if not same and not call.can("moodle/course:viewparticipants"):
            continue
        summary, summaryformat = fmt.format_text(course.summary, course.summaryformat, call.raw)
        progress: float | None = None
        completed: bool | None = None
        hascriteria = tracked = False
        if course.enablecompletion and (same or call.can("report/completion:view")):
            completed = completionlib.is_course_complete(state, course.id, userid)
            hascriteria = completionlib.has_criteria(state, course.id)
            tracked = completionlib.is_tracked_user(state, course, userid, call.now)
            progress = completionlib.progress_percentage(state, course, userid)
        access = state.lastaccess.first_by("user_course", (userid, course.id))
        info: dict[str, Any] = {
            "id": course.id, "shortname": fmt.format_string(course.shortname, call.raw),
            "fullname": fmt.format_string(course.fullname, call.raw),
            "displayname": fmt.format_string(courselib.display_name(course), call.raw), "idnumber": course.idnumber,
            "visible": course.visible, "summary": summary, "summaryformat": summaryformat, "format": course.format,
            "showgrades": course.showgrades, "lang": clean_param(course.lang, "lang", call.env),
            "enablecompletion": course.enablecompletion, "completionhascriteria": hascriteria,
            "completionusertracked": tracked, "category": course.category, "progress": progress,
            "completed": completed, "startdate": course.startdate, "enddate": course.enddate,
            "marker": course.marker, "lastaccess": access.timeaccess if access else None, "isfavourite": False,
            "hidden": False, "overviewfiles": [], "showactivitydates": course.showactivitydates,
            "showcompletionconditions": course.showcompletionconditions, "timemodified": course.timemodified,
            "courseimage": fmt.course_image_url(call.site_url, course.contextid),
        }
        if params["returnusercount"]:
            info["enrolledusercount"] = len(enrollib.enrolled_user_ids(state, course.id, False, call.now))
        out.append(info)
    return out
