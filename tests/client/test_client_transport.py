"""The transport: base URLs, http refusal, the in-process mount, and real loopback sockets.

The socket tests pin down how requests really reports "never sent" versus "answer lost", which the
``responses``-based retry tests imitate.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import parse_qsl

import pytest
from client_helpers import FAST, TOKEN, recorded

from moodle_sync import errors
from moodle_sync.moodle.client import MoodleClient
from moodle_sync.moodle.transport import Transport, normalise_base_url

# --- base URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("https://moodle.example.org", "https://moodle.example.org"),
    ("  https://moodle.example.org/  ", "https://moodle.example.org"),
    ("https://moodle.example.org/webservice/rest/server.php", "https://moodle.example.org"),
    ("https://moodle.example.org/webservice/rest/", "https://moodle.example.org"),
    ("https://Moodle.Example.org/lms/webservice/rest/server.php", "https://moodle.example.org/lms"),
    ("HTTPS://moodle.example.org:8443/lms/", "https://moodle.example.org:8443/lms"),
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ("http://127.5.6.7/", "http://127.5.6.7"),
    ("http://localhost:8080/webservice/rest/server.php", "http://localhost:8080"),
    ("http://[::1]:8765", "http://[::1]:8765"),
])
def test_base_urls_are_normalised(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("url", ["http://moodle.example.org", "http://10.0.0.5/moodle", "http://128.0.0.1",
                                 "http://localhost.example.org"])
def test_plain_http_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(errors.ConfigError) as info:
        normalise_base_url(url)
    assert info.value.key == "url" and "--allow-http" in str(info.value) and "https" in str(info.value)
    with pytest.raises(errors.ConfigError):
        Transport(url)
    assert normalise_base_url(url, allow_http=True) == url
    assert Transport(url, allow_http=True).base_url == url


@pytest.mark.parametrize("url", ["", "moodle.example.org", "ftp://moodle.example.org", "https://",
                                 "https://moodle.example.org:99999", f"https://m.example/?wstoken={TOKEN}"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(errors.ConfigError) as info:
        normalise_base_url(url)
    assert info.value.key == "url" and TOKEN not in str(info.value)


def test_endpoint_and_context_manager() -> None:
    with Transport("https://moodle.example.org/lms/") as t:
        assert t.base_url == "https://moodle.example.org/lms"
        assert t.endpoint == "https://moodle.example.org/lms/webservice/rest/server.php"


# --- the in-process mount ---------------------------------------------------------------------------

Handler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]


def mounted(handler: Handler) -> MoodleClient:
    transport = Transport("https://moodle.example.org")
    transport.mount(handler)
    return MoodleClient(transport, TOKEN, retry=FAST)


def test_a_plain_function_answers_through_requests() -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []

    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        form = dict(parse_qsl(body.decode()))
        seen.append((method, url, form))
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        answer = recorded("get course by idnumber") if form["value"] == "mc-hrv-soc@1" else {"courses": []}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    client = mounted(handler)
    got = client.call("core_course_get_courses_by_field", {"field": "idnumber", "value": "mc-hrv-soc@1"})
    assert got == recorded("get course by idnumber")
    method, url, form = seen[0]
    assert (method, url) == ("POST", "https://moodle.example.org/webservice/rest/server.php")
    assert form["wstoken"] == TOKEN and form["wsfunction"] == "core_course_get_courses_by_field"
    assert form["moodlewssettingraw"] == "1"


def test_status_and_headers_pass_through_the_mount() -> None:
    calls: list[int] = []

    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        calls.append(1)
        if len(calls) == 1:
            return 503, {"Retry-After": "0", "Content-Type": "text/html"}, b"<html>maintenance</html>"
        return 200, {"Content-Type": "application/json"}, b"null"

    assert mounted(handler).call("enrol_manual_enrol_users", {"enrolments": [{"userid": 1}]}) is None
    assert len(calls) == 2


def test_reset_on_a_write_is_write_outcome_unknown() -> None:
    calls: list[bytes] = []

    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        calls.append(body)
        raise ConnectionResetError(104, "Connection reset by peer")

    batch = [{"shortname": "a"}]
    with pytest.raises(errors.WriteOutcomeUnknown) as info:
        mounted(handler).call("core_course_create_courses", {"courses": batch}, items=batch)
    assert len(calls) == 1 and info.value.items == batch and info.value.sent is True


def test_timeout_on_a_read_is_retried_and_refused_write_is_resent() -> None:
    calls: list[str] = []

    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        calls.append(dict(parse_qsl(body.decode()))["wsfunction"])
        if len(calls) in (1, 3):
            raise TimeoutError if len(calls) == 1 else ConnectionRefusedError(111, "Connection refused")
        return 200, {"Content-Type": "application/json"}, b"[]"

    client = mounted(handler)
    assert client.call("core_course_get_categories") == []
    assert client.call("core_course_create_courses", {"courses": [{"shortname": "a"}]}) == []
    assert calls == ["core_course_get_categories"] * 2 + ["core_course_create_courses"] * 2


def test_timeout_on_a_write_is_write_outcome_unknown() -> None:
    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        raise TimeoutError

    with pytest.raises(errors.WriteOutcomeUnknown):
        mounted(handler).call("enrol_manual_enrol_users", {"enrolments": [{"userid": 1}]})


class Crash(BaseException):
    """What a test uses to simulate the process dying mid-call."""


@pytest.mark.parametrize("exc", [Crash("boom"), ValueError("handler bug"), BrokenPipeError()])
def test_other_handler_exceptions_propagate_unchanged(exc: BaseException) -> None:
    def handler(method: str, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        raise exc

    with pytest.raises(type(exc)) as info:
        mounted(handler).call("core_course_create_courses", {"courses": [{"shortname": "a"}]})
    assert info.value is exc


# --- real sockets on loopback -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def lossy_server() -> Iterator[Callable[[str], tuple[str, list[bytes]]]]:
    """A server that reads each request and then loses the answer: ``close``, ``rst`` or ``hang``."""
    sockets: list[socket.socket] = []

    def start(mode: str) -> tuple[str, list[bytes]]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        sockets.append(srv)
        received: list[bytes] = []

        def serve() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                received.append(conn.recv(65536))
                if mode == "rst":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif mode == "hang":
                    time.sleep(0.3)
                conn.close()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{srv.getsockname()[1]}", received

    yield start
    for s in sockets:
        s.close()


def wait_for(received: list[bytes], n: int) -> None:
    """The server thread may still be reading; give it time, then a little more to catch extras."""
    deadline = time.monotonic() + 5
    while len(received) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)


def test_real_refused_connection_is_not_sent() -> None:
    transport = Transport(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(errors.TransportError) as info:
        transport.post_form([("wstoken", TOKEN), ("wsfunction", "x")])
    assert info.value.sent is False and "connection refused" in str(info.value)
    client = MoodleClient(transport, TOKEN, retry=FAST)
    with pytest.raises(errors.TransportError) as info:
        client.call("core_course_create_courses", {"courses": [{"shortname": "a"}]})
    assert not isinstance(info.value, errors.WriteOutcomeUnknown)
    assert client.stats.writes == FAST.attempts, "a write that never got through is tried again"


@pytest.mark.parametrize("mode", ["close", "rst", "hang"])
def test_real_lost_answer_is_sent_and_a_write_goes_once(lossy_server: Callable[[str], tuple[str, list[bytes]]],
                                                        mode: str) -> None:
    url, received = lossy_server(mode)
    transport = Transport(url, timeout=0.2)
    with pytest.raises(errors.TransportError) as info:
        transport.post_form([("wsfunction", "core_course_get_categories")])
    assert info.value.sent is True
    assert TOKEN not in str(info.value)

    client = MoodleClient(transport, TOKEN, retry=FAST)
    with pytest.raises(errors.WriteOutcomeUnknown):
        client.call("core_course_create_courses", {"courses": [{"shortname": "a"}]})
    wait_for(received, 2)
    assert len(received) == 2, "one probe, then exactly one write: never re-sent"
    assert b"POST /webservice/rest/server.php HTTP/1.1" in received[1]

    received.clear()
    with pytest.raises(errors.TransportError):
        client.call("core_course_get_categories")
    wait_for(received, FAST.attempts)
    assert len(received) == FAST.attempts, "a read is retried"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_the_proxy_of_the_environment_is_used_and_no_proxy_is_honoured(
        lossy_server: Callable[[str], tuple[str, list[bytes]]], monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    """The environment is read once per transport (not on every call), with the same meaning as requests gives it."""
    proxy, received = lossy_server("close")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, proxy)
    site = f"http://127.0.0.2:{free_port()}"
    with pytest.raises(errors.TransportError) as info:
        Transport(site, timeout=0.5).post_form([("wsfunction", "core_course_get_categories")])
    assert "proxy" in str(info.value)  # it went to the proxy, which closed without an answer
    wait_for(received, 1)
    assert f"POST {site}/webservice/rest/server.php HTTP/1.1".encode() in received[0]

    received.clear()
    monkeypatch.setenv("NO_PROXY", "127.0.0.2")
    with pytest.raises(errors.TransportError) as info:
        Transport(site, timeout=0.5).post_form([("wsfunction", "core_course_get_categories")])
    assert info.value.sent is False and "connection refused" in str(info.value)  # straight to the site
    assert received == []
