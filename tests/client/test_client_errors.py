"""Moodle's error bodies (HTTP 200) and HTTP-level failures, mapped onto the error tree."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from client_helpers import BASE, ENDPOINT, TOKEN, make_client, recorded

from moodle_sync import errors
from moodle_sync.moodle.client import MoodleClient, RetryPolicy

# bodies the recorded session did not provoke, as ws-reference.md §1.5 documents them
DOCUMENTED: dict[str, dict[str, Any]] = {
    "accessexception": {"exception": "webservice_access_exception", "errorcode": "accessexception",
                        "message": "Access control exception",
                        "debuginfo": "Access to the function core_course_create_courses() is not allowed."},
    "nopermissions": {"exception": "required_capability_exception", "errorcode": "nopermissions",
                      "message": "Sorry, but you do not currently have permissions to do that (Create courses).",
                      "debuginfo": "moodle/course:create"},
    "sitemaintenance": {"exception": "moodle_exception", "errorcode": "sitemaintenance",
                        "message": "The site is undergoing maintenance and is currently not available"},
    "upgraderunning": {"exception": "moodle_exception", "errorcode": "upgraderunning",
                       "message": "Site is being upgraded, please retry later."},
    "TypeError": {"exception": "TypeError",
                  "message": "core_course_external::get_courses(): Argument #1 ($options) must be of type array"},
}

CASES = [
    # (wsfunction, body, expected class)
    ("core_webservice_get_site_info", recorded("invalid token"), errors.AuthError),
    ("core_course_create_courses", DOCUMENTED["accessexception"], errors.AuthError),
    ("core_course_create_courses", recorded("missing required param"), errors.InvalidParameter),
    ("core_cohort_delete_cohorts", recorded("delete missing cohort"), errors.NotFound),
    ("core_course_create_courses", recorded("duplicate course shortname"), errors.Conflict),
    ("core_course_create_courses", recorded("duplicate course idnumber"), errors.Conflict),
    ("core_course_create_categories", recorded("duplicate category idnumber"), errors.Conflict),
    ("core_course_create_courses", DOCUMENTED["nopermissions"], errors.PermissionDenied),
    ("enrol_manual_enrol_users", recorded("enrol with bad role"), errors.PermissionDenied),
    ("core_course_create_courses", recorded("course with empty lang is rejected"), errors.InvalidParameter),
    ("core_completion_get_course_completion_status", recorded("course completion status (no criteria)"),
     errors.CompletionError),
    ("core_completion_get_course_completion_status", recorded("completion of user not enrolled"),
     errors.CompletionError),
    ("core_course_get_courses", DOCUMENTED["TypeError"], errors.MoodleApiError),
]


@pytest.mark.parametrize(("wsfunction", "body", "cls"), CASES,
                         ids=[f"{c[1].get('errorcode', 'TypeError')}" for c in CASES])
def test_error_bodies_become_typed_errors(rsps: responses.RequestsMock, client: MoodleClient, wsfunction: str,
                                          body: dict[str, Any], cls: type[errors.MoodleApiError]) -> None:
    rsps.post(ENDPOINT, json=body)
    batch = [{"idnumber": "x"}]
    with pytest.raises(errors.MoodleApiError) as info:
        client.call(wsfunction, {"any": 1}, items=batch)
    e = info.value
    assert type(e) is cls
    assert (e.exception, e.errorcode, e.message) == (body["exception"], body.get("errorcode", ""), body["message"])
    assert e.debuginfo == body.get("debuginfo", "")
    assert e.wsfunction == wsfunction and e.items == batch
    assert wsfunction in str(e) and body["message"] in str(e)
    assert len(rsps.calls) == 1, "an answer from Moodle is final: never retried"


@pytest.mark.parametrize("code", ["sitemaintenance", "upgraderunning"])
def test_maintenance_bodies_are_unavailable_and_retried(rsps: responses.RequestsMock, code: str) -> None:
    client = make_client(retry=RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.001))
    rsps.post(ENDPOINT, json=DOCUMENTED[code])
    with pytest.raises(errors.MoodleUnavailable) as info:
        client.call("core_course_create_courses", {"courses": [{"shortname": "x"}]}, items=["x"])
    e = info.value
    assert e.sent is False and e.wsfunction == "core_course_create_courses" and e.items == ["x"]
    assert code in str(e) and "core_course_create_courses" in str(e)
    assert len(rsps.calls) == 3, "refused before anything ran: even a write may be sent again"


def test_unknown_function_says_so(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, json=recorded("unknown function"))
    with pytest.raises(errors.InvalidParameter) as info:
        client.call("local_nosuch_function")
    assert info.value.errorcode == "invalidrecord"
    assert "local_nosuch_function does not exist on this site" in str(info.value)


def test_unknown_function_is_recognised_when_the_account_reads_moodle_in_swedish(
        rsps: responses.RequestsMock, client: MoodleClient) -> None:
    # error/invalidrecord is translated, but its {$a} – the table's name – is not
    rsps.post(ENDPOINT, json={**recorded("unknown function"),
                              "message": "Kan inte hitta posten i databastabellen external_functions."})
    with pytest.raises(errors.InvalidParameter) as info:
        client.call("local_nosuch_function")
    assert "local_nosuch_function does not exist on this site" in str(info.value)


def test_success_bodies_are_returned_as_json(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, json=recorded("create courses"))
    rsps.post(ENDPOINT, body="null", content_type="application/json")
    rsps.post(ENDPOINT, json=recorded("update course to taken shortname"))
    assert client.call("core_course_create_courses", {"courses": [{"shortname": "a"}]}) == recorded("create courses")
    assert client.call("enrol_manual_enrol_users", {"enrolments": [{"userid": 1}]}) is None
    # partial success is data, not an error, even though its warnings carry a code
    assert client.call("core_course_update_courses", {"courses": [{"id": 11}]})["warnings"][0]["warningcode"] \
        == "shortnametaken"


def test_utf8_without_charset_is_utf8(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, body='[{"id": 11, "name": "Våld i nära relationer"}]'.encode(),
              content_type="application/json")
    assert client.call("core_course_create_categories", {"categories": [{"name": "x"}]})[0]["name"] == \
        "Våld i nära relationer"


def test_the_request_is_a_form_post_with_the_reserved_keys(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, json=recorded("get course by idnumber"))
    client.call("core_course_get_courses_by_field", {"field": "idnumber", "value": "A & B"})
    request = rsps.calls[0].request
    assert request.url == ENDPOINT, "nothing in the query string"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("moodle-sync/")
    form = parse_qsl(request.body, keep_blank_values=True)
    assert form == [("wstoken", TOKEN), ("wsfunction", "core_course_get_courses_by_field"),
                    ("moodlewsrestformat", "json"), ("moodlewssettingraw", "1"),
                    ("field", "idnumber"), ("value", "A & B")]


def test_raw_can_be_turned_off(rsps: responses.RequestsMock) -> None:
    rsps.post(ENDPOINT, json=[])
    make_client(raw=False).call("core_course_get_categories")
    assert "moodlewssettingraw" not in dict(parse_qsl(rsps.calls[0].request.body))


def test_reserved_keys_cannot_be_parameters(client: MoodleClient) -> None:
    with pytest.raises(ValueError, match="wstoken"):
        client.call("core_course_get_categories", {"wstoken": "other"})


def test_403_with_empty_body_means_web_services_are_off(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, status=403, body="")
    with pytest.raises(errors.AuthError, match="web services or the REST protocol are disabled"):
        client.call("core_webservice_get_site_info")
    assert len(rsps.calls) == 1


def test_404_is_not_a_moodle_site(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, status=404, body="<html>Not Found</html>")
    with pytest.raises(errors.TransportError, match="does not look like a Moodle site") as info:
        client.call("core_webservice_get_site_info")
    assert info.value.status == 404 and not isinstance(info.value, errors.WriteOutcomeUnknown)
    assert len(rsps.calls) == 1, "a 404 does not go away by retrying"


def test_redirects_are_not_followed(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    # requests would turn a redirected POST into a GET without the form: say where to point instead
    rsps.post(ENDPOINT, status=301, headers={"Location": "https://www.moodle.example.org/webservice/rest/server.php"})
    with pytest.raises(errors.TransportError, match="redirects to https://www.moodle.example.org") as info:
        client.call("core_course_create_courses", {"courses": [{"shortname": "x"}]})
    assert info.value.sent is False and len(rsps.calls) == 1


def test_non_json_200_names_the_start_of_the_body(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    page = "<html><body>Proxy login required " + "x" * 500 + "</body></html>"
    rsps.post(ENDPOINT, json=[])  # the site has answered once; then a proxy puts a page in the way
    rsps.post(ENDPOINT, body=page, content_type="text/html")
    client.call("core_course_get_categories")
    with pytest.raises(errors.TransportError) as info:
        client.call("core_webservice_get_site_info")
    text = str(info.value)
    assert "not JSON" in text and "Proxy login required" in text and "x" * 300 not in text
    assert "<" not in text, "never HTML in a message"
    assert info.value.status == 200


def test_too_many_form_variables_is_refused_before_sending(rsps: responses.RequestsMock) -> None:
    client = make_client(max_input_vars=10)
    with pytest.raises(errors.ConfigError, match="max_input_vars"):
        client.call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": i, "courseid": 2}
                                                                for i in range(3)]})
    assert len(rsps.calls) == 0


def test_empty_token_is_a_config_error() -> None:
    from moodle_sync.moodle.transport import Transport

    with pytest.raises(errors.ConfigError):
        MoodleClient(Transport(BASE), "")
