"""The emulator against the recorded Moodle 4.3 and 4.5 contracts: imitating each version, every one of that
version's 72 steps (web services at large) and 36 report builder steps must match."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moodle_sync.emulator import Emulator, serve
from moodle_sync.moodle.declared import DEFAULT_MOODLE

HERE = Path(__file__).parent
TOKEN = "c0ntract0123456789abcdef01234567"
PERFECT = "contract: 72/72 steps match (100%)"
PERFECT_REPORTBUILDER = "contract: 36/36 steps match (100%)"
# Each report builder recording's clock: its enrolment dates (2025-12-31 to 2026-12-31) are current then, so
# statuses read "Active" as recorded whatever day the suite runs.
RECORDED_AT = {"4.3": 1795781195, "4.5": 1796600400}
VERSIONS = pytest.mark.parametrize("moodle", ["4.3", "4.5"])


def contract(moodle: str) -> str:
    return f"contract-{moodle}.json"


def reportbuilder(moodle: str) -> str:
    return f"contract-reportbuilder-{moodle}.json"


def replay(url: str, *extra: str, contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(HERE / "replay_contract.py"), str(HERE / contract), url,
                           TOKEN, "-v", *extra], capture_output=True, text=True, timeout=120)


def assert_perfect(run: subprocess.CompletedProcess[str], perfect: str = PERFECT) -> None:
    lines = run.stdout.strip().splitlines()
    assert lines and lines[-1] == perfect, run.stdout + run.stderr
    assert run.returncode == 0


@VERSIONS
def test_the_emulator_matches_every_recorded_step(moodle: str) -> None:
    with serve(Emulator(token=TOKEN, moodle=moodle)) as server:
        assert_perfect(replay(server.url, contract=contract(moodle)))


@VERSIONS
def test_replays_under_new_prefixes_against_the_same_server_still_match(moodle: str) -> None:
    emulator = Emulator(token=TOKEN, moodle=moodle)
    with serve(emulator) as server:
        assert_perfect(replay(server.url, "--prefix", "other", contract=contract(moodle)))
        assert_perfect(replay(server.url, "--prefix", "third", contract=contract(moodle)))
    # state accumulated: both runs' users exist (deleted, as the contract's clean-up leaves them)
    deleted = [u for u in emulator.state.users if u.deleted]
    assert len(deleted) == 6


@VERSIONS
def test_the_emulator_matches_every_recorded_report_builder_step(moodle: str) -> None:
    with serve(Emulator(token=TOKEN, now=lambda: RECORDED_AT[moodle], moodle=moodle)) as server:
        assert_perfect(replay(server.url, contract=reportbuilder(moodle)), PERFECT_REPORTBUILDER)


@VERSIONS
def test_report_builder_replays_twice_on_one_site_still_match(moodle: str) -> None:
    """The second run's report sees only its own prefix's courses (its condition), beside the first run's."""
    emulator = Emulator(token=TOKEN, now=lambda: RECORDED_AT[moodle], moodle=moodle)
    with serve(emulator) as server:
        for prefix in ("rb1", "rb2"):
            assert_perfect(replay(server.url, "--prefix", prefix, contract=reportbuilder(moodle)),
                           PERFECT_REPORTBUILDER)
    assert len(emulator.state.reports) == 2


def test_the_report_builder_replay_notices_a_wrong_answer() -> None:
    """Past the recorded enrolment end (2026-12-31) u1 is 'Not current': the scorer must see that difference."""
    with serve(Emulator(token=TOKEN, now=lambda: 1798800000, moodle="4.3")) as server:
        run = replay(server.url, contract=reportbuilder("4.3"))
    assert run.returncode == 1
    assert "DIFF  retrieve report (core_reportbuilder_retrieve_report)" in run.stdout


def test_the_replay_notices_a_wrong_answer() -> None:
    """The scorer is strict enough to catch a broken emulator (so 72/72 above means something)."""
    emulator = Emulator(token=TOKEN, moodle="4.3")
    emulator.state.config.env.languages.add("")  # an empty lang would now be accepted: step 16 must fail
    with serve(emulator) as server:
        run = replay(server.url, contract=contract("4.3"))
    assert run.returncode == 1
    assert "DIFF  course with empty lang is rejected" in run.stdout
    assert run.stdout.strip().splitlines()[-1] != PERFECT


def test_each_version_fails_the_other_versions_recording() -> None:
    """The versions differ where the recordings do (exception names, defaults, answer keys): a 4.3 site does not
    pass as 4.5, nor the reverse, so the two perfect scores above are each version's own."""
    for moodle, other in (("4.3", "4.5"), ("4.5", "4.3")):
        with serve(Emulator(token=TOKEN, moodle=moodle)) as server:
            run = replay(server.url, contract=contract(other))
        assert run.returncode == 1
        assert "DIFF  duplicate course shortname" in run.stdout  # moodle_exception vs core\exception\…


def test_the_cli_serves_the_version_it_is_asked_for() -> None:
    """`moodle-sync emulator --moodle 4.5` (the hook's way of starting it) scores 72/72 on the 4.5 recording."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moodle_sync", "emulator", "--site", "empty", "--port",
                               str(port), "--token", TOKEN, "--moodle", "4.5"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(server, port)
        assert_perfect(replay(f"http://127.0.0.1:{port}", contract=contract("4.5")))
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for(server: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.05)


def test_run_server_as_the_cli_starts_it_scores_perfectly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "from moodle_sync.emulator import run_server; "
                               f"run_server({port}, {TOKEN!r})"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(server, port)
        # run_server's own emulator imitates the default version
        assert_perfect(replay(f"http://127.0.0.1:{port}", contract=contract(DEFAULT_MOODLE)))
        assert_perfect(replay(f"http://127.0.0.1:{port}", "--prefix", "other", contract=contract(DEFAULT_MOODLE)))
    finally:
        server.terminate()
        server.wait(timeout=10)
