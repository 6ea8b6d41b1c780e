"""core_completion_get_course_completion_status refuses in Moodle 4.3's order.

completion/classes/external.php get_course_completion_status: core_user::require_active_user (userdeleted),
validate_context → require_login (requireloginerror), completion_can_view_data (cannotviewreport, also when
completion is off in the course or on the site), groups_user_groups_visible (accessdenied), is_tracked_user
(usernotenroled), criteria (nocriteriaset).
"""

from __future__ import annotations

from moodle_sync.emulator import Emulator

from .conftest import Caller

STATUS = "core_completion_get_course_completion_status"
# the capabilities a web-service user needs to read another person's completion, bar the ones tested here
READER = ["moodle/course:view", "report/completion:view"]


def status(call: Caller, course: int, user: int) -> dict:
    return call(STATUS, {"courseid": course, "userid": user})


def set_course(emulator: Emulator, course: int, **changes: int) -> None:
    with emulator.lock:
        emulator.state.courses.update(emulator.state.courses.rows[course], **changes)


def test_completion_off_in_the_course_answers_cannotviewreport_before_enrolment_and_criteria(
        call: Caller, emulator: Emulator, course: int) -> None:
    outsider = emulator.add_user("ute", "Ute", "U", "ute@example.se")  # not enrolled; the course has no criteria
    set_course(emulator, course, enablecompletion=0)
    assert status(call, course, outsider) == {"exception": "moodle_exception", "errorcode": "cannotviewreport",
                                              "message": "You cannot view this report"}


def test_completion_off_on_the_site_answers_cannotviewreport(call: Caller, emulator: Emulator, course: int) -> None:
    user = emulator.add_user("anna", "Anna", "A", "anna@example.se")
    emulator.enrol_user(course, user)
    assert status(call, course, user)["errorcode"] == "nocriteriaset"
    emulator.state.config.enablecompletion = 0
    assert status(call, course, user)["errorcode"] == "cannotviewreport"


def test_a_hidden_course_the_web_service_user_cannot_see_answers_requireloginerror(
        emulator: Emulator, course: int) -> None:
    user = emulator.add_user("bo", "Bo", "B", "bo@example.se")
    emulator.enrol_user(course, user)
    set_course(emulator, course, visible=0, enablecompletion=0)
    emulator.add_token("reader", capabilities=READER)
    assert status(Caller(emulator, "reader"), course, user) == {
        "exception": "require_login_exception", "errorcode": "requireloginerror",
        "message": "Course or activity not accessible."}  # before cannotviewreport: validate_context comes first
    emulator.add_token("hidden-reader", capabilities=[*READER, "moodle/course:viewhiddencourses"])
    assert status(Caller(emulator, "hidden-reader"), course, user)["errorcode"] == "cannotviewreport"


def test_a_deleted_user_is_refused_before_anything_about_the_course(emulator: Emulator, course: int) -> None:
    user = emulator.add_user("cia", "Cia", "C", "cia@example.se")
    emulator.enrol_user(course, user)
    set_course(emulator, course, visible=0)
    with emulator.lock:
        emulator.state.users.update(emulator.state.users.rows[user], deleted=1)
    emulator.add_token("reader", capabilities=READER)
    assert status(Caller(emulator, "reader"), course, user)["errorcode"] == "userdeleted"


def test_separate_groups_answer_accessdenied_unless_a_group_is_shared(emulator: Emulator, course: int) -> None:
    user = emulator.add_user("dag", "Dag", "D", "dag@example.se")
    emulator.enrol_user(course, user)
    set_course(emulator, course, groupmode=1)  # SEPARATEGROUPS
    group = emulator.add_group(course, "Falun")
    emulator.add_group_member(group, user)
    emulator.add_token("reader", capabilities=READER)
    reader = Caller(emulator, "reader")
    assert status(reader, course, user) == {"exception": "moodle_exception", "errorcode": "accessdenied",
                                            "message": "Access denied"}
    emulator.add_group_member(group, 2)  # the token's user (admin) joins the group
    assert status(reader, course, user)["errorcode"] == "nocriteriaset"
    emulator.add_token("all-groups", capabilities=[*READER, "moodle/site:accessallgroups"])
    other = emulator.add_user("eva", "Eva", "E", "eva@example.se")
    emulator.enrol_user(course, other)
    assert status(Caller(emulator, "all-groups"), course, other)["errorcode"] == "nocriteriaset"
    assert status(reader, course, other)["errorcode"] == "accessdenied"
