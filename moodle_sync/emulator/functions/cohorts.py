"""Cohorts: create, search, get, update, delete, and their members (cohort/externallib.php).

Recorded quirks kept: a duplicate idnumber is a bare invalidparameter, add_cohort_members reports
codes "1"/"2"/"3" as warnings with Moodle's own texts (typo 'cohortype' included).
"""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import invalid_parameter, missing_record, moodle_exception, required_capability
from moodle_sync.emulator.functions.categories import validate_format
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import CONTEXT_COURSECAT, CONTEXT_SYSTEM, Category, Cohort
from moodle_sync.emulator.model.state import SYSCONTEXTID
from moodle_sync.emulator.moodlelib import cohortlib
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.paramtypes import php_int

MANAGE = "moodle/cohort:manage"
VIEW = "moodle/cohort:view"
ASSIGN = "moodle/cohort:assign"


def _find_category(call: Call, kind: str, value: object) -> Category | None:
    if kind == "id":
        text = str(value)
        return call.state.categories.get(int(text)) if text.lstrip("-").isdigit() else None
    found = call.state.categories.by("idnumber", value) if value else []
    return found[0] if found else None


def _context_for(call: Call, categorytype: dict[str, Any], missing: str) -> int:
    kind = categorytype["type"]
    if kind not in ("idnumber", "id", "system"):
        raise invalid_parameter(f"category type must be id, idnumber or system:{kind}")
    if kind == "system":
        return SYSCONTEXTID
    category = _find_category(call, kind, categorytype["value"])
    if category is None:
        raise invalid_parameter(missing.format(type=kind, value=categorytype["value"]))
    return category.contextid


def _check_context(call: Call, contextid: int) -> None:
    ctx = call.state.contexts.get(contextid)
    if ctx is None:
        raise missing_record("context")
    if ctx.contextlevel not in (CONTEXT_COURSECAT, CONTEXT_SYSTEM):
        raise invalid_parameter("Invalid context")


def cohort_info(call: Call, cohort: Cohort, with_customfields: bool = True) -> dict[str, Any]:
    description, descriptionformat = fmt.format_text(cohort.description, cohort.descriptionformat, call.raw)
    info: dict[str, Any] = {"id": cohort.id, "name": fmt.format_string(cohort.name, call.raw),
                            "idnumber": cohort.idnumber, "description": description,
                            "descriptionformat": descriptionformat, "visible": cohort.visible, "theme": cohort.theme}
    if with_customfields:
        info["customfields"] = []  # no cohort custom fields defined on the site
    return info


@implements("core_cohort_create_cohorts")
def create_cohorts(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for item in params["cohorts"]:
        contextid = _context_for(call, item["categorytype"], "category not exists: category {type} = {value}")
        if state.cohorts.count_by("idnumber", item["idnumber"]):
            # any cohort with the same idnumber, '' included (contract step 'duplicate cohort idnumber')
            raise invalid_parameter(f"record already exists: idnumber={item['idnumber']}")
        _check_context(call, contextid)
        call.require(MANAGE)
        if item.get("theme") and item["theme"] not in call.env.themes:
            raise moodle_exception("errorinvalidparam", "webservice", "theme")
        descriptionformat = validate_format(item["descriptionformat"])
        cohort = cohortlib.add_cohort(
            state, call.now, contextid=contextid, name=item["name"], idnumber=item["idnumber"],
            description=item.get("description") or "", descriptionformat=descriptionformat,
            visible=int(item.get("visible", True)), theme=item.get("theme") or "")
        description, descriptionformat = fmt.format_text(cohort.description, cohort.descriptionformat, call.raw)
        # the answer echoes what was sent (plus id and defaults), not a re-read cohort
        out.append({"id": cohort.id, "name": item["name"], "idnumber": item["idnumber"], "description": description,
                    "descriptionformat": descriptionformat, "visible": cohort.visible, "theme": cohort.theme})
    return out


@implements("core_cohort_update_cohorts")
def update_cohorts(call: Call, params: Params) -> None:
    state = call.state
    for item in params["cohorts"]:
        if item["name"].strip() == "":
            raise invalid_parameter("Invalid cohort name")
        old = state.cohorts.get(item["id"])
        if old is None:
            raise missing_record("cohort")
        call.require(MANAGE)
        contextid = _context_for(call, item["categorytype"], "category not exists: category={value}")
        if contextid != old.contextid:
            _check_context(call, contextid)
            call.require(MANAGE)
        if item.get("theme") and item["theme"] not in call.env.themes:
            raise moodle_exception("errorinvalidparam", "webservice", "theme")
        changes: dict[str, Any] = {"contextid": contextid, "name": item["name"], "idnumber": item["idnumber"],
                                   "timemodified": call.now}
        # idnumber uniqueness is not checked on update (ws-reference.md §2.4)
        if "description" in item:
            changes["description"] = item["description"]
            if item["description"]:
                changes["descriptionformat"] = validate_format(item["descriptionformat"])
        if "visible" in item:
            changes["visible"] = int(item["visible"])
        if "theme" in item:
            changes["theme"] = item["theme"] or ""
        state.cohorts.update(old, **changes)


@implements("core_cohort_delete_cohorts")
def delete_cohorts(call: Call, params: Params) -> None:
    for cohortid in params["cohortids"]:
        cohort = call.state.cohorts.get(cohortid)
        if cohort is None:
            raise missing_record("cohort")  # contract step 'delete missing cohort': the whole batch fails
        _check_context(call, cohort.contextid)
        call.require(MANAGE)
        cohortlib.delete_cohort(call.state, cohort)


@implements("core_cohort_get_cohorts")
def get_cohorts(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    if params["cohortids"]:
        cohorts = [state.cohorts.rows[i] for i in dict.fromkeys(params["cohortids"]) if i in state.cohorts.rows]
    else:
        cohorts = sorted(state.cohorts, key=lambda c: c.id)
    out = []
    for cohort in cohorts:
        _check_context(call, cohort.contextid)
        if not (call.can(MANAGE) or call.can(VIEW)):
            raise required_capability(VIEW)
        out.append(cohort_info(call, cohort))
    return out


@implements("core_cohort_search_cohorts")
def search_cohorts(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    ctx = params["context"]
    if ctx["contextid"]:
        context = state.contexts.get(ctx["contextid"])
        if context is None:
            raise missing_record("context")
        contextid = context.id
    elif ctx["contextlevel"] == "system":
        contextid = SYSCONTEXTID
    elif ctx["contextlevel"] == "coursecat" and state.categories.get(ctx["instanceid"]) is not None:
        contextid = state.categories.rows[ctx["instanceid"]].contextid
    else:
        raise invalid_parameter("Missing parameters, please provide either context level with instance id or "
                                "contextid")
    manager = call.can(MANAGE)
    if not manager:
        call.require(VIEW)
    query = str(params["query"]).lower()

    def matches(c: Cohort) -> bool:
        # cohort_get_search_query(): case-insensitive LIKE on name, idnumber or description (NULL never matches)
        return not query or any(query in (text or "").lower() for text in (c.name, c.idnumber, c.description))

    order = sorted((c for c in state.cohorts if matches(c)), key=lambda c: (c.name, c.idnumber or "", c.id))
    limitfrom, limitnum = params["limitfrom"], params["limitnum"]
    includes = params["includes"]
    if includes == "self":
        found = [c for c in order if c.contextid == contextid]
        found = _page(found, limitfrom * limitnum, limitnum)  # limitfrom is a page number here
    elif includes == "parents":
        parents = _parent_contexts(call, contextid)
        found = _page([c for c in order if c.contextid in parents], limitfrom, limitnum)  # … and an offset here
    elif includes == "all":
        found = _page(order, limitfrom * limitnum, limitnum)
    else:
        raise moodle_exception("codingerror", "debug", "Invalid parameter value for 'includes'.",
                               exception="coding_exception")
    return {"cohorts": [cohort_info(call, c) for c in found if manager or c.visible]}


def _page(items: list[Cohort], offset: int, limit: int) -> list[Cohort]:
    return items[offset:offset + limit] if limit > 0 else items[offset:]


def _parent_contexts(call: Call, contextid: int) -> set[int]:
    out = {SYSCONTEXTID, contextid}
    ctx = call.state.contexts.get(contextid)
    if ctx is not None and ctx.contextlevel == CONTEXT_COURSECAT:
        category = call.state.categories.get(ctx.instanceid)
        if category is not None:
            for part in category.path.strip("/").split("/"):
                parent = call.state.categories.get(int(part))
                if parent is not None:
                    out.add(parent.contextid)
    return out


@implements("core_cohort_add_cohort_members")
def add_cohort_members(call: Call, params: Params) -> dict[str, Any]:
    state = call.state
    warnings: list[dict[str, str]] = []
    for member in params["members"]:
        ctype, cvalue = member["cohorttype"]["type"], member["cohorttype"]["value"]
        utype, uvalue = member["usertype"]["type"], member["usertype"]["value"]
        if ctype not in ("id", "idnumber"):
            warnings.append({"warningcode": "1", "message": f"invalid parameter: cohortype={ctype}"})
            continue
        if utype not in ("id", "username"):
            warnings.append({"warningcode": "1", "message": f"invalid parameter: usertype={utype}"})
            continue
        if ctype == "id":
            cohort = state.cohorts.get(php_int(cvalue)) if str(cvalue).isdigit() else None
        else:
            cohort = state.cohorts.first_by("idnumber", cvalue)
        if cohort is None:
            warnings.append({"warningcode": "2", "message": f"cohort {ctype}={cvalue} not exists"})
            continue
        if utype == "id":
            user = state.users.get(php_int(uvalue)) if str(uvalue).isdigit() else None
        else:
            user = state.users.first_by("username", uvalue)
        if user is None or user.deleted:
            warnings.append({"warningcode": "2", "message": f"user {utype}={uvalue} not exists"})
            continue
        if state.cohort_members.count_by("cohort_user", (cohort.id, user.id)):
            warnings.append({"warningcode": "3",
                             "message": f"record already exists: cohort({ctype}={cvalue} {utype}={uvalue})"})
            continue
        ctx = state.contexts.get(cohort.contextid)
        if ctx is None or ctx.contextlevel not in (CONTEXT_COURSECAT, CONTEXT_SYSTEM):
            warnings.append({"warningcode": "1", "message": f"Invalid context: {ctx.contextlevel if ctx else 0}"})
            continue
        if not (call.can(MANAGE) or call.can(ASSIGN)):
            raise required_capability(ASSIGN)  # a permission failure throws: the whole batch is rolled back
        cohortlib.add_member(state, call.now, cohort.id, user.id)
    return {"warnings": warnings}


@implements("core_cohort_delete_cohort_members")
def delete_cohort_members(call: Call, params: Params) -> None:
    state = call.state
    for member in params["members"]:
        cohort = state.cohorts.get(member["cohortid"])
        if cohort is None:
            raise missing_record("cohort")
        user = state.users.get(member["userid"])
        if user is None or user.deleted:
            raise missing_record("user")
        _check_context(call, cohort.contextid)
        if not (call.can(MANAGE) or call.can(ASSIGN)):
            raise required_capability(ASSIGN)
        cohortlib.remove_member(state, cohort.id, user.id)  # not a member: a silent no-op


@implements("core_cohort_get_cohort_members")
def get_cohort_members(call: Call, params: Params) -> list[dict[str, Any]]:
    out = []
    for cohortid in params["cohortids"]:
        cohort = call.state.cohorts.get(cohortid)
        if cohort is None:
            raise missing_record("cohort")
        _check_context(call, cohort.contextid)
        if not (call.can(MANAGE) or call.can(VIEW)):
            raise required_capability(VIEW)
        out.append({"cohortid": cohortid, "userids": cohortlib.member_ids(call.state, cohort.id)})
    return out
