"""Trying moodle-sync without a real Moodle: the emulator's demo site, and the demo's site left running.

The servers run as separate processes, as a newcomer starts them; the commands run in-process against them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync.demo import SHIPPED_SPECS

from .conftest import TOKEN, run


def as_from_a_terminal() -> None:
    """Run in the child before it starts: Ctrl-C (SIGINT) as a terminal delivers it. A child inherits an ignored
    or blocked SIGINT from the process that starts it, and in a full pytest-xdist run the worker ignores SIGINT
    and SIGQUIT by then (its /proc status' SigIgn): the server never saw stop()'s SIGINT and was killed after
    its 20 s (three tests, 21 s each; the demo test failed on the kill's exit code)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("the emulator did not start listening")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODLE_SYNC_SPECS", str(SHIPPED_SPECS))
    monkeypatch.setenv("MOODLE_SYNC_STATE_PATH", str(tmp_path / "state.db"))
    return tmp_path


def start_emulator(site: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[str]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moodle_sync", "emulator", "--site", site, "--port", str(port),
                             "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_from_a_terminal)
    try:
        wait_until_listening(port, proc)
        monkeypatch.setenv("MOODLE_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
        yield proc
    finally:
        stop(proc)


def test_the_emulators_demo_site_takes_the_shipped_specs(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    for _proc in start_emulator("demo", monkeypatch):
        assert run("plan") == 0
        assert run("apply", "--yes") == 0
        capsys.readouterr()
        assert run("plan", "--detailed-exitcode") == 0, capsys.readouterr()


def test_an_empty_emulator_has_no_template_courses(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for _proc in start_emulator("empty", monkeypatch):
        assert run("plan") == 1
        assert "template course 'mall-hrv-socialtjanst' does not exist" in capsys.readouterr().err


def test_demo_serve_leaves_the_site_up_and_learners_complete_on_enter(
        workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "moodle_sync", "demo", "--serve", "--report-dir",
                             str(workdir / "demo-out"), "--state", str(workdir / "demo.db")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MOODLE_SYNC_STATE_PATH": ""}, cwd=workdir,
                            preexec_fn=as_from_a_terminal)
    try:
        assert proc.stdout is not None and proc.stderr is not None and proc.stdin is not None
        url_line, token_line = proc.stdout.readline().strip(), proc.stdout.readline().strip()
        assert url_line.startswith("export MOODLE_URL=http://127.0.0.1:"), proc.stderr.read()
        assert token_line.startswith("export MOODLE_TOKEN=")
        monkeypatch.setenv("MOODLE_URL", url_line.split("=", 1)[1])
        monkeypatch.setenv("MOODLE_TOKEN", token_line.split("=", 1)[1])
        assert run("pull", "--json") == 0
        assert json.loads(capsys.readouterr().out)["new_completions"] > 0  # the demo's own learners completed some

        proc.stdin.write("\n")
        proc.stdin.flush()
        while "more enrolment" not in (line := proc.stderr.readline()):
            assert line, "the demo stopped"
        assert int(line.split()[0]) > 0
        assert run("pull", "--json") == 0
        assert json.loads(capsys.readouterr().out)["new_completions"] == int(line.split()[0]), \
            "the newly completed are pulled"
        assert run("report") == 0
        assert "Totalt" in capsys.readouterr().out
        assert proc.poll() is None, "still serving"
    finally:
        stop(proc)
    assert proc.returncode == 0
