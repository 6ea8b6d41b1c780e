"""Retries: reads are retried on transport trouble; a write only when it certainly never reached Moodle.

The connection errors below are built the way requests 2.x/urllib3 2.x raise them (checked against
real sockets in test_client_transport.py):
- refused / DNS: ``ConnectionError(MaxRetryError(reason=NewConnectionError))`` -> never sent
- connect timeout: ``ConnectTimeout`` -> never sent
- reset or closed after the request went out: ``ConnectionError(ProtocolError("Connection aborted.", ...))``
- read timeout: ``ReadTimeout`` -> sent, answer lost
"""

from __future__ import annotations

import logging

import pytest
import requests
import responses
from client_helpers import ENDPOINT, make_client, recorded
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from moodle_sync import errors
from moodle_sync.moodle.client import MoodleClient, RetryPolicy
from moodle_sync.moodle.write_kinds import is_write, write_kind

READ = "core_course_get_courses_by_field"
WRITE = "core_course_create_courses"
SAFE_WRITE = "core_course_update_courses"
BATCH = [{"shortname": "mc-HRV-SOC-v1", "fullname": "x", "categoryid": 11}]


def refused() -> requests.ConnectionError:
    inner = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    inner.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/webservice/rest/server.php", reason=inner))  # type: ignore[arg-type]


def reset_after_send() -> requests.ConnectionError:
    reset = ConnectionResetError(104, "Connection reset by peer")
    return requests.ConnectionError(ProtocolError("Connection aborted.", reset))


def read_timeout() -> requests.ReadTimeout:
    return requests.ReadTimeout(ReadTimeoutError(None, "/webservice/rest/server.php", "Read timed out."))  # type: ignore[arg-type]


def connect_timeout() -> requests.ConnectTimeout:
    return requests.ConnectTimeout("Connection to moodle.example.org timed out. (connect timeout=10)")


def test_function_kinds_come_from_moodle_declarations() -> None:
    assert is_write("core_course_create_courses") and is_write("enrol_manual_enrol_users")
    assert is_write("core_reportbuilder_view_report"), "Moodle declares view_* as writes (it logs)"
    assert not is_write("core_enrol_get_enrolled_users") and not is_write("core_webservice_get_site_info")
    # not in the signatures: guessed from the name
    assert is_write("core_enrol_edit_user_enrolment") and is_write("local_x_set_thing")
    assert not is_write("local_x_get_things")


@pytest.mark.parametrize("failure", [refused, reset_after_send, read_timeout, connect_timeout],
                         ids=["refused", "reset", "read-timeout", "connect-timeout"])
def test_a_read_is_retried_after_a_connection_failure(rsps: responses.RequestsMock, client: MoodleClient,
                                                      failure: object) -> None:
    rsps.post(ENDPOINT, json=recorded("get course by idnumber"))  # the site has answered once in this run
    rsps.post(ENDPOINT, body=failure())  # type: ignore[operator]
    rsps.post(ENDPOINT, json=recorded("get course by idnumber"))
    client.call(READ, {"field": "idnumber", "value": "mc-hrv-soc@1"})
    assert client.call(READ, {"field": "idnumber", "value": "mc-hrv-soc@1"}) == recorded("get course by idnumber")
    assert len(rsps.calls) == 3
    assert client.stats.snapshot() == {"total": 3, "reads": 3, "writes": 0, "retries": 1, "by_function": {READ: 3}}


@pytest.mark.parametrize(("status", "body"), [(502, "<html><h1>502 Bad Gateway</h1></html>"),
                                              (500, ""), (504, "<html>Gateway Timeout</html>")])
def test_a_read_is_retried_after_a_5xx(rsps: responses.RequestsMock, client: MoodleClient, status: int,
                                       body: str) -> None:
    rsps.post(ENDPOINT, status=status, body=body, content_type="text/html")
    rsps.post(ENDPOINT, json=recorded("get course by idnumber"))
    assert client.call(READ, {"field": "idnumber", "value": "x"})["courses"]
    assert len(rsps.calls) == 2


def test_a_read_is_retried_after_a_non_json_200(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, body="<br /><b>Notice</b>: Undefined index", content_type="text/html")
    rsps.post(ENDPOINT, json=[])
    assert client.call("core_course_get_categories") == []


def test_503_honours_retry_after_capped_by_max_wait(rsps: responses.RequestsMock,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(retry=RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.05))
    rsps.post(ENDPOINT, status=503, body="<html>maintenance</html>", headers={"Retry-After": "300"})
    rsps.post(ENDPOINT, status=503, body="", headers={"Retry-After": "0"})
    rsps.post(ENDPOINT, json=[])
    with caplog.at_level(logging.WARNING, logger="moodle_sync.moodle.client"):
        assert client.call(SAFE_WRITE, {"courses": [{"id": 2, "fullname": "x"}]}) == []
    assert len(rsps.calls) == 3, "an update sets absolute values: sending it again after a 503 is safe"
    waits = [r.getMessage() for r in caplog.records]
    assert len(waits) == 2
    assert f"{SAFE_WRITE}: attempt 1 failed" in waits[0] and "retrying in 0.05s" in waits[0]
    assert f"{SAFE_WRITE}: attempt 2 failed" in waits[1] and "retrying in 0.00s" in waits[1]
    assert "HTTP 503: the site is in maintenance" in waits[0] and "MoodleUnavailable" not in waits[0]


def test_503_every_time_ends_in_moodle_unavailable(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, status=503, body="")
    with pytest.raises(errors.MoodleUnavailable) as info:
        client.call(READ, {"field": "id", "value": 1})
    assert info.value.status == 503 and len(rsps.calls) == client.retry.attempts


def test_attempts_are_bounded(rsps: responses.RequestsMock) -> None:
    client = make_client(retry=RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.001))
    rsps.post(ENDPOINT, body=reset_after_send())
    with pytest.raises(errors.TransportError) as info:
        client.call(READ, {"field": "id", "value": 1})
    assert not isinstance(info.value, errors.WriteOutcomeUnknown)
    assert info.value.sent is True and info.value.wsfunction == READ
    assert len(rsps.calls) == 3
    assert client.stats.retries == 2


def test_total_time_is_bounded(rsps: responses.RequestsMock) -> None:
    client = make_client(retry=RetryPolicy(attempts=1000, initial_wait=0.05, max_wait=0.05, total_timeout=0.2))
    rsps.post(ENDPOINT, status=502, body="")
    with pytest.raises(errors.TransportError):
        client.call(READ, {"field": "id", "value": 1})
    assert 2 <= len(rsps.calls) <= 6


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"body": reset_after_send()}, "reset"),
    ({"body": read_timeout()}, "timed out"),
    ({"status": 500, "body": ""}, "HTTP 500"),
    ({"status": 502, "body": "<html>Bad Gateway</html>"}, "HTTP 502"),
    ({"status": 504, "body": ""}, "HTTP 504"),
    ({"status": 200, "body": "<html>proxy</html>"}, "not JSON"),
    ({"status": 503, "body": "<html>503 Service Temporarily Unavailable</html>"}, "HTTP 503"),
    ({"status": 200, "body": '[{"id": 12, "shortna'}, "not JSON"),
], ids=["reset", "read-timeout", "500", "502", "504", "non-json", "proxy-503", "cut-off"])
def test_a_write_whose_answer_was_lost_is_never_resent(rsps: responses.RequestsMock, client: MoodleClient,
                                                       kwargs: dict[str, object], why: str) -> None:
    rsps.post(ENDPOINT, **kwargs)  # type: ignore[arg-type]
    rsps.post(ENDPOINT, json=recorded("create courses"))
    with pytest.raises(errors.WriteOutcomeUnknown) as info:
        client.call(WRITE, {"courses": BATCH}, items=BATCH)
    e = info.value
    assert len(rsps.calls) == 1, "exactly one request: the write is not re-sent"
    assert e.items == BATCH and e.wsfunction == WRITE and e.sent is True
    assert why in str(e) and "may or may not have been applied" in str(e)
    assert client.stats.snapshot()["writes"] == 1 and client.stats.retries == 0


@pytest.mark.parametrize("wsfunction", ["core_course_import_course", "core_message_send_instant_messages",
                                        "core_user_create_users", "core_cohort_create_cohorts"])
def test_a_proxy_503_on_a_write_that_is_not_idempotent_is_an_unknown_outcome(
        rsps: responses.RequestsMock, client: MoodleClient, wsfunction: str) -> None:
    # a reverse proxy answers 503 also after it forwarded the call (upstream reset): Moodle may have run it
    rsps.post(ENDPOINT, status=503, body="<html>503 Service Temporarily Unavailable</html>",
              headers={"Retry-After": "1"})
    rsps.post(ENDPOINT, json=[])
    with pytest.raises(errors.WriteOutcomeUnknown) as info:
        client.call(wsfunction, {"x": 1}, items=["x"])
    assert len(rsps.calls) == 1, "not re-sent: a second import or message would be a duplicate"
    assert info.value.status == 503 and info.value.items == ["x"]
    assert client.stats.writes_reached == 1


def test_which_writes_are_safe_to_repeat() -> None:
    assert write_kind("core_course_get_courses_by_field") == "read"
    for name in ("enrol_manual_enrol_users", "core_course_update_courses", "core_user_update_users",
                 "core_cohort_add_cohort_members", "core_cohort_delete_cohort_members", "core_group_add_group_members"):
        assert write_kind(name) == "idempotent", name
    for name in ("core_course_create_courses", "core_user_create_users", "core_course_import_course",
                 "core_message_send_instant_messages", "core_group_create_groups", "local_x_set_thing"):
        assert write_kind(name) == "write", name


@pytest.mark.parametrize("failure", [refused, connect_timeout], ids=["refused", "connect-timeout"])
def test_a_write_that_never_reached_moodle_is_retried(rsps: responses.RequestsMock, client: MoodleClient,
                                                      failure: object) -> None:
    rsps.post(ENDPOINT, body=failure())  # type: ignore[operator]
    rsps.post(ENDPOINT, json=recorded("create courses"))
    assert client.call(WRITE, {"courses": BATCH}, items=BATCH) == recorded("create courses")
    assert len(rsps.calls) == 2
    assert client.stats.snapshot()["by_function"] == {WRITE: 2} and client.stats.writes == 2


def test_a_write_refused_every_time_ends_in_a_not_sent_error(rsps: responses.RequestsMock,
                                                             client: MoodleClient) -> None:
    rsps.post(ENDPOINT, body=refused())
    with pytest.raises(errors.TransportError) as info:
        client.call(WRITE, {"courses": BATCH}, items=BATCH)
    assert not isinstance(info.value, errors.WriteOutcomeUnknown)
    assert info.value.sent is False and info.value.items == BATCH and "connection refused" in str(info.value)
    assert len(rsps.calls) == client.retry.attempts


def test_api_errors_are_never_retried_for_writes_either(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, json=recorded("duplicate course shortname"))
    with pytest.raises(errors.Conflict):
        client.call(WRITE, {"courses": BATCH}, items=BATCH)
    assert len(rsps.calls) == 1


def test_stats_reset(rsps: responses.RequestsMock, client: MoodleClient) -> None:
    rsps.post(ENDPOINT, json=[])
    client.call("core_course_get_categories")
    assert client.stats.total == 1
    client.stats.reset()
    assert client.stats.snapshot() == {"total": 0, "reads": 0, "writes": 0, "retries": 0, "by_function": {}}


def test_each_request_is_logged_at_info(rsps: responses.RequestsMock, client: MoodleClient,
                                        caplog: pytest.LogCaptureFixture) -> None:
    rsps.post(ENDPOINT, json=[])
    with caplog.at_level(logging.INFO, logger="moodle_sync.moodle.client"):
        client.call("core_course_get_categories", {"addsubcategories": 1})
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert line.startswith("moodle: core_course_get_categories, 1 form value, ok, ") and line.endswith(" ms")
