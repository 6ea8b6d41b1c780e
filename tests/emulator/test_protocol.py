"""The REST pipeline: paths, formats, tokens, functions, capabilities, PHP parameter parsing."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.emulator import Emulator
from moodle_sync.emulator.phpform import parse_query

from .conftest import ENDPOINT, TOKEN, Caller

INVALID_TOKEN = {"exception": "moodle_exception", "errorcode": "invalidtoken",
                 "message": "Invalid token - token not found"}


def post(emulator: Emulator, body: str, url: str = ENDPOINT) -> tuple[int, dict[str, str], bytes]:
    return emulator.handle("POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, body.encode())


def test_other_paths_are_not_found(emulator: Emulator) -> None:
    status, _, _ = post(emulator, f"wstoken={TOKEN}&wsfunction=core_webservice_get_site_info",
                        url="https://moodle.test/login/token.php")
    assert status == 404


def test_format_defaults_to_xml_and_json_is_php_encoded(emulator: Emulator) -> None:
    status, headers, body = post(emulator, f"wstoken={TOKEN}&wsfunction=core_course_get_categories")
    assert status == 200 and headers["Content-Type"] == "application/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<MULTIPLE>')
    emulator.add_category("Våld/heder", idnumber="v")
    status, headers, body = post(emulator, f"wstoken={TOKEN}&wsfunction=core_course_get_categories"
                                           "&moodlewsrestformat=json")
    assert headers["Content-Type"] == "application/json"
    # json_encode defaults: escaped slashes and \u escapes, no spaces
    assert b'"name":"V\\u00e5ld\\/heder"' in body


def test_unknown_or_missing_token_answers_the_recorded_body_with_http_200(call: Caller, emulator: Emulator) -> None:
    assert Caller(emulator, "0" * 32)("core_webservice_get_site_info") == INVALID_TOKEN
    status, _, body = post(emulator, "wsfunction=core_webservice_get_site_info&moodlewsrestformat=json")
    assert status == 200 and json.loads(body) == INVALID_TOKEN


def test_function_checks_come_in_moodles_order(call: Caller, emulator: Emulator) -> None:
    assert call("local_nosuch_function") == {
        "exception": "dml_missing_record_exception", "errorcode": "invalidrecord",
        "message": "Can't find data record in database table external_functions."}
    status, _, body = post(emulator, f"wstoken={TOKEN}&moodlewsrestformat=json")
    assert json.loads(body)["errorcode"] == "invalidparameter"  # no wsfunction at all
    # a real Moodle function the emulator does not offer: not in this token's service
    assert call("core_calendar_get_calendar_events")["errorcode"] == "accessexception"


def test_a_function_outside_the_tokens_service_is_an_access_exception(emulator: Emulator) -> None:
    emulator.add_token("limited", functions=["core_webservice_get_site_info"])
    limited = Caller(emulator, "limited")
    assert limited("core_course_get_categories") == {
        "exception": "webservice_access_exception", "errorcode": "accessexception",
        "message": "Access control exception"}
    info = limited.ok("core_webservice_get_site_info")
    assert [f["name"] for f in info["functions"]] == ["core_webservice_get_site_info"]
    assert emulator.calls == ["core_webservice_get_site_info"]  # the refused call never ran

    emulator.debug = True
    assert "Access to the function core_course_get_categories() is not allowed" in \
        limited("core_course_get_categories")["debuginfo"]


def test_a_missing_capability_names_it_in_words(emulator: Emulator) -> None:
    emulator.add_token("noperm", capabilities=["moodle/category:manage"], userid=2)
    caller = Caller(emulator, "noperm")
    cat = caller.ok("core_course_create_categories", {"categories": [{"name": "OK"}]})[0]["id"]
    answer = caller("core_course_create_courses",
                    {"courses": [{"fullname": "X", "shortname": "X", "categoryid": cat}]})
    assert answer == {"exception": "required_capability_exception", "errorcode": "nopermissions",
                      "message": "Sorry, but you do not currently have permissions to do that (Create courses)."}
    assert caller("core_cohort_create_cohorts", {"cohorts": [
        {"categorytype": {"type": "system", "value": ""}, "name": "A", "idnumber": "a"}]})["message"].endswith(
        "(Create, delete and move cohorts).")
    assert not list(emulator.state.cohorts)


def test_get_and_post_merge_and_post_wins(emulator: Emulator) -> None:
    status, _, body = emulator.handle(
        "POST", f"{ENDPOINT}?wstoken={TOKEN}&wsfunction=core_webservice_get_site_info&moodlewsrestformat=xml",
        {"Content-Type": "application/x-www-form-urlencoded"}, b"moodlewsrestformat=json")
    assert json.loads(body)["username"] == "admin"
    status, _, body = emulator.handle(
        "GET", f"{ENDPOINT}?wstoken={TOKEN}&wsfunction=core_webservice_get_site_info&moodlewsrestformat=json", {}, b"")
    assert json.loads(body)["userid"] == 2


def test_php_brackets_nest_and_list_indices_only_keep_order() -> None:
    parsed = parse_query("courses[5][fullname]=B&courses[2][fullname]=A&values[]=x&values[]=y&a.b=1&n[01]=z")
    assert parsed == {"courses": {5: {"fullname": "B"}, 2: {"fullname": "A"}}, "values": {0: "x", 1: "y"},
                      "a_b": "1", "n": {"01": "z"}}


def test_list_order_is_arrival_order_not_index_order(call: Caller, emulator: Emulator) -> None:
    body = (f"wstoken={TOKEN}&wsfunction=core_course_create_categories&moodlewsrestformat=json"
            "&categories[7][name]=Second&categories[3][name]=First")
    _, _, answer = post(emulator, body)
    assert [c["name"] for c in json.loads(answer)] == ["Second", "First"]


def test_request_variables_past_max_input_vars_are_dropped(emulator: Emulator) -> None:
    body = (f"wstoken={TOKEN}&wsfunction=core_course_create_courses&moodlewsrestformat=json"
            "&courses[0][fullname]=X&courses[0][shortname]=X&courses[0][categoryid]=1")
    emulator.max_input_vars = 5
    emulator.debug = True
    answer = json.loads(post(emulator, body)[2])
    # PHP silently dropped the sixth variable, so Moodle sees a course without categoryid
    assert answer["debuginfo"].endswith("Missing required key in single structure: categoryid")
    emulator.max_input_vars = 5000
    assert isinstance(json.loads(post(emulator, body)[2]), list)


def test_null_functions_answer_the_literal_null(call: Caller) -> None:
    status, body = call.raw("core_course_update_categories", {"categories": [{"id": 1, "name": "Ändrad"}]})
    assert body == b"null"


def test_names_are_escaped_unless_raw_is_asked_for(call: Caller, emulator: Emulator) -> None:
    emulator.add_category("A & B", idnumber="ab")
    params = {"criteria": [{"key": "idnumber", "value": "ab"}]}
    assert call("core_course_get_categories", params)[0]["name"] == "A &amp; B"
    assert call("core_course_get_categories", params, moodlewssettingraw="1")[0]["name"] == "A & B"


def test_site_info_describes_the_token(call: Caller) -> None:
    info = call.ok("core_webservice_get_site_info")
    assert info["userissiteadmin"] is True and info["release"] == "4.3 (Build: 20231009)"
    names = {f["name"] for f in info["functions"]}
    assert {"core_course_create_courses", "core_user_delete_users", "core_course_import_course"} <= names


scalars = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
structures = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, min_size=1, max_size=3),
    st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), inner, min_size=1, max_size=3)),
    max_leaves=12)


def as_php(value: object) -> object:
    """What PHP makes of a structure: lists become arrays keyed 0..n."""
    if isinstance(value, list):
        return {i: as_php(v) for i, v in enumerate(value)}
    if isinstance(value, dict):
        return {k: as_php(v) for k, v in value.items()}
    return value


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True), structures, max_size=4))
def test_bracket_encoding_round_trips_through_the_php_parser(params: dict) -> None:
    from urllib.parse import urlencode

    from .conftest import flatten

    assert parse_query(urlencode(flatten("", params, []))) == as_php(params)
