"""Manual enrolment: upsert semantics, suspension, listing, unenrolment, roles, groups."""

from __future__ import annotations

from typing import Any

from moodle_sync.emulator import Emulator

from .conftest import Caller


def enrol(call: Caller, course: int, user: int, **extra: Any) -> Any:
    return call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": user, "courseid": course,
                                                             **extra}]})


def listed(call: Caller, course: int, onlyactive: int) -> list[int]:
    users = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "onlyactive", "value": str(onlyactive)}, {"name": "userfields", "value": "id"}]})
    return [u["id"] for u in users]


def test_re_enrol_overwrites_dates_and_status_like_the_live_site(call: Caller, emulator: Emulator,
                                                                 course: int, clock: list[int]) -> None:
    user = emulator.add_user("anna", "Anna", "A", "anna@example.se")
    clock[0] = 1_800_000_000
    assert enrol(call, course, user, timestart=1790000000, timeend=1890000000) is None
    assert emulator.enrolment(course, user) == {"status": 0, "timestart": 1790000000, "timeend": 1890000000}
    enrol(call, course, user)  # a plain re-enrol: omitted dates become 0
    assert emulator.enrolment(course, user) == {"status": 0, "timestart": 0, "timeend": 0}
    enrol(call, course, user, timestart=1790000000, timeend=1890000000)
    enrol(call, course, user, suspend=1)  # suspending resets the dates too
    assert emulator.enrolment(course, user) == {"status": 1, "timestart": 0, "timeend": 0}
    assert listed(call, course, 0) == [user] and listed(call, course, 1) == []
    enrol(call, course, user)  # omitted suspend: active again
    assert emulator.enrolment(course, user) == {"status": 0, "timestart": 0, "timeend": 0}
    assert listed(call, course, 1) == [user]


def test_dates_decide_who_is_active(call: Caller, emulator: Emulator, course: int, clock: list[int]) -> None:
    early, late = emulator.add_user("early", "E", "E", "e@example.se"), emulator.add_user("late", "L", "L",
                                                                                          "l@example.se")
    enrol(call, course, early, timestart=clock[0] - 10, timeend=clock[0] - 1)
    enrol(call, course, late, timestart=clock[0] + 100)
    assert listed(call, course, 1) == []
    assert sorted(listed(call, course, 0)) == sorted([early, late])
    clock[0] += 200
    assert listed(call, course, 1) == [late]


def test_enrolment_errors_are_as_recorded(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("bo", "Bo", "B", "bo@example.se")
    assert enrol(call, 999999, user)["errorcode"] == "invalidparameter"
    assert enrol(call, course, user, roleid=999) == {
        "exception": "moodle_exception", "errorcode": "wsusercannotassign",
        "message": f"You don't have the permission to assign this role (999) to this user ({user}) "
                   f"in this course ({course})."}
    assert enrol(call, course, user, roleid=7)["errorcode"] == "wsusercannotassign"  # 'user' is not for courses
    assert emulator.enrolment(course, user) is None


def test_a_batch_with_a_bad_enrolment_enrols_nobody(call: Caller, emulator: Emulator, course: int) -> None:
    a = emulator.add_user("a", "A", "A", "a@example.se")
    answer = call("enrol_manual_enrol_users", {"enrolments": [
        {"roleid": 5, "userid": a, "courseid": course}, {"roleid": 5, "userid": 424242, "courseid": course}]})
    assert answer["errorcode"] == "codingerror"
    assert emulator.enrolment(course, a) is None


def test_roles_are_added_not_replaced(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("cilla", "Cilla", "C", "c@example.se")
    enrol(call, course, user)
    enrol(call, course, user, roleid=3)
    [details] = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "roles"}]})
    assert [(r["roleid"], r["shortname"]) for r in details["roles"]] == [(3, "editingteacher"), (5, "student")]
    assert set(details) == {"id", "fullname", "roles"}  # fullname always comes along
    contacts = call.ok("core_course_get_courses_by_field", {"field": "id", "value": str(course)})
    assert contacts["courses"][0]["contacts"] == [{"id": user, "fullname": "Cilla C"}]


def test_unenrol_removes_groups_but_keeps_completion(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("dan", "Dan", "D", "d@example.se")
    enrol(call, course, user)
    group = call.ok("core_group_create_groups", {"groups": [{"courseid": course, "name": "G", "description": ""}]})
    call.ok("core_group_add_group_members", {"members": [{"groupid": group[0]["id"], "userid": user}]})
    emulator.set_course_completion(course, user, 1_799_999_000)
    assert call("enrol_manual_unenrol_users", {"enrolments": [{"userid": user, "courseid": course, "roleid": 3}]}) \
        is None
    assert call.ok("core_group_get_group_members", {"groupids": [group[0]["id"]]}) == [
        {"groupid": group[0]["id"], "userids": []}]
    assert emulator.enrolment(course, user) is None
    assert emulator.state.course_completions.first_by("user_course", (user, course)) is not None
    # unenrolling someone not enrolled is a silent no-op
    assert call("enrol_manual_unenrol_users", {"enrolments": [{"userid": user, "courseid": course}]}) is None


def test_only_enrolled_users_join_groups(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("eva", "Eva", "E", "eva@example.se")
    [group] = call.ok("core_group_create_groups", {"groups": [{"courseid": course, "name": "G", "description": ""}]})
    assert call("core_group_add_group_members", {"members": [{"groupid": group["id"], "userid": user}]})[
        "errorcode"] == "invalidparameter"
    enrol(call, course, user, suspend=1)  # a suspended enrolment is still an enrolment
    assert call("core_group_add_group_members", {"members": [{"groupid": group["id"], "userid": user}]}) is None
    assert group["enrolmentkey"] == ""
    listed_group = call.ok("core_group_get_course_groups", {"courseid": course})[0]
    assert listed_group["enrolmentkey"] is None and listed_group["participation"] is True


def test_enrolled_users_paging_and_sorting(call: Caller, emulator: Emulator, course: int) -> None:
    ids = [emulator.add_user(f"p{i}", f"F{i}", name, f"p{i}@example.se") for i, name in enumerate("CAB")]
    for uid in ids:
        enrol(call, course, uid)
    page = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id"}, {"name": "limitfrom", "value": "1"},
        {"name": "limitnumber", "value": "1"}]})
    assert page == [{"id": ids[1], "fullname": "F1 A"}]
    by_name = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id,lastname"}, {"name": "sortby", "value": "lastname"},
        {"name": "sortdirection", "value": "DESC"}]})
    assert [u["lastname"] for u in by_name] == ["C", "B", "A"]
    assert call("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id,shoesize"}]})["errorcode"] == "invaliduserfield"


def test_users_courses_lists_active_enrolments_only(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("fia", "Fia", "F", "fia@example.se")
    other = emulator.add_course("Annan", "ANNAN", 1)
    enrol(call, course, user)
    enrol(call, other, user, suspend=1)
    courses = call.ok("core_enrol_get_users_courses", {"userid": user})
    assert [c["id"] for c in courses] == [course]
    assert courses[0]["enrolledusercount"] == 1 and courses[0]["completed"] is False
    assert call.ok("core_enrol_get_course_enrolment_methods", {"courseid": course}) == []


def test_self_enrolment_lists_the_person_with_the_student_role_and_leaves_the_manual_method_alone(
        call: Caller, emulator: Emulator, course: int, clock: list[int]) -> None:
    user = emulator.add_user("sjalv", "Själv", "Anmäld", "sjalv@example.se")
    assert "self" not in call.ok("core_course_get_courses_by_field", {"field": "id", "value": course}
                                 )["courses"][0]["enrollmentmethods"]
    emulator.self_enrol(course, user)
    assert listed(call, course, 0) == [user] and listed(call, course, 1) == [user]
    assert emulator.enrolment(course, user) is None  # not a manual enrolment
    users = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id,roles"}]})
    assert [r["roleid"] for r in users[0]["roles"]] == [5]
    assert "self" in call.ok("core_course_get_courses_by_field", {"field": "id", "value": course}
                             )["courses"][0]["enrollmentmethods"]
