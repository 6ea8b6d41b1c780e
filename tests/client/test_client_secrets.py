"""The token never shows: not in repr, error texts, log records, nor request URLs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from client_helpers import ENDPOINT, TOKEN, make_client, recorded

from moodle_sync import errors

# an error body that echoes the token (a plugin or a debugging site may do that)
ECHO = {"exception": "webservice_access_exception", "errorcode": "accessexception",
        "message": f"Access control exception for token {TOKEN}",
        "debuginfo": f"Invalid token {TOKEN} - token expired - check validuntil time for the token"}

FAILURES: list[dict[str, Any]] = [
    {"json": ECHO},
    {"json": recorded("invalid token")},
    {"json": {"exception": "TypeError", "message": f"bad call with wstoken={TOKEN}"}},
    {"status": 200, "body": f"<b>Notice</b>: wstoken={TOKEN} undefined", "content_type": "text/html"},
    {"status": 502, "body": f"<pre>POST wstoken={TOKEN}</pre>", "content_type": "text/html"},
    {"status": 403, "body": f"blocked: {TOKEN}"},
    {"status": 301, "headers": {"Location": f"https://other.example/?wstoken={TOKEN}"}},
    {"status": 503, "body": TOKEN},
]


def test_repr_hides_the_token() -> None:
    client = make_client()
    assert repr(client) == "MoodleClient(url='https://moodle.example.org', token=***)"
    assert TOKEN not in repr(client.transport)


@pytest.mark.parametrize("failure", FAILURES, ids=[str(i) for i in range(len(FAILURES))])
@pytest.mark.parametrize("wsfunction", ["core_course_get_courses_by_field", "core_course_create_courses"])
def test_no_error_or_log_line_shows_the_token(rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture,
                                              failure: dict[str, Any], wsfunction: str) -> None:
    client = make_client()
    rsps.post(ENDPOINT, **failure)
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.MoodleSyncError) as info:
        client.call(wsfunction, {"field": "idnumber", "value": "x"})
    e = info.value
    assert TOKEN not in str(e)
    assert TOKEN not in repr(e.args)
    if isinstance(e, errors.MoodleApiError):
        assert TOKEN not in e.message and TOKEN not in e.debuginfo
        assert TOKEN not in str(e.as_dict())
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    for call in rsps.calls:
        assert call.request.url == ENDPOINT and TOKEN not in (call.request.url or "")
        # it is where it must be: in the POST body only
        assert f"wstoken={TOKEN}" in (call.request.body or "")


def test_retry_warnings_name_no_token_nor_params(rsps: responses.RequestsMock,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    rsps.post(ENDPOINT, status=502, body=f"upstream said {TOKEN}")
    rsps.post(ENDPOINT, json=[])
    with caplog.at_level(logging.DEBUG):
        client.call("core_course_get_categories", {"criteria": [{"key": "idnumber", "value": "SECRET-PARAM"}]})
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "attempt 1 failed" in text
    assert TOKEN not in text and "SECRET-PARAM" not in text
    bodies = "\n".join(r.getMessage() for r in caplog.records)  # --debug shows bodies: the token never
    assert "SECRET-PARAM" in bodies and TOKEN not in bodies and "wstoken=***" in bodies
