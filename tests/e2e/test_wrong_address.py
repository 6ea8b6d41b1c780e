"""A wrong address gets one line at once: nothing listening, or a server that is not Moodle's web service.

Real servers on loopback: a closed port, Python's own http.server (HTML 501 to a POST), a 404 page and
an HTML front page. Retries stay for faults a working site gives (covered in tests/client).
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from moodle_sync.demo import SHIPPED_SPECS
from moodle_sync.emulator.server import STOP_POLL

from .conftest import TOKEN, run


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers a POST with ``status`` and an HTML page (no status: http.server's own 501 for POST)."""

    status: int | None = None
    posts: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.posts.append(self.path)
        if self.status is None:
            self.send_error(501, "Unsupported method ('POST')")
            return
        body = ("<!DOCTYPE html><html><head><title>Kommunens intranät</title></head><body><h1>"
                "Sidan finns inte</h1></body></html>").encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[None, 404, 200], ids=["http.server-501", "404-page", "html-200"])
def not_moodle(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str], int]]:
    handler = type("Handler", (Recorder,), {"status": request.param, "posts": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": STOP_POLL}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.posts, request.param or 501
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    monkeypatch.setenv("MOODLE_SYNC_SPECS", str(SHIPPED_SPECS))
    return monkeypatch


@pytest.mark.parametrize("command", ["doctor", "plan"])
def test_nothing_listening_is_one_line_without_retries(env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                       caplog: pytest.LogCaptureFixture, command: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    env.setenv("MOODLE_URL", url)
    assert run(command) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"Error: nothing answers at {url} (connection refused): is the address right "
                                f"and the site up?"]
    assert not [r for r in caplog.records if "retrying" in r.getMessage()], "no retries for nothing listening"


@pytest.mark.parametrize("command", ["doctor", "plan"])
def test_a_server_that_is_not_moodle_is_one_line_naming_the_status(
        env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], not_moodle: tuple[str, list[str], int],
        command: str) -> None:
    url, posts, status = not_moodle
    env.setenv("MOODLE_URL", url)
    assert run(command) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Error: {url} does not look like a Moodle site: it answered HTTP {status} ")
    assert "the address should be the site's front page, like https://" in lines[0]
    assert "<" not in lines[0], "never HTML"
    assert len(posts) == 1, "asked once: a retry would only repeat it"
