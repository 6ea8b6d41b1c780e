"""Course groups: create, add/remove members, list a course's groups and a group's members."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator.errors import invalid_parameter, missing_record, moodle_exception
from moodle_sync.emulator.functions.categories import validate_format
from moodle_sync.emulator.functions.registry import Call, Params, implements
from moodle_sync.emulator.model.records import Group, User
from moodle_sync.emulator.moodlelib import format as fmt
from moodle_sync.emulator.moodlelib import grouplib
from moodle_sync.emulator.moodlelib.enrollib import is_enrolled

MANAGE = "moodle/course:managegroups"


def _group(call: Call, groupid: int) -> Group:
    group = call.state.groups.get(groupid)
    if group is None:
        raise missing_record("groups")
    return group


def _user(call: Call, userid: int) -> User:
    user = call.state.users.get(userid)
    if user is None or user.deleted:
        raise missing_record("user")
    return user


@implements("core_group_create_groups")
def create_groups(call: Call, params: Params) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for item in params["groups"]:
        if item["name"].strip() == "":
            raise invalid_parameter("Invalid group name")
        if any(g.name == item["name"] for g in state.groups.by("courseid", item["courseid"])):
            raise invalid_parameter("Group with the same name already exists in the course")
        call.course_or_context_error(item["courseid"])
        call.require(MANAGE)
        descriptionformat = validate_format(item["descriptionformat"])
        if item["visibility"] not in (0, 1, 2, 3):
            raise invalid_parameter("Invalid group visibility")
        idnumber = item.get("idnumber") or ""
        if idnumber and any(g.idnumber == idnumber for g in state.groups.by("courseid", item["courseid"])):
            raise moodle_exception("idnumbertaken")
        group = grouplib.create_group(
            state, call.now, courseid=item["courseid"], name=item["name"], description=item["description"],
            descriptionformat=descriptionformat, enrolmentkey=item.get("enrolmentkey"), idnumber=idnumber,
            visibility=item["visibility"], participation=int(item["participation"]))
        # the answer is the sent group with id; enrolmentkey/idnumber '' when not sent (a re-read says null)
        out.append({"id": group.id, "courseid": group.courseid, "name": item["name"],
                    "description": item["description"], "descriptionformat": descriptionformat,
                    "enrolmentkey": item.get("enrolmentkey") or "", "idnumber": idnumber,
                    "visibility": item["visibility"], "participation": item["participation"]})
    return out


@implements("core_group_add_group_members")
def add_group_members(call: Call, params: Params) -> None:
    for item in params["members"]:
        group = _group(call, item["groupid"])
        user = _user(call, item["userid"])
        call.course_or_context_error(group.courseid)
        call.require(MANAGE)
        if not is_enrolled(call.state, group.courseid, user.id, False, call.now):
            raise invalid_parameter("Only enrolled users may be members of groups")  # contract step 61
        grouplib.add_member(call.state, call.now, group.id, user.id)


@implements("core_group_delete_group_members")
def delete_group_members(call: Call, params: Params) -> None:
    for item in params["members"]:
        group = _group(call, item["groupid"])
        user = _user(call, item["userid"])
        call.course_or_context_error(group.courseid)
        call.require(MANAGE)
        grouplib.remove_member(call.state, group.id, user.id)


@implements("core_group_get_course_groups")
def get_course_groups(call: Call, params: Params) -> list[dict[str, Any]]:
    call.course_or_context_error(params["courseid"])
    call.require(MANAGE)
    out = []
    for group in sorted(call.state.groups.by("courseid", params["courseid"]), key=lambda g: g.name):
        description, descriptionformat = fmt.format_text(group.description, group.descriptionformat, call.raw)
        out.append({"id": group.id, "courseid": group.courseid, "name": fmt.format_string(group.name, call.raw),
                    "description": description, "descriptionformat": descriptionformat,
                    "enrolmentkey": group.enrolmentkey, "idnumber": group.idnumber, "visibility": group.visibility,
                    "participation": bool(group.participation)})
    return out


@implements("core_group_get_group_members")
def get_group_members(call: Call, params: Params) -> list[dict[str, Any]]:
    out = []
    for groupid in params["groupids"]:
        group = _group(call, groupid)
        call.course_or_context_error(group.courseid)
        call.require(MANAGE)
        out.append({"groupid": groupid, "userids": grouplib.member_ids(call.state, group.id)})
    return out
