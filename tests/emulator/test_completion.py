"""Completion: no criteria, not enrolled, live criteria completion, overrides, progress."""

from __future__ import annotations

from moodle_sync.emulator import Emulator

from .conftest import Caller


def template_course(emulator: Emulator) -> int:
    return emulator.add_course("Mall", "MALL", 1, modules=[
        {"name": "Intro", "modname": "page", "idnumber": "intro", "section": 1, "completion": 2},
        {"name": "Test", "modname": "quiz", "idnumber": "test", "section": 2, "completion": 2}],
        completion_criteria=True)


def status(call: Caller, course: int, user: int) -> dict:
    return call("core_completion_get_course_completion_status", {"courseid": course, "userid": user})


def test_without_criteria_or_enrolment_the_recorded_errors(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("anna", "Anna", "A", "anna@example.se")
    assert status(call, course, user) == {"exception": "moodle_exception", "errorcode": "usernotenroled",
                                          "message": "User is not enrolled in this course"}
    emulator.enrol_user(course, user)
    assert status(call, course, user) == {"exception": "moodle_exception", "errorcode": "nocriteriaset",
                                          "message": "No completion criteria set for this course"}
    emulator.enrol_user(course, user, suspended=True)
    assert status(call, course, user)["errorcode"] == "usernotenroled"  # only active enrolments are tracked


def test_criteria_complete_live_with_their_times(call: Caller, emulator: Emulator) -> None:
    course = template_course(emulator)
    user = emulator.add_user("bo", "Bo", "B", "bo@example.se")
    emulator.enrol_user(course, user)
    before = status(call, course, user)["completionstatus"]
    assert before["completed"] is False and before["aggregation"] == 1
    assert [(c["type"], c["complete"], c["timecompleted"], c["status"]) for c in before["completions"]] == [
        (4, False, None, "No"), (4, False, None, "No")]
    assert before["completions"][0]["details"]["criteria"].endswith(">Intro</a>")
    intro, test = (m["id"] for m in emulator.course_modules(course) if m["completion"])
    emulator.set_activity_completion(intro, user, timecompleted=1_800_000_100)
    middle = status(call, course, user)["completionstatus"]
    assert middle["completed"] is False
    assert [c["timecompleted"] for c in middle["completions"]] == [1_800_000_100, None]
    emulator.set_activity_completion(test, user, state=2, timecompleted=1_800_000_200)
    after = status(call, course, user)["completionstatus"]
    assert after["completed"] is True and all(c["complete"] for c in after["completions"])
    assert emulator.state.course_completions.first_by("user_course", (user, course)).timecompleted == 1_800_000_200
    [mine] = call.ok("core_enrol_get_users_courses", {"userid": user})
    assert mine["completed"] is True and mine["progress"] == 100.0 and mine["completionhascriteria"] is True


def test_a_teacher_override_completes_without_a_visit(call: Caller, emulator: Emulator, clock: list[int]) -> None:
    course = template_course(emulator)
    user = emulator.add_user("cia", "Cia", "C", "cia@example.se")
    emulator.enrol_user(course, user)
    for cm in emulator.course_modules(course):
        if cm["completion"]:
            answer = call.ok("core_completion_override_activity_completion_status",
                             {"userid": user, "cmid": cm["id"], "newstate": 1})
            assert answer == {"cmid": cm["id"], "userid": user, "state": 1, "timecompleted": clock[0],
                              "overrideby": 2, "tracking": 2}
    assert status(call, course, user)["completionstatus"]["completed"] is True
    [row] = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id,lastcourseaccess"}]})
    assert row["lastcourseaccess"] == 0
    emulator.set_last_course_access(course, user, clock[0] + 5)
    [row] = call.ok("core_enrol_get_enrolled_users", {"courseid": course, "options": [
        {"name": "userfields", "value": "id,lastcourseaccess"}]})
    assert row["lastcourseaccess"] == clock[0] + 5


def test_activity_statuses(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("dag", "Dag", "D", "dag@example.se")
    emulator.enrol_user(course, user)
    [page] = call.ok("core_completion_get_activities_completion_status",
                     {"courseid": course, "userid": user})["statuses"]
    assert (page["modname"], page["state"], page["tracking"], page["istrackeduser"]) == ("page", 0, 1, True)
    emulator.set_activity_completion(page["cmid"], user, timecompleted=1_800_000_050)
    [page] = call.ok("core_completion_get_activities_completion_status",
                     {"courseid": course, "userid": user})["statuses"]
    assert (page["state"], page["timecompleted"]) == (1, 1_800_000_050)


def test_a_completion_report_needs_its_capability(emulator: Emulator, course: int) -> None:
    user = emulator.add_user("eje", "Eje", "E", "eje@example.se")
    emulator.enrol_user(course, user)
    emulator.add_token("reader", capabilities=["moodle/course:viewparticipants"])
    answer = Caller(emulator, "reader")("core_completion_get_course_completion_status",
                                        {"courseid": course, "userid": user})
    assert answer["errorcode"] == "cannotviewreport"
