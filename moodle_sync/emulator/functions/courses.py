"""Courses: get_courses_by_field, get_courses, search, create, update, delete, get_contents, import.

Semantics from course/externallib.php as described in ws-reference.md §2.2 and §2.9, answers shaped
like the recorded ones (contract steps 'get course by idnumber', 'course contents').
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import (
    MoodleError,
    context_error,
    invalid_parameter,
    missing_record,
    moodle_exception,
)
from moodle_sync.emulator.functions.categories import validate_format
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import CompletionCriterion, Course, CourseModule, Section
from moodle_sync.emulator.model.state import SITEID
from moodle_sync.emulator.moodlelib import completionlib, courselib
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.moodlelib.enrollib import is_enrolled
from moodle_sync.emulator.paramtypes import clean_param, php_int

UPDATE = "moodle/course:update"
VIEWHIDDEN = "moodle/course:viewhiddencourses"
FILTERS = ("displayh5p", "activitynames", "mathjaxloader", "emoticon", "urltolink", "mediaplugin")


# --- course descriptions ---------------------------------------------------------------------------
def custom_fields_info(call: Call, course: Course) -> list[dict[str, Any]] | None:
    """export_instance_data(): every visible course field, set or not; None when the site defines none."""
    fields = sorted(call.state.course_fields, key=lambda f: f.id)
    if not fields:
        return None
    out = []
    for field in fields:
        if field.visibility == 0 or (field.visibility == 1 and not call.can(UPDATE)):
            continue  # "Nobody" fields are never returned; "teachers" fields need course:update
        raw = course.customfields.get(field.shortname, field.defaultvalue)
        value = raw
        if field.type == "checkbox":
            value = "Yes" if raw not in ("", "0") else "No"
        elif field.type == "select":
            index = php_int(raw)
            value = field.options[index - 1] if 0 < index <= len(field.options) else ""
        out.append({"type": field.type, "value": value, "valueraw": raw, "shortname": field.shortname,
                    "name": field.name})
    return out


def public_info(call: Call, course: Course) -> dict[str, Any]:
    """get_course_public_information(): what anyone who may see the course gets."""
    state = call.state
    category = state.categories.get(course.category)
    summary, summaryformat = fmt.format_text(course.summary, course.summaryformat, call.raw)
    info: dict[str, Any] = {
        "id": course.id, "fullname": fmt.format_string(course.fullname, call.raw),
        "displayname": fmt.format_string(courselib.display_name(course), call.raw),
        "shortname": fmt.format_string(course.shortname, call.raw), "categoryid": course.category,
        "categoryname": fmt.format_string(category.name, call.raw) if category else "",
        "summary": summary, "summaryformat": summaryformat, "summaryfiles": [], "overviewfiles": [],
        "contacts": [{"id": i, "fullname": n} for i, n in courselib.course_contacts(state, course, call.now)],
        "enrollmentmethods": courselib.enrolment_methods(state, course.id),
        # the columns as stored: clean_returnvalue makes 0/1 a bool and keeps NULL (the site course's) null
        "sortorder": state.course_sortorder(course.id), "showactivitydates": course.showactivitydates,
        "showcompletionconditions": course.showcompletionconditions,
        "courseimage": fmt.course_image_url(call.site_url, course.contextid),
    }
    customfields = custom_fields_info(call, course)
    if customfields is not None:
        info["customfields"] = customfields
    return info


def full_info(call: Call, course: Course) -> dict[str, Any]:
    """get_courses_by_field: public info plus settings, and manager fields with moodle/course:update."""
    info = public_info(call, course)
    for name in ("format", "showgrades", "newsitems", "startdate", "enddate", "maxbytes", "showreports", "visible",
                 "groupmode", "groupmodeforce", "defaultgroupingid", "enablecompletion", "completionnotify",
                 "marker"):
        info[name] = getattr(course, name)
    info["lang"] = clean_param(course.lang, "lang", call.env)
    info["theme"] = clean_param(course.theme, "theme", call.env)
    info["filters"] = [{"filter": f, "localstate": 0, "inheritedstate": 1} for f in FILTERS]
    if call.can(UPDATE):
        info.update(idnumber=course.idnumber, legacyfiles=course.legacyfiles, calendartype=course.calendartype,
                    timecreated=course.timecreated, timemodified=course.timemodified, requested=course.requested,
                    cacherev=course.cacherev)
    if course.formatoptions:
        info["courseformatoptions"] = [{"name": k, "value": v} for k, v in course.formatoptions.items()]
    return info


def can_see(call: Call, course: Course) -> bool:
    return bool(course.visible) or call.can(VIEWHIDDEN) or call.can(UPDATE)


@implements("core_course_get_courses_by_field")
def get_courses_by_field(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    field, value = params["field"], params["value"]
    warnings: list[dict[str, Any]] = []
    if not field:
        courses = sorted(state.courses, key=lambda c: c.id)
    elif field in ("id", "category"):
        # a value of the wrong type is cleaned to 0 and finds nothing (contract step 'wrong param type')
        number = php_int(value)
        if field == "id":
            course = state.courses.get(number)
            courses = [course] if course else []
        else:
            courses = sorted(state.courses.by("category", number), key=lambda c: c.id)
    elif field == "ids":
        courses = []
        seen: set[str] = set()
        for part in str(clean_param(value, "sequence")).split(","):
            if part in seen:
                continue
            seen.add(part)
            course = state.courses.get(php_int(part)) if part else None
            if course is None:
                # util::validate_courses(): an id without a course context becomes a warning
                warnings.append({"item": "course", "itemid": php_int(part), "warningcode": "1",
                                 "message": "No access rights in course context"})
            else:
                courses.append(course)
    elif field == "shortname":
        courses = state.courses.by("shortname", clean_param(value, "text"))
    elif field == "idnumber":
        courses = state.courses.by("idnumber", value) if value else [c for c in state.courses if not c.idnumber]
    else:
        raise invalid_parameter("Invalid field name")
    out = [full_info(call, c) for c in sorted(courses, key=lambda c: c.id) if can_see(call, c)]
    return {"courses": out, "warnings": warnings}


@implements("core_course_get_courses")
def get_courses(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    ids = params["options"].get("ids") if isinstance(params["options"], dict) else None
    if ids:
        courses = [state.courses.rows[i] for i in dict.fromkeys(ids) if i in state.courses.rows]
    else:
        courses = sorted(state.courses, key=lambda c: c.id)
    out = []
    for course in courses:
        if course.id != SITEID:
            call.require("moodle/course:view")
        summary, summaryformat = fmt.format_text(course.summary, course.summaryformat, call.raw)
        info: dict[str, Any] = {
            "id": course.id, "fullname": fmt.format_string(course.fullname, call.raw),
            "shortname": fmt.format_string(course.shortname, call.raw),
            "displayname": fmt.format_string(courselib.display_name(course), call.raw), "categoryid": course.category,
            "summary": summary, "summaryformat": summaryformat, "format": course.format,
            "startdate": course.startdate, "enddate": course.enddate,
            "showactivitydates": course.showactivitydates,
            "showcompletionconditions": course.showcompletionconditions,  # NULL on the site course
        }
        customfields = custom_fields_info(call, course)
        if customfields is not None:
            info["customfields"] = customfields
        if call.can(UPDATE):
            info.update(
                categorysortorder=state.course_sortorder(course.id), idnumber=course.idnumber,
                showgrades=course.showgrades, showreports=course.showreports, newsitems=course.newsitems,
                visible=course.visible, maxbytes=course.maxbytes,
                numsections=courselib.last_section_number(state, course.id), groupmode=course.groupmode,
                groupmodeforce=course.groupmodeforce, defaultgroupingid=course.defaultgroupingid,
                lang=clean_param(course.lang, "lang", call.env), timecreated=course.timecreated,
                timemodified=course.timemodified, forcetheme=clean_param(course.theme, "theme", call.env),
                enablecompletion=course.enablecompletion, completionnotify=course.completionnotify,
                courseformatoptions=[{"name": k, "value": v} for k, v in course.formatoptions.items()])
            if "hiddensections" in course.formatoptions:
                info["hiddensections"] = course.formatoptions["hiddensections"]
        if call.can(UPDATE) or course.visible or call.can(VIEWHIDDEN):
            out.append(info)
    return out


@implements("core_course_search_courses")
def search_courses(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    name = params["criterianame"]
    allowed = ("search", "modulelist", "blocklist", "tagid")
    if name not in allowed:
        raise invalid_parameter(f"Invalid value for criterianame parameter (value: {name}),allowed values are: "
                                f"{','.join(allowed)}")
    if name in ("modulelist", "blocklist"):
        call.require("moodle/site:config")
    value = params["criteriavalue"]
    candidates = [c for c in state.courses if c.id != SITEID and can_see(call, c)]
    if name == "search":
        candidates = [c for c in candidates if _search_match(c, str(value))]
    elif name == "modulelist":
        modname = clean_param(value, "plugin")
        candidates = [c for c in candidates if any(m.modname == modname for m in state.modules.by("course", c.id))]
    else:
        candidates = []  # no blocks or tags in the emulator
    if params["onlywithcompletion"]:
        candidates = [c for c in candidates if c.enablecompletion]
    if params["limittoenrolled"]:
        candidates = [c for c in candidates if is_enrolled(state, c.id, call.user.id, True, call.now)]
    candidates.sort(key=lambda c: state.course_sortorder(c.id))
    total = len(candidates)
    if params["perpage"]:
        start = params["page"] * params["perpage"]
        candidates = candidates[start:start + params["perpage"]]
    return {"total": total, "courses": [public_info(call, c) for c in candidates], "warnings": []}


def _search_match(course: Course, text: str) -> bool:
    """get_courses_search(): every term (case-insensitive) in summary+fullname+idnumber+shortname; -term excludes."""
    haystack = f"{course.summary} {course.fullname} {course.idnumber} {course.shortname}".lower()
    for term in text.split():
        if term.startswith("-") and len(term) > 1:
            if term[1:].lower() in haystack:
                return False
        elif term.lstrip("+").lower() not in haystack:
            return False
    return True


# --- writes ----------------------------------------------------------------------------------------
@implements("core_course_create_courses")
def create_courses(call: Call, params: Params) -> list[dict[str, Any]]:
    state, env = call.state, call.env
    out = []
    for item in params["courses"]:
        data = dict(item)
        if "idnumber" in data:
            data["idnumber"] = data["idnumber"].strip()
        for name in ("fullname", "shortname"):
            if data[name].strip() == "":
                raise moodle_exception("errorinvalidparam", "webservice", name)
        try:
            category = call.category_context(data["categoryid"])
        except MoodleError as e:
            raise context_error("category", data["categoryid"], e) from None
        call.require("moodle/course:create")
        if "lang" in data:
            # lang "" is not an installed language (contract step 'course with empty lang is rejected')
            if data["lang"] not in env.languages:
                raise moodle_exception("errorinvalidparam", "webservice", "lang")
            if not call.can("moodle/course:setforcedlanguage"):
                del data["lang"]
        if "forcetheme" in data:
            if data["forcetheme"] not in env.themes:
                raise moodle_exception("errorinvalidparam", "webservice", "forcetheme")
            data["theme"] = data["forcetheme"]
        if not call.can("moodle/course:visibility"):
            data["visible"] = category.visible
        if state.config.enablecompletion:
            data.setdefault("enablecompletion", 1)  # moodlecourse/enablecompletion (site default on)
        else:
            data["enablecompletion"] = 0  # completion off for the site: forced off, whatever was sent
        data["category"] = data["categoryid"]
        data["summaryformat"] = validate_format(data["summaryformat"])
        for option in data.pop("courseformatoptions", None) or []:
            data[option["name"]] = option["value"]  # copied onto the course record, e.g. numsections
        data["customfields"] = {f["shortname"]: f["value"] for f in data.get("customfields") or []}
        course = courselib.create_course(state, call.now, data)
        out.append({"id": course.id, "shortname": item["shortname"]})
    return out


@implements("core_course_update_courses", atomic=False)
def update_courses(call: Call, params: Params) -> dict[str, Any]:
    warnings = []
    for item in params["courses"]:
        try:
            with call.state.journal.transaction():
                _update_one(call, item)
        except MoodleError as e:
            # each course on its own: a failure becomes a warning, the rest go on (ws-reference.md §2.2)
            warnings.append({"item": "course", "itemid": item["id"], "warningcode": e.errorcode or "",
                             "message": e.message})
    return {"warnings": warnings}


def _update_one(call: Call, item: dict[str, Any]) -> None:
    state = call.state
    old = state.courses.get(item["id"])
    if old is None:
        raise missing_record("course")
    call.require(UPDATE)
    data = dict(item)
    if "categoryid" in data and data["categoryid"] != old.category:
        call.require("moodle/course:changecategory")
        data["category"] = data["categoryid"]
    for name, cap in (("fullname", "changefullname"), ("shortname", "changeshortname")):
        if name in data and data[name] != getattr(old, name):
            call.require(f"moodle/course:{cap}")
            if data[name].strip() == "":
                raise moodle_exception("errorinvalidparam", "webservice", name)
    if "idnumber" in data and data["idnumber"] != old.idnumber:
        call.require("moodle/course:changeidnumber")
    if "summary" in data and data["summary"] != old.summary:
        call.require("moodle/course:changesummary")
    if "summaryformat" in data and data["summaryformat"] != old.summaryformat:
        call.require("moodle/course:changesummary")
        data["summaryformat"] = validate_format(data["summaryformat"])
    if "visible" in data and data["visible"] != old.visible:
        call.require("moodle/course:visibility")
    if "lang" in data and data["lang"] != old.lang:
        call.require("moodle/course:setforcedlanguage")
        if data["lang"] not in call.env.languages:
            raise moodle_exception("errorinvalidparam", "webservice", "lang")
    if "forcetheme" in data:
        if data["forcetheme"] not in call.env.themes:
            raise moodle_exception("errorinvalidparam", "webservice", "forcetheme")
        data["theme"] = data["forcetheme"]
    for option in data.pop("courseformatoptions", None) or []:
        data[option["name"]] = option["value"]
    if "customfields" in data:
        data["customfields"] = {f["shortname"]: f["value"] for f in data["customfields"] or []}
    if "category" in data and state.categories.get(data["category"]) is None:
        raise invalid_parameter("Context does not exist")
    courselib.update_course(state, call.now, old, data)


@implements("core_course_delete_courses", atomic=False)
def delete_courses(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    warnings = []
    for courseid in params["courseids"]:
        course = state.courses.get(courseid)
        if course is None:
            warnings.append({"item": "course", "itemid": courseid, "warningcode": "unknowncourseidnumber",
                             "message": f"Unknown course ID {courseid}"})
            continue
        if course.id == SITEID or not call.can("moodle/course:delete"):
            warnings.append({"item": "course", "itemid": courseid, "warningcode": "cannotdeletecourse",
                             "message": f"You do not have the permission to delete this course{courseid}"})
            continue
        with state.journal.transaction():
            courselib.delete_course(state, course)
    return {"warnings": warnings}


# --- contents --------------------------------------------------------------------------------------
def module_info(call: Call, course: Course, cm: CourseModule) -> dict[str, Any]:
    cfg = call.state.config
    info: dict[str, Any] = {
        "id": cm.id, "name": fmt.format_string(cm.name, call.raw), "instance": cm.instance, "contextid": cm.contextid,
        "visible": cm.visible, "uservisible": True, "visibleoncoursepage": cm.visibleoncoursepage,
        "modicon": fmt.module_icon_url(call.site_url, cfg.themerev, cm.modname), "modname": cm.modname,
        "modplural": courselib.MODPLURALS.get(cm.modname, cm.modname), "availability": None, "indent": cm.indent,
        "onclick": "", "afterlink": None,
        "customdata": cfg.moodle.forum_customdata if cm.modname == "forum" else '""',
        "noviewlink": cm.modname in courselib.NO_VIEW_LINK, "completion": cm.completion, "downloadcontent": 1,
        "dates": [], "groupmode": cm.groupmode, "branded": False,
        "purpose": courselib.MOD_PURPOSES.get(cm.modname, "other"),  # branded: 4.4+ (4.3's signature drops it)
    }
    if cm.modname == "forum":
        # only modules with an activity badge (mod/*/classes/output/courseformat/activitybadge.php) carry the key:
        # the recorded forum does, the recorded page does not (contract-reportbuilder 'course contents after import')
        info["activitybadge"] = []
    if cm.modname not in courselib.NO_VIEW_LINK:
        info["url"] = fmt.module_url(call.site_url, cm.modname, cm.id)
    if cm.modname == "page":
        # mod/page/lib.php page_export_contents(): the page itself as index.html (contract-reportbuilder-4.3.json)
        url = f"{call.site_url}/webservice/pluginfile.php/{cm.contextid}/mod_page/content/index.html?forcedownload=1"
        info["contents"] = [{"type": "file", "filename": "index.html", "filepath": "/", "filesize": 0, "fileurl": url,
                             "timecreated": None, "timemodified": cm.added, "sortorder": 1, "userid": None,
                             "author": None, "license": None}]
        info["contentsinfo"] = {"filescount": 1, "filessize": 0, "lastmodified": cm.added, "mimetypes": [],
                                "repositorytype": ""}
    if cm.completion and course.enablecompletion:
        row = completionlib.module_state(call.state, cm.id, call.user.id)
        info["completiondata"] = {
            "state": row.completionstate if row else 0, "timecompleted": row.timemodified if row else 0,
            "overrideby": row.overrideby if row else None, "valueused": False, "hascompletion": True,
            "isautomatic": cm.completion == 2,
            "istrackeduser": completionlib.is_tracked_user(call.state, course, call.user.id, call.now),
            "uservisible": True, "details": completionlib.rule_details(cm, row),
            # 4.4+: cm_completion_details::is_overall_complete(), complete or complete-pass
            "isoverallcomplete": bool(row and row.completionstate in (1, 2)),
        }
    return info


def section_info(call: Call, course: Course, section: Section, modules: list[dict[str, Any]]) -> dict[str, Any]:
    summary, summaryformat = fmt.format_text(section.summary, section.summaryformat, call.raw)
    name = courselib.section_name(course, section, call.state.config.moodle)
    return {"id": section.id, "name": fmt.format_string(name, call.raw),
            "visible": section.visible, "summary": summary, "summaryformat": summaryformat,
            "section": section.section, "hiddenbynumsections": 0, "uservisible": True, "modules": modules,
            "component": None, "itemid": None}  # 4.4+: the plugin a delegated section belongs to (none here)


@implements("core_course_get_contents")
def get_contents(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course")
    filters: dict[str, Any] = {}
    for option in params["options"]:
        name = option["name"].strip()
        if name in filters:
            continue
        if name in ("excludemodules", "excludecontents", "includestealthmodules"):
            filters[name] = bool(clean_param(option["value"], "bool"))
        elif name in ("sectionid", "sectionnumber", "cmid", "modid"):
            filters[name] = php_int(option["value"])
        elif name == "modname":
            value = clean_param(option["value"], "plugin")
            if not value:
                raise moodle_exception("errorinvalidparam", "webservice", name)
            filters[name] = value
        else:
            raise moodle_exception("errorinvalidparam", "webservice", name)
    out = []
    for section in courselib.sections_of(state, course.id):
        if "sectionid" in filters and section.id != filters["sectionid"]:
            continue
        if "sectionnumber" in filters and section.section != filters["sectionnumber"]:
            continue
        modules = []
        if not filters.get("excludemodules"):
            for cmid in section.sequence:
                cm = state.modules.get(cmid)
                if cm is None:
                    continue
                if "cmid" in filters and cm.id != filters["cmid"]:
                    continue
                if "modname" in filters and cm.modname != filters["modname"]:
                    continue
                if "modid" in filters and cm.instance != filters["modid"]:
                    continue
                modules.append(module_info(call, course, cm))
        out.append(section_info(call, course, section, modules))
    return out


@implements("core_course_import_course", atomic=False)
def import_course(call: Call, params: Params) -> None:
    """Backup the source and restore it into the target (MODE_IMPORT, no user data), synchronously."""
    state = call.state
    if params["deletecontent"] not in (0, 1):
        raise moodle_exception("invalidextparam", "webservice", params["deletecontent"])
    source = state.courses.get(params["importfrom"])
    target = state.courses.get(params["importto"])
    if source is None or target is None:
        raise moodle_exception("invalidcourseid")
    settings = {"activities": 1, "blocks": 1, "filters": 1}
    for option in params["options"]:
        value = clean_param(option["value"], "int")
        if value not in (0, 1) or option["name"] not in settings:
            raise moodle_exception("invalidextparam", "webservice", option["name"])
        settings[option["name"]] = php_int(value)
    call.require("moodle/backup:backuptargetimport")
    call.require("moodle/restore:restoretargetimport")
    if params["deletecontent"]:
        for cm in state.modules.by("course", target.id):
            courselib.delete_module(state, cm)
        for section in courselib.sections_of(state, target.id):
            if section.section == 0:
                state.sections.update(section, sequence=())
            else:
                state.sections.delete(section)
    if not settings["activities"]:
        return
    copies: dict[int, int] = {}
    for section in courselib.sections_of(state, source.id):
        # existing target sections keep their settings; missing ones come with the template's name and summary
        courselib.ensure_section(state, target.id, section.section, section.name, section.summary, section.visible)
        for cmid in section.sequence:
            source_cm = state.modules.get(cmid)
            if source_cm is not None:
                # every activity is copied, the template's Announcements forum too (README: the course has two)
                copies[source_cm.id] = courselib.copy_module(state, call.now, source_cm, target.id, section.section).id
    # criteria are restored only into a course that has none, re-pointed at the copied activities
    if not completionlib.has_criteria(state, target.id):
        for crit in completionlib.criteria_of(state, source.id):
            moduleinstance = copies.get(crit.moduleinstance) if crit.moduleinstance is not None else None
            if crit.criteriatype == completionlib.CRITERIA_TYPE_ACTIVITY and moduleinstance is None:
                continue
            state.criteria.insert(CompletionCriterion(state.criteria.new_id(), target.id, crit.criteriatype,
                                                      crit.module, moduleinstance))
        target = state.courses.rows[target.id]
        aggregation = source.completionaggregation
        if completionlib.has_criteria(state, target.id) and target.completionaggregation != aggregation:
            state.courses.update(target, completionaggregation=aggregation)
