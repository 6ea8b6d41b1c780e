"""Courses, sections and activities: create_course(), update_course(), delete_course() and helpers.

As course/lib.php: a new course gets sections 0..numsections, the default enrolment instances (manual on,
guest and self off) and its Announcements forum in section 0 (contract step 'course contents').
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from moodle_sync.emulator.errors import missing_record, moodle_exception
from moodle_sync.emulator.model.records import (
    CONTEXT_COURSE,
    CONTEXT_MODULE,
    Course,
    CourseModule,
    EnrolInstance,
    Section,
)
from moodle_sync.emulator.model.state import SITEID, State
from moodle_sync.emulator.paramtypes import php_int
from moodle_sync.emulator.versions import MoodleVersion

MODPLURALS = {
    "assign": "Assignments", "bigbluebuttonbn": "BigBlueButton", "book": "Books", "chat": "Chats",
    "choice": "Choices", "data": "Databases", "feedback": "Feedback", "folder": "Folders", "forum": "Forums",
    "glossary": "Glossaries", "h5pactivity": "H5P", "imscp": "IMS content packages", "label": "Text and media areas",
    "lesson": "Lessons", "lti": "External tools", "page": "Pages", "quiz": "Quizzes", "resource": "Files",
    "scorm": "SCORM packages", "survey": "Surveys", "url": "URLs", "wiki": "Wikis", "workshop": "Workshops",
}
# mod/*/lib.php *_supports(FEATURE_MOD_PURPOSE); get_contents answers it from 4.4 (required in 4.5's signature)
MOD_PURPOSES = {
    "assign": "assessment", "bigbluebuttonbn": "communication", "book": "content", "chat": "communication",
    "choice": "communication", "data": "collaboration", "feedback": "communication", "folder": "content",
    "forum": "collaboration", "glossary": "collaboration", "h5pactivity": "interactivecontent",
    "imscp": "interactivecontent", "label": "content", "lesson": "interactivecontent", "lti": "other",
    "page": "content", "quiz": "assessment", "resource": "content", "scorm": "interactivecontent",
    "survey": "communication", "url": "content", "wiki": "collaboration", "workshop": "assessment",
}
NO_VIEW_LINK = {"label"}  # modules without a view page (cm_info::has_view() false)

# per format: option name -> (default, cast); course_format::get_config_for_external() order
_FORMAT_OPTIONS: dict[str, tuple[str, ...]] = {
    "topics": ("hiddensections", "coursedisplay", "indentation"),
    "weeks": ("hiddensections", "coursedisplay", "automaticenddate", "indentation"),
}
_INT_OPTIONS = {"hiddensections", "coursedisplay", "automaticenddate"}
_OPTION_DEFAULTS: dict[str, Any] = {"hiddensections": 1, "coursedisplay": 0, "automaticenddate": 1, "indentation": "1"}


def format_options_for(fmt: str, given: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored format options: given values cast like the option's PARAM type, else old, else default."""
    out: dict[str, Any] = {}
    for name in _FORMAT_OPTIONS.get(fmt, ()):
        if name in given:
            value = given[name]
            out[name] = php_int(value) if name in _INT_OPTIONS else str(value)
        elif old is not None and name in old:
            out[name] = old[name]
        else:
            out[name] = _OPTION_DEFAULTS[name]
    return out


def validate_dates(startdate: int, enddate: int) -> None:
    """course_validate_dates(), on the dates *sent* (update_course() passes only the given fields):
    an end date before the start date, or an end date without a start date, is refused."""
    if startdate and enddate and enddate < startdate:
        raise moodle_exception("enddatebeforestartdate")
    if not startdate and enddate:
        raise moodle_exception("nostartdatenoenddate")


def create_course(state: State, now: int, data: dict[str, Any]) -> Course:
    """create_course(): checks shortname/idnumber uniqueness, then inserts course, sections, instances."""
    category = state.categories.get(data["category"])
    if category is None:
        raise missing_record("course_categories")
    shortname = str(data["shortname"])
    if shortname and state.courses.count_by("shortname", shortname):
        raise moodle_exception("shortnametaken", a=shortname)
    idnumber = str(data.get("idnumber") or "")
    if idnumber and state.courses.count_by("idnumber", idnumber):
        raise moodle_exception("courseidnumbertaken", a=idnumber)
    moodle = state.config.moodle
    startdate = php_int(data["startdate"]) if data.get("startdate") is not None else moodle.default_startdate(
        now, state.config.timezone)
    # 4.5: no enddate sent (0 is one) means the site's course duration after the start
    enddate = php_int(data["enddate"]) if data.get("enddate") is not None else (
        startdate + moodle.default_course_duration if startdate and moodle.default_course_duration else 0)
    validate_dates(startdate, enddate)
    fmt = str(data.get("format") or "topics")
    visible = php_int(data["visible"]) if data.get("visible") is not None else category.visible
    id_ = state.courses.new_id()
    contextid = state.new_context(CONTEXT_COURSE, id_)
    fields = {f.shortname for f in state.course_fields}
    course = state.courses.insert(Course(
        id=id_, category=category.id, sortkey=state.first_sortkey(), fullname=str(data["fullname"]),
        shortname=shortname, idnumber=idnumber, summary=str(data.get("summary") or ""),
        summaryformat=php_int(data.get("summaryformat", 1)), format=fmt, showgrades=php_int(data.get("showgrades", 1)),
        newsitems=php_int(data.get("newsitems", 5)), startdate=startdate, enddate=enddate, marker=0,
        maxbytes=php_int(data.get("maxbytes", 0)), legacyfiles=0, showreports=php_int(data.get("showreports", 0)),
        visible=visible, visibleold=visible, groupmode=php_int(data.get("groupmode", 0)),
        groupmodeforce=php_int(data.get("groupmodeforce", 0)),
        defaultgroupingid=php_int(data.get("defaultgroupingid", 0)), lang=str(data.get("lang") or ""),
        calendartype="", theme=str(data.get("theme") or ""), timecreated=now, timemodified=now, requested=0,
        enablecompletion=php_int(data.get("enablecompletion", 1)),
        completionnotify=php_int(data.get("completionnotify", 0)), cacherev=now,
        showactivitydates=moodle.showactivitydates_default,
        showcompletionconditions=1, pdfexportfont=None, contextid=contextid,
        formatoptions=format_options_for(fmt, data),
        customfields={k: str(v) for k, v in dict(data.get("customfields") or {}).items() if k in fields}))
    numsections = php_int(data.get("numsections", 0))
    for number in range(0, max(numsections, 0) + 1):
        ensure_section(state, course.id, number)
    if fmt in _FORMAT_OPTIONS:
        add_module(state, now, course.id, "forum", "Announcements", 0)
    course = weeks_update_end_date(state, course)  # the course_section_created observer
    # enrol_course_updated(): each enabled plugin with defaultenrol adds its default instance
    for sortorder, (enrol, status, roleid) in enumerate((("manual", 0, 5), ("guest", 1, 0), ("self", 1, 5))):
        state.enrol.insert(EnrolInstance(state.enrol.new_id(), enrol, course.id, status, roleid, sortorder))
    return course


def update_course(state: State, now: int, course: Course, data: dict[str, Any]) -> Course:
    """update_course(): uniqueness checks only on change; moving into a hidden category hides the course."""
    if course.id == SITEID:
        raise moodle_exception("invalidcourse")
    changes: dict[str, Any] = {}
    shortname = data.get("shortname")
    taken = state.courses.ids_by("shortname", shortname) if shortname != course.shortname else []
    if shortname and any(c != course.id for c in taken):
        raise moodle_exception("shortnametaken", a=shortname)
    idnumber = data.get("idnumber")
    taken = state.courses.ids_by("idnumber", idnumber) if idnumber and idnumber != course.idnumber else []
    if any(c != course.id for c in taken):
        raise moodle_exception("courseidnumbertaken", a=idnumber)
    validate_dates(php_int(data.get("startdate", 0)), php_int(data.get("enddate", 0)))
    for key in ("fullname", "shortname", "idnumber", "summary", "format", "lang", "theme"):
        if key in data and data[key] is not None:
            changes[key] = str(data[key])
    for key in ("summaryformat", "showgrades", "newsitems", "startdate", "enddate", "maxbytes", "showreports",
                "groupmode", "groupmodeforce", "defaultgroupingid", "enablecompletion", "completionnotify"):
        if key in data and data[key] is not None:
            changes[key] = php_int(data[key])
    movecat = "category" in data and data["category"] and php_int(data["category"]) != course.category
    if movecat:
        newcat = state.categories.get(php_int(data["category"]))
        if newcat is None:
            raise missing_record("course_categories")
        changes["category"] = newcat.id
        changes["sortkey"] = state.last_sortkey()
    visible = php_int(data["visible"]) if data.get("visible") is not None else course.visible
    if visible != course.visible:
        changes["visible"] = changes["visibleold"] = visible
    elif movecat and not state.categories.rows[changes["category"]].visible:
        changes["visible"] = 0  # moving into a hidden category hides the course
    fmt = changes.get("format", course.format)
    changes["formatoptions"] = format_options_for(fmt, data, course.formatoptions)
    if "customfields" in data:
        fields = {f.shortname for f in state.course_fields}
        merged = dict(course.customfields)
        merged.update({k: str(v) for k, v in dict(data["customfields"]).items() if k in fields})
        changes["customfields"] = merged
    changes["timemodified"] = now
    changes["cacherev"] = max(now, course.cacherev + 1)  # rebuild_course_cache()
    return weeks_update_end_date(state, state.courses.update(course, **changes))  # the course_updated observer


WEEK = 7 * 86400


def weeks_update_end_date(state: State, course: Course) -> Course:
    """format_weeks::update_end_date(): with ``automaticenddate`` on (the default), a weeks course ends
    one week after the start of its last section, whatever enddate was sent (its observers run on
    course_section_created and course_updated)."""
    if course.format != "weeks" or not php_int(course.formatoptions.get("automaticenddate", 1)):
        return course
    last = max((s.section for s in state.sections.by("course", course.id)), default=0)
    end = course.startdate + max(last, 1) * WEEK  # get_section_dates(): (last - 1) weeks, then one more
    return course if course.enddate == end else state.courses.update(course, enddate=end)


def delete_course(state: State, course: Course) -> None:
    """delete_course(): the course and everything in it; completion and enrolment rows included."""
    cid = course.id
    for cm in state.modules.by("course", cid):
        delete_module(state, cm)
    for section in state.sections.by("course", cid):
        state.sections.delete(section)
    for instance in state.enrol.by("courseid", cid):
        for ue in state.user_enrolments.by("enrolid", instance.id):
            state.user_enrolments.delete(ue)
        state.enrol.delete(instance)
    for ra in state.role_assignments.by("contextid", course.contextid):
        state.role_assignments.delete(ra)
    for group in state.groups.by("courseid", cid):
        for gm in state.group_members.by("groupid", group.id):
            state.group_members.delete(gm)
        state.groups.delete(group)
    for crit in state.criteria.by("course", cid):
        state.criteria.delete(crit)
    for cc in state.criteria_completions.by("course", cid):
        state.criteria_completions.delete(cc)
    for comp in state.course_completions.by("course", cid):
        state.course_completions.delete(comp)
    for la in state.lastaccess.by("courseid", cid):
        state.lastaccess.delete(la)
    _delete_context(state, CONTEXT_COURSE, cid)
    state.courses.delete(course)


def delete_module(state: State, cm: CourseModule) -> None:
    """course_delete_module(): the activity, its completion states and criteria pointing at it."""
    for mc in state.module_completions.by("coursemoduleid", cm.id):
        state.module_completions.delete(mc)
    for crit in state.criteria.by("course", cm.course):
        if crit.moduleinstance == cm.id:
            for done in state.criteria_completions.by("criteriaid", crit.id):
                state.criteria_completions.delete(done)
            state.criteria.delete(crit)
    section = state.sections.get(cm.section)
    if section is not None and cm.id in section.sequence:
        state.sections.update(section, sequence=tuple(i for i in section.sequence if i != cm.id))
    _delete_context(state, CONTEXT_MODULE, cm.id)
    state.modules.delete(cm)


def _delete_context(state: State, level: int, instanceid: int) -> None:
    ctx = state.context_of(level, instanceid)
    if ctx is not None:
        state.contexts.delete(ctx)


def ensure_section(state: State, courseid: int, number: int, name: str | None = None, summary: str = "",
                   visible: int = 1) -> Section:
    """course_create_section() unless the section number exists already."""
    existing = state.sections.first_by("course_section", (courseid, number))
    if existing is not None:
        return existing
    return state.sections.insert(Section(state.sections.new_id(), courseid, number, name, summary, 1, visible))


def add_module(state: State, now: int, courseid: int, modname: str, name: str, section: int, *,
               idnumber: str = "", completion: int = 0, completionview: int = 0, completionpassgrade: int = 0,
               completiongradeitemnumber: int | None = None, completionexpected: int = 0, visible: int = 1,
               intro: str = "", indent: int = 0, groupmode: int = 0) -> CourseModule:
    """add_moduleinfo(): a new activity appended to a section (created if missing)."""
    for number in range(0, section + 1):
        ensure_section(state, courseid, number)
    sec = ensure_section(state, courseid, section)
    id_ = state.modules.new_id()
    contextid = state.new_context(CONTEXT_MODULE, id_)
    cm = state.modules.insert(CourseModule(
        id=id_, course=courseid, modname=modname, instance=state.new_instance_id(), section=sec.id, idnumber=idnumber,
        name=name, intro=intro, visible=visible, visibleoncoursepage=1, completion=completion,
        completionview=completionview, completionexpected=completionexpected, completionpassgrade=completionpassgrade,
        completiongradeitemnumber=completiongradeitemnumber, groupmode=groupmode, indent=indent, added=now,
        contextid=contextid))
    state.sections.update(sec, sequence=(*sec.sequence, cm.id))
    return cm


def copy_module(state: State, now: int, source: CourseModule, courseid: int, section: int) -> CourseModule:
    """A restored copy of an activity in another course (import keeps idnumber and completion rules)."""
    copy = add_module(state, now, courseid, source.modname, source.name, section, idnumber=source.idnumber,
                      completion=source.completion, completionview=source.completionview,
                      completionpassgrade=source.completionpassgrade,
                      completiongradeitemnumber=source.completiongradeitemnumber,
                      completionexpected=source.completionexpected, visible=source.visible, intro=source.intro,
                      indent=source.indent, groupmode=source.groupmode)
    return copy


def sections_of(state: State, courseid: int) -> list[Section]:
    return sorted(state.sections.by("course", courseid), key=lambda s: s.section)


def modules_in_order(state: State, courseid: int) -> list[CourseModule]:
    """Activities in course order: by section, then by the section's sequence."""
    out: list[CourseModule] = []
    for section in sections_of(state, courseid):
        for cmid in section.sequence:
            cm = state.modules.get(cmid)
            if cm is not None:
                out.append(cm)
    return out


def section_name(course: Course, section: Section, moodle: MoodleVersion) -> str:
    """get_section_name(): a set name, else the format's default ("General", "Topic 3" (4.5: "New section"),
    week dates)."""
    if section.name:
        return section.name
    if section.section == 0:
        return "General"
    if course.format == "weeks":
        start = dt.datetime.fromtimestamp(course.startdate + 7200 + (section.section - 1) * 604800, dt.UTC)
        end = start + dt.timedelta(days=6)
        return f"{start.day} {start:%B} - {end.day} {end:%B}"
    if course.format == "topics":
        return moodle.topic_section_name.format(section.section)
    return f"Section {section.section}"


def last_section_number(state: State, courseid: int) -> int:
    return max((s.section for s in state.sections.by("course", courseid)), default=0)


def enrolment_methods(state: State, courseid: int) -> list[str]:
    """Plugin names of the enabled instances (get_courses_by_field 'enrollmentmethods')."""
    instances = sorted(state.enrol.by("courseid", courseid), key=lambda i: (i.sortorder, i.id))
    return [i.enrol for i in instances if i.status == 0]


def course_contacts(state: State, course: Course, now: int) -> list[tuple[int, str]]:
    """(id, fullname) of actively enrolled users holding a $CFG->coursecontact role in the course."""
    from moodle_sync.emulator.moodlelib.enrollib import is_enrolled

    out: dict[int, str] = {}
    assignments = [ra for roleid in state.config.coursecontact
                   for ra in state.role_assignments.by("context_role", (course.contextid, roleid))]
    for ra in assignments:
        if ra.userid not in out:
            user = state.users.get(ra.userid)
            if user is not None and not user.deleted and is_enrolled(state, course.id, user.id, True, now):
                out[user.id] = state.user_fullname(user)
    return sorted(out.items(), key=lambda kv: kv[0])


def display_name(course: Course) -> str:
    # get_course_display_name_for_list() with $CFG->courselistshortnames off
    return course.fullname

