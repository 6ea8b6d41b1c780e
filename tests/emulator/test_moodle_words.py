"""Moodle's own words: each error and warning as Moodle 4.3 answers it, and what a failing write leaves saved.

Exception class and errorcode come from the code path (course/externallib.php, course/classes/category.php,
user/externallib.php, user/lib.php, group/lib.php, completion/classes/external.php, message/externallib.php,
lib/external/classes/util.php, webservice/lib.php); messages are the lang/en strings. A code with no string
in the module the exception names reads "module/code" (moodle_exception's constructor, lib/setuplib.php).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from moodle_sync.emulator import Emulator

from .conftest import Caller

Setup = Callable[[Emulator], dict[str, Any]]


def _nothing(emulator: Emulator) -> dict[str, Any]:
    return {}


def _category(emulator: Emulator) -> dict[str, Any]:
    return {"cat": emulator.add_category("K", "k")}


def _course_with_group(emulator: Emulator) -> dict[str, Any]:
    course = emulator.add_course("C", "C", emulator.add_category("K"))
    emulator.add_group(course, "G1", idnumber="g-1")
    return {"course": course}


def _deleted_user(emulator: Emulator) -> dict[str, Any]:
    course = emulator.add_course("C", "C", emulator.add_category("K"))
    user = emulator.add_user("borta", "B", "B", "borta@example.se")
    emulator.enrol_user(course, user)
    with emulator.lock:
        from moodle_sync.emulator.moodlelib.userlib import delete_user
        delete_user(emulator.state, 1, emulator.state.users.rows[user])
    return {"course": course, "user": user}


def _course(emulator: Emulator) -> dict[str, Any]:
    return {"course": emulator.add_course("C", "C", emulator.add_category("K"))}


# (case, setup, wsfunction, params with {names} from setup, exception, errorcode, message)
ERRORS: list[tuple[str, Setup, str, dict[str, Any], str, str, str]] = [
    ("category name empty", _nothing, "core_course_create_categories", {"categories": [{"name": ""}]},
     "moodle_exception", "categorynamerequired", "Category name is required"),
    ("category parent missing on create", _nothing, "core_course_create_categories",
     {"categories": [{"name": "X", "parent": 999999}]},
     "moodle_exception", "unknowcategory", "Category not known!"),
    ("category missing on update", _nothing, "core_course_update_categories",
     {"categories": [{"id": 999999, "name": "X"}]},
     "moodle_exception", "unknowncategory", 'Unknown category with category ID number "{$a}"'),
    ("category moved under a missing parent", _category, "core_course_update_categories",
     {"categories": [{"id": "{cat}", "parent": 999999}]},
     "dml_missing_record_exception", "invalidrecord", "Can't find data record in database table course_categories."),
    ("category description format unknown", _nothing, "core_course_create_categories",
     {"categories": [{"name": "X", "description": "d", "descriptionformat": 7}]},
     "moodle_exception", "formatnotsupported", "webservice/formatnotsupported"),
    ("category format checked without a description", _category, "core_course_update_categories",
     {"categories": [{"id": "{cat}", "name": "Y", "descriptionformat": 9}]},
     "moodle_exception", "formatnotsupported", "webservice/formatnotsupported"),
    ("category contents to the root", _category, "core_course_delete_categories",
     {"categories": [{"id": "{cat}", "recursive": 0}]},
     "moodle_exception", "movecatcontentstoroot",
     "Moving the category content to root is not allowed. You must move the contents to an existing category!"),
    ("delete the admin", _nothing, "core_user_delete_users", {"userids": [2]},
     "moodle_exception", "useradminodelete", "Administrator accounts cannot be deleted."),
    ("search key twice", _nothing, "core_user_get_users",
     {"criteria": [{"key": "email", "value": "a"}, {"key": "email", "value": "b"}]},
     "moodle_exception", "keyalreadyset", "error/keyalreadyset"),
    ("group idnumber taken", _course_with_group, "core_group_create_groups",
     {"groups": [{"courseid": "{course}", "name": "G2", "description": "", "idnumber": "g-1"}]},
     "moodle_exception", "idnumbertaken", "This ID number is already in use"),
    ("completion of a deleted user", _deleted_user, "core_completion_get_course_completion_status",
     {"courseid": "{course}", "userid": "{user}"}, "moodle_exception", "userdeleted", "error/userdeleted"),
    ("completion of the guest", _course, "core_completion_get_course_completion_status",
     {"courseid": "{course}", "userid": 1},
     "moodle_exception", "guestsarenotallowed", "The guest user is not allowed to do this"),
    ("activities of the guest", _course, "core_completion_get_activities_completion_status",
     {"courseid": "{course}", "userid": 1},
     "moodle_exception", "guestsarenotallowed", "The guest user is not allowed to do this"),
]


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in names:
        return names[value[1:-1]]
    return value


@pytest.mark.parametrize(("setup", "wsfunction", "params", "exception", "errorcode", "message"),
                         [row[1:] for row in ERRORS], ids=[row[0] for row in ERRORS])
def test_each_error_in_moodle_s_words(call: Caller, emulator: Emulator, setup: Setup, wsfunction: str,
                                      params: dict[str, Any], exception: str, errorcode: str, message: str) -> None:
    names = setup(emulator)
    answer = call(wsfunction, _fill(params, names))
    assert answer == {"exception": exception, "errorcode": errorcode, "message": message}


def test_a_missing_capability_is_named_as_role_php_names_it(emulator: Emulator) -> None:
    emulator.add_token("nobody", capabilities=[])
    answer = Caller(emulator, "nobody")("core_course_create_categories", {"categories": [{"name": "X"}]})
    assert answer == {"exception": "required_capability_exception", "errorcode": "nopermissions",
                      "message": "Sorry, but you do not currently have permissions to do that (Manage categories)."}


def test_deleting_oneself_is_refused(emulator: Emulator) -> None:
    me = emulator.add_user("jag", "J", "J", "jag@example.se")
    emulator.add_token("self", capabilities=["moodle/user:delete"], userid=me)
    answer = Caller(emulator, "self")("core_user_delete_users", {"userids": [me]})
    assert answer == {"exception": "moodle_exception", "errorcode": "usernotdeletederror",
                      "message": "User not deleted - error"}


def test_a_token_of_a_deleted_user_names_the_username(emulator: Emulator) -> None:
    user = emulator.add_user("gone", "G", "G", "gone@example.se")
    emulator.add_token("gone", userid=user)
    Caller(emulator).ok("core_user_delete_users", {"userids": [user]})
    answer = Caller(emulator, "gone")("core_webservice_get_site_info")
    username = emulator.state.users.rows[user].username  # delete_user() scrambles it to "<email>.<time>"
    assert answer == {"exception": "moodle_exception", "errorcode": "wsaccessuserdeleted",
                      "message": f"Refused web service access for deleted username: {username}"}


# update_users: each user in its own transaction; a refused one is a warning and none of its changes stay
UPDATE_WARNINGS: list[tuple[str, dict[str, Any], str, str]] = [
    ("email of someone else", {"email": "ANNAN@example.se", "lastname": "Ny"}, "useremailduplicate",
     "Duplicate address"),
    ("bad email", {"email": "inte-en-adress", "lastname": "Ny"}, "useremailinvalid", "error/useremailinvalid"),
]


@pytest.mark.parametrize(("change", "warningcode", "message"), [row[1:] for row in UPDATE_WARNINGS],
                         ids=[row[0] for row in UPDATE_WARNINGS])
def test_update_users_warnings_and_what_stays_saved(call: Caller, emulator: Emulator, change: dict[str, Any],
                                                    warningcode: str, message: str) -> None:
    emulator.add_user("annan", "A", "A", "annan@example.se")
    bad = emulator.add_user("bad", "B", "Gammal", "bad@example.se")
    good = emulator.add_user("good", "G", "Gammal", "good@example.se")
    answer = call.ok("core_user_update_users", {"users": [{"id": bad, **change}, {"id": good, "lastname": "Ny"}]})
    assert answer == {"warnings": [{"item": "user", "itemid": bad, "warningcode": warningcode, "message": message}]}
    assert emulator.state.users.rows[bad].lastname == "Gammal"  # the refused user's transaction is rolled back
    assert emulator.state.users.rows[good].lastname == "Ny"  # the next user is saved


def test_an_upper_case_username_fails_the_whole_update_before_it_runs(call: Caller, emulator: Emulator) -> None:
    # username is PARAM_USERNAME: validate_parameters refuses it, so user_update_user's usernamelowercase never shows
    good = emulator.add_user("good", "G", "Gammal", "good@example.se")
    answer = call("core_user_update_users", {"users": [{"id": good, "lastname": "Ny"},
                                                        {"id": good, "username": "Stor"}]})
    assert answer["errorcode"] == "invalidparameter"
    assert emulator.state.users.rows[good].lastname == "Gammal"


def test_update_users_names_the_missing_and_the_guest(call: Caller) -> None:
    answer = call.ok("core_user_update_users", {"users": [{"id": 999999, "lastname": "X"}, {"id": 1, "lastname": "X"}]})
    assert answer["warnings"] == [
        {"item": "user", "itemid": 999999, "warningcode": "invaliduserid", "message": "Invalid user ID"},
        {"item": "user", "itemid": 1, "warningcode": "usernotupdatedguest", "message": "error/usernotupdatedguest"}]


def test_messages_before_a_bad_format_stay_sent_and_an_empty_text_is_sent(call: Caller, emulator: Emulator) -> None:
    to = emulator.add_user("mona", "Mona", "M", "mona@example.se")
    answer = call("core_message_send_instant_messages", {"messages": [
        {"touserid": to, "text": "Först", "textformat": 1}, {"touserid": to, "text": "", "textformat": 1},
        {"touserid": to, "text": "Sist", "textformat": 9}]})
    assert answer == {"exception": "moodle_exception", "errorcode": "formatnotsupported",
                      "message": "webservice/formatnotsupported"}
    # send_instant_messages runs in no transaction: what was sent before the bad item stays
    assert [m.text for m in emulator.state.messages] == ["Först", ""]


def test_message_errors_are_moodle_s_strings(call: Caller, emulator: Emulator) -> None:
    to = emulator.add_user("mona", "Mona", "M", "mona@example.se")
    answer = call.ok("core_message_send_instant_messages", {"messages": [
        {"touserid": 424242, "text": "Hej"}, {"touserid": to, "text": "x" * 4097}]})
    assert [a["errormessage"] for a in answer] == [
        "You cannot send a message to a user ID (424242) that doesn't exist.",
        "The message is longer than the maximum allowed."]
    assert all(a["msgid"] == -1 for a in answer)
